"""Indicator counters kept as dated steps (issue 18, point 1; design in docs/counters.md).

Every counter (an indicator's numerator or denominator) of one enterprise is a step function of the day: it
can change only on the days its facts change (``ChangeDays`` declared by the apps, and 1 January of each
year). ``counters_rebuild`` evaluates the engine's own fact expressions for an enterprise on each of its change
days and keeps the runs of equal values (``EnterpriseCounts``); the employments of unionised enterprises are
counted from their spans cut to those runs; each org unit's counters are then one step function per
population (``UnitCounts``). As of d, ``counters_compute`` reads one row per unit and population instead of
re-evaluating every fact for every enterprise and every employment span.

The definitional engine (``engine.compute``) stays the reference: ``counters_check`` compares the two, the
property tests hold them equal on random histories. Populations other than enterprises and employments
(records: cases, files, honours…) are still counted by the engine, as are breakdowns.

Upkeep: built by ``safetynet indicators --rebuild-counters`` (compared with the engine by ``--check``);
database triggers note every enterprise a write touches (indicators/triggers.py) and the next answer takes
them in first (``counters_refresh``).
"""

from __future__ import annotations

import bisect
import datetime
import hashlib
import itertools
import json
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.utils import timezone

from safetynet.core.importing import chunked, copy_rows, insert_rows
from safetynet.core.metrics import EMPLOYMENT, ENTERPRISE
from safetynet.indicators import engine
from safetynet.indicators.models import (
    CounterDirty,
    CounterLayout,
    EmploymentCounts,
    EnterpriseCounts,
    UnitCounts,
)
from safetynet.indicators.registry import registry
from safetynet.orgs.models import EnterpriseLocation, active_on_q

COUNTED = (ENTERPRISE, EMPLOYMENT)
HIERARCHIES = (engine.AS_OF, engine.TODAY)
CHUNK = 5_000
COPY_BLOCK = 50_000
Vector = tuple[int, ...]


@dataclass(frozen=True)
class Layout:
    population: str
    indicators: tuple[Any, ...]
    version: str

    @property
    def keys(self) -> str:
        return " ".join(i.code for i in self.indicators)


def layout(population: str) -> Layout:
    """The population's indicators in the registry's order, and a version naming the definition they were
    counted with (indicator conditions and the eligibility threshold)."""
    indicators = tuple(i for i in registry().indicators.values() if i.population == population)
    text = repr(
        (
            [(i.code, i.numerator, i.denominator, i.numerator_sum, i.denominator_sum) for i in indicators],
            settings.ELIGIBLE_MIN_HEADCOUNT,
            # The units' counts are stored packed (engine.pack_bytes): counters built before are rebuilt.
            ("packed", engine.FIELD_BITS),
        )
    )
    return Layout(population, indicators, hashlib.sha256(text.encode()).hexdigest()[:32])


def _encode(vector: Iterable[int]) -> str:
    return " ".join(map(str, vector))


def _decode(text: str) -> list[int]:
    return list(map(int, text.split()))


# --- the enterprise population ------------------------------------------------------------------------------


class _Ids:
    """Stands for a list of ids while a statement is compiled (``_Statement``)."""


def _ids_in(marker: _Ids) -> RawSQL:
    """``IN (…)`` of a list given as one parameter (an array on PostgreSQL, JSON on SQLite): the statement's
    text is the same for any number of ids."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (marker,))
    return RawSQL("SELECT value FROM json_each(%s)", (marker,))


@dataclass(frozen=True)
class _Statement:
    """A statement compiled by the ORM once per process and definition, run with a list of enterprise ids (a
    refresh runs a dozen statements for a few enterprises: compiling them each time cost more than running
    them)."""

    sql: str
    params: tuple[Any, ...]

    def run(self, ids: list[int]) -> list[tuple]:
        value: Any = list(ids) if connection.vendor == "postgresql" else json.dumps(list(ids))
        params = [value if isinstance(p, _Ids) else p for p in self.params]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            return cursor.fetchall()


_statements: dict[tuple[str, ...], Any] = {}


def _compiled(key: tuple[str, ...], build: Any) -> Any:
    """``build()`` once per key, connection vendor and counters' definitions (their layout versions)."""
    full = (*key, connection.vendor, layout(ENTERPRISE).version, layout(EMPLOYMENT).version)
    if full not in _statements:  # None is an answer too (no template): kept, not built again
        _statements[full] = build()
    return _statements[full]


def _change_days_statement() -> tuple[_Statement, list[bool | None]]:
    """One statement for every declared change day of a list of enterprises: (branch, enterprise, day) rows,
    and for each branch whether its day is the last of a period (None: a source with no dated column)."""
    marker = _Ids()
    parts: list[str] = []
    params: list[Any] = []
    after_of: list[bool | None] = []
    for source in registry().change_days:
        rows = source.model._default_manager.order_by().filter(
            **{f"{source.enterprise}__in": _ids_in(marker)}
        )
        columns = [(c, False) for c in source.days] + [(c, True) for c in source.days_after]
        if not columns:
            sql, branch_params = rows.values_list(source.enterprise).distinct().query.sql_with_params()
            parts.append(f"SELECT {len(after_of)}, t.*, NULL FROM ({sql}) t")
            params.extend(branch_params)
            after_of.append(None)
            continue
        for column, after in columns:
            query = (
                rows.filter(**{f"{column}__isnull": False}).values_list(source.enterprise, column).distinct()
            )
            sql, branch_params = query.query.sql_with_params()
            parts.append(f"SELECT {len(after_of)}, t.* FROM ({sql}) t")
            params.extend(branch_params)
            after_of.append(after)
    return _Statement(" UNION ALL ".join(parts), tuple(params)), after_of


