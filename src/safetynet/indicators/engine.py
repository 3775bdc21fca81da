"""The indicator engine: every indicator for a unit and every unit below it, as of any day.

For one day it runs one grouped query per population (enterprises, employments): the population with all
its facts as columns, wrapped in conditional sums per org unit (and breakdown group). The per-unit counts are
then rolled up along the hierarchy paths as they stood that day (or as they stand today, when asked), so a
parent's numerator and denominator are exactly the sums of its own records and its children's.
"""

from __future__ import annotations

import datetime
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from safetynet.indicators.models import Target
from safetynet.indicators.registry import registry
from safetynet.orgs.models import PATH_SEPARATOR, PUBLIC_OWNERSHIPS, OrgUnit, OrgUnitVersion, active_on_q

AS_OF = "as_of"
TODAY = "today"
BREAKDOWNS = ("ownership", "size", "industry")


class UnitNotFound(LookupError):
    pass


@dataclass(frozen=True)
class UnitNode:
    unit_id: int
    code: str
    name: str
    level: int
    path: str
    parent_id: int | None


@dataclass
class IndicatorRow:
    unit: str
    unit_name: str
    level: int
    indicator: str
    label: str
    as_of: str
    numerator: int
    denominator: int
    rate: float | None
    target: float | None
    group: str | None = None
    unit_id: int | None = None

    def as_dict(self, *, with_group: bool) -> dict[str, Any]:
        data = asdict(self)
        if not with_group:
            data.pop("group")
        return data


# A unit's counts (n0, d0, n1, d1, …) are held as one integer, each count a field of FIELD_BITS bits (count k in
# bits [k·FIELD_BITS, (k+1)·FIELD_BITS)): adding two units' counts is then one integer addition, where adding
# lists of tens of numbers element by element was most of a city's answer. Counts are never negative and stay
# far below 2^48 (2.8 × 10^14; a nation's members are 3 × 10^8), so no field ever carries into the next.
FIELD_BITS = 48
FIELD_BYTES = FIELD_BITS // 8
FIELD_MASK = (1 << FIELD_BITS) - 1


def pack_bytes(values: Iterable[int]) -> bytes:
    """Counts as little-endian fields; a negative count or one past 2^48 raises ``OverflowError``."""
    return b"".join(int(value).to_bytes(FIELD_BYTES, "little") for value in values)


def pack(values: Iterable[int]) -> int:
    return int.from_bytes(pack_bytes(values), "little")


def unpack(packed: int, count: int) -> list[int]:
    return [(packed >> (FIELD_BITS * k)) & FIELD_MASK for k in range(count)]


