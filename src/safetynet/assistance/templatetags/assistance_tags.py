"""Small display helpers of the 服务帮扶 pages."""

from __future__ import annotations

from typing import Any

from django import template

from safetynet.orgs.models import OrgLevel

register = template.Library()


@register.filter
def level_name(round_: Any, level: int) -> str:
    """街道 / 区市县 / 市 for a level of a round's review chain."""
    try:
        return str(OrgLevel(int(level)).label)
    except (TypeError, ValueError):
        return str(level)


@register.filter
def review_chain(round_: Any) -> str:
    """ "街道 → 区市县" for the round's chain."""
    return " → ".join(level_name(round_, level) for level in round_.levels)


@register.filter
def add_money(amount: Any, allocated: Any) -> str:
    """What the unit keeps: its amount less what it gave to its children (with separators)."""
    from safetynet.core.templatetags.safetynet import decimal

    return decimal(amount - allocated)
