"""Staff pages of the establishment programmes (建制工作).

Thin on purpose: reads through ``programmes.selectors`` or ``get_for_user`` (another unit's record is a 404
like a missing one), every write through one ``programmes.services`` call with ``actor=request.user``; a
refusal (ServiceError) comes back as a message on the form that caused it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from safetynet.core.errors import ServiceError
from safetynet.core.normalize import clean_text
from safetynet.core.scope import get_for_user
from safetynet.core.selectors import audit_history
from safetynet.core.views_base import ScopedMixin, StaffView
from safetynet.orgs.models import Enterprise, OrgUnit
from safetynet.programmes import exports, selectors, services, workflow
from safetynet.programmes.forms import (
    STEP_FORMS,
    ContractFilterForm,
    ContractOfferForm,
    StationForm,
    StepForm,
    SystemFilterForm,
    filter_units,
    year_choices,
)
from safetynet.programmes.models import (
    CollectiveContract,
    ContractAction,
    ContractKind,
    ContractStatus,
    ContractStep,
    ServiceStation,
    StationType,
)

PAGE_SIZE = 50
EDIT = "edit_registry"


# --- small helpers ---------------------------------------------------------------------------


def unit_param(request: HttpRequest) -> OrgUnit | None:
    """The unit named by ``?unit=<pk>``: within the user's scope or a 404."""
    unit_id = request.GET.get("unit")
    return get_for_user(OrgUnit, request.user, pk=unit_id) if unit_id else None


def home_unit(request: HttpRequest) -> OrgUnit:
    """``?unit=`` or the user's own unit (the topmost visible one for a unit-less superuser)."""
    unit = unit_param(request)
    if unit is not None:
        return unit
    if request.user.org_unit_id:
        return request.user.org_unit
    root = OrgUnit.objects.visible_to(request.user).filter(parent__isnull=True).order_by("pk").first()
    if root is None:
        raise Http404("尚未建立任何单位。")
    return root


def day_param(request: HttpRequest, name: str = "as_of") -> datetime.date:
    raw = request.GET.get(name, "")
    try:
        return datetime.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return timezone.localdate()


def query_without(request: HttpRequest, *keys: str) -> str:
    params = request.GET.copy()
    for key in keys:
        params.pop(key, None)
    return params.urlencode()


class FormPageView(StaffView):
    """A form page whose valid POST calls one service; a refusal shows next to its field."""

    template_name = "programmes/form.html"
    title = ""
    submit_label = "保存"
    success_message = ""

    def load(self) -> None:
        """Fetch the records the page is about (scoped: 404 when not visible)."""

    def make_form(self, data: Any = None, files: Any = None) -> Any:
        raise NotImplementedError

    def perform(self, form: Any) -> str:
        raise NotImplementedError

    def cancel_url(self) -> str:
        raise NotImplementedError

    def context(self) -> dict[str, Any]:
        return {}

    def render_form(self, form: Any) -> HttpResponse:
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "title": self.title,
                "submit_label": self.submit_label,
                "cancel_url": self.cancel_url(),
                **self.context(),
            },
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.load()
        return self.render_form(self.make_form())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.load()
        form = self.make_form(request.POST, request.FILES)
        if form.is_valid():
            try:
                url = self.perform(form)
            except ServiceError as error:
                form.add_service_error(error.field, error.message)
            else:
                if self.success_message:
                    messages.success(request, self.success_message)
                return HttpResponseRedirect(url)
        return self.render_form(form)


# --- contracts: list, export, offer ----------------------------------------------------------

CONTRACT_FILTER_KEYS = ("q", "kind", "status", "unit", "expiring", "overdue")


def filtered_contracts(request: HttpRequest) -> tuple[ContractFilterForm, QuerySet, OrgUnit | None]:
    unit = unit_param(request)
    form = ContractFilterForm(request.GET or None, user=request.user)
    kind = request.GET.get("kind", "")
    status = request.GET.get("status", "")
    today = timezone.localdate()
    queryset = selectors.contract_list(
        request.user,
        within=unit,
        kind=kind if kind in ContractKind.values else None,
        status=status if status in ContractStatus.values else None,
        q=clean_text(request.GET.get("q", "")),
        expiring_on=today if request.GET.get("expiring") else None,
        overdue_on=today if request.GET.get("overdue") else None,
    )
    return form, queryset, unit


