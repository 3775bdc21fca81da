"""建会率 against hand-computed expectations (INTERFACES.md definitions)."""

import datetime

import pytest

from safetynet.indicators.engine import compute
from safetynet.orgs import services
from safetynet.orgs.models import UnionType
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory

D = datetime.date(2012, 12, 31)


def figures(rows, indicator="union_rate"):
    return {r.unit: (r.numerator, r.denominator, r.rate) for r in rows if r.indicator == indicator}


@pytest.fixture
def registry_2012(city):
    ca, sa, sb = city.community_a, city.street_a, city.street_b
    e = {
        "plain": EnterpriseFactory(org_unit=ca, headcount=100),
        "small": EnterpriseFactory(org_unit=ca, headcount=24),  # below 25: not eligible
        "at_threshold": EnterpriseFactory(org_unit=ca, headcount=25),
        "founded_after": EnterpriseFactory(org_unit=ca, founded_on=datetime.date(2013, 1, 1)),
        "deregistered_on_day": EnterpriseFactory(org_unit=ca, deregistered_on=D),
        "two_unions": EnterpriseFactory(org_unit=sa),
        "joint_only": EnterpriseFactory(org_unit=sa),
        "dissolved_day_before": EnterpriseFactory(org_unit=sb),
        "xigang_uncovered": EnterpriseFactory(org_unit=sb),
    }
    UnionFactory(
        org_unit=ca, enterprises=[e["plain"], e["small"], e["founded_after"], e["deregistered_on_day"]]
    )
    UnionFactory(org_unit=sa, enterprises=[e["two_unions"]])
    UnionFactory(org_unit=sa, enterprises=[e["two_unions"]], union_type=UnionType.REGIONAL)
    UnionFactory(org_unit=sa, enterprises=[e["joint_only"], e["at_threshold"]], union_type=UnionType.JOINT)
    UnionFactory(
        org_unit=sb, enterprises=[e["dissolved_day_before"]], dissolved_on=D - datetime.timedelta(days=1)
    )
    return e


def test_union_rate_edge_cases(city, registry_2012):
    got = figures(compute(day=D, unit_code="2102"))
    # 友好社区: plain (covered), at_threshold (covered by the joint union of the street). small, founded_after and
    # deregistered_on_day are not eligible on D.
    assert got["210202001001"] == (2, 2, 1.0)
    # 青泥洼桥街道: + two_unions (counted once), joint_only.
    assert got["210202001"] == (4, 4, 1.0)
    assert got["210202"] == (4, 4, 1.0)
    # 八一路街道: dissolved the day before → not covered; uncovered.
    assert got["210203001"] == (0, 2, 0.0)
    assert got["2102"] == (4, 6, 0.6667)


def test_children_sum_to_parent_and_empty_unit_is_null(city, registry_2012):
    rows = compute(day=D, unit_code="2102")
    got = figures(rows)
    for parent, children in {"2102": ["210202", "210203"], "210202": ["210202001"]}.items():
        assert got[parent][0] == sum(got[c][0] for c in children)
        assert got[parent][1] == sum(got[c][1] for c in children)
    services.orgunit_create(actor=None, code="210203002", name="空街道", level=3, parent=city.xigang)
    empty = figures(compute(day=D, unit_code="210203002"))
    assert empty == {"210203002": (0, 0, None)}


def test_moved_enterprise_counts_under_old_district_for_past_days(city):
    enterprise = EnterpriseFactory(org_unit=city.community_a)
    UnionFactory(org_unit=city.community_a, enterprises=[enterprise])
    services.enterprise_update(
        actor=None,
        enterprise=enterprise,
        data={"org_unit": city.street_b},
        effective_on=datetime.date(2013, 3, 1),
    )
    past = figures(compute(day=D, unit_code="2102"))
    assert past["210202"] == (1, 1, 1.0) and past["210203"] == (0, 0, None)
    today_tree = figures(compute(day=D, unit_code="2102", hierarchy="today"))
    assert today_tree["210202"] == (0, 0, None) and today_tree["210203"] == (1, 1, 1.0)
    later = figures(compute(day=datetime.date(2013, 6, 1), unit_code="2102"))
    assert later["210203"] == (1, 1, 1.0)


def test_moved_street_shows_its_old_self(city):
    EnterpriseFactory(org_unit=city.street_a)
    services.orgunit_move(
        actor=None, unit=city.street_a, new_parent=city.xigang, effective_on=datetime.date(2013, 1, 1)
    )
    assert figures(compute(day=D, unit_code="210202"))["210202"][1] == 1
    assert figures(compute(day=datetime.date(2013, 1, 1), unit_code="210203"))["210203"][1] == 1


def test_public_nonpublic_breakdown(city):
    EnterpriseFactory(org_unit=city.community_a, ownership="state")
    covered = EnterpriseFactory(org_unit=city.community_a, ownership="private")
    EnterpriseFactory(org_unit=city.community_a, ownership="foreign")
    UnionFactory(org_unit=city.community_a, enterprises=[covered])
    rows = [
        r
        for r in compute(day=D, unit_code="210202001001", breakdown="ownership")
        if r.indicator == "union_rate"
    ]
    assert {(r.group, r.numerator, r.denominator) for r in rows} == {("公有制", 0, 1), ("非公有制", 1, 2)}


def test_cached_figures_change_at_once_when_a_past_record_is_corrected(city):
    """A union's founding date fixed after the fact: the cached 2012 figure must not survive the correction."""
    from safetynet.indicators.selectors import compute_cached

    enterprise = EnterpriseFactory(org_unit=city.community_a)
    union = UnionFactory(
        org_unit=city.community_a, enterprises=[enterprise], founded_on=datetime.date(2013, 5, 1)
    )
    before = figures(compute_cached(day=D, unit_code="2102"))
    assert before["2102"] == (0, 1, 0.0)
    assert figures(compute_cached(day=D, unit_code="2102")) == before  # served from the cache
    # The coverage that began with the union follows its corrected founding date.
    services.union_update(actor=None, union=union, data={"founded_on": datetime.date(2011, 1, 1)})
    assert figures(compute_cached(day=D, unit_code="2102"))["2102"] == (1, 1, 1.0)


def test_hierarchy_nodes_of_several_days_equal_each_days_own(city):
    # A street moves and a unit closes within the period: each day's units read together equal that day's
    # own read (a trend reads them once for all its days).
    from safetynet.indicators.engine import hierarchy_nodes, hierarchy_nodes_days

    services.orgunit_move(
        actor=None, unit=city.street_a, new_parent=city.xigang, effective_on=datetime.date(2013, 1, 1)
    )
    services.orgunit_close(actor=None, unit=city.community_a, closed_on=datetime.date(2013, 3, 1))
    days = [
        datetime.date(2012, 12, 31),
        datetime.date(2013, 1, 1),
        datetime.date(2013, 2, 28),
        datetime.date(2013, 3, 1),
    ]
    for hierarchy in ("as_of", "today"):
        together = hierarchy_nodes_days(days, hierarchy)
        assert together == {day: hierarchy_nodes(day, hierarchy) for day in days}
    as_of = hierarchy_nodes_days(days, "as_of")
    moved = {day: next(n for n in as_of[day] if n.unit_id == city.street_a.pk) for day in days[:2]}
    assert moved[days[0]].path != moved[days[1]].path
