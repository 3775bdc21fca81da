"""`safetynet sweep`: overdue cases go one level up, city cases past their deadline are flagged, reminders.

Set-based: the overdue ids are read once, then handled in batches of ``BATCH_SIZE`` by id range, each
batch in one transaction — a handful of statements per batch whatever its size: the rows locked and read,
two UPDATEs (new unit and level from the parent unit; then the new deadline as a CASE over the few
(level, category, difficulty) combinations, all computed from T in Python), and bulk INSERTs of the
timeline steps, escalation rows, audit rows and one notification per recipient.

Idempotent: an escalated case's new deadline runs from T, so it is not overdue at T any more; a second
run at the same T escalates nothing. A crash leaves whole batches done or not done (one transaction each).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import F, OuterRef, Subquery, Value, When
from django.utils import timezone

from safetynet.cases.deadlines import DeadlineRules, at_risk_hours, head_reminder_hours
from safetynet.cases.models import (
    LEVEL_LABELS,
    OPEN_STATUSES,
    Case,
    CaseKind,
    CaseStatus,
    CaseStep,
    Escalation,
    EscalationReason,
    Notification,
    StepAction,
)
from safetynet.cases.services import HANDLER_ROLES, HEAD_ROLES
from safetynet.core.models import AuditAction
from safetynet.core.services import audit_build, audit_bulk
from safetynet.core.sweep import sweep_job
from safetynet.orgs.models import OrgLevel, OrgUnit

BATCH_SIZE = 10_000
SYSTEM = "系统"


class _Units:
    """Every org unit's parent, level, name and path from one query (a city has a few thousand units)."""

    def __init__(self) -> None:
        self.rows: dict[int, tuple[int | None, int, str, str]] = {
            pk: (parent, level, name, path)
            for pk, parent, level, name, path in OrgUnit.objects.values_list("pk", "parent_id", "level", "name", "path")
        }

    def parent(self, pk: int) -> int | None:
        return self.rows[pk][0]

    def level(self, pk: int) -> int:
        return self.rows[pk][1]

    def name(self, pk: int) -> str:
        return self.rows[pk][2]

    def path(self, pk: int) -> str:
        return self.rows[pk][3]

    def orphans(self) -> list[int]:
        return [pk for pk, row in self.rows.items() if row[0] is None]


def _users_by_unit(unit_ids: set[int], roles: tuple[str, ...]) -> dict[int, list[Any]]:
    by_unit: dict[int, list[Any]] = defaultdict(list)
    if unit_ids:
        for user in get_user_model().objects.filter(org_unit_id__in=unit_ids, role__in=roles, is_active=True):
            by_unit[user.org_unit_id].append(user)
    return by_unit


def _notifications(
    recipients: dict[int, Any], texts: dict[int, list[str]], now: datetime.datetime, link: str
) -> list[Notification]:
    """One notification per recipient listing their cases (never one per case and person)."""
    rows = []
    for user_pk, lines in texts.items():
        head = lines[0] if len(lines) == 1 else f"{lines[0]} 等 {len(lines)} 件"
        rows.append(Notification(recipient=recipients[user_pk], text=head[:300], link=link, created_at=now))
    return rows


