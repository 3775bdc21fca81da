"""Concurrent payments on PostgreSQL: several threads, each with its own connection, pay the same person and
drain the same budget at once. Exactly one payment per person; no budget share ever exceeded."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from safetynet.assistance import services
from safetynet.assistance.models import Application, Budget, Payment
from safetynet.assistance.tests.factories import DAY, make_file, make_noticed_application, make_round
from safetynet.core.errors import ServiceError

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
