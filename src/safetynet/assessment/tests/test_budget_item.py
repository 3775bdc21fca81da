"""A ratio item scored from the assistance facts: the share of a district's own assistance budget paid out
in the scheme's year (at most the whole weight), explained with the amounts."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from safetynet.assessment import services
from safetynet.assessment.scoring import compute_sheet
from safetynet.assistance.tests.factories import make_file, make_paid_application, make_round

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()


def test_budget_used_scores_paid_over_the_districts_share(city):
    round_ = make_round(city, shares={city.zhongshan: "2000.00", city.xigang: "1000.00"})
    payment = make_paid_application(round_, make_file(city.community_a))
    scheme = services.scheme_create(actor=None, org_unit=city.city, year=2012)
    item = services.item_add(
        actor=None,
        scheme=scheme,
        name="帮扶资金使用",
        kind="ratio",
        weight="10",
        rule={"source": "assistance_budget_used"},
    )
    sheet = compute_sheet(scheme, datetime.date(2012, 12, 31))
    by_name = {unit.unit.name: unit.items[item.pk] for unit in sheet.units}
    # 中山区: 500.00 paid of its 2,000.00 share → 10 × 0.25 = 2.50; 西岗区: nothing paid of 1,000.00 → 0.
    assert by_name["中山区"].points == Decimal("2.50")
    assert by_name["中山区"].explanation == "已发放 500.00 元 ÷ 预算 2,000.00 元 × 10.00"
    assert by_name["西岗区"].points == Decimal("0.00")
    # the day before the payment nothing was paid yet
    before = compute_sheet(scheme, payment.paid_on - datetime.timedelta(days=1))
    assert {u.unit.name: u.items[item.pk].points for u in before.units}["中山区"] == Decimal("0.00")