class IndicatorTable:
    """One day's answer in columns: the numerator and denominator of every indicator asked for, for every unit
    of the subtree, rolled up. The figures are kept as one packed integer per unit and block of indicators
    (``pack``); ``rows()`` turns them into ``IndicatorRow``s. A city's answer is tens of
    thousands of figures: building a Python object for each cost more than computing them, and most pages show
    a few units (the dashboard: the unit and its children)."""

    def __init__(
        self,
        day: datetime.date,
        nodes: list[UnitNode],
        codes: list[str],
        labels: dict[str, str],
        blocks: list[tuple[list[str], dict[int, int]]],
    ) -> None:
        self.day = day
        self.nodes = nodes
        self.codes = codes
        self.labels = labels
        # code -> (the block's vectors by unit id, the code's index in the block)
        self.columns = {
            code: (vectors, index)
            for block_codes, vectors in blocks
            for index, code in enumerate(block_codes)
        }
        self._targets: dict[tuple[str, int], float] = {}
        self._targets_read: set[int] = set()

    def targets(self, nodes: list[UnitNode]) -> dict[tuple[str, int], float]:
        """The year's targets of ``nodes``, each unit's read once, when its rows are first asked for (a trend
        shows a few units of a city's thousands)."""
        missing = [node.unit_id for node in nodes if node.unit_id not in self._targets_read]
        if missing:
            found = Target.objects.filter(year=self.day.year, indicator__in=self.codes)
            # Past a few hundred units the year's targets are read whole (a list of thousands of ids costs
            # more to send and plan than the rows it spares).
            wanted = set(missing)
            if len(missing) <= 500:
                found = found.filter(org_unit_id__in=missing)
            self._targets.update(
                ((indicator, unit_id), float(value))
                for indicator, unit_id, value in found.values_list("indicator", "org_unit_id", "value")
                if unit_id in wanted
            )
            self._targets_read.update(missing)
        return self._targets

    def share_targets_with(self, other: IndicatorTable) -> None:
        """Read targets through ``other``'s: tables of one year and the same indicators then read each unit's
        targets once between them."""
        self._targets, self._targets_read = other._targets, other._targets_read

    def units(self, depth: int | None = None) -> list[UnitNode]:
        """The units in path order; with ``depth``, the top unit and those at most that many levels below."""
        if depth is None or not self.nodes:
            return self.nodes
        deepest = self.nodes[0].level + depth
        return [node for node in self.nodes if node.level <= deepest]

    def rows(self, depth: int | None = None, nodes: Iterable[UnitNode] | None = None) -> list[IndicatorRow]:
        """``IndicatorRow``s unit by unit (path order, or ``nodes``), indicator by indicator."""
        nodes = self.units(depth) if nodes is None else list(nodes)
        targets = self.targets(nodes)
        as_of = self.day.isoformat()
        columns = [
            (code, self.labels[code], vectors, 2 * FIELD_BITS * index, 2 * FIELD_BITS * index + FIELD_BITS)
            for code in self.codes
            for vectors, index in [self.columns[code]]
        ]
        mask = FIELD_MASK
        rows: list[IndicatorRow] = []
        append = rows.append
        for node in nodes:
            unit_id = node.unit_id
            for code, label, vectors, numerator_shift, denominator_shift in columns:
                vector = vectors.get(unit_id, 0)
                numerator = (vector >> numerator_shift) & mask
                denominator = (vector >> denominator_shift) & mask
                append(
                    IndicatorRow(
                        node.code,
                        node.name,
                        node.level,
                        code,
                        label,
                        as_of,
                        numerator,
                        denominator,
                        round(numerator / denominator, 4) if denominator else None,
                        targets.get((code, unit_id)),
                        None,
                        unit_id,
                    )
                )
        return rows


def side_by_side(parts: list[tuple[list[str], dict[int, int]]]) -> tuple[list[str], dict[int, int]]:
    """Blocks of (codes, packed counts by unit) as one block: each unit's blocks side by side in one integer."""
    codes = [code for part_codes, _ in parts for code in part_codes]
    joined: dict[int, int] = {}
    shift = 0
    for part_codes, vectors in parts:
        for unit_id, vector in vectors.items():
            joined[unit_id] = joined.get(unit_id, 0) | (vector << shift)
        shift += 2 * FIELD_BITS * len(part_codes)
    return codes, joined


def roll_up(nodes: list[UnitNode], vectors: dict[int, int]) -> dict[int, int]:
    """Each unit's packed counts summed with its descendants' (``nodes`` in path order, ``vectors`` each unit's
    own counts). Units outside ``nodes`` are left out. A unit's descendants follow it in path order, so walking
    backwards every unit is complete before it is added to its parent: one addition per unit."""
    by_id = {node.unit_id for node in nodes}
    total = {unit_id: vector for unit_id, vector in vectors.items() if unit_id in by_id}
    for node in reversed(nodes):
        vector = total.get(node.unit_id)
        parent = node.parent_id
        if vector is not None and parent in by_id:
            total[parent] = total.get(parent, 0) + vector
    return total


def hierarchy_nodes(day: datetime.date, hierarchy: str) -> list[UnitNode]:
    """Every unit as it stood on ``day`` (versions active then), or as it stands today."""
    if hierarchy == TODAY:
        today = timezone.localdate()
        rows = OrgUnit.objects.filter(active_on_q(today)).values_list(
            "pk", "code", "name", "level", "path", "parent_id"
        )
    else:
        rows = OrgUnitVersion.objects.filter(active_on_q(day)).values_list(
            "unit_id", "code", "name", "level", "path", "parent_id"
        )
    return sorted((UnitNode(*row) for row in rows), key=lambda n: n.path)


