"""Staff pages of the registry: the unit tree, enterprises and grassroots unions.

Thin on purpose: every read goes through ``orgs.selectors`` or ``get_for_user`` (a record of another unit is
a 404 like a missing one), every write through one ``orgs.services`` call with ``actor=request.user``.
"""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from safetynet.core.errors import ServiceError
from safetynet.core.normalize import chinese, clean_text
from safetynet.core.scope import get_for_user
from safetynet.core.selectors import audit_history
from safetynet.core.services import audit_snapshot
from safetynet.core.views_base import ScopedMixin, StaffView
from safetynet.orgs import exports, selectors, services
from safetynet.orgs.forms import (
    CoverageAddForm,
    CoverageEndForm,
    EnterpriseFilterForm,
    EnterpriseForm,
    OrgUnitCloseForm,
    OrgUnitCreateForm,
    OrgUnitMoveForm,
    OrgUnitRenameForm,
    UnionForm,
)
from safetynet.orgs.models import (
    Enterprise,
    GrassrootsUnion,
    OrgUnit,
    UnionType,
)

PAGE_SIZE = 50
# Dated rows newest first; the open-ended "since before records began" row (no start) last on every database.
NEWEST_FIRST = F("valid_from").desc(nulls_last=True)
TREE_SEARCH_LIMIT = 50


# --- small helpers ---------------------------------------------------------------------------


def query_string(request: HttpRequest, *, drop: tuple[str, ...] = (), **updates: Any) -> str:
    """The current query parameters with some dropped or replaced, for links that keep the filters."""
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    for key, value in updates.items():
        params[key] = value
    return params.urlencode()


@dataclass
class SortColumn:
    key: str
    label: str
    url: str = ""
    css: str = "sort"


def sort_columns(request: HttpRequest, columns: list[tuple[str, str]]) -> dict[str, SortColumn]:
    """Header links: a click sorts by the column, a second click reverses it; other filters stay."""
    current = request.GET.get("sort", "")
    result = {}
    for key, label in columns:
        column = SortColumn(key, label)
        if current == key:
            column.css, target = "sort sort-asc", f"-{key}"
        elif current == f"-{key}":
            column.css, target = "sort sort-desc", key
        else:
            target = key
        column.url = "?" + query_string(request, drop=("page",), sort=target)
        result[key] = column
    return result


def first_url(*names: str) -> str | None:
    """The first of these URL names that exists: pages of other modules appear as they are built."""
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def copy_with(record: Any, values: dict[str, Any]) -> Any:
    """An unsaved copy of ``record`` with ``values`` set (to snapshot what a form asks for)."""
    duplicate = copy.copy(record)
    for key, value in values.items():
        setattr(duplicate, key, value)
    return duplicate


def put_form_value(data: Any, form: Any, key: str) -> None:
    """Set ``data[key]`` to what the unbound ``form`` shows for the field, as a browser would send it."""
    value = form[key].value()
    if isinstance(form.fields[key], forms.BooleanField):
        if value:
            data[key] = "on"
        else:
            data.pop(key, None)
    elif isinstance(value, datetime.date):
        data[key] = value.isoformat()
    else:
        data[key] = "" if value is None else str(value)


def blank_as_dash(value: Any) -> str:
    return "（空）" if value in (None, "") else str(value)


