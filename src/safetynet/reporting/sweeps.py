"""`safetynet sweep`: report reminders before the due date and the missing list to the level above after it.

For each form, at the sweep's moment T (its Beijing date t):

- due soon: for the period whose due date is within ``REPORT_REMINDER_DAYS`` (setting, default 2) days from
  t, every expected reporter that has not reported yet is reminded (its operators and unit admins);
- missing: for a period whose due date has passed (up to ``ESCALATION_WINDOW_DAYS`` back, so a form loaded
  with old periods does not flood anyone), the staff of the unit above each reporter that has still not
  reported get one message listing them.

Each (form, period, reporter, kind) is sent once: a :class:`Reminder` row records it and a unique
constraint keeps it so, and a second sweep finds nothing left to send. Set-based: a handful of queries per
form and period, notifications and reminder rows in bulk.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db import transaction

from safetynet.core.sweep import sweep_job
from safetynet.orgs.models import OrgUnit
from safetynet.reporting import periods
from safetynet.reporting.models import Reminder, ReminderKind, Report, ReportForm
from safetynet.reporting.rates import expected_unit_ids
from safetynet.reporting.services import filing_link, staff_of

ESCALATION_WINDOW_DAYS = 31
DEFAULT_REMINDER_DAYS = 2


def reminder_days() -> int:
    return int(getattr(settings, "REPORT_REMINDER_DAYS", DEFAULT_REMINDER_DAYS))


def _pending(form: ReportForm, period: periods.Period, kind: str) -> list[int]:
    """Expected reporters of (form, period) with no report at all and no reminder of ``kind`` yet."""
    expected = expected_unit_ids(form, period)
    if not expected:
        return []
    reported = set(Report.objects.filter(form=form, period=period.code).values_list("unit_id", flat=True))
    reminded = set(
        Reminder.objects.filter(form=form, period=period.code, kind=kind).values_list("unit_id", flat=True)
    )
    return sorted(expected - reported - reminded)


def _send(rows: list[Any], emails: list[tuple[str, str, str]]) -> None:
    from safetynet.cases.notifications import notify_bulk

    notify_bulk(rows, emails)


def _remind_due_soon(form: ReportForm, period: periods.Period, now: datetime.datetime) -> int:
    from safetynet.cases.models import Notification

    units = _pending(form, period, ReminderKind.DUE_SOON)
    if not units:
        return 0
    due = period.due_date(form.due_day)
    staff = staff_of(units)
    text = f"提醒：{form.name}（{period.label}）将于 {due.isoformat()} 截止，本单位尚未报送。"
    link = filing_link(form, period)
    rows, emails = [], []
    for unit_id in units:
        for user in staff.get(unit_id, []):
            rows.append(Notification(recipient=user, text=text[:300], link=link, created_at=now))
            if user.email:
                emails.append((f"【安全网】{text[:60]}", text, user.email))
    _send(rows, emails)
    Reminder.objects.bulk_create(
        Reminder(
            form=form,
            period=period.code,
            unit_id=unit_id,
            kind=ReminderKind.DUE_SOON,
            sent_at=now,
            recipients=len(staff.get(unit_id, [])),
        )
        for unit_id in units
    )
    return len(units)


def _escalate_missing(form: ReportForm, period: periods.Period, now: datetime.datetime) -> int:
    from safetynet.cases.models import Notification

    units = _pending(form, period, ReminderKind.MISSING)
    if not units:
        return 0
    info = {
        pk: (name, parent)
        for pk, name, parent in OrgUnit.objects.filter(pk__in=units).values_list("pk", "name", "parent_id")
    }
    by_parent: dict[int, list[str]] = defaultdict(list)
    for unit_id in units:
        name, parent = info[unit_id]
        if parent is not None:
            by_parent[parent].append(name)
    staff = staff_of(by_parent)
    due = period.due_date(form.due_day)
    link = f"/reporting/overview/?form={form.pk}&period={period.code}"
    rows, emails = [], []
    for parent, names in by_parent.items():
        listed = "、".join(names[:10]) + (f" 等 {len(names)} 个单位" if len(names) > 10 else "")
        text = f"逾期未报：{form.name}（{period.label}，截止 {due.isoformat()}）{listed}。"
        for user in staff.get(parent, []):
            rows.append(Notification(recipient=user, text=text[:300], link=link, created_at=now))
            if user.email:
                emails.append((f"【安全网】{text[:60]}", f"{text}\n\n{link}", user.email))
    _send(rows, emails)
    Reminder.objects.bulk_create(
        Reminder(
            form=form,
            period=period.code,
            unit_id=unit_id,
            kind=ReminderKind.MISSING,
            sent_at=now,
            recipients=len(staff.get(info[unit_id][1], [])) if info[unit_id][1] else 0,
        )
        for unit_id in units
    )
    return len(units)


def sweep_reminders(now: datetime.datetime) -> tuple[int, int]:
    """(units reminded before the due date, units listed to the level above after it)."""
    today = periods.beijing_date(now)
    days = reminder_days()
    reminded = escalated = 0
    for form in ReportForm.objects.order_by("code"):
        period = periods.latest_ended(today, form.period_kind)
        for candidate in (period, period.previous()):
            due = candidate.due_date(form.due_day)
            with transaction.atomic():
                if due - datetime.timedelta(days=days) <= today <= due:
                    reminded += _remind_due_soon(form, candidate, now)
                elif due < today <= due + datetime.timedelta(days=ESCALATION_WINDOW_DAYS):
                    escalated += _escalate_missing(form, candidate, now)
    return reminded, escalated


@sweep_job("reporting-reminders")
def sweep_reporting(now: datetime.datetime) -> str:
    reminded, escalated = sweep_reminders(now)
    return f"报表截止前提醒 {reminded} 个单位，逾期未报告知上级 {escalated} 个单位"
