"""Money: exact to the fen, paid once per person and household in a round, never beyond any budget share;
reversals are new negative rows; bank batches."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from openpyxl import load_workbook

from safetynet.assistance import bankfile, selectors, services
from safetynet.assistance.models import Application, ApplicationStatus, Budget, Payment, PaymentKind
from safetynet.assistance.tests.factories import (
    DAY,
    make_file,
    make_noticed_application,
    make_paid_application,
    make_person,
    make_round,
)
from safetynet.core.errors import ServiceError

pytestmark = pytest.mark.django_db


def _budget(round_, unit) -> Budget:
    return Budget.objects.get(round=round_, org_unit=unit)


def test_payment_moves_every_covering_budget(city):
    round_ = make_round(city)
    payment = make_paid_application(round_, make_file(city.community_a))
    assert payment.amount == Decimal("500.00") and payment.paid_on is not None
    assert payment.application.status == ApplicationStatus.PAID
    for unit in (city.city, city.zhongshan, city.street_a):
        assert _budget(round_, unit).spent == Decimal("500.00")
    assert _budget(round_, city.xigang).spent == Decimal("0.00")


def test_a_payment_of_a_different_amount_is_refused(city):
    round_ = make_round(city)
    application = make_noticed_application(round_, make_file(city.community_a))
    with pytest.raises(ServiceError) as error:
        services.payment_create(actor=None, application=application, amount="499.99", on=DAY)
    assert error.value.field == "amount" and "与批准金额 500.00 元不一致" in error.value.message
    assert not Payment.objects.exists()
    assert _budget(round_, city.city).spent == 0


def test_paying_twice_is_refused(city):
    round_ = make_round(city)
    payment = make_paid_application(round_, make_file(city.community_a))
    with pytest.raises(ServiceError) as error:
        services.payment_create(actor=None, application=payment.application, amount="500", on=DAY)
    assert "已发放" in error.value.message
    assert Payment.objects.count() == 1


def test_the_database_refuses_a_second_payment_to_the_person_or_household(city):
    round_ = make_round(city)
    payment = make_paid_application(round_, make_file(city.community_a))
    other = make_person()
    for person, household in ((payment.person, "another"), (other, payment.household_key)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Payment.objects.create(
                round=round_,
                application=payment.application,
                person=person,
                household_key=household,
                org_unit=city.community_a,
                amount=Decimal("500.00"),
                created_on=DAY,
            )


def test_the_database_refuses_an_overdrawn_budget(city):
    round_ = make_round(city)
    with pytest.raises(IntegrityError), transaction.atomic():
        Budget.objects.filter(round=round_, org_unit=city.street_a).update(spent=Decimal("20000.01"))


def test_payment_beyond_a_units_share_is_refused(city):
    round_ = make_round(city, shares={city.zhongshan: "1000.00"})
    first = make_noticed_application(round_, make_file(city.community_a))
    second = make_noticed_application(round_, make_file(city.community_a))
    # the share is cut after approval: only one of the two still fits
    Budget.objects.filter(round=round_, org_unit=city.zhongshan).update(amount=Decimal("900.00"))
    services.payment_create(actor=None, application=first, amount="500", on=DAY)
    with pytest.raises(ServiceError) as error:
        services.payment_create(actor=None, application=second, amount="500", on=DAY)
    assert error.value.code == "over_budget" and "中山区" in error.value.message
    assert _budget(round_, city.zhongshan).spent == Decimal("500.00")


def test_reversal_is_a_new_negative_row_and_gives_the_budget_back(city):
    round_ = make_round(city)
    payment = make_paid_application(round_, make_file(city.community_a))
    with pytest.raises(ServiceError):
        services.payment_reverse(actor=None, payment=payment, reason="", on=DAY)
    reversal = services.payment_reverse(
        actor=None, payment=payment, reason="银行退回：账户已销户", on=payment.created_on
    )
    assert reversal.kind == PaymentKind.REVERSAL and reversal.amount == Decimal("-500.00")
    assert reversal.reverses == payment
    payment.refresh_from_db()
    assert payment.amount == Decimal("500.00")  # the original is untouched
    assert _budget(round_, city.zhongshan).spent == 0
    with pytest.raises(ServiceError) as error:
        services.payment_reverse(actor=None, payment=payment, reason="again", on=payment.created_on)
    assert error.value.code == "already_reversed"


def test_a_reversed_payment_does_not_block_paying_again(city):
    round_ = make_round(city)
    payment = make_paid_application(round_, make_file(city.community_a))
    paid_day = payment.created_on
    services.payment_reverse(actor=None, payment=payment, reason="银行退回：账户已销户", on=paid_day)
    payment.refresh_from_db()
    assert payment.reversed_on == paid_day
    application = Application.objects.get(pk=payment.application_id)
    assert application.status == ApplicationStatus.NOTICE_PASSED  # awaiting payment again
    again = services.payment_create(
        actor=None, application=application, amount="500", on=paid_day + datetime.timedelta(days=3)
    )
    assert again.application.status == ApplicationStatus.PAID and again.reversed_on is None
    live = Payment.objects.filter(round=round_, kind=PaymentKind.PAYMENT, reversed_on__isnull=True)
    assert list(live) == [again]
    assert Payment.objects.filter(round=round_).count() == 3
    assert _budget(round_, city.zhongshan).spent == Decimal("500.00")
    # the people helped count the person once, the money once
    (line,) = selectors.helped_by_round(city.city, datetime.date(2012, 1, 1), datetime.date(2013, 12, 31))
    assert (line.people, line.amount) == (1, Decimal("500.00"))
    with pytest.raises(ServiceError) as error:
        services.payment_create(actor=None, application=application, amount="500", on=paid_day)
    assert "已发放" in error.value.message
    with pytest.raises(ServiceError) as error:
        services.payment_reverse(actor=None, payment=payment, reason="again", on=paid_day)
    assert error.value.code == "already_reversed"
    # the database still allows one live payment per person and per household in the round
    for person, household in ((payment.person, "another"), (make_person(), payment.household_key)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Payment.objects.create(
                round=round_,
                application=application,
                person=person,
                household_key=household,
                org_unit=city.community_a,
                amount=Decimal("500.00"),
                created_on=DAY,
            )
    with pytest.raises(IntegrityError), transaction.atomic():  # only a payment row can be marked reversed
        Payment.objects.filter(reverses=payment).update(reversed_on=paid_day)


def test_after_a_reversal_the_application_can_be_withdrawn_instead(city):
    round_ = make_round(city)
    payment = make_paid_application(round_, make_file(city.community_a))
    services.payment_reverse(actor=None, payment=payment, reason="核实不符合条件", on=payment.created_on)
    application = services.application_withdraw(
        actor=None, application=Application(pk=payment.application_id), reason="核实不符合条件"
    )
    assert application.status == ApplicationStatus.WITHDRAWN
    with pytest.raises(ServiceError) as error:
        services.payment_batch_create(actor=None, round=round_, unit=city.zhongshan, on=DAY)
    assert error.value.code == "nothing_to_pay"
    assert _budget(round_, city.zhongshan).spent == 0


def test_bank_batch_file_and_mark_paid(city):
    round_ = make_round(city)
    for _ in range(3):
        make_noticed_application(round_, make_file(city.community_a))
    with pytest.raises(ServiceError):
        services.payment_batch_create(actor=None, round=round_, unit=city.xigang, on=DAY)
    batch = services.payment_batch_create(
        actor=None, round=round_, unit=city.zhongshan, on=datetime.date(2013, 1, 10)
    )
    assert Payment.objects.filter(batch=batch, paid_on__isnull=True).count() == 3
    sheet = load_workbook(io.BytesIO(bankfile.payment_batch_workbook(batch))).active
    rows = list(sheet.values)
    assert rows[0][:4] == ("序号", "户名", "证件号码", "金额（元）")
    assert "*" in rows[1][2]  # masked, never the clear number
    assert rows[-1][0] == "合计" and Decimal(str(rows[-1][3])) == Decimal("1500")
    services.payment_batch_mark_paid(actor=None, batch=batch, paid_on=datetime.date(2013, 1, 12))
    assert set(Payment.objects.filter(batch=batch).values_list("paid_on", flat=True)) == {
        datetime.date(2013, 1, 12)
    }
    with pytest.raises(ServiceError):
        services.payment_batch_mark_paid(actor=None, batch=batch, paid_on=datetime.date(2013, 1, 12))
    assert selectors.batch_list(None).count() == 0  # nobody: no scope
    assert Application.objects.filter(status=ApplicationStatus.PAID).count() == 3


def test_funds_capability_is_needed_to_pay(city, make_staff):
    round_ = make_round(city)
    application = make_noticed_application(round_, make_file(city.community_a))
    operator = make_staff("zs_operator", city.zhongshan, "operator")
    from safetynet.core.errors import NotAllowed

    with pytest.raises(NotAllowed):
        services.payment_create(actor=operator, application=application, amount="500", on=DAY)
    admin = make_staff("zs_admin", city.zhongshan, "unit_admin")
    assert services.payment_create(actor=admin, application=application, amount="500", on=DAY).pk


def test_the_migration_marks_payments_reversed_before_it(city):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "safetynet.assistance.migrations.0005_payment_reversal_frees_round_and_vote_day"
    )
    round_ = make_round(city)
    payment = make_paid_application(round_, make_file(city.community_a))
    kept = make_paid_application(round_, make_file(city.community_a))
    services.payment_reverse(actor=None, payment=payment, reason="银行退回", on=payment.created_on)
    Payment.objects.filter(pk=payment.pk).update(reversed_on=None)  # as rows were before the migration
    migration.fill_reversed_on(apps, None)
    assert Payment.objects.get(pk=payment.pk).reversed_on == payment.created_on
    assert Payment.objects.get(pk=kept.pk).reversed_on is None