def _escalate_batch(
    lo: int, hi: int, now: datetime.datetime, rules: DeadlineRules, units: _Units
) -> tuple[int, set[int]]:
    """Hand every still-overdue case with lo <= id <= hi one level up. Returns (count, receiving unit ids)."""
    base = (
        Case.objects.filter(pk__gte=lo, pk__lte=hi, status__in=OPEN_STATUSES, deadline__lt=now)
        .filter(level__gt=OrgLevel.CITY)
        .exclude(unit_id__in=units.orphans())
    )
    rows = list(
        base.select_for_update()
        .order_by("pk")
        .values_list("pk", "number", "unit_id", "origin_unit_id", "level", "category", "difficulty", "deadline")
    )
    if not rows:
        return 0, set()
    deadlines: dict[tuple[int, str, str], datetime.datetime] = {}
    for _pk, _number, unit_id, _origin, _level, category, difficulty, _deadline in rows:
        key = (units.level(units.parent(unit_id)), category, difficulty)
        if key not in deadlines:
            deadlines[key] = rules.deadline(level=key[0], category=category, difficulty=difficulty, start=now)
    parent = OrgUnit.objects.filter(pk=OuterRef("unit_id"))
    updated = base.update(
        unit_id=Subquery(parent.values("parent_id")[:1]),
        level=Subquery(parent.values("parent__level")[:1]),
        level_since=now,
        status=models.Case(When(kind=CaseKind.HAZARD, then=F("status")), default=Value(CaseStatus.NEW)),
        handler=None,
        reminder_stage=0,
        arrival=StepAction.ESCALATE,
        version=F("version") + 1,
    )
    # The second statement sees the new level; only this batch's cases reached a level exactly at T by
    # escalation and still carry their old (past) deadline.
    Case.objects.filter(
        pk__gte=lo, pk__lte=hi, level_since=now, arrival=StepAction.ESCALATE, deadline__lt=now
    ).update(
        deadline=models.Case(
            *(
                When(level=level, category=category, difficulty=difficulty, then=Value(moment))
                for (level, category, difficulty), moment in deadlines.items()
            ),
            output_field=models.DateTimeField(),
        )
    )
    steps, escalations, audits = [], [], []
    reason = EscalationReason.DEADLINE.label
    for pk, number, unit_id, origin_id, level, _category, _difficulty, deadline in rows:
        to_unit = units.parent(unit_id)
        to_level = units.level(to_unit)
        note = f"{LEVEL_LABELS[level]}办理期限 {timezone.localtime(deadline):%Y-%m-%d %H:%M} 已过，自动上交{units.name(to_unit)}"
        steps.append(
            CaseStep(
                case_id=pk,
                at=now,
                actor_name=SYSTEM,
                action=StepAction.ESCALATE,
                from_level=level,
                from_unit_id=unit_id,
                to_level=to_level,
                to_unit_id=to_unit,
                reason=reason,
                note=note,
            )
        )
        escalations.append(
            Escalation(
                case_id=pk,
                at=now,
                reason=EscalationReason.DEADLINE,
                from_level=level,
                from_unit_id=unit_id,
                to_level=to_level,
                to_unit_id=to_unit,
                note=note,
            )
        )
        audits.append(
            audit_build(
                actor=None,
                action=AuditAction.UPDATE,
                instance=Case(pk=pk, number=number),
                changes={"unit": [units.name(unit_id), units.name(to_unit)]},
                unit_path=units.path(origin_id),
                note="超期自动上交",
            )
        )
    CaseStep.objects.bulk_create(steps, batch_size=5000)
    Escalation.objects.bulk_create(escalations, batch_size=5000)
    audit_bulk(audits)
    receiving: dict[int, list[str]] = defaultdict(list)
    for pk, number, unit_id, *_rest in rows:
        receiving[units.parent(unit_id)].append(number)
    handlers = _users_by_unit(set(receiving), HANDLER_ROLES)
    recipients: dict[int, Any] = {}
    texts: dict[int, list[str]] = defaultdict(list)
    for unit_id, numbers in receiving.items():
        for user in handlers.get(unit_id, []):
            recipients[user.pk] = user
            texts[user.pk].extend(f"案件 {n} 超期自动上交至本单位，请受理" for n in numbers)
    Notification.objects.bulk_create(_notifications(recipients, texts, now, "/cases/queue/?bucket=escalated"))
    return updated, set(receiving)


