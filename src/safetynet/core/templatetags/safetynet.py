"""Filters and tags every staff page uses: numbers, rates, dates, unit crumbs and audit changes."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from safetynet.core.scope import user_scope_path

register = template.Library()

DASH = "—"

# Labels that live in models (Chinese, not marked for translation there) but that the shell shows; listed
# here so the English catalog carries them and ``|tr`` can translate them at display time.
MODEL_LABELS = (
    gettext_noop("市级管理员"),
    gettext_noop("单位管理员"),
    gettext_noop("经办人"),
    gettext_noop("查看人员"),
    gettext_noop("基层工会主席"),
    gettext_noop("新增"),
    gettext_noop("修改"),
    gettext_noop("删除"),
    gettext_noop("导入"),
    gettext_noop("查看个人信息"),
    gettext_noop("企业"),
    gettext_noop("基层工会"),
    gettext_noop("区域单位"),
    gettext_noop("人员账号"),
    gettext_noop("工会覆盖企业"),
    gettext_noop("系统"),
)


@register.filter
def tr(value: Any) -> str:
    """Translate a label that comes from data (a choice label, a verbose name) when the catalog has it."""
    return _(str(value)) if value not in (None, "") else ""


@register.filter
def percent(value: Any, digits: int = 1) -> str:
    """A rate 0..1 as a percentage with one decimal: 0.861 → "86.1 %"; None or garbage → "—"."""
    if value is None or value == "":
        return DASH
    try:
        number = float(value)
    except (TypeError, ValueError):
        return DASH
    return f"{number * 100:.{int(digits)}f} %"


@register.filter
def thousands(value: Any) -> str:
    """A count with thousands separators whatever the language: 12345 → "12,345"; None → "—"."""
    if value is None or value == "":
        return DASH
    try:
        number = int(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:,}"


@register.filter
def date_or_dash(value: Any) -> str:
    """A date as YYYY-MM-DD (a datetime in the local time zone as YYYY-MM-DD HH:MM); empty → "—"."""
    if value in (None, ""):
        return DASH
    if isinstance(value, datetime.datetime):
        from django.utils import timezone

        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%d")
    return str(value)


@register.filter
def decimal(value: Any, digits: int = 2) -> str:
    """A money or decimal value with separators whatever the language: 12000 → "12,000.00".

    Django's Chinese number format groups nothing, so amounts read "505500.00"; officers and auditors read
    "505,500.00" (the format of Chinese financial statements).
    """
    if value in (None, ""):
        return DASH
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{number:,.{int(digits)}f}"


@register.filter
def money(value: Any) -> str:
    """An amount in yuan: 505500 → "505,500.00 元"; None → "—"."""
    if value in (None, ""):
        return DASH
    return f"{decimal(value)} 元"


@register.simple_tag(takes_context=True)
def unit_chain(context: template.Context, unit: Any) -> list[dict[str, Any]]:
    """The units from the city down to ``unit``; those above the user's own unit are not links (they would 404)."""
    if unit is None:
        return []
    request = context.get("request")
    scope = user_scope_path(getattr(request, "user", None)) if request is not None else None
    chain = [*unit.ancestors(), unit]
    return [{"unit": u, "link": scope is not None and u.path.startswith(scope)} for u in chain]


def _model_for(entity: str) -> Any:
    try:
        return apps.get_model(entity)
    except (LookupError, ValueError):
        return None


@register.filter
def entity_label(entity: str) -> str:
    """ "orgs.enterprise" → the model's verbose name (企业)."""
    model = _model_for(entity)
    return _(str(model._meta.verbose_name)) if model is not None else entity


def _field_label(model: Any, name: str) -> str:
    if model is None:
        return name
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    # A reverse relation (a case's "mediation") has no verbose name of its own: name it after its model.
    label = getattr(field, "verbose_name", None)
    if label is None and getattr(field, "related_model", None) is not None:
        label = field.related_model._meta.verbose_name
    return str(label or name)


def _show(value: Any) -> str:
    if value is None or value == "":
        return DASH
    if value is True:
        return _("是")
    if value is False:
        return _("否")
    if isinstance(value, list):
        return "、".join(_show(v) for v in value)
    return str(value)


@register.filter
def audit_changes(entry: Any) -> list[dict[str, str]]:
    """An audit entry's changes as rows of (field label, before, after) for people to read."""
    model = _model_for(entry.entity)
    rows = []
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    for name, pair in changes.items():
        before, after = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        rows.append({"field": _field_label(model, name), "before": _show(before), "after": _show(after)})
    return rows


@register.filter
def page_numbers(page_obj: Any) -> list[int | str]:
    """Page numbers around the current one with "…" for the gaps: 1 … 4 5 [6] 7 8 … 20."""
    return [
        n if isinstance(n, int) else "…"
        for n in page_obj.paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1)
    ]


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``mapping|get_item:key`` — a dictionary entry by a variable key."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


_STATUS = {"met": ("green", "达标"), "behind": ("amber", "落后"), "far_behind": ("red", "严重落后")}


@register.filter
def status_colour(status: str) -> str:
    """Badge colour of a status against target: met green, behind amber, far behind red."""
    return _STATUS.get(status, ("grey", ""))[0]


@register.filter
def status_mark(status: str) -> str:
    """The words that go with the colour (never colour alone)."""
    return _(_STATUS.get(status, ("grey", ""))[1])