def enterprise_change_days(enterprise_ids: list[int] | None) -> dict[int, set[datetime.date]]:
    """Every declared change day of each enterprise (of all when ``enterprise_ids`` is None: a rebuild, which
    streams each source; a refresh's few enterprises go in one compiled statement)."""
    days: dict[int, set[datetime.date]] = defaultdict(set)
    if enterprise_ids is not None:
        statement, after_of = _compiled(("change days",), _change_days_statement)
        for chunk in chunked(enterprise_ids, CHUNK):
            for branch, enterprise_id, day in statement.run(chunk):
                bucket = days[enterprise_id]
                day = _as_date(day)
                if day is not None:
                    bucket.add(day + datetime.timedelta(days=1) if after_of[branch] else day)
        return days
    for source in registry().change_days:
        rows = source.model._default_manager.order_by()
        columns = [(c, False) for c in source.days] + [(c, True) for c in source.days_after]
        if not columns:
            # A source with no dated column still names its enterprises (their facts change by year).
            for enterprise_id in rows.values_list(source.enterprise, flat=True).distinct():
                days[enterprise_id]
            continue
        for column, after in columns:
            pairs = (
                rows.filter(**{f"{column}__isnull": False}).values_list(source.enterprise, column).distinct()
            )
            for enterprise_id, day in pairs.iterator(chunk_size=20_000):
                if enterprise_id is not None:
                    days[enterprise_id].add(day + datetime.timedelta(days=1) if after else day)
    return days


def _year_starts(
    days: dict[int, set[datetime.date]], final_year: int | None = None
) -> tuple[list[datetime.date], datetime.date]:
    """1 January of every year from the earliest change day's to the year after today (or after the latest
    change day, or ``final_year`` if later), and the last day they make exact (the horizon)."""
    today = timezone.localdate()
    first = min((min(d) for d in days.values() if d), default=today)
    last = max((max(d) for d in days.values() if d), default=today)
    final_year = max(today.year + 1, last.year + 1, final_year or 0)
    starts = [datetime.date(year, 1, 1) for year in range(first.year, final_year + 1)]
    return starts, datetime.date(final_year, 12, 31)


def _population_rows(day: datetime.date, indicators: tuple[Any, ...]) -> tuple[Any, list[str]]:
    """E(·,day) with the columns the counters need: enterprise, unit as stood (by its location that day), unit
    today, and every fact the indicators name (``covered`` always)."""
    reg = registry()
    population = reg.populations[ENTERPRISE]
    facts = engine._facts(reg, population, list(indicators), day)
    facts.setdefault("covered", reg.facts[ENTERPRISE]["covered"].build(day, "pk"))
    columns = engine._fact_columns(facts)
    location = EnterpriseLocation.objects.filter(enterprise_id=OuterRef("pk")).filter(active_on_q(day))
    queryset = population.build(day, engine.TODAY, None).annotate(
        counted_enterprise=F("pk"),
        counted_location=Subquery(location.values("org_unit_id")[:1]),
        **columns,
    )
    return queryset, list(columns)


def _outer_columns(indicators: tuple[Any, ...], alias: str) -> str:
    q = connection.ops.quote_name
    values = engine._conditional_values(list(indicators), alias)
    keys = ", ".join(
        f"{alias}.{q(c)}"
        for c in ("counted_enterprise", "counted_location", "indicator_unit", "fact_covered")
    )
    return keys + ", " + ", ".join(f"{expression} AS {name}" for expression, name in values)


def _result(row: tuple) -> tuple[int, int | None, int, bool, Vector]:
    enterprise_id, unit_id, today_unit_id, covered, *values = row
    return enterprise_id, unit_id, today_unit_id, bool(covered), tuple(int(v or 0) for v in values)


def _evaluate_day(
    day: datetime.date, enterprise_ids: list[int] | None, indicators: tuple[Any, ...]
) -> Iterator[tuple[int, int | None, int, bool, Vector]]:
    """(enterprise, unit as stood, unit today, covered, counts) of every enterprise of E(·,day) among the ids
    (all when None): the engine's own population and fact expressions, for that one day."""
    chunks = [None] if enterprise_ids is None else list(chunked(enterprise_ids, CHUNK))
    for chunk in chunks:
        queryset, columns = _population_rows(day, indicators)
        if chunk is not None:
            queryset = queryset.filter(pk__in=chunk)
        inner = queryset.values("counted_enterprise", "indicator_unit", "counted_location", *columns)
        inner_sql, params = inner.query.sql_with_params()
        sql = f"SELECT {_outer_columns(indicators, 't')} FROM ({inner_sql}{engine._subquery_fence()}) t"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for row in cursor.fetchall():
                yield _result(row)


# Two days no fact compares with: compiling the population for each shows which parameters are the day (or
# its year, its 1 January, the day after), so one statement can evaluate many (enterprise, day) pairs.
_PROBES = (datetime.date(1901, 2, 3), datetime.date(1902, 3, 4))
_PROBE_IDS = (-1901, -1902)
_PLACEHOLDER = re.compile(r"%%|%s")


def _day_template(indicators: tuple[Any, ...]) -> tuple[str, list[Any]] | None:
    """The population's SQL for one (enterprise, day) pair whose day and enterprise are the columns ``p.day``
    and ``p.enterprise_id`` (PostgreSQL). None when a parameter depends on the day in another way."""
    compiled = []
    for day, enterprise_id in zip(_PROBES, _PROBE_IDS, strict=True):
        queryset, columns = _population_rows(day, indicators)
        inner = queryset.filter(pk=enterprise_id).values(
            "counted_enterprise", "indicator_unit", "counted_location", *columns
        )
        compiled.append(inner.query.sql_with_params())
    (sql, first), (other_sql, second) = compiled
    if sql != other_sql or len(first) != len(second):
        return None
    known = {
        _PROBES: "p.day",
        tuple(d + datetime.timedelta(days=1) for d in _PROBES): "(p.day + 1)",
        tuple(datetime.date(d.year, 1, 1) for d in _PROBES): "date_trunc('year', p.day)::date",
        tuple(d.year for d in _PROBES): "EXTRACT(YEAR FROM p.day)::int",
        _PROBE_IDS: "p.enterprise_id",
    }
    parts = _PLACEHOLDER.split(sql)
    markers = _PLACEHOLDER.findall(sql)
    params: list[Any] = []
    out = [parts[0]]
    values = iter(zip(first, second, strict=True))
    for marker, part in zip(markers, parts[1:], strict=True):
        if marker == "%%":
            out.append("%%")
        else:
            a, b = next(values)
            if a == b:
                out.append("%s")
                params.append(a)
            elif (a, b) in known:
                out.append(known[(a, b)])
            else:
                return None
        out.append(part)
    return "".join(out), params


