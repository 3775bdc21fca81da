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
    EmploymentType,
    Household,
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


def person_search(user: Any, q: str) -> QuerySet[Person]:
    """Search by name, full document number (hash), masked number, phone, member number or card number."""
    persons = Person.objects.visible_to(user)
    text = " ".join((q or "").split())
    if not text:
        return persons.order_by("name", "pk")
    code = clean_code(text)
    condition = Q(name__icontains=text)
    try:
        number = clean_document_number(text)
    except IdNumberError:
        number = ""
    if number:
        condition |= Q(id_number_hash=crypto.lookup_hash(number))
    if "*" in code:
        condition |= Q(id_number_masked=code) | Q(phone_masked=code)
    try:
        phone = normalize_phone(text)
    except ValidationError:
        phone = ""
    if phone:
        condition |= Q(phone_hash=crypto.lookup_hash(phone))
    if code.isalnum():
        condition |= Q(Exists(Membership.objects.filter(person=OuterRef("pk"), member_number=code)))
        condition |= Q(Exists(MemberCard.objects.filter(person=OuterRef("pk"), card_number=code)))
    return persons.filter(condition).order_by("name", "pk")


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


def membership_counts(user: Any, *, within_path: str, day: datetime.date) -> dict[str, int]:
    """Employments active on ``day`` under a unit, and how many of them belong to members — all of them,
    migrants (农村) and dispatched (劳务派遣): the raw counts behind the membership rates."""
    employments = Employment.objects.visible_to(user).within(within_path).filter(interval_active_q(day))
    member = Exists(Membership.objects.filter(person=OuterRef("person_id")).filter(interval_active_q(day)))
    marked = employments.annotate(is_member=member)
    return {
        "employments": employments.count(),
        "members": marked.filter(is_member=True).count(),
        "migrant_employments": employments.filter(person__household=Household.RURAL).count(),
        "migrant_members": marked.filter(is_member=True, person__household=Household.RURAL).count(),
        "dispatched_employments": employments.filter(employment_type=EmploymentType.DISPATCHED).count(),
        "dispatched_members": marked.filter(
            is_member=True, employment_type=EmploymentType.DISPATCHED
        ).count(),
    }
