"""Pages of the member registry: person search and page, union rosters, member cards, roster exports.

Thin on purpose: reads go through ``members.selectors`` or ``get_for_user`` (a person or union of another
unit answers 404 like a missing one), writes through one ``members.services`` call with
``actor=request.user``. ID numbers and phones are shown masked; the clear number appears only after the
"显示完整号码" button, which calls the reveal service and so writes the audit row.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import segno
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from safetynet.core.errors import NotAllowed, ServiceError
from safetynet.core.normalize import clean_text, parse_date
from safetynet.core.scope import get_for_user
from safetynet.core.views_base import StaffView
from safetynet.members import exports, selectors, services
from safetynet.members.forms import CardChangeForm, CardIssueForm, JoinForm, LeaveForm, TransferForm
from safetynet.members.models import CardStatus, MemberCard, Membership, Person
from safetynet.members.validation import IdNumberError, clean_document_number
from safetynet.orgs.models import Enterprise, GrassrootsUnion, OrgUnit
from safetynet.orgs.selectors import union_list
from safetynet.orgs.views import ServiceFormView, first_url, is_htmx

PAGE_SIZE = 50


def members_import_url() -> str | None:
    """The roster upload page with the members kind chosen, once the imports app offers it."""
    url = first_url("imports:job_create")
    return f"{url}?kind=members" if url else None


def as_of_date(request: HttpRequest) -> datetime.date:
    """``?as_of=`` in any accepted date form; today when absent or unreadable."""
    value = request.GET.get("as_of", "")
    if value:
        try:
            return parse_date(value)
        except ValueError:
            pass
    return timezone.localdate()


# --- person search and page ------------------------------------------------------------------


def _is_document_number(text: str) -> bool:
    try:
        number = clean_document_number(text)
    except IdNumberError:
        return False
    return len(number) >= 15 and number[:-1].isdigit()


class PersonSearchView(StaffView):
    """Search by name, full ID number (keyed hash, exact), masked number, phone, member or card number.

    An empty query lists nobody: the registry is searched for a person, not browsed.
    """

    def get(self, request: HttpRequest) -> HttpResponse:
        q = clean_text(request.GET.get("q", ""))
        today = timezone.localdate()
        page_obj = None
        if q:
            persons = selectors.person_search(request.user, q)
            page_obj = Paginator(persons, PAGE_SIZE).get_page(request.GET.get("page"))
            employers = selectors.current_enterprise_names([p.pk for p in page_obj.object_list], today)
            for person in page_obj.object_list:
                person.current_enterprise = employers.get(person.pk, "")
            # A full ID number names one person: go straight to their page.
            if _is_document_number(q) and page_obj.paginator.count == 1:
                return HttpResponseRedirect(reverse("members:person_detail", args=[page_obj[0].pk]))
        return render(
            request,
            "members/person_search.html",
            {
                "q": q,
                "page_obj": page_obj,
                "persons": page_obj.object_list if page_obj else [],
                "import_url": members_import_url() if request.user.can("import") else None,
                "can_edit": request.user.can("edit_registry"),
            },
        )


@dataclass
class TimelineEvent:
    day: datetime.date
    kind: str  # employment / membership
    label: str
    place: str
    detail: str = ""


def person_timeline(employments: list[Any], memberships: list[Any]) -> list[TimelineEvent]:
    """Hires, departures, joins, leaves and transfers in date order (a transfer is one event)."""
    events: list[TimelineEvent] = []
    for e in employments:
        kind = e.get_employment_type_display()
        events.append(TimelineEvent(e.valid_from, "employment", gettext("入职"), e.enterprise.name, kind))
        if e.valid_to:
            events.append(TimelineEvent(e.valid_to, "employment", gettext("离职"), e.enterprise.name))
    for m in memberships:
        number = gettext("会员编号 %(n)s") % {"n": m.member_number} if m.member_number else ""
        previous = next(
            (p for p in memberships if p.valid_to == m.valid_from and p.end_reason == "transferred"), None
        )
        if previous is None:
            events.append(TimelineEvent(m.valid_from, "membership", gettext("入会"), m.union.name, number))
        else:
            events.append(
                TimelineEvent(
                    m.valid_from,
                    "transfer",
                    gettext("会员关系接转"),
                    m.union.name,
                    gettext("自“%(union)s”转入") % {"union": previous.union.name},
                )
            )
        if m.valid_to and m.end_reason != "transferred":
            events.append(
                TimelineEvent(
                    m.valid_to, "membership", gettext("离会"), m.union.name, m.get_end_reason_display()
                )
            )
    order = {"employment": 0, "transfer": 1, "membership": 2}
    return sorted(events, key=lambda event: (event.day, order.get(event.kind, 3)))


class PersonDetailView(StaffView):
    def load(self, request: HttpRequest, pk: int) -> Person:
        return get_for_user(Person.objects.all(), request.user, pk=pk)

    def context(self, request: HttpRequest, person: Person) -> dict[str, Any]:
        user = request.user
        today = timezone.localdate()
        employments = list(selectors.person_employments(user, person))
        memberships = list(selectors.person_memberships(user, person))
        visible_enterprises = set(
            Enterprise.objects.visible_to(user)
            .filter(pk__in=[e.enterprise_id for e in employments])
            .values_list("pk", flat=True)
        )
        visible_unions = set(
            GrassrootsUnion.objects.visible_to(user)
            .filter(pk__in=[m.union_id for m in memberships])
            .values_list("pk", flat=True)
        )
        for e in employments:
            e.visible = e.enterprise_id in visible_enterprises
            e.active = e.is_active_on(today)
        for m in memberships:
            m.visible = m.union_id in visible_unions
            m.active = m.is_active_on(today)
        cards = list(selectors.person_cards(user, person))
        return {
            "person": person,
            "employments": employments,
            "memberships": memberships,
            "timeline": person_timeline(employments, memberships),
            "cards": cards,
            "has_active_card": any(c.status == CardStatus.ACTIVE for c in cards),
            "is_member": any(m.active for m in memberships),
            "history": selectors.person_history(person)[:100],
            "can_reveal": services.can_view_personal_data(user),
            "can_edit": user.can("edit_registry"),
            "today": today,
        }

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        person = self.load(request, pk)
        return render(request, "members/person_detail.html", self.context(request, person))


class PersonRevealView(PersonDetailView):
    """POST only: the clear ID number (or phone) through the reveal service, which writes the audit row."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        person = self.load(request, pk)
        field = request.POST.get("field", "id_number")
        try:
            if field == "phone":
                value = services.person_reveal_phone(actor=request.user, person=person)
            else:
                field = "id_number"
                value = services.person_reveal_id_number(actor=request.user, person=person)
        except NotAllowed as error:
            raise PermissionDenied(error.message) from None
        if is_htmx(request):
            return render(
                request, "members/_revealed.html", {"value": value or "—", "field": field, "person": person}
            )
        context = self.context(request, person)
        context[f"revealed_{field}"] = value or "—"
        return render(request, "members/person_detail.html", context)