class ServiceFormView(ScopedMixin, StaffView):
    """A small form page whose valid POST calls one service; a refusal shows next to its field."""

    template_name = "orgs/form.html"
    title = ""
    submit_label = _("保存")
    submit_class = "btn-primary"
    success_message = ""
    # Service field names that differ from the form's.
    error_fields: dict[str, str] = {}

    def load(self) -> None:
        """Fetch the records the page is about (scoped: 404 when not visible)."""

    def make_form(self, data: Any = None) -> Any:
        raise NotImplementedError

    def perform(self, form: Any) -> str:
        """Call the service; return the URL to go to."""
        raise NotImplementedError

    def cancel_url(self) -> str:
        raise NotImplementedError

    def context(self) -> dict[str, Any]:
        return {}

    def versioned(self) -> tuple[Any, tuple[str, ...]] | None:
        """The record an edit form changes and the fields it shows (optimistic locking), or None."""
        return None

    def render_form(self, form: Any, *, status: int = 200) -> HttpResponse:
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "title": self.title,
                "submit_label": self.submit_label,
                "submit_class": self.submit_class,
                "cancel_url": self.cancel_url(),
                "conflict_entries": getattr(self, "conflict_entries", None),
                **self.context(),
            },
            status=status,
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.load()
        return self.render_form(self.make_form())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.load()
        form = self.make_form(request.POST)
        if form.is_valid():
            try:
                url = self.perform(form)
            except ServiceError as error:
                if error.code == "conflict" and self.versioned():
                    return self.render_conflict(form, error)
                form.add_service_error(self.error_fields.get(error.field or "", error.field), error.message)
            else:
                if self.success_message:
                    messages.success(request, self.success_message)
                return HttpResponseRedirect(url)
        return self.render_form(form)

    def typed_values(self, form: Any) -> dict[str, Any]:
        """What the user asked for, as model attribute values (for comparing with the audit trail)."""
        return form.service_data()

    def render_conflict(self, form: Any, error: ServiceError) -> HttpResponse:
        """Someone saved the record after this form was shown; nothing was saved. Field by field:
        - changed by the other person only: the form now shows their value (the user had not touched it);
        - changed by both, differently: the field says who set what, and keeps the user's value;
        The changes made meanwhile are listed, and the form carries the current version: sending it again
        is then a choice made knowing what the other person did."""
        record, fields = self.versioned()  # type: ignore[misc]
        seen = form.cleaned_data.get("version") or 0
        typed = self.typed_values(form)
        self.conflict_entries = list(services.version_entries(record, fields).filter(pk__gt=seen)[:50])
        self.load()  # the record as it is now
        record, fields = self.versioned()  # type: ignore[misc]
        shown: dict[str, Any] = {}  # field → its value when the form was shown (audit form)
        last_change: dict[str, Any] = {}  # field → the entry that last changed it
        for entry in reversed(self.conflict_entries):
            for key, (before, _after) in entry.changes.items():
                if key in fields and key in typed:
                    shown.setdefault(key, before)
                    last_change[key] = entry
        mine = audit_snapshot(copy_with(record, typed), list(shown))
        now = audit_snapshot(record, list(shown))
        current = self.make_form()
        data = self.request.POST.copy()
        taken, clashes = [], {}
        for key, before in shown.items():
            label = chinese(current.fields[key].label)
            if mine[key] == before:
                put_form_value(data, current, key)
                taken.append(label)
            elif mine[key] != now[key]:
                who, when = services.change_author(last_change[key])
                clashes[key] = (
                    f"{who} 于 {when} 已将“{label}”改为“{blank_as_dash(now[key])}”，与您填写的不同。"
                    "请确定保留哪一个；再次保存将以您填写的为准。"
                )
        data["version"] = str(services.record_version(record, fields))
        form = self.make_form(data)
        form.is_valid()
        form.add_service_error(None, error.message)
        if taken:
            form.add_service_error(
                None, f"您未改动的{'、'.join(f'“{t}”' for t in taken)}已换成对方保存的内容。"
            )
        for key, message in clashes.items():
            form.add_service_error(key, message)
        return self.render_form(form, status=409)


# --- the unit tree ---------------------------------------------------------------------------


@dataclass
class TreeNode:
    unit: OrgUnit
    counts: selectors.UnitCounts
    active: bool = False
    children: list[TreeNode] = field(default_factory=list)


def build_tree(roots: list[OrgUnit], selected: OrgUnit) -> list[TreeNode]:
    """The roots, and below them only the chain down to the selected unit and its children.

    One grouped count per expanded unit (a handful of queries for a four-level hierarchy).
    """
    chain = {int(part) for part in selected.path.split("/") if part}

    def expand(unit: OrgUnit, counts: selectors.UnitCounts) -> TreeNode:
        node = TreeNode(unit=unit, counts=counts, active=unit.pk == selected.pk)
        if unit.pk in chain:
            node.children = [expand(child.unit, child) for child in selectors.orgunit_children_counts(unit)]
        return node

    return [expand(root, selectors.orgunit_counts(root)) for root in roots]