PAIRS_PER_STATEMENT = 50_000


def _evaluate_pairs(
    pairs: list[tuple[int, datetime.date]], indicators: tuple[Any, ...], template: tuple[str, list[Any]]
) -> Iterator[tuple[datetime.date, tuple[int, int | None, int, bool, Vector]]]:
    """Every (enterprise, day) pair evaluated in one statement per ``PAIRS_PER_STATEMENT`` (PostgreSQL): the
    population for one enterprise and one day, joined laterally to the pairs."""
    sql, params = template
    statement = (
        f"SELECT p.day, {_outer_columns(indicators, 't')} "
        f"FROM unnest(%s::bigint[], %s::date[]) AS p(enterprise_id, day) "
        f"CROSS JOIN LATERAL ({sql} OFFSET 0) t"
    )
    for start in range(0, len(pairs), PAIRS_PER_STATEMENT):
        chunk = pairs[start : start + PAIRS_PER_STATEMENT]
        with connection.cursor() as cursor:
            cursor.execute(statement, [[e for e, _ in chunk], [d for _, d in chunk], *params])
            for day, *row in cursor.fetchall():
                yield day, _result(tuple(row))


def enterprise_runs(
    enterprise_ids: list[int] | None, indicators: tuple[Any, ...], final_year: int | None = None
) -> tuple[Iterator[tuple], datetime.date]:
    """The runs of equal counts of the enterprises (all when None), streamed, and the horizon they are exact
    up to. The days are evaluated in order and only each enterprise's open run is held."""
    change_days = enterprise_change_days(enterprise_ids)
    year_starts, horizon = _year_starts(change_days, final_year)
    everyone = list(change_days) if enterprise_ids is None else list(enterprise_ids)
    by_day: dict[datetime.date, list[int]] = defaultdict(list)
    for enterprise_id, days in change_days.items():
        for day in days:
            by_day[day].append(enterprise_id)
    starts = set(year_starts)

    def evaluations() -> Iterator[tuple[datetime.date, list[int], Iterable[tuple]]]:
        """(day, enterprises evaluated, results) in the order of the days. On PostgreSQL the days' pairs go many
        days to a statement; 1 January of a whole rebuild is one statement over all enterprises (for a few
        enterprises it is pairs like any other day: a refresh is then one statement, not one per year)."""
        template = None
        if connection.vendor == "postgresql":
            template = _compiled(
                ("day template", *(i.code for i in indicators)), partial(_day_template, indicators)
            )
        pending: list[datetime.date] = []
        if template is not None and enterprise_ids is not None:
            for day in starts:
                by_day[day] = everyone
            year_starts_alone: set[datetime.date] = set()
        else:
            year_starts_alone = starts

        def flush() -> Iterator[tuple[datetime.date, list[int], Iterable[tuple]]]:
            if not pending:
                return
            pairs = [(e, d) for d in pending for e in by_day[d]]
            found: dict[datetime.date, list[tuple]] = defaultdict(list)
            for day, result in _evaluate_pairs(pairs, indicators, template):
                found[day].append(result)
            for day in pending:
                yield day, by_day[day], found.get(day, [])
            pending.clear()

        size = 0
        for day in sorted(set(by_day) | starts):
            if day in year_starts_alone:
                yield from flush()
                size = 0
                whole = enterprise_ids is None
                yield day, everyone, _evaluate_day(day, None if whole else everyone, indicators)
            elif template is None:
                yield day, by_day[day], _evaluate_day(day, by_day[day], indicators)
            else:
                pending.append(day)
                size += len(by_day[day])
                if size >= PAIRS_PER_STATEMENT:
                    yield from flush()
                    size = 0
        yield from flush()

    def runs() -> Iterator[tuple]:
        open_runs: dict[int, tuple[datetime.date, tuple]] = {}
        shared: dict[tuple, tuple] = {}  # equal counts share one tuple (memory)
        for day, evaluated, results in evaluations():
            seen: dict[int, tuple] = {}
            for enterprise_id, unit_id, today_unit_id, covered, counts in results:
                counts = shared.setdefault(counts, counts)
                seen[enterprise_id] = (unit_id, today_unit_id, covered, counts)
            for enterprise_id in evaluated:
                value = seen.get(enterprise_id)
                current = open_runs.get(enterprise_id)
                if current is not None and current[1] == value:
                    continue
                if current is not None:
                    yield _run(enterprise_id, current[0], day, current[1])
                    del open_runs[enterprise_id]
                if value is not None:
                    open_runs[enterprise_id] = (day, value)
        for enterprise_id, (start, value) in open_runs.items():
            yield _run(enterprise_id, start, None, value)

    return runs(), horizon


ENTERPRISE_FIELDS = (
    "enterprise_id",
    "valid_from",
    "valid_to",
    "unit_id",
    "today_unit_id",
    "unionised",
    "counts",
)
UNIT_FIELDS = ("hierarchy", "population", "unit_id", "valid_from", "valid_to", "counts")


def _run(enterprise_id: int, start: datetime.date, end: datetime.date | None, value: tuple) -> tuple:
    """A row of ``EnterpriseCounts`` (``ENTERPRISE_FIELDS``)."""
    unit_id, today_unit_id, covered, counts = value
    return (enterprise_id, start, end, unit_id, today_unit_id, covered, _encode(counts))


# --- unit step functions ------------------------------------------------------------------------------------


def _steps(
    events: dict[datetime.date, list[int]], width: int
) -> Iterator[tuple[datetime.date, datetime.date | None, Vector]]:
    """A step function from its changes: (from, to, value) runs, leaving out runs of all zeros."""
    running = [0] * width
    days = sorted(events)
    for index, day in enumerate(days):
        for i, delta in enumerate(events[day]):
            running[i] += delta
        end = days[index + 1] if index + 1 < len(days) else None
        if any(running):
            yield day, end, tuple(running)


def _add(
    events: dict[datetime.date, list[int]], day: datetime.date, vector: Iterable[int], sign: int, width: int
) -> None:
    bucket = events.get(day)
    if bucket is None:
        bucket = events[day] = [0] * width
    for i, value in enumerate(vector):
        if value:
            bucket[i] += sign * value


