"""Reading cases: lists, queues, the city board, duplicates, timelines. Every read is scoped."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from safetynet.cases.deadlines import at_risk_hours
from safetynet.cases.models import (
    DUPLICATE_WINDOW_DAYS,
    OPEN_STATUSES,
    Case,
    CaseKind,
    CaseStatus,
    CaseStep,
    DeadlineRule,
    Notification,
    StepAction,
)
from safetynet.core.statements import ModelColumns, statement_cursor
from safetynet.orgs.models import Enterprise, OrgUnit

QUEUE_BUCKETS = {
    "all": "全部在办",
    "new": "待受理",
    "due_soon": "临期",
    "overdue": "超期",
    "escalated": "上交至本级",
}


class EnterpriseLookup:
    """An enterprise and its org unit by credit code: one statement, written once per process."""

    def __init__(self) -> None:
        self.enterprise = ModelColumns(Enterprise, "e")
        self.unit = ModelColumns(OrgUnit, "o")
        quote = connection.ops.quote_name
        unit_field = Enterprise._meta.get_field("org_unit")
        self.sql = (
            f"SELECT {self.enterprise.sql()}, {self.unit.sql()} FROM {quote(Enterprise._meta.db_table)} e"
            f" INNER JOIN {quote(OrgUnit._meta.db_table)} o"
            f" ON o.{quote(OrgUnit._meta.pk.column)} = e.{quote(unit_field.column)}"
            f" WHERE e.{quote(Enterprise._meta.get_field('credit_code').column)} = %s"
        )

    def find(self, credit_code: str) -> Enterprise | None:
        with statement_cursor() as cursor:
            cursor.execute(self.sql, [credit_code])
            row = cursor.fetchone()
        if row is None:
            return None
        enterprise, position = self.enterprise.take(row, 0)
        enterprise.org_unit, position = self.unit.take(row, position)
        return enterprise


@functools.cache
def enterprise_lookup() -> EnterpriseLookup:
    return EnterpriseLookup()


def enterprise_with_unit(credit_code: str) -> Enterprise | None:
    """The enterprise with this credit code, its org unit loaded, whoever may see it (the caller applies the
    scope: intake checks it on the unit). Case intake names one on every call: the ORM's join cost more CPU to
    compile than to run."""
    return enterprise_lookup().find(credit_code)


def narrowed(queryset: Any, within: OrgUnit | None) -> Any:
    """A scoped queryset kept to the records of ``within`` and below (the unit the top-bar picker chose).

    Only ever narrows: the scope of ``visible_to`` stays, so a unit outside it gives nothing, never more."""
    return queryset if within is None else queryset.within(within.path)


def case_list(user: Any) -> QuerySet[Case]:
    return Case.objects.visible_to(user).select_related(
        "unit", "origin_unit", "enterprise", "leader", "handler"
    )


def case_queue(
    user: Any, bucket: str = "all", *, now: datetime.datetime | None = None, within: OrgUnit | None = None
) -> QuerySet[Case]:
    """My unit's open cases (those my unit handles now), by bucket; overdue first, then by deadline.

    ``within`` (the unit the top-bar picker chose) keeps the cases that started at that unit or below it."""
    now = now or timezone.now()
    unit_id = getattr(user, "org_unit_id", None)
    queryset = narrowed(case_list(user), within).filter(status__in=OPEN_STATUSES)
    if unit_id is not None:
        queryset = queryset.filter(unit_id=unit_id)
    if bucket == "new":
        queryset = queryset.filter(status=CaseStatus.NEW)
    elif bucket == "due_soon":
        queryset = queryset.filter(
            deadline__gte=now, deadline__lte=now + datetime.timedelta(hours=at_risk_hours())
        )
    elif bucket == "overdue":
        queryset = queryset.filter(deadline__lt=now)
    elif bucket == "escalated":
        queryset = queryset.filter(arrival__in=(StepAction.HAND_UP, StepAction.ESCALATE))
    return queryset.order_by("deadline", "pk")


def case_queue_counts(
    user: Any, *, now: datetime.datetime | None = None, within: OrgUnit | None = None
) -> dict[str, int]:
    now = now or timezone.now()
    return {bucket: case_queue(user, bucket, now=now, within=within).count() for bucket in QUEUE_BUCKETS}


def city_board(user: Any, *, within: OrgUnit | None = None) -> QuerySet[Case]:
    """Collective and major cases still open, whatever level handles them, oldest deadline first."""
    return (
        narrowed(case_list(user), within)
        .on_city_board()
        .filter(status__in=OPEN_STATUSES)
        .order_by("deadline", "pk")
    )


def hazard_list(user: Any, *, within: OrgUnit | None = None) -> QuerySet[Case]:
    return narrowed(case_list(user), within).filter(kind=CaseKind.HAZARD).order_by("-received_at", "-pk")


def case_possible_duplicates(
    user: Any,
    *,
    phone_hash: str,
    enterprise_id: int | None,
    now: datetime.datetime | None = None,
    exclude_pk: int | None = None,
) -> QuerySet[Case]:
    """Same caller (call-back number) and same enterprise within 30 days: offered as a link at intake."""
    if not phone_hash or enterprise_id is None:
        return Case.objects.none()
    now = now or timezone.now()
    queryset = case_list(user).filter(
        caller_phone_hash=phone_hash,
        enterprise_id=enterprise_id,
        received_at__gte=now - datetime.timedelta(days=DUPLICATE_WINDOW_DAYS),
    )
    if exclude_pk:
        queryset = queryset.exclude(pk=exclude_pk)
    return queryset.order_by("-received_at")


def case_timeline(case: Case) -> QuerySet[CaseStep]:
    return case.steps.select_related("from_unit", "to_unit").order_by("at", "pk")


def mergeable_cases(case: Case, user: Any) -> QuerySet[Case]:
    """Open individual cases of the same enterprise and category that could join this collective case."""
    if not case.collective or case.enterprise_id is None:
        return Case.objects.none()
    return (
        case_list(user)
        .filter(enterprise_id=case.enterprise_id, category=case.category, collective=False)
        .filter(status__in=OPEN_STATUSES)
        .exclude(pk=case.pk)
    )


def notifications_for(user: Any, *, unread_only: bool = False) -> QuerySet[Notification]:
    queryset = Notification.objects.filter(recipient=user)
    if unread_only:
        queryset = queryset.filter(read=False)
    return queryset


def notification_inbox(user: Any, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The signed-in user's own notifications, newest first, with their case (one query per page)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return (
        notifications_for(user, unread_only=unread_only).select_related("case").order_by("-created_at", "-pk")
    )


def notification_unread_count(user: Any) -> int:
    """For the badge in the shell (one indexed count: recipient, read)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read=False).count()


