"""劳模工匠和劳动竞赛: every read that matters."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from safetynet.core.normalize import clean_text
from safetynet.exemplars.models import Competition, CompetitionEntry, Honour, PioneerTeam, Studio


def _narrowed(queryset: QuerySet, *, unit: Any, **equal_to: Any) -> QuerySet:
    """Within ``unit``'s subtree when a unit is given, and equal to each filter that is given (an empty
    value filters nothing)."""
    if unit is not None:
        queryset = queryset.within(unit.path)
    for field, value in equal_to.items():
        if value:
            queryset = queryset.filter(**{field: value})
    return queryset


def honour_list(
    user: Any, *, q: str = "", kind: str = "", level: str = "", year: Any = None, unit: Any = None
) -> QuerySet[Honour]:
    queryset = Honour.objects.visible_to(user).select_related("person", "enterprise", "org_unit")
    queryset = _narrowed(queryset, unit=unit, kind=kind, level=level, year=year)
    q = clean_text(q)
    if q:
        queryset = queryset.filter(Q(person__name__startswith=q) | Q(enterprise__name__contains=q))
    return queryset


def team_list(
    user: Any, *, q: str = "", level: str = "", year: Any = None, unit: Any = None
) -> QuerySet[PioneerTeam]:
    queryset = PioneerTeam.objects.visible_to(user).select_related("enterprise", "org_unit")
    queryset = _narrowed(queryset, unit=unit, level=level, year=year)
    q = clean_text(q)
    if q:
        queryset = queryset.filter(Q(name__contains=q) | Q(enterprise__name__contains=q))
    return queryset


def studio_list(user: Any, *, q: str = "", level: str = "", unit: Any = None) -> QuerySet[Studio]:
    queryset = Studio.objects.visible_to(user).select_related("leader", "enterprise", "org_unit")
    queryset = _narrowed(queryset, unit=unit, level=level)
    q = clean_text(q)
    if q:
        queryset = queryset.filter(
            Q(name__contains=q) | Q(enterprise__name__contains=q) | Q(leader__name__startswith=q)
        )
    return queryset


def studio_totals(queryset: QuerySet[Studio]) -> dict[str, Any]:
    return queryset.aggregate(
        count=Count("pk"), patents=Sum("patents"), savings=Sum("savings"), members=Sum("members_count")
    )


def competition_list(user: Any, *, q: str = "", kind: str = "", year: Any = None) -> QuerySet[Competition]:
    queryset = Competition.objects.visible_to(user).select_related("org_unit")
    if kind:
        queryset = queryset.filter(kind=kind)
    if year:
        queryset = queryset.filter(starts_on__year__lte=year, ends_on__year__gte=year)
    q = clean_text(q)
    if q:
        queryset = queryset.filter(name__contains=q)
    return queryset


def competition_entries(user: Any, competition: Competition) -> QuerySet[CompetitionEntry]:
    """The entries of a competition the user sees (their own subtree's enterprises)."""
    return (
        CompetitionEntry.objects.visible_to(user)
        .filter(competition=competition)
        .select_related("enterprise__org_unit", "competition")
        .order_by("enterprise__name")
    )
