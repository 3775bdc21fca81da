"""Indicator reads for people: scoped to the user's subtree, with series over months or years."""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from safetynet.core.scope import user_scope_path
from safetynet.indicators.engine import (
    AS_OF,
    IndicatorRow,
    IndicatorTable,
    UnitNode,
    compute,
    compute_days,
    compute_table,
)
from safetynet.orgs.models import OrgUnit, OrgUnitVersion, active_on_q


def resolve_unit_code_for_user(user: Any, unit_code: str | None, day: datetime.date) -> str:
    """The unit to report on: the one asked for if the user may see it (404 otherwise), else the user's own."""
    return resolve_unit_codes_for_user(user, unit_code, [day])[day]


def resolve_unit_codes_for_user(
    user: Any, unit_code: str | None, days: list[datetime.date]
) -> dict[datetime.date, str]:
    """``resolve_unit_code_for_user`` for every day of a series, with one read: only a user's own unit depends on
    the day (its code may have changed), and its versions are read once (a trend's twelve month ends resolved
    one by one cost twelve reads)."""
    if not days:
        return {}
    path = user_scope_path(user)
    if path is None:
        raise Http404("未找到该单位，或您无权查看。")
    if not unit_code:
        own = getattr(user, "org_unit", None)
        if own is not None:
            # The model's own order (the earliest start first): the first version active on a day is its code.
            versions = list(
                OrgUnitVersion.objects.filter(unit=own).values_list("valid_from", "valid_to", "code")
            )

            def code_on(day: datetime.date) -> str:
                for valid_from, valid_to, code in versions:
                    if (valid_from is None or valid_from <= day) and (valid_to is None or day < valid_to):
                        return code
                return own.code

            return {day: code_on(day) for day in days}
        root = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
        if root is None:
            raise Http404("尚未建立任何单位。")
        return dict.fromkeys(days, root.code)
    # The code may be one the unit carried on that day (普兰店市 210282 before it became 普兰店区 210214).
    visible = OrgUnitVersion.objects.visible_to(user).filter(code=unit_code).exists() or (
        OrgUnit.objects.visible_to(user).filter(code=unit_code).exists()
    )
    if not visible:
        raise Http404("未找到该单位，或您无权查看。")
    return dict.fromkeys(days, unit_code)


def data_version() -> int:
    """Changes whenever a record changes: every service, import and demo load writes an audit row."""
    from safetynet.core.models import AuditEntry

    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _cache_key(
    version: int,
    day: datetime.date,
    unit_code: str | None,
    indicator_codes: list[str] | None,
    breakdown: str | None,
    hierarchy: str,
) -> str:
    parts = [str(version), day.isoformat(), unit_code or "", ",".join(indicator_codes or [])]
    return ":".join(["indicators", *parts, breakdown or "", hierarchy])


CACHE_SECONDS = 24 * 3600

_Value = TypeVar("_Value")


def compute_cached(
    *,
    day: datetime.date,
    unit_code: str | None,
    indicator_codes: list[str] | None = None,
    breakdown: str | None = None,
    hierarchy: str = AS_OF,
) -> list[IndicatorRow]:
    """``compute`` through the cache. The key holds the data version, so a correction of any past record
    (it writes an audit row) is seen at once; nothing stale is ever served."""
    return _through_cache(
        _cache_key(data_version(), day, unit_code, indicator_codes, breakdown, hierarchy),
        lambda: compute(
            day=day,
            unit_code=unit_code,
            indicator_codes=indicator_codes,
            breakdown=breakdown,
            hierarchy=hierarchy,
        ),
    )


def compute_table_cached(
    *, day: datetime.date, unit_code: str | None, hierarchy: str = AS_OF
) -> IndicatorTable:
    """Every indicator of the unit and the units below it (``compute_table``) through the cache, under the data
    version like ``compute_cached``."""
    return _through_cache(
        _cache_key(data_version(), day, unit_code, None, None, hierarchy) + ":table",
        lambda: compute_table(day=day, unit_code=unit_code, hierarchy=hierarchy),
    )