class ContractListView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        form, queryset, unit = filtered_contracts(request)
        page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        filters = query_without(request, "page")
        return render(
            request,
            "programmes/contract_list.html",
            {
                "form": form,
                "unit": unit,
                "page_obj": page_obj,
                "contracts": page_obj.object_list,
                "filtered": any(request.GET.get(key) for key in CONTRACT_FILTER_KEYS),
                "export_url": reverse("programmes:contract_export") + (f"?{filters}" if filters else ""),
                "can_edit": request.user.can(EDIT),
                "today": timezone.localdate(),
            },
        )


class ContractExportView(StaffView):
    """The same list as the page (same filters, same scope), every row, as XLSX."""

    def get(self, request: HttpRequest) -> HttpResponse:
        _, queryset, _ = filtered_contracts(request)
        return exports.xlsx_response("集体合同", exports.CONTRACT_COLUMNS, exports.contract_rows(queryset))


class ContractCreateView(FormPageView):
    """Record the union's offer to bargain (要约): the contract starts here."""

    capability = EDIT
    title = "发出要约"
    submit_label = "登记要约"
    success_message = "已登记要约。下一步：企业方应约后登记开始协商。"

    def make_form(self, data: Any = None, files: Any = None) -> ContractOfferForm:
        initial: dict[str, Any] = {"offered_on": timezone.localdate(), "kind": ContractKind.WAGE}
        enterprise_id = self.request.GET.get("enterprise")
        if enterprise_id:
            enterprise = get_for_user(Enterprise, self.request.user, pk=enterprise_id)
            initial["enterprise_codes"] = enterprise.credit_code
        return ContractOfferForm(data, files, user=self.request.user, initial=initial)

    def cancel_url(self) -> str:
        return reverse("programmes:contract_list")

    def context(self) -> dict[str, Any]:
        return {"multipart": True, "section": ("集体合同", reverse("programmes:contract_list"))}

    def perform(self, form: ContractOfferForm) -> str:
        contract = services.contract_offer(actor=self.request.user, **form.service_data())
        return reverse("programmes:contract_detail", args=[contract.pk])


# --- contracts: the workflow page ------------------------------------------------------------


@dataclass(frozen=True)
class StepSpec:
    slug: str
    action: str
    label: str  # the button
    success: str
    service: Callable[..., CollectiveContract]


STEPS: dict[str, StepSpec] = {
    spec.slug: spec
    for spec in (
        StepSpec(
            "bargain",
            ContractAction.START_BARGAINING,
            "登记开始协商",
            "已登记开始协商。",
            services.contract_start_bargaining,
        ),
        StepSpec(
            "draft",
            ContractAction.SUBMIT_DRAFT,
            "提交预审",
            "合同草案已提交上级工会预审。",
            services.contract_submit_draft,
        ),
        StepSpec(
            "pre-review",
            ContractAction.PASS_REVIEW,
            "提交预审意见",
            "预审意见已登记。",
            services.contract_pre_review,
        ),
        StepSpec(
            "vote",
            ContractAction.RECORD_VOTE,
            "登记职代会表决",
            "职代会表决已登记。",
            services.contract_record_vote,
        ),
        StepSpec(
            "sign",
            ContractAction.SIGN,
            "登记签订",
            "合同签订已登记，请在 10 日内报送备案。",
            services.contract_sign,
        ),
        StepSpec("file", ContractAction.FILE, "登记备案", "备案已登记。", services.contract_file),
        StepSpec(
            "objection",
            ContractAction.BUREAU_OBJECTION,
            "登记人社部门异议",
            "已登记人社部门异议，合同退回协商。",
            services.contract_bureau_objection,
        ),
        StepSpec(
            "take-effect",
            ContractAction.TAKE_EFFECT,
            "登记生效",
            "合同已生效。",
            services.contract_take_effect,
        ),
        StepSpec("expire", ContractAction.EXPIRE, "登记到期", "合同已登记到期。", services.contract_expire),
        StepSpec("renew", ContractAction.RENEW, "续订", "已发出续订要约。", services.contract_renew),
        StepSpec("withdraw", ContractAction.WITHDRAW, "终止协商", "已终止协商。", services.contract_withdraw),
    )
}
SLUG_BY_ACTION = {spec.action: slug for slug, spec in STEPS.items()}
# The one prominent next step per status; the other allowed steps are offered as small links.
PRIMARY_STEP = {
    ContractStatus.OFFERED: "bargain",
    ContractStatus.BARGAINING: "draft",
    ContractStatus.DRAFT: "pre-review",
    ContractStatus.RETURNED: "draft",
    ContractStatus.REVIEWED: "vote",
    ContractStatus.VOTE_FAILED: "vote",
    ContractStatus.APPROVED: "sign",
    ContractStatus.SIGNED: "file",
    ContractStatus.FILED: "take-effect",
    ContractStatus.IN_FORCE: "renew",
    ContractStatus.EXPIRED: "renew",
}


