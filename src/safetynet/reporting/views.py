"""Staff pages of 信息报送与预警: 待报送 (filing, zero report in one click), a full report and its corrections,
the unit's reporting overview (rates per child unit, missing / late / concealed, reminders, XLSX), the
concealment board, the form designer (city only), and warnings (list, new, detail with its lifecycle).

Thin on purpose: reads through ``reporting.selectors`` or ``get_for_user`` (another unit's record is a 404
like a missing one), every write through one ``reporting.services`` call with ``actor=request.user``. A
refusal comes back on the page that caused it, with what the user typed.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from safetynet.accounts.models import User
from safetynet.core.errors import OutOfScope, ServiceError
from safetynet.core.normalize import clean_code, clean_text
from safetynet.core.scope import get_for_user
from safetynet.core.selectors import audit_history
from safetynet.core.views_base import ScopedMixin, StaffView
from safetynet.orgs.models import Enterprise, Industry, OrgLevel, OrgUnit
from safetynet.reporting import exports, headcounts, periods, rates, risk, selectors, services
from safetynet.reporting import forms as f
from safetynet.reporting.models import (
    INCIDENT_TABLE,
    WARNING_TABLE,
    DutyOfficer,
    FieldKind,
    Incident,
    IncidentAction,
    IncidentCategory,
    IncidentStatus,
    Report,
    ReportForm,
    RiskLevel,
    WarningAction,
    WarningCategory,
    WarningSignal,
    WarningStatus,
)

PAGE_SIZE = 50


def _raise_out_of_scope(error: ServiceError) -> None:
    """A record outside the user's scope is "not found", on pages as in the API."""
    if isinstance(error, OutOfScope):
        raise Http404(error.message)


def _post_transition(
    request: HttpRequest,
    *,
    record: Any,
    denied: str,
    form: Any,
    run: Callable[[Any, dict[str, Any]], Any],
    error_fields: tuple[str, ...],
    success: str,
    detail_url: str,
    rerender: Callable[[Any], HttpResponse],
) -> HttpResponse:
    """A workflow button posted from a detail page (warnings, incidents): the capability (403), the form,
    one service call; back to the page on success, else the page again with the refusal on the form (400)."""
    if not services.can_handle_warnings(request.user):
        raise PermissionDenied(denied)
    if form.is_valid():
        try:
            run(record, form.cleaned_data)
        except ServiceError as error:
            _raise_out_of_scope(error)
            form.add_service_error(error.field if error.field in error_fields else None, error.message)
        else:
            messages.success(request, success)
            return HttpResponseRedirect(reverse(detail_url, args=[record.pk]))
    return rerender(form)


def _unit_for(request: HttpRequest, value: str | None = None) -> OrgUnit:
    """The unit named by ``?unit=<pk>`` (in the user's scope, else 404), or the user's own."""
    value = request.GET.get("unit", "") if value is None else value
    if value:
        return get_for_user(OrgUnit, request.user, pk=value)
    if request.user.org_unit_id is None:
        root = OrgUnit.objects.visible_to(request.user).filter(parent__isnull=True).order_by("pk").first()
        if root is None:
            raise Http404("尚未建立任何单位。")
        return root
    return request.user.org_unit


def _form_param(value: str | None) -> ReportForm | None:
    if not value or not str(value).isdigit():
        return None
    return ReportForm.objects.filter(pk=int(value)).first()


def _period_param(form: ReportForm, value: str | None, today: datetime.date) -> tuple[periods.Period, str]:
    """The period asked for, or the last ended one; and the error to show when the value was wrong."""
    if value:
        try:
            return form.parse_period(value), ""
        except ValueError as exc:
            return selectors.default_period(form, today), f"{exc}。"
    return selectors.default_period(form, today), ""


def _day_param(value: str | None, default: datetime.date) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _require_filer(request: HttpRequest) -> None:
    if not services.can_file_reports(request.user):
        raise PermissionDenied("您的角色不能报送报表（查看人员只能查看）。")


# --- 待报送 ---------------------------------------------------------------------------------------------


class FilingView(StaffView):
    """待报送: what the unit must file, due, overdue and done; a zero report is one click."""

    def get(self, request: HttpRequest) -> HttpResponse:
        unit = _unit_for(request)
        today = timezone.localdate()
        items = selectors.filing_items(unit, today=today)
        return render(
            request,
            "reporting/filing.html",
            {
                "unit": unit,
                "items": items,
                "open_items": [i for i in items if not i.received],
                "done_items": [i for i in items if i.received],
                "can_file": services.can_file_reports(request.user),
                "today": today,
                "picked": request.GET.get("unit", ""),
            },
        )


def _filing_target(request: HttpRequest, data: Any) -> tuple[ReportForm, OrgUnit, str]:
    form = _form_param(data.get("form"))
    if form is None:
        raise Http404("报表不存在。")
    unit = _unit_for(request, data.get("unit") or "")
    return form, unit, clean_text(data.get("period", ""))


def _back_to_filing(unit: OrgUnit, request: HttpRequest) -> HttpResponseRedirect:
    url = reverse("reporting:filing")
    if unit.pk != request.user.org_unit_id:
        url += "?" + urlencode({"unit": unit.pk})
    return HttpResponseRedirect(url)