# --- union rosters ---------------------------------------------------------------------------


class RosterListView(StaffView):
    """Unions in scope with their members as of a date; each name opens its roster."""

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        day = as_of_date(request)
        unit_id = request.GET.get("unit")
        unit = get_for_user(OrgUnit, user, pk=unit_id) if unit_id else None
        q = clean_text(request.GET.get("q", ""))
        unions = union_list(user, unit=unit, q=q, status=request.GET.get("status", ""))
        page_obj = Paginator(unions, PAGE_SIZE).get_page(request.GET.get("page"))
        counts = selectors.union_roster_counts([u.pk for u in page_obj.object_list], day)
        for union in page_obj.object_list:
            union.member_count = counts.get(union.pk, 0)
        return render(
            request,
            "members/roster_list.html",
            {
                "page_obj": page_obj,
                "unions": page_obj.object_list,
                "q": q,
                "unit": unit,
                "as_of": day,
                "filtered": bool(q or unit_id),
            },
        )


def _export_links(base: str, day: datetime.date, can_full: bool) -> list[tuple[str, str]]:
    links = [
        (gettext("导出 CSV"), f"{base}?as_of={day.isoformat()}&format=csv"),
        (gettext("导出 XLSX"), f"{base}?as_of={day.isoformat()}&format=xlsx"),
    ]
    if can_full:
        links.append((gettext("导出完整号码 XLSX"), f"{base}?as_of={day.isoformat()}&format=xlsx&full=1"))
    return links