def hierarchy_nodes_days(days: list[datetime.date], hierarchy: str) -> dict[datetime.date, list[UnitNode]]:
    """``hierarchy_nodes`` for several days from one read: a unit's version that lasts over several of the days
    is one node shared by them."""
    if hierarchy == TODAY or len(days) < 2:
        return {day: hierarchy_nodes(day, hierarchy) for day in days}
    first, last = min(days), max(days)
    versions = [
        (valid_from, valid_to, UnitNode(*row))
        for valid_from, valid_to, *row in OrgUnitVersion.objects.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=last),
            Q(valid_to__isnull=True) | Q(valid_to__gt=first),
        ).values_list("valid_from", "valid_to", "unit_id", "code", "name", "level", "path", "parent_id")
    ]
    versions.sort(key=lambda version: version[2].path)
    return {
        day: [
            node
            for valid_from, valid_to, node in versions
            if (valid_from is None or valid_from <= day) and (valid_to is None or day < valid_to)
        ]
        for day in days
    }


def subtree(nodes: list[UnitNode], unit_code: str | None) -> list[UnitNode]:
    if unit_code is None:
        roots = [n for n in nodes if n.parent_id is None]
        if not roots:
            raise UnitNotFound("没有任何单位")
        return nodes if len(roots) > 1 else [n for n in nodes if n.path.startswith(roots[0].path)]
    root = next((n for n in nodes if n.code == unit_code), None)
    if root is None:
        raise UnitNotFound(f"单位代码“{unit_code}”在该日不存在")
    return [n for n in nodes if n.path.startswith(root.path)]


def _group_expression(breakdown: str | None, prefix: str) -> Any:
    if breakdown == "ownership":
        return Case(
            When(**{f"{prefix}ownership__in": PUBLIC_OWNERSHIPS}, then=Value("公有制")),
            default=Value("非公有制"),
            output_field=CharField(),
        )
    if breakdown == "size":
        return Case(
            When(**{f"{prefix}above_designated_size": True}, then=Value("规模以上")),
            default=Value("规模以下"),
            output_field=CharField(),
        )
    if breakdown == "industry":
        return Coalesce(F(f"{prefix}industry_id"), Value("未分类"), output_field=CharField())
    return Value("", output_field=CharField())


def _subquery_fence() -> str:
    """PostgreSQL pulls a plain subquery up into the outer one and then evaluates a fact's expression (an
    EXISTS over coverages, say) once for every SUM that names it: thirteen times per enterprise on the city
    demo. ``OFFSET 0`` keeps the subquery a unit, so every fact is evaluated once per row."""
    return " OFFSET 0" if connection.vendor == "postgresql" else ""


def _by_indicator(indicators: list[Any], values: list[Any]) -> dict[str, tuple[int, int]]:
    """A result row's sums (numerator, denominator of each indicator in turn) by indicator code."""
    return {
        indicator.code: (int(values[2 * i] or 0), int(values[2 * i + 1] or 0))
        for i, indicator in enumerate(indicators)
    }


def as_packed(indicators: list[Any], values: list[Any]) -> int:
    """A result row's sums as they come (numerator, denominator of each indicator in turn), packed (``pack``)."""
    return pack(value or 0 for value in values)


def _fact_columns(facts: dict[str, Any]) -> dict[str, Any]:
    """Fact columns are prefixed: a fact may share its name with a field of the population's model."""
    return {f"fact_{name}": expression for name, expression in facts.items()}


def _conditional_values(indicators: list[Any], alias: str) -> list[tuple[str, str]]:
    """``(CASE WHEN … THEN 1 ELSE 0 END, "n<i>")`` and ``(…, "d<i>")`` (numerator, denominator of each indicator
    in turn) over the fact columns of the row ``alias``. SQLite gives 0/1 and PostgreSQL booleans;
    "= TRUE" would not work on both, a bare column does."""
    q = connection.ops.quote_name

    def condition(names: tuple[str, ...]) -> str:
        return " AND ".join(f"{alias}.{q('fact_' + n)}" for n in names) or "1 = 1"

    def value(quantity: str | None) -> str:
        return f"{alias}.{q('fact_' + quantity)}" if quantity else "1"

    sums = []
    for i, indicator in enumerate(indicators):
        numerator = (
            f"CASE WHEN {condition(indicator.numerator)} THEN {value(indicator.numerator_sum)} ELSE 0 END"
        )
        denominator = (
            f"CASE WHEN {condition(indicator.denominator)} THEN {value(indicator.denominator_sum)} ELSE 0 END"
        )
        sums.append((numerator, f"n{i}"))
        sums.append((denominator, f"d{i}"))
    return sums


