"""A trend's days computed together (``compute_days``) give exactly the figures of each day computed alone."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from safetynet.indicators.engine import compute, compute_days
from safetynet.indicators.tests.histories import person_strategy
from safetynet.members.models import Employment, EmploymentSpan, Membership, Person
from safetynet.members.spans import employment_spans_rebuild
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory

START = datetime.date(2012, 1, 1)


def _day(offset: int) -> datetime.date:
    return START + datetime.timedelta(days=offset)


@pytest.fixture
def floor(city):
    a = EnterpriseFactory(org_unit=city.community_a, name="甲厂")
    b = EnterpriseFactory(org_unit=city.street_b, name="乙厂")
    c = EnterpriseFactory(org_unit=city.community_a, name="丙厂（未建会）")
    UnionFactory(org_unit=city.community_a, enterprises=[a], name="甲厂工会")
    union_b = UnionFactory(org_unit=city.street_b, enterprises=[b], name="乙厂工会")
    return [a, b, c], union_b


def _as_dicts(rows):
    return [row.as_dict(with_group=True) for row in rows]


person = person_strategy(30)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(persons=st.lists(person, max_size=6), offsets=st.lists(st.integers(0, 35), min_size=2, max_size=5))
# Starts and ends exactly on the days asked for, and an employment that ends before the first day.
@example(
    persons=[
        {"enterprise": 0, "rural": True, "dispatched": False, "employment": (5, 5), "membership": (0, None)},
        {"enterprise": 1, "rural": False, "dispatched": True, "employment": (0, 3), "membership": (3, 10)},
        {"enterprise": 0, "rural": False, "dispatched": False, "employment": (0, None), "membership": None},
    ],
    offsets=[5, 10, 2],
)
def test_days_together_equal_each_day_alone(floor, persons, offsets):
    enterprises, union = floor
    EmploymentSpan.objects.all().delete()
    Person.objects.all().delete()
    for n, spec in enumerate(persons):
        person = Person.objects.create(
            name=f"职工{n}", id_number_hash=f"test-{n}", household="rural" if spec["rural"] else "urban"
        )
        begin, length = spec["employment"]
        Employment.objects.create(
            person=person,
            enterprise=enterprises[spec["enterprise"]],
            valid_from=_day(begin),
            valid_to=None if length is None else _day(begin + length),
            employment_type="dispatched" if spec["dispatched"] else "labour_contract",
        )
        if spec["membership"] is not None:
            begin, length = spec["membership"]
            Membership.objects.create(
                person=person,
                union=union,
                valid_from=_day(begin),
                valid_to=None if length is None else _day(begin + length),
            )
    employment_spans_rebuild()
    days = [_day(offset) for offset in offsets]
    together = compute_days(days=days)
    assert sorted(together) == sorted(set(days))
    for day in set(days):
        assert _as_dicts(together[day]) == _as_dicts(compute(day=day)), day


@pytest.mark.django_db
def test_one_unit_and_a_single_day(floor, city):
    enterprises, union = floor
    district = city.street_b.parent.code
    person = Person.objects.create(name="职工", household="rural")
    Employment.objects.create(person=person, enterprise=enterprises[1], valid_from=_day(0))
    Membership.objects.create(person=person, union=union, valid_from=_day(2))
    employment_spans_rebuild()
    days = [_day(1), _day(2)]
    together = compute_days(days=days, unit_code=district)
    for day in days:
        assert _as_dicts(together[day]) == _as_dicts(compute(day=day, unit_code=district))
    member_rows = {
        d: [r for r in rows if r.indicator == "membership_rate" and r.unit == district]
        for d, rows in together.items()
    }
    assert [(r.numerator, r.denominator) for r in member_rows[_day(1)]] == [(0, 1)]
    assert [(r.numerator, r.denominator) for r in member_rows[_day(2)]] == [(1, 1)]
    assert _as_dicts(compute_days(days=[_day(2)])[_day(2)]) == _as_dicts(compute(day=_day(2)))


@pytest.mark.django_db(transaction=True)
def test_days_on_two_connections_equal_each_day_alone(city):
    """Outside a transaction the per-day statements run beside the spans statement on a second connection."""
    enterprise = EnterpriseFactory(org_unit=city.community_a, name="甲厂")
    union = UnionFactory(org_unit=city.community_a, enterprises=[enterprise], name="甲厂工会")
    for n in range(3):
        person = Person.objects.create(name=f"职工{n}", id_number_hash=f"two-{n}", household="rural")
        Employment.objects.create(person=person, enterprise=enterprise, valid_from=_day(n))
        Membership.objects.create(person=person, union=union, valid_from=_day(2 * n))
    employment_spans_rebuild()
    days = [_day(0), _day(2), _day(4), _day(6)]
    together = compute_days(days=days)
    for day in days:
        assert _as_dicts(together[day]) == _as_dicts(compute(day=day))
    city_rows = {
        d: next(r for r in rows if r.indicator == "membership_rate" and r.level == 1)
        for d, rows in together.items()
    }
    assert [(city_rows[d].numerator, city_rows[d].denominator) for d in days] == [
        (1, 1),
        (2, 3),
        (3, 3),
        (3, 3),
    ]
