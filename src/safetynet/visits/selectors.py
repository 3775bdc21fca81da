"""走访企业职工: every read that matters."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q, QuerySet

from safetynet.core.normalize import clean_text
from safetynet.orgs.models import Enterprise
from safetynet.visits.models import Visit


def visit_list(user: Any, *, q: str = "", year: int | None = None, unit: Any = None) -> QuerySet[Visit]:
    queryset = Visit.objects.visible_to(user).select_related("enterprise__org_unit", "warning", "case")
    if unit is not None:
        queryset = queryset.within(unit.path)
    if year:
        queryset = queryset.filter(visited_on__year=year)
    q = clean_text(q)
    if q:
        queryset = queryset.filter(
            Q(enterprise__name__contains=q)
            | Q(enterprise__credit_code=q.upper())
            | Q(officer_name__contains=q)
            | Q(worker_name__contains=q)
        )
    return queryset


def enterprise_for_visit(user: Any, text: str) -> tuple[Enterprise | None, str]:
    """The enterprise a credit code or an exact name names among those the user sees, or (None, why)."""
    text = clean_text(text)
    if not text:
        return None, "请填写企业统一社会信用代码或企业全称。"
    by_code = Enterprise.objects.filter(credit_code=text.upper()).select_related("org_unit").first()
    if by_code is None:
        found = list(Enterprise.objects.filter(name=text).select_related("org_unit")[:3])
        if len(found) > 1:
            visible = [e for e in found if Enterprise.objects.visible_to(user).filter(pk=e.pk).exists()]
            if len(visible) == 1:
                return visible[0], ""
            return None, f"名为“{text}”的企业不止一家，请填写统一社会信用代码。"
        by_code = found[0] if found else None
    if by_code is None:
        return None, f"没有找到企业“{text}”，请核对统一社会信用代码或企业全称。"
    return by_code, ""


def visited_enterprise_ids(year: int, day: datetime.date | None = None) -> QuerySet:
    queryset = Visit.objects.filter(visited_on__year=year)
    if day is not None:
        queryset = queryset.filter(visited_on__lte=day)
    return queryset.values("enterprise_id")