def _conditional_sums(indicators: list[Any], alias: str) -> list[str]:
    """``SUM(CASE WHEN … THEN 1 ELSE 0 END) AS n<i>`` and ``… AS d<i>`` (numerator, denominator of each
    indicator in turn) over the fact columns of the row ``alias``."""
    return [f"SUM({expression}) AS {name}" for expression, name in _conditional_values(indicators, alias)]


def _grouped_counts(
    queryset: QuerySet,
    facts: dict[str, Any],
    indicators: list[Any],
    group: Any,
    shape: Callable[[list[Any], list[Any]], Any] = _by_indicator,
) -> Iterable[tuple[int, str, Any]]:
    """One statement: the population with its fact columns, summed per unit and group for every indicator
    (each row's sums shaped by ``shape``: by indicator code, or ``as_vector``)."""
    sql, params = grouped_counts_sql(queryset, facts, indicators, group)
    yield from grouped_rows(sql, params, indicators, shape)


def grouped_counts_sql(
    queryset: QuerySet, facts: dict[str, Any], indicators: list[Any], group: Any
) -> tuple[str, list[Any]]:
    """The statement of ``_grouped_counts`` and its parameters."""
    columns = _fact_columns(facts)
    inner = queryset.annotate(indicator_group=group, **columns).values(
        "indicator_unit", "indicator_group", *columns.keys()
    )
    inner_sql, params = inner.query.sql_with_params()
    inner_sql += _subquery_fence()
    q = connection.ops.quote_name
    sums = _conditional_sums(indicators, "t")
    sql = (
        f"SELECT t.{q('indicator_unit')}, t.{q('indicator_group')}, {', '.join(sums)} "
        f"FROM ({inner_sql}) t GROUP BY t.{q('indicator_unit')}, t.{q('indicator_group')}"
    )
    return sql, list(params)