class OrgTreeView(StaffView):
    """Tree left, table right: the selected unit's facts and its children with their counts."""

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        roots = list(selectors.orgunit_roots_for_user(user))
        if not roots:
            raise Http404("您的账号没有所属单位，请联系管理员。")
        unit_id = request.GET.get("unit")
        selected = get_for_user(OrgUnit, user, pk=unit_id) if unit_id else roots[0]
        q = clean_text(request.GET.get("q", ""))
        results = list(selectors.orgunit_list(user, q=q)[:TREE_SEARCH_LIMIT]) if q else None
        tree = build_tree(roots, selected) if results is None else []
        side = {"tree": tree, "results": results, "q": q, "selected": selected}
        if is_htmx(request):
            return render(request, "orgs/_tree_panel.html", side)
        root_paths = tuple(root.path for root in roots)
        return render(
            request,
            "orgs/tree.html",
            {
                **side,
                "unit": selected,
                "counts": selectors.orgunit_counts(selected),
                "children": [
                    {"counts": row, "uncovered": row.eligible - row.covered}
                    for row in selectors.orgunit_children_counts(selected)
                ],
                "ancestors": [a for a in selected.ancestors() if a.path.startswith(root_paths)],
                "can_edit_units": user.can("edit_units"),
            },
        )


class UnitDetailView(ScopedMixin, StaffView):
    model = OrgUnit

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        unit = self.get_scoped_object()
        return render(
            request,
            "orgs/unit_detail.html",
            {
                "unit": unit,
                "counts": selectors.orgunit_counts(unit),
                "children": unit.children.order_by("code"),
                "versions": unit.versions.select_related("parent").order_by(NEWEST_FIRST),
                "history": audit_history(unit),
                "can_edit_units": request.user.can("edit_units"),
            },
        )


class UnitFormView(ServiceFormView):
    model = OrgUnit
    capability = "edit_units"

    def load(self) -> None:
        self.unit = self.get_scoped_object()

    def cancel_url(self) -> str:
        return reverse("orgs:unit_detail", args=[self.unit.pk])

    def context(self) -> dict[str, Any]:
        return {"unit": self.unit}


class UnitEditView(UnitFormView):
    title = _("更名或变更区划代码")
    success_message = _("单位信息已更新。")

    def make_form(self, data: Any = None) -> OrgUnitRenameForm:
        version = services.record_version(self.unit, services.ORGUNIT_EDIT_FIELDS)
        return OrgUnitRenameForm(
            data, initial={"name": self.unit.name, "code": self.unit.code, "version": version}
        )

    def versioned(self) -> tuple[Any, tuple[str, ...]]:
        return self.unit, services.ORGUNIT_EDIT_FIELDS

    def typed_values(self, form: OrgUnitRenameForm) -> dict[str, Any]:
        return {"name": form.cleaned_data["name"], "code": form.cleaned_data["code"]}

    def perform(self, form: OrgUnitRenameForm) -> str:
        services.orgunit_update(
            actor=self.request.user,
            unit=self.unit,
            name=form.cleaned_data["name"],
            code=form.cleaned_data["code"],
            effective_on=form.cleaned_data["effective_on"],
            version=form.cleaned_data["version"],
        )
        return self.cancel_url()


class UnitMoveView(UnitFormView):
    title = _("调整隶属关系")
    submit_label = _("调整")
    success_message = _("隶属关系已调整。")

    def make_form(self, data: Any = None) -> OrgUnitMoveForm:
        return OrgUnitMoveForm(data, user=self.request.user, unit=self.unit)

    def perform(self, form: OrgUnitMoveForm) -> str:
        services.orgunit_move(
            actor=self.request.user,
            unit=self.unit,
            new_parent=form.cleaned_data["parent"],
            effective_on=form.cleaned_data["effective_on"],
        )
        return self.cancel_url()