def is_upper_unit_user(user: Any, contract: CollectiveContract) -> bool:
    """Users of the unit directly above the contract's unit pre-review it (the city's own: the city)."""
    parent_id = contract.org_unit.parent_id
    return user.org_unit_id == (parent_id if parent_id is not None else contract.org_unit_id)


def available_steps(user: Any, contract: CollectiveContract) -> list[str]:
    """The step slugs this user may take now, the prominent one first."""
    if not user.can(EDIT):
        return []
    slugs: list[str] = []
    for action in workflow.allowed_actions(contract.status):
        if action == ContractAction.RETURN_REVIEW:
            continue  # one pre-review form carries both outcomes
        slug = SLUG_BY_ACTION.get(action)
        if slug is None:
            continue
        if slug == "pre-review" and not is_upper_unit_user(user, contract):
            continue
        slugs.append(slug)
    primary = PRIMARY_STEP.get(contract.status)
    if primary in slugs:
        slugs.remove(primary)
        slugs.insert(0, primary)
    return slugs


def step_form(contract: CollectiveContract, slug: str, data: Any = None, files: Any = None) -> StepForm:
    form_class = STEP_FORMS[STEPS[slug].action]
    initial: dict[str, Any] = {}
    if slug == "draft":
        initial = {
            "clauses": contract.clauses,
            "wage_rise_percent": contract.wage_rise_percent,
            "covered_employees": contract.covered_employees,
        }
    elif slug == "sign":
        initial = {
            "wage_rise_percent": contract.wage_rise_percent,
            "covered_employees": contract.covered_employees,
        }
    elif slug == "vote" and contract.representatives_total:
        initial = {"representatives_total": contract.representatives_total}
    elif slug == "take-effect" and contract.deemed_effective_on:
        initial = {
            "on": max(contract.deemed_effective_on, contract.effective_on or contract.deemed_effective_on)
        }
    return form_class(data, files, initial=initial, prefix=None)


def contract_page(
    request: HttpRequest,
    contract: CollectiveContract,
    *,
    slug: str | None = None,
    form: StepForm | None = None,
) -> HttpResponse:
    steps = list(selectors.contract_steps(contract))
    available = available_steps(request.user, contract)
    primary = PRIMARY_STEP.get(contract.status)
    today = timezone.localdate()
    if contract.status == ContractStatus.IN_FORCE and not (
        contract.expires_on
        and contract.expires_on <= today + datetime.timedelta(days=workflow.EXPIRY_REMINDER_DAYS)
    ):
        primary = None  # in force and not expiring soon: nothing is due
    chosen = slug or request.GET.get("step") or primary
    if chosen not in available:
        # Only the prominent step opens by itself; the others (withdraw, objection…) wait for a click.
        chosen = primary if primary in available else None
    if chosen and form is None:
        form = step_form(contract, chosen)
    tab = request.GET.get("tab", "steps")
    context = {
        "contract": contract,
        "unit": contract.org_unit,
        "bar": selectors.contract_step_bar(contract, steps),
        "steps": list(reversed(steps)),
        "coverages": contract.coverages.select_related("enterprise__org_unit").order_by("enterprise__name"),
        "reminders": contract.reminders.all()[:5],
        "step_slug": chosen,
        "step_spec": STEPS.get(chosen) if chosen else None,
        "step_form": form,
        "step_url": reverse(f"programmes:contract_{chosen.replace('-', '_')}", args=[contract.pk])
        if chosen
        else "",
        "other_steps": [STEPS[s] for s in available if s != chosen],
        "awaiting_upper": contract.status == ContractStatus.DRAFT and "pre-review" not in available,
        "upper_unit": contract.org_unit.parent,
        "filing_overdue": contract.filing_overdue_on(today),
        "in_force": contract.in_force_on(today),
        "tab": tab if tab in ("steps", "enterprises", "history") else "steps",
        "today": today,
    }
    if context["tab"] == "history":
        context["history"] = audit_history(contract)
    return render(request, "programmes/contract_detail.html", context)


class ContractDetailView(ScopedMixin, StaffView):
    model = CollectiveContract

    def get_base_queryset(self) -> QuerySet:
        return CollectiveContract.objects.select_related("org_unit__parent", "previous")

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return contract_page(request, self.get_scoped_object())