def grouped_rows(
    sql: str,
    params: list[Any],
    indicators: list[Any],
    shape: Callable[[list[Any], list[Any]], Any] = _by_indicator,
) -> Iterable[tuple[int, str, Any]]:
    """(unit, group, shaped sums) of a ``grouped_counts_sql`` statement."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for unit_id, grp, *values in cursor.fetchall():
            yield unit_id, grp, shape(indicators, values)


def _grouped_counts_per_enterprise(
    enterprises: QuerySet,
    rows: QuerySet,
    facts: dict[str, Any],
    indicators: list[Any],
    enterprise_ref: str,
) -> Iterable[tuple[int, str, dict[str, tuple[int, int]]]]:
    """One statement for a population of many rows per enterprise: the rows are summed per enterprise first,
    and only those sums (one row per enterprise) meet ``enterprises`` (U(u,d) with unit and group)."""
    q = connection.ops.quote_name
    columns = _fact_columns(facts)
    inner = rows.annotate(**columns).values(enterprise_ref, *columns.keys())
    inner_sql, inner_params = inner.query.sql_with_params()
    outer_sql, outer_params = enterprises.query.sql_with_params()
    sums = _conditional_sums(indicators, "r")
    totals = [f"SUM(a.{kind}{i})" for i in range(len(indicators)) for kind in ("n", "d")]
    sql = (
        f"SELECT e.{q('indicator_unit')}, e.{q('indicator_group')}, {', '.join(totals)} "
        f"FROM ({outer_sql}) e JOIN ("
        f"SELECT r.{q(enterprise_ref)} AS enterprise_key, {', '.join(sums)} FROM ({inner_sql}) r "
        f"GROUP BY r.{q(enterprise_ref)}) a ON a.enterprise_key = e.{q('indicator_enterprise')} "
        f"GROUP BY e.{q('indicator_unit')}, e.{q('indicator_group')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*outer_params, *inner_params))
        for unit_id, grp, *values in cursor.fetchall():
            yield unit_id, grp, _by_indicator(indicators, values)


@dataclass
class _DayState:
    """One day of a computation: its unit tree, U(u,d) with unit and group, and the rolled-up counts."""

    day: datetime.date
    nodes: list[UnitNode]
    by_id: dict[int, UnitNode]
    whole_tree: bool
    # counts[unit_id][group][indicator] = [numerator, denominator], rolled up to every ancestor.
    counts: dict[int, dict[str, dict[str, list[int]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: [0, 0])))
    )
    groups: set[str] = field(default_factory=set)
    # The unit's ancestors within the tree (itself included), by unit id: worked out once per unit.
    ancestors: dict[int, tuple[int, ...]] = field(default_factory=dict)
    unionised: QuerySet | None = None
    unionised_units: QuerySet | None = None

    def add(self, grouped: Iterable[tuple[int, str, dict[str, tuple[int, int]]]]) -> None:
        ancestors = self.ancestors
        for unit_id, grp, values in grouped:
            chain = ancestors.get(unit_id)
            if chain is None:
                node = self.by_id.get(unit_id)
                chain = ancestors[unit_id] = (
                    ()
                    if node is None
                    else tuple(
                        int(part)
                        for part in node.path.split(PATH_SEPARATOR)
                        if part and int(part) in self.by_id
                    )
                )
            if not chain:
                continue
            self.groups.add(grp)
            # Zeros change nothing: a unit without a count reads as 0 / 0 (``_rows``).
            changes = [(code, n, d) for code, (n, d) in values.items() if n or d]
            for ancestor in chain:
                bucket = self.counts[ancestor][grp]
                for code, numerator, denominator in changes:
                    pair = bucket[code]
                    pair[0] += numerator
                    pair[1] += denominator


def _checked(indicator_codes: Iterable[str] | None, breakdown: str | None) -> tuple[Any, list[str]]:
    reg = registry()
    wanted = list(indicator_codes) if indicator_codes else list(reg.indicators)
    unknown = [code for code in wanted if code not in reg.indicators]
    if unknown:
        raise LookupError(f"未知指标：{'、'.join(unknown)}；可用：{'、'.join(reg.indicators)}")
    if breakdown not in (None, *BREAKDOWNS):
        raise LookupError(f"未知分组“{breakdown}”；可用：{'、'.join(BREAKDOWNS)}")
    return reg, wanted


def _start_day(day: datetime.date, unit_code: str | None, hierarchy: str) -> _DayState:
    nodes = subtree(hierarchy_nodes(day, hierarchy), unit_code)
    return _DayState(day, nodes, {n.unit_id: n for n in nodes}, nodes[0].parent_id is None)


def _populations(reg: Any, wanted: list[str]) -> list[tuple[Any, list[Any]]]:
    """Enterprises first: the other populations are defined inside U(u,d), which that step builds."""
    needed = {reg.indicators[c].population for c in wanted} - {"enterprise"}
    return [
        (
            reg.populations[name],
            [reg.indicators[c] for c in wanted if reg.indicators[c].population == name],
        )
        for name in ["enterprise", *sorted(needed)]
    ]


def _prepare_unionised(reg: Any, state: _DayState, breakdown: str | None, hierarchy: str) -> None:
    """U(u,d) for the populations defined inside it (eligible enterprises that a union covers), as
    querysets: the ids, and the ids with unit and breakdown group."""
    day = state.day
    population = reg.populations["enterprise"]
    covered = reg.facts["enterprise"]["covered"].build(day, "pk")
    eligible_covered = population.build(day, hierarchy, None).filter(covered)
    state.unionised = eligible_covered.values("pk")
    units = eligible_covered.annotate(
        indicator_group=_group_expression(breakdown, ""), indicator_enterprise=F("pk")
    ).values("indicator_enterprise", "indicator_unit", "indicator_group")
    if not state.whole_tree:
        units = units.filter(indicator_unit__in=list(state.by_id))
    state.unionised_units = units


def _count_day(
    reg: Any,
    state: _DayState,
    population: Any,
    indicators: list[Any],
    breakdown: str | None,
    hierarchy: str,
    shape: Callable[[list[Any], list[Any]], Any] = _by_indicator,
) -> list[tuple[int, str, Any]]:
    """One population on one day: (unit, group, counts) rows. ``_prepare_unionised`` must have run."""
    day = state.day
    facts = _facts(reg, population, indicators, day)
    if population.per_enterprise is not None:
        grouped = _grouped_counts_per_enterprise(
            state.unionised_units,
            population.per_enterprise(day),
            facts,
            indicators,
            population.enterprise_ref,
        )
    else:
        queryset = population.build(day, hierarchy, state.unionised)
        if not state.whole_tree:
            queryset = queryset.filter(indicator_unit__in=list(state.by_id))
        group = _group_expression(breakdown, population.enterprise_prefix)
        grouped = _grouped_counts(queryset, facts, indicators, group, shape)
    return list(grouped)


def _count_day_of(index: int, *args: Any) -> list[tuple[int, int, str, dict[str, tuple[int, int]]]]:
    """``_count_day`` with each row tagged by the day's index (for ``compute_days``)."""
    return [(index, *row) for row in _count_day(*args)]


