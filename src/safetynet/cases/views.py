"""Staff pages of 诉求调处: intake, my unit's queue, the case with its timeline and next steps, the city
board and the hazard reports (all three lists narrowed by the top-bar unit picker, ``?unit=``), my in-app
notifications, and the deadline rules.

Thin on purpose: reads through ``cases.selectors`` or ``get_for_user`` (another unit's case is a 404 like a
missing one), every write through one ``cases.services`` call with ``actor=request.user``. A refusal comes
back on the form that caused it, with what the user typed; a stale ``version`` (someone else changed the
case meanwhile) shows the conflict message on the current state of the case, the typed text kept.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from safetynet.cases import forms as f
from safetynet.cases import selectors, services, workflow
from safetynet.cases.deadlines import DEFAULT_DAYS, at_risk_hours, deadline_state, head_reminder_hours
from safetynet.cases.models import (
    LEVEL_LABELS,
    OPEN_STATUSES,
    REOPEN_WINDOW_DAYS,
    Case,
    CaseAttachment,
    CaseKind,
    CaseStatus,
    DayKind,
    DeadlineRule,
    Difficulty,
    StepAction,
)
from safetynet.core.errors import OutOfScope, ServiceError
from safetynet.core.normalize import clean_text
from safetynet.core.scope import get_for_user
from safetynet.core.selectors import audit_history
from safetynet.core.views_base import ScopedMixin, StaffView
from safetynet.orgs.models import PATH_SEPARATOR, Enterprise, OrgLevel, OrgUnit

PAGE_SIZE = 50


def require_handler(request: HttpRequest) -> None:
    if not services.can_handle_cases(request.user):
        raise PermissionDenied("您的角色不能办理诉求案件（查看人员只能查看）。")


# --- intake ------------------------------------------------------------------------------------------


class IntakeView(StaffView):
    """受理登记: the one screen a hotline operator fills in while the caller is on the line."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated:
            require_handler(request)
        return super().dispatch(request, *args, **kwargs)

    def render_form(self, form: f.IntakeForm, duplicates: Any = ()) -> HttpResponse:
        return render(self.request, "cases/intake.html", {"form": form, "duplicates": duplicates})

    def get(self, request: HttpRequest) -> HttpResponse:
        initial: dict[str, Any] = {}
        if request.GET.get("kind") in CaseKind.values:
            initial["kind"] = request.GET["kind"]
        enterprise_id = request.GET.get("enterprise")
        if enterprise_id:
            enterprise = get_for_user(Enterprise, request.user, pk=enterprise_id)
            initial.update(enterprise=enterprise.pk, enterprise_query=enterprise.name)
        return self.render_form(f.IntakeForm(initial=initial, user=request.user))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = f.IntakeForm(request.POST, request.FILES, user=request.user)
        duplicates = _duplicates(request, form.data.get("caller_phone", ""), form.data.get("enterprise", ""))
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.case_intake(
                    actor=request.user,
                    kind=data["kind"],
                    channel=data["channel"],
                    category=data["category"],
                    description=data["description"],
                    enterprise=data["enterprise"],
                    enterprise_name="" if data["enterprise"] else data["enterprise_name"],
                    enterprise_address="" if data["enterprise"] else data["enterprise_address"],
                    unit=data["unit"],
                    workers_involved=data["workers_involved"],
                    claim_amount=data["claim_amount"] or 0,
                    caller_phone=data["caller_phone"],
                    caller_name=data["caller_name"],
                    anonymous=data["anonymous"],
                    attachments=data["attachments"],
                    related_cases=list(duplicates) if data["link_duplicates"] else (),
                )
            except ServiceError as error:
                form.add_service_error(
                    {"enterprise": "enterprise_query"}.get(error.field or "", error.field), error.message
                )
            else:
                messages.success(
                    request,
                    f"已登记案件 {case.number}：由{case.unit.name}（{LEVEL_LABELS[case.level]}）办理，"
                    f"期限 {timezone.localtime(case.deadline):%Y-%m-%d %H:%M}。",
                )
                return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]))
        return self.render_form(form, duplicates)


def _duplicates(request: HttpRequest, phone: str, enterprise_id: str) -> QuerySet[Case]:
    try:
        enterprise_pk = int(enterprise_id)
    except (TypeError, ValueError):
        return Case.objects.none()
    return selectors.case_possible_duplicates(
        request.user, phone_hash=services.phone_lookup_hash(phone or ""), enterprise_id=enterprise_pk
    )