class UnitCloseView(UnitFormView):
    title = _("停用单位")
    submit_label = _("停用")
    submit_class = "btn-danger"
    success_message = _("单位已停用。")
    error_fields = {"valid_to": "closed_on"}

    def make_form(self, data: Any = None) -> OrgUnitCloseForm:
        return OrgUnitCloseForm(data)

    def perform(self, form: OrgUnitCloseForm) -> str:
        services.orgunit_close(
            actor=self.request.user, unit=self.unit, closed_on=form.cleaned_data["closed_on"]
        )
        return self.cancel_url()


class UnitCreateView(ServiceFormView):
    """A new unit under ``?parent=<pk>``; its level is the one below the parent's."""

    model = OrgUnit
    capability = "edit_units"
    title = _("新增下级单位")
    success_message = _("单位已建立。")
    error_fields = {"valid_to": "valid_from", "parent": None}

    def load(self) -> None:
        parent_id = self.request.GET.get("parent") or self.request.POST.get("parent")
        if not parent_id:
            raise Http404("请从上级单位的页面新增下级单位。")
        self.parent = get_for_user(OrgUnit, self.request.user, pk=parent_id)

    def make_form(self, data: Any = None) -> OrgUnitCreateForm:
        return OrgUnitCreateForm(data, parent=self.parent)

    def cancel_url(self) -> str:
        return reverse("orgs:unit_detail", args=[self.parent.pk])

    def context(self) -> dict[str, Any]:
        return {"unit": self.parent, "form_action": f"?parent={self.parent.pk}"}

    def perform(self, form: OrgUnitCreateForm) -> str:
        unit = services.orgunit_create(
            actor=self.request.user,
            code=form.cleaned_data["code"],
            name=form.cleaned_data["name"],
            level=form.level,
            parent=self.parent,
            valid_from=form.cleaned_data["valid_from"],
        )
        return reverse("orgs:unit_detail", args=[unit.pk])


# --- enterprises -----------------------------------------------------------------------------

ENTERPRISE_SORT_COLUMNS = [
    ("name", _("企业名称")),
    ("code", _("统一社会信用代码")),
    ("unit", _("所属区划")),
    ("headcount", _("职工人数")),
    ("founded", _("成立日期")),
]
FILTER_KEYS = ("q", "unit", "ownership", "sector", "industry", "size", "has_union", "eligible", "status")


def filtered_enterprises(request: HttpRequest) -> tuple[EnterpriseFilterForm, Any, OrgUnit | None]:
    """The enterprise list for the URL's filters; a unit outside the user's scope is a 404."""
    form = EnterpriseFilterForm(request.GET or None, user=request.user)
    kwargs = form.selector_kwargs() if form.is_bound else {}
    unit_id = request.GET.get("unit")
    if unit_id:
        kwargs["unit"] = get_for_user(OrgUnit, request.user, pk=unit_id)
    queryset = selectors.enterprise_list(request.user, sort=request.GET.get("sort", ""), **kwargs)
    return form, queryset, kwargs.get("unit")


class EnterpriseListView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        form, queryset, unit = filtered_enterprises(request)
        page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        filters = query_string(request, drop=("page", "format"))
        export_base = reverse("orgs:enterprise_export")
        return render(
            request,
            "orgs/enterprise_list.html",
            {
                "form": form,
                "unit": unit,
                "page_obj": page_obj,
                "enterprises": page_obj.object_list,
                "columns": sort_columns(request, ENTERPRISE_SORT_COLUMNS),
                "filtered": any(request.GET.get(key) for key in FILTER_KEYS),
                "export_csv_url": f"{export_base}?{filters}{'&' if filters else ''}format=csv",
                "export_xlsx_url": f"{export_base}?{filters}{'&' if filters else ''}format=xlsx",
                "import_url": (lambda url: f"{url}?kind=enterprises" if url else "")(
                    first_url("imports:job_create")
                ),
                "can_edit": request.user.can("edit_registry"),
                "eligible_min": settings.ELIGIBLE_MIN_HEADCOUNT,
            },
        )


