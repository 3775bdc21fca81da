"""Reads of the registry that matter: scoped lists with their filters, the tree with its counts."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from safetynet.orgs.models import (
    Enterprise,
    GrassrootsUnion,
    OrgUnit,
    UnionCoverage,
    active_on_q,
)


def covered_on_q(day: datetime.date) -> Exists:
    """An enterprise is covered on ``day`` when an active union covers it through a coverage active that day."""
    return Exists(
        UnionCoverage.objects.filter(enterprise=OuterRef("pk"))
        .filter(active_on_q(day))
        .filter(union__founded_on__lte=day)
        .filter(Q(union__dissolved_on__isnull=True) | Q(union__dissolved_on__gt=day))
    )


def orgunit_list(
    user: Any,
    *,
    within: OrgUnit | None = None,
    q: str = "",
    level: int | None = None,
    include_closed: bool = True,
) -> QuerySet[OrgUnit]:
    qs = OrgUnit.objects.visible_to(user)
    if within is not None:
        qs = qs.within(within.path)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__startswith=q))
    if level:
        qs = qs.filter(level=level)
    if not include_closed:
        qs = qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=timezone.localdate()))
    return qs.select_related("parent")


def orgunit_roots_for_user(user: Any) -> QuerySet[OrgUnit]:
    """The top of what the user sees: their own unit (or the city for an unscoped superuser)."""
    if getattr(user, "org_unit_id", None):
        return OrgUnit.objects.filter(pk=user.org_unit_id)
    return OrgUnit.objects.visible_to(user).filter(parent__isnull=True)


@dataclass(frozen=True)
class UnitCounts:
    unit: OrgUnit
    enterprises: int
    eligible: int
    covered: int
    unions: int

    @property
    def union_rate(self) -> float | None:
        return self.covered / self.eligible if self.eligible else None


def orgunit_children_counts(parent: OrgUnit, *, day: datetime.date | None = None) -> list[UnitCounts]:
    """Each child of ``parent`` with the totals of its whole subtree: operating enterprises, eligible ones
    (headcount at least ELIGIBLE_MIN_HEADCOUNT), covered eligible ones and active unions.

    Three grouped queries over the subtree, rolled up along the paths; no query per unit.
    """
    day = day or timezone.localdate()
    children = list(parent.children.all().order_by("code"))
    if not children:
        return []
    minimum = settings.ELIGIBLE_MIN_HEADCOUNT
    enterprises = Enterprise.objects.within(parent.path).operating_on(day)
    by_unit_enterprises = enterprises.values("org_unit__path").annotate(
        total=Count("pk"),
        eligible=Count("pk", filter=Q(headcount__gte=minimum)),
    )
    covered = (
        enterprises.filter(headcount__gte=minimum)
        .filter(covered_on_q(day))
        .values("org_unit__path")
        .annotate(n=Count("pk"))
    )
    unions = (
        GrassrootsUnion.objects.within(parent.path)
        .active_on(day)
        .values("org_unit__path")
        .annotate(n=Count("pk"))
    )
    totals: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    child_by_prefix = {c.path: c.pk for c in children}
    prefix_len = len(parent.path)

    def child_of(path: str) -> int | None:
        rest = path[prefix_len:]
        head = rest.split("/", 1)[0]
        return child_by_prefix.get(f"{parent.path}{head}/") if head else None

    for row in by_unit_enterprises:
        child = child_of(row["org_unit__path"])
        if child:
            totals[child]["enterprises"] += row["total"]
            totals[child]["eligible"] += row["eligible"]
    for row in covered:
        child = child_of(row["org_unit__path"])
        if child:
            totals[child]["covered"] += row["n"]
    for row in unions:
        child = child_of(row["org_unit__path"])
        if child:
            totals[child]["unions"] += row["n"]
    return [
        UnitCounts(
            unit=c,
            enterprises=totals[c.pk]["enterprises"],
            eligible=totals[c.pk]["eligible"],
            covered=totals[c.pk]["covered"],
            unions=totals[c.pk]["unions"],
        )
        for c in children
    ]


def orgunit_counts(unit: OrgUnit, *, day: datetime.date | None = None) -> UnitCounts:
    """The same totals for one unit's whole subtree."""
    day = day or timezone.localdate()
    minimum = settings.ELIGIBLE_MIN_HEADCOUNT
    enterprises = Enterprise.objects.within(unit.path).operating_on(day)
    agg = enterprises.aggregate(total=Count("pk"), eligible=Count("pk", filter=Q(headcount__gte=minimum)))
    return UnitCounts(
        unit=unit,
        enterprises=agg["total"],
        eligible=agg["eligible"],
        covered=enterprises.filter(headcount__gte=minimum).filter(covered_on_q(day)).count(),
        unions=GrassrootsUnion.objects.within(unit.path).active_on(day).count(),
    )