class EnterpriseSuggestView(StaffView):
    """htmx: enterprises in scope matching what was typed (name or the start of the credit code)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        text = clean_text(request.GET.get("enterprise_query", "") or request.GET.get("q", ""))
        suggestions = selectors.enterprise_suggestions(request.user, text)
        return render(
            request, "cases/_enterprise_suggestions.html", {"suggestions": suggestions, "text": text}
        )


class DuplicateCheckView(StaffView):
    """htmx: earlier cases of the same call-back number and enterprise within 30 days."""

    def get(self, request: HttpRequest) -> HttpResponse:
        duplicates = _duplicates(
            request, request.GET.get("caller_phone", ""), request.GET.get("enterprise", "")
        )
        return render(request, "cases/_duplicates.html", {"duplicates": duplicates, "checked": False})


# --- lists -------------------------------------------------------------------------------------------


def _with_state(cases: Any, now: datetime.datetime) -> list[Case]:
    rows = list(cases)
    for case in rows:
        case.deadline_state = deadline_state(case.deadline, now) if case.is_open else ""
    return rows


QUEUE_TABS = ("new", "due_soon", "overdue", "escalated", "all")


def picked_unit(request: HttpRequest) -> OrgUnit | None:
    """The unit the top-bar picker chose (``?unit=<pk>``), found through the user's scope: a unit outside
    it (or no unit at all) is a 404 like a missing one. None when nothing, or the user's own unit, is picked."""
    value = request.GET.get("unit", "")
    if not value:
        return None
    unit = get_for_user(OrgUnit, request.user, pk=value)
    return None if unit.pk == request.user.org_unit_id else unit


