"""走访企业职工: staff pages (list, mobile-friendly form, detail with escalation, export)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from safetynet.accounts.models import Capability
from safetynet.core.errors import ServiceError
from safetynet.core.scope import get_for_user
from safetynet.core.selectors import audit_history
from safetynet.core.views_base import ScopedMixin, StaffView
from safetynet.orgs.models import Enterprise, OrgUnit
from safetynet.visits import exports, selectors, services
from safetynet.visits.forms import EscalateForm, VisitForm
from safetynet.visits.models import Visit


def picked_unit(request: HttpRequest) -> OrgUnit | None:
    pk = request.GET.get("unit", "")
    return get_for_user(OrgUnit, request.user, pk=pk) if pk else None


def picked_year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year
    return year if 1990 <= year <= 2100 else timezone.localdate().year


def form_error(form: Any, exc: ServiceError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


class VisitListView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        unit = picked_unit(request)
        year = picked_year(request)
        visits = selectors.visit_list(request.user, q=request.GET.get("q", ""), year=year, unit=unit)
        page = Paginator(visits, 50).get_page(request.GET.get("page"))
        return render(
            request,
            "visits/visit_list.html",
            {
                "page_obj": page,
                "visits": page.object_list,
                "unit": unit,
                "year": year,
                "q": request.GET.get("q", ""),
                "can_record": request.user.can(Capability.RECORD_VISITS),
                "can_import": request.user.can(Capability.RECORD_VISITS) and request.user.can("import"),
                "import_url": reverse("imports:job_create") + "?kind=visits",
            },
        )


class VisitExportView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        year = picked_year(request)
        visits = selectors.visit_list(
            request.user, q=request.GET.get("q", ""), year=year, unit=picked_unit(request)
        )
        return exports.xlsx_response(
            f"走访记录-{year}.xlsx",
            "走访记录",
            exports.VISIT_HEADERS,
            exports.visit_rows(visits.iterator(2000)),
        )


class VisitCreateView(StaffView):
    capability = Capability.RECORD_VISITS

    def get(self, request: HttpRequest) -> HttpResponse:
        initial: dict[str, Any] = {"visited_on": timezone.localdate()}
        pk = request.GET.get("enterprise", "")
        if pk:
            initial["enterprise"] = get_for_user(Enterprise, request.user, pk=pk).credit_code
        return render(request, "visits/visit_form.html", {"form": VisitForm(initial=initial)})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = VisitForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            enterprise, why = selectors.enterprise_for_visit(request.user, data["enterprise"])
            if enterprise is None:
                form.add_error("enterprise", why)
            else:
                try:
                    visit = services.visit_create(
                        actor=request.user,
                        enterprise=enterprise,
                        visited_on=data["visited_on"],
                        worker_name=data["worker_name"],
                        checklist=[*data["six_clear"], *data["eight_visit"]],
                        findings=data["findings"],
                        warning_category=data["warning_category"],
                        case_category=data["case_category"],
                        caller_phone=data["caller_phone"],
                    )
                except ServiceError as exc:
                    form_error(form, exc)
                else:
                    messages.success(request, "走访已登记。" + _linked(visit))
                    return HttpResponseRedirect(reverse("visits:visit_detail", args=[visit.pk]))
        return render(request, "visits/visit_form.html", {"form": form}, status=400)


def _linked(visit: Visit) -> str:
    parts = []
    if visit.warning_id:
        parts.append("已登记预警")
    if visit.case_id:
        parts.append(f"已转为诉求案件 {visit.case.number}")
    return "，".join(parts) + ("。" if parts else "")


class VisitDetailView(ScopedMixin, StaffView):
    model = Visit

    def get_base_queryset(self) -> Any:
        return Visit.objects.select_related("enterprise__org_unit", "warning", "case", "officer")

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        visit = self.get_scoped_object()
        return self.show(request, visit, EscalateForm())

    def show(self, request: HttpRequest, visit: Visit, form: EscalateForm, status: int = 200) -> HttpResponse:
        return render(
            request,
            "visits/visit_detail.html",
            {
                "visit": visit,
                "form": form,
                "can_record": request.user.can(Capability.RECORD_VISITS),
                "history": audit_history(visit),
            },
            status=status,
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        visit = self.get_scoped_object()
        if not request.user.can(Capability.RECORD_VISITS):
            raise PermissionDenied("您的角色不能登记走访。")
        form = EscalateForm(request.POST)
        if form.is_valid():
            try:
                visit = services.visit_escalate(actor=request.user, visit=visit, **form.cleaned_data)
            except ServiceError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _linked(visit) or "已处理。")
                return HttpResponseRedirect(reverse("visits:visit_detail", args=[visit.pk]))
        return self.show(request, visit, form, status=400)
