"""网络工会（职工服务平台）: every read that matters.

Worker reads take the account and return only its own records (by the account's person); staff reads take
the user and go through ``visible_to``.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from safetynet.assistance import selectors as assistance_selectors
from safetynet.assistance.models import Payment, PaymentKind
from safetynet.cases.models import OPEN_STATUSES, Case, CaseAttachment, CaseStep, Channel
from safetynet.members.models import CardStatus, MemberCard, Membership
from safetynet.orgs.models import OrgUnit
from safetynet.portal.models import (
    AppealMessage,
    AppealRating,
    JoinApplication,
    JoinStatus,
    Notice,
    WorkerAccount,
    WorkerNotification,
)


def own_card(account: WorkerAccount) -> MemberCard | None:
    if account.person_id is None:
        return None
    return (
        MemberCard.objects.filter(person_id=account.person_id, status=CardStatus.ACTIVE)
        .select_related("union", "person")
        .first()
    )


def own_memberships(account: WorkerAccount) -> QuerySet[Membership]:
    if account.person_id is None:
        return Membership.objects.none()
    return (
        Membership.objects.filter(person_id=account.person_id).select_related("union").order_by("-valid_from")
    )


def own_join_applications(account: WorkerAccount) -> QuerySet[JoinApplication]:
    return JoinApplication.objects.filter(account=account).select_related("union", "enterprise")


def own_pending_application(account: WorkerAccount) -> JoinApplication | None:
    return own_join_applications(account).filter(status=JoinStatus.PENDING).first()


def own_cases(account: WorkerAccount) -> QuerySet[Case]:
    if account.person_id is None:
        return Case.objects.none()
    return (
        Case.objects.filter(caller_person_id=account.person_id)
        .select_related("unit")
        .order_by("-received_at")
    )


CASE_LIST_FIELDS = (
    "id",
    "number",
    "category",
    "status",
    "received_at",
    "deadline",
    "unit__name",
    "closed_at",
)


def own_case_list(account: WorkerAccount, limit: int = 50) -> list[Case]:
    """The worker's appeals for a list: only what a list row shows (no statement, no encrypted phone)."""
    return list(own_cases(account).only(*CASE_LIST_FIELDS)[:limit])


def own_open_case_list(account: WorkerAccount, limit: int = 3) -> list[Case]:
    return list(own_cases(account).filter(status__in=OPEN_STATUSES).only(*CASE_LIST_FIELDS)[:limit])


def case_story(case: Case) -> dict[str, Any]:
    """What the worker sees of their appeal: steps, their messages, files (names only), their rating."""
    steps = list(CaseStep.objects.filter(case=case).select_related("to_unit").order_by("at", "id"))
    return {
        "steps": steps,
        "messages_of_worker": list(AppealMessage.objects.filter(case=case).order_by("created_at", "id")),
        "attachments": list(CaseAttachment.objects.filter(case=case).only("name", "uploaded_at")),
        "rating": AppealRating.objects.filter(case=case).first(),
    }


def notices_for(account: WorkerAccount, limit: int = 20) -> list[Notice]:
    """Notices of the city and of the units above the worker's own (all city-level ones when unknown)."""
    query = Q(org_unit__parent__isnull=True)
    if account.org_unit_id is not None:
        path = account.org_unit.path
        ancestors = [part for part in path.split("/") if part]
        query |= Q(org_unit_id__in=[int(part) for part in ancestors])
    return list(
        Notice.objects.filter(query).select_related("org_unit").order_by("-published_at", "-id")[:limit]
    )


def own_notifications(account: WorkerAccount, limit: int = 50) -> list[WorkerNotification]:
    return list(WorkerNotification.objects.filter(account=account).order_by("-created_at", "-id")[:limit])


def unread_count(account: WorkerAccount) -> int:
    return WorkerNotification.objects.filter(account=account, read=False).count()


def join_queue(user: Any, *, status: str = JoinStatus.PENDING) -> QuerySet[JoinApplication]:
    queryset = JoinApplication.objects.visible_to(user).select_related("person", "union", "enterprise")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("created_at", "id")


def platform_figures(day: datetime.date, unit: OrgUnit | None = None) -> dict[str, Any]:
    """Counts as of the end of ``day`` (within ``unit``'s subtree, or city-wide with every account):
    registered and verified workers, join applications (filed, decided, average hours to decision) and
    appeals filed from the platform."""
    import datetime as dt

    from django.db.models import Avg, Count, F

    end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))
    accounts = WorkerAccount.objects.filter(created_at__lt=end)
    joins = JoinApplication.objects.filter(created_at__lt=end)
    cases = Case.objects.filter(received_at__lt=end, channel=Channel.PLATFORM)
    if unit is not None:
        accounts = accounts.filter(org_unit__path__startswith=unit.path)
        joins = joins.filter(union__org_unit__path__startswith=unit.path)
        cases = cases.filter(origin_unit__path__startswith=unit.path)
    account_counts = accounts.aggregate(
        registered=Count("id"), verified=Count("id", filter=Q(verified_at__lt=end))
    )
    decided = joins.filter(decided_at__lt=end, status__in=(JoinStatus.APPROVED, JoinStatus.REJECTED))
    waited = decided.aggregate(average=Avg(F("decided_at") - F("created_at")))["average"]
    return {
        **account_counts,
        "join_filed": joins.count(),
        "join_decided": decided.count(),
        "join_approved": decided.filter(status=JoinStatus.APPROVED).count(),
        "join_average_hours": round(waited.total_seconds() / 3600, 1) if waited is not None else None,
        "appeals": cases.count(),
    }


def discount_bases_for(account: WorkerAccount, limit: int = 50) -> list[Any]:
    """Active discount bases near the worker (their unit's, above and below), from the assistance selector."""
    unit = account.org_unit if account.org_unit_id else OrgUnit.objects.filter(parent__isnull=True).first()
    if unit is None:
        return []
    return list(assistance_selectors.discount_bases_active(unit, timezone.localdate())[:limit])


def own_assistance_applications(account: WorkerAccount) -> list[Any]:
    """The worker's own assistance applications, newest first."""
    if account.person_id is None:
        return []
    rows = list(assistance_selectors.applications_of_person(account.person_id)[:50])
    # The payment of each (one query for all): amount and the day the bank paid it (None while pending).
    payments: dict[int, Any] = {}
    for payment in Payment.objects.filter(application__in=rows, kind=PaymentKind.PAYMENT).order_by("pk"):
        payments[payment.application_id] = payment
    for row in rows:
        row.payment = payments.get(row.pk)
    return rows


def assistance_rounds_open(account: WorkerAccount, day: Any = None) -> list[Any]:
    """Rounds the verified worker may apply for today (none without an open hardship file)."""
    if account.person_id is None:
        return []
    return list(assistance_selectors.rounds_open_for(account.person_id, day or timezone.localdate()))


def staff_notice_list(user: Any) -> QuerySet[Notice]:
    return Notice.objects.visible_to(user).select_related("org_unit").order_by("-published_at", "-id")