class ContractStepView(ScopedMixin, StaffView):
    """One workflow step (POST): parse its small form, call its service, back to the contract page."""

    model = CollectiveContract
    capability = EDIT
    slug = ""

    def get_base_queryset(self) -> QuerySet:
        return CollectiveContract.objects.select_related("org_unit__parent", "previous")

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        contract = self.get_scoped_object()
        url = reverse("programmes:contract_detail", args=[contract.pk])
        return HttpResponseRedirect(f"{url}?step={self.slug}#next-step")

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        contract = self.get_scoped_object()
        spec = STEPS[self.slug]
        form = step_form(contract, self.slug, request.POST, request.FILES)
        if form.is_valid():
            try:
                result = spec.service(actor=request.user, contract=contract, **form.service_data())
            except ServiceError as error:
                form.add_service_error(error.field, error.message)
            else:
                messages.success(request, spec.success)
                return HttpResponseRedirect(reverse("programmes:contract_detail", args=[result.pk]))
        return contract_page(request, contract, slug=self.slug, form=form)


class StepAttachmentView(ScopedMixin, StaffView):
    """The document attached to a step, as a download (scoped through its contract)."""

    model = ContractStep

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        step = self.get_scoped_object()
        if not step.attachment:
            messages.info(request, "该步骤没有附件。")
            return HttpResponseRedirect(reverse("programmes:contract_detail", args=[step.contract_id]))
        try:
            handle = step.attachment.open("rb")
        except FileNotFoundError:
            raise Http404("附件文件已不存在，请联系管理员。") from None
        return FileResponse(handle, as_attachment=True, filename=step.attachment.name.rsplit("/", 1)[-1])


class ReviewQueueView(StaffView):
    """Drafts submitted by the units directly below mine: my unit's pre-review work."""

    def get(self, request: HttpRequest) -> HttpResponse:
        queryset = selectors.contracts_awaiting_my_review(request.user).order_by("org_unit__path", "pk")
        page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "programmes/review_queue.html",
            {"page_obj": page_obj, "contracts": page_obj.object_list, "unit": request.user.org_unit},
        )


# --- the work list ---------------------------------------------------------------------------

WORKLIST_TABS = [(key, label) for key, (_flag, label) in selectors.PROGRAMME_FLAGS.items()]


def worklist_query(request: HttpRequest) -> tuple[OrgUnit, datetime.date, str]:
    programme = request.GET.get("programme", "contract")
    if programme not in selectors.PROGRAMME_FLAGS:
        programme = "contract"
    return home_unit(request), day_param(request), programme


class WorklistView(StaffView):
    """Per unit: the unionised enterprises lacking each programme, one tab per programme."""

    def get(self, request: HttpRequest) -> HttpResponse:
        unit, day, programme = worklist_query(request)
        queryset = selectors.enterprises_lacking(
            request.user, unit=unit, day=day, programme=programme
        ).order_by("org_unit__path", "name")
        page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        base = query_without(request, "page", "programme")
        tabs = [
            {
                "key": key,
                "label": label,
                "url": f"?{base}{'&' if base else ''}programme={key}",
                "count": selectors.enterprises_lacking(
                    request.user, unit=unit, day=day, programme=key
                ).count(),
            }
            for key, label in WORKLIST_TABS
        ]
        export = query_without(request, "page")
        return render(
            request,
            "programmes/worklist.html",
            {
                "unit": unit,
                "day": day,
                "programme": programme,
                "programme_label": selectors.PROGRAMME_FLAGS[programme][1],
                "tabs": tabs,
                "page_obj": page_obj,
                "enterprises": page_obj.object_list,
                "units": filter_units(request.user),
                "export_url": reverse("programmes:worklist_export") + (f"?{export}" if export else ""),
                "can_edit": request.user.can(EDIT),
            },
        )


class WorklistExportView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        unit, day, programme = worklist_query(request)
        queryset = selectors.enterprises_lacking(
            request.user, unit=unit, day=day, programme=programme
        ).order_by("org_unit__path", "name")
        label = selectors.PROGRAMME_FLAGS[programme][1]
        return exports.xlsx_response(
            f"缺{label}企业", exports.WORKLIST_COLUMNS, exports.worklist_rows(queryset)
        )


# --- congresses and openness -----------------------------------------------------------------


