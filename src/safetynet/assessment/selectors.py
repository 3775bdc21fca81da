"""目标考核: every read that matters, scoped to the user.

A scheme is seen by the level running it (and above) and, once published, by the units it assesses (and
below). Scores of a unit are seen by that unit and the levels above it; the ranking of every unit only once
the bulletin is published. Evidence is seen by its unit and the levels above it, never by a sibling.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from safetynet.assessment import scoring
from safetynet.assessment.models import (
    Appeal,
    Evidence,
    FinalScore,
    Item,
    Letter,
    Review,
    Scheme,
    SchemeStatus,
    VetoFinding,
)
from safetynet.assessment.services import can_run
from safetynet.core.scope import get_for_user, user_scope_path
from safetynet.orgs.models import OrgUnit


def scheme_list(user: Any) -> QuerySet[Scheme]:
    return Scheme.objects.visible_to(user).select_related("org_unit")


def scheme_for_user(user: Any, pk: Any) -> Scheme:
    return get_for_user(Scheme.objects.select_related("org_unit"), user, pk=pk)


def item_for_user(user: Any, pk: Any) -> Item:
    """An item of a scheme the user sees (404 otherwise, like a missing one): items follow their scheme."""
    try:
        return (
            Item.objects.select_related("scheme", "scheme__org_unit")
            .filter(scheme__in=Scheme.objects.visible_to(user))
            .get(pk=pk)
        )
    except (Item.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该记录，或您无权查看。") from None


def scheme_default(user: Any) -> Scheme | None:
    """The scheme a page shows first: the newest one the user sees, the city's before a district's own."""
    return scheme_list(user).order_by("-year", "org_unit__path").first()


def visible_unit_ids(user: Any, scheme: Scheme) -> set[int] | None:
    """The assessed units whose item scores the user may see (None: all of them — the runner's level)."""
    if can_see_all(user, scheme):
        return None
    path = user_scope_path(user) or "\0"
    return set(
        OrgUnit.objects.filter(parent=scheme.org_unit, path__startswith=path).values_list("pk", flat=True)
    )


def can_see_all(user: Any, scheme: Scheme) -> bool:
    path = user_scope_path(user)
    return path is not None and scheme.org_unit.path.startswith(path)


def can_manage(user: Any, scheme: Scheme) -> bool:
    return can_run(user, scheme.org_unit)


def assessed_unit_for_user(user: Any, scheme: Scheme, unit_pk: Any) -> OrgUnit:
    """An assessed unit of the scheme that the user may see (404 otherwise, like a missing one)."""
    unit = get_for_user(OrgUnit, user, pk=unit_pk)
    if unit.parent_id != scheme.org_unit_id:
        raise Http404("未找到该记录，或您无权查看。")
    return unit


@dataclass
class Board:
    scheme: Scheme
    day: datetime.date
    sheet: scoring.ScoreSheet  # live as of ``day``
    final: scoring.ScoreSheet | None  # frozen figures, when frozen
    differs: dict[tuple[int, int | None], Any]  # (unit, item or None) → live points differing from the final


def score_board(user: Any, scheme: Scheme, day: datetime.date) -> Board:
    """Live scores of the units the user may see (one pass), and the frozen ones beside them."""
    unit_ids = visible_unit_ids(user, scheme)
    sheet = scoring.compute_sheet(scheme, day, unit_ids)
    final = None
    differs: dict[tuple[int, int | None], Any] = {}
    if scheme.status in (SchemeStatus.FROZEN, SchemeStatus.BULLETIN):
        final = scoring.final_sheet(scheme)
        if unit_ids is not None:
            final.units = [u for u in final.units if u.unit.unit_id in unit_ids]
        for unit_score in final.units:
            live = sheet.unit(unit_score.unit.unit_id)
            if live is None:
                continue
            for item_id, score in unit_score.items.items():
                live_item = live.items.get(item_id)
                if live_item is not None and live_item.points != score.points:
                    differs[(unit_score.unit.unit_id, item_id)] = live_item.points
            if live.total != unit_score.total:
                differs[(unit_score.unit.unit_id, None)] = live.total
    return Board(scheme=scheme, day=day, sheet=sheet, final=final, differs=differs)


def published_ranking(user: Any, scheme: Scheme) -> scoring.ScoreSheet | None:
    """Every unit's final figures: for the runner once frozen, for everyone once the bulletin is out."""
    if scheme.status == SchemeStatus.BULLETIN or (
        scheme.status == SchemeStatus.FROZEN and can_see_all(user, scheme)
    ):
        return scoring.final_sheet(scheme)
    return None


def evidence_for(user: Any, scheme: Scheme, unit: OrgUnit) -> QuerySet[Evidence]:
    return (
        Evidence.objects.visible_to(user)
        .filter(item__scheme=scheme, org_unit=unit)
        .select_related("item", "uploaded_by")
    )


def reviews_for(user: Any, scheme: Scheme, unit: OrgUnit) -> QuerySet[Review]:
    return Review.objects.visible_to(user).filter(item__scheme=scheme, org_unit=unit).select_related("item")


def vetoes_for(user: Any, scheme: Scheme, unit: OrgUnit) -> QuerySet[VetoFinding]:
    return (
        VetoFinding.objects.visible_to(user).filter(item__scheme=scheme, org_unit=unit).select_related("item")
    )


def appeals_for(user: Any, scheme: Scheme, unit: OrgUnit | None = None) -> QuerySet[Appeal]:
    appeals = Appeal.objects.visible_to(user).filter(scheme=scheme).select_related("item", "org_unit")
    return appeals.filter(org_unit=unit) if unit is not None else appeals


def final_scores_for(user: Any, scheme: Scheme, unit: OrgUnit) -> dict[int | None, FinalScore]:
    return {f.item_id: f for f in FinalScore.objects.visible_to(user).filter(scheme=scheme, org_unit=unit)}


def letter_list(user: Any) -> QuerySet[Letter]:
    return Letter.objects.visible_to(user).select_related("scheme", "org_unit", "signed_by")


def letter_for_user(user: Any, pk: Any) -> Letter:
    return get_for_user(Letter.objects.select_related("scheme", "scheme__org_unit", "org_unit"), user, pk=pk)