class EnterpriseExportView(StaffView):
    """The same list as the page (same filters, same scope), every row, streamed."""

    def get(self, request: HttpRequest) -> HttpResponse:
        export_format = request.GET.get("format", "csv")
        if export_format not in ("csv", "xlsx"):
            raise Http404("导出格式只能是 csv 或 xlsx。")
        _, queryset, _ = filtered_enterprises(request)
        if export_format == "xlsx":
            return exports.enterprise_xlsx_response(queryset)
        return exports.enterprise_csv_response(queryset)


ENTERPRISE_TABS = [
    ("info", _("基本信息")),
    ("unions", _("工会")),
    ("members", _("职工与会员")),
    ("programmes", _("建制")),
    ("cases", _("诉求")),
    ("history", _("变更记录")),
]


class EnterpriseDetailView(ScopedMixin, StaffView):
    model = Enterprise

    def get_base_queryset(self) -> Any:
        return Enterprise.objects.select_related("org_unit", "industry")

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        enterprise = self.get_scoped_object()
        tab = request.GET.get("tab", "info")
        if tab not in dict(ENTERPRISE_TABS):
            tab = "info"
        today = timezone.localdate()
        # is_covered comes from the same selector as the list, so the badge agrees with the list.
        is_covered = (
            selectors.enterprise_list(request.user).filter(pk=enterprise.pk, is_covered=True).exists()
        )
        context: dict[str, Any] = {
            "enterprise": enterprise,
            "unit": enterprise.org_unit,
            "tab": tab,
            "tabs": [(key, label, f"?tab={key}") for key, label in ENTERPRISE_TABS],
            "is_covered": is_covered,
            "is_eligible": enterprise.headcount >= settings.ELIGIBLE_MIN_HEADCOUNT,
            "eligible_min": settings.ELIGIBLE_MIN_HEADCOUNT,
            "can_edit": request.user.can("edit_registry"),
        }
        if tab == "unions":
            coverages = list(selectors.enterprise_unions(enterprise))
            visible = set(
                GrassrootsUnion.objects.visible_to(request.user)
                .filter(pk__in=[c.union_id for c in coverages])
                .values_list("pk", flat=True)
            )
            for coverage in coverages:
                coverage.union_visible = coverage.union_id in visible
                coverage.is_active = (coverage.valid_from is None or coverage.valid_from <= today) and (
                    coverage.valid_to is None or coverage.valid_to > today
                )
            context["coverages"] = coverages
        elif tab == "history":
            context["history"] = audit_history(enterprise)
            context["locations"] = enterprise.locations.select_related("org_unit").order_by(NEWEST_FIRST)
            context["headcounts"] = enterprise.headcounts.order_by(NEWEST_FIRST)
        return render(request, "orgs/enterprise_detail.html", context)


class EnterpriseCreateView(ServiceFormView):
    model = Enterprise
    capability = "edit_registry"
    template_name = "orgs/enterprise_form.html"
    title = _("新增企业")
    success_message = _("企业已登记。")

    def make_form(self, data: Any = None) -> EnterpriseForm:
        initial = {}
        unit_id = self.request.GET.get("unit")
        if unit_id:
            initial["org_unit"] = get_for_user(OrgUnit, self.request.user, pk=unit_id).pk
        return EnterpriseForm(data, user=self.request.user, initial=initial)

    def cancel_url(self) -> str:
        return reverse("orgs:enterprise_list")

    def perform(self, form: EnterpriseForm) -> str:
        enterprise = services.enterprise_create(actor=self.request.user, **form.service_data())
        return reverse("orgs:enterprise_detail", args=[enterprise.pk])


