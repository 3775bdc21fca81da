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
from safetynet.members.forms import (
    CardChangeForm,
    CardIssueForm,
    EmploymentAddForm,
    EmploymentEndForm,
    JoinForm,
    LeaveForm,
    PersonJoinForm,
    PersonSearchForm,
    TransferForm,
    WorkerForm,
)
from safetynet.members.models import CardStatus, Employment, MemberCard, Membership, Person
from safetynet.members.validation import IdNumberError, clean_document_number, validate_resident_id
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


def resident_id_problem(text: str) -> str:
    """What is wrong with a query that looks like a resident ID number (mostly digits, 15 or more), or ''.

    Shown only when nothing was found: the same digits may be a card or member number."""
    try:
        number = clean_document_number(text)
    except IdNumberError as error:
        return error.messages[0]
    digits = sum(c.isdigit() for c in number)
    if len(number) < 15 or digits < len(number) - 1:
        return ""
    try:
        validate_resident_id(number)
    except IdNumberError as error:
        return error.messages[0]
    return ""


class PersonSearchView(StaffView):
    """Search by name, full ID number (keyed hash, exact), masked number, phone, member or card number,
    narrowed by unit, enterprise, 会籍 and 在职 on a day, and household type.

    Nothing typed and no filter lists nobody: the registry is searched for a person, not browsed. The list
    counts exactly up to ``selectors.SEARCH_CAP`` persons; beyond, it shows the first ones and asks for filters.
    """

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        unit_id = request.GET.get("unit")
        if unit_id:
            get_for_user(OrgUnit, user, pk=unit_id)  # a unit outside the scope is a 404, as everywhere
        form = PersonSearchForm(request.GET or None, user=user)
        q = clean_text(request.GET.get("q", ""))
        day = timezone.localdate()
        result = None
        page_obj = None
        persons: list[Person] = []
        id_problem = ""
        if form.is_bound and form.is_valid():
            criteria = form.criteria()
            day = criteria.day or day
            if criteria.q or criteria.has_filters:
                result = selectors.person_search_page(user, criteria)
                page_obj = Paginator(result.ids, PAGE_SIZE).get_page(request.GET.get("page"))
                persons = selectors.persons_in_order(list(page_obj.object_list))
                page_ids = [person.pk for person in persons]
                employers = selectors.current_enterprise_names(page_ids, day)
                members = selectors.member_person_ids(page_ids, day)
                for person in persons:
                    person.current_enterprise = employers.get(person.pk, "")
                    person.is_member = person.pk in members
                # A full ID number names one person: go straight to their page.
                if _is_document_number(q) and result.count == 1 and not criteria.has_filters:
                    return HttpResponseRedirect(reverse("members:person_detail", args=[result.ids[0]]))
                if not result.count and q:
                    id_problem = resident_id_problem(q)
        return render(
            request,
            "members/person_search.html",
            {
                "form": form,
                "q": q,
                "day": day,
                "is_today": day == timezone.localdate(),
                "result": result,
                "cap": selectors.SEARCH_CAP,
                "page_obj": page_obj,
                "persons": persons,
                "filtered": form.filtered,
                "searched": result is not None,
                "import_url": members_import_url() if user.can("import") else None,
                "can_edit": user.can("edit_registry"),
                "id_problem": id_problem,
            },
        )


@dataclass
class TimelineEvent:
    day: datetime.date
    kind: str  # employment / membership
    label: str
    place: str
    detail: str = ""


OTHER_UNIT = "其他单位"


def _place(record: Any, relation: str) -> str:
    """The name to show for a record's enterprise or union: its own when in scope, else 其他单位."""
    return getattr(record, "place", None) or getattr(record, relation).name