class UnionRosterView(StaffView):
    """The members of one union as of a date, with join / leave / transfer actions."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        user = request.user
        union = get_for_user(GrassrootsUnion.objects.select_related("org_unit"), user, pk=pk)
        day = as_of_date(request)
        members = selectors.union_members(user, union, day=day)
        page_obj = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "members/union_roster.html",
            {
                "union": union,
                "unit": union.org_unit,
                "as_of": day,
                "is_today": day == timezone.localdate(),
                "page_obj": page_obj,
                "members": page_obj.object_list,
                "join_form": JoinForm(),
                "can_edit": user.can("edit_registry"),
                "exports": _export_links(
                    reverse("members:union_roster_export", args=[union.pk]),
                    day,
                    services.can_view_personal_data(user),
                ),
            },
        )


class MembershipFormView(ServiceFormView):
    """Base of the small roster forms; the union page is where they return."""

    template_name = "members/form.html"
    capability = "edit_registry"

    def context(self) -> dict[str, Any]:
        return {"union": self.union, "unit": self.union.org_unit}

    def cancel_url(self) -> str:
        return reverse("members:union_roster", args=[self.union.pk])


class JoinView(MembershipFormView):
    title = _("办理入会")
    submit_label = _("入会")
    success_message = _("已办理入会。")
    error_fields = {"union": "id_number"}

    def load(self) -> None:
        self.union = get_for_user(
            GrassrootsUnion.objects.select_related("org_unit"), self.request.user, pk=self.kwargs["pk"]
        )

    def make_form(self, data: Any = None) -> JoinForm:
        return JoinForm(data)

    def perform(self, form: JoinForm) -> str:
        person = selectors.person_find_by_id_number(self.request.user, form.cleaned_data["id_number"])
        if person is None:
            raise ServiceError(
                "unknown_person",
                "未找到该证件号码的职工：请核对号码，或先在企业名册中登记其用工。",
                field="id_number",
            )
        services.membership_join(
            actor=self.request.user,
            person=person,
            union=self.union,
            valid_from=form.cleaned_data["valid_from"],
            member_number=form.cleaned_data["member_number"],
        )
        return self.cancel_url()


class MembershipActionView(MembershipFormView):
    def load(self) -> None:
        queryset = Membership.objects.select_related("person", "union__org_unit")
        self.membership = get_for_user(queryset, self.request.user, pk=self.kwargs["pk"])
        self.union = self.membership.union

    def context(self) -> dict[str, Any]:
        person = self.membership.person
        return {
            **super().context(),
            "intro": gettext("%(name)s（%(id)s），%(union)s会员，%(since)s 起。")
            % {
                "name": person.name,
                "id": person.id_number_masked,
                "union": self.union.name,
                "since": self.membership.valid_from.isoformat(),
            },
        }


class LeaveView(MembershipActionView):
    title = _("办理离会")
    submit_label = _("离会")
    submit_class = "btn-danger"
    success_message = _("已办理离会。")

    def make_form(self, data: Any = None) -> LeaveForm:
        return LeaveForm(data)

    def perform(self, form: LeaveForm) -> str:
        services.membership_leave(
            actor=self.request.user,
            membership=self.membership,
            valid_to=form.cleaned_data["valid_to"],
            end_reason=form.cleaned_data["end_reason"],
        )
        return self.cancel_url()


class TransferView(MembershipActionView):
    title = _("会员关系接转")
    submit_label = _("接转")
    success_message = _("会员关系已接转。")

    def make_form(self, data: Any = None) -> TransferForm:
        day = timezone.localdate()
        if data is not None:
            try:
                day = parse_date(data.get("on", "")) or day
            except ValueError:
                pass
        user = self.request.user
        candidates = selectors.unions_for_transfer(user, self.membership.person, day).exclude(
            pk=self.union.pk
        )
        # The unions covering the member's current workplace come first; any union in scope may be chosen.
        unions = GrassrootsUnion.objects.visible_to(user).exclude(pk=self.union.pk)
        if candidates.exists():
            unions = candidates
        return TransferForm(data, unions=unions)

    def perform(self, form: TransferForm) -> str:
        number = form.cleaned_data["member_number"] or None
        following = services.membership_transfer(
            actor=self.request.user,
            membership=self.membership,
            to_union=form.cleaned_data["to_union"],
            on=form.cleaned_data["on"],
            member_number=number,
        )
        return reverse("members:union_roster", args=[following.union_id])


class UnionRosterExportView(StaffView):
    """The roster of the page (same union, same day), every row, streamed; full numbers only when asked
    for by a permitted role, and then audited."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        union = get_for_user(GrassrootsUnion.objects.select_related("org_unit"), request.user, pk=pk)
        day = as_of_date(request)
        export_format = request.GET.get("format", "csv")
        if export_format not in ("csv", "xlsx"):
            raise Http404("导出格式只能是 csv 或 xlsx。")
        members = selectors.union_members(request.user, union, day=day)
        full = _full_export(request, union, members.count(), gettext("会员名册"))
        return exports.roster_response(
            export_format,
            f"会员名册-{union.name}-{day.isoformat()}",
            exports.UNION_COLUMNS,
            exports.union_rows(members, full=full),
        )


def _full_export(request: HttpRequest, instance: Any, rows: int, what: str) -> bool:
    """Whether this export shows clear numbers; if so the audit row is written before the first byte."""
    if request.GET.get("full") != "1":
        return False
    try:
        services.personal_data_export_record(actor=request.user, instance=instance, rows=rows, what=what)
    except NotAllowed as error:
        raise PermissionDenied(error.message) from None
    return True


