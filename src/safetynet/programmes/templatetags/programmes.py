"""``{% enterprise_programmes enterprise as panel %}``: the 建制 panel of an enterprise page.

The enterprise page belongs to orgs, which never imports programmes; its template loads this tag, so the
panel's data comes from here without any change to the orgs views.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from safetynet.orgs.models import Enterprise
from safetynet.programmes import selectors
from safetynet.programmes.models import CollectiveContract

register = template.Library()


@register.simple_tag(takes_context=True)
def enterprise_programmes(context: Any, enterprise: Enterprise) -> selectors.EnterpriseProgrammes:
    """The enterprise's programmes today. A regional contract handled above the user's unit is listed but
    not linked (its page is outside the user's scope)."""
    panel = selectors.enterprise_programmes(enterprise, timezone.localdate())
    request = context.get("request")
    user = getattr(request, "user", None)
    visible = set(
        CollectiveContract.objects.visible_to(user)
        .filter(pk__in=[c.pk for c in panel.contracts])
        .values_list("pk", flat=True)
    )
    for contract in panel.contracts:
        contract.visible = contract.pk in visible
    context["can_edit_programmes"] = bool(user and user.can("edit_registry"))
    return panel