def _run_all(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run independent read-only statements two at a time, each thread on its own database connection (the
    server has more than one core). Inside a transaction (tests, an atomic request) other connections would
    not see its uncommitted rows, so the jobs then run one after another. Results come back in job order."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    if connection.in_atomic_block or len(jobs) < 2:
        return [job() for job in jobs]

    def run(job: Callable[[], Any]) -> Any:
        try:
            return job()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(run, jobs))


def _facts(reg: Any, population: Any, indicators: list[Any], day: datetime.date) -> dict[str, Any]:
    needed = sorted({name for i in indicators for name in i.numerator + i.denominator + i.sums})
    return {name: reg.facts[population.name][name].build(day, population.enterprise_ref) for name in needed}


def _rows(
    reg: Any, state: _DayState, wanted: list[str], breakdown: str | None, depth: int | None = None
) -> list[IndicatorRow]:
    """The rows of the day's units; with ``depth``, only the top unit and those that many levels below it
    (a trend shows a unit and its children: building every street's and community's rows for every day
    cost more than counting them)."""
    day = state.day
    nodes = state.nodes
    if depth is not None and nodes:
        deepest = nodes[0].level + depth
        nodes = [node for node in nodes if node.level <= deepest]
    targets = {
        (t.indicator, t.org_unit_id): float(t.value)
        for t in Target.objects.filter(
            year=day.year, org_unit_id__in=[node.unit_id for node in nodes], indicator__in=wanted
        )
    }
    group_list = sorted(state.groups) if breakdown else [""]
    # Tens of thousands of rows for a city: everything that does not change per row is looked up once.
    as_of = day.isoformat()
    labels = {code: reg.indicators[code].label for code in wanted}
    none: dict = {}
    rows: list[IndicatorRow] = []
    append = rows.append
    for node in nodes:
        unit_id = node.unit_id
        unit_counts = state.counts.get(unit_id, none)
        for code in wanted:
            label = labels[code]
            target = targets.get((code, unit_id))
            for grp in group_list:
                pair = unit_counts.get(grp, none).get(code)
                numerator, denominator = pair if pair is not None else (0, 0)
                append(
                    IndicatorRow(
                        node.code,
                        node.name,
                        node.level,
                        code,
                        label,
                        as_of,
                        numerator,
                        denominator,
                        round(numerator / denominator, 4) if denominator else None,
                        target,
                        grp if breakdown else None,
                        unit_id,
                    )
                )
    return rows