def person_timeline(employments: list[Any], memberships: list[Any]) -> list[TimelineEvent]:
    """Hires, departures, joins, leaves and transfers in date order (a transfer is one event)."""
    events: list[TimelineEvent] = []
    for e in employments:
        kind = e.get_employment_type_display()
        events.append(
            TimelineEvent(e.valid_from, "employment", gettext("入职"), _place(e, "enterprise"), kind)
        )
        if e.valid_to:
            events.append(TimelineEvent(e.valid_to, "employment", gettext("离职"), _place(e, "enterprise")))
    for m in memberships:
        shown = getattr(m, "shown_number", m.member_number)
        number = gettext("会员编号 %(n)s") % {"n": shown} if shown else ""
        previous = next(
            (p for p in memberships if p.valid_to == m.valid_from and p.end_reason == "transferred"), None
        )
        if previous is None:
            events.append(
                TimelineEvent(m.valid_from, "membership", gettext("入会"), _place(m, "union"), number)
            )
        else:
            events.append(
                TimelineEvent(
                    m.valid_from,
                    "transfer",
                    gettext("会员关系接转"),
                    _place(m, "union"),
                    gettext("自“%(union)s”转入") % {"union": _place(previous, "union")},
                )
            )
        if m.valid_to and m.end_reason != "transferred":
            events.append(
                TimelineEvent(
                    m.valid_to, "membership", gettext("离会"), _place(m, "union"), m.get_end_reason_display()
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
        # The rule of the API (docs/API.md): a record outside the user's scope shows its dates and kind, never
        # what identifies it — the enterprise or union reads “其他单位”, the member number is withheld.
        for e in employments:
            e.visible = e.enterprise_id in visible_enterprises
            e.active = e.is_active_on(today)
            e.place = e.enterprise.name if e.visible else OTHER_UNIT
        for m in memberships:
            m.visible = m.union_id in visible_unions
            m.active = m.is_active_on(today)
            m.place = m.union.name if m.visible else OTHER_UNIT
            m.shown_number = m.member_number if m.visible else ""
        cards = list(selectors.person_cards(user, person))
        can_edit = user.can("edit_registry")
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
            "can_edit": can_edit,
            # 入会 is offered while the person works somewhere in scope and belongs to no union (open-ended).
            "can_join": can_edit
            and any(e.active and e.visible for e in employments)
            and not any(m.valid_to is None for m in memberships),
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
                "在您的管辖范围内未找到该证件号码的职工：请核对号码；新职工请先在其企业的“职工与会员”页"
                "点“登记职工”登记用工，再办理入会。",
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
    """退会 and 转会 of one membership; opened from the person's page (``?from=person``) they return there."""

    model = Membership

    def load(self) -> None:
        queryset = Membership.objects.select_related("person", "union__org_unit")
        self.membership = get_for_user(queryset, self.request.user, pk=self.kwargs["pk"])
        self.union = self.membership.union
        self.from_person = self.request.GET.get("from") == "person"

    def person_url(self) -> str:
        return reverse("members:person_detail", args=[self.membership.person_id])

    def cancel_url(self) -> str:
        return self.person_url() if self.from_person else super().cancel_url()

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
        if self.from_person:
            return self.person_url()
        return reverse("members:union_roster", args=[following.union_id])


# --- registering workers and employments from the web ----------------------------------------


class RegistryFormView(ServiceFormView):
    """Base of the person-centred forms: each ends on the person's page with a success message."""

    template_name = "members/form.html"
    capability = "edit_registry"

    def person_url(self, person_id: int) -> str:
        return reverse("members:person_detail", args=[person_id])


class WorkerRegisterView(RegistryFormView):
    """登记职工: an employment at an enterprise, with the person found by document number or created.

    ``?enterprise=`` (the enterprise's 职工与会员 tab) fixes the enterprise; ``?person=`` (the person's page)
    adds an employment for someone already registered, without typing their number again."""

    model = Person
    error_fields = {
        "enterprise": "enterprise_code",
        "valid_from": "employed_from",
        "valid_to": "employed_from",
    }

    def load(self) -> None:
        user = self.request.user
        enterprise_id = self.request.GET.get("enterprise")
        person_id = self.request.GET.get("person")
        self.enterprise = (
            get_for_user(Enterprise.objects.select_related("org_unit"), user, pk=enterprise_id)
            if enterprise_id
            else None
        )
        self.person = get_for_user(Person.objects.all(), user, pk=person_id) if person_id else None
        self.title = gettext("登记用工") if self.person is not None else gettext("登记职工")
        self.submit_label = self.title

    def make_form(self, data: Any = None) -> WorkerForm | EmploymentAddForm:
        user = self.request.user
        if self.person is not None:
            return EmploymentAddForm(data, user=user)
        return WorkerForm(data, user=user, enterprise=self.enterprise)

    def cancel_url(self) -> str:
        if self.person is not None:
            return self.person_url(self.person.pk)
        if self.enterprise is not None:
            return reverse("orgs:enterprise_detail", args=[self.enterprise.pk]) + "?tab=members"
        return reverse("members:person_search")

    def context(self) -> dict[str, Any]:
        if self.person is not None:
            return {
                "person": self.person,
                "intro": gettext("为 %(name)s（%(id)s）登记在另一家企业的用工。")
                % {"name": self.person.name, "id": self.person.id_number_masked},
            }
        crumbs = [(gettext("职工查询"), reverse("members:person_search"))]
        intro = gettext(
            "已登记的职工填写证件号码和姓名即可（姓名须与登记的一致）；新职工请一并填写手机号和户籍类型。"
        )
        if self.enterprise is not None:
            crumbs = [(self.enterprise.name, self.cancel_url())]
            intro = gettext("在“%(enterprise)s”登记职工。") % {"enterprise": self.enterprise.name} + intro
        return {"crumbs": crumbs, "intro": intro}

    def perform(self, form: WorkerForm | EmploymentAddForm) -> str:
        data = form.cleaned_data
        enterprise = form.enterprise
        if self.person is not None:
            employment = services.employment_start(
                actor=self.request.user,
                person=self.person,
                enterprise=enterprise,
                valid_from=data["employed_from"],
                employment_type=data["employment_type"],
            )
            name = self.person.name
        else:
            employment = services.person_register(
                actor=self.request.user,
                name=data["name"],
                id_type=data["id_type"],
                id_number=data["id_number"],
                phone=data["phone"],
                household=data["household"],
                enterprise=enterprise,
                employed_from=data["employed_from"],
                employment_type=data["employment_type"],
            )
            name = employment.person.name
        self.success_message = gettext("已登记%(name)s在“%(enterprise)s”的用工（%(day)s 起）。") % {
            "name": name,
            "enterprise": enterprise.name,
            "day": data["employed_from"].isoformat(),
        }
        return self.person_url(employment.person_id)


class EmploymentEndView(RegistryFormView):
    """结束用工: the worker left the enterprise on a day; the person's page shows it at once."""

    model = Employment
    title = _("结束用工")
    submit_label = _("结束用工")
    submit_class = "btn-danger"
    success_message = _("已结束用工。")

    def load(self) -> None:
        queryset = Employment.objects.select_related("person", "enterprise__org_unit")
        self.employment = get_for_user(queryset, self.request.user, pk=self.kwargs["pk"])

    def make_form(self, data: Any = None) -> EmploymentEndForm:
        return EmploymentEndForm(data)

    def cancel_url(self) -> str:
        return self.person_url(self.employment.person_id)

    def context(self) -> dict[str, Any]:
        person = self.employment.person
        intro = gettext("%(name)s（%(id)s）在“%(enterprise)s”的用工，%(since)s 起。") % {
            "name": person.name,
            "id": person.id_number_masked,
            "enterprise": self.employment.enterprise.name,
            "since": self.employment.valid_from.isoformat(),
        }
        if Membership.objects.filter(person=person, valid_to__isnull=True).exists():
            intro += gettext("其会员关系不随之结束：转入新单位工会请办理转会，不再是会员请办理退会。")
        return {"person": person, "intro": intro}

    def perform(self, form: EmploymentEndForm) -> str:
        services.employment_end(
            actor=self.request.user, employment=self.employment, valid_to=form.cleaned_data["valid_to"]
        )
        return self.cancel_url()


class PersonJoinView(RegistryFormView):
    """入会 from the person's page: the unions offered are those covering where the person works that day."""

    model = Person
    title = _("办理入会")
    submit_label = _("入会")
    success_message = _("已办理入会。")

    def load(self) -> None:
        self.person = get_for_user(Person.objects.all(), self.request.user, pk=self.kwargs["pk"])

    def make_form(self, data: Any = None) -> PersonJoinForm:
        day = timezone.localdate()
        if data is not None:
            try:
                day = parse_date(data.get("valid_from", "")) or day
            except ValueError:
                pass
        self.unions = selectors.unions_for_transfer(self.request.user, self.person, day)
        return PersonJoinForm(data, unions=self.unions)

    def cancel_url(self) -> str:
        return self.person_url(self.person.pk)

    def context(self) -> dict[str, Any]:
        intro = gettext("%(name)s（%(id)s）加入其工作单位的基层工会。") % {
            "name": self.person.name,
            "id": self.person.id_number_masked,
        }
        if not self.unions.exists():
            intro += gettext("该职工目前没有在有工会覆盖的企业任职（在您的管辖范围内），暂不能入会。")
        return {"person": self.person, "intro": intro}

    def perform(self, form: PersonJoinForm) -> str:
        services.membership_join(
            actor=self.request.user,
            person=self.person,
            union=form.cleaned_data["union"],
            valid_from=form.cleaned_data["valid_from"],
            member_number=form.cleaned_data["member_number"],
        )
        return self.cancel_url()


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
        return CardIssueForm(data, person=self.person)

    def cancel_url(self) -> str:
        if self.person is not None:
            return reverse("members:person_detail", args=[self.person.pk])
        return reverse("members:card_list")

    def context(self) -> dict[str, Any]:
        if self.person is None:
            return {}
        return {
            "person": self.person,
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
