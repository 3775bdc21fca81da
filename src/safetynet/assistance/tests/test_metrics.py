"""The assistance indicators through the indicator engine, and the exact money figures, as of any day."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from safetynet.assistance import selectors, services
from safetynet.assistance.tests.factories import make_file, make_paid_application, make_round
from safetynet.indicators.engine import compute

pytestmark = pytest.mark.django_db


def _figures(day: datetime.date, code: str) -> dict[str, tuple[int, int]]:
    return {r.unit: (r.numerator, r.denominator) for r in compute(day=day, indicator_codes=[code])}


def test_files_open_new_and_closed_by_unit_as_of_any_day(city):
    first = make_file(city.community_a, opened_on=datetime.date(2012, 3, 1))
    make_file(city.community_a, opened_on=datetime.date(2012, 6, 1))
    make_file(city.street_b, opened_on=datetime.date(2011, 5, 1))
    services.hardship_file_close(
        actor=None, hardship_file=first, closed_on=datetime.date(2012, 9, 1), reason="employed"
    )
    mid = _figures(datetime.date(2012, 7, 1), "assistance_files_open")
    assert mid["210202001001"] == (2, 2) and mid["210202"] == (2, 2) and mid["210203001"] == (1, 1)
    assert mid["2102"] == (3, 3)
    end = _figures(datetime.date(2012, 12, 31), "assistance_files_open")
    assert end["210202"] == (1, 2)
    closed = _figures(datetime.date(2012, 12, 31), "assistance_files_closed")
    assert closed["210202"] == (1, 2) and closed["210203"] == (0, 1)
    before_close = _figures(datetime.date(2012, 8, 31), "assistance_files_closed")
    assert before_close["210202"] == (0, 2)
    opened = _figures(datetime.date(2012, 12, 31), "assistance_files_opened")
    assert opened["210202"] == (2, 2) and opened["210203"] == (0, 1)
    # a new year: the file closed in 2012 no longer counts
    assert _figures(datetime.date(2013, 1, 2), "assistance_files_open")["210202"] == (1, 1)


def test_people_helped_and_budget_used_as_of_any_day(city):
    round_ = make_round(city, shares={city.zhongshan: "2000.00", city.xigang: "1000.00"})
    payment = make_paid_application(round_, make_file(city.community_a))
    paid_on = payment.paid_on
    before = _figures(paid_on - datetime.timedelta(days=1), "assistance_people_helped")
    after = _figures(paid_on, "assistance_people_helped")
    assert before["210202"] == (0, 1) and after["210202"] == (1, 1) and after["210203"] == (0, 0)
    used = {u.unit.code: u for u in selectors.budget_used([city.city, city.zhongshan, city.xigang], paid_on)}
    assert used["210202"].paid == Decimal("500.00") and used["210202"].rate == 0.25
    assert used["2102"].rate == 0.005 and used["210203"].rate == 0.0
    earlier = selectors.budget_used([city.zhongshan], paid_on - datetime.timedelta(days=1))[0]
    assert earlier.paid == 0
    reversal = services.payment_reverse(
        actor=None, payment=payment, reason="退回", on=paid_on + datetime.timedelta(days=3)
    )
    assert selectors.budget_used([city.zhongshan], paid_on)[0].paid == Decimal("500.00")
    assert selectors.budget_used([city.zhongshan], reversal.paid_on)[0].paid == 0
    assert _figures(reversal.paid_on, "assistance_people_helped")["210202"] == (0, 1)
    lines = selectors.helped_by_round(city.city, datetime.date(2012, 1, 1), paid_on)
    assert [(line.people, line.amount) for line in lines] == [(1, Decimal("500.00"))]
    assert selectors.helped_by_kind(city.city, datetime.date(2012, 1, 1), paid_on) == {
        "winter_relief": (1, Decimal("500.00"))
    }


def test_breakdown_does_not_break(city):
    make_file(city.community_a)
    rows = compute(
        day=datetime.date(2012, 12, 31), indicator_codes=["assistance_files_open"], breakdown="ownership"
    )
    assert isinstance(rows, list)