def compute(
    *,
    day: datetime.date,
    unit_code: str | None = None,
    indicator_codes: Iterable[str] | None = None,
    breakdown: str | None = None,
    hierarchy: str = AS_OF,
    counters: bool = True,
) -> list[IndicatorRow]:
    """Every requested indicator for the unit (by code) and each unit below it, as of ``day``: from the
    counters kept as dated steps when they can answer (``counters``; see indicators/counters.py), else by
    the definition (one grouped statement per population)."""
    if breakdown is None:
        return compute_table(
            day=day,
            unit_code=unit_code,
            indicator_codes=indicator_codes,
            hierarchy=hierarchy,
            counters=counters,
        ).rows()
    reg, wanted = _checked(indicator_codes, breakdown)
    return _rows(reg, _counted_day(reg, wanted, day, unit_code, breakdown, hierarchy), wanted, breakdown)


def compute_table(
    *,
    day: datetime.date,
    unit_code: str | None = None,
    indicator_codes: Iterable[str] | None = None,
    hierarchy: str = AS_OF,
    counters: bool = True,
) -> IndicatorTable:
    """``compute`` without breakdown, as an ``IndicatorTable``: from the counters when they can answer, else
    by the definition."""
    reg, wanted = _checked(indicator_codes, None)
    if counters:
        # The counters build on this module: imported here.
        from safetynet.indicators.counters import counters_answer

        table = counters_answer(day=day, unit_code=unit_code, indicator_codes=wanted, hierarchy=hierarchy)
        if table is not None:
            return table
    state = _counted_day(reg, wanted, day, unit_code, None, hierarchy)
    return _table(reg, state, wanted)


def _table(reg: Any, state: _DayState, wanted: list[str]) -> IndicatorTable:
    """The engine's rolled-up counts of a day (no breakdown) as a table."""
    vectors = {
        unit_id: pack(value for code in wanted for value in groups.get("", {}).get(code, (0, 0)))
        for unit_id, groups in state.counts.items()
    }
    labels = {code: reg.indicators[code].label for code in wanted}
    return IndicatorTable(state.day, state.nodes, wanted, labels, [(wanted, vectors)])


def _counted_day(
    reg: Any,
    wanted: list[str],
    day: datetime.date,
    unit_code: str | None,
    breakdown: str | None,
    hierarchy: str,
) -> _DayState:
    """The definitional computation of one day: every population's counts, rolled up."""
    state = _start_day(day, unit_code, hierarchy)
    _prepare_unionised(reg, state, breakdown, hierarchy)
    # One statement per population, two at a time (the populations are independent).
    jobs = [
        functools.partial(_count_day, reg, state, population, indicators, breakdown, hierarchy)
        for population, indicators in _populations(reg, wanted)
        if indicators
    ]
    for grouped in _run_all(jobs):
        state.add(grouped)
    return state


def share_targets(tables: Iterable[IndicatorTable]) -> None:
    """Tables of the same year and indicators (a trend's month ends) read each unit's targets once between them
    instead of once each."""
    first: dict[tuple[int, tuple[str, ...]], IndicatorTable] = {}
    for table in tables:
        key = (table.day.year, tuple(table.codes))
        if key in first:
            table.share_targets_with(first[key])
        else:
            first[key] = table


def compute_days(
    *,
    days: list[datetime.date],
    unit_code: str | None = None,
    indicator_codes: Iterable[str] | None = None,
    breakdown: str | None = None,
    hierarchy: str = AS_OF,
    depth: int | None = None,
    counters: bool = True,
) -> dict[datetime.date, list[IndicatorRow]]:
    """``compute`` for several days at once (a trend), with the same numbers (``depth``: see ``_rows``). A population of dated rows
    per enterprise (``Population.interval``) is read once for all the days instead of once per day (see
    ``_grouped_counts_per_enterprise_days``); the other populations are counted day by day, beside it on a
    second connection."""
    reg, wanted = _checked(indicator_codes, breakdown)
    days = sorted(set(days))
    if counters and breakdown is None and days:
        from safetynet.indicators.counters import counters_answer_days

        tables = counters_answer_days(
            days=days, unit_code=unit_code, indicator_codes=wanted, hierarchy=hierarchy
        )
        if tables is not None:
            share_targets(tables.values())
            return {day: table.rows(depth) for day, table in tables.items()}
    states = [_start_day(day, unit_code, hierarchy) for day in days]
    for state in states:
        _prepare_unionised(reg, state, breakdown, hierarchy)
    # Each job answers [(day index, unit, group, counts)]; the longest goes first.
    jobs: list[Callable[[], list[tuple[int, int, str, dict[str, tuple[int, int]]]]]] = []
    for population, indicators in _populations(reg, wanted):
        if not indicators:
            continue
        if population.interval is not None and len(states) > 1:
            facts = _facts(reg, population, indicators, days[0])
            jobs.insert(
                0,
                functools.partial(_grouped_counts_per_enterprise_days, states, population, facts, indicators),
            )
            continue
        jobs += [
            functools.partial(_count_day_of, index, reg, state, population, indicators, breakdown, hierarchy)
            for index, state in enumerate(states)
        ]
    for rows in _run_all(jobs):
        for index, unit_id, grp, values in rows:
            states[index].add([(unit_id, grp, values)])
    return {state.day: _rows(reg, state, wanted, breakdown, depth) for state in states}


