"""Reads of the member registry, always scoped to the user's org unit subtree."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from safetynet.core.normalize import clean_code
from safetynet.members import crypto
from safetynet.members.models import (
    Employment,
    MemberCard,
    Membership,
    Person,
    interval_active_q,
)
from safetynet.members.validation import IdNumberError, clean_document_number, normalize_phone
from safetynet.orgs.models import Enterprise, GrassrootsUnion


def person_find_by_id_number(user: Any, id_number: str) -> Person | None:
    """The person with this document number if the user may see them; None otherwise (also when the
    person exists outside the user's subtree: the search never reveals who is registered elsewhere)."""
    try:
        number = clean_document_number(id_number)
    except IdNumberError:
        return None
    if not number:
        return None
    return Person.objects.visible_to(user).filter(id_number_hash=crypto.lookup_hash(number)).first()


SEARCH_KEY_LIMIT = 5000


# From this many persons sharing the typed start of a name, the search tests the scope by hashing.
BROAD_NAME_MATCHES = 20_000


def person_search(user: Any, q: str) -> QuerySet[Person]:
    """Search by name (prefix), full document number (keyed hash, exact), masked number, phone, member
    number or card number.

    Each key is one indexed lookup that yields person ids; the name is an indexed prefix match. They are
    combined as ``name LIKE 'x%' OR pk IN (...)``, which the database answers from two indexes: no pattern
    ever runs over clear text (there is none) and no subquery runs per person row.
    """
    text = " ".join((q or "").split())
    if not text:
        return Person.objects.visible_to(user).order_by("name", "pk")
    code = clean_code(text)
    try:
        number = clean_document_number(text)
    except IdNumberError:
        number = ""
    ids: set[int] = set()

    def collect(queryset: QuerySet) -> None:
        ids.update(
            queryset.values_list("person_id" if queryset.model is not Person else "pk", flat=True)[
                :SEARCH_KEY_LIMIT
            ]
        )

    if number:
        collect(Person.objects.filter(id_number_hash=crypto.lookup_hash(number)))
    if "*" in code:
        collect(Person.objects.filter(Q(id_number_masked=code) | Q(phone_masked=code)))
    try:
        phone = normalize_phone(text)
    except ValidationError:
        phone = ""
    if phone:
        collect(Person.objects.filter(phone_hash=crypto.lookup_hash(phone)))
    if code.isalnum():
        collect(Membership.objects.filter(member_number=code))
        collect(MemberCard.objects.filter(card_number=code))
    by_name = not code.isdigit() and "*" not in code
    condition = Q(pk__in=sorted(ids)) if ids else Q(pk__in=[])
    broad = False
    if by_name:
        condition |= Q(name__startswith=text)
        # One indexed count of the name's matches chooses how the scope is tested (see PersonQuerySet.within).
        broad = (
            Person.objects.filter(name__startswith=text)[:BROAD_NAME_MATCHES].count() >= BROAD_NAME_MATCHES
        )
    return Person.objects.visible_to(user, broad=broad).filter(condition).order_by("name", "pk")


def current_enterprise_names(person_ids: list[int], day: datetime.date) -> dict[int, str]:
    """The enterprise each person works at on ``day`` (latest hire), for one page of persons."""
    names: dict[int, str] = {}
    rows = (
        Employment.objects.filter(person_id__in=person_ids)
        .filter(interval_active_q(day))
        .order_by("person_id", "valid_from", "pk")
        .values_list("person_id", "enterprise__name")
    )
    for person_id, name in rows:
        names[person_id] = name
    return names


def person_employments(user: Any, person: Person) -> QuerySet[Employment]:
    """The person's whole working history (every employment, also outside the user's subtree, since the
    person page is the timeline; the enterprise names are public registry facts)."""
    return (
        Employment.objects.filter(person=person)
        .select_related("enterprise", "enterprise__org_unit")
        .order_by("valid_from", "pk")
    )


def person_memberships(user: Any, person: Person) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(person=person)
        .select_related("union", "union__org_unit")
        .order_by("valid_from", "pk")
    )


def person_cards(user: Any, person: Person) -> QuerySet[MemberCard]:
    return MemberCard.objects.filter(person=person).select_related("union").order_by("-issued_on", "-pk")


