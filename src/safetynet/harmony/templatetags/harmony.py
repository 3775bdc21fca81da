"""``{% load harmony %}{% harmony_enterprise_panel enterprise %}``: the enterprise page's 和谐劳动关系 card
(the approved 和谐企业 in force this year, and the latest scores with their explanations)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from safetynet.harmony.models import Designation, DesignationStatus, Score

register = template.Library()


@register.inclusion_tag("harmony/includes/enterprise_panel.html")
def harmony_enterprise_panel(enterprise: Any) -> dict[str, Any]:
    # The enterprise page has already checked that the user sees the enterprise; its scores are its own.
    designation = (
        Designation.objects.filter(enterprise=enterprise, status=DesignationStatus.APPROVED)
        .order_by("-year")
        .first()
    )
    return {
        "harmony": {
            "designation": designation,
            "expired": designation is not None and designation.valid_to_year < timezone.localdate().year,
            "scores": list(Score.objects.filter(enterprise=enterprise).order_by("-year")[:5]),
        }
    }
