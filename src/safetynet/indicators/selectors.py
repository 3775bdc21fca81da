"""Indicator reads for people: scoped to the user's subtree, with series over months or years."""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from typing import Any

from django.http import Http404

from safetynet.core.scope import user_scope_path
from safetynet.indicators.engine import AS_OF, IndicatorRow, compute
from safetynet.orgs.models import OrgUnit, OrgUnitVersion, active_on_q


def resolve_unit_code_for_user(user: Any, unit_code: str | None, day: datetime.date) -> str:
    """The unit to report on: the one asked for if the user may see it (404 otherwise), else the user's own."""
    path = user_scope_path(user)
    if path is None:
        raise Http404("未找到该单位，或您无权查看。")
    if not unit_code:
        if getattr(user, "org_unit", None) is not None:
            version = OrgUnitVersion.objects.filter(unit=user.org_unit).filter(active_on_q(day)).first()
            return version.code if version else user.org_unit.code
        root = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
        if root is None:
            raise Http404("尚未建立任何单位。")
        return root.code
    # The code may be one the unit carried on that day (普兰店市 210282 before it became 普兰店区 210214).
    visible = OrgUnitVersion.objects.visible_to(user).filter(code=unit_code).exists() or (
        OrgUnit.objects.visible_to(user).filter(code=unit_code).exists()
    )
    if not visible:
        raise Http404("未找到该单位，或您无权查看。")
    return unit_code


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
        raise ValueError("结束日期不能早于开始日期")
    if (end - start).days > 366 * 30:
        raise ValueError("时间跨度过长：最多 30 年")
    rows: list[IndicatorRow] = []
    for day in period_ends(start, end, interval):
        code = resolve_unit_code_for_user(user, unit_code, day)
        day_rows = compute(day=day, unit_code=code, indicator_codes=indicator_codes, hierarchy=hierarchy)
        top_level = min((r.level for r in day_rows), default=0)
        rows.extend(r for r in day_rows if r.level <= top_level + depth)
    return rows


STATUS_MET, STATUS_BEHIND, STATUS_FAR_BEHIND = "met", "behind", "far_behind"


def target_status(rate: float | None, target: float | None) -> str | None:
    """Met (green), behind (amber) or far behind (red); the gap for "far" is a setting (percentage points)."""
    from django.conf import settings

    if rate is None or target is None:
        return None
    if rate >= target:
        return STATUS_MET
    far = getattr(settings, "INDICATOR_FAR_BEHIND_POINTS", 0.05)
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

    day = day or datetime.date.today()
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