class QueueView(StaffView):
    """本级待办: the open cases my unit handles now, by tab (narrowed to the picked unit's cases, if any)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        now = timezone.now()
        within = picked_unit(request)
        tab = request.GET.get("tab", "new")
        if tab not in QUEUE_TABS:
            tab = "new"
        counts = selectors.case_queue_counts(request.user, now=now, within=within)
        page_obj = Paginator(
            selectors.case_queue(request.user, tab, now=now, within=within), PAGE_SIZE
        ).get_page(request.GET.get("page"))
        return render(
            request,
            "cases/queue.html",
            {
                "tab": tab,
                "tabs": [(key, selectors.QUEUE_BUCKETS[key], counts[key]) for key in QUEUE_TABS],
                "page_obj": page_obj,
                "cases": _with_state(page_obj.object_list, now),
                "unit": request.user.org_unit,
                "within": within,
                "can_handle": services.can_handle_cases(request.user),
            },
        )


class BoardView(StaffView):
    """市级督办: every open collective and major case in scope, whatever level handles it."""

    def get(self, request: HttpRequest) -> HttpResponse:
        now = timezone.now()
        within = picked_unit(request)
        page_obj = Paginator(selectors.city_board(request.user, within=within), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        return render(
            request,
            "cases/board.html",
            {"page_obj": page_obj, "cases": _with_state(page_obj.object_list, now), "within": within},
        )


class HazardListView(StaffView):
    HAZARD_TABS = (("open", "整改中及待办"), ("closed", "已办结"), ("all", "全部"))

    def get(self, request: HttpRequest) -> HttpResponse:
        now = timezone.now()
        within = picked_unit(request)
        tab = request.GET.get("tab", "open")
        queryset = selectors.hazard_list(request.user, within=within)
        if tab == "open":
            queryset = queryset.filter(status__in=OPEN_STATUSES)
        elif tab == "closed":
            queryset = queryset.filter(status=CaseStatus.CLOSED)
        else:
            tab = "all"
        page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "cases/hazard_list.html",
            {
                "tab": tab,
                "tabs": self.HAZARD_TABS,
                "page_obj": page_obj,
                "cases": _with_state(page_obj.object_list, now),
                "within": within,
                "can_handle": services.can_handle_cases(request.user),
            },
        )


# --- the case and its steps ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseAction:
    slug: str
    label: str
    form_class: type[f.StepForm]
    call: Callable[[Any, Case, dict[str, Any]], Any]
    done: str
    danger: bool = False
    multipart: bool = False


def _keyword(name: str) -> Callable[[Any, Case, dict[str, Any]], Any]:
    service = getattr(services, name)
    return lambda user, case, data: service(actor=user, case=case, **data)


def _merge(user: Any, case: Case, data: dict[str, Any]) -> Case:
    version = data.pop("version")
    return services.case_merge_into_collective(
        actor=user, cases=list(data["cases"]), collective=case, versions={case.pk: version}
    )


def _attach(user: Any, case: Case, data: dict[str, Any]) -> Any:
    return services.case_attach(actor=user, case=case, files=data["files"])


def _follow_up(user: Any, case: Case, data: dict[str, Any]) -> Any:
    return services.case_record_follow_up(actor=user, case=case, **data)


STEP_ACTIONS: dict[str, CaseAction] = {
    action.slug: action
    for action in (
        CaseAction("accept", "受理", f.AcceptForm, _keyword("case_accept"), "已受理。"),
        CaseAction(
            "leader", "指定包案领导", f.LeaderForm, _keyword("case_assign_leader"), "已指定包案领导。"
        ),
        CaseAction(
            "mediation", "记录调解", f.NoteForm, _keyword("case_record_mediation_attempt"), "已记录调解情况。"
        ),
        CaseAction("resolve", "办结", f.ResolveForm, _keyword("case_resolve"), "案件已办结。"),
        CaseAction("refer", "转出", f.ReferForm, _keyword("case_refer_out"), "案件已转出并办结。"),
        CaseAction(
            "rectification",
            "责令整改",
            f.RectificationForm,
            _keyword("hazard_assign_rectification"),
            "已责令整改。",
        ),
        CaseAction("verify", "整改核查", f.VerifyForm, _keyword("hazard_verify"), "已记录核查结果。"),
        CaseAction(
            "hand_up", "上交上级", f.HandUpForm, _keyword("case_hand_up"), "案件已上交上一级。", danger=True
        ),
        CaseAction("pull_up", "提级办理", f.PullUpForm, _keyword("case_pull_up"), "案件已提级到本单位办理。"),
        CaseAction("send_down", "交办下级", f.SendDownForm, _keyword("case_send_down"), "案件已交办下级。"),
        CaseAction("merge", "并案", f.MergeForm, _merge, "个案已并入本集体争议。"),
        CaseAction(
            "legal_aid", "法律援助", f.LegalAidForm, _keyword("case_record_legal_aid"), "已记录法律援助。"
        ),
        CaseAction("follow_up", "回访", f.FollowUpForm, _follow_up, "已记录回访。"),
        CaseAction(
            "reopen", "重新办理", f.ReasonForm, _keyword("case_reopen"), "案件已重新办理。", danger=True
        ),
        CaseAction("attach", "上传附件", f.AttachForm, _attach, "附件已上传。", multipart=True),
    )
}


def _is_root(user: Any) -> bool:
    return bool(user.is_superuser and user.org_unit_id is None)


def available_actions(case: Case, user: Any, now: datetime.datetime) -> list[str]:
    """The buttons worth showing (the services still decide; this only hides what would surely be refused)."""
    if not services.can_handle_cases(user):
        return []
    here = _is_root(user) or user.org_unit_id == case.unit_id
    user_path = user.org_unit.path if user.org_unit_id else ""
    above = (
        bool(user.org_unit_id) and case.unit.path.startswith(user_path) and user.org_unit_id != case.unit_id
    )
    hazard = case.kind == CaseKind.HAZARD
    slugs: list[str] = []
    # What the status allows comes from the workflow table; the rest (level, kind, leader) from the case.
    allowed = set(workflow.TABLE.allowed(case.status))
    if case.is_open:
        if here:
            if StepAction.ACCEPT in allowed:
                slugs.append("accept")
            if (case.collective or case.major) and not case.leader_id:
                slugs.insert(0, "leader")
            elif case.collective or case.major:
                slugs.append("leader")
            if hazard:
                if case.status != CaseStatus.RECTIFYING:
                    slugs.append("rectification")
            else:
                if StepAction.MEDIATION_ATTEMPT in allowed:
                    slugs.append("mediation")
                slugs += ["resolve", "refer"]
            if case.unit.parent_id:
                slugs.append("hand_up")
            chain = [int(part) for part in case.origin_unit.path.split(PATH_SEPARATOR) if part]
            above_origin = case.unit_id in chain and chain[-1] != case.unit_id
            # A collective case stays at the district or above.
            if above_origin and not (case.collective and case.level >= OrgLevel.DISTRICT):
                slugs.append("send_down")
        if hazard and StepAction.VERIFY in allowed and (here or above):
            slugs.insert(0, "verify")
        if above:
            slugs.append("pull_up")
        if case.collective and here:
            slugs.append("merge")
        if not hazard:
            slugs.append("legal_aid")
    elif StepAction.FOLLOW_UP in allowed:
        slugs.append("follow_up")
        if (
            StepAction.REOPEN in allowed
            and case.closed_at
            and now - case.closed_at <= datetime.timedelta(days=REOPEN_WINDOW_DAYS)
        ):
            slugs.append("reopen")
    if case.status != CaseStatus.MERGED:
        slugs.append("attach")
    return slugs


class CaseDetailView(ScopedMixin, StaffView):
    """The case: facts, where it is on the four levels, the timeline, and the next steps as small forms."""

    model = Case

    def get_base_queryset(self) -> QuerySet[Case]:
        return Case.objects.select_related(
            "unit",
            "origin_unit",
            "enterprise",
            "leader",
            "handler",
            "merged_into",
            "verified_by",
            "created_by",
        )

    def form_for(self, case: Case, slug: str, data: Any = None, files: Any = None) -> f.StepForm:
        action = STEP_ACTIONS[slug]
        kwargs: dict[str, Any] = {"prefix": slug}
        if slug == "leader":
            kwargs["candidates"] = selectors.leader_candidates(case)
        elif slug == "merge":
            kwargs["candidates"] = selectors.mergeable_cases(case, self.request.user)
        if data is None:
            kwargs["initial"] = {"version": case.version}
            if slug == "accept":
                kwargs["initial"]["difficulty"] = case.difficulty
        return action.form_class(data, files, **kwargs)

    def render_case(
        self, case: Case, *, failed: tuple[str, f.StepForm] | None = None, status: int = 200
    ) -> HttpResponse:
        request = self.request
        now = timezone.now()
        slugs = available_actions(case, request.user, now)
        if failed and failed[0] not in slugs:
            slugs.insert(0, failed[0])
        step_forms = []
        for slug in slugs:
            if failed and failed[0] == slug:
                step_forms.append((STEP_ACTIONS[slug], failed[1], True))
            else:
                step_forms.append((STEP_ACTIONS[slug], self.form_for(case, slug), False))
        tab = request.GET.get("tab", "timeline")
        if tab not in ("timeline", "outcomes", "history"):
            tab = "timeline"
        return render(
            request,
            "cases/detail.html",
            {
                "case": case,
                "state": deadline_state(case.deadline, now) if case.is_open else "",
                "ladder": _ladder(case),
                "steps": _timeline_with_levels(case),
                "step_forms": step_forms,
                "outcomes": case.outcomes.select_related("unit", "decided_by").order_by("decided_at", "pk"),
                "follow_ups": case.follow_ups.select_related("by"),
                "legal_aid": case.legal_aid.all(),
                "attachments": case.attachments.all(),
                "merged_cases": case.merged_cases.all().order_by("number"),
                "history": audit_history(case) if tab == "history" else (),
                "tab": tab,
                "can_handle": services.can_handle_cases(request.user),
                "at_unit": _is_root(request.user) or request.user.org_unit_id == case.unit_id,
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_case(self.get_scoped_object())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        case = self.get_scoped_object()
        require_handler(request)
        slug = request.POST.get("action", "")
        if slug not in STEP_ACTIONS:
            messages.error(request, "未知的操作，请刷新页面后重试。")
            return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]))
        action = STEP_ACTIONS[slug]
        form = self.form_for(case, slug, request.POST, request.FILES)
        if form.is_valid():
            try:
                action.call(request.user, case, dict(form.cleaned_data))
            except ServiceError as error:
                if error.code == "conflict":
                    # Show the case as it is now; the typed text stays, and the next submit uses the new version.
                    fresh = self.get_scoped_object()
                    data = request.POST.copy()
                    data[f"{slug}-version"] = str(fresh.version)
                    kept = self.form_for(fresh, slug, data, request.FILES)
                    kept.is_valid()
                    kept.add_error(None, services.CONFLICT_MESSAGE)
                    return self.render_case(fresh, failed=(slug, kept), status=409)
                form.add_service_error(error.field, error.message)
            else:
                messages.success(request, action.done)
                return HttpResponseRedirect(reverse("cases:detail", args=[case.pk]))
        return self.render_case(case, failed=(slug, form))


def _timeline_with_levels(case: Case) -> list[Any]:
    """Each step with the unit that took it: a move names its units, any other step happened at the unit
    the case was at then (the last one it moved to)."""
    steps = list(selectors.case_timeline(case).select_related("actor"))
    current = None
    for step in steps:
        step.at_unit = step.from_unit or current
        step.at_level = LEVEL_LABELS.get(step.at_unit.level, "") if step.at_unit else ""
        if step.to_unit_id:
            current = step.to_unit
    return steps


def _ladder(case: Case) -> list[dict[str, Any]]:
    """The four levels from the case's origin up to the city: passed, current, or still above."""
    units = {unit.level: unit for unit in case.origin_unit.ancestors()}
    units[case.origin_unit.level] = case.origin_unit
    reached = set(case.steps.exclude(to_level=None).values_list("to_level", flat=True))
    rows = []
    for level in sorted(units, reverse=True):
        unit = units[level]
        if unit.pk == case.unit_id:
            state = "current" if case.is_open else "done"
        elif level in reached and level > case.level:
            state = "done"
        elif level in reached:
            state = "warning"
        else:
            state = "todo"
        rows.append({"level": LEVEL_LABELS.get(level, ""), "unit": unit, "state": state})
    return rows