def _grouped_counts_per_enterprise_days(
    states: list[_DayState], population: Any, facts: dict[str, Any], indicators: list[Any]
) -> list[tuple[int, int, str, dict[str, tuple[int, int]]]]:
    """One statement for every day: (day index, unit, group, counts). Day k is ``states[k].day``."""
    q = connection.ops.quote_name
    days = [connection.ops.adapt_datefield_value(state.day) for state in states]
    n = len(days)
    start, end = population.interval
    columns = _fact_columns(facts)
    rows = population.per_enterprise_between(states[0].day, states[-1].day)
    inner = rows.annotate(**columns).values(population.enterprise_ref, start, end, *columns.keys())
    inner_sql, inner_params = inner.query.sql_with_params()

    # k_from: the first day the row is active; k_to: the first day after that it is not (n: none).
    k_from = f"WHEN s.{q(start)} IS NULL THEN 0 " + " ".join(
        f"WHEN s.{q(start)} <= %s THEN {k}" for k in range(n)
    )
    k_to = " ".join(f"WHEN s.{q(end)} <= %s THEN {k}" for k in range(n))
    names = [f"{kind}{i}" for i in range(len(indicators)) for kind in ("n", "d")]
    sums = _conditional_sums(indicators, "x")
    unit_parts, unit_params = [], []
    for index, state in enumerate(states):
        part_sql, part_params = state.unionised_units.query.sql_with_params()
        unit_parts.append(
            f"SELECT {index} AS k, u{index}.{q('indicator_enterprise')} AS enterprise_key, "
            f"u{index}.{q('indicator_unit')} AS unit_id, u{index}.{q('indicator_group')} AS grp "
            f"FROM ({part_sql}) u{index}"
        )
        unit_params += part_params
    # The rows are summed per enterprise and run of days [k_from, k_to) first: most rows are active on
    # every day of a trend, so an enterprise has only a few such runs; each run then meets the enterprise's
    # U(u,d) rows (one per day) whose day lies inside it.
    ref = q(population.enterprise_ref)
    sql = f"""
        WITH g AS (
            SELECT x.{ref} AS enterprise_key, x.k_from, x.k_to, {", ".join(sums)}
            FROM (
                SELECT s.*, CASE {k_from} ELSE {n} END AS k_from,
                       CASE WHEN s.{q(end)} IS NULL THEN {n} {k_to} ELSE {n} END AS k_to
                FROM ({inner_sql}) s
            ) x
            WHERE x.k_from < x.k_to
            GROUP BY x.{ref}, x.k_from, x.k_to
        ),
        e AS ({" UNION ALL ".join(unit_parts)})
        SELECT e.k, e.unit_id, e.grp, {", ".join(f"SUM(g.{name})" for name in names)}
        FROM e JOIN g ON g.enterprise_key = e.enterprise_key AND g.k_from <= e.k AND e.k < g.k_to
        GROUP BY e.k, e.unit_id, e.grp
    """
    params = [*days, *days, *inner_params, *unit_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            (index, unit_id, grp, _by_indicator(indicators, values))
            for index, unit_id, grp, *values in cursor.fetchall()
        ]
