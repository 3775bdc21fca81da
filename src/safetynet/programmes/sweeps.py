"""Periodic contract work for `safetynet sweep`: reminders before expiry, overdue filings, status moves.

Everything is set-based (a handful of queries however many contracts) and idempotent: a reminder is
raised once per contract, kind and due day; a status moves once.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from safetynet.core.models import AuditAction
from safetynet.core.services import audit_build, audit_bulk
from safetynet.core.sweep import sweep_job
from safetynet.programmes import workflow
from safetynet.programmes.models import (
    CollectiveContract,
    ContractAction,
    ContractStatus,
    ContractStep,
    Reminder,
    ReminderKind,
)

# Who is reminded: the contract unit's chairs and officers and the officers of the unit above it.
REMINDED_ROLES = ("chair", "operator", "unit_admin")


def _recipients(contracts: list[CollectiveContract]) -> dict[int, str]:
    """Usernames to remind per contract, from one query over the units involved."""
    from django.contrib.auth import get_user_model

    units: dict[int, list[int]] = {}
    for contract in contracts:
        parent = contract.org_unit.parent_id
        units[contract.pk] = [contract.org_unit_id] + ([parent] if parent else [])
    wanted = {unit for ids in units.values() for unit in ids}
    by_unit: dict[int, list[str]] = defaultdict(list)
    users = (
        get_user_model()
        .objects.filter(org_unit_id__in=wanted, role__in=REMINDED_ROLES, is_active=True)
        .order_by("username")
        .values_list("org_unit_id", "username")
    )
    for unit_id, username in users:
        by_unit[unit_id].append(username)
    return {pk: "、".join(name for unit in ids for name in by_unit[unit]) for pk, ids in units.items()}


def _raise_reminders(
    contracts: list[CollectiveContract], kind: str, due: dict[int, datetime.date], now: datetime.datetime
) -> int:
    if not contracts:
        return 0
    existing = set(
        Reminder.objects.filter(contract__in=contracts, kind=kind).values_list("contract_id", "due_on")
    )
    fresh = [c for c in contracts if (c.pk, due[c.pk]) not in existing]
    recipients = _recipients(fresh)
    Reminder.objects.bulk_create(
        [
            Reminder(contract=c, kind=kind, due_on=due[c.pk], created_at=now, recipients=recipients[c.pk])
            for c in fresh
        ],
        ignore_conflicts=True,
    )
    return len(fresh)


@sweep_job("contracts-expiry")
@transaction.atomic
def remind_contracts(now: datetime.datetime) -> str:
    """Remind about contracts expiring within 60 days (renegotiate in time) and flag filings overdue."""
    day = timezone.localdate(now)
    horizon = day + datetime.timedelta(days=workflow.EXPIRY_REMINDER_DAYS)
    expiring = list(
        CollectiveContract.objects.expiring_between(day, horizon)
        .exclude(status=ContractStatus.RENEWED)
        .select_related("org_unit")
    )
    expiring_count = _raise_reminders(
        expiring, ReminderKind.EXPIRY, {c.pk: c.expires_on for c in expiring}, now
    )
    overdue = list(CollectiveContract.objects.filing_overdue_on(day).select_related("org_unit"))
    overdue_count = _raise_reminders(
        overdue, ReminderKind.FILING_OVERDUE, {c.pk: c.filing_due_on for c in overdue}, now
    )
    return f"{expiring_count} 份合同即将到期已提醒，{overdue_count} 份合同逾期未备案已提醒"


def _move(
    contracts: list[CollectiveContract], action: str, target: str, day: datetime.date, note: str
) -> int:
    """Move contracts to ``target`` with their step and audit rows, in bulk."""
    if not contracts:
        return 0
    CollectiveContract.objects.filter(pk__in=[c.pk for c in contracts]).update(status=target)
    ContractStep.objects.bulk_create(
        ContractStep(
            contract=c,
            action=action,
            from_status=c.status,
            to_status=target,
            on=day,
            actor_name="系统",
            comment=note,
        )
        for c in contracts
    )
    audit_bulk(
        [
            audit_build(
                actor=None,
                action=AuditAction.UPDATE,
                instance=c,
                changes={"status": [ContractStatus(c.status).label, ContractStatus(target).label]},
                unit_path=c.org_unit.path,
                note=f"{note}（{day}）",
            )
            for c in contracts
        ]
    )
    return len(contracts)


@sweep_job("contracts-status")
@transaction.atomic
def advance_contracts(now: datetime.datetime) -> str:
    """Filed contracts whose 15 days passed without objection and whose term began are in force; contracts
    whose 到期日期 is behind us are expired. Imported contracts have no receipt-based date: their term decides."""
    day = timezone.localdate(now)
    effective = list(
        CollectiveContract.objects.filter(
            status=ContractStatus.FILED, effective_on__lte=day, expires_on__gte=day
        )
        .filter(Q(deemed_effective_on__isnull=True) | Q(deemed_effective_on__lte=day))
        .select_related("org_unit")
    )
    effective_count = _move(
        effective,
        ContractAction.TAKE_EFFECT,
        ContractStatus.IN_FORCE,
        day,
        "备案后十五日内人社部门未提出异议，合同生效",
    )
    expired = list(
        CollectiveContract.objects.filter(
            status__in=(ContractStatus.SIGNED, ContractStatus.FILED, ContractStatus.IN_FORCE),
            expires_on__lt=day,
        ).select_related("org_unit")
    )
    expired_count = _move(expired, ContractAction.EXPIRE, ContractStatus.EXPIRED, day, "合同期满")
    return f"{effective_count} 份合同生效，{expired_count} 份合同到期"