def _flag_city_breaches(now: datetime.datetime, units: _Units) -> int:
    """At the city a case cannot go higher: it stays, flagged breached (once), and the city's head is told."""
    base = Case.objects.filter(status__in=OPEN_STATUSES, deadline__lt=now, level=OrgLevel.CITY, breached=False)
    rows = list(base.select_for_update().values_list("pk", "number", "unit_id", "origin_unit_id"))
    if not rows:
        return 0
    base.update(breached=True, version=F("version") + 1)
    CaseStep.objects.bulk_create(
        [
            CaseStep(
                case_id=pk,
                at=now,
                actor_name=SYSTEM,
                action=StepAction.BREACH,
                from_level=OrgLevel.CITY,
                from_unit_id=unit_id,
                reason="市级办理期限已过",
            )
            for pk, _number, unit_id, _origin in rows
        ],
        batch_size=5000,
    )
    audit_bulk(
        [
            audit_build(
                actor=None,
                action=AuditAction.UPDATE,
                instance=Case(pk=pk, number=number),
                changes={"breached": [False, True]},
                unit_path=units.path(origin),
                note="市级超期",
            )
            for pk, number, _unit, origin in rows
        ]
    )
    heads = _users_by_unit({unit for _pk, _n, unit, _o in rows}, HEAD_ROLES + HANDLER_ROLES)
    recipients: dict[int, Any] = {}
    texts: dict[int, list[str]] = defaultdict(list)
    for _pk, number, unit_id, _origin in rows:
        for user in heads.get(unit_id, []):
            recipients[user.pk] = user
            texts[user.pk].append(f"案件 {number} 已超过市级办理期限")
    Notification.objects.bulk_create(_notifications(recipients, texts, now, "/cases/queue/?bucket=overdue"))
    return len(rows)


def _remind(now: datetime.datetime, *, stage: int, hours: int) -> int:
    """Stage 1: the handler (or, with none yet, the unit's officers) at deadline minus N hours; stage 2:
    the level's head at deadline minus M hours. Each once per case and level (``reminder_stage``)."""
    base = Case.objects.filter(
        status__in=OPEN_STATUSES,
        reminder_stage__lt=stage,
        deadline__gte=now,
        deadline__lte=now + datetime.timedelta(hours=hours),
    )
    rows = list(base.select_for_update().values_list("pk", "number", "unit_id", "handler_id", "deadline"))
    if not rows:
        return 0
    base.update(reminder_stage=stage)
    if stage == 1:
        unit_users = _users_by_unit({unit for _pk, _n, unit, handler, _d in rows if handler is None}, HANDLER_ROLES)
        handler_ids = {handler for *_x, handler, _d in rows if handler is not None}
        handlers = {u.pk: u for u in get_user_model().objects.filter(pk__in=handler_ids, is_active=True)}
    else:
        unit_users = _users_by_unit({unit for _pk, _n, unit, _h, _d in rows}, HEAD_ROLES)
        handlers = {}
    recipients: dict[int, Any] = {}
    texts: dict[int, list[str]] = defaultdict(list)
    for _pk, number, unit_id, handler_id, deadline in rows:
        people = [handlers[handler_id]] if stage == 1 and handler_id in handlers else unit_users.get(unit_id, [])
        for user in people:
            recipients[user.pk] = user
            texts[user.pk].append(f"案件 {number} 将于 {timezone.localtime(deadline):%m-%d %H:%M} 到期")
    Notification.objects.bulk_create(_notifications(recipients, texts, now, "/cases/queue/?bucket=due_soon"))
    return len(rows)


@sweep_job("cases-escalation")
def sweep_cases(now: datetime.datetime) -> str:
    rules = DeadlineRules()
    units = _Units()
    overdue = list(
        Case.objects.filter(status__in=OPEN_STATUSES, deadline__lt=now, level__gt=OrgLevel.CITY)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    escalated = 0
    for start in range(0, len(overdue), BATCH_SIZE):
        chunk = overdue[start : start + BATCH_SIZE]
        with transaction.atomic():
            count, _receiving = _escalate_batch(chunk[0], chunk[-1], now, rules, units)
        escalated += count
    with transaction.atomic():
        breached = _flag_city_breaches(now, units)
    with transaction.atomic():
        handler_reminders = _remind(now, stage=1, hours=at_risk_hours())
        head_reminders = _remind(now, stage=2, hours=head_reminder_hours())
    return (
        f"{escalated} 件超期案件上交一级，{breached} 件市级超期，"
        f"提醒承办人 {handler_reminders} 件、提醒负责人 {head_reminders} 件"
    )

