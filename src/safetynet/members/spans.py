"""Employment spans: every employment cut where the person's membership status changes (see
:class:`safetynet.members.models.EmploymentSpan`).

One statement does the work, the same on PostgreSQL and SQLite (window functions): the *pieces* are each
employment's overlaps with the person's memberships (members on those days; memberships of one person never
overlap, so neither do the pieces), and the *gaps* are the rest of the employment's days (not a member):
before the first piece, between pieces, after the last, or the whole employment when there is no piece.
Together they cover every day of every employment exactly once, so the indicator engine counts an
employment on a day by counting the spans active that day.

Exactness is the services' duty: every change of a person's employments, memberships or household calls
:func:`employment_spans_rebuild` for that person in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection

from safetynet.members.bulk import analyze_tables
from safetynet.members.models import Employment, EmploymentSpan, EmploymentType, Household, Membership, Person

# Persons per statement when rebuilding for a list of persons (SQLite allows 32,766 parameters; PostgreSQL
# gets one array parameter).
CHUNK = 5000

_PIECES = """
    SELECT e.id AS employment_id, e.person_id, e.enterprise_id, e.employment_type, e.valid_to AS employment_to,
           CASE WHEN m.valid_from > e.valid_from THEN m.valid_from ELSE e.valid_from END AS piece_from,
           CASE WHEN m.valid_to IS NULL THEN e.valid_to
                WHEN e.valid_to IS NULL THEN m.valid_to
                WHEN m.valid_to < e.valid_to THEN m.valid_to
                ELSE e.valid_to END AS piece_to
    FROM {employment} e JOIN {membership} m ON m.person_id = e.person_id
    WHERE (e.valid_to IS NULL OR m.valid_from < e.valid_to)
      AND (m.valid_to IS NULL OR e.valid_from < m.valid_to)
      AND (m.valid_to IS NULL OR m.valid_from < m.valid_to)
      AND (e.valid_to IS NULL OR e.valid_from < e.valid_to)
      AND {persons_e}
"""

_SPANS = """
    WITH pieces AS ({pieces}),
    ordered AS (
        SELECT pieces.*,
               LEAD(piece_from) OVER (PARTITION BY employment_id ORDER BY piece_from) AS next_from,
               ROW_NUMBER() OVER (PARTITION BY employment_id ORDER BY piece_from) AS position
        FROM pieces
    ),
    spans AS (
        SELECT employment_id, person_id, enterprise_id, employment_type,
               piece_from AS valid_from, piece_to AS valid_to, 1 AS member
        FROM ordered
        UNION ALL
        SELECT employment_id, person_id, enterprise_id, employment_type,
               piece_to, COALESCE(next_from, employment_to), 0
        FROM ordered
        WHERE piece_to IS NOT NULL
          AND (COALESCE(next_from, employment_to) IS NULL OR piece_to < COALESCE(next_from, employment_to))
        UNION ALL
        SELECT o.employment_id, o.person_id, o.enterprise_id, o.employment_type,
               e.valid_from, o.piece_from, 0
        FROM ordered o JOIN {employment} e ON e.id = o.employment_id
        WHERE o.position = 1 AND e.valid_from < o.piece_from
        UNION ALL
        SELECT e.id, e.person_id, e.enterprise_id, e.employment_type, e.valid_from, e.valid_to, 0
        FROM {employment} e
        WHERE (e.valid_to IS NULL OR e.valid_from < e.valid_to)
          AND {persons_e}
          AND NOT EXISTS (SELECT 1 FROM pieces p WHERE p.employment_id = e.id)
    )
    INSERT INTO {span} (employment_id, person_id, enterprise_id, valid_from, valid_to,
                        member, migrant, dispatched)
    SELECT s.employment_id, s.person_id, s.enterprise_id, s.valid_from, s.valid_to,
           s.member = 1, p.household = %s, s.employment_type = %s
    FROM spans s JOIN {person} p ON p.id = s.person_id
