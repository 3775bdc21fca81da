"""和谐劳动关系评价: every read that matters (the ranking stays under a second on the city demo: one
indexed range of (year, -total) walked in order, the unit a prefix filter on the enterprise's unit path)."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, Q, QuerySet

from safetynet.core.normalize import clean_text
from safetynet.harmony.models import Designation, Score
from safetynet.orgs.models import Industry, OrgUnit


def ranking(
    user: Any, *, year: int, unit: OrgUnit | None = None, industry: str = "", q: str = ""
) -> QuerySet[Score]:
    queryset = (
        Score.objects.visible_to(user)
        .filter(year=year)
        .select_related("enterprise", "org_unit", "industry")
        .order_by("-total", "enterprise_id")
    )
    if unit is not None:
        queryset = queryset.within(unit.path)
    if industry:
        queryset = queryset.filter(industry_id=industry)
    q = clean_text(q)
    if q:
        queryset = queryset.filter(Q(enterprise__name__contains=q) | Q(enterprise__credit_code=q.upper()))
    return queryset


SUMMARY_SECONDS = 24 * 3600


def summary(
    user: Any, *, year: int, unit: OrgUnit | None, units: list[OrgUnit], industry: str = ""
) -> dict[str, Any]:
    """The ranking's count and its by-unit and by-industry panels, cached until the year's scores change
    (the key carries ``IndexModel.scores_changed_at``): they read every score of the year in scope."""
    from django.core.cache import cache

    from safetynet.core.scope import user_scope_path
    from safetynet.harmony.models import IndexModel

    stamp = IndexModel.objects.filter(year=year).values_list("scores_changed_at", flat=True).first()
    key = ":".join(
        str(part)
        for part in (
            "harmony-summary",
            year,
            stamp.timestamp() if stamp else "-",
            user_scope_path(user),
            unit.pk if unit else "-",
            industry or "-",
            ",".join(str(u.pk) for u in units),
        )
    )
    found = cache.get(key)
    if found is not None:
        return found
    scores = Score.objects.visible_to(user).filter(year=year)
    if unit is not None:
        scores = scores.within(unit.path)
    if industry:
        scores = scores.filter(industry_id=industry)
    found = {
        "count": scores.count(),
        "by_unit": by_unit(user, year=year, units=units),
        "by_industry": by_industry(user, year=year, unit=unit),
    }
    cache.set(key, found, timeout=SUMMARY_SECONDS)
    return found


def by_unit(user: Any, *, year: int, units: list[OrgUnit]) -> list[dict[str, Any]]:
    """Average index and count per unit (the units directly below the one looked at), in one scan."""
    if not units:
        return []
    base = Score.objects.visible_to(user).filter(year=year)
    aggregates = {}
    for unit in units:
        condition = Q(org_unit__path__startswith=unit.path)
        aggregates[f"avg_{unit.pk}"] = Avg("total", filter=condition)
        aggregates[f"n_{unit.pk}"] = Count("pk", filter=condition)
    values = base.aggregate(**aggregates)
    rows = [{"unit": u, "average": values[f"avg_{u.pk}"], "count": values[f"n_{u.pk}"]} for u in units]
    return sorted(rows, key=lambda r: (r["average"] is None, -(r["average"] or 0)))


def by_industry(user: Any, *, year: int, unit: OrgUnit | None = None) -> list[dict[str, Any]]:
    queryset = Score.objects.visible_to(user).filter(year=year)
    if unit is not None:
        queryset = queryset.within(unit.path)
    rows = list(queryset.order_by().values("industry_id").annotate(average=Avg("total"), count=Count("pk")))
    names = dict(Industry.objects.values_list("code", "name"))
    for row in rows:
        row["name"] = names.get(row["industry_id"], "")
    return sorted(rows, key=lambda r: -(r["average"] or 0))


def designations(
    user: Any, *, year: int | None = None, status: str = "", unit: OrgUnit | None = None
) -> QuerySet[Designation]:
    queryset = Designation.objects.visible_to(user).select_related("enterprise__org_unit", "decided_by")
    if year:
        queryset = queryset.filter(year=year)
    if status:
        queryset = queryset.filter(status=status)
    if unit is not None:
        queryset = queryset.within(unit.path)
    return queryset