def _keyed_steps(
    rows: Iterable[tuple[Any, datetime.date, list[int]]], width: int
) -> Iterator[tuple[Any, datetime.date, datetime.date | None, Vector]]:
    """Rows (key, day, change) ordered by key become each key's runs (key, from, to, value): one key's changes
    in memory at a time."""
    key, events = None, {}
    # Chained, not listed: a rebuild streams millions of rows through here.
    for row_key, day, change in itertools.chain(rows, [(None, None, None)]):
        if row_key != key:
            if key is not None:
                for start, end, vector in _steps(events, width):
                    yield key, start, end, vector
            key, events = row_key, {}
        if row_key is not None:
            _add(events, day, change, 1, width)


def _next_month(day: datetime.date) -> datetime.date:
    return datetime.date(day.year + 1, 1, 1) if day.month == 12 else datetime.date(day.year, day.month + 1, 1)


def _month_pieces(
    start: datetime.date, end: datetime.date | None, limit: datetime.date
) -> Iterator[tuple[datetime.date, datetime.date | None]]:
    """[start, end) cut at the first day of every month it spans, so that a day's runs are found among those
    starting in its own month (``unit_counts_on``). An open run is cut through ``limit``'s month, its last piece
    left open (the open runs are read on their own)."""
    last = end - datetime.timedelta(days=1) if end is not None else limit
    piece = start
    while (following := _next_month(piece)) <= last:
        yield piece, following
        piece = following
    yield piece, end


def _cut_limit() -> datetime.date:
    """The month through which open unit runs are cut: today's (a later correction rewrites only the open
    piece, not the months since the run began)."""
    return timezone.localdate().replace(day=1)


def _unit_rows(
    population: str, hierarchy: str, rows: Iterable[tuple[int, datetime.date, list[int]]], width: int
) -> Iterator[tuple]:
    """Rows (unit, day, change) ordered by unit become each unit's runs (``UNIT_FIELDS``), cut by month."""
    limit = _cut_limit()
    for unit_id, start, end, vector in _keyed_steps(rows, width):
        packed = engine.pack_bytes(vector)
        for piece_from, piece_to in _month_pieces(start, end, limit):
            yield (hierarchy, population, unit_id, piece_from, piece_to, packed)


def _run_changes(
    model: Any, unit_column: str, units: list[int] | None = None, enterprises: list[int] | None = None
) -> Iterator[tuple[int, datetime.date, list[int]]]:
    """The runs of ``model`` (``EnterpriseCounts`` or ``EmploymentCounts``) as (unit, day, change) ordered by
    unit: +counts where a run starts, − where it ends (of the ``units``, or of the ``enterprises``, when
    given)."""
    rows = model.objects.filter(**{f"{unit_column}__isnull": False})
    if units is not None:
        rows = rows.filter(**{f"{unit_column}__in": units})
    if enterprises is not None:
        rows = rows.filter(enterprise_id__in=enterprises)
    rows = rows.order_by(unit_column).values_list(unit_column, "valid_from", "valid_to", "counts")
    for unit_id, start, end, counts in rows.iterator(chunk_size=20_000):
        vector = _decode(counts)
        yield unit_id, start, vector
        if end is not None:
            yield unit_id, end, [-v for v in vector]


def _employment_runs(indicators: tuple[Any, ...], enterprises: list[int] | None = None) -> Iterator[tuple]:
    """Rows of ``EmploymentCounts`` (``EMPLOYMENT_FIELDS``) of the enterprises (all when None): every span of a
    unionised enterprise cut to the runs in which it was unionised, counted where it starts and uncounted where
    it ends, summed per enterprise, run's units and day in one statement (streamed), then each enterprise's
    step function per pair of units."""
    reg = registry()
    population = reg.populations[EMPLOYMENT]
    facts = engine._facts(reg, population, list(indicators), timezone.localdate())
    columns = engine._fact_columns(facts)
    start_field, end_field = population.interval
    inner = (
        population.per_enterprise_between(datetime.date.min, datetime.date.max)
        .model._default_manager.order_by()
        .annotate(**columns)
        .values(population.enterprise_ref, start_field, end_field, *columns)
    )
    inner_sql, params = inner.query.sql_with_params()
    q = connection.ops.quote_name
    runs = q(EnterpriseCounts._meta.db_table)
    unit_filter = ""
    if enterprises is not None:
        unit_filter = f"AND c.enterprise_id IN ({', '.join(['%s'] * len(enterprises))})"
        params = (*params, *enterprises)
    cut = f"""
        SELECT {", ".join(f"s.{q(c)}" for c in columns)}, c.enterprise_id AS enterprise_key,
               c.unit_id AS unit_key, c.today_unit_id AS today_key,
               CASE WHEN s.{q(start_field)} > c.valid_from THEN s.{q(start_field)} ELSE c.valid_from END AS a,
               CASE WHEN s.{q(end_field)} IS NULL THEN c.valid_to
                    WHEN c.valid_to IS NULL THEN s.{q(end_field)}
                    WHEN s.{q(end_field)} < c.valid_to THEN s.{q(end_field)}
                    ELSE c.valid_to END AS b
        FROM ({inner_sql}) s
        JOIN {runs} c ON c.enterprise_id = s.{q(population.enterprise_ref)}
        WHERE c.unionised {unit_filter}
          AND (c.valid_to IS NULL OR s.{q(start_field)} < c.valid_to)
          AND (s.{q(end_field)} IS NULL OR s.{q(end_field)} > c.valid_from)
    """
    values = engine._conditional_values(list(indicators), "x")
    plus = ", ".join(f"{expression} AS {name}" for expression, name in values)
    minus = ", ".join(f"-({expression}) AS {name}" for expression, name in values)
    totals = ", ".join(f"SUM(y.{name})" for _, name in values)
    sql = f"""
        WITH x AS ({cut})
        SELECT y.enterprise_key, y.unit_key, y.today_key, y.day, {totals} FROM (
            SELECT x.enterprise_key, x.unit_key, x.today_key, x.a AS day, {plus} FROM x
            UNION ALL
            SELECT x.enterprise_key, x.unit_key, x.today_key, x.b AS day, {minus} FROM x WHERE x.b IS NOT NULL
        ) y GROUP BY y.enterprise_key, y.unit_key, y.today_key, y.day
        ORDER BY y.enterprise_key, y.unit_key, y.today_key, y.day
    """
    width = 2 * len(indicators)

    def changes() -> Iterator[tuple[tuple[int, int | None, int], datetime.date, list[int]]]:
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(20_000):
                for enterprise_id, unit_id, today_unit_id, day, *change in batch:
                    if isinstance(day, str):
                        day = datetime.date.fromisoformat(day)
                    yield (enterprise_id, unit_id, today_unit_id), day, [int(v or 0) for v in change]

    for (enterprise_id, unit_id, today_unit_id), start, end, vector in _keyed_steps(changes(), width):
        yield (enterprise_id, start, end, unit_id, today_unit_id, _encode(vector))


