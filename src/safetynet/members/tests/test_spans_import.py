"""A roster import keeps the employment spans exact, so a late import shows in the indicators at once."""

from __future__ import annotations

import datetime

from safetynet.core.importing import run_import
from safetynet.indicators.engine import compute
from safetynet.members.models import Person
from safetynet.members.spans import employment_spans_rebuild
from safetynet.members.tests.test_importers import A, B, line, write
from safetynet.members.tests.test_spans import assert_spans_match_definition

D = datetime.date


def membership_rate(day: datetime.date) -> tuple[int, int]:
    row = next(r for r in compute(day=day, unit_code="2102", indicator_codes=["membership_rate"]))
    return row.numerator, row.denominator


def test_imported_and_corrected_rosters_keep_the_spans_exact(registry, tmp_path):
    assert membership_rate(D(2012, 12, 31)) == (0, 0)
    first = run_import(
        "members",
        write(
            tmp_path,
            line(registry.acme, A, joined="2010-03-01"),
            line(registry.acme, B, name="李四", hired="2011-01-01"),
        ),
    )
    assert first.exit_code == 0, first.errors
    for person in Person.objects.all():
        assert_spans_match_definition(person)
    assert membership_rate(D(2012, 12, 31)) == (1, 2)

    # A late correction: A left the union (and the job) at the start of 2012; B joined in 2012.
    corrected = run_import(
        "members",
        write(
            tmp_path,
            line(registry.acme, A, left="2012-01-01", joined="2010-03-01", quit_="2012-01-01"),
            line(registry.acme, B, name="李四", hired="2011-01-01", joined="2012-06-01"),
        ),
    )
    assert corrected.exit_code == 0, corrected.errors
    for person in Person.objects.all():
        assert_spans_match_definition(person)
    assert membership_rate(D(2012, 12, 31)) == (1, 1)
    assert membership_rate(D(2011, 12, 31)) == (1, 2)
    # Nothing differs from a rebuild from scratch.
    before = sorted(Person.objects.values_list("pk", flat=True))
    employment_spans_rebuild()
    assert membership_rate(D(2012, 12, 31)) == (1, 1)
    assert sorted(Person.objects.values_list("pk", flat=True)) == before