class EnterpriseEditView(ServiceFormView):
    model = Enterprise
    capability = "edit_registry"
    template_name = "orgs/enterprise_form.html"
    success_message = _("企业信息已保存。")

    def load(self) -> None:
        self.enterprise = self.get_scoped_object()
        self.title = gettext("编辑企业：%(name)s") % {"name": self.enterprise.name}

    def make_form(self, data: Any = None) -> EnterpriseForm:
        return EnterpriseForm(data, user=self.request.user, instance=self.enterprise)

    def cancel_url(self) -> str:
        return reverse("orgs:enterprise_detail", args=[self.enterprise.pk])

    def context(self) -> dict[str, Any]:
        return {"enterprise": self.enterprise, "unit": self.enterprise.org_unit}

    def versioned(self) -> tuple[Any, tuple[str, ...]]:
        return self.enterprise, services.ENTERPRISE_AUDIT_FIELDS

    def perform(self, form: EnterpriseForm) -> str:
        services.enterprise_update(
            actor=self.request.user,
            enterprise=self.enterprise,
            data=form.service_data(),
            effective_on=form.cleaned_data.get("effective_on"),
            version=form.cleaned_data.get("version"),
        )
        return self.cancel_url()


# --- grassroots unions -----------------------------------------------------------------------

UNION_SORT_COLUMNS = [
    ("name", _("工会名称")),
    ("unit", _("所属区划")),
    ("founded", _("成立日期")),
    ("enterprises", _("覆盖企业")),
]
UNION_FILTER_KEYS = ("q", "unit", "type", "status")


class UnionListView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        unit_id = request.GET.get("unit")
        unit = get_for_user(OrgUnit, user, pk=unit_id) if unit_id else None
        union_type = request.GET.get("type", "")
        union_type = union_type if union_type in UnionType.values else ""
        status = request.GET.get("status", "")
        q = clean_text(request.GET.get("q", ""))
        queryset = selectors.union_list(
            user, unit=unit, q=q, union_type=union_type, status=status, sort=request.GET.get("sort", "")
        )
        page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        units = OrgUnit.objects.visible_to(user).filter(level__lte=3).order_by("path")
        return render(
            request,
            "orgs/union_list.html",
            {
                "page_obj": page_obj,
                "unions": page_obj.object_list,
                "columns": sort_columns(request, UNION_SORT_COLUMNS),
                "filter": {"q": q, "unit": unit, "type": union_type, "status": status},
                "unit_choices": units if unit is None or unit in units else [*units, unit],
                "type_choices": UnionType.choices,
                "filtered": any(request.GET.get(key) for key in UNION_FILTER_KEYS),
                "can_edit": user.can("edit_registry"),
                "today": timezone.localdate(),
            },
        )


class UnionDetailView(ScopedMixin, StaffView):
    model = GrassrootsUnion

    def get_base_queryset(self) -> Any:
        return GrassrootsUnion.objects.select_related("org_unit")

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        union = self.get_scoped_object()
        today = timezone.localdate()
        coverages = list(selectors.union_coverages(union))
        visible = set(
            Enterprise.objects.visible_to(request.user)
            .filter(pk__in=[c.enterprise_id for c in coverages])
            .values_list("pk", flat=True)
        )
        for coverage in coverages:
            coverage.enterprise_visible = coverage.enterprise_id in visible
            coverage.is_active = (coverage.valid_from is None or coverage.valid_from <= today) and (
                coverage.valid_to is None or coverage.valid_to > today
            )
        return render(
            request,
            "orgs/union_detail.html",
            {
                "union": union,
                "unit": union.org_unit,
                "coverages": coverages,
                "active_count": sum(1 for c in coverages if c.is_active),
                "history": audit_history(union),
                "can_edit": request.user.can("edit_registry"),
                "cover_form": CoverageAddForm(user=request.user, initial={"valid_from": today}),
                "today": today,
            },
        )


class UnionCreateView(ServiceFormView):
    model = GrassrootsUnion
    capability = "edit_registry"
    template_name = "orgs/union_form.html"
    title = _("新增基层工会")
    success_message = _("工会已建立。")

    def make_form(self, data: Any = None) -> UnionForm:
        initial: dict[str, Any] = {}
        enterprise_id = self.request.GET.get("enterprise")
        if enterprise_id:
            # "为该企业建会" from an enterprise page: its unit and code are filled in.
            enterprise = get_for_user(Enterprise, self.request.user, pk=enterprise_id)
            initial = {
                "org_unit": enterprise.org_unit_id,
                "enterprise_codes": enterprise.credit_code,
                "name": f"{enterprise.name}工会委员会",
                "union_type": "single",
            }
        return UnionForm(data, user=self.request.user, initial=initial)

    def cancel_url(self) -> str:
        return reverse("orgs:union_list")

    def perform(self, form: UnionForm) -> str:
        union = services.union_create(
            actor=self.request.user, enterprises=form.enterprises, **form.service_data()
        )
        return reverse("orgs:union_detail", args=[union.pk])


