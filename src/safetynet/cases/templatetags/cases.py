"""The 诉求 tab of the enterprise page (orgs owns the page; it includes this app's panel)."""

from __future__ import annotations

from typing import Any

from django import template

from safetynet.cases.selectors import case_list

register = template.Library()


@register.simple_tag(takes_context=True)
def enterprise_cases(context: template.Context, enterprise: Any) -> Any:
    """The cases about this enterprise that the user may see, newest first."""
    return case_list(context["request"].user).filter(enterprise=enterprise).order_by("-received_at")[:50]


@register.simple_tag(takes_context=True)
def can_handle_cases(context: template.Context) -> bool:
    return context["request"].user.can("handle_cases")