def _through_cache(key: str, compute_value: Callable[[], _Value]) -> _Value:
    """The cached value under ``key``, computed and kept for ``CACHE_SECONDS`` when it is not there."""
    from django.core.cache import cache

    value = cache.get(key)
    if value is None:
        value = compute_value()
        cache.set(key, value, timeout=CACHE_SECONDS)
    return value


def compute_days_cached(
    *,
    days: list[datetime.date],
    unit_code: str | None,
    indicator_codes: list[str] | None = None,
    hierarchy: str = AS_OF,
    depth: int | None = None,
) -> dict[datetime.date, list[IndicatorRow]]:
    """``compute_days`` through the cache: the days already there are served from it, the others are
    computed together. Without ``depth`` the entries are ``compute_cached``'s (every unit of the subtree); a
    trend's entries, with only ``depth`` levels of rows, are kept under keys of their own."""
    from django.core.cache import cache

    version = data_version()
    keys = {day: _cache_key(version, day, unit_code, indicator_codes, None, hierarchy) for day in days}
    if depth is not None:
        keys = {day: f"{key}:depth{depth}" for day, key in keys.items()}
    found = cache.get_many(list(keys.values()))
    result = {day: found[key] for day, key in keys.items() if key in found}
    missing = [day for day in days if day not in result]
    if missing:
        computed = compute_days(
            days=missing,
            unit_code=unit_code,
            indicator_codes=indicator_codes,
            hierarchy=hierarchy,
            depth=depth,
        )
        cache.set_many({keys[day]: rows for day, rows in computed.items()}, timeout=CACHE_SECONDS)
        result.update(computed)
    return result


def indicator_rows_for_user(
    user: Any,
    *,
    day: datetime.date,
    unit_code: str | None = None,
    indicator_codes: list[str] | None = None,
    breakdown: str | None = None,
    hierarchy: str = AS_OF,
) -> list[IndicatorRow]:
    code = resolve_unit_code_for_user(user, unit_code, day)
    return compute(
        day=day, unit_code=code, indicator_codes=indicator_codes, breakdown=breakdown, hierarchy=hierarchy
    )


# A series is computed point by point (each point is a whole indicator run): its length is bounded so that no
# request costs minutes. 24 points: two years by month, or 24 years by year.
MAX_SERIES_POINTS = 24


def period_count(start: datetime.date, end: datetime.date, interval: str) -> int:
    """How many points ``period_ends`` gives, counted without building them."""
    if interval == "year":
        return end.year - start.year + 1
    return (end.year - start.year) * 12 + end.month - start.month + 1


def period_ends(start: datetime.date, end: datetime.date, interval: str) -> list[datetime.date]:
    """The last day of every month (or year) from start to end; the last period ends on ``end`` itself."""
    days: list[datetime.date] = []
    year, month = start.year, start.month
    while True:
        if interval == "year":
            last = datetime.date(year, 12, 31)
            year += 1
        else:
            last = datetime.date(year, month, calendar.monthrange(year, month)[1])
            month = month % 12 + 1
            year += month == 1
        if last >= end:
            days.append(end)
            return days
        days.append(last)


def indicator_series_for_user(
    user: Any,
    *,
    start: datetime.date,
    end: datetime.date,
    interval: str = "month",
    unit_code: str | None = None,
    indicator_codes: list[str] | None = None,
    hierarchy: str = AS_OF,
    depth: int = 1,
) -> list[IndicatorRow]:
    """The unit and its children (``depth`` levels below) at the end of every period."""
    if end < start:
        raise ValueError(f"结束日期 {end} 不能早于开始日期 {start}。")
    points = period_count(start, end, interval)
    if points > MAX_SERIES_POINTS:
        raise ValueError(
            f"时间跨度过长：{start} 至 {end} 按{'年' if interval == 'year' else '月'}共 {points} 个时间点，"
            f"最多 {MAX_SERIES_POINTS} 个。请缩短起止日期"
            + ("。" if interval == "year" else "，或改为按年（interval=year）。")
        )
    days = period_ends(start, end, interval)
    codes = resolve_unit_codes_for_user(user, unit_code, days)
    # The days are computed together (one read of the employment spans for all of them); a unit whose code
    # changed within the period is asked for under each of its codes.
    by_day: dict[datetime.date, list[IndicatorRow]] = {}
    for code in dict.fromkeys(codes.values()):
        by_day.update(
            compute_days_cached(
                days=[day for day in days if codes[day] == code],
                unit_code=code,
                indicator_codes=indicator_codes,
                hierarchy=hierarchy,
                depth=depth,
            )
        )
    rows: list[IndicatorRow] = []
    for day in days:
        top_level = min((r.level for r in by_day[day]), default=0)
        rows += [r for r in by_day[day] if r.level <= top_level + depth]
    return rows