class UnionEditView(ServiceFormView):
    model = GrassrootsUnion
    capability = "edit_registry"
    template_name = "orgs/union_form.html"
    success_message = _("工会信息已保存。")

    def load(self) -> None:
        self.union = self.get_scoped_object()
        self.title = gettext("编辑工会：%(name)s") % {"name": self.union.name}

    def make_form(self, data: Any = None) -> UnionForm:
        return UnionForm(data, user=self.request.user, instance=self.union)

    def cancel_url(self) -> str:
        return reverse("orgs:union_detail", args=[self.union.pk])

    def context(self) -> dict[str, Any]:
        return {"union": self.union, "unit": self.union.org_unit}

    def versioned(self) -> tuple[Any, tuple[str, ...]]:
        return self.union, services.UNION_AUDIT_FIELDS

    def perform(self, form: UnionForm) -> str:
        services.union_update(
            actor=self.request.user,
            union=self.union,
            data=form.service_data(),
            version=form.cleaned_data.get("version"),
        )
        return self.cancel_url()


class UnionCoverEnterpriseView(ServiceFormView):
    model = GrassrootsUnion
    capability = "edit_registry"
    title = _("增加覆盖企业")
    submit_label = _("增加覆盖")
    success_message = _("已增加覆盖企业。")
    error_fields = {"enterprise": "credit_code"}

    def load(self) -> None:
        self.union = self.get_scoped_object()

    def make_form(self, data: Any = None) -> CoverageAddForm:
        return CoverageAddForm(data, user=self.request.user, initial={"valid_from": timezone.localdate()})

    def cancel_url(self) -> str:
        return reverse("orgs:union_detail", args=[self.union.pk])

    def context(self) -> dict[str, Any]:
        return {"union": self.union, "unit": self.union.org_unit}

    def perform(self, form: CoverageAddForm) -> str:
        services.union_cover_enterprise(
            actor=self.request.user,
            union=self.union,
            enterprise=form.enterprise,
            valid_from=form.cleaned_data["valid_from"],
            valid_to=form.cleaned_data["valid_to"],
        )
        return self.cancel_url()


class UnionEndCoverageView(ServiceFormView):
    model = GrassrootsUnion
    capability = "edit_registry"
    title = _("结束覆盖")
    submit_label = _("结束覆盖")
    submit_class = "btn-danger"
    success_message = _("覆盖已结束。")

    def load(self) -> None:
        self.union = self.get_scoped_object()
        self.coverage = (
            self.union.coverages.select_related("enterprise").filter(pk=self.kwargs["coverage_pk"]).first()
        )
        if self.coverage is None:
            raise Http404("未找到该覆盖记录。")

    def make_form(self, data: Any = None) -> CoverageEndForm:
        return CoverageEndForm(
            data, union=self.union, initial={"coverage": self.coverage.pk, "valid_to": timezone.localdate()}
        )

    def cancel_url(self) -> str:
        return reverse("orgs:union_detail", args=[self.union.pk])

    def context(self) -> dict[str, Any]:
        return {
            "union": self.union,
            "unit": self.union.org_unit,
            "intro": gettext("结束“%(union)s”对“%(enterprise)s”的覆盖。")
            % {"union": self.union.name, "enterprise": self.coverage.enterprise.name},
        }

    def perform(self, form: CoverageEndForm) -> str:
        services.union_end_coverage(
            actor=self.request.user, coverage=self.coverage, valid_to=form.cleaned_data["valid_to"]
        )
        return self.cancel_url()