# --- rebuild, read, check -----------------------------------------------------------------------------------


@dataclass
class RebuildResult:
    enterprise_runs: int
    unit_rows: int
    horizon: datetime.date


def counters_rebuild() -> RebuildResult:
    """Every counter from scratch, set-based (the first load, and after a definition changed)."""
    enterprise_layout, employment_layout = layout(ENTERPRISE), layout(EMPLOYMENT)
    with transaction.atomic():
        CounterDirty.objects.all().delete()
        EnterpriseCounts.objects.all().delete()
        EmploymentCounts.objects.all().delete()
        UnitCounts.objects.all().delete()
        CounterLayout.objects.all().delete()
        runs, horizon = enterprise_runs(None, enterprise_layout.indicators)
        enterprise_rows = _write(EnterpriseCounts, runs)
        _write(EmploymentCounts, _employment_runs(employment_layout.indicators))
        unit_rows = _write_units({hierarchy: None for hierarchy in HIERARCHIES})
        now = timezone.now()
        CounterLayout.objects.bulk_create(
            CounterLayout(
                population=lay.population, keys=lay.keys, version=lay.version, horizon=horizon, built_at=now
            )
            for lay in (enterprise_layout, employment_layout)
        )
    if connection.vendor == "postgresql":
        # Planner statistics for the tables just filled (a first build: the planner has never seen them).
        with connection.cursor() as cursor:
            for model in (EnterpriseCounts, EmploymentCounts, UnitCounts):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return RebuildResult(enterprise_rows, unit_rows, horizon)


UNIT_COLUMN = {engine.AS_OF: "unit_id", engine.TODAY: "today_unit_id"}


def _write_units(units: dict[str, list[int] | None]) -> int:
    """Every population's step functions of the units (all when None), per hierarchy, from the runs."""
    enterprise_layout, employment_layout = layout(ENTERPRISE), layout(EMPLOYMENT)
    written = 0
    for hierarchy, chosen in units.items():
        column = UNIT_COLUMN[hierarchy]
        if chosen is not None and not chosen:
            continue
        written += _write(
            UnitCounts,
            _unit_rows(
                ENTERPRISE,
                hierarchy,
                _run_changes(EnterpriseCounts, column, chosen),
                2 * len(enterprise_layout.indicators),
            ),
        )
        written += _write(
            UnitCounts,
            _unit_rows(
                EMPLOYMENT,
                hierarchy,
                _run_changes(EmploymentCounts, column, chosen),
                2 * len(employment_layout.indicators),
            ),
        )
    return written


# A refresh on a reader's request handles at most this many noted enterprises; past it (a big import) the
# engine answers until ``safetynet sweep`` has brought the counters up to date.
REFRESH_LIMIT = 2_000


# After a refresh was refused for too many noted enterprises, this process's writes and answers do not ask again
# for this many seconds (the engine answers meanwhile; the sweep takes the backlog in).
BACKLOG_PAUSE = 60.0
_backlog_until = 0.0


def _in_backlog() -> bool:
    return time.monotonic() < _backlog_until


def _refresh_or_pause() -> int | None:
    """``counters_refresh`` for a request (a write's or an answer's); when it is refused, this process does not
    ask again for ``BACKLOG_PAUSE`` seconds."""
    global _backlog_until
    taken = counters_refresh(limit=REFRESH_LIMIT)
    _backlog_until = time.monotonic() + BACKLOG_PAUSE if taken is None else 0.0
    return taken


def _too_many_noted(limit: int) -> bool:
    """Whether more than ``limit`` enterprises are noted: rows first (cheap), distinct ids only past that."""
    if not CounterDirty.objects.all()[limit : limit + 1].exists():
        return False
    return CounterDirty.objects.values("enterprise_id").distinct()[limit : limit + 1].exists()


def counters_refresh(*, limit: int | None = REFRESH_LIMIT) -> int | None:
    """Bring the counters of the enterprises noted by the triggers up to date: their runs evaluated again, and
    the step functions of every unit they counted in, before or now. Returns how many enterprises; None when
    more than ``limit`` are noted (nothing done)."""
    if not CounterDirty.objects.exists():
        return 0
    if limit is not None and _too_many_noted(limit):
        # Too many for a request (a big import waiting for the sweep): decided without taking the lock, so
        # that every write and answer meanwhile does not queue behind it.
        return None
    with transaction.atomic():
        # One refresher at a time; the others wait here and then find nothing left to do.
        built = list(CounterLayout.objects.select_for_update().order_by("population"))
        noted = CounterDirty.objects.values_list("enterprise_id", flat=True).distinct()
        ids = sorted(noted[: limit + 1] if limit is not None else noted)
        if not built or not ids:
            return 0
        if limit is not None and len(ids) > limit:
            return None
        for chunk in chunked(ids, CHUNK):
            CounterDirty.objects.filter(enterprise_id__in=chunk).delete()
        # The units' steps change by what these enterprises count now minus what they counted: their stored runs
        # are taken away, evaluated again from the facts, and added back.
        changes: Changes = {}
        for chunk in chunked(ids, CHUNK):
            _contribution(chunk, -1, changes)
            EnterpriseCounts.objects.filter(enterprise_id__in=chunk).delete()
            EmploymentCounts.objects.filter(enterprise_id__in=chunk).delete()
        final_year = max(row.horizon.year for row in built)
        runs, horizon = enterprise_runs(ids, layout(ENTERPRISE).indicators, final_year)
        _write(EnterpriseCounts, runs)
        for chunk in chunked(ids, CHUNK):
            _write(EmploymentCounts, _employment_runs(layout(EMPLOYMENT).indicators, chunk))
            _contribution(chunk, 1, changes)
        _apply(changes)
        CounterLayout.objects.filter(horizon__lt=horizon).update(horizon=horizon)
    return len(ids)


