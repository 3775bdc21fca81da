"""The hand-computed scheme: six items, one of each kind, over the small dataset of conftest.py."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from safetynet.assessment.scoring import compute_sheet

from .conftest import DAY, publish_and_review

pytestmark = pytest.mark.urls("safetynet.assessment.tests.urls")


def test_six_items_score_exactly_as_computed_by_hand(dataset):
    publish_and_review(dataset)
    sheet = compute_sheet(dataset.scheme, DAY)
    zs = sheet.unit(dataset.city.zhongshan.pk)
    xg = sheet.unit(dataset.city.xigang.pk)
    points = {
        name: (zs.items[item.pk].points, xg.items[item.pk].points) for name, item in dataset.items.items()
    }

    # 1. 建会率 (40, linear from the floor 50 % to the target):
    #    中山区 3 of 4 covered = 75 %, target 90 %: 40 × (0.75 − 0.50) ÷ (0.90 − 0.50) = 40 × 0.625 = 25.00.
    #    西岗区 2 of 2 = 100 % ≥ target 80 %: 40.00.
    assert points["建会率"] == (Decimal("25.00"), Decimal("40.00"))
    # 2. 建会达标 (20, stepped on completion = rate ÷ target):
    #    中山区 75 ÷ 90 = 83.3 % → step [80 %, 100 %) = 12.00; 西岗区 100 ÷ 80 = 125 % → [100 %, ∞) = 20.00.
    assert points["建会达标"] == (Decimal("12.00"), Decimal("20.00"))
    # 3. 信息报送 (10; −2 per late, −5 per missing; due by 31 Dec: 2012-11 on 5 Dec, 2012Q3 on 10 Oct):
    #    中山区 street late (8 Dec) and district missing 2012Q3: 10 − 2 − 5 = 3.00.  西岗区 all on time: 10.00.
    assert points["信息报送"] == (Decimal("3.00"), Decimal("10.00"))
    # 4. 诉求按期办结 (10 × on time ÷ closed): 中山区 1 of 2 = 5.00; 西岗区 no closed case: 10.00 (no deduction).
    assert points["诉求按期办结"] == (Decimal("5.00"), Decimal("10.00"))
    # 5. 特色工作 (manual, 20): 中山区 16.00; 西岗区 10 on 10 Dec, then 18 on 21 Dec — the latest counts: 18.00.
    assert points["特色工作"] == (Decimal("16.00"), Decimal("18.00"))
    # 6. 安全生产一票否决 (veto, cap 60): 中山区 none; 西岗区 found on 20 Nov → total capped at 60.
    assert points["安全生产一票否决"] == (Decimal("0.00"), Decimal("0.00"))
    assert xg.items[dataset.items["安全生产一票否决"].pk].vetoed

    # Totals: 中山区 25 + 12 + 3 + 5 + 16 = 61.00; 西岗区 40 + 20 + 10 + 10 + 18 = 98.00, capped at 60.00.
    assert (zs.subtotal, zs.total) == (Decimal("61.00"), Decimal("61.00"))
    assert (xg.subtotal, xg.total, xg.cap) == (Decimal("98.00"), Decimal("60.00"), Decimal("60"))
    assert [(u.unit.name, u.rank) for u in sheet.units] == [("中山区", 1), ("西岗区", 2)]


def test_every_point_is_explained_and_linked_to_its_records(dataset):
    publish_and_review(dataset)
    sheet = compute_sheet(dataset.scheme, DAY)
    zs = sheet.unit(dataset.city.zhongshan.pk)
    linear = zs.items[dataset.items["建会率"].pk]
    assert "3/4" in linear.explanation and "目标 90.0%" in linear.explanation
    assert linear.links[0].url.startswith("/indicators/records/?indicator=union_rate")
    deduction = zs.items[dataset.items["信息报送"].pk]
    assert "迟报 1 次" in deduction.explanation and "漏报 1 次" in deduction.explanation
    labels = sorted(link.label for link in deduction.links)
    assert labels == ["KH01 2012-11 迟报 1 家", "KH02 2012Q3 漏报 1 家"]
    assert all(link.url.startswith("/reporting/overview/?form=") for link in deduction.links)
    ratio = zs.items[dataset.items["诉求按期办结"].pk]
    assert ratio.explanation.startswith("按期办结 1 件 ÷ 办结 2 件")
    manual = zs.items[dataset.items["特色工作"].pk]
    assert "材料齐全" in manual.explanation


def test_scores_depend_on_the_day(dataset):
    publish_and_review(dataset)
    # On 30 November: the review was not yet made (0), November was not yet due, the veto already holds.
    sheet = compute_sheet(dataset.scheme, datetime.date(2012, 11, 30))
    zs = sheet.unit(dataset.city.zhongshan.pk)
    xg = sheet.unit(dataset.city.xigang.pk)
    assert zs.items[dataset.items["特色工作"].pk].points == Decimal("0.00")
    # Only 2012Q3 is due: 中山区 missing it, 10 − 5 = 5.
    assert zs.items[dataset.items["信息报送"].pk].points == Decimal("5.00")
    assert xg.cap == Decimal("60")


def test_deduction_stops_at_the_weight(dataset):
    from safetynet.assessment import services

    scheme = services.scheme_create(actor=None, org_unit=dataset.city.city, year=2013)
    item = services.item_add(
        actor=None, scheme=scheme, name="报送", kind="deduction", weight="6", rule={"late": 2, "missing": 5}
    )
    services.item_add(actor=None, scheme=scheme, name="其他", kind="manual", weight="94")
    # In 2013 nothing is reported at all: 中山区 misses 12 monthly street reports (−60) and 4 quarterly ones…
    sheet = compute_sheet(scheme, datetime.date(2013, 12, 31))
    zs = sheet.unit(dataset.city.zhongshan.pk).items[item.pk]
    assert zs.figures["missing"] == 11 + 3  # December and Q4 are due in January 2014
    assert zs.points == Decimal("0.00")
    assert "以本项分值 6.00 为限" in zs.explanation