class AttachmentView(ScopedMixin, StaffView):
    model = CaseAttachment

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        attachment = self.get_scoped_object()
        return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


# --- in-app notifications ------------------------------------------------------------------------------


class NotificationListView(StaffView):
    """站内通知: my own notifications, newest first; open one (marks it read), mark some or all read."""

    TABS = (("all", "全部"), ("unread", "未读"))

    def get(self, request: HttpRequest) -> HttpResponse:
        tab = request.GET.get("tab", "all")
        if tab not in dict(self.TABS):
            tab = "all"
        # The unread count comes from the shell's context processor (the top-bar badge shows it too).
        inbox = selectors.notification_inbox(request.user, unread_only=tab == "unread")
        page_obj = Paginator(inbox, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "cases/notifications.html",
            {
                "tab": tab,
                "tabs": self.TABS,
                "page_obj": page_obj,
                "notifications": page_obj.object_list,
            },
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        back = request.get_full_path()
        opened = request.POST.get("open", "")
        if opened:
            ids: list[str] | None = [opened]
        elif request.POST.get("one"):
            ids = [request.POST["one"]]
        elif request.POST.get("all"):
            ids = None
        else:
            ids = request.POST.getlist("notification")
        try:
            changed = services.notification_mark_read(actor=request.user, notification_ids=ids)
        except OutOfScope:
            raise Http404("未找到该通知，或不是发给您的。") from None
        except ServiceError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(back)
        if opened:
            notification = selectors.notification_inbox(request.user).get(pk=int(opened))
            if notification.case_id:
                return HttpResponseRedirect(reverse("cases:detail", args=[notification.case_id]))
            if url_has_allowed_host_and_scheme(notification.link, allowed_hosts={request.get_host()}):
                return HttpResponseRedirect(notification.link or back)
            return HttpResponseRedirect(back)
        if ids is None:
            messages.success(
                request, f"已将全部 {changed} 条未读通知标为已读。" if changed else "没有未读通知。"
            )
        else:
            messages.success(request, f"已标为已读 {changed} 条。" if changed else "所选通知原已是已读。")
        return HttpResponseRedirect(back)


# --- deadline rules ------------------------------------------------------------------------------------

LEVELS_UPWARDS = (OrgLevel.COMMUNITY, OrgLevel.STREET, OrgLevel.DISTRICT, OrgLevel.CITY)


def _period_text(days: int, day_kind: str) -> str:
    return f"{days} 个{DayKind(day_kind).label}"


class DeadlineRuleListView(StaffView):
    """办理期限规则: every rule, what each difficulty gets at each level, and a check of which rule applies.

    Everyone may read (handlers need to know their deadlines); only a city-level administrator changes them."""

    def get(self, request: HttpRequest) -> HttpResponse:
        rules = list(selectors.deadline_rule_list())
        levels = []
        for level in LEVELS_UPWARDS:
            cells = []
            for difficulty in Difficulty.values:
                rule = selectors.deadline_rule_matching(rules, level, "", difficulty)
                period = (rule.days, rule.day_kind) if rule else (DEFAULT_DAYS, DayKind.CALENDAR)
                cells.append({"rule": rule, "text": _period_text(*period)})
            levels.append({"label": LEVEL_LABELS[level], "cells": cells})
        check_form = f.DeadlineCheckForm(request.GET if "level" in request.GET else None)
        check: dict[str, Any] | None = None
        if check_form.is_bound and check_form.is_valid():
            data = check_form.cleaned_data
            rule = selectors.deadline_rule_matching(
                rules, data["level"], data["category"], data["difficulty"] or Difficulty.GENERAL
            )
            check = {
                "rule": rule,
                "text": _period_text(rule.days, rule.day_kind)
                if rule
                else _period_text(DEFAULT_DAYS, DayKind.CALENDAR),
            }
        return render(
            request,
            "cases/deadline_rules.html",
            {
                "rules": rules,
                "levels": levels,
                "difficulty_labels": Difficulty.labels,
                "default_text": _period_text(DEFAULT_DAYS, DayKind.CALENDAR),
                "check_form": check_form,
                "check": check,
                "at_risk_hours": at_risk_hours(),
                "head_reminder_hours": head_reminder_hours(),
                "can_edit": services.can_edit_deadline_rules(request.user),
            },
        )


class DeadlineRuleEditorMixin:
    """Only a city-level administrator may open these pages (403 for everyone else, before any lookup)."""

    model = DeadlineRule

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not services.can_edit_deadline_rules(request.user):
            raise PermissionDenied("只有市级管理员可以设置办理期限规则。")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    def get_rule(self, pk: int) -> DeadlineRule:
        return get_object_or_404(selectors.deadline_rule_list(), pk=pk)


def _rule_form_page(
    request: HttpRequest, form: f.DeadlineRuleForm, rule: DeadlineRule | None, status: int = 200
) -> HttpResponse:
    return render(request, "cases/deadline_rule_form.html", {"form": form, "rule": rule}, status=status)


def _save_rule(request: HttpRequest, form: f.DeadlineRuleForm, rule: DeadlineRule | None) -> HttpResponse:
    if form.is_valid():
        try:
            if rule is None:
                rule = services.deadline_rule_create(actor=request.user, **form.cleaned_data)
                done = "已新增期限规则"
            else:
                rule = services.deadline_rule_update(actor=request.user, rule=rule, **form.cleaned_data)
                done = "已保存期限规则"
        except ServiceError as error:
            form.add_service_error(error.field, error.message)
        else:
            messages.success(
                request, f"{done}：{_rule_label(rule)}。新规则用于此后设定的期限，已有案件的期限不变。"
            )
            return HttpResponseRedirect(reverse("cases:deadline_rules"))
    return _rule_form_page(request, form, rule)


def _rule_label(rule: DeadlineRule) -> str:
    return (
        f"{LEVEL_LABELS[rule.level]} · {rule.get_category_display() or '全部类别'} · "
        f"{rule.get_difficulty_display() or '全部难易程度'}：{_period_text(rule.days, rule.day_kind)}"
    )


class DeadlineRuleCreateView(DeadlineRuleEditorMixin, StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        initial: dict[str, Any] = {"day_kind": DayKind.CALENDAR, "days": DEFAULT_DAYS}
        if request.GET.get("level", "").isdigit():
            initial["level"] = int(request.GET["level"])
        return _rule_form_page(request, f.DeadlineRuleForm(initial=initial), None)

    def post(self, request: HttpRequest) -> HttpResponse:
        return _save_rule(request, f.DeadlineRuleForm(request.POST), None)


class DeadlineRuleEditView(DeadlineRuleEditorMixin, StaffView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = self.get_rule(pk)
        initial = {
            "level": rule.level,
            "category": rule.category,
            "difficulty": rule.difficulty,
            "days": rule.days,
            "day_kind": rule.day_kind,
        }
        return _rule_form_page(request, f.DeadlineRuleForm(initial=initial), rule)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        return _save_rule(request, f.DeadlineRuleForm(request.POST), self.get_rule(pk))


class DeadlineRuleDeleteView(DeadlineRuleEditorMixin, StaffView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = self.get_rule(pk)
        label = _rule_label(rule)
        try:
            services.deadline_rule_delete(actor=request.user, rule=rule)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, f"已删除期限规则：{label}。与之匹配的案件改按下一条规则（或默认 15 个自然日）计算。"
            )
        return HttpResponseRedirect(reverse("cases:deadline_rules"))