class ZeroReportView(StaffView):
    """本期无情况（零申报）: one click, one POST."""

    def post(self, request: HttpRequest) -> HttpResponse:
        _require_filer(request)
        form, unit, period = _filing_target(request, request.POST)
        try:
            report = services.report_submit(
                actor=request.user, form=form, unit=unit, period=period, is_zero=True
            )
        except ServiceError as error:
            _raise_out_of_scope(error)
            messages.error(request, f"{form.name}（{period}）未能零申报：{error.message}")
            return _back_to_filing(unit, request)
        messages.success(
            request,
            f"已零申报：{form.name}（{form.parse_period(report.period).label}），"
            f"{timezone.localtime(report.submitted_at):%Y-%m-%d %H:%M}。",
        )
        return _back_to_filing(unit, request)


class FileReportView(StaffView):
    """填报 (and 更正): the form's current fields; a unit that already reported files a correction."""

    def _context(self, request: HttpRequest, data: Any) -> dict[str, Any]:
        form, unit, code = _filing_target(request, data)
        try:
            period = form.parse_period(code)
        except ValueError:
            raise Http404("报告期不对。") from None
        version = services.current_version(form)
        earlier = list(
            Report.objects.visible_to(request.user)
            .filter(form=form, unit=unit, period=period.code)
            .order_by("submitted_at", "pk")
        )
        return {
            "report_form": form,
            "unit": unit,
            "period": period,
            "version": version,
            "earlier": earlier,
            "due_date": period.due_date(form.due_day),
        }

    def get(self, request: HttpRequest) -> HttpResponse:
        _require_filer(request)
        context = self._context(request, request.GET)
        initial: dict[str, Any] = {}
        if context["earlier"]:
            last = context["earlier"][-1]
            for field in last.version.fields:
                value = last.values.get(field["key"])
                if value is None:
                    continue
                initial[field["key"]] = (
                    ("是" if value else "否") if field["kind"] == FieldKind.YES_NO else value
                )
            initial["content"] = last.content
        context["form"] = f.report_values_form(context["version"], initial=initial)
        return render(request, "reporting/file.html", context)

    def post(self, request: HttpRequest) -> HttpResponse:
        _require_filer(request)
        context = self._context(request, request.POST)
        form = f.report_values_form(context["version"], data=request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            content = data.pop("content", "")
            note = data.pop("note", "")
            try:
                report = services.report_submit(
                    actor=request.user,
                    form=context["report_form"],
                    unit=context["unit"],
                    period=context["period"],
                    is_zero=False,
                    values=data,
                    content=content,
                    note=note,
                )
            except ServiceError as error:
                _raise_out_of_scope(error)
                form.add_service_error(error.field, error.message)
            else:
                kind = "更正" if context["earlier"] else "报送"
                messages.success(
                    request, f"已{kind}：{context['report_form'].name}（{context['period'].label}）。"
                )
                return HttpResponseRedirect(reverse("reporting:report_detail", args=[report.pk]))
        context["form"] = form
        return render(request, "reporting/file.html", context, status=400)


class ReportDetailView(ScopedMixin, StaffView):
    """One report as made (under its own form version), with every report of the same period beside it."""

    model = Report

    def get_base_queryset(self) -> Any:
        return Report.objects.select_related("form", "unit", "version", "submitted_by")

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        report = self.get_scoped_object()
        period = report.form.parse_period(report.period)
        history = list(selectors.report_history(report))
        due_end = periods.end_of_day(period.due_date(report.form.due_day))
        rows = [
            {
                "field": field,
                "value": report.values.get(field["key"]),
            }
            for field in report.version.fields
        ]
        return render(
            request,
            "reporting/report_detail.html",
            {
                "report": report,
                "period": period,
                "rows": rows,
                "history": history,
                "first": history[0] if history else report,
                "timely": bool(history) and history[0].submitted_at < due_end,
                "due_date": period.due_date(report.form.due_day),
                "entries": audit_history(report),
                "can_file": services.can_file_reports(request.user),
            },
        )


# --- the unit's overview --------------------------------------------------------------------------------


STATUS_LABELS = {"done": "已报", "late": "迟报", "overdue": "逾期未报", "due": "待报"}
FLAG_TABS = (("", "全部应报单位"), ("missing", "漏报"), ("late", "迟报"), ("concealed", "瞒报嫌疑"))


def _overview_state(request: HttpRequest) -> dict[str, Any]:
    """Form, period, day and unit of an overview-like page, each from the URL or its default."""
    today = timezone.localdate()
    forms = list(selectors.forms_for_overview())
    form = _form_param(request.GET.get("form")) or (forms[0] if forms else None)
    unit = _unit_for(request)
    if form is None:
        return {"forms": forms, "report_form": None, "unit": unit, "today": today}
    period, period_error = _period_param(form, request.GET.get("period"), today)
    as_of = _day_param(request.GET.get("as_of"), today)
    result = selectors.reporting_for_user(
        request.user, form=form, period=period, as_of=as_of, unit_id=unit.pk
    )
    return {
        "forms": forms,
        "report_form": form,
        "unit": unit,
        "period": period,
        "period_error": period_error,
        "as_of": as_of,
        "today": today,
        "result": result,
    }


def reporter_status(reporter: rates.Reporter, result: rates.Result, today: datetime.date) -> str:
    if reporter.received:
        return "done" if reporter.timely else "late"
    return "overdue" if min(today, result.as_of) > result.due_date else "due"


class OverviewView(StaffView):
    """报送情况: the rates for the unit and each child, the reporters with their flags, reminders, export."""

    def get(self, request: HttpRequest) -> HttpResponse:
        state = _overview_state(request)
        if state["report_form"] is None:
            return render(request, "reporting/overview.html", state)
        result: rates.Result = state["result"]
        flag = request.GET.get("flag", "")
        if flag not in rates.FLAGS:
            flag = ""
        reporters = [r for r in result.reporters if not flag or flag in r.flags]
        page_obj = Paginator(reporters, PAGE_SIZE).get_page(request.GET.get("page"))
        root = result.root
        child_rows = [row for row in result.rows if row.node.parent_id == root.unit_id]
        latest = selectors.reports_of(
            [r.node.unit_id for r in page_obj.object_list], result.form, result.period
        )
        shown = [
            {
                "reporter": r,
                "status": reporter_status(r, result, state["today"]),
                "parent": result.by_id.get(r.node.parent_id),
                "report": latest.get(r.node.unit_id),
            }
            for r in page_obj.object_list
        ]
        counts = {key: sum(1 for r in result.reporters if key in r.flags) for key in rates.FLAGS}
        state.update(
            {
                "root_row": result.rows[0],
                "child_rows": child_rows,
                "page_obj": page_obj,
                "shown": shown,
                "flag": flag,
                "flag_tabs": [
                    (key, label, counts.get(key, len(result.reporters))) for key, label in FLAG_TABS
                ],
                "status_labels": STATUS_LABELS,
                "missing_count": counts["missing"],
                "can_remind": services.can_file_reports(request.user),
                "unit_pk": request.GET.get("unit", ""),
            }
        )
        return render(request, "reporting/overview.html", state)


class OverviewExportView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        state = _overview_state(request)
        if state["report_form"] is None:
            raise Http404("尚未设计任何报表。")
        return exports.overview_xlsx_response(state["result"], today=state["today"])


class RemindView(StaffView):
    """发送催报提醒: to one reporter (``target``) or to every one that has not reported in the subtree."""

    def post(self, request: HttpRequest) -> HttpResponse:
        _require_filer(request)
        form = _form_param(request.POST.get("form"))
        if form is None:
            raise Http404("报表不存在。")
        try:
            period = form.parse_period(request.POST.get("period", ""))
        except ValueError:
            raise Http404("报告期不对。") from None
        root = _unit_for(request, request.POST.get("unit", ""))
        target = request.POST.get("target", "")
        if target:
            units = [get_for_user(OrgUnit, request.user, pk=target)]
        else:
            result = selectors.reporting_for_user(
                request.user, form=form, period=period, as_of=timezone.localdate(), unit_id=root.pk
            )
            ids = [r.node.unit_id for r in result.reporters if not r.received]
            units = list(OrgUnit.objects.filter(pk__in=ids))
        try:
            count = services.reminder_send(actor=request.user, form=form, period=period, units=units)
        except ServiceError as error:
            _raise_out_of_scope(error)
            messages.error(request, error.message)
        else:
            if count:
                messages.success(request, f"已向 {count} 个未报单位发送催报提醒。")
            else:
                messages.info(request, "没有需要催报的单位（均已报送）。")
        query = {"form": form.pk, "period": period.code}
        if request.POST.get("unit"):
            query["unit"] = request.POST["unit"]
        return HttpResponseRedirect(f"{reverse('reporting:overview')}?{urlencode(query)}")


class ConcealmentBoardView(StaffView):
    """瞒报线索: units whose zero report stands beside a warning or a case of the same period."""

    def get(self, request: HttpRequest) -> HttpResponse:
        today = timezone.localdate()
        forms = [form for form in selectors.forms_for_overview() if form.is_warning]
        form = _form_param(request.GET.get("form"))
        if form is None or not form.is_warning:
            form = forms[0] if forms else None
        context: dict[str, Any] = {"forms": forms, "report_form": form, "today": today}
        if form is not None:
            unit = _unit_for(request)
            period, period_error = _period_param(form, request.GET.get("period"), today)
            as_of = _day_param(request.GET.get("as_of"), today)
            result = selectors.reporting_for_user(
                request.user, form=form, period=period, as_of=as_of, unit_id=unit.pk
            )
            signals = rates.signals_for(result)
            concealed = [r for r in result.reporters if r.concealed]
            latest = selectors.reports_of([r.node.unit_id for r in concealed], form, period)
            context.update(
                {
                    "unit": unit,
                    "period": period,
                    "period_error": period_error,
                    "as_of": as_of,
                    "result": result,
                    "entries": [
                        {
                            "reporter": r,
                            "parent": result.by_id.get(r.node.parent_id),
                            "report": latest.get(r.node.unit_id),
                            "signals": signals.get(r.node.unit_id, []),
                        }
                        for r in concealed
                    ],
                }
            )
        return render(request, "reporting/concealment.html", context)


# --- form designer (city only) -------------------------------------------------------------------------


class FormListView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        forms = list(ReportForm.objects.order_by("-is_warning", "code").prefetch_related("versions"))
        for form in forms:
            form.latest = max(form.versions.all(), key=lambda v: v.number, default=None)
        return render(
            request,
            "reporting/form_list.html",
            {"forms": forms, "can_design": services.can_design_forms(request.user)},
        )


class DesignerMixin:
    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # City-wide settings: below the city the page answers 403 before any lookup.
        if request.user.is_authenticated and not services.can_design_forms(request.user):
            raise PermissionDenied("只有市级管理员可以设计报表。")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class FormCreateView(DesignerMixin, StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        form = f.ReportFormAttributesForm(initial={"period_kind": "month", "level": 3, "due_day": 5})
        return render(request, "reporting/form_create.html", {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = f.ReportFormAttributesForm(request.POST)
        if form.is_valid():
            try:
                created = services.reportform_create(
                    actor=request.user, fields=f.parse_field_rows(request.POST), **form.cleaned_data
                )
            except ServiceError as error:
                form.add_service_error(error.field, error.message)
            else:
                messages.success(request, f"已建立报表 {created.code}，请设计它的字段。")
                return HttpResponseRedirect(reverse("reporting:form_edit", args=[created.pk]))
        return render(request, "reporting/form_create.html", {"form": form}, status=400)


BLANK_ROWS = 3


def designer_rows(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The designer's table: the fields (choices joined for the input) and a few blank rows to add to."""
    blank = {"key": "", "label": "", "kind": FieldKind.NUMBER, "required": False, "choices": "", "help": ""}
    rows = []
    for field in [*fields, *[blank] * BLANK_ROWS]:
        choices = field.get("choices", "")
        rows.append({**field, "choices": "、".join(choices) if isinstance(choices, list) else choices})
    return rows


class FormEditView(DesignerMixin, StaffView):
    """The designer: the form's attributes, its fields (a new version on publishing) and its versions."""

    model = ReportForm

    def _render(
        self,
        report_form: ReportForm,
        *,
        form: Any = None,
        rows: Any = None,
        field_error: str = "",
        status: int = 200,
    ) -> HttpResponse:
        versions = list(report_form.versions.select_related("published_by").order_by("-number"))
        current = versions[0] if versions else None
        if form is None:
            form = f.ReportFormAttributesForm(
                initial={name: getattr(report_form, name) for name in services.FORM_AUDIT_FIELDS},
                editing=True,
            )
        fields = rows if rows is not None else (current.fields if current else [])
        return render(
            self.request,
            "reporting/form_edit.html",
            {
                "report_form": report_form,
                "form": form,
                "rows": designer_rows(fields),
                "kinds": FieldKind.choices,
                "versions": versions,
                "field_error": field_error,
                "entries": audit_history(report_form),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        report_form = ReportForm.objects.filter(pk=pk).first()
        if report_form is None:
            raise Http404("报表不存在。")
        return self._render(report_form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        report_form = ReportForm.objects.filter(pk=pk).first()
        if report_form is None:
            raise Http404("报表不存在。")
        if request.POST.get("part") == "fields":
            rows = f.parse_field_rows(request.POST)
            try:
                version = services.reportform_publish_fields(
                    actor=request.user, form=report_form, fields=rows, note=request.POST.get("note", "")
                )
            except ServiceError as error:
                return self._render(report_form, rows=rows, field_error=error.message, status=400)
            messages.success(
                request, f"已发布第 {version.number} 版字段，此后的报送使用新版本，已报的保持原版本。"
            )
            return HttpResponseRedirect(reverse("reporting:form_edit", args=[report_form.pk]))
        form = f.ReportFormAttributesForm(request.POST, editing=True)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "code"}
            try:
                services.reportform_update(actor=request.user, form=report_form, **data)
            except ServiceError as error:
                form.add_service_error(error.field, error.message)
            else:
                messages.success(request, "已保存报表设置。")
                return HttpResponseRedirect(reverse("reporting:form_edit", args=[report_form.pk]))
        return self._render(report_form, form=form, status=400)


# --- warnings -----------------------------------------------------------------------------------------


class WarningListView(StaffView):
    STATUS_TABS = (("open", "未结"), *WarningStatus.choices, ("", "全部"))

    def get(self, request: HttpRequest) -> HttpResponse:
        within = None
        if request.GET.get("unit"):
            within = get_for_user(OrgUnit, request.user, pk=request.GET["unit"])
        status = request.GET.get("status", "open")
        if status not in {key for key, _label in self.STATUS_TABS}:
            status = "open"
        category = request.GET.get("category", "")
        if category not in WarningCategory.values:
            category = ""
        text = clean_text(request.GET.get("q", ""))
        queryset = selectors.warning_list(
            request.user, status=status, category=category, within=within, text=text
        )
        page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "reporting/warning_list.html",
            {
                "page_obj": page_obj,
                "warnings": page_obj.object_list,
                "status": status,
                "status_tabs": self.STATUS_TABS,
                "category": category,
                "categories": WarningCategory.choices,
                "q": text,
                "within": within,
                "can_handle": services.can_handle_warnings(request.user),
            },
        )


class EnterpriseLookupView(StaffView):
    """htmx: the enterprise a credit code names, if the user may see it."""

    def get(self, request: HttpRequest) -> HttpResponse:
        code = clean_code(request.GET.get("credit_code", ""))
        enterprise = None
        if len(code) == 18:
            enterprise = (
                Enterprise.objects.visible_to(request.user)
                .filter(credit_code=code)
                .select_related("org_unit")
                .first()
            )
        return render(request, "reporting/_enterprise_lookup.html", {"enterprise": enterprise, "code": code})


class WarningCreateView(StaffView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not services.can_handle_warnings(request.user):
            raise PermissionDenied("您的角色不能登记预警信息（查看人员只能查看）。")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        initial: dict[str, Any] = {"discovered_on": timezone.localdate()}
        if request.GET.get("enterprise"):
            enterprise = get_for_user(Enterprise, request.user, pk=request.GET["enterprise"])
            initial["credit_code"] = enterprise.credit_code
        return render(request, "reporting/warning_create.html", {"form": f.WarningForm(initial=initial)})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = f.WarningForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            enterprise = (
                Enterprise.objects.visible_to(request.user)
                .filter(credit_code=data["credit_code"])
                .select_related("org_unit")
                .first()
            )
            if enterprise is None:
                form.add_error(
                    "credit_code",
                    f"统一社会信用代码“{data['credit_code']}”不在企业名录中，或该企业不在您的管辖范围内。",
                )
            else:
                try:
                    warning = services.warning_create(
                        actor=request.user,
                        enterprise=enterprise,
                        category=data["category"],
                        discovered_on=data["discovered_on"],
                        workers_involved=data["workers_involved"],
                        amount=data["amount"],
                        months=data["months"],
                        description=data["description"],
                    )
                except ServiceError as error:
                    field = {"enterprise": "credit_code"}.get(error.field or "", error.field)
                    form.add_service_error(field, error.message)
                else:
                    messages.success(
                        request, f"已登记预警：{enterprise.name}（{warning.get_category_display()}）。"
                    )
                    return HttpResponseRedirect(reverse("reporting:warning_detail", args=[warning.pk]))
        return render(request, "reporting/warning_create.html", {"form": form}, status=400)


WARNING_BUTTONS = {
    WarningAction.VERIFY: ("核实", "btn-primary"),
    WarningAction.HANDLE: ("开始处置", "btn-primary"),
    WarningAction.RESOLVE: ("已化解", "btn-primary"),
    WarningAction.DISMISS: ("排除", "btn-danger"),
}


LIFECYCLE = (WarningStatus.REPORTED, WarningStatus.VERIFIED, WarningStatus.HANDLING, WarningStatus.RESOLVED)


def warning_steps(warning: WarningSignal) -> list[dict[str, str]]:
    """The step bar: 已报告 › 已核实 › 处置中 › 已化解 (or 已排除 where it stopped)."""
    if warning.status == WarningStatus.DISMISSED:
        return [
            {"label": WarningStatus.REPORTED.label, "state": "done"},
            {"label": "已排除", "state": "current"},
        ]
    position = LIFECYCLE.index(warning.status)
    return [
        {
            "label": status.label,
            "state": "done" if index < position else ("current" if index == position else "todo"),
        }
        for index, status in enumerate(LIFECYCLE)
    ]


class WarningDetailView(ScopedMixin, StaffView):
    model = WarningSignal

    def get_base_queryset(self) -> Any:
        return WarningSignal.objects.select_related("enterprise__org_unit", "case", "reported_by")

    def render_warning(
        self, warning: WarningSignal, *, failed: Any = None, status: int = 200
    ) -> HttpResponse:
        can_handle = services.can_handle_warnings(self.request.user)
        actions = []
        if can_handle:
            for action in WARNING_TABLE.allowed(warning.status):
                if action in WARNING_BUTTONS:
                    label, css = WARNING_BUTTONS[action]
                    form = (
                        failed
                        if failed is not None and failed.data.get("action") == action
                        else f.TransitionForm(initial={"action": action, "version": warning.version})
                    )
                    actions.append({"action": action, "label": label, "css": css, "form": form})
        can_case = (
            can_handle
            and warning.case_id is None
            and WarningAction.CREATE_CASE in WARNING_TABLE.allowed(warning.status)
        )
        return render(
            self.request,
            "reporting/warning_detail.html",
            {
                "warning": warning,
                "steps": warning_steps(warning),
                "actions": actions,
                "can_case": can_case,
                "entries": audit_history(warning),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_warning(self.get_scoped_object())


class WarningTransitionView(ScopedMixin, StaffView):
    model = WarningSignal

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        def rerender(form: Any) -> HttpResponse:
            detail = WarningDetailView()
            detail.setup(request, pk=pk)
            return detail.render_warning(WarningSignal.objects.get(pk=pk), failed=form, status=400)

        return _post_transition(
            request,
            record=self.get_scoped_object(),
            denied="您的角色不能处理预警信息（查看人员只能查看）。",
            form=f.TransitionForm(request.POST),
            run=lambda warning, data: services.warning_transition(
                actor=request.user,
                warning=warning,
                action=data["action"],
                version=data["version"],
                reason=data["reason"],
                note=data["note"],
            ),
            error_fields=("reason", "note"),
            success="预警状态已更新。",
            detail_url="reporting:warning_detail",
            rerender=rerender,
        )


class WarningCaseView(ScopedMixin, StaffView):
    model = WarningSignal

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        warning = self.get_scoped_object()
        if not services.can_handle_warnings(request.user):
            raise PermissionDenied("您的角色不能处理预警信息（查看人员只能查看）。")
        version = request.POST.get("version")
        try:
            case = services.warning_create_case(
                actor=request.user,
                warning=warning,
                version=int(version) if version and version.isdigit() else None,
            )
        except ServiceError as error:
            _raise_out_of_scope(error)
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse("reporting:warning_detail", args=[warning.pk]))
        messages.success(request, f"已转为诉求案件 {case.number}，由{case.unit.name}办理。")
        return HttpResponseRedirect(reverse("reporting:warning_detail", args=[warning.pk]))


# --- urgent incidents (突发事件) ----------------------------------------------------------------------------


INCIDENT_STATUS_TABS = (("open", "未处置完毕"), *IncidentStatus.choices, ("", "全部"))


def _incident_units(user: Any) -> list[OrgUnit]:
    """Where an incident can be placed from the form: the user's unit and the units directly below it (a
    deeper one is reached through the enterprise's code)."""
    own = user.org_unit
    if own is None:
        return list(OrgUnit.objects.visible_to(user).filter(parent__isnull=True).order_by("code"))
    today = timezone.localdate()
    children = (
        OrgUnit.objects.filter(parent=own)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=today))
        .order_by("code")
    )
    return [own, *children]


class IncidentBoardView(StaffView):
    """突发事件: the incidents of the unit's subtree, newest first, each with its flags (迟报, 未接报)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        within = (
            get_for_user(OrgUnit, request.user, pk=request.GET["unit"]) if request.GET.get("unit") else None
        )
        status = request.GET.get("status", "open")
        if status not in {key for key, _label in INCIDENT_STATUS_TABS}:
            status = "open"
        category = request.GET.get("category", "")
        if category not in IncidentCategory.values:
            category = ""
        late = request.GET.get("late") == "1"
        text = clean_text(request.GET.get("q", ""))
        queryset = selectors.incident_list(
            request.user, within=within, status=status, category=category, late=late, text=text
        )
        everything = selectors.incident_list(request.user, within=within)
        summary = everything.aggregate(
            total=Count("pk"),
            open=Count("pk", filter=~Q(status=IncidentStatus.CLOSED)),
            unacknowledged=Count("pk", filter=Q(status=IncidentStatus.REPORTED)),
            late=Count("pk", filter=Q(late=True)),
        )
        page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "reporting/incident_list.html",
            {
                "page_obj": page_obj,
                "incidents": page_obj.object_list,
                "status": status,
                "status_tabs": INCIDENT_STATUS_TABS,
                "category": category,
                "categories": IncidentCategory.choices,
                "late": late,
                "q": text,
                "within": within,
                "summary": summary,
                "can_file": services.can_file_incidents(request.user),
                "limit_hours": services.incident_limit_hours(),
                "duty_level": _can_acknowledge(request.user),
            },
        )


class IncidentCreateView(StaffView):
    """报告突发事件: one column on a phone; duty officers of the district and the city are told at once."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not services.can_file_incidents(request.user):
            raise PermissionDenied("您的角色不能报告突发事件（查看人员只能查看）。")
        return super().dispatch(request, *args, **kwargs)

    def _render(self, form: Any, status: int = 200) -> HttpResponse:
        return render(
            self.request,
            "reporting/incident_create.html",
            {"form": form, "limit_hours": services.incident_limit_hours()},
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        units = _incident_units(request.user)
        initial: dict[str, Any] = {"unit": units[0].pk if units else None}
        if request.GET.get("enterprise"):
            enterprise = get_for_user(Enterprise, request.user, pk=request.GET["enterprise"])
            initial["credit_code"] = enterprise.credit_code
        return self._render(f.IncidentForm(initial=initial, units=units))

    def post(self, request: HttpRequest) -> HttpResponse:
        units = _incident_units(request.user)
        form = f.IncidentForm(request.POST, units=units)
        if form.is_valid():
            data = form.cleaned_data
            enterprise = None
            if data["credit_code"]:
                enterprise = (
                    Enterprise.objects.visible_to(request.user)
                    .filter(credit_code=data["credit_code"])
                    .select_related("org_unit")
                    .first()
                )
                if enterprise is None:
                    form.add_error(
                        "credit_code",
                        f"统一社会信用代码“{data['credit_code']}”不在企业名录中，或该企业不在您的管辖范围内。",
                    )
            if not form.errors:
                unit = next((u for u in units if u.pk == data["unit"]), None)
                if unit is None:
                    raise Http404("未找到该单位，或您无权查看。")
                try:
                    incident = services.incident_file(
                        actor=request.user,
                        category=data["category"],
                        title=data["title"],
                        known_at=data["known_at"],
                        reported_at=data["reported_at"],
                        occurred_at=data["occurred_at"],
                        unit=unit if enterprise is None else None,
                        enterprise=enterprise,
                        workers_involved=data["workers_involved"],
                        place=data["place"],
                        description=data["description"],
                    )
                except ServiceError as error:
                    _raise_out_of_scope(error)
                    field = {"enterprise": "credit_code"}.get(error.field or "", error.field)
                    form.add_service_error(field, error.message)
                else:
                    late = "（已超过报告时限，记为迟报）" if incident.late else ""
                    messages.success(
                        request, f"已报告突发事件，已通知 {incident.notified} 名区、市值班人员{late}。"
                    )
                    return HttpResponseRedirect(reverse("reporting:incident_detail", args=[incident.pk]))
        return self._render(form, status=400)


def incident_steps(incident: Incident) -> list[dict[str, Any]]:
    """The timeline: 发生 › 知悉 › 报告 › 接报 › 处置完毕, each with its moment where known."""
    steps = [
        {"label": "发生", "at": incident.occurred_at, "done": incident.occurred_at is not None},
        {"label": "知悉", "at": incident.known_at, "done": True},
        {"label": "报告", "at": incident.reported_at, "done": True, "late": incident.late},
        {"label": "接报", "at": incident.acknowledged_at, "done": incident.acknowledged_at is not None},
        {"label": "处置完毕", "at": incident.closed_at, "done": incident.closed_at is not None},
    ]
    return steps


INCIDENT_BUTTONS = {
    IncidentAction.ACKNOWLEDGE: ("接报", "btn-primary"),
    IncidentAction.CLOSE: ("处置完毕", "btn"),
}


class IncidentDetailView(ScopedMixin, StaffView):
    model = Incident

    def get_base_queryset(self) -> Any:
        return Incident.objects.select_related(
            "unit", "enterprise", "reporter_unit", "reported_by", "acknowledged_by"
        )

    def render_incident(self, incident: Incident, *, failed: Any = None, status: int = 200) -> HttpResponse:
        actions = []
        if services.can_handle_warnings(self.request.user):
            for action in INCIDENT_TABLE.allowed(incident.status):
                if action == IncidentAction.ACKNOWLEDGE and not _can_acknowledge(self.request.user):
                    continue
                label, css = INCIDENT_BUTTONS[action]
                form = (
                    failed
                    if failed is not None and failed.data.get("action") == action
                    else f.IncidentActionForm(initial={"action": action, "version": incident.version})
                )
                actions.append({"action": action, "label": label, "css": css, "form": form})
        return render(
            self.request,
            "reporting/incident_detail.html",
            {
                "incident": incident,
                "steps": incident_steps(incident),
                "actions": actions,
                "delay_minutes": int(incident.delay.total_seconds() // 60),
                "entries": audit_history(incident),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_incident(self.get_scoped_object())


def _can_acknowledge(user: Any) -> bool:
    unit = getattr(user, "org_unit", None)
    return (unit is None and user.is_superuser) or (unit is not None and unit.level in services.DUTY_LEVELS)


class IncidentActionView(ScopedMixin, StaffView):
    model = Incident

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        def rerender(form: Any) -> HttpResponse:
            detail = IncidentDetailView()
            detail.setup(request, pk=pk)
            return detail.render_incident(detail.get_base_queryset().get(pk=pk), failed=form, status=400)

        return _post_transition(
            request,
            record=self.get_scoped_object(),
            denied="您的角色不能处理突发事件（查看人员只能查看）。",
            form=f.IncidentActionForm(request.POST),
            run=lambda incident, data: services.incident_transition(
                actor=request.user,
                incident=incident,
                action=data["action"],
                version=data["version"],
                outcome=data["outcome"],
            ),
            error_fields=("outcome",),
            success="突发事件状态已更新。",
            detail_url="reporting:incident_detail",
            rerender=rerender,
        )


class DutyRosterView(StaffView):
    """值班人员: who of a district or of the city hears of urgent incidents (and their duty phone for SMS)."""

    def _unit(self, request: HttpRequest, value: str) -> OrgUnit:
        unit = _unit_for(request, value)
        if unit.level not in services.DUTY_LEVELS:
            raise Http404("值班人员只在区市县和市一级安排。")
        return unit

    def _render(self, request: HttpRequest, unit: OrgUnit, *, error: str = "", status: int = 200) -> Any:
        roster = {entry.user_id: entry for entry in DutyOfficer.objects.filter(unit=unit)}
        staff = list(
            User.objects.filter(org_unit=unit, is_active=True, role__in=services.handler_roles()).order_by(
                "username"
            )
        )
        return render(
            request,
            "reporting/duty.html",
            {
                "unit": unit,
                "rows": [{"user": user, "entry": roster.get(user.pk)} for user in staff],
                "has_roster": bool(roster),
                "can_edit": request.user.can("manage_staff"),
                "error": error,
            },
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, self._unit(request, request.GET.get("unit", "")))

    def post(self, request: HttpRequest) -> HttpResponse:
        unit = self._unit(request, request.POST.get("unit", ""))
        if not request.user.can("manage_staff"):
            raise PermissionDenied("只有单位管理员可以安排值班人员。")
        staff = {
            user.pk: user
            for user in User.objects.filter(org_unit=unit, is_active=True, role__in=services.handler_roles())
        }
        entries = []
        for value in request.POST.getlist("on_duty"):
            user = staff.get(int(value)) if value.isdigit() else None
            if user is not None:
                entries.append((user, request.POST.get(f"phone-{user.pk}", "")))
        try:
            size = services.duty_officers_set(actor=request.user, unit=unit, entries=entries)
        except ServiceError as error:
            _raise_out_of_scope(error)
            return self._render(request, unit, error=error.message, status=400)
        messages.success(
            request,
            f"已保存值班人员（{size} 人）。"
            if size
            else "已清空值班表：突发事件将通知本单位全部经办人和管理员。",
        )
        url = reverse("reporting:duty")
        if request.POST.get("unit"):
            url += "?" + urlencode({"unit": unit.pk})
        return HttpResponseRedirect(url)


# --- enterprise risk levels (风险等级) ----------------------------------------------------------------------


RISK_TABS = (
    (str(int(RiskLevel.RED)), "红色"),
    (str(int(RiskLevel.ORANGE)), "橙色"),
    (str(int(RiskLevel.YELLOW)), "黄色"),
    (str(int(RiskLevel.BLUE)), "蓝色"),
    ("all", "全部"),
)


def _risk_filters(request: HttpRequest) -> dict[str, Any]:
    """The subtree (unit picker, then the district filter inside it), industry and level from the URL."""
    unit = _unit_for(request)
    districts = list(
        OrgUnit.objects.visible_to(request.user)
        .within(unit.path)
        .filter(level=OrgLevel.DISTRICT)
        .order_by("code")
    )
    district = None
    if request.GET.get("district"):
        district = get_for_user(OrgUnit.objects.within(unit.path), request.user, pk=request.GET["district"])
    industries = list(Industry.objects.order_by("code"))
    industry = request.GET.get("industry", "")
    if industry not in {i.code for i in industries}:
        industry = ""
    level_value = request.GET.get("level", str(int(RiskLevel.RED)))
    if level_value not in {key for key, _label in RISK_TABS}:
        level_value = str(int(RiskLevel.RED))
    return {
        "unit": unit,
        "districts": districts,
        "district": district,
        "industries": industries,
        "industry": industry,
        "level_value": level_value,
        "level": None if level_value == "all" else int(level_value),
        "path": (district or unit).path,
        "today": timezone.localdate(),
    }


class RiskListView(StaffView):
    """风险企业: every operating enterprise of the subtree by level (红 / 橙 / 黄 / 蓝), each with its facts."""

    def get(self, request: HttpRequest) -> HttpResponse:
        state = _risk_filters(request)
        counts, page_obj = selectors.risk_list_page(
            path=state["path"],
            day=state["today"],
            level=state["level"],
            industry=state["industry"],
            page=int(request.GET["page"]) if request.GET.get("page", "").isdigit() else 1,
            page_size=PAGE_SIZE,
        )
        tabs = [
            (key, label, counts.get(int(key), 0) if key != "all" else sum(counts.values()))
            for key, label in RISK_TABS
        ]
        state.update(
            {
                "page_obj": page_obj,
                "entries": page_obj.object_list,
                "tabs": tabs,
                "rule": risk.current_rule(),
                "can_edit_rule": services.can_design_forms(request.user),
            }
        )
        return render(request, "reporting/risk_list.html", state)


class RiskExportView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        state = _risk_filters(request)
        rule = risk.current_rule()
        rows = risk.risk_facts(
            rule=rule,
            day=state["today"],
            filters=risk.Filters(path=state["path"], industry=state["industry"]),
            level=state["level"],
        )
        return exports.risk_xlsx_response(
            rows, title=f"{(state['district'] or state['unit']).name} 企业风险等级"
        )


class RiskRuleView(StaffView):
    """风险等级规则: the weights and thresholds (everyone reads them; the city's administrators change them)."""

    def _render(self, request: HttpRequest, form: Any, status: int = 200) -> HttpResponse:
        rule = risk.current_rule()
        return render(
            request,
            "reporting/risk_rule.html",
            {
                "form": form,
                "rule": rule,
                "can_edit": services.can_design_forms(request.user),
                "entries": audit_history(rule) if rule.pk and not rule._state.adding else [],
            },
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        rule = risk.current_rule()
        return self._render(
            request, f.risk_rule_form(initial={n: getattr(rule, n) for n in risk.RULE_FIELDS})
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        if not services.can_design_forms(request.user):
            raise PermissionDenied("只有市级管理员可以设置风险等级规则。")
        form = f.risk_rule_form(data=request.POST)
        if form.is_valid():
            try:
                services.riskrule_update(actor=request.user, values=dict(form.cleaned_data))
            except ServiceError as error:
                form.add_service_error(error.field, error.message)
            else:
                messages.success(request, "已保存风险等级规则，各页面的风险等级即按新规则计算。")
                return HttpResponseRedirect(reverse("reporting:risk_rule"))
        return self._render(request, form, status=400)


class EnterpriseRiskView(ScopedMixin, StaffView):
    """htmx: the level of one enterprise with its facts, for the enterprise page (orgs does not import us)."""

    model = Enterprise

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        enterprise = self.get_scoped_object()
        facts = risk.enterprise_risk(enterprise.pk, day=timezone.localdate())
        return render(
            request,
            "reporting/_enterprise_risk.html",
            {
                "enterprise": enterprise,
                "facts": facts,
                "can_warn": services.can_handle_warnings(request.user),
                "can_file_incident": services.can_file_incidents(request.user),
            },
        )


# --- reported headcounts against the roster ------------------------------------------------------------


HEADCOUNT_TABS = (("", "全部差异"), *headcounts.KIND_LABELS.items())


def _headcount_state(request: HttpRequest) -> dict[str, Any]:
    unit = _unit_for(request)
    today = timezone.localdate()
    day = _day_param(request.GET.get("as_of"), today)
    industries = list(Industry.objects.order_by("code"))
    industry = request.GET.get("industry", "")
    if industry not in {i.code for i in industries}:
        industry = ""
    kind = request.GET.get("kind", "")
    if kind not in headcounts.KINDS:
        kind = ""
    comparison = headcounts.compute_cached(day=day, path=unit.path, industry=industry)
    return {
        "unit": unit,
        "day": day,
        "industries": industries,
        "industry": industry,
        "kind": kind,
        "comparison": comparison,
    }


def headcount_children(comparison: headcounts.Comparison, unit: OrgUnit) -> list[dict[str, Any]]:
    """The differing enterprises per unit directly below ``unit`` (a unit's list is one click away)."""
    children = OrgUnit.objects.filter(pk__in=list(comparison.by_child)).order_by("code")
    return [
        {
            "unit": child,
            "counts": comparison.by_child[child.pk],
            "total": sum(comparison.by_child[child.pk].values()),
        }
        for child in children
    ]


class HeadcountView(StaffView):
    """职工人数比对: reported headcounts against the real-name roster, enterprises that differ, per unit."""

    def get(self, request: HttpRequest) -> HttpResponse:
        state = _headcount_state(request)
        comparison: headcounts.Comparison = state["comparison"]
        page_obj = Paginator(comparison.of_kind(state["kind"]), PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [headcounts.unpack(packed) for packed in page_obj.object_list]
        enterprises = Enterprise.objects.select_related("org_unit").in_bulk(
            [row.enterprise_id for row in rows]
        )
        counts = comparison.counts
        state.update(
            {
                "page_obj": page_obj,
                "entries": [{"row": row, "enterprise": enterprises.get(row.enterprise_id)} for row in rows],
                "tabs": [
                    (key, label, counts.get(key, comparison.differing)) for key, label in HEADCOUNT_TABS
                ],
                "children": headcount_children(comparison, state["unit"]),
            }
        )
        return render(request, "reporting/headcounts.html", state)


class HeadcountExportView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        state = _headcount_state(request)
        comparison: headcounts.Comparison = state["comparison"]
        rows = [headcounts.unpack(packed) for packed in comparison.of_kind(state["kind"])]
        return exports.headcounts_xlsx_response(comparison, rows, unit=state["unit"])
