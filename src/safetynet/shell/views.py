"""The staff shell's pages: the home page (工作台), the registry overview and the audit trail."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from safetynet.accounts.models import Capability
from safetynet.core.models import AuditAction
from safetynet.core.normalize import clean_text
from safetynet.core.scope import get_for_user
from safetynet.core.selectors import audit_list_for_user
from safetynet.core.views_base import StaffView
from safetynet.orgs.models import OrgUnit
from safetynet.orgs.selectors import orgunit_children_counts, orgunit_counts, orgunit_roots_for_user

AUDIT_PAGE_SIZE = 50


def _url_or_blank(name: str) -> str:
    # The registry pages live in another area; the landing page still renders while they are missing.
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def picked_unit(request: HttpRequest) -> OrgUnit | None:
    """The unit ``?unit=`` names (404 when the user may not see it), else the user's own (or top) unit."""
    unit_pk = request.GET.get("unit", "")
    if unit_pk:
        return get_for_user(OrgUnit, request.user, pk=unit_pk)
    return orgunit_roots_for_user(request.user).order_by("code").first()


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """工作台: the indicator dashboard where it is installed, else the registry overview."""
    target = _url_or_blank("indicators:dashboard") or _url_or_blank("shell:overview")
    query = request.GET.urlencode()
    return redirect(f"{target}?{query}" if query else target)


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """The registry's counts for the user's unit (or the picked one) and each unit directly below it."""
    unit = picked_unit(request)
    today = timezone.localdate()
    context: dict[str, Any] = {"unit": unit, "counts": None, "children": [], "today": today}
    if unit is not None:
        context["counts"] = orgunit_counts(unit, day=today)
        context["children"] = orgunit_children_counts(unit, day=today)
    context["eligible_minimum"] = settings.ELIGIBLE_MIN_HEADCOUNT
    context["tree_url"] = _url_or_blank("orgs:tree")
    context["enterprise_url"] = _url_or_blank("orgs:enterprise_list")
    context["union_url"] = _url_or_blank("orgs:union_list")
    return render(request, "shell/home.html", context)


def entity_choices(user: Any) -> list[tuple[str, str]]:
    """The kinds of record that have entries in the user's scope (one grouped query)."""
    labels = audit_list_for_user(user).order_by().values_list("entity", flat=True).distinct()
    choices = []
    for label in labels:
        try:
            name = _(str(apps.get_model(label)._meta.verbose_name))
        except (LookupError, ValueError):
            name = label
        choices.append((label, name))
    return sorted(choices, key=lambda c: c[1])


class AuditListView(StaffView):
    """变更记录: every create, change and import in the user's scope, newest first; read-only."""

    capability = Capability.VIEW_AUDIT

    def get(self, request: HttpRequest) -> HttpResponse:
        entity = clean_text(request.GET.get("entity", ""))
        actor = clean_text(request.GET.get("actor", ""))
        action = request.GET.get("action", "")
        if action not in AuditAction.values:
            action = ""
        entries = audit_list_for_user(request.user, entity=entity, actor_name=actor, action=action)
        page_obj = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
        filtered = bool(entity or actor or action)
        return render(
            request,
            "shell/audit_list.html",
            {
                "page_obj": page_obj,
                "entries": page_obj.object_list,
                "entity": entity,
                "actor": actor,
                "action": action,
                "filtered": filtered,
                "entity_choices": entity_choices(request.user),
                "action_choices": [(value, _(label)) for value, label in AuditAction.choices],
                "page_heading": _("变更记录"),
            },
        )


audit_list = AuditListView.as_view()
