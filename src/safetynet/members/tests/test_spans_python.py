"""The spans a roster import computes in Python for the persons it creates (members/spans.py
``person_spans``) are exactly those the SQL rebuild (``employment_spans_rebuild``) writes."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from safetynet.core.importing import run_import
from safetynet.members.importers import MemberImporter
from safetynet.members.models import Employment, EmploymentSpan, Membership, Person
from safetynet.members.spans import OPEN, SPAN_FIELDS, employment_spans_rebuild, person_spans
from safetynet.members.tests.factories import make_id_number
from safetynet.members.tests.test_importers import A, B, line, write
from safetynet.members.tests.test_spans import assert_spans_match_definition

START = datetime.date(2012, 1, 1)
DAYS = 30


def _day(offset: int | None) -> datetime.date | None:
    return None if offset is None else START + datetime.timedelta(days=offset)


def _ordinal(day: datetime.date | None) -> int:
    return OPEN if day is None else day.toordinal()


def _stored_spans() -> list[tuple]:
    return sorted(EmploymentSpan.objects.values_list(*SPAN_FIELDS))


def _computed(person: Person) -> list[tuple]:
    employments = [
        (
            e.pk,
            e.enterprise_id,
            _ordinal(e.valid_from),
            _ordinal(e.valid_to),
            e.employment_type == "dispatched",
        )
        for e in Employment.objects.filter(person=person)
    ]
    memberships = [
        (_ordinal(m.valid_from), _ordinal(m.valid_to)) for m in Membership.objects.filter(person=person)
    ]
    rows = person_spans(person.pk, employments, memberships, person.household == "rural")
    return sorted(
        (
            employment,
            person_id,
            enterprise,
            datetime.date.fromordinal(start),
            None if end == OPEN else datetime.date.fromordinal(end),
            member,
            migrant,
            dispatched,
        )
        for employment, person_id, enterprise, start, end, member, migrant, dispatched in rows
    )


def _non_overlapping(cuts: list[int]) -> list[tuple[int, int | None]]:
    points = sorted(set(cuts))
    result: list[tuple[int, int | None]] = [(points[i], points[i + 1]) for i in range(0, len(points) - 1, 2)]
    if len(points) % 2:
        result.append((points[-1], None))
    return result


interval = st.tuples(st.integers(0, DAYS), st.one_of(st.none(), st.integers(0, DAYS))).filter(
    lambda pair: pair[1] is None or pair[1] >= pair[0]
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    employments=st.lists(st.tuples(interval, st.booleans(), st.booleans()), min_size=1, max_size=4),
    membership_cuts=st.lists(st.integers(0, DAYS), max_size=8),
    empty_memberships=st.lists(st.integers(0, DAYS), max_size=2),
    rural=st.booleans(),
)
# Empty employments and memberships [d, d) take no part; a membership running past its employment.
@example(
    employments=[((0, 0), False, False), ((3, 10), True, True)],
    membership_cuts=[5, 20],
    empty_memberships=[7],
    rural=True,
)
def test_python_spans_equal_the_sql_rebuild(registry, employments, membership_cuts, empty_memberships, rural):
    # Hypothesis runs its examples inside one test transaction: start each from no persons.
    EmploymentSpan.objects.all().delete()
    Person.objects.all().delete()
    person = Person.objects.create(name="区段", household="rural" if rural else "urban")
    for (begin, end), second_enterprise, dispatched in employments:
        Employment.objects.create(
            person=person,
            enterprise=registry.bolt if second_enterprise else registry.acme,
            valid_from=_day(begin),
            valid_to=_day(end),
            employment_type="dispatched" if dispatched else "labour_contract",
        )
    for begin, end in _non_overlapping(membership_cuts):
        Membership.objects.create(
            person=person, union=registry.acme_union, valid_from=_day(begin), valid_to=_day(end)
        )
    for day in empty_memberships:
        Membership.objects.create(
            person=person, union=registry.joint_union, valid_from=_day(day), valid_to=_day(day)
        )
    employment_spans_rebuild(person_ids=[person.pk])
    assert _computed(person) == _stored_spans()


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [2, 20000])
def test_an_import_writes_the_new_persons_spans_as_the_rebuild_does(
    registry, tmp_path, monkeypatch, batch_size
):
    """New persons with one row and with several (a job change with a transfer, a second part-time job,
    rows far apart in the file and in different batches), and a stored person whose spans the SQL rebuild
    writes: afterwards the spans equal a rebuild from scratch."""
    monkeypatch.setattr(MemberImporter, "batch_size", batch_size)
    C, D, E = make_id_number(21), make_id_number(22), make_id_number(23)
    first = run_import("members", write(tmp_path, line(registry.acme, E, name="赵六", joined="2012-01-01")))
    assert first.exit_code == 0, first.errors
    result = run_import(
        "members",
        write(
            tmp_path,
            # A: a job change, the membership transferred on the day the second job begins.
            line(
                registry.acme,
                A,
                hired="2009-01-01",
                left="2013-05-01",
                joined="2010-03-01",
                quit_="2013-05-01",
            ),
            line(registry.plain, C, name="王五", hired="2011-01-01", household="城镇", kind=""),
            line(registry.bolt, B, name="李四", hired="2012-01-01", kind="劳务派遣", joined="2012-01-01"),
            # A membership that ends after the job did; an empty employment.
            line(
                registry.acme,
                D,
                name="钱七",
                hired="2011-01-01",
                left="2012-01-01",
                joined="2011-02-01",
                quit_="2014-01-01",
            ),
            line(registry.plain, D, name="钱七", hired="2015-01-01", left="2015-01-01"),
            line(registry.bolt, A, hired="2013-05-01", joined="2013-05-01"),
            # B: a part-time job beside the dispatched one.
            line(registry.plain, B, name="李四", hired="2012-06-01", kind="非全日制"),
            # E is stored: a second job, and the spans of both jobs come from the SQL rebuild.
            line(registry.plain, E, name="赵六", hired="2013-01-01", kind="非全日制"),
        ),
    )
    assert result.exit_code == 0, result.errors
    assert Person.objects.count() == 5
    imported = _stored_spans()
    assert any(span[5] for span in imported) and any(span[7] for span in imported)
    employment_spans_rebuild()
    assert _stored_spans() == imported
    for person in Person.objects.all():
        assert _computed(person) == sorted(s for s in imported if s[1] == person.pk)
        assert_spans_match_definition(person)


@pytest.mark.django_db
def test_the_shortcut_for_restated_rows_decides_as_the_full_checks(registry, tmp_path, monkeypatch):
    """A re-imported row of a stored person is decided without the full checks when it restates what is
    stored: the outcome (counts, errors, what is written) is the full checks' for every kind of row."""
    C, D, E, F = (make_id_number(n) for n in (31, 32, 33, 34))
    first = run_import(
        "members",
        write(
            tmp_path,
            line(registry.acme, A, joined="2010-03-01", member_number="M1"),
            line(registry.bolt, B, name="李四", hired="2012-01-01", kind="劳务派遣", joined="2012-01-01"),
            line(registry.plain, C, name="王五", hired="2011-01-01", left="2013-01-01"),
            line(registry.acme, D, name="钱七", hired="2011-01-01", joined="2011-02-01", quit_="2012-01-01"),
            line(registry.acme, E, name="赵六", hired="2011-01-01", joined="2011-02-01"),
            line(registry.acme, F, name="孙八", hired="2011-01-01", phone=""),
        ),
    )
    assert first.exit_code == 0, first.errors
    again = [
        line(registry.acme, A, joined="2010-03-01", member_number="M1"),  # restated
        line(
            registry.bolt, B, name="李四", hired="2012-01-01", kind="劳务派遣", joined="2012-01-01", phone=""
        ),
        line(registry.plain, C, name="王五", hired="2011-01-01", left="2014-01-01"),  # a new end date
        line(registry.acme, D, name="钱七", hired="2011-01-01", joined="2011-02-01", quit_="2012-06-01"),
        # E transfers to the joint union at bolt: the stored open membership ends (会员关系接转).
        line(registry.bolt, E, name="赵六", hired="2012-01-01", joined="2012-01-01"),
        line(registry.acme, F, name="孙小八", hired="2011-01-01"),  # another name: refused
        line(registry.acme, F, name="孙八", hired="2011-06-01"),  # overlaps the stored job: refused
    ]

    original = MemberImporter._restated_alone
    taken: list[bool] = []

    def outcome(shortcut: bool, *lines: str) -> tuple:
        def decide(*args):
            taken.append(original(*args) if shortcut else False)
            return taken[-1]

        taken.clear()
        monkeypatch.setattr(MemberImporter, "_restated_alone", decide)
        result = run_import("members", write(tmp_path, *lines), dry_run=True)
        monkeypatch.undo()
        return result.created, result.updated, result.unchanged, sorted(map(str, result.errors))

    for lines in ([again[0]], [again[1]], again[:5], again[:4], again[5:], again):
        assert outcome(True, *lines) == outcome(False, *lines)
    assert outcome(True, *again[:2])[:3] == (0, 0, 2)
    assert taken == [True, True]  # both rows took the shortcut
    outcome(True, *again[2:5])
    assert taken == [False, False, False]
    kept = _stored_spans()
    result = run_import("members", write(tmp_path, *again[:5]))
    assert result.exit_code == 0, result.errors
    assert (result.created, result.updated, result.unchanged) == (1, 2, 2)
    assert _stored_spans() != kept
    imported = _stored_spans()
    employment_spans_rebuild()
    assert _stored_spans() == imported
