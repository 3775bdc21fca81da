"""入会率 and the programme rates against hand-computed expectations (INTERFACES.md definitions)."""

import datetime

import pytest

from safetynet.indicators.engine import compute
from safetynet.members import services as members
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory
from safetynet.programmes.models import CollectiveContract, ContractCoverage, ContractStatus

D = datetime.date(2012, 12, 31)


def figures(rows, indicator):
    return {r.unit: (r.numerator, r.denominator) for r in rows if r.indicator == indicator}


@pytest.fixture
def factory_floor(city):
    """Two unionised enterprises of 友好社区 and one without a union."""
    a = EnterpriseFactory(org_unit=city.community_a, name="甲厂")
    b = EnterpriseFactory(org_unit=city.community_a, name="乙厂")
    c = EnterpriseFactory(org_unit=city.community_a, name="丙厂（未建会）")
    union_a = UnionFactory(org_unit=city.community_a, enterprises=[a], name="甲厂工会")
    union_b = UnionFactory(org_unit=city.community_a, enterprises=[b], name="乙厂工会")
    return a, b, c, union_a, union_b


def worker(
    n, enterprise, *, household="urban", employment_type="labour_contract", since=datetime.date(2010, 1, 1)
):
    employment = members.person_register(
        actor=None,
        name=f"职工{n}",
        id_number=make_id_number(n),
        enterprise=enterprise,
        employed_from=since,
        household=household,
        employment_type=employment_type,
    )
    return employment.person


def test_membership_edges(city, factory_floor):
    a, b, c, union_a, union_b = factory_floor
    # 1: a member all along → counted.
    p1 = worker(1, a)
    members.membership_join(actor=None, person=p1, union=union_a, valid_from=datetime.date(2010, 1, 1))
    # 2: membership ending on the day → not a member on D.
    p2 = worker(2, a, household="rural")
    m2 = members.membership_join(actor=None, person=p2, union=union_a, valid_from=datetime.date(2010, 1, 1))
    members.membership_leave(actor=None, membership=m2, valid_to=D)
    # 3: membership starting on the day → a member on D.
    p3 = worker(3, a, employment_type="dispatched")
    members.membership_join(actor=None, person=p3, union=union_a, valid_from=D)
    # 4: a job change with a transfer on one day, both on 2012-06-01 → one employment, one membership on D.
    p4 = worker(4, a)
    m4 = members.membership_join(actor=None, person=p4, union=union_a, valid_from=datetime.date(2010, 1, 1))
    members.employment_end(actor=None, employment=p4.employments.get(), valid_to=datetime.date(2012, 6, 1))
    members.employment_start(actor=None, person=p4, enterprise=b, valid_from=datetime.date(2012, 6, 1))
    members.membership_transfer(actor=None, membership=m4, to_union=union_b, on=datetime.date(2012, 6, 1))
    # 5: works at the enterprise without a union → outside U(u,d), not counted at all.
    worker(5, c)
    got = figures(compute(day=D, unit_code="210202001001"), "membership_rate")
    assert got["210202001001"] == (3, 4)  # p1, p3, p4 members; p2 not; p5 outside
    assert figures(compute(day=D, unit_code="2102"), "migrant_membership_rate")["2102"] == (0, 1)
    assert figures(compute(day=D, unit_code="2102"), "dispatched_membership_rate")["2102"] == (1, 1)
    # The day before the transfer: p1, p2 (still a member) and p4 (at 甲厂, once) of the four; p3 not yet.
    day_before = figures(compute(day=datetime.date(2012, 5, 31), unit_code="2102"), "membership_rate")
    assert day_before["2102"] == (3, 4)


def contract(enterprises, *, kind="wage", effective, expires):
    c = CollectiveContract.objects.create(
        kind=kind,
        org_unit=enterprises[0].org_unit,
        status=ContractStatus.FILED,
        signed_on=effective,
        filed_on=effective,
        effective_on=effective,
        expires_on=expires,
    )
    ContractCoverage.objects.bulk_create(ContractCoverage(contract=c, enterprise=e) for e in enterprises)
    return c


def test_contract_term_ending_the_day_before_and_regional_contract(city, factory_floor):
    a, b, c, *_ = factory_floor
    contract([a], effective=datetime.date(2010, 1, 1), expires=D - datetime.timedelta(days=1))
    got = figures(compute(day=D, unit_code="210202001001"), "wage_bargaining_rate")
    assert got["210202001001"] == (0, 2)  # expired the day before; c is not unionised
    contract([a, b, c], effective=datetime.date(2012, 1, 1), expires=D)  # regional, ends on the day: in force
    got = figures(compute(day=D, unit_code="210202001001"), "wage_bargaining_rate")
    assert got["210202001001"] == (2, 2)  # counted for each unionised enterprise it covers
    contract([a], kind="women", effective=datetime.date(2012, 1, 1), expires=datetime.date(2014, 1, 1))
    assert figures(compute(day=datetime.date(2013, 1, 1), unit_code="210202001001"), "wage_bargaining_rate")[
        "210202001001"
    ] == (0, 2)  # a women workers' contract is not a wage contract
