"""Concurrent payments on PostgreSQL: several threads, each with its own connection, pay the same person and
drain the same budget at once. Exactly one payment per person; no budget share ever exceeded."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction

from safetynet.assistance import services
from safetynet.assistance.models import Application, BatchJob, Budget, Payment, PaymentKind
from safetynet.assistance.tests.factories import (
    DAY,
    make_file,
    make_noticed_application,
    make_paid_application,
    make_round,
)
from safetynet.core.errors import ServiceError
from safetynet.orgs.models import OrgLevel

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks and concurrent transactions need PostgreSQL"
    ),
]


def _run_all(targets: list) -> list[str]:
    barrier = threading.Barrier(len(targets))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(target) -> None:
        try:
            barrier.wait()
            target()
            result = "ok"
        except ServiceError as error:
            result = error.code
        except Exception as error:
            result = f"crash:{type(error).__name__}:{error}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_same_person_paid_once_when_many_pay_at_once(city):
    round_ = make_round(city)
    application = make_noticed_application(round_, make_file(city.community_a))
    outcomes = _run_all(
        [
            lambda: services.payment_create(
                actor=None, application=Application(pk=application.pk), amount="500", on=DAY
            )
            for _ in range(6)
        ]
    )
    assert outcomes.count("ok") == 1, outcomes
    assert all(o in ("ok", "invalid_transition", "already_paid") for o in outcomes), outcomes
    assert Payment.objects.count() == 1
    assert Budget.objects.get(round=round_, org_unit=city.zhongshan).spent == Decimal("500.00")


def test_budget_never_exceeded_when_many_drain_it_at_once(city):
    round_ = make_round(city, shares={city.zhongshan: "10000.00", city.street_a: "10000.00"})
    applications = [make_noticed_application(round_, make_file(city.community_a)) for _ in range(8)]
    # The street's share is cut to three payments after approval: eight officers pay at once.
    Budget.objects.filter(round=round_, org_unit=city.street_a).update(amount=Decimal("1500.00"))
    targets = [
        (
            lambda pk=a.pk: services.payment_create(
                actor=None, application=Application(pk=pk), amount="500", on=DAY
            )
        )
        for a in applications
    ]
    # and the same person twice more, racing with the rest
    targets += [
        lambda: services.payment_create(
            actor=None, application=Application(pk=applications[0].pk), amount="500", on=DAY
        )
        for _ in range(2)
    ]
    outcomes = _run_all(targets)
    assert not [o for o in outcomes if o.startswith("crash")], outcomes
    assert outcomes.count("ok") == 3, outcomes
    street = Budget.objects.get(round=round_, org_unit=city.street_a)
    assert street.spent == Decimal("1500.00") <= street.amount
    assert Payment.objects.count() == 3
    assert Payment.objects.values("person").distinct().count() == 3
    for budget in Budget.objects.filter(round=round_):
        assert budget.spent <= budget.amount
        paid = sum(
            (p.amount for p in Payment.objects.filter(org_unit__path__startswith=budget.org_unit.path)),
            Decimal(0),
        )
        assert budget.spent == paid


def test_concurrent_votes_count_exactly_n(city, make_staff):
    from safetynet.assistance.models import Vote
    from safetynet.orgs.models import OrgLevel

    round_ = make_round(city, levels=(OrgLevel.DISTRICT,), level_rules={OrgLevel.DISTRICT: (2, 4)})
    from safetynet.assistance.tests.factories import make_application

    application = make_application(round_, make_file(city.community_a))
    reviewers = [make_staff(f"district_c{i}", city.zhongshan, "operator") for i in range(4)]
    outcomes = _run_all(
        [
            (
                lambda user=user: services.application_vote(
                    actor=user, application=Application(pk=application.pk), decision="approve"
                )
            )
            for user in reviewers
        ]
    )
    assert not [o for o in outcomes if o.startswith("crash")], outcomes
    assert outcomes.count("ok") == 2, outcomes
    application.refresh_from_db()
    assert application.status == "approved"
    assert Vote.objects.filter(application=application).count() == 2


def test_reversed_then_paid_again_by_many_at_once_gives_one_live_payment(city):
    round_ = make_round(city)
    payment = make_paid_application(round_, make_file(city.community_a))
    services.payment_reverse(actor=None, payment=payment, reason="银行退回", on=payment.created_on)
    outcomes = _run_all(
        [
            lambda: services.payment_create(
                actor=None, application=Application(pk=payment.application_id), amount="500", on=DAY
            )
            for _ in range(6)
        ]
    )
    assert outcomes.count("ok") == 1, outcomes
    assert all(o in ("ok", "invalid_transition", "already_paid") for o in outcomes), outcomes
    live = Payment.objects.filter(round=round_, kind=PaymentKind.PAYMENT, reversed_on__isnull=True)
    assert live.count() == 1
    assert Budget.objects.get(round=round_, org_unit=city.zhongshan).spent == Decimal("500.00")


def test_reversing_while_others_pay_again_never_leaves_two_live_payments(city):
    round_ = make_round(city)
    payment = make_paid_application(round_, make_file(city.community_a))
    application = Application(pk=payment.application_id)
    targets = [
        lambda: services.payment_reverse(
            actor=None, payment=Payment(pk=payment.pk), reason="银行退回", on=payment.created_on
        )
    ]
    targets += [
        lambda: services.payment_create(actor=None, application=application, amount="500", on=DAY)
        for _ in range(5)
    ]
    outcomes = _run_all(targets)
    assert not [o for o in outcomes if o.startswith("crash")], outcomes  # no deadlock, no raw error
    live = Payment.objects.filter(round=round_, kind=PaymentKind.PAYMENT, reversed_on__isnull=True).count()
    assert live <= 1 and Payment.objects.filter(kind=PaymentKind.REVERSAL).count() == 1
    net = sum((p.amount for p in Payment.objects.filter(round=round_)), Decimal(0))
    assert net == Decimal("500.00") * live
    for budget in Budget.objects.filter(
        round=round_, org_unit__in=[city.city, city.zhongshan, city.street_a]
    ):
        assert budget.spent == net


def test_batch_progress_is_seen_while_the_batch_runs(city, monkeypatch):
    """A batch of 7 in steps of 3: the second step waits on a row another transaction holds; meanwhile the
    job, read by another connection (the page's poll), shows 3 of 7 written — then all 7 are saved at once."""
    monkeypatch.setattr(services, "BATCH_CHUNK", 3)
    round_ = make_round(city)
    files = [make_file(city.community_a) for _ in range(7)]
    job_id = int(services.application_batch_enqueue(actor=None, round=round_, unit=city.zhongshan, on=DAY))
    finished: list[BatchJob | None] = []

    def run() -> None:
        try:
            finished.append(services.application_batch_run(job_id=job_id))
        finally:
            connections.close_all()

    held = files[4]  # in the second step
    seen: list[dict] = []
    with transaction.atomic():
        # Someone else's uncommitted application for that person: the batch's insert waits for it.
        Application.objects.create(
            round=round_,
            hardship_file=held,
            person=held.person,
            org_unit=held.org_unit,
            household_key=held.household_key,
            amount=Decimal("500.00"),
            current_level=OrgLevel.STREET,
            submitted_on=DAY,
        )
        thread = threading.Thread(target=run)
        thread.start()
        for _ in range(400):
            row = BatchJob.objects.values("status", "stage", "done", "total").get(pk=job_id)
            if row["done"]:
                seen.append(row)
                break
            time.sleep(0.05)
        transaction.set_rollback(True)  # the other application is given up: the batch goes on
    thread.join(60)
    assert seen == [{"status": "running", "stage": "写入申请", "done": 3, "total": 7}]
    assert BatchJob(status="running", done=3, total=7).percent == 42
    (job,) = finished
    assert (job.status, job.done, job.total, job.created) == ("done", 7, 7, 7)
    assert Application.objects.filter(round=round_).count() == 7