class SystemListView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        unit = unit_param(request)
        form = SystemFilterForm(request.GET or None, user=request.user)
        system = request.GET.get("system", "")
        queryset = selectors.system_list(
            request.user, within=unit, system=system if system in ("congress", "openness") else ""
        )
        page_obj = Paginator(queryset, 25).get_page(request.GET.get("page"))
        return render(
            request,
            "programmes/system_list.html",
            {
                "form": form,
                "unit": unit,
                "page_obj": page_obj,
                "systems": page_obj.object_list,
                "filtered": bool(unit or system),
                "today": timezone.localdate(),
            },
        )


# --- service stations ------------------------------------------------------------------------


class StationListView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        unit = unit_param(request)
        station_type = request.GET.get("type", "")
        station_type = station_type if station_type in StationType.values else ""
        only_open = request.GET.get("open") == "1"
        today = timezone.localdate()
        queryset = selectors.station_list(
            request.user, within=unit, station_type=station_type, open_on=today if only_open else None
        )
        page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "programmes/station_list.html",
            {
                "unit": unit,
                "units": filter_units(request.user),
                "type_choices": StationType.choices,
                "filter": {"type": station_type, "open": only_open},
                "filtered": bool(unit or station_type or only_open),
                "page_obj": page_obj,
                "stations": page_obj.object_list,
                "can_edit": request.user.can(EDIT),
                "today": today,
            },
        )


class StationCreateView(FormPageView):
    capability = EDIT
    title = "新增职工服务站"
    success_message = "服务站已登记。"

    def make_form(self, data: Any = None, files: Any = None) -> StationForm:
        initial: dict[str, Any] = {"opened_on": timezone.localdate()}
        unit = unit_param(self.request)
        if unit is not None:
            initial["org_unit"] = unit.pk
        return StationForm(data, user=self.request.user, initial=initial)

    def cancel_url(self) -> str:
        return reverse("programmes:station_list")

    def context(self) -> dict[str, Any]:
        return {"section": ("职工服务站", reverse("programmes:station_list"))}

    def perform(self, form: StationForm) -> str:
        services.station_create(actor=self.request.user, **form.service_data())
        return reverse("programmes:station_list")


class StationEditView(ScopedMixin, FormPageView):
    model = ServiceStation
    capability = EDIT
    success_message = "服务站信息已保存。"

    def load(self) -> None:
        self.station = self.get_scoped_object()
        self.title = f"编辑服务站：{self.station.name}"

    def make_form(self, data: Any = None, files: Any = None) -> StationForm:
        station = self.station
        initial = {
            "name": station.name,
            "station_type": station.station_type,
            "org_unit": station.org_unit_id,
            "enterprise_code": station.enterprise.credit_code if station.enterprise else "",
            "functions": station.functions,
            "opened_on": station.opened_on,
            "closed_on": station.closed_on,
            "staff_count": station.staff_count,
        }
        return StationForm(data, user=self.request.user, initial=initial)

    def cancel_url(self) -> str:
        return reverse("programmes:station_list")

    def context(self) -> dict[str, Any]:
        return {
            "section": ("职工服务站", reverse("programmes:station_list")),
            "history": audit_history(self.station),
        }

    def perform(self, form: StationForm) -> str:
        services.station_update(actor=self.request.user, station=self.station, data=form.service_data())
        return reverse("programmes:station_list")


# --- safety ----------------------------------------------------------------------------------

SAFETY_TABS = [("ankang", "安康杯竞赛"), ("supervisors", "劳动保护监督检查员"), ("teams", "班组安全建设")]


class SafetyView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        unit = unit_param(request)
        today = timezone.localdate()
        tab = request.GET.get("tab", "ankang")
        tab = tab if tab in dict(SAFETY_TABS) else "ankang"
        try:
            year = int(request.GET.get("year") or today.year)
        except ValueError:
            year = today.year
        if tab == "ankang":
            queryset: QuerySet = selectors.ankang_list(request.user, within=unit, year=year)
        elif tab == "supervisors":
            queryset = selectors.supervisor_list(request.user, within=unit, day=day_param(request))
        else:
            queryset = selectors.team_safety_list(request.user, within=unit, year=year)
        page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        base = query_without(request, "page", "tab")
        return render(
            request,
            "programmes/safety.html",
            {
                "unit": unit,
                "units": filter_units(request.user),
                "tab": tab,
                "tabs": [
                    (key, label, f"?{base}{'&' if base else ''}tab={key}") for key, label in SAFETY_TABS
                ],
                "year": year,
                "years": year_choices(today),
                "day": day_param(request),
                "page_obj": page_obj,
                "rows": page_obj.object_list,
                "today": today,
            },
        )
