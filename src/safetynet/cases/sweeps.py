"""`safetynet sweep`: overdue cases go one level up, city cases past their deadline are flagged, reminders.

Set-based: the overdue ids are read once, then handled in batches of ``BATCH_SIZE`` by id range, each
batch in one transaction and a fixed handful of statements whatever its size: one UPDATE (new unit and
level from the parent unit, the new deadline as a CASE over the (level, category, difficulty)
combinations, each computed once from T in Python), the timeline steps, escalation rows and audit rows
copied from the moved rows (INSERT … SELECT; on PostgreSQL all in one statement), and one notification per
recipient (bulk).

Idempotent: an escalated case's new deadline runs from T, so it is not overdue at T any more; a second
run at the same T escalates nothing. A crash leaves whole batches done or not done (one transaction each).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from safetynet.cases.deadlines import DeadlineRules, at_risk_hours, head_reminder_hours
from safetynet.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseKind,
    CaseStatus,
    CaseStep,
    Category,
    Difficulty,
    Escalation,
    EscalationReason,
    Notification,
    StepAction,
)
from safetynet.cases.services import HANDLER_ROLES, HEAD_ROLES
from safetynet.core.models import AuditAction, AuditEntry
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
            for pk, parent, level, name, path in OrgUnit.objects.values_list(
                "pk", "parent_id", "level", "name", "path"
            )
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


def _sql_context() -> dict[str, str]:
    q = connection.ops.quote_name
    return {
        "case": q(Case._meta.db_table),
        "unit": q(OrgUnit._meta.db_table),
        "step": q(CaseStep._meta.db_table),
        "escalation": q(Escalation._meta.db_table),
        "audit": q(AuditEntry._meta.db_table),
    }


def _deadline_sql(now: datetime.datetime, rules: DeadlineRules, new_level_sql: str) -> tuple[str, list[Any]]:
    """CASE <new level> WHEN l THEN CASE category || '/' || difficulty WHEN 'c/d' THEN <deadline> … END END:
    every (level, category, difficulty) deadline from T is computed once in Python (a few dozen)."""
    params: list[Any] = []
    outer = []
    for level in (OrgLevel.CITY, OrgLevel.DISTRICT, OrgLevel.STREET):
        inner = []
        for category in Category.values:
            for difficulty in Difficulty.values:
                moment = rules.deadline(level=level, category=category, difficulty=difficulty, start=now)
                inner.append("WHEN %s THEN %s")
                params += [f"{category}/{difficulty}", connection.ops.adapt_datetimefield_value(moment)]
        fallback = rules.deadline(level=level, category="", difficulty="", start=now)
        params.append(connection.ops.adapt_datetimefield_value(fallback))
        outer.append(
            f"WHEN {int(level)} THEN (CASE c.category || '/' || c.difficulty {' '.join(inner)} ELSE %s END)"
        )
    return f"(CASE {new_level_sql} {' '.join(outer)} END)", params


def _notify_receivers(moved: list[tuple[int, str]], now: datetime.datetime) -> None:
    """(receiving unit id, case number) pairs: one notification per officer of each receiving unit."""
    receiving: dict[int, list[str]] = defaultdict(list)
    for unit_id, number in moved:
        receiving[unit_id].append(number)
    handlers = _users_by_unit(set(receiving), HANDLER_ROLES)
    recipients: dict[int, Any] = {}
    texts: dict[int, list[str]] = defaultdict(list)
    for unit_id, numbers in receiving.items():
        for user in handlers.get(unit_id, []):
            recipients[user.pk] = user
            texts[user.pk].extend(f"案件 {n} 超期自动上交至本单位，请受理" for n in numbers)
    Notification.objects.bulk_create(_notifications(recipients, texts, now, "/cases/queue/?bucket=escalated"))


def _escalate_batch(ids: list[int], now: datetime.datetime, rules: DeadlineRules) -> int:
    """Hand every case of ``ids`` that is still open, overdue and below the city one level up; returns how many.

    PostgreSQL: one statement — an UPDATE … FROM the unit and its parent, RETURNING the old and new unit,
    feeding three INSERTs (timeline, escalation, audit) as data-modifying CTEs. The UPDATE locks each row
    and re-checks the conditions on a row a user is changing at that moment, so the copies describe exactly
    the rows moved. SQLite (one writer at a time): the same rows copied by INSERT … SELECT, then the UPDATE.
    """
    t = _sql_context()
    at = connection.ops.adapt_datetimefield_value(now)
    written = connection.ops.adapt_datetimefield_value(timezone.now())
    statuses = list(OPEN_STATUSES)
    in_open = ", ".join(["%s"] * len(statuses))
    below_city = int(OrgLevel.CITY)
    reason = EscalationReason.DEADLINE.label
    audit_fixed = [written, SYSTEM, AuditAction.UPDATE.value, "cases.case", "超期自动上交"]
    step_columns = "case_id, at, actor_id, actor_name, action, from_level, from_unit_id, to_level, to_unit_id, reason, note"
    escalation_columns = "case_id, at, reason, from_level, from_unit_id, to_level, to_unit_id, actor_id, note"
    audit_columns = (
        "at, actor_id, actor_name, address, action, entity, object_id, object_repr, unit_path, changes, note"
    )
    moved_set = (
        "level_since = %s, status = CASE WHEN c.kind = %s THEN c.status ELSE %s END, handler_id = NULL, "
        "reminder_stage = 0, arrival = %s, version = c.version + 1"
    )
    moved_params = [at, CaseKind.HAZARD.value, CaseStatus.NEW.value, StepAction.ESCALATE.value]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            deadline_sql, deadline_params = _deadline_sql(now, rules, "p.level")
            cursor.execute(
                f"WITH moved AS ("
                f" UPDATE {t['case']} AS c SET unit_id = p.id, level = p.level, deadline = {deadline_sql}, {moved_set}"
                f" FROM {t['unit']} u JOIN {t['unit']} p ON p.id = u.parent_id"
                f" WHERE u.id = c.unit_id AND c.id = ANY(%s) AND c.status IN ({in_open}) AND c.deadline < %s"
                f" AND c.level > {below_city}"
                f" RETURNING c.id, c.number, c.origin_unit_id, u.id AS from_unit, u.level AS from_level,"
                f" u.name AS from_name, p.id AS to_unit, p.level AS to_level, p.name AS to_name"
                f"), steps AS ("
                f" INSERT INTO {t['step']} ({step_columns}) SELECT m.id, %s, NULL, %s, %s, m.from_level,"
                f" m.from_unit, m.to_level, m.to_unit, %s, '本级办理期限已过，自动上交' || m.to_name FROM moved m"
                f"), escalations AS ("
                f" INSERT INTO {t['escalation']} ({escalation_columns}) SELECT m.id, %s, %s, m.from_level,"
                f" m.from_unit, m.to_level, m.to_unit, NULL, '本级办理期限已过，自动上交' || m.to_name FROM moved m"
                f"), audits AS ("
                f" INSERT INTO {t['audit']} ({audit_columns}) SELECT %s, NULL, %s, NULL, %s, %s, CAST(m.id AS TEXT),"
                f" m.number, o.path, jsonb_build_object('unit', jsonb_build_array(m.from_name, m.to_name)), %s"
                f" FROM moved m JOIN {t['unit']} o ON o.id = m.origin_unit_id"
                f") SELECT m.to_unit, m.number FROM moved m",
                [
                    *deadline_params,
                    *moved_params,
                    ids,
                    *statuses,
                    at,
                    at,
                    SYSTEM,
                    StepAction.ESCALATE.value,
                    reason,
                    at,
                    EscalationReason.DEADLINE.value,
                    *audit_fixed,
                ],
            )
            moved = cursor.fetchall()
        else:
            where = (
                f"c.id BETWEEN %s AND %s AND c.status IN ({in_open}) AND c.deadline < %s AND c.level > {below_city}"
                f" AND EXISTS (SELECT 1 FROM {t['unit']} x WHERE x.id = c.unit_id AND x.parent_id IS NOT NULL)"
            )
            where_params = [ids[0], ids[-1], *statuses, at]
            joined = f"FROM {t['case']} c JOIN {t['unit']} u ON u.id = c.unit_id JOIN {t['unit']} p ON p.id = u.parent_id"
            cursor.execute(f"SELECT p.id, c.number {joined} WHERE {where}", where_params)
            moved = cursor.fetchall()
            note = "'本级办理期限已过，自动上交' || p.name"
            cursor.execute(
                f"INSERT INTO {t['step']} ({step_columns}) SELECT c.id, %s, NULL, %s, %s, c.level, c.unit_id,"
                f" p.level, p.id, %s, {note} {joined} WHERE {where}",
                [at, SYSTEM, StepAction.ESCALATE.value, reason, *where_params],
            )
            cursor.execute(
                f"INSERT INTO {t['escalation']} ({escalation_columns}) SELECT c.id, %s, %s, c.level, c.unit_id,"
                f" p.level, p.id, NULL, {note} {joined} WHERE {where}",
                [at, EscalationReason.DEADLINE.value, *where_params],
            )
            cursor.execute(
                f"INSERT INTO {t['audit']} ({audit_columns}) SELECT %s, NULL, %s, NULL, %s, %s, CAST(c.id AS TEXT),"
                f" c.number, o.path, json_object('unit', json_array(u.name, p.name)), %s"
                f" {joined} JOIN {t['unit']} o ON o.id = c.origin_unit_id WHERE {where}",
                [*audit_fixed, *where_params],
            )
            parent_level = f"(SELECT p.level FROM {t['unit']} u JOIN {t['unit']} p ON p.id = u.parent_id WHERE u.id = c.unit_id)"
            deadline_sql, deadline_params = _deadline_sql(now, rules, parent_level)
            # Every SET expression reads the row as it was (old unit and level), as SQL specifies.
            cursor.execute(
                f"UPDATE {t['case']} AS c SET unit_id = (SELECT u.parent_id FROM {t['unit']} u WHERE u.id = c.unit_id),"
                f" level = {parent_level}, deadline = {deadline_sql}, {moved_set} WHERE {where}",
                [*deadline_params, *moved_params, *where_params],
            )
    _notify_receivers(moved, now)
    return len(moved)


def _flag_city_breaches(now: datetime.datetime, units: _Units) -> int:
    """At the city a case cannot go higher: it stays, flagged breached (once), and the city's head is told."""
    base = Case.objects.filter(
        status__in=OPEN_STATUSES, deadline__lt=now, level=OrgLevel.CITY, breached=False
    )
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
        unit_users = _users_by_unit(
            {unit for _pk, _n, unit, handler, _d in rows if handler is None}, HANDLER_ROLES
        )
        handler_ids = {handler for *_x, handler, _d in rows if handler is not None}
        handlers = {u.pk: u for u in get_user_model().objects.filter(pk__in=handler_ids, is_active=True)}
    else:
        unit_users = _users_by_unit({unit for _pk, _n, unit, _h, _d in rows}, HEAD_ROLES)
        handlers = {}
    recipients: dict[int, Any] = {}
    texts: dict[int, list[str]] = defaultdict(list)
    for _pk, number, unit_id, handler_id, deadline in rows:
        people = (
            [handlers[handler_id]] if stage == 1 and handler_id in handlers else unit_users.get(unit_id, [])
        )
        for user in people:
            recipients[user.pk] = user
            texts[user.pk].append(f"案件 {number} 将于 {timezone.localtime(deadline):%m-%d %H:%M} 到期")
    Notification.objects.bulk_create(_notifications(recipients, texts, now, "/cases/queue/?bucket=due_soon"))
    return len(rows)


def _commit_without_waiting() -> None:
    """PostgreSQL: this transaction's commit does not wait for its WAL (a hundred MB a batch) to be on disk.

    Safe for the database: a crash keeps it consistent and loses at most the last commits (a whole batch,
    never part of one, within a fraction of a second). Safe for the sweep: it is idempotent and the timer
    runs it every 15 minutes, so a lost batch is handed up on the next run; and it tells nobody outside
    the database (no email or SMS), so nothing announces an escalation that was lost.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


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
        with transaction.atomic():
            _commit_without_waiting()
            escalated += _escalate_batch(overdue[start : start + BATCH_SIZE], now, rules)
    with transaction.atomic():
        breached = _flag_city_breaches(now, units)
    with transaction.atomic():
        handler_reminders = _remind(now, stage=1, hours=at_risk_hours())
        head_reminders = _remind(now, stage=2, hours=head_reminder_hours())
    return (
        f"{escalated} 件超期案件上交一级，{breached} 件市级超期，"
        f"提醒承办人 {handler_reminders} 件、提醒负责人 {head_reminders} 件"
    )