"""


def _tables() -> dict[str, str]:
    q = connection.ops.quote_name
    return {
        "employment": q(Employment._meta.db_table),
        "membership": q(Membership._meta.db_table),
        "span": q(EmploymentSpan._meta.db_table),
        "person": q(Person._meta.db_table),
    }


def _statement(persons_condition: str) -> str:
    tables = _tables()
    pieces = _PIECES.format(persons_e=persons_condition.format(column="e.person_id"), **tables)
    return _SPANS.format(pieces=pieces, persons_e=persons_condition.format(column="e.person_id"), **tables)


def employment_spans_rebuild(*, person_ids: Iterable[int] | None = None) -> None:
    """Rewrite the spans of the given persons (all persons when None) from their employments, memberships and
    household. Call it inside the transaction that changed them."""
    tables = _tables()
    constants = [Household.RURAL.value, EmploymentType.DISPATCHED.value]
    with connection.cursor() as cursor:
        if person_ids is None:
            # Every row is read: statistics from an emptier day (ANALYZE ran when the tables held nothing,
            # a load since) made PostgreSQL join them by nested loops, and the small demo city's rebuild
            # ran for twenty minutes instead of seconds in CI.
            analyze_tables(Person, Employment, Membership)
            cursor.execute(f"DELETE FROM {tables['span']}")
            cursor.execute(_statement("1 = 1"), constants)
            return
        ids = sorted(set(person_ids))
        postgres = connection.vendor == "postgresql"
        for start in range(0, len(ids), CHUNK):
            part = ids[start : start + CHUNK]
            if postgres:
                condition, params = "{column} = ANY(%s)", [part]
            else:
                condition, params = "{column} IN (" + ", ".join(["%s"] * len(part)) + ")", part
            cursor.execute(
                f"DELETE FROM {tables['span']} WHERE " + condition.format(column="person_id"), params
            )
            # The condition appears twice in the statement (pieces, and employments without pieces).
            statement = _statement(condition)
            cursor.execute(statement, params + params + constants)


# --- the same spans computed in Python, for persons an import creates -------------------------------------

# An open end (NULL) as a day after every real one, so that ends compare as plain numbers.
OPEN = 1 << 40

SPAN_FIELDS = (
    "employment_id",
    "person_id",
    "enterprise_id",
    "valid_from",
    "valid_to",
    "member",
    "migrant",
    "dispatched",
)


def person_spans(
    person_id: int,
    employments: Sequence[tuple[int, int, int, int, bool]],
    memberships: Sequence[tuple[int, int]],
    migrant: bool,
) -> list[tuple[int, int, int, int, int, bool, bool, bool]]:
    """The spans :func:`employment_spans_rebuild` writes for one person, from the person's employments
    ``(employment id, enterprise id, from, to, dispatched)`` and memberships ``(from, to)`` — all of them —
    with days as ordinals and an open end as :data:`OPEN`. Rows in the order of :data:`SPAN_FIELDS`, days
    still as ordinals (:data:`OPEN` for an open end).

    For persons an import creates, whose every employment and membership comes from the file, so the spans
    are computed from the rows being written instead of read back (the SQL statement, 5,000 persons a
    statement, took most of a first load's time). The rules are the statement's, line for line: empty
    employments and memberships take no part; a piece is an employment's overlap with a membership; gaps
    are the employment's days before its first piece, between pieces and after its last.
    """
    live_memberships = [(start, end) for start, end in memberships if start < end]
    spans: list[tuple[int, int, int, int, int, bool, bool, bool]] = []
    for employment_id, enterprise_id, employed_from, employed_to, dispatched in employments:
        if not employed_from < employed_to:
            continue
        pieces = sorted(
            (max(start, employed_from), min(end, employed_to))
            for start, end in live_memberships
            if start < employed_to and employed_from < end
        )
        if not pieces:
            spans.append(
                (
                    employment_id,
                    person_id,
                    enterprise_id,
                    employed_from,
                    employed_to,
                    False,
                    migrant,
                    dispatched,
                )
            )
            continue
        if employed_from < pieces[0][0]:
            spans.append(
                (
                    employment_id,
                    person_id,
                    enterprise_id,
                    employed_from,
                    pieces[0][0],
                    False,
                    migrant,
                    dispatched,
                )
            )
        for position, (piece_from, piece_to) in enumerate(pieces):
            spans.append(
                (employment_id, person_id, enterprise_id, piece_from, piece_to, True, migrant, dispatched)
            )
            following = pieces[position + 1][0] if position + 1 < len(pieces) else employed_to
            if piece_to != OPEN and piece_to < following:
                spans.append(
                    (employment_id, person_id, enterprise_id, piece_to, following, False, migrant, dispatched)
                )
    return spans