def enterprise_employees(
    user: Any, enterprise: Enterprise, *, day: datetime.date | None = None
) -> QuerySet[Employment]:
    """Employments at the enterprise active on ``day``, each with ``is_member`` (a membership active that day)."""
    day = day or timezone.localdate()
    member = Membership.objects.filter(person=OuterRef("person_id")).filter(interval_active_q(day))
    return (
        Employment.objects.visible_to(user)
        .filter(enterprise=enterprise)
        .filter(interval_active_q(day))
        .annotate(is_member=Exists(member))
        .select_related("person")
        .order_by("person__name", "pk")
    )


def union_members(
    user: Any, union: GrassrootsUnion, *, day: datetime.date | None = None
) -> QuerySet[Membership]:
    day = day or timezone.localdate()
    return (
        Membership.objects.visible_to(user)
        .filter(union=union)
        .filter(interval_active_q(day))
        .select_related("person")
        .order_by("person__name", "pk")
    )


def person_history(person: Person) -> QuerySet:
    """Audit entries of the person and of their employments, memberships and cards, newest first."""
    from safetynet.core.models import AuditEntry

    def ids(queryset: QuerySet) -> list[str]:
        return [str(pk) for pk in queryset.values_list("pk", flat=True)]

    condition = Q(entity=Person._meta.label_lower, object_id=str(person.pk))
    for model, related in (
        (Employment, person.employments.all()),
        (Membership, person.memberships.all()),
        (MemberCard, person.cards.all()),
    ):
        keys = ids(related)
        if keys:
            condition |= Q(entity=model._meta.label_lower, object_id__in=keys)
    return AuditEntry.objects.filter(condition).select_related("actor").order_by("-at", "-pk")


def union_roster_counts(union_ids: list[int], day: datetime.date) -> dict[int, int]:
    """Members active on ``day`` per union, for one page of unions (one grouped query)."""
    from django.db.models import Count

    rows = (
        Membership.objects.filter(union_id__in=union_ids)
        .filter(interval_active_q(day))
        .order_by()
        .values("union_id")
        .annotate(n=Count("pk"))
    )
    return {row["union_id"]: row["n"] for row in rows}


def union_roster_export(
    user: Any, union: GrassrootsUnion, *, day: datetime.date | None = None
) -> QuerySet[Membership]:
    return union_members(user, union, day=day)


def enterprise_roster_counts(
    user: Any, enterprise: Enterprise, *, day: datetime.date | None = None
) -> dict[str, int]:
    """Employees on ``day`` and how many of them are members, in one aggregate query."""
    from django.db.models import Count

    employees = enterprise_employees(user, enterprise, day=day)
    totals = employees.order_by().aggregate(
        employees=Count("pk"), members=Count("pk", filter=Q(is_member=True))
    )
    return {"employees": totals["employees"] or 0, "members": totals["members"] or 0}


def card_list(user: Any, *, q: str = "", status: str = "") -> QuerySet[MemberCard]:
    """Cards of unions in the user's subtree, by card number (exact) or holder's name, newest first."""
    cards = MemberCard.objects.visible_to(user).select_related("person", "union")
    text = " ".join((q or "").split())
    if text:
        code = clean_code(text)
        condition = Q(person__name__icontains=text)
        if code.isdigit():
            condition |= Q(card_number=code)
        cards = cards.filter(condition)
    if status:
        cards = cards.filter(status=status)
    return cards.order_by("-issued_on", "-pk")


def unions_for_transfer(user: Any, person: Person, day: datetime.date) -> QuerySet[GrassrootsUnion]:
    """Unions in the user's subtree that cover, on ``day``, an enterprise where the person works then."""
    from safetynet.orgs.models import UnionCoverage, active_on_q

    enterprises = (
        Employment.objects.filter(person=person).filter(interval_active_q(day)).values("enterprise_id")
    )
    covering = (
        UnionCoverage.objects.filter(enterprise_id__in=enterprises)
        .filter(active_on_q(day))
        .values("union_id")
    )
    return (
        GrassrootsUnion.objects.visible_to(user)
        .filter(pk__in=covering, founded_on__lte=day)
        .filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=day))
        .order_by("name")
    )