STATUS_MET, STATUS_BEHIND, STATUS_FAR_BEHIND = "met", "behind", "far_behind"


def target_status(rate: float | None, target: float | None) -> str | None:
    """Met (green), behind (amber) or far behind (red); the gap for "far" is a setting (percentage points)."""
    from django.conf import settings

    if rate is None or target is None:
        return None
    if rate >= target:
        return STATUS_MET
    far = settings.INDICATOR_FAR_BEHIND_POINTS
    return STATUS_FAR_BEHIND if target - rate > far else STATUS_BEHIND


@dataclass
class DecompositionGap:
    unit: OrgUnit
    indicator: str
    year: int
    parent_target: float
    children_weighted: float | None
    children_without_target: list[str]


def target_decomposition_gaps(
    user: Any, *, year: int, day: datetime.date | None = None
) -> list[DecompositionGap]:
    """Units (in the user's scope) whose children's targets do not add up to their own.

    Rates don't add; targets "add up" when the children's targets, weighted by each child's current
    denominator, reach the parent's target, and every child has one.
    """
    from safetynet.indicators.models import Target

    day = day or timezone.localdate()
    targets = list(
        Target.objects.visible_to(user)
        .filter(year=year)
        .select_related("org_unit")
        .order_by("org_unit__path")
    )
    by_key = {(t.indicator, t.org_unit_id): float(t.value) for t in targets}
    gaps: list[DecompositionGap] = []
    for target in targets:
        unit = target.org_unit
        children = list(unit.children.filter(active_on_q(day)))
        if not children:
            continue
        rows = {
            r.unit_id: r
            for r in compute(
                day=day, unit_code=unit.code, indicator_codes=[target.indicator], hierarchy="today"
            )
            if r.unit_id in {c.pk for c in children}
        }
        missing = [c.name for c in children if (target.indicator, c.pk) not in by_key]
        weight = sum(rows[c.pk].denominator for c in children if c.pk in rows)
        weighted = (
            sum(
                by_key.get((target.indicator, c.pk), 0.0) * rows[c.pk].denominator
                for c in children
                if c.pk in rows
            )
            / weight
            if weight
            else None
        )
        if missing or (weighted is not None and weighted + 1e-9 < float(target.value)):
            gaps.append(
                DecompositionGap(
                    unit=unit,
                    indicator=target.indicator,
                    year=year,
                    parent_target=float(target.value),
                    children_weighted=weighted,
                    children_without_target=missing,
                )
            )
    return gaps


RECORD_PARTS = ("numerator", "denominator", "gap")