def counters_refresh_after_write() -> None:
    """The writer's share (an after-write hook, ``core.writes``): what its committed write noted is taken in
    before the writer's request returns (an import's, by the background task it enqueued), so the next reader
    finds the counters up to date. Past ``REFRESH_LIMIT`` enterprises (a big import) the sweep takes them in."""
    # Not while the counters are not built (a first load, the demo: the rebuild takes everything in) or while a
    # backlog waits for the sweep: a write then pays one small query, not a look through the noted ids.
    if settings.INDICATOR_COUNTERS and not _in_backlog() and CounterLayout.objects.exists():
        _refresh_or_pause()


# (hierarchy, population, unit) → {day: change of the unit's counters from that day on}. A change is held packed
# like the counts (``engine.pack``) with fields that may be negative: packing is linear, so adding packed changes
# to packed counts is adding the vectors — one integer addition per day instead of one per counter.
Changes = dict[tuple[str, str, int], dict[datetime.date, int]]


def _runs_statement(model: Any) -> _Statement:
    marker = _Ids()
    rows = model.objects.filter(enterprise_id__in=_ids_in(marker)).values_list(
        "unit_id", "today_unit_id", "valid_from", "valid_to", "counts"
    )
    sql, params = rows.query.sql_with_params()
    return _Statement(sql, tuple(params))


def _as_date(value: Any) -> datetime.date | None:
    """A day read by a plain cursor (SQLite gives text)."""
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def _contribution(enterprises: list[int], sign: int, changes: Changes) -> None:
    """Add what the enterprises' stored runs count in their units' steps to ``changes``, times ``sign``: one
    statement per population, both hierarchies from the same rows."""
    for population, model in ((ENTERPRISE, EnterpriseCounts), (EMPLOYMENT, EmploymentCounts)):
        statement = _compiled(("runs", model._meta.label), partial(_runs_statement, model))
        for unit_id, today_unit_id, start, end, counts in statement.run(enterprises):
            packed = sign * engine.pack(_decode(counts))
            start, end = _as_date(start), _as_date(end)
            for hierarchy, unit in ((engine.AS_OF, unit_id), (engine.TODAY, today_unit_id)):
                if unit is None:
                    continue
                events = changes.setdefault((hierarchy, population, unit), {})
                events[start] = events.get(start, 0) + packed
                if end is not None:
                    events[end] = events.get(end, 0) - packed


def _regions(events: dict[datetime.date, int]) -> list[tuple[datetime.date, datetime.date | None]]:
    """The periods [from, to) on which the changes add up to something (outside them they cancel out)."""
    regions: list[tuple[datetime.date, datetime.date | None]] = []
    running, opened = 0, None
    for day in sorted(events):
        running += events[day]
        if running and opened is None:
            opened = day
        elif not running and opened is not None:
            regions.append((opened, day))
            opened = None
    if opened is not None:
        regions.append((opened, None))
    return regions


def _touches(
    regions: list[tuple[datetime.date, datetime.date | None]], starts: list[datetime.date], row: tuple
) -> bool:
    """Whether the stored run ``row`` (pk, from, to, counts) overlaps one of the (disjoint, ordered) regions."""
    _pk, start, end, _counts = row
    index = bisect.bisect_right(starts, start) - 1
    if index >= 0 and (regions[index][1] is None or regions[index][1] > start):
        return True
    return index + 1 < len(regions) and (end is None or regions[index + 1][0] < end)


def _apply(changes: Changes) -> None:
    """Each unit's steps with its changes applied. Only its stored runs that overlap a period where the changes
    add up to something are read back and written again (a founding date moved by a year rewrites that year,
    not every later day). One read, one delete and one write for all the units."""
    pending = {key: regions for key, events in changes.items() if (regions := _regions(events))}
    if not pending:
        return
    earliest = min(regions[0][0] for regions in pending.values())
    stored: dict[tuple[str, str, int], list[tuple]] = defaultdict(list)
    for chunk in chunked(sorted({unit for _, _, unit in pending}), CHUNK):
        rows = (
            UnitCounts.objects.filter(unit_id__in=chunk)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=earliest))
            .values_list("pk", "hierarchy", "population", "unit_id", "valid_from", "valid_to", "counts")
        )
        for pk, hierarchy, population, unit_id, start, end, counts in rows:
            key = (hierarchy, population, unit_id)
            if key in pending:
                stored[key].append((pk, start, end, counts))
    gone: list[int] = []
    limit = _cut_limit()
    new: list[tuple] = []
    for key, regions in pending.items():
        hierarchy, population, unit_id = key
        size = 2 * len(layout(population).indicators) * engine.FIELD_BYTES
        events = changes[key]
        starts = [start for start, _ in regions]
        for row in stored[key]:
            if not _touches(regions, starts, row):
                continue
            pk, start, end, counts = row
            gone.append(pk)
            value = int.from_bytes(counts, "little")
            events[start] = events.get(start, 0) + value
            if end is not None:
                events[end] = events.get(end, 0) - value
        high = _high_bits(size)
        running = 0
        days = sorted(events)
        for index, day in enumerate(days):
            running += events[day]
            if not running:
                continue
            # A count below zero would mean the stored steps and runs disagreed: it shows as a field past 2^47
            # (a borrow from the next field) or a negative whole, and the refresh is rolled back, not stored.
            if running < 0 or running & high:
                raise OverflowError(
                    f"counters of unit {unit_id} ({hierarchy}, {population}) below zero on {day}"
                )
            end = days[index + 1] if index + 1 < len(days) else None
            packed = running.to_bytes(size, "little")
            for piece_from, piece_to in _month_pieces(day, end, limit):
                new.append((hierarchy, population, unit_id, piece_from, piece_to, packed))
    _delete(UnitCounts, gone)
    _write(UnitCounts, new)