class EnterpriseRosterExportView(StaffView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        enterprise = get_for_user(Enterprise.objects.all(), request.user, pk=pk)
        day = as_of_date(request)
        export_format = request.GET.get("format", "csv")
        if export_format not in ("csv", "xlsx"):
            raise Http404("导出格式只能是 csv 或 xlsx。")
        employees = selectors.enterprise_employees(request.user, enterprise, day=day)
        full = _full_export(request, enterprise, employees.count(), gettext("职工名册"))
        return exports.roster_response(
            export_format,
            f"职工名册-{enterprise.name}-{day.isoformat()}",
            exports.ENTERPRISE_COLUMNS,
            exports.enterprise_rows(employees, enterprise.credit_code, full=full),
        )


# --- member service cards --------------------------------------------------------------------


class CardListView(StaffView):
    def get(self, request: HttpRequest) -> HttpResponse:
        q = clean_text(request.GET.get("q", ""))
        status = request.GET.get("status", "")
        status = status if status in CardStatus.values else ""
        cards = selectors.card_list(request.user, q=q, status=status)
        page_obj = Paginator(cards, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "members/card_list.html",
            {
                "page_obj": page_obj,
                "cards": page_obj.object_list,
                "q": q,
                "status": status,
                "status_choices": CardStatus.choices,
                "filtered": bool(q or status),
                "can_edit": request.user.can("edit_registry"),
                "today": timezone.localdate(),
            },
        )


def card_qr_svg(payload: str) -> str:
    """The payload as an inline SVG QR code (segno is pure Python; no image files)."""
    return segno.make(payload, error="m").svg_inline(scale=4, border=2)


class CardDetailView(StaffView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        card = get_for_user(
            MemberCard.objects.select_related("person", "union__org_unit"), request.user, pk=pk
        )
        payload = services.card_qr_payload(card)
        return render(
            request,
            "members/card_detail.html",
            {
                "card": card,
                "unit": card.union.org_unit,
                "payload": payload,
                "qr_svg": card_qr_svg(payload),
                "can_edit": request.user.can("edit_registry"),
                "change_form": CardChangeForm(),
            },
        )


class CardIssueView(ServiceFormView):
    """发卡: to the person of ``?person=`` (from their page) or to the one whose number is typed."""

    template_name = "members/form.html"
    capability = "edit_registry"
    title = _("发放会员服务卡")
    submit_label = _("发卡")
    success_message = _("会员服务卡已发放。")
    error_fields = {"union": "id_number"}

    def load(self) -> None:
        person_id = self.request.GET.get("person") or self.request.POST.get("person")
        self.person = (
            get_for_user(Person.objects.all(), self.request.user, pk=person_id) if person_id else None
        )

    def make_form(self, data: Any = None) -> CardIssueForm:
        return CardIssueForm(data)

    def cancel_url(self) -> str:
        if self.person is not None:
            return reverse("members:person_detail", args=[self.person.pk])
        return reverse("members:card_list")

    def context(self) -> dict[str, Any]:
        if self.person is None:
            return {}
        return {
            "person": self.person,
            "form_action": f"?person={self.person.pk}",
            "intro": gettext("为 %(name)s（%(id)s）发放会员服务卡。")
            % {"name": self.person.name, "id": self.person.id_number_masked},
        }

    def perform(self, form: CardIssueForm) -> str:
        person = self.person
        if person is None:
            number = form.cleaned_data["id_number"]
            person = selectors.person_find_by_id_number(self.request.user, number) if number else None
            if person is None:
                raise ServiceError(
                    "unknown_person", "未找到该证件号码的职工，请核对号码。", field="id_number"
                )
        card = services.card_issue(
            actor=self.request.user,
            person=person,
            issued_on=form.cleaned_data["issued_on"],
            card_number=form.cleaned_data["card_number"],
        )
        return reverse("members:card_detail", args=[card.pk])


class CardChangeView(StaffView):
    """POST: report a card lost or cancel it (the date defaults to today)."""

    capability = "edit_registry"
    http_method_names = ["post"]
    actions = {"lost": services.card_report_lost, "cancel": services.card_cancel}

    def post(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        card = get_for_user(MemberCard.objects.select_related("union__org_unit"), request.user, pk=pk)
        service = self.actions.get(action)
        if service is None:
            raise Http404("未知的操作。")
        form = CardChangeForm(request.POST or {"on": timezone.localdate().isoformat()})
        if not form.is_valid():
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        else:
            try:
                service(actor=request.user, card=card, on=form.cleaned_data["on"])
            except ServiceError as error:
                messages.error(request, error.message)
            else:
                done = gettext("卡号 %(n)s 已挂失。") if action == "lost" else gettext("卡号 %(n)s 已注销。")
                messages.success(request, done % {"n": card.card_number})
        target = request.POST.get("next", "")
        if not target.startswith("/") or target.startswith("//"):
            target = reverse("members:card_detail", args=[card.pk])
        return HttpResponseRedirect(target)
