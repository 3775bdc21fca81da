"""职工参赛率: the workers entered in the year's competitions over the eligible enterprises' workers, a rate of
quantities (the engine adds a column instead of counting rows). Figures computed by hand below."""

from __future__ import annotations

import datetime

import pytest

from safetynet.exemplars import services
from safetynet.indicators.engine import compute
from safetynet.indicators.selectors import indicator_records
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code

D = datetime.date
CODE = "competition_worker_rate"


@pytest.fixture
def entered(city, make_staff):
    officer = make_staff("zs_officer", city.zhongshan, "operator")
    xg_officer = make_staff("xg_officer", city.xigang, "operator")
    a = EnterpriseFactory(
        name="甲机械", credit_code=make_credit_code(701), org_unit=city.community_a, headcount=40
    )
    b = EnterpriseFactory(
        name="乙电子", credit_code=make_credit_code(702), org_unit=city.community_a, headcount=100
    )
    c = EnterpriseFactory(
        name="丙食品", credit_code=make_credit_code(703), org_unit=city.street_a, headcount=30
    )
    # Below the eligibility threshold (25): neither its workers nor its entry count.
    small = EnterpriseFactory(
        name="丁小店", credit_code=make_credit_code(704), org_unit=city.street_a, headcount=10
    )
    xg = EnterpriseFactory(
        name="戊西岗", credit_code=make_credit_code(705, "210203"), org_unit=city.street_b, headcount=60
    )

    def competition(name, unit, starts, ends, actor):
        return services.competition_create(
            actor=actor,
            name=name,
            kind="labour",
            organiser_level="district",
            unit=unit,
            starts_on=starts,
            ends_on=ends,
        )

    spring = competition("春季竞赛", city.zhongshan, D(2012, 3, 1), D(2012, 6, 30), officer)
    autumn = competition("秋季竞赛", city.zhongshan, D(2012, 9, 1), D(2012, 11, 30), officer)
    last_year = competition("去年竞赛", city.zhongshan, D(2011, 3, 1), D(2011, 10, 31), officer)
    west = competition("西岗竞赛", city.xigang, D(2012, 5, 1), D(2012, 12, 31), xg_officer)
    add = services.competition_entry_add
    add(actor=officer, competition=spring, enterprise=a, workers=30)
    add(actor=officer, competition=autumn, enterprise=a, workers=20)  # 50 entered, capped at its 40
    add(actor=officer, competition=autumn, enterprise=b, workers=25)
    add(actor=officer, competition=last_year, enterprise=c, workers=30)  # another year: not counted in 2012
    add(actor=officer, competition=spring, enterprise=small, workers=10)
    add(actor=xg_officer, competition=west, enterprise=xg, workers=12)
    return {"a": a, "b": b, "c": c, "xg": xg}


def _rows(day):
    return {row.unit: row for row in compute(day=day, indicator_codes=[CODE])}


def test_year_end_rate_matches_hand_computation(entered):
    rows = _rows(D(2012, 12, 31))
    # 中山区: 甲 min(30 + 20, 40) = 40, 乙 25, 丙 0 (its entry was in 2011) / 40 + 100 + 30.
    assert (rows["210202"].numerator, rows["210202"].denominator) == (65, 170)
    assert rows["210202"].rate == round(65 / 170, 4)
    # The community holds 甲 and 乙 only; the street adds 丙 (sitting directly under it).
    assert (rows["210202001001"].numerator, rows["210202001001"].denominator) == (65, 140)
    assert (rows["210203"].numerator, rows["210203"].denominator) == (12, 60)
    assert (rows["2102"].numerator, rows["2102"].denominator) == (77, 230)


def test_only_competitions_started_by_the_day_count(entered):
    june = _rows(D(2012, 6, 1))
    # Only the spring competition has started: 甲's 30 of 40; 西岗's started in May.
    assert (june["210202"].numerator, june["210202"].denominator) == (30, 170)
    assert june["210203"].numerator == 12
    # In 2011 only last year's competition ran: 丙's 30 of its 30.
    assert _rows(D(2011, 12, 31))["210202"].numerator == 30


def test_records_behind_the_numerator_are_the_enterprises_adding_to_it(entered):
    day = D(2012, 12, 31)
    numerator = indicator_records(indicator=CODE, unit_code="210202", day=day, part="numerator")
    assert {e.name for e in numerator} == {"甲机械", "乙电子"}
    gap = indicator_records(indicator=CODE, unit_code="210202", day=day, part="gap")
    assert {e.name for e in gap} == {"乙电子", "丙食品"}
    denominator = indicator_records(indicator=CODE, unit_code="210202", day=day, part="denominator")
    assert {e.name for e in denominator} == {"甲机械", "乙电子", "丙食品"}