# --- deadline rules ------------------------------------------------------------------------------------


def deadline_rule_list() -> QuerySet[DeadlineRule]:
    """Every rule (a small city-wide table), level by level from the community up."""
    return DeadlineRule.objects.order_by("-level", "category", "difficulty", "pk")


def deadline_rule_matching(rules: Iterable[DeadlineRule], level: int, category: str, difficulty: str) -> Any:
    """The rule a case of this level, category and difficulty gets, or None for the default (15 calendar days).

    The most specific wins, in the order of ``DeadlineRules.period``: level + category + difficulty, then
    level + category, then level + difficulty, then the level alone."""
    by_key = {(rule.level, rule.category, rule.difficulty): rule for rule in rules}
    for key in (
        (level, category, difficulty),
        (level, category, ""),
        (level, "", difficulty),
        (level, "", ""),
    ):
        if key in by_key:
            return by_key[key]
    return None


def enterprise_suggestions(user: Any, text: str, limit: int = 8) -> QuerySet:
    """Enterprises in scope whose name contains, or whose credit code starts with, what was typed."""
    from safetynet.orgs.models import Enterprise

    text = (text or "").strip()
    if len(text) < 2:
        return Enterprise.objects.none()
    return (
        Enterprise.objects.visible_to(user)
        .filter(Q(name__icontains=text) | Q(credit_code__istartswith=text.upper()))
        .select_related("org_unit")
        .order_by("name")[:limit]
    )


def leader_candidates(case: Case) -> QuerySet:
    """Who may lead a case (领导包案): active staff of the unit handling it or of a unit above it."""
    from django.contrib.auth import get_user_model

    from safetynet.orgs.models import PATH_SEPARATOR

    chain = [int(part) for part in case.unit.path.split(PATH_SEPARATOR) if part]
    return (
        get_user_model()
        .objects.filter(org_unit_id__in=chain, is_active=True)
        .select_related("org_unit")
        .order_by("org_unit__path", "username")
    )
