"""Employment spans: on every day, each active employment has exactly one active span, and the span says
whether the person held a membership that day — checked day by day against the definition."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from safetynet.members import services
from safetynet.members.models import Employment, EmploymentSpan, Membership, Person
from safetynet.members.spans import employment_spans_rebuild
from safetynet.members.tests.factories import make_id_number

START = datetime.date(2012, 1, 1)
DAYS = 40


def _day(offset: int) -> datetime.date:
    return START + datetime.timedelta(days=offset)


def assert_spans_match_definition(person: Person) -> None:
    employments = list(Employment.objects.filter(person=person))
    memberships = list(Membership.objects.filter(person=person))
    spans = list(EmploymentSpan.objects.filter(person=person))
    for offset in range(-2, DAYS + 2):
        day = _day(offset)
        member = any(m.is_active_on(day) for m in memberships)
        for employment in employments:
            active = [s for s in spans if s.employment_id == employment.pk and s.is_active_on(day)]
            if employment.is_active_on(day):
                assert len(active) == 1, (day, employment, active)
                assert active[0].member == member, (day, employment, active[0])
                assert active[0].enterprise_id == employment.enterprise_id
                assert active[0].migrant == person.is_migrant
            else:
                assert active == [], (day, employment, active)
    assert not [s for s in spans if s.valid_to is not None and s.valid_to <= s.valid_from]


def _intervals(draw_ends: list[int]) -> list[tuple[int, int | None]]:
    """Non-overlapping [from, to) intervals from sorted cut points; the last may stay open."""
    points = sorted(set(draw_ends))
    result = []
    for i in range(0, len(points) - 1, 2):
        result.append((points[i], points[i + 1]))
    if len(points) % 2:
        result.append((points[-1], None))
    return result


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    employment_cuts=st.lists(st.integers(0, DAYS), min_size=1, max_size=6),
    second_employment=st.tuples(st.integers(0, DAYS), st.one_of(st.none(), st.integers(0, DAYS))),
    membership_cuts=st.lists(st.integers(0, DAYS), max_size=8),
    rural=st.booleans(),
)
# An empty employment [d, d) while a member: it once produced an empty member span.
@example(employment_cuts=[0], second_employment=(1, 1), membership_cuts=[0], rural=False)
def test_spans_match_the_definition_on_every_day(
    registry, employment_cuts, second_employment, membership_cuts, rural
):
    # Hypothesis runs its examples inside one test transaction: start each from no persons.
    EmploymentSpan.objects.all().delete()
    Person.objects.all().delete()
    person = Person.objects.create(name="区段", household="rural" if rural else "urban")
    for begin, end in _intervals(employment_cuts):
        Employment.objects.create(
            person=person, enterprise=registry.acme, valid_from=_day(begin), valid_to=end and _day(end)
        )
    begin, end = second_employment
    if end is None or end >= begin:  # may overlap the first enterprise's jobs: a second job at once
        Employment.objects.create(
            person=person,
            enterprise=registry.bolt,
            valid_from=_day(begin),
            valid_to=None if end is None else _day(end),
            employment_type="dispatched",
        )
    for begin, end in _intervals(membership_cuts):
        Membership.objects.create(
            person=person, union=registry.acme_union, valid_from=_day(begin), valid_to=end and _day(end)
        )
    employment_spans_rebuild(person_ids=[person.pk])
    assert_spans_match_definition(person)
    # A rebuild is idempotent and leaves other persons alone.
    employment_spans_rebuild(person_ids=[person.pk])
    assert_spans_match_definition(person)


@pytest.mark.django_db
def test_every_service_keeps_the_spans_exact(registry):
    """Through the services only: each write leaves the spans equal to a rebuild from scratch."""

    def snapshot() -> list[tuple]:
        return sorted(
            EmploymentSpan.objects.values_list(
                "employment_id", "person_id", "enterprise_id", "valid_from", "valid_to", "member", "migrant"
            )
        )

    def check() -> None:
        kept = snapshot()
        employment_spans_rebuild()
        assert snapshot() == kept
        for person in Person.objects.all():
            assert_spans_match_definition(person)

    person = services.person_create(actor=None, name="张三", id_number=make_id_number(11))
    job = services.employment_start(
        actor=None, person=person, enterprise=registry.acme, valid_from=_day(0), employment_type="dispatched"
    )
    check()
    membership = services.membership_join(
        actor=None, person=person, union=registry.acme_union, valid_from=_day(5)
    )
    check()
    services.person_update(actor=None, person=person, data={"household": "rural"})
    person.refresh_from_db()
    check()
    services.employment_end(actor=None, employment=job, valid_to=_day(20))
    services.employment_start(actor=None, person=person, enterprise=registry.bolt, valid_from=_day(20))
    check()
    services.membership_transfer(
        actor=None, membership=membership, to_union=registry.joint_union, on=_day(20)
    )
    check()
    following = Membership.objects.get(person=person, valid_to__isnull=True)
    services.membership_leave(actor=None, membership=following, valid_to=_day(30))
    check()
    assert EmploymentSpan.objects.filter(person=person, member=True).count() == 2


@pytest.mark.django_db
def test_a_whole_rebuild_plans_on_the_rows_there_now_not_on_old_statistics(registry):
    """Statistics taken while the tables were empty made PostgreSQL join a whole rebuild by nested loops (the
    small demo city's rebuild ran for twenty minutes in CI): the rebuild takes fresh ones first."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("planner statistics in pg_class are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_person, members_employment, members_membership")
    people = [
        services.person_create(actor=None, name=f"职工{i}", id_number=make_id_number(100 + i))
        for i in range(3)
    ]
    for person in people:
        services.employment_start(actor=None, person=person, enterprise=registry.acme, valid_from=_day(0))
        services.membership_join(actor=None, person=person, union=registry.acme_union, valid_from=_day(1))
    employment_spans_rebuild()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname IN "
            "('members_person', 'members_employment', 'members_membership')"
        )
        assert {name: rows for name, rows in cursor.fetchall()} == {
            "members_person": 3,
            "members_employment": 3,
            "members_membership": 3,
        }
    for person in people:
        assert_spans_match_definition(person)
