"""劳模工匠和劳动竞赛: staff pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from safetynet.accounts.models import Capability
from safetynet.core.errors import ServiceError
from safetynet.core.normalize import clean_text
from safetynet.core.selectors import audit_history
from safetynet.core.views_base import ScopedMixin, StaffView
from safetynet.exemplars import exports, selectors, services
from safetynet.exemplars import forms as f
from safetynet.exemplars.models import (
    Competition,
    CompetitionKind,
    HonourKind,
    HonourLevel,
    Studio,
)
from safetynet.members.selectors import person_find_by_id_number
from safetynet.orgs.models import Enterprise
from safetynet.visits.views import picked_unit


def _year(request: HttpRequest) -> int | None:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return None
    return year if 1900 <= year <= 2999 else None


def _import_url(kind: str) -> str:
    try:
        return reverse("imports:job_create") + f"?kind={kind}"
    except NoReverseMatch:
        return ""


def _enterprise(request: HttpRequest, form: Any, field: str) -> Enterprise | None:
    code = clean_text(form.cleaned_data.get(field, "")).replace(" ", "").upper()
    enterprise = (
        Enterprise.objects.visible_to(request.user)
        .select_related("org_unit")
        .filter(credit_code=code)
        .first()
    )
    if enterprise is None:
        form.add_error(field, f"统一社会信用代码“{code}”的企业不存在或不在您的管辖范围内。")
    return enterprise


def _person(request: HttpRequest, form: Any, field: str) -> Any:
    person = person_find_by_id_number(request.user, form.cleaned_data.get(field, ""))
    if person is None:
        form.add_error(
            field, "没有找到该身份证号的职工（或不在您的管辖范围内）；请先在会员管理中登记该职工。"
        )
    return person


def _service_error(form: Any, exc: ServiceError, mapping: dict[str, str] | None = None) -> None:
    field = (mapping or {}).get(exc.field or "", exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


class CreatePageView(StaffView):
    """A 新增 page (exemplars/form.html): the empty ``form_class`` on GET; the page's POST shows a refused
    form again with ``render_form(form, status=400)``. ``back`` is the list the breadcrumb and 取消 lead to."""

    capability = Capability.EDIT_REGISTRY
    form_class: Any = None
    title = ""
    back_name = ""

    def back(self) -> str:
        return reverse(self.back_name)

    def render_form(self, form: Any, *, status: int = 200, back: str | None = None) -> HttpResponse:
        context = {"form": form, "title": self.title, "back": back or self.back()}
        return render(self.request, "exemplars/form.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_form(self.form_class())


# --- honours and 工人先锋号 -------------------------------------------------------------------------


class HonourListView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        unit = picked_unit(request)
        tab = "teams" if request.GET.get("tab") == "teams" else "honours"
        params = {
            "q": request.GET.get("q", ""),
            "level": request.GET.get("level", ""),
            "year": _year(request),
            "unit": unit,
        }
        if tab == "teams":
            rows = selectors.team_list(request.user, **params)
        else:
            rows = selectors.honour_list(request.user, kind=request.GET.get("kind", ""), **params)
        page = Paginator(rows, 50).get_page(request.GET.get("page"))
        return render(
            request,
            "exemplars/honour_list.html",
            {
                "tab": tab,
                "page_obj": page,
                "rows": page.object_list,
                "unit": unit,
                "kinds": HonourKind.choices,
                "levels": HonourLevel.choices,
                "can_edit": request.user.can(Capability.EDIT_REGISTRY),
                "import_url": _import_url("pioneer_teams" if tab == "teams" else "honours"),
            },
        )


class HonourExportView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        unit = picked_unit(request)
        if request.GET.get("tab") == "teams":
            rows = selectors.team_list(
                request.user, q=request.GET.get("q", ""), year=_year(request), unit=unit
            )
            return exports.xlsx_response(
                "工人先锋号.xlsx", "工人先锋号", exports.TEAM_HEADERS, exports.team_rows(rows.iterator(2000))
            )
        rows = selectors.honour_list(
            request.user,
            q=request.GET.get("q", ""),
            kind=request.GET.get("kind", ""),
            year=_year(request),
            unit=unit,
        )
        return exports.xlsx_response(
            "劳模及奖章获得者.xlsx",
            "劳模及奖章获得者",
            exports.HONOUR_HEADERS,
            exports.honour_rows(rows.iterator(2000)),
        )


class HonourCreateView(CreatePageView):
    form_class = f.HonourForm
    title = "新增劳模及奖章获得者"
    back_name = "exemplars:honour_list"

    def post(self, request: HttpRequest) -> HttpResponse:
        form = f.HonourForm(request.POST)
        if form.is_valid():
            person = _person(request, form, "id_number")
            enterprise = _enterprise(request, form, "enterprise")
            if person is not None and enterprise is not None:
                data = form.cleaned_data
                try:
                    services.honour_create(
                        actor=request.user,
                        person=person,
                        enterprise=enterprise,
                        kind=data["kind"],
                        level=data["level"],
                        year=data["year"],
                        title=data["title"],
                        note=data["note"],
                    )
                except ServiceError as exc:
                    _service_error(form, exc, {"person": "id_number"})
                else:
                    messages.success(request, "已登记。")
                    return HttpResponseRedirect(reverse("exemplars:honour_list"))
        return self.render_form(form, status=400)


class TeamCreateView(CreatePageView):
    form_class = f.TeamForm
    title = "新增工人先锋号"

    def back(self) -> str:
        return reverse("exemplars:honour_list") + "?tab=teams"

    def post(self, request: HttpRequest) -> HttpResponse:
        form = f.TeamForm(request.POST)
        if form.is_valid():
            enterprise = _enterprise(request, form, "enterprise")
            if enterprise is not None:
                data = form.cleaned_data
                try:
                    services.pioneer_create(
                        actor=request.user,
                        name=data["name"],
                        enterprise=enterprise,
                        level=data["level"],
                        year=data["year"],
                        members_count=data["members_count"],
                    )
                except ServiceError as exc:
                    _service_error(form, exc)
                else:
                    messages.success(request, "已登记。")
                    return HttpResponseRedirect(reverse("exemplars:honour_list") + "?tab=teams")
        return self.render_form(form, status=400, back=reverse("exemplars:honour_list"))


# --- studios ------------------------------------------------------------------------------------


class StudioListView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        unit = picked_unit(request)
        studios = selectors.studio_list(
            request.user, q=request.GET.get("q", ""), level=request.GET.get("level", ""), unit=unit
        )
        page = Paginator(studios, 50).get_page(request.GET.get("page"))
        return render(
            request,
            "exemplars/studio_list.html",
            {
                "page_obj": page,
                "studios": page.object_list,
                "totals": selectors.studio_totals(studios),
                "unit": unit,
                "levels": HonourLevel.choices,
                "can_edit": request.user.can(Capability.EDIT_REGISTRY),
                "import_url": _import_url("studios"),
            },
        )


class StudioExportView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        studios = selectors.studio_list(request.user, q=request.GET.get("q", ""), unit=picked_unit(request))
        return exports.xlsx_response(
            "劳模创新工作室.xlsx",
            "劳模创新工作室",
            exports.STUDIO_HEADERS,
            exports.studio_rows(studios.iterator(2000)),
        )


class StudioCreateView(CreatePageView):
    form_class = f.StudioForm
    title = "新增劳模创新工作室"
    back_name = "exemplars:studio_list"

    def post(self, request: HttpRequest) -> HttpResponse:
        form = f.StudioForm(request.POST)
        if form.is_valid():
            leader = _person(request, form, "leader_id_number")
            enterprise = _enterprise(request, form, "enterprise")
            if leader is not None and enterprise is not None:
                data = form.cleaned_data
                try:
                    studio = services.studio_create(
                        actor=request.user,
                        name=data["name"],
                        leader=leader,
                        enterprise=enterprise,
                        level=data["level"],
                        founded_on=data["founded_on"],
                        members_count=data["members_count"],
                        patents=data["patents"],
                        savings=data["savings"],
                        results=data["results"],
                    )
                except ServiceError as exc:
                    _service_error(form, exc, {"leader": "leader_id_number"})
                else:
                    messages.success(request, "已登记。")
                    return HttpResponseRedirect(reverse("exemplars:studio_detail", args=[studio.pk]))
        return self.render_form(form, status=400)


class StudioDetailView(ScopedMixin, StaffView):
    model = Studio

    def get_base_queryset(self) -> Any:
        return Studio.objects.select_related("leader", "enterprise", "org_unit")

    def render_page(self, request: HttpRequest, studio: Studio, form: Any, status: int = 200) -> HttpResponse:
        return render(
            request,
            "exemplars/studio_detail.html",
            {
                "studio": studio,
                "form": form,
                "history": audit_history(studio),
                "can_edit": request.user.can(Capability.EDIT_REGISTRY),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        studio = self.get_scoped_object()
        form = f.StudioResultsForm(
            initial={
                "members_count": studio.members_count,
                "patents": studio.patents,
                "savings": studio.savings,
                "results": studio.results,
            }
        )
        return self.render_page(request, studio, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        studio = self.get_scoped_object()
        if not request.user.can(Capability.EDIT_REGISTRY):
            raise PermissionDenied("您的角色不能维护工作室信息。")
        form = f.StudioResultsForm(request.POST)
        if form.is_valid():
            try:
                services.studio_update_results(actor=request.user, studio=studio, **form.cleaned_data)
            except ServiceError as exc:
                _service_error(form, exc)
            else:
                messages.success(request, "成果已更新。")
                return HttpResponseRedirect(reverse("exemplars:studio_detail", args=[studio.pk]))
        return self.render_page(request, studio, form, status=400)


# --- competitions -------------------------------------------------------------------------------


class CompetitionListView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        competitions = selectors.competition_list(
            request.user, q=request.GET.get("q", ""), kind=request.GET.get("kind", ""), year=_year(request)
        )
        page = Paginator(competitions, 50).get_page(request.GET.get("page"))
        return render(
            request,
            "exemplars/competition_list.html",
            {
                "page_obj": page,
                "competitions": page.object_list,
                "kinds": CompetitionKind.choices,
                "can_edit": request.user.can(Capability.EDIT_REGISTRY),
                "import_url": _import_url("competition_entries"),
            },
        )


class CompetitionCreateView(CreatePageView):
    form_class = f.CompetitionForm
    title = "新增劳动和技能竞赛"
    back_name = "exemplars:competition_list"

    def post(self, request: HttpRequest) -> HttpResponse:
        form = f.CompetitionForm(request.POST)
        if form.is_valid():
            try:
                competition = services.competition_create(
                    actor=request.user, unit=request.user.org_unit, **form.cleaned_data
                )
            except ServiceError as exc:
                _service_error(form, exc)
            else:
                messages.success(request, "竞赛已登记。")
                return HttpResponseRedirect(reverse("exemplars:competition_detail", args=[competition.pk]))
        return self.render_form(form, status=400)


class CompetitionDetailView(ScopedMixin, StaffView):
    model = Competition

    def get_base_queryset(self) -> Any:
        return Competition.objects.select_related("org_unit")

    def render_page(
        self, request: HttpRequest, competition: Competition, form: Any, status: int = 200
    ) -> HttpResponse:
        entries = selectors.competition_entries(request.user, competition)
        return render(
            request,
            "exemplars/competition_detail.html",
            {
                "competition": competition,
                "entries": entries,
                "workers": sum(e.workers for e in entries),
                "form": form,
                "history": audit_history(competition),
                "can_edit": request.user.can(Capability.EDIT_REGISTRY),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        competition = self.get_scoped_object()
        if request.GET.get("format") == "xlsx":
            rows = selectors.competition_entries(request.user, competition)
            return exports.xlsx_response(
                f"{competition.name}-参赛企业.xlsx",
                "参赛企业",
                exports.ENTRY_HEADERS,
                exports.entry_rows(rows),
            )
        return self.render_page(request, competition, f.EntryForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        competition = self.get_scoped_object()
        if not request.user.can(Capability.EDIT_REGISTRY):
            raise PermissionDenied("您的角色不能登记参赛企业。")
        form = f.EntryForm(request.POST)
        if form.is_valid():
            enterprise = _enterprise(request, form, "enterprise")
            if enterprise is not None:
                data = form.cleaned_data
                try:
                    services.competition_entry_add(
                        actor=request.user,
                        competition=competition,
                        enterprise=enterprise,
                        workers=data["workers"],
                        result=data["result"],
                        award=data["award"],
                    )
                except ServiceError as exc:
                    _service_error(form, exc)
                else:
                    messages.success(request, "参赛企业已登记。")
                    return HttpResponseRedirect(
                        reverse("exemplars:competition_detail", args=[competition.pk])
                    )
        return self.render_page(request, competition, form, status=400)