def _high_bits(size: int) -> int:
    """The top bit of every field of a packed value of ``size`` bytes (counts stay far below 2^47)."""
    return sum(
        1 << (engine.FIELD_BITS * k + engine.FIELD_BITS - 1) for k in range(size // engine.FIELD_BYTES)
    )


def _delete(model: Any, pks: list[int]) -> None:
    """Delete rows by id: one statement with the ids as an array on PostgreSQL."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)} WHERE id = ANY(%s)", [pks]
            )
        return
    for chunk in chunked(pks, CHUNK):
        model.objects.filter(pk__in=chunk).delete()


EMPLOYMENT_FIELDS = ("enterprise_id", "valid_from", "valid_to", "unit_id", "today_unit_id", "counts")
FIELDS = {EnterpriseCounts: ENTERPRISE_FIELDS, EmploymentCounts: EMPLOYMENT_FIELDS, UnitCounts: UNIT_FIELDS}


def _write(model: Any, rows: Iterable[tuple]) -> int:
    """Plain rows of ``model`` (its ``*_FIELDS``), streamed: COPY in its binary format on PostgreSQL,
    ``executemany`` in batches elsewhere."""
    fields = FIELDS[model]
    written = 0
    if connection.vendor == "postgresql":
        # One COPY per block: the rows come from statements on this same connection, which cannot run while
        # a COPY is open on it.
        block: list[tuple] = []
        for row in rows:
            block.append(row)
            if len(block) >= COPY_BLOCK:
                written += copy_rows(model, fields, block)
                block = []
        return written + (copy_rows(model, fields, block) if block else 0)
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            insert_rows(model, list(fields), batch)
            written += len(batch)
            batch = []
    insert_rows(model, list(fields), batch)
    return written + len(batch)


# --- the record populations (cases, hardship files, honours…), still counted by the engine's statements --------


def _day_forms(day: datetime.date, sample: Any) -> list[Any]:
    """What a parameter derived from ``day`` can be, of the sample's type: the day, the day after or its
    1 January (as a date, the start of that day in the sample's time zone, or SQLite's text of either), or its
    year."""
    starts = (day, day + datetime.timedelta(days=1), datetime.date(day.year, 1, 1))
    if isinstance(sample, datetime.datetime):
        return [datetime.datetime.combine(d, datetime.time.min, tzinfo=sample.tzinfo) for d in starts]
    if isinstance(sample, datetime.date):
        return list(starts)
    if isinstance(sample, int) and not isinstance(sample, bool):
        return [type(sample)(day.year)]
    if isinstance(sample, str):
        zone = timezone.get_default_timezone()
        moments = [
            str(datetime.datetime.combine(d, datetime.time.min, tzinfo=zone).astimezone(datetime.UTC))[:19]
            for d in starts
        ]
        return [d.isoformat() for d in starts] + moments
    return []


@dataclass(frozen=True)
class _DayParameter:
    """A parameter made from the day asked: the ``index``-th of ``_day_forms`` (``sample`` gives its type)."""

    index: int
    sample: Any

    def __call__(self, day: datetime.date) -> Any:
        return _day_forms(day, self.sample)[self.index]


@dataclass(frozen=True)
class _Constant:
    value: Any

    def __call__(self, day: datetime.date) -> Any:
        return self.value


def _record_template(
    population: Any, indicators: tuple[Any, ...], hierarchy: str
) -> tuple[str, list[Any]] | None:
    """A record population's grouped statement (``engine.grouped_counts_sql``) compiled for two probe days: the
    same text, each parameter either the same or the same form of its day (``_day_forms``). Then any day's
    statement is that text with its parameters made from the day, without building the querysets again (~11 ms
    of Python a day on the city, 13 times in a trend). None when a parameter depends on the day otherwise."""
    reg = registry()
    compiled = []
    for probe in _PROBES:
        facts = engine._facts(reg, population, list(indicators), probe)
        queryset = population.build(probe, hierarchy, None)
        group = engine._group_expression(None, population.enterprise_prefix)
        compiled.append(engine.grouped_counts_sql(queryset, facts, list(indicators), group))
    (sql, first), (other_sql, second) = compiled
    if sql != other_sql or len(first) != len(second):
        return None
    makers: list[Any] = []
    for a, b in zip(first, second, strict=True):
        if type(a) is type(b) and a == b:
            makers.append(_Constant(a))
            continue
        forms = zip(_day_forms(_PROBES[0], a), _day_forms(_PROBES[1], a), strict=True)
        index = next(
            (i for i, (x, y) in enumerate(forms) if x == a and y == b and type(x) is type(a)),
            None,
        )
        if index is None:
            return None
        makers.append(_DayParameter(index, a))
    return sql, makers


def record_statement(
    population: Any, indicators: list[Any], hierarchy: str, day: datetime.date
) -> tuple[str, list[Any]] | None:
    """The statement and parameters of a record population's counts on ``day`` from the compiled template, or
    None when it has none (the engine builds it then)."""
    template = _compiled(
        ("records", population.name, hierarchy, *(i.code for i in indicators)),
        partial(_record_template, population, tuple(indicators), hierarchy),
    )
    if template is None:
        return None
    sql, makers = template
    return sql, [make(day) for make in makers]


def counters_ready(day: datetime.date) -> bool:
    """Whether the counters were built with the code's definitions and are exact on ``day``."""
    built = {row.population: row for row in CounterLayout.objects.all()}
    for population in COUNTED:
        row = built.get(population)
        if row is None or row.version != layout(population).version or day > row.horizon:
            return False
    return True


def unit_counts_on(day: datetime.date, hierarchy: str) -> Iterator[tuple[str, int, int]]:
    """(population, unit, packed counts: ``engine.pack``) of every unit with counts on ``day``: one row per unit
    and population."""
    if hierarchy not in HIERARCHIES:
        raise LookupError(f"未知层级“{hierarchy}”；可用：{'、'.join(HIERARCHIES)}")
    table = connection.ops.quote_name(UnitCounts._meta.db_table)
    # Closed runs never span a month's first day (``_month_pieces``): a day's are among those starting between
    # the first of its month and the day, a short walk of the (hierarchy, valid_from, valid_to) index, which also
    # checks "not ended by the day" without reading the table. Open runs (one per unit and population at most)
    # have their own small index. The hierarchy is written into the statement so that both databases match it to
    # the partial indexes (migration 0010).
    sql = (
        f"SELECT population, unit_id, counts FROM {table} WHERE hierarchy = '{hierarchy}' "
        "AND valid_to IS NOT NULL AND valid_from >= %s AND valid_from <= %s AND valid_to > %s "
        f"UNION ALL SELECT population, unit_id, counts FROM {table} WHERE hierarchy = '{hierarchy}' "
        "AND valid_to IS NULL AND valid_from <= %s"
    )
    adapt = connection.ops.adapt_datefield_value
    params = [adapt(day.replace(day=1)), adapt(day), adapt(day), adapt(day)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for population, unit_id, counts in cursor.fetchall():
            yield population, unit_id, int.from_bytes(counts, "little")


def counters_compute(
    *,
    day: datetime.date,
    unit_code: str | None = None,
    indicator_codes: Iterable[str] | None = None,
    hierarchy: str = engine.AS_OF,
    units: list[engine.UnitNode] | None = None,
) -> engine.IndicatorTable:
    """``engine.compute_table`` answered from the counters for the enterprise and employment populations (the
    other populations from the engine). The caller checks ``counters_ready(day)`` first. ``units``: the
    hierarchy's units on ``day`` when the caller has them (``engine.hierarchy_nodes``)."""
    reg, wanted = engine._checked(indicator_codes, None)
    nodes = engine.subtree(engine.hierarchy_nodes(day, hierarchy) if units is None else units, unit_code)
    wanted_set = set(wanted)
    # Every population's own counts per unit, then one vector per unit (all populations side by side) rolled
    # up once: one addition per unit instead of one per unit and population.
    parts: list[tuple[list[str], dict[int, int]]] = []
    own: dict[str, dict[int, int]] = {population: {} for population in COUNTED}
    for population, unit_id, counts in unit_counts_on(day, hierarchy):
        own[population][unit_id] = counts
    for population in COUNTED:
        codes = [indicator.code for indicator in layout(population).indicators]
        if wanted_set.intersection(codes):
            parts.append((codes, own[population]))
    others = [code for code in wanted if reg.indicators[code].population not in COUNTED]
    if others:
        state = engine._DayState(day, nodes, {n.unit_id: n for n in nodes}, nodes[0].parent_id is None)
        for population, indicators in engine._populations(reg, others):
            if indicators and population.name not in COUNTED:
                # A population with rows per enterprise (``per_enterprise``) is among the counted ones.
                assert population.per_enterprise is None, population.name
                # The whole city's rows even for a subtree: ``roll_up`` leaves out units outside it.
                statement = record_statement(population, indicators, hierarchy, day)
                counted = (
                    list(engine.grouped_rows(*statement, indicators, engine.as_packed))
                    if statement is not None
                    else engine._count_day(
                        reg, state, population, indicators, None, hierarchy, shape=engine.as_packed
                    )
                )
                parts.append(
                    (
                        [indicator.code for indicator in indicators],
                        {unit: vector for unit, _, vector in counted},
                    )
                )
    codes, vectors = engine.side_by_side(parts)
    blocks = [(codes, engine.roll_up(nodes, vectors))]
    labels = {code: reg.indicators[code].label for code in wanted}
    return engine.IndicatorTable(day, nodes, wanted, labels, blocks)


def _counters_usable(last_day: datetime.date) -> bool:
    """Whether the counters may answer up to ``last_day``, after taking in the changes noted since the last
    answer (see ``counters_refresh``): not when switched off, not built, built with other definitions, the day
    past their horizon, or too many changes not yet taken in."""
    if not settings.INDICATOR_COUNTERS or _in_backlog() or not counters_ready(last_day):
        return False
    return _refresh_or_pause() is not None


def counters_answer(
    *,
    day: datetime.date,
    unit_code: str | None = None,
    indicator_codes: Iterable[str] | None = None,
    hierarchy: str = engine.AS_OF,
) -> engine.IndicatorTable | None:
    """The counters' answer, brought up to date first; None when the engine must answer."""
    if not _counters_usable(day):
        return None
    return counters_compute(
        day=day, unit_code=unit_code, indicator_codes=indicator_codes, hierarchy=hierarchy
    )


def counters_answer_days(
    *,
    days: list[datetime.date],
    unit_code: str | None = None,
    indicator_codes: Iterable[str] | None = None,
    hierarchy: str = engine.AS_OF,
) -> dict[datetime.date, engine.IndicatorTable] | None:
    """``counters_answer`` for several days (each day read on its own: one indexed read per day), or None when
    the engine must answer. The days go in two halves, each on its own connection (``engine._run_all``): one
    half's Python work runs while the database answers the other's statements."""
    if not _counters_usable(max(days)):
        return None
    codes = list(indicator_codes) if indicator_codes is not None else None
    units = engine.hierarchy_nodes_days(days, hierarchy)

    def compute_part(part: list[datetime.date]) -> list[engine.IndicatorTable]:
        return [
            counters_compute(
                day=day, unit_code=unit_code, indicator_codes=codes, hierarchy=hierarchy, units=units[day]
            )
            for day in part
        ]

    halves = [half for half in (days[0::2], days[1::2]) if half]
    return {
        table.day: table
        for tables in engine._run_all([partial(compute_part, half) for half in halves])
        for table in tables
    }


@dataclass
class Difference:
    unit: str
    indicator: str
    engine: tuple[int, int]
    counters: tuple[int, int]


def counters_check(*, day: datetime.date, hierarchy: str = engine.AS_OF) -> list[Difference]:
    """Every (unit, indicator) where the counters and the engine disagree on ``day`` (none: they agree)."""
    reference = {
        (r.unit, r.indicator): (r.numerator, r.denominator)
        for r in engine.compute(day=day, hierarchy=hierarchy, counters=False)
    }
    counters_refresh(limit=None)
    fast = {
        (r.unit, r.indicator): (r.numerator, r.denominator)
        for r in counters_compute(day=day, hierarchy=hierarchy).rows()
    }
    return [
        Difference(
            unit, indicator, reference.get((unit, indicator), (0, 0)), fast.get((unit, indicator), (0, 0))
        )
        for unit, indicator in sorted(set(reference) | set(fast))
        if reference.get((unit, indicator), (0, 0)) != fast.get((unit, indicator), (0, 0))
    ]
