"""Staff pages of 服务帮扶: hardship files, relief rounds with their budget split, batch application, the
review queue with its vote ledger, the public notice with objections, payments (bank batch XLSX, paid, reversal),
interest-free loans and the member discount bases.

Thin on purpose: reads through ``assistance.selectors`` or ``get_for_user`` (another unit's record is a 404
like a missing one), every write through one ``assistance.services`` call with ``actor=request.user``. A
refusal comes back on the page that caused it, next to its field, with what the user typed. ID numbers are
shown masked, as in the registry; the clear number is one click away on the person's page (audited there).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from safetynet.accounts.models import Capability
from safetynet.assistance import exports, selectors, services, tasks
from safetynet.assistance import forms as f
from safetynet.assistance.models import (
    LIVE_APPLICATION_STATUSES,
    Application,
    ApplicationStatus,
    BaseKind,
    BatchJob,
    Cause,
    DiscountBase,
    Evidence,
    EvidenceKind,
    FileStatus,
    HardshipFile,
    Loan,
    LoanStatus,
    Objection,
    ObjectionStatus,
    Payment,
    PaymentBatch,
    ProgrammeKind,
    Round,
    RoundStatus,
    Vote,
)
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.normalize import clean_text
from safetynet.core.scope import get_for_user
from safetynet.core.selectors import audit_history
from safetynet.core.views_base import ScopedMixin, StaffView
from safetynet.members import selectors as member_selectors
from safetynet.members.models import Person
from safetynet.orgs.models import OrgLevel, OrgUnit

PAGE_SIZE = 50
HANDLE = Capability.HANDLE_ASSISTANCE
REVIEW = Capability.REVIEW_ASSISTANCE
FUNDS = Capability.MANAGE_ASSISTANCE_FUNDS


# --- small helpers -----------------------------------------------------------------------------------


def refuse(error: ServiceError) -> None:
    """Out of scope is "not found" and a missing capability is 403, on pages as in the API."""
    if isinstance(error, OutOfScope):
        raise Http404(error.message)
    if isinstance(error, NotAllowed):
        raise PermissionDenied(error.message)


def today() -> datetime.date:
    return timezone.localdate()


def unit_param(request: HttpRequest, value: str | None = None) -> OrgUnit | None:
    value = request.GET.get("unit", "") if value is None else value
    return get_for_user(OrgUnit, request.user, pk=value) if value else None


def home_unit(request: HttpRequest, value: str | None = None) -> OrgUnit:
    unit = unit_param(request, value)
    if unit is not None:
        return unit
    if request.user.org_unit_id:
        return request.user.org_unit
    root = OrgUnit.objects.visible_to(request.user).filter(parent__isnull=True).order_by("pk").first()
    if root is None:
        raise Http404("尚未建立任何单位。")
    return root


def query_without(request: HttpRequest, *keys: str) -> str:
    params = request.GET.copy()
    for key in keys:
        params.pop(key, None)
    return params.urlencode()


def with_query(url: str, request: HttpRequest, *drop: str) -> str:
    query = query_without(request, "page", *drop)
    return f"{url}?{query}" if query else url


def back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Back to the page the button was on (``next``), when it is one of ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)


def page(request: HttpRequest, queryset: Any) -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def choice(request: HttpRequest, name: str, values: Any) -> str:
    value = request.GET.get(name, "")
    return value if value in values else ""


def scoped_round(user: Any, pk: Any) -> Round:
    """A round the user takes part in (their unit's, one above or below it): else 404."""
    try:
        return selectors.round_list(user).select_related("org_unit").get(pk=pk)
    except (Round.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该帮扶批次，或您无权查看。") from None


class RoundScopedMixin(ScopedMixin):
    """Rounds are read through ``selectors.round_list`` (a district takes part in the city's round)."""

    model = Round

    def get_scoped_object(self) -> Round:
        return scoped_round(self.request.user, self.kwargs["pk"])


class RecordActionMixin:
    """One POST on a record's page (a button, or a small form): one service call. Done: a message and back to
    the page. Refused: with a form, the page again (400) with the form and the error next to its field;
    without one, the message and back to the page.

    The action sets ``form_class`` (or none), ``key`` (which of the page's forms it is), ``success`` and
    ``call``; the record's page gives ``done`` (where to go back to) and ``render_failed``."""

    http_method_names = ["post"]
    form_class: Any = None
    key = ""
    success = ""
    request: HttpRequest

    def call(self, record: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def bound_form(self) -> Any:
        return self.form_class(self.request.POST) if self.form_class else None

    def done(self, record: Any) -> HttpResponse:
        raise NotImplementedError

    def render_failed(self, record: Any, form: Any) -> HttpResponse:
        raise NotImplementedError

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        record = self.get_scoped_object()  # type: ignore[attr-defined]
        form = self.bound_form()
        if form is None or form.is_valid():
            try:
                self.call(record, form.cleaned_data if form else {})
            except ServiceError as error:
                refuse(error)
                if form is None:
                    messages.error(request, error.message)
                    return self.done(record)
                form.add_service_error(error.field, error.message)
            else:
                messages.success(request, self.success)
                return self.done(record)
        return self.render_failed(record, form)


# --- hardship files ---------------------------------------------------------------------------------


def file_filters(request: HttpRequest) -> dict[str, Any]:
    status = request.GET.get("status", "")
    if status not in FileStatus.values:
        status = ""
    return {
        "q": clean_text(request.GET.get("q", "")),
        "status": status,
        "cause": choice(request, "cause", Cause.values),
        "unit": unit_param(request),
    }


def filtered_files(request: HttpRequest) -> tuple[dict[str, Any], QuerySet[HardshipFile]]:
    filters = file_filters(request)
    queryset = selectors.hardship_file_list(request.user, **filters).select_related("person", "org_unit")
    return filters, queryset


class FileListView(StaffView):
    """困难职工档案: search and filters, pagination, export; ID numbers masked."""

    def get(self, request: HttpRequest) -> HttpResponse:
        filters, queryset = filtered_files(request)
        page_obj = page(request, queryset)
        return render(
            request,
            "assistance/file_list.html",
            {
                **filters,
                "page_obj": page_obj,
                "files": page_obj.object_list,
                "statuses": FileStatus.choices,
                "causes": Cause.choices,
                "filtered": any(request.GET.get(k) for k in ("q", "status", "cause", "unit")),
                "export_url": with_query(reverse("assistance:file_export"), request),
                "can_handle": request.user.can(HANDLE),
                "due_count": selectors.hardship_files_due_review(request.user, today()).count(),
                "today": today(),
            },
        )


class FileExportView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        _, queryset = filtered_files(request)
        return exports.files_response(queryset)


def person_candidates(user: Any, text: str) -> list[Person]:
    """The registry's persons an ID number (exact) or a name (prefix) finds, in the user's scope."""
    if not text:
        return []
    found = member_selectors.person_find_by_id_number(user, text)
    if found is not None:
        return [found]
    return list(member_selectors.person_search(user, text)[:20])


class PersonPickMixin:
    """A form page that first finds the worker in the registry (``?q=``), then takes ``?person=<pk>``.

    The page sets ``template_name`` and ``blank_form(person)`` (the form as first shown)."""

    request: HttpRequest
    template_name = ""

    def blank_form(self, person: Person | None) -> Any:
        raise NotImplementedError

    def render_page(self, form: Any, person: Person | None, status: int = 200) -> HttpResponse:
        return render(
            self.request,
            self.template_name,
            {"form": form, "person": person, **self.lookup_context()},
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        redirect = self.found_by_number()
        if redirect is not None:
            return redirect
        person = self.picked(request.GET.get("person"))
        return self.render_page(self.blank_form(person), person)

    def picked(self, value: Any) -> Person | None:
        if not value:
            return None
        return get_for_user(Person, self.request.user, pk=value)

    def found_by_number(self) -> HttpResponseRedirect | None:
        """A full ID number names one person: go on with them, and the number leaves the page's address."""
        q = clean_text(self.request.GET.get("q", ""))
        if not q or self.request.GET.get("person"):
            return None
        person = member_selectors.person_find_by_id_number(self.request.user, q)
        if person is None:
            return None
        return HttpResponseRedirect(f"{self.request.path}?{urlencode({'person': person.pk})}")

    def lookup_context(self) -> dict[str, Any]:
        q = clean_text(self.request.GET.get("q", ""))
        return {"q": q, "candidates": person_candidates(self.request.user, q), "searched": bool(q)}


class FileCreateView(PersonPickMixin, StaffView):
    """新建档案: find the worker (ID number or name), then the household, income and causes."""

    capability = HANDLE
    template_name = "assistance/file_create.html"

    def blank_form(self, person: Person | None) -> f.HardshipFileForm:
        initial = {"opened_on": today(), "person": person.pk if person else None}
        return f.HardshipFileForm(initial=initial, user=self.request.user)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = f.HardshipFileForm(request.POST, user=request.user)
        person = self.picked(request.POST.get("person"))
        if form.is_valid() and person is not None:
            data = form.cleaned_data
            try:
                hardship_file = services.hardship_file_open(
                    actor=request.user,
                    person=person,
                    org_unit=data["org_unit"],
                    household_size=data["household_size"],
                    monthly_income=data["monthly_income"],
                    causes=data["causes"],
                    opened_on=data["opened_on"],
                    level=data["level"],
                    note=data["note"],
                    members=data["household_members"],
                )
            except ServiceError as error:
                refuse(error)
                form.add_service_error(error.field, error.message)
            else:
                messages.success(
                    request,
                    f"已为{person.name}建立困难职工档案：人均月收入 {hardship_file.income_per_head} 元。"
                    "请上传证明材料，等待街道审核。",
                )
                return HttpResponseRedirect(reverse("assistance:file_detail", args=[hardship_file.pk]))
        elif person is None:
            form.add_error(None, "请先在职工名录中查找并选择职工。")
        return self.render_page(form, person, status=400)


FILE_TABS = (
    ("household", "家庭与收入"),
    ("reviews", "审核记录"),
    ("evidence", "证明材料"),
    ("applications", "帮扶记录"),
    ("history", "变更记录"),
)


class FileDetailView(ScopedMixin, StaffView):
    model = HardshipFile

    def get_base_queryset(self) -> QuerySet[HardshipFile]:
        return HardshipFile.objects.select_related("person", "org_unit")

    def render_file(
        self, hardship_file: HardshipFile, *, failed: dict[str, Any] | None = None
    ) -> HttpResponse:
        user = self.request.user
        failed = failed or {}
        tab = self.request.GET.get("tab", "household")
        if tab not in dict(FILE_TABS):
            tab = "household"
        if failed:
            tab = failed.get("tab", tab)
        is_open = hardship_file.status != FileStatus.CLOSED
        day = today()
        context = {
            "file": hardship_file,
            "person": hardship_file.person,
            "tab": tab,
            "tabs": FILE_TABS,
            "members": hardship_file.household_members.all(),
            "reviews": hardship_file.reviews.order_by("-reviewed_on", "-pk"),
            "evidence": hardship_file.evidence.order_by("-pk"),
            "applications": selectors.application_list(user)
            .filter(hardship_file=hardship_file)
            .select_related("round"),
            "entries": audit_history(hardship_file),
            "is_open": is_open,
            "review_overdue": is_open and hardship_file.review_due_on < day,
            "can_handle": user.can(HANDLE) and is_open,
            "can_review": user.can(REVIEW) and is_open,
            "review_form": failed.get("review")
            or f.FileReviewForm(
                initial={
                    "reviewed_on": day,
                    "household_size": hardship_file.household_size,
                    "monthly_income": hardship_file.monthly_income,
                }
            ),
            "close_form": failed.get("close") or f.FileCloseForm(initial={"closed_on": day}),
            "evidence_form": failed.get("evidence") or f.EvidenceForm(),
            "member_form": failed.get("member") or f.HouseholdMemberForm(),
        }
        return render(self.request, "assistance/file_detail.html", context, status=400 if failed else 200)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_file(self.get_scoped_object())


class FileActionView(RecordActionMixin, FileDetailView):
    """One POST on a file (review, close, evidence, household member): a small form, one service call."""

    tab = ""

    def bound_form(self) -> Any:
        return self.form_class(self.request.POST, self.request.FILES)

    def done(self, hardship_file: HardshipFile) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("assistance:file_detail", args=[hardship_file.pk]) + f"?tab={self.tab}"
        )

    def render_failed(self, hardship_file: HardshipFile, form: Any) -> HttpResponse:
        hardship_file.refresh_from_db()
        return self.render_file(hardship_file, failed={self.key: form, "tab": self.tab})


class FileReviewView(FileActionView):
    capability = REVIEW
    form_class = f.FileReviewForm
    key = "review"
    tab = "reviews"
    success = "已记录审核，下次年度复核日期已顺延一年。"

    def call(self, hardship_file: HardshipFile, data: dict[str, Any]) -> Any:
        return services.hardship_file_review(
            actor=self.request.user,
            hardship_file=hardship_file,
            reviewed_on=data["reviewed_on"],
            household_size=data["household_size"],
            monthly_income=data["monthly_income"],
            note=data["note"],
            version=hardship_file.version,
        )


class FileCloseView(FileActionView):
    capability = HANDLE
    form_class = f.FileCloseForm
    key = "close"
    tab = "household"
    success = "档案已脱困销档。"

    def call(self, hardship_file: HardshipFile, data: dict[str, Any]) -> Any:
        return services.hardship_file_close(
            actor=self.request.user,
            hardship_file=hardship_file,
            closed_on=data["closed_on"],
            reason=data["reason"],
            note=data["note"],
            version=hardship_file.version,
        )


class FileEvidenceView(FileActionView):
    capability = HANDLE
    form_class = f.EvidenceForm
    key = "evidence"
    tab = "evidence"
    success = "已上传证明材料。"

    def call(self, hardship_file: HardshipFile, data: dict[str, Any]) -> Any:
        return services.evidence_attach(
            actor=self.request.user, upload=data["file"], kind=data["kind"], hardship_file=hardship_file
        )


class FileMemberView(FileActionView):
    capability = HANDLE
    form_class = f.HouseholdMemberForm
    key = "member"
    tab = "household"
    success = "已添加家庭成员。"

    def call(self, hardship_file: HardshipFile, data: dict[str, Any]) -> Any:
        return services.household_member_add(actor=self.request.user, hardship_file=hardship_file, **data)


class EvidenceDownloadView(ScopedMixin, StaffView):
    model = Evidence

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        evidence = self.get_scoped_object()
        try:
            handle = evidence.file.open("rb")
        except (FileNotFoundError, ValueError):
            raise Http404("材料文件已不存在，请联系管理员。") from None
        return FileResponse(
            handle, as_attachment=True, filename=evidence.original_name, content_type=evidence.content_type
        )


# --- rounds -----------------------------------------------------------------------------------------


class RoundListView(StaffView):
    """帮扶活动: the rounds the user takes part in, newest year first."""

    def get(self, request: HttpRequest) -> HttpResponse:
        year = request.GET.get("year", "")
        kind = choice(request, "kind", ProgrammeKind.values)
        queryset = selectors.round_list(
            request.user, year=int(year) if year.isdigit() else None, kind=kind
        ).select_related("org_unit")
        page_obj = page(request, queryset)
        return render(
            request,
            "assistance/round_list.html",
            {
                "page_obj": page_obj,
                "rounds": page_obj.object_list,
                "year": year,
                "kind": kind,
                "kinds": ProgrammeKind.choices,
                "filtered": bool(year or kind),
                "export_url": with_query(reverse("assistance:round_export"), request),
                "can_create": request.user.can(FUNDS),
            },
        )


class RoundExportView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        year = request.GET.get("year", "")
        kind = choice(request, "kind", ProgrammeKind.values)
        queryset = selectors.round_list(request.user, year=int(year) if year.isdigit() else None, kind=kind)
        return exports.rounds_response(queryset.select_related("org_unit"))


class RoundCreateView(StaffView):
    capability = FUNDS

    def get(self, request: HttpRequest) -> HttpResponse:
        day = today()
        initial = {
            "kind": ProgrammeKind.WINTER_RELIEF,
            "year": day.year,
            "window_opens": day,
            "window_closes": day + datetime.timedelta(days=30),
        }
        return render(request, "assistance/round_form.html", {"form": f.RoundForm(initial=initial)})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = f.RoundForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = services.round_create(
                    actor=request.user,
                    kind=data["kind"],
                    year=data["year"],
                    title=data["title"],
                    org_unit=home_unit(request),
                    window_opens=data["window_opens"],
                    window_closes=data["window_closes"],
                    standard_amount=data["standard_amount"],
                    min_amount=data["min_amount"],
                    max_amount=data["max_amount"],
                    budget=data["budget"],
                    review_levels=tuple(form.ordered_levels()),
                    level_rules=form.level_rules(),
                    notice_days=data["notice_days"],
                    require_open_file=data["require_open_file"],
                    require_member=data["require_member"],
                    require_below_threshold=data["require_below_threshold"],
                    require_not_paid=data["require_not_paid"],
                )
            except ServiceError as error:
                refuse(error)
                form.add_service_error(error.field, error.message)
            else:
                messages.success(request, f"已建立“{created.title}”。下一步：把预算分解到下级单位。")
                return HttpResponseRedirect(reverse("assistance:round_budget", args=[created.pk]))
        return render(request, "assistance/round_form.html", {"form": form}, status=400)


def round_figures(user: Any, round_: Round) -> dict[str, Any]:
    """Counts and amounts of the round within the user's scope: one grouped query per table."""
    rows = (
        selectors.application_list(user, round=round_)
        .values("status")
        .annotate(count=Count("pk"), amount=Sum("amount"))
    )
    by_status = {row["status"]: row for row in rows}
    paid = (
        selectors.payment_list(user, round=round_)
        .filter(paid_on__isnull=False)
        .aggregate(
            amount=Sum("amount"),
            # people paid and not reversed (a reversed and paid again person counts once)
            people=Count("person", distinct=True, filter=Q(kind="payment", reversed_on__isnull=True)),
        )
    )
    committed = selectors.payment_list(user, round=round_).aggregate(amount=Sum("amount"))
    statuses = [
        {"status": value, "label": label, **by_status.get(value, {"count": 0, "amount": None})}
        for value, label in ApplicationStatus.choices
    ]
    return {
        "statuses": statuses,
        "applied": sum(
            row["count"] for row in by_status.values() if row["status"] in LIVE_APPLICATION_STATUSES
        ),
        "paid_amount": paid["amount"] or Decimal("0.00"),
        "paid_people": paid["people"] or 0,
        "committed_amount": committed["amount"] or Decimal("0.00"),
    }


def round_budget_line(user: Any, round_: Round) -> Any:
    """The budget line of the user's own unit (or the round's unit for those above it)."""
    lines = selectors.budget_lines(round_, user)
    unit_id = user.org_unit_id
    for line in lines:
        if line.unit.pk == unit_id:
            return line
    return lines[0] if lines else None


class RoundDetailView(RoundScopedMixin, StaffView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        round_ = self.get_scoped_object()
        user = request.user
        day = today()
        status = choice(request, "status", ApplicationStatus.values)
        applications = selectors.application_list(user, round=round_, status=status).select_related(
            "person", "org_unit", "hardship_file"
        )
        page_obj = page(request, applications)
        unit = home_unit(request)
        return render(
            request,
            "assistance/round_detail.html",
            {
                "round": round_,
                "rules": round_.level_rules.order_by("-level"),
                "figures": round_figures(user, round_),
                "budget": round_budget_line(user, round_),
                "page_obj": page_obj,
                "applications": page_obj.object_list,
                "status": status,
                "statuses": ApplicationStatus.choices,
                "unit": unit,
                "window_open": round_.is_open_for_applications(day),
                "can_apply": user.can(HANDLE) and round_.is_open_for_applications(day),
                "can_fund": user.can(FUNDS),
                "can_close": user.can(FUNDS)
                and round_.org_unit_id == user.org_unit_id
                and round_.status != RoundStatus.CLOSED,
                "export_url": with_query(reverse("assistance:application_export", args=[round_.pk]), request),
                "entries": audit_history(round_),
            },
        )


class RoundCloseView(RoundScopedMixin, StaffView):
    capability = FUNDS
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        round_ = self.get_scoped_object()
        try:
            services.round_close(actor=request.user, round=round_, version=round_.version)
        except ServiceError as error:
            refuse(error)
            messages.error(request, error.message)
        else:
            messages.success(request, f"“{round_.title}”已结束，不再受理申请。")
        return HttpResponseRedirect(reverse("assistance:round_detail", args=[round_.pk]))


class ApplicationExportView(RoundScopedMixin, StaffView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        round_ = self.get_scoped_object()
        status = choice(request, "status", ApplicationStatus.values)
        queryset = selectors.application_list(request.user, round=round_, status=status).select_related(
            "person", "org_unit"
        )
        return exports.applications_response(round_, queryset)


class RoundBudgetView(RoundScopedMixin, StaffView):
    """预算分解: the unit's share and its children's, allocated against the share; over-allocation named."""

    def state(self, round_: Round) -> dict[str, Any]:
        request = self.request
        lines = selectors.budget_lines(round_, request.user)
        by_unit = {line.unit.pk: line for line in lines}
        unit = home_unit(request, request.POST.get("unit") if request.method == "POST" else None)
        if round_.org_unit.path.startswith(unit.path) and unit.pk != round_.org_unit_id:
            unit = round_.org_unit  # above the round: its own unit's split is the one that matters
        children = list(OrgUnit.objects.visible_to(request.user).filter(parent=unit).order_by("code"))
        return {
            "round": round_,
            "unit": unit,
            "line": by_unit.get(unit.pk),
            "children": [{"unit": child, "line": by_unit.get(child.pk)} for child in children],
            "child_units": children,
            "initial_amounts": {pk: line.amount for pk, line in by_unit.items()},
            "problems": selectors.budget_problems(round_),
            "can_edit": request.user.can(FUNDS),
            "lines": lines,
        }

    def render_page(self, state: dict[str, Any], form: Any, status: int = 200) -> HttpResponse:
        allocated = sum((line.amount for c in state["children"] if (line := c["line"])), Decimal("0.00"))
        state.update({"form": form, "allocated": allocated})
        if state["line"] is not None:
            state["over"] = allocated > state["line"].amount
        for child in state["children"]:
            child["field"] = form[f"unit-{child['unit'].pk}"]
        return render(self.request, "assistance/round_budget.html", state, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        state = self.state(self.get_scoped_object())
        form = f.BudgetSplitForm(units=state["child_units"], initial_amounts=state["initial_amounts"])
        return self.render_page(state, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.can(FUNDS):
            raise PermissionDenied("您的角色不能分解帮扶预算。")
        round_ = self.get_scoped_object()
        state = self.state(round_)
        form = f.BudgetSplitForm(request.POST, units=state["child_units"], initial_amounts={})
        if form.is_valid():
            try:
                services.budget_split(actor=request.user, round=round_, shares=form.shares())
            except ServiceError as error:
                refuse(error)
                form.add_error(None, error.message)
            else:
                messages.success(request, f"已保存{state['unit'].name}的预算分解。")
                url = reverse("assistance:round_budget", args=[round_.pk])
                return HttpResponseRedirect(f"{url}?{urlencode({'unit': state['unit'].pk})}")
        return self.render_page(state, form, status=400)


class RoundExportBudgetView(RoundScopedMixin, StaffView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        round_ = self.get_scoped_object()
        return exports.budget_response(round_, selectors.budget_lines(round_, request.user))


class RoundApplyView(RoundScopedMixin, StaffView):
    """申请: the eligible files of the unit, one application per click, or all of them in one batch."""

    def render_page(
        self, round_: Round, *, form: Any = None, failed_file: int | None = None, status: int = 200
    ) -> HttpResponse:
        request = self.request
        unit = home_unit(request, request.POST.get("unit") if request.method == "POST" else None)
        eligible = selectors.eligible_files(round_, unit, today()).select_related("person", "org_unit")
        page_obj = page(request, eligible)
        student = round_.kind == ProgrammeKind.STUDENT_AID
        return render(
            request,
            "assistance/round_apply.html",
            {
                "round": round_,
                "unit": unit,
                "page_obj": page_obj,
                "files": page_obj.object_list,
                "student": student,
                "form": form,
                "failed_file": failed_file,
                "blank_form": f.ApplicationForm(student_aid=student),
                "window_open": round_.is_open_for_applications(today()),
                "can_apply": request.user.can(HANDLE),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_page(self.get_scoped_object())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.can(HANDLE):
            raise PermissionDenied("您的角色不能提交帮扶申请。")
        round_ = self.get_scoped_object()
        student = round_.kind == ProgrammeKind.STUDENT_AID
        form = f.ApplicationForm(request.POST, request.FILES, student_aid=student)
        if form.is_valid():
            data = form.cleaned_data
            hardship_file = get_for_user(
                HardshipFile.objects.select_related("person"), request.user, pk=data["hardship_file"]
            )
            try:
                application = submit_application(request.user, round_, hardship_file, data)
            except ServiceError as error:
                refuse(error)
                form.add_service_error(error.field, error.message)
            else:
                messages.success(
                    request,
                    f"已为{hardship_file.person.name}提交申请 {application.amount} 元，等待"
                    f"{OrgLevel(application.current_level).label if application.current_level else ''}审核。",
                )
                return back(request, reverse("assistance:round_apply", args=[round_.pk]))
        return self.render_page(round_, form=form, failed_file=request.POST.get("hardship_file"), status=400)


def submit_application(
    user: Any, round_: Round, hardship_file: HardshipFile, data: dict[str, Any]
) -> Application:
    """One application; a 金秋助学 one carries its admission letter (saved by the service in its transaction)."""
    letter = data.get("admission_letter")
    return services.application_submit(
        actor=user,
        round=round_,
        on=today(),
        hardship_file=hardship_file,
        amount=data.get("amount"),
        student_name=data.get("student_name", ""),
        school=data.get("school", ""),
        reason=data.get("reason", ""),
        attachments=[(EvidenceKind.ADMISSION, letter)] if letter is not None else None,
    )


class RoundBatchView(RoundScopedMixin, StaffView):
    """为本街道全部符合条件的档案申请: a background task; the page polls its progress (htmx)."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        round_ = self.get_scoped_object()
        task_id = request.GET.get("task", "")
        if not task_id:
            return HttpResponseRedirect(reverse("assistance:round_apply", args=[round_.pk]))
        progress = tasks.application_batch_status(task_id) if task_id else None
        # The job is the user's unit's (or below): another unit's job is "not found" like a missing one.
        if progress is None or not BatchJob.objects.visible_to(request.user).filter(pk=progress.pk).exists():
            raise Http404("未找到该批量申请任务。")
        template = (
            "assistance/_batch_progress.html"
            if request.headers.get("HX-Request")
            else "assistance/round_batch.html"
        )
        return render(request, template, {"round": round_, "progress": progress, "task_id": task_id})

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.can(HANDLE):
            raise PermissionDenied("您的角色不能提交帮扶申请。")
        round_ = self.get_scoped_object()
        unit = home_unit(request, request.POST.get("unit", ""))
        try:
            task_id = services.application_batch_enqueue(
                actor=request.user, round=round_, unit=unit, on=today()
            )
        except ServiceError as error:
            refuse(error)
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse("assistance:round_apply", args=[round_.pk]))
        url = reverse("assistance:round_batch", args=[round_.pk])
        return HttpResponseRedirect(f"{url}?{urlencode({'task': task_id})}")


# --- applications: detail, vote, withdraw, notice, objections ---------------------------------------


def application_steps(application: Application) -> list[dict[str, Any]]:
    """申请 › 街道审核 › 区审核 › … › 公示 › 发放, with where the application now is."""
    round_ = application.round
    status = application.status
    steps = [{"label": "申请", "state": "done", "meta": application.submitted_on}]
    levels = round_.levels
    for level in levels:
        if status == ApplicationStatus.IN_REVIEW:
            current = application.current_level
            position = levels.index(current) if current in levels else 0
            state = "done" if levels.index(level) < position else ("current" if level == current else "todo")
        elif (
            status in (ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN)
            and application.decided_on is None
        ):
            state = "stopped" if level == application.current_level else "todo"
        else:
            state = "done"
        steps.append({"label": f"{OrgLevel(level).label}审核", "state": state, "meta": None})
    notice_state = {
        ApplicationStatus.APPROVED: "current",
        ApplicationStatus.IN_NOTICE: "current",
        ApplicationStatus.NOTICE_PASSED: "done",
        ApplicationStatus.PAID: "done",
    }.get(status, "todo")
    steps.append({"label": "公示", "state": notice_state, "meta": application.notice_until})
    pay_state = {ApplicationStatus.NOTICE_PASSED: "current", ApplicationStatus.PAID: "done"}.get(
        status, "todo"
    )
    steps.append({"label": "发放", "state": pay_state, "meta": None})
    if status in (ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN):
        steps.append(
            {"label": application.get_status_display(), "state": "stopped", "meta": application.closing_note}
        )
    return steps


def vote_tally(application: Application, votes: list[Any]) -> dict[str, Any] | None:
    """N of M at the current level: approvals so far, required, panel size."""
    level = application.current_level
    if level is None:
        return None
    at_level = [v for v in votes if v.level == level]
    rule = next((r for r in application.round.level_rules.all() if r.level == level), None)
    return {
        "level": OrgLevel(level).label,
        "approvals": sum(1 for v in at_level if v.decision == "approve"),
        "rejections": sum(1 for v in at_level if v.decision == "reject"),
        "required": rule.required_approvals if rule else 1,
        "panel": rule.panel_size if rule else None,
    }


class ApplicationDetailView(ScopedMixin, StaffView):
    model = Application

    def get_base_queryset(self) -> QuerySet[Application]:
        return Application.objects.select_related(
            "round", "person", "org_unit", "hardship_file"
        ).prefetch_related("round__level_rules")

    def render_application(
        self, application: Application, *, failed: dict[str, Any] | None = None
    ) -> HttpResponse:
        user = self.request.user
        failed = failed or {}
        votes = list(selectors.application_votes(application))
        actions = set(services.application_actions(application, user))
        return render(
            self.request,
            "assistance/application_detail.html",
            {
                "application": application,
                "round": application.round,
                "steps": application_steps(application),
                "votes": votes,
                "tally": vote_tally(application, votes),
                "objections": selectors.application_objections(application),
                "evidence": application.evidence.order_by("pk"),
                "payments": application.payments.order_by("pk"),
                "actions": actions,
                "vote_form": failed.get("vote") or f.DecisionForm(),
                "withdraw_form": failed.get("withdraw") or f.ReasonForm(),
                "objection_form": failed.get("objection") or f.ObjectionForm(initial={"raised_on": today()}),
                "resolve_form": f.ObjectionResolveForm(),
                "can_object": user.can(HANDLE) and application.status == ApplicationStatus.IN_NOTICE,
                "can_resolve": user.can(REVIEW),
                "entries": audit_history(application),
                "failed_message": failed.get("message", ""),
            },
            status=400 if failed else 200,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_application(self.get_scoped_object())


class ApplicationActionView(RecordActionMixin, ApplicationDetailView):
    def done(self, application: Application) -> HttpResponse:
        return back(self.request, reverse("assistance:application_detail", args=[application.pk]))

    def render_failed(self, application: Application, form: Any) -> HttpResponse:
        application = self.get_base_queryset().get(pk=application.pk)
        return self.render_application(application, failed={self.key: form})


class ApplicationVoteView(ApplicationActionView):
    capability = REVIEW
    form_class = f.DecisionForm
    key = "vote"
    success = "已记录审核意见。"

    def call(self, application: Application, data: dict[str, Any]) -> Any:
        return services.application_vote(
            actor=self.request.user,
            application=application,
            decision=data["decision"],
            reason=data["reason"],
            on=today(),
            version=int(self.request.POST["version"])
            if self.request.POST.get("version", "").isdigit()
            else None,
        )


class ApplicationWithdrawView(ApplicationActionView):
    capability = HANDLE
    form_class = f.ReasonForm
    key = "withdraw"
    success = "申请已撤回；如需帮扶，可在申请期内重新申请。"

    def call(self, application: Application, data: dict[str, Any]) -> Any:
        return services.application_withdraw(
            actor=self.request.user,
            application=application,
            reason=data["reason"],
            version=application.version,
        )


class ApplicationNoticeStartView(ApplicationActionView):
    capability = REVIEW
    success = "已开始公示。"

    def call(self, application: Application, data: dict[str, Any]) -> Any:
        return services.application_notice_start(
            actor=self.request.user, application=application, on=today(), version=application.version
        )


class ApplicationNoticeEndView(ApplicationActionView):
    capability = REVIEW
    success = "公示期满，申请进入待发放名单。"

    def call(self, application: Application, data: dict[str, Any]) -> Any:
        return services.application_notice_end(
            actor=self.request.user, application=application, on=today(), version=application.version
        )


class ObjectionCreateView(ApplicationActionView):
    capability = HANDLE
    form_class = f.ObjectionForm
    key = "objection"
    success = "已记录公示异议；处理前该申请不能结束公示。"

    def call(self, application: Application, data: dict[str, Any]) -> Any:
        return services.objection_record(actor=self.request.user, application=application, **data)


class ObjectionResolveView(ScopedMixin, StaffView):
    capability = REVIEW
    model = Objection
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        objection = self.get_scoped_object()
        default = reverse("assistance:application_detail", args=[objection.application_id])
        form = f.ObjectionResolveForm(request.POST)
        if not form.is_valid():
            messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
            return back(request, default)
        try:
            services.objection_resolve(
                actor=request.user,
                objection=objection,
                upheld=form.cleaned_data["upheld"],
                resolution=form.cleaned_data["resolution"],
                on=today(),
            )
        except ServiceError as error:
            refuse(error)
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                "异议成立，该申请已取消。" if form.cleaned_data["upheld"] else "异议不成立，继续公示。",
            )
        return back(request, default)


class RoundNoticeView(RoundScopedMixin, StaffView):
    """公示: the approved list of the unit, noticed for the round's working days; objections recorded."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        round_ = self.get_scoped_object()
        user = request.user
        statuses = (ApplicationStatus.APPROVED, ApplicationStatus.IN_NOTICE, ApplicationStatus.NOTICE_PASSED)
        applications = (
            selectors.application_list(user, round=round_)
            .filter(status__in=statuses)
            .select_related("person", "org_unit")
            .annotate(open_objections=Count("objections", filter=Q(objections__status=ObjectionStatus.OPEN)))
            .order_by("org_unit__path", "pk")
        )
        page_obj = page(request, applications)
        objections = (
            Objection.objects.visible_to(user)
            .filter(application__round=round_)
            .select_related("application__person")
            .order_by("status", "-pk")
        )
        grouped = (
            selectors.application_list(user, round=round_)
            .filter(status__in=statuses)
            .order_by()
            .values("status")
            .annotate(count=Count("pk"))
        )
        counts = {row["status"]: row["count"] for row in grouped}
        return render(
            request,
            "assistance/round_notice.html",
            {
                "round": round_,
                "page_obj": page_obj,
                "applications": page_obj.object_list,
                "objections": objections,
                "counts": counts,
                "approved_count": counts.get(ApplicationStatus.APPROVED, 0),
                "unit": home_unit(request),
                "today": today(),
                "can_review": user.can(REVIEW),
                "can_object": user.can(HANDLE),
                "objection_form": f.ObjectionForm(initial={"raised_on": today()}),
                "resolve_form": f.ObjectionResolveForm(),
                "export_url": reverse("assistance:notice_export", args=[round_.pk]),
            },
        )


class RoundNoticeExportView(RoundScopedMixin, StaffView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        round_ = self.get_scoped_object()
        statuses = (ApplicationStatus.IN_NOTICE, ApplicationStatus.NOTICE_PASSED)
        queryset = (
            selectors.application_list(request.user, round=round_)
            .filter(status__in=statuses)
            .select_related("person", "org_unit")
        )
        return exports.applications_response(round_, queryset, title="公示名单")


class RoundNoticeStartView(RoundScopedMixin, StaffView):
    capability = REVIEW
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        round_ = self.get_scoped_object()
        unit = home_unit(request, request.POST.get("unit", ""))
        try:
            count = services.application_notice_start_many(
                actor=request.user, round=round_, unit=unit, on=today()
            )
        except ServiceError as error:
            refuse(error)
            messages.error(request, error.message)
        else:
            if count:
                messages.success(
                    request, f"已对 {count} 份审核通过的申请开始公示（{round_.notice_days} 个工作日）。"
                )
            else:
                messages.info(request, "没有待公示的申请（审核通过后才能公示）。")
        return HttpResponseRedirect(reverse("assistance:round_notice", args=[round_.pk]))


# --- the review queue ---------------------------------------------------------------------------------


class ReviewQueueView(StaffView):
    """待我审核: applications at my level; approve / reject with a reason, one by one or in bulk."""

    def get(self, request: HttpRequest) -> HttpResponse:
        queryset = (
            selectors.review_queue(request.user)
            .select_related("round", "person", "org_unit", "hardship_file")
            .prefetch_related("round__level_rules")
        )
        page_obj = page(request, queryset)
        rows = list(page_obj.object_list)
        votes: dict[int, list[Any]] = {}
        for vote in Vote.objects.visible_to(request.user).filter(application_id__in=[a.pk for a in rows]):
            votes.setdefault(vote.application_id, []).append(vote)
        entries = [
            {"application": a, "tally": vote_tally(a, votes.get(a.pk, [])), "votes": votes.get(a.pk, [])}
            for a in rows
        ]
        return render(
            request,
            "assistance/review_queue.html",
            {
                "page_obj": page_obj,
                "entries": entries,
                "unit": request.user.org_unit,
                "can_review": request.user.can(REVIEW),
                "export_url": reverse("assistance:review_export"),
            },
        )


class ReviewExportView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        queryset = selectors.review_queue(request.user).select_related("round", "person", "org_unit")
        return exports.applications_response(None, queryset, title="待我审核")


class ReviewBulkView(StaffView):
    """全部同意 / 全部不同意 for the chosen rows: one vote each, every refusal named."""

    capability = REVIEW

    def post(self, request: HttpRequest) -> HttpResponse:
        form = f.DecisionForm(request.POST)
        ids = [value for value in request.POST.getlist("application") if value.isdigit()]
        default = reverse("assistance:review_queue")
        if not ids:
            messages.error(request, "请先勾选要审核的申请。")
            return back(request, default)
        if not form.is_valid():
            messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
            return back(request, default)
        applications = (
            Application.objects.visible_to(request.user).filter(pk__in=ids).select_related("person")
        )
        done, refusals = services.application_vote_many(
            actor=request.user,
            applications=list(applications),
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"],
            on=today(),
        )
        refused = [f"{application.person.name}：{message}" for application, message in refusals]
        label = "同意" if form.cleaned_data["decision"] == "approve" else "不同意"
        if done:
            messages.success(request, f"已对 {done} 份申请记录“{label}”。")
        for line in refused[:10]:
            messages.error(request, line)
        return back(request, default)


# --- payments ----------------------------------------------------------------------------------------


class PaymentListView(StaffView):
    """资金发放: per round, the list ready to pay (公示期满), the bank batches and every payment."""

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        rounds = list(selectors.round_list(user).select_related("org_unit")[:50])
        round_ = None
        if request.GET.get("round"):
            round_ = scoped_round(user, request.GET["round"])
        elif rounds:
            round_ = rounds[0]
        context: dict[str, Any] = {"rounds": rounds, "round": round_, "can_pay": user.can(FUNDS)}
        if round_ is not None:
            ready = (
                selectors.application_list(user, round=round_, status=ApplicationStatus.NOTICE_PASSED)
                .select_related("person", "org_unit")
                .order_by("org_unit__path", "pk")
            )
            payments = selectors.payment_list(user, round=round_).select_related(
                "person", "org_unit", "batch", "reversal"
            )
            page_obj = page(request, payments)
            context.update(
                {
                    "ready": ready[:200],
                    "ready_count": ready.count(),
                    "ready_amount": ready.aggregate(total=Sum("amount"))["total"] or Decimal("0.00"),
                    "batches": selectors.batch_list(user, round=round_)
                    .select_related("org_unit")
                    .annotate(count=Count("payments"), total=Sum("payments__amount")),
                    "page_obj": page_obj,
                    "payments": page_obj.object_list,
                    "unit": home_unit(request),
                    "today": today(),
                    "reverse_form": f.ReasonForm(),
                    "export_url": with_query(reverse("assistance:payment_export"), request),
                }
            )
        return render(request, "assistance/payment_list.html", context)


class PaymentExportView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        round_ = scoped_round(request.user, request.GET["round"]) if request.GET.get("round") else None
        queryset = selectors.payment_list(request.user, round=round_).select_related(
            "person", "org_unit", "round"
        )
        return exports.payments_response(queryset)


class PaymentBatchCreateView(StaffView):
    capability = FUNDS

    def post(self, request: HttpRequest) -> HttpResponse:
        round_ = scoped_round(request.user, request.POST.get("round"))
        unit = home_unit(request, request.POST.get("unit", ""))
        url = f"{reverse('assistance:payment_list')}?{urlencode({'round': round_.pk})}"
        try:
            batch = services.payment_batch_create(actor=request.user, round=round_, unit=unit, on=today())
        except ServiceError as error:
            refuse(error)
            messages.error(request, error.message)
        else:
            messages.success(request, f"已生成发放批次 #{batch.pk}：请下载银行批量文件，发放后标记为已发放。")
        return HttpResponseRedirect(url)


class BatchDownloadView(ScopedMixin, StaffView):
    model = PaymentBatch

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        batch = self.get_scoped_object()
        return exports.bank_batch_response(batch)


class BatchPaidView(ScopedMixin, StaffView):
    capability = FUNDS
    model = PaymentBatch
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        batch = self.get_scoped_object()
        paid_on = request.POST.get("paid_on", "")
        try:
            day = datetime.date.fromisoformat(paid_on) if paid_on else today()
        except ValueError:
            messages.error(request, f"发放日期“{paid_on[:20]}”不是 YYYY-MM-DD 格式的日期。")
            return back(request, reverse("assistance:payment_list"))
        try:
            services.payment_batch_mark_paid(
                actor=request.user, batch=batch, paid_on=day, version=batch.version
            )
        except ServiceError as error:
            refuse(error)
            messages.error(request, error.message)
        else:
            messages.success(request, f"发放批次 #{batch.pk} 已标记为已发放（{day.isoformat()}）。")
        return back(request, f"{reverse('assistance:payment_list')}?{urlencode({'round': batch.round_id})}")


class PaymentReverseView(ScopedMixin, StaffView):
    capability = FUNDS
    model = Payment
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        payment = self.get_scoped_object()
        default = f"{reverse('assistance:payment_list')}?{urlencode({'round': payment.round_id})}"
        form = f.ReasonForm(request.POST)
        if not form.is_valid():
            messages.error(request, "冲正须写明原因。")
            return back(request, default)
        try:
            services.payment_reverse(
                actor=request.user, payment=payment, reason=form.cleaned_data["reason"], on=today()
            )
        except ServiceError as error:
            refuse(error)
            messages.error(request, error.message)
        else:
            messages.success(request, f"已冲正 {payment.amount} 元（新增一条负数记录），预算已退回。")
        return back(request, default)


# --- loans ---------------------------------------------------------------------------------------------


class LoanListView(StaffView):
    """无息借款: every loan, or the overdue instalments (逾期) as of today."""

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        tab = request.GET.get("tab", "")
        day = today()
        context: dict[str, Any] = {"tab": tab, "today": day, "can_grant": user.can(FUNDS)}
        overdue = selectors.loans_overdue(user, day)
        context["overdue_count"] = overdue.count()
        if tab == "overdue":
            page_obj = page(
                request, overdue.select_related("loan__person", "loan__org_unit").order_by("due_on", "pk")
            )
            context.update({"page_obj": page_obj, "instalments": page_obj.object_list})
        else:
            status = choice(request, "status", LoanStatus.values)
            queryset = (
                selectors.loan_list(user, status=status)
                .select_related("person", "org_unit")
                .order_by("-granted_on", "-pk")
            )
            page_obj = page(request, queryset)
            context.update(
                {
                    "page_obj": page_obj,
                    "loans": page_obj.object_list,
                    "status": status,
                    "statuses": LoanStatus.choices,
                }
            )
        context["export_url"] = with_query(reverse("assistance:loan_export"), request)
        return render(request, "assistance/loan_list.html", context)


class LoanExportView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        if request.GET.get("tab") == "overdue":
            overdue = selectors.loans_overdue(request.user, today()).select_related(
                "loan__person", "loan__org_unit"
            )
            return exports.overdue_response(overdue)
        status = choice(request, "status", LoanStatus.values)
        return exports.loans_response(
            selectors.loan_list(request.user, status=status).select_related("person", "org_unit")
        )


class LoanCreateView(PersonPickMixin, StaffView):
    capability = FUNDS
    template_name = "assistance/loan_create.html"

    def blank_form(self, person: Person | None) -> f.LoanForm:
        initial = {"granted_on": today(), "instalment_count": 12, "person": person.pk if person else None}
        return f.LoanForm(initial=initial)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = f.LoanForm(request.POST)
        person = self.picked(request.POST.get("person"))
        if form.is_valid() and person is not None:
            data = form.cleaned_data
            try:
                loan = services.loan_grant(
                    actor=request.user,
                    person=person,
                    org_unit=home_unit(request),
                    principal=data["principal"],
                    granted_on=data["granted_on"],
                    instalment_count=data["instalment_count"],
                    purpose=data["purpose"],
                )
            except ServiceError as error:
                refuse(error)
                form.add_service_error(error.field, error.message)
            else:
                messages.success(
                    request, f"已登记借款 {loan.principal} 元，分 {loan.instalment_count} 期归还。"
                )
                return HttpResponseRedirect(reverse("assistance:loan_detail", args=[loan.pk]))
        elif person is None:
            form.add_error(None, "请先在职工名录中查找并选择借款职工。")
        return self.render_page(form, person, status=400)


class LoanDetailView(ScopedMixin, StaffView):
    model = Loan

    def get_base_queryset(self) -> QuerySet[Loan]:
        return Loan.objects.select_related("person", "org_unit")

    def render_loan(self, loan: Loan, *, failed: dict[str, Any] | None = None) -> HttpResponse:
        user = self.request.user
        failed = failed or {}
        day = today()
        repaid = selectors.loan_repaid(loan, day)
        instalments = list(loan.instalments.order_by("number"))
        for instalment in instalments:
            instalment.settled = repaid >= instalment.cumulative
            instalment.overdue = not instalment.settled and instalment.due_on < day
        return render(
            self.request,
            "assistance/loan_detail.html",
            {
                "loan": loan,
                "repaid": repaid,
                "balance": loan.principal - repaid,
                "instalments": instalments,
                "repayments": loan.repayments.order_by("-paid_on", "-pk"),
                "repay_form": failed.get("repay") or f.RepaymentForm(initial={"paid_on": day}),
                "write_off_form": failed.get("write_off") or f.ReasonForm(),
                "can_repay": user.can(HANDLE) and loan.status == LoanStatus.ACTIVE,
                "can_request": user.can(HANDLE) and loan.status == LoanStatus.ACTIVE,
                "can_decide": user.can(FUNDS) and loan.status == LoanStatus.WRITE_OFF_REQUESTED,
                "entries": audit_history(loan),
            },
            status=400 if failed else 200,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_loan(self.get_scoped_object())


class LoanActionView(RecordActionMixin, LoanDetailView):
    def done(self, loan: Loan) -> HttpResponse:
        return HttpResponseRedirect(reverse("assistance:loan_detail", args=[loan.pk]))

    def render_failed(self, loan: Loan, form: Any) -> HttpResponse:
        return self.render_loan(self.get_base_queryset().get(pk=loan.pk), failed={self.key: form})


class LoanRepayView(LoanActionView):
    capability = HANDLE
    form_class = f.RepaymentForm
    key = "repay"
    success = "已登记还款。"

    def call(self, loan: Loan, data: dict[str, Any]) -> Any:
        return services.loan_repay(
            actor=self.request.user, loan=loan, amount=data["amount"], paid_on=data["paid_on"]
        )


class LoanWriteOffRequestView(LoanActionView):
    capability = HANDLE
    form_class = f.ReasonForm
    key = "write_off"
    success = "已申请核销，等待有资金管理权限的人员批准。"

    def call(self, loan: Loan, data: dict[str, Any]) -> Any:
        return services.loan_write_off_request(
            actor=self.request.user, loan=loan, reason=data["reason"], version=loan.version
        )


class LoanWriteOffDecideView(LoanActionView):
    capability = FUNDS

    def call(self, loan: Loan, data: dict[str, Any]) -> Any:
        approve = self.request.POST.get("approve") == "1"
        self.success = "已批准核销。" if approve else "已驳回核销申请，借款恢复还款中。"
        return services.loan_write_off_decide(
            actor=self.request.user, loan=loan, approve=approve, on=today(), version=loan.version
        )


# --- member discount bases ----------------------------------------------------------------------------


def base_filters(request: HttpRequest) -> dict[str, Any]:
    kind = choice(request, "kind", BaseKind.values)
    active = request.GET.get("active", "1")
    return {"kind": kind, "active_on": today() if active == "1" else None, "active": active}


class BaseListView(StaffView):
    """会员服务基地: by unit, what members get and until when."""

    def get(self, request: HttpRequest) -> HttpResponse:
        filters = base_filters(request)
        queryset = selectors.discount_base_list(
            request.user, kind=filters["kind"], active_on=filters["active_on"]
        ).select_related("org_unit")
        page_obj = page(request, queryset)
        return render(
            request,
            "assistance/base_list.html",
            {
                **filters,
                "kinds": BaseKind.choices,
                "page_obj": page_obj,
                "bases": page_obj.object_list,
                "today": today(),
                "can_edit": request.user.can(HANDLE),
                "export_url": with_query(reverse("assistance:base_export"), request),
            },
        )


class BaseExportView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        filters = base_filters(request)
        queryset = selectors.discount_base_list(
            request.user, kind=filters["kind"], active_on=filters["active_on"]
        )
        return exports.bases_response(queryset.select_related("org_unit"))


class BaseFormView(StaffView):
    capability = HANDLE
    title = ""

    def render_form(self, form: Any, base: DiscountBase | None = None, status: int = 200) -> HttpResponse:
        return render(
            self.request,
            "assistance/base_form.html",
            {
                "form": form,
                "base": base,
                "title": self.title,
                "end_form": f.BaseEndForm(initial={"valid_to": today()}) if base else None,
                "entries": audit_history(base) if base else [],
            },
            status=status,
        )

    def save(self, form: Any) -> DiscountBase:
        raise NotImplementedError

    def post_form(self, request: HttpRequest, base: DiscountBase | None) -> HttpResponse:
        initial = {"org_unit": base.org_unit_id} if base else {}
        form = f.DiscountBaseForm(request.POST, user=request.user, editing=base is not None, initial=initial)
        if form.is_valid():
            try:
                saved = self.save(form)
            except ServiceError as error:
                refuse(error)
                form.add_service_error(error.field, error.message)
            else:
                messages.success(request, f"已保存会员服务基地“{saved.name}”。")
                return HttpResponseRedirect(reverse("assistance:base_list"))
        return self.render_form(form, base, status=400)


class BaseCreateView(BaseFormView):
    title = "新增会员服务基地"

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = {"valid_from": today(), "org_unit": request.user.org_unit_id}
        return self.render_form(f.DiscountBaseForm(initial=initial, user=request.user))

    def post(self, request: HttpRequest) -> HttpResponse:
        return self.post_form(request, None)

    def save(self, form: Any) -> DiscountBase:
        return services.discount_base_create(actor=self.request.user, **form.cleaned_data)


class BaseEditView(ScopedMixin, BaseFormView):
    model = DiscountBase
    title = "编辑会员服务基地"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        base = self.get_scoped_object()
        initial = {name: getattr(base, name) for name in f.BASE_FIELDS}
        initial["org_unit"] = base.org_unit_id
        return self.render_form(f.DiscountBaseForm(initial=initial, user=request.user, editing=True), base)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.base = self.get_scoped_object()
        return self.post_form(request, self.base)

    def save(self, form: Any) -> DiscountBase:
        return services.discount_base_update(
            actor=self.request.user, base=self.base, data=dict(form.cleaned_data), version=self.base.version
        )


class BaseEndView(ScopedMixin, StaffView):
    model = DiscountBase
    capability = HANDLE
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        base = self.get_scoped_object()
        form = f.BaseEndForm(request.POST)
        if not form.is_valid():
            messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
            return HttpResponseRedirect(reverse("assistance:base_edit", args=[base.pk]))
        try:
            services.discount_base_update(
                actor=request.user,
                base=base,
                data={"valid_to": form.cleaned_data["valid_to"]},
                version=base.version,
            )
        except ServiceError as error:
            refuse(error)
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse("assistance:base_edit", args=[base.pk]))
        messages.success(request, f"“{base.name}”自 {form.cleaned_data['valid_to'].isoformat()} 起终止。")
        return HttpResponseRedirect(reverse("assistance:base_list"))