ENTERPRISE_SORTS = {
    "name": "name",
    "-name": "-name",
    "code": "credit_code",
    "-code": "-credit_code",
    "headcount": "headcount",
    "-headcount": "-headcount",
    "founded": "founded_on",
    "-founded": "-founded_on",
    "unit": "org_unit__path",
    "-unit": "-org_unit__path",
}


def enterprise_list(
    user: Any,
    *,
    unit: OrgUnit | None = None,
    q: str = "",
    ownership: str = "",
    sector: str = "",
    industry: str = "",
    above_designated_size: bool | None = None,
    has_union: bool | None = None,
    eligible_only: bool = False,
    status: str = "",
    sort: str = "",
    day: datetime.date | None = None,
) -> QuerySet[Enterprise]:
    """Enterprises the user may see, filtered; each carries ``is_covered`` (a union covers it today)."""
    day = day or timezone.localdate()
    qs = Enterprise.objects.visible_to(user).select_related("org_unit", "industry")
    if unit is not None:
        qs = qs.within(unit.path)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(credit_code__startswith=q.upper()))
    if ownership:
        qs = qs.filter(ownership=ownership)
    if sector == "public":
        qs = qs.public()
    elif sector == "nonpublic":
        qs = qs.nonpublic()
    if industry:
        qs = qs.filter(industry_id=industry)
    if above_designated_size is not None:
        qs = qs.filter(above_designated_size=above_designated_size)
    if eligible_only:
        qs = qs.filter(headcount__gte=settings.ELIGIBLE_MIN_HEADCOUNT)
    if status == "operating":
        qs = qs.operating_on(day)
    elif status == "deregistered":
        qs = qs.filter(deregistered_on__lte=day)
    qs = qs.annotate(is_covered=covered_on_q(day))
    if has_union is not None:
        qs = qs.filter(is_covered=has_union)
    return qs.order_by(ENTERPRISE_SORTS.get(sort, "org_unit__path"), "name", "pk")


UNION_SORTS = {
    "name": "name",
    "-name": "-name",
    "founded": "founded_on",
    "-founded": "-founded_on",
    "unit": "org_unit__path",
    "-unit": "-org_unit__path",
    "enterprises": "covered_count",
    "-enterprises": "-covered_count",
}


def union_list(
    user: Any,
    *,
    unit: OrgUnit | None = None,
    q: str = "",
    union_type: str = "",
    status: str = "",
    sort: str = "",
    day: datetime.date | None = None,
) -> QuerySet[GrassrootsUnion]:
    day = day or timezone.localdate()
    qs = GrassrootsUnion.objects.visible_to(user).select_related("org_unit")
    if unit is not None:
        qs = qs.within(unit.path)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(chair_name__icontains=q))
    if union_type:
        qs = qs.filter(union_type=union_type)
    if status == "active":
        qs = qs.active_on(day)
    elif status == "dissolved":
        qs = qs.filter(dissolved_on__lte=day)
    qs = qs.annotate(covered_count=Count("coverages", filter=active_on_q(day, "coverages__"), distinct=True))
    return qs.order_by(UNION_SORTS.get(sort, "org_unit__path"), "name", "pk")


def enterprise_unions(enterprise: Enterprise) -> QuerySet[UnionCoverage]:
    """Every coverage of the enterprise, the union's included, newest first."""
    return enterprise.coverages.select_related("union", "union__org_unit").order_by("-valid_from")


def union_coverages(union: GrassrootsUnion) -> QuerySet[UnionCoverage]:
    return union.coverages.select_related("enterprise", "enterprise__org_unit").order_by("enterprise__name")