def indicator_records(
    *, indicator: str, unit_code: str, day: datetime.date, part: str, hierarchy: str = AS_OF
) -> QuerySet:
    """The records behind one number: the population rows of the unit's subtree (as of ``day``) counted in
    the numerator, in the denominator, or in the denominator but not the numerator ("gap").

    Enterprise indicators give Enterprise rows, employment indicators Employment rows. The caller has
    already resolved ``unit_code`` for the user (resolve_unit_code_for_user).
    """
    from django.db.models import F, Q, Value

    from safetynet.indicators.engine import hierarchy_nodes, subtree
    from safetynet.indicators.registry import registry

    reg = registry()
    spec = reg.indicators[indicator]
    if part not in RECORD_PARTS:
        raise LookupError(f"part 应为 {'、'.join(RECORD_PARTS)}")
    unit_ids = [n.unit_id for n in subtree(hierarchy_nodes(day, hierarchy), unit_code)]
    population = reg.populations[spec.population]
    unionised = None
    if spec.population != "enterprise":
        enterprises = reg.populations["enterprise"]
        unionised = (
            enterprises.build(day, hierarchy, None)
            .filter(reg.facts["enterprise"]["covered"].build(day, "pk"))
            .values("pk")
        )
    queryset = population.build(day, hierarchy, unionised).filter(indicator_unit__in=unit_ids)
    names = sorted(set(spec.numerator + spec.denominator + spec.sums))
    queryset = queryset.annotate(
        **{f"fact_{n}": reg.facts[spec.population][n].build(day, population.enterprise_ref) for n in names}
    )
    for name in spec.denominator:
        queryset = queryset.filter(**{f"fact_{name}": True})
    numerator = Q()
    for name in spec.numerator:
        numerator &= Q(**{f"fact_{name}": True})
    full = numerator
    if spec.numerator_sum:
        # A rate of quantities: behind its numerator are the rows adding something to it, and its gap is the
        # rows adding less than they could (甲 with 40 of 40 workers entered is no gap; 乙 with 25 of 100 is).
        reached = F(f"fact_{spec.denominator_sum}") if spec.denominator_sum else Value(1)
        full = numerator & Q(**{f"fact_{spec.numerator_sum}__gte": reached})
        numerator &= Q(**{f"fact_{spec.numerator_sum}__gt": 0})
    if part == "numerator":
        queryset = queryset.filter(numerator)
    elif part == "gap" and (spec.numerator or spec.numerator_sum):
        queryset = queryset.exclude(full)
    if population.records is not None:
        rows = population.records(queryset)
    else:
        rows = queryset.model.objects.filter(pk__in=queryset.values("pk"))
    if spec.population == "enterprise":
        return rows.select_related("org_unit", "industry").order_by("org_unit__path", "name", "pk")
    return rows.select_related("person", "enterprise", "enterprise__org_unit").order_by(
        "enterprise__org_unit__path", "enterprise__name", "pk"
    )


@dataclass
class DashboardCell:
    row: IndicatorRow
    status: str | None


@dataclass
class DashboardUnit:
    unit_id: int
    code: str
    name: str
    level: int
    cells: dict[str, DashboardCell]


@dataclass
class Dashboard:
    """The unit and its children with their cells; the units of any level below on request (``nodes_at``,
    then ``entries`` for the ones shown)."""

    unit: DashboardUnit
    children: list[DashboardUnit]
    table: IndicatorTable

    def nodes_at(self, level: int) -> list[UnitNode]:
        """The units of ``level`` below the dashboard's unit, in the official code order."""
        return sorted((node for node in self.table.nodes[1:] if node.level == level), key=lambda n: n.code)

    def entries(self, nodes: list[UnitNode]) -> list[DashboardUnit]:
        return [_dashboard_unit(self.table, node) for node in nodes]


def _dashboard_unit(table: IndicatorTable, node: UnitNode) -> DashboardUnit:
    cells = {
        row.indicator: DashboardCell(row, target_status(row.rate, row.target))
        for row in table.rows(nodes=[node])
    }
    return DashboardUnit(node.unit_id, node.code, node.name, node.level, cells)


def dashboard_for_user(
    user: Any, *, unit: OrgUnit, day: datetime.date, hierarchy: str, chosen: str
) -> Dashboard:
    """Every indicator for the unit and all units below it on ``day``, grouped per unit with target status.

    One engine call: the cards, the children's bar chart and the table all come from the same table of figures;
    cells are built only for the units shown.
    """
    if hierarchy == AS_OF:
        version = unit.versions.filter(active_on_q(day)).first()
        if version is None:
            from safetynet.indicators.engine import UnitNotFound

            raise UnitNotFound(f"{unit.name}在 {day} 尚不存在或已撤销")
        code = version.code
    else:
        code = unit.code
    table = compute_table_cached(day=day, unit_code=code, hierarchy=hierarchy)
    top = table.nodes[0]
    # One order everywhere: the official code order, as in the org tree (the engine answers in path order,
    # i.e. the order the units were created in).
    children = sorted((node for node in table.nodes if node.parent_id == top.unit_id), key=lambda n: n.code)
    return Dashboard(
        unit=_dashboard_unit(table, top), children=[_dashboard_unit(table, n) for n in children], table=table
    )
