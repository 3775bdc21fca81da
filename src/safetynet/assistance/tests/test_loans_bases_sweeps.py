"""Loans (schedule, partial repayments, overdue list as of a day, write-off with approval), discount bases,
and the sweeps."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from safetynet.assistance import selectors, services
from safetynet.assistance.models import Instalment, LoanStatus
from safetynet.assistance.sweeps import end_notices, raise_due_reviews
from safetynet.assistance.tests.factories import (
    approve_all_levels,
    make_application,
    make_base,
    make_file,
    make_loan,
    make_round,
)
from safetynet.core.errors import NotAllowed, ServiceError

pytestmark = pytest.mark.django_db
D = datetime.date


def test_schedule_is_exact_to_the_fen(city):
    loan = make_loan(city.community_a, principal="1000.00", count=3)
    amounts = list(Instalment.objects.filter(loan=loan).values_list("amount", flat=True))
    assert amounts == [Decimal("333.33"), Decimal("333.33"), Decimal("333.34")]
    assert list(Instalment.objects.filter(loan=loan).values_list("due_on", flat=True)) == [
        D(2012, 7, 1),
        D(2012, 8, 1),
        D(2012, 9, 1),
    ]


def test_partial_repayments_and_the_overdue_list_as_of_a_day(city, make_staff):
    loan = make_loan(city.community_a, principal="600.00", count=3)  # 200 due 1 Jul, 1 Aug, 1 Sep
    services.loan_repay(actor=None, loan=loan, amount="200", paid_on=D(2012, 6, 30))
    services.loan_repay(actor=None, loan=loan, amount="50.50", paid_on=D(2012, 8, 10))
    officer = make_staff("zs_loans", city.zhongshan, "operator")
    xigang = make_staff("xg_loans", city.xigang, "operator")
    on_aug_5 = list(selectors.loans_overdue(officer, D(2012, 8, 5)))
    assert [(i.number, i.overdue_amount) for i in on_aug_5] == [(2, Decimal("200.00"))]
    on_sep_5 = list(selectors.loans_overdue(officer, D(2012, 9, 5)))
    assert [(i.number, i.overdue_amount) for i in on_sep_5] == [
        (2, Decimal("149.50")),
        (3, Decimal("349.50")),
    ]
    assert not selectors.loans_overdue(xigang, D(2012, 9, 5)).exists()
    assert selectors.loan_repaid(loan, D(2012, 7, 1)) == Decimal("200.00")
    with pytest.raises(ServiceError) as error:
        services.loan_repay(actor=None, loan=loan, amount="349.51", paid_on=D(2012, 9, 10))
    assert error.value.field == "amount" and "超过了未还余额 349.50 元" in error.value.message
    services.loan_repay(actor=None, loan=loan, amount="349.50", paid_on=D(2012, 9, 10))
    loan.refresh_from_db()
    assert loan.status == LoanStatus.REPAID
    assert not selectors.loans_overdue(officer, D(2012, 12, 1)).exists()
    assert selectors.loans_overdue(officer, D(2012, 9, 5)).count() == 2  # the past stays as it was


def test_write_off_needs_a_request_and_the_funds_approval(city, make_staff):
    loan = make_loan(city.community_a)
    operator = make_staff("zs_op", city.zhongshan, "operator")
    admin = make_staff("zs_admin", city.zhongshan, "unit_admin")
    with pytest.raises(ServiceError):
        services.loan_write_off_decide(actor=admin, loan=loan, approve=True, on=D(2013, 1, 1))
    loan = services.loan_write_off_request(actor=operator, loan=loan, reason="借款人因病去世")
    with pytest.raises(NotAllowed):
        services.loan_write_off_decide(actor=operator, loan=loan, approve=True, on=D(2013, 1, 1))
    loan = services.loan_write_off_decide(actor=admin, loan=loan, approve=True, on=D(2013, 1, 1))
    assert loan.status == LoanStatus.WRITTEN_OFF and loan.written_off_on == D(2013, 1, 1)
    assert not selectors.loans_overdue(admin, D(2013, 6, 1)).exists()
    assert selectors.loans_overdue(admin, D(2012, 12, 1)).exists()


def test_bad_loans_are_refused(city):
    with pytest.raises(ServiceError) as error:
        make_loan(city.community_a, principal="-1")
    assert error.value.field == "principal"
    with pytest.raises(ServiceError) as error:
        make_loan(city.community_a, count=0)
    assert error.value.field == "instalment_count"


def test_discount_bases_by_unit_and_day(city, make_staff):
    community = make_base(city.community_a)
    citywide = make_base(city.city, name="市总工会定点药房", kind="pharmacy")
    xigang = make_base(city.street_b, name="八一路商店", kind="shop")
    services.discount_base_update(actor=None, base=xigang, data={"valid_to": D(2012, 6, 1)})
    active = set(selectors.discount_bases_active(city.community_a, D(2012, 7, 1)))
    assert active == {community, citywide}
    assert set(selectors.discount_bases_active(city.street_b, D(2012, 7, 1))) == {citywide}
    assert xigang in selectors.discount_bases_active(city.street_b, D(2012, 5, 1))
    viewer = make_staff("zs_v", city.zhongshan, "viewer")
    assert set(selectors.discount_base_list(viewer)) == {community}
    with pytest.raises(ServiceError) as error:
        services.discount_base_create(
            actor=None,
            org_unit=city.community_a,
            name="x",
            kind="银行",
            address="y",
            discount="z",
            valid_from=D(2012, 1, 1),
        )
    assert error.value.field == "kind"
    with pytest.raises(ServiceError) as error:
        services.discount_base_update(actor=None, base=community, data={"valid_to": D(2011, 1, 1)})
    assert error.value.field == "valid_to"


def test_sweeps_raise_due_reviews_once_and_end_notices(city, make_staff):
    from safetynet.cases.models import Notification

    officer = make_staff("street_off", city.street_a, "operator")
    make_file(city.community_a, opened_on=D(2011, 12, 1))
    now = timezone.make_aware(datetime.datetime(2012, 12, 5, 8, 0))
    assert "1 份" in raise_due_reviews(now)
    assert Notification.objects.filter(recipient=officer).count() == 1
    assert "无到期" in raise_due_reviews(now)
    round_ = make_round(city)
    application = approve_all_levels(make_application(round_, make_file(city.community_a)))
    services.application_notice_start(actor=None, application=application, on=D(2012, 12, 10))
    assert "1 份" in end_notices(timezone.make_aware(datetime.datetime(2012, 12, 20, 8, 0)))
    assert "0 份" in end_notices(timezone.make_aware(datetime.datetime(2012, 12, 21, 8, 0)))
