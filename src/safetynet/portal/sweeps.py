"""Periodic work of the workers' platform."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Min, Q
from django.urls import reverse

from safetynet.assistance.models import Application, ApplicationStatus, Payment, PaymentKind
from safetynet.cases.models import CaseStep, StepAction
from safetynet.core.sweep import sweep_job
from safetynet.portal.models import (
    AssistanceNotice,
    AssistanceNoticeEvent,
    SweepMark,
    WorkerAccount,
    WorkerNotification,
)

# Steps a worker hears about (the rest — reminders, leader assignment — are the officers' business).
TOLD_STEPS = {
    StepAction.ACCEPT: "已受理",
    StepAction.MEDIATION_ATTEMPT: "已进行调解",
    StepAction.RESOLVE: "已办结",
    StepAction.REFER_OUT: "已转有关部门办理",
    StepAction.HAND_UP: "已转上级工会办理",
    StepAction.ESCALATE: "已转上级工会办理",
    StepAction.PULL_UP: "已由上级工会办理",
    StepAction.SEND_DOWN: "已交下级工会办理",
    StepAction.MERGE: "已并入集体案件办理",
    StepAction.FOLLOW_UP: "已回访",
    StepAction.REOPEN: "已重新办理",
}
BATCH = 5000


@sweep_job("portal_case_steps")
def notify_case_steps(now: datetime.datetime) -> str:
    """Tell workers of new steps on their appeals: one set-based pass over the steps since the last run."""
    created = 0
    with transaction.atomic():
        mark, _ = SweepMark.objects.select_for_update().get_or_create(name="case_steps")
        while True:
            steps = list(
                CaseStep.objects.filter(id__gt=mark.last_id, at__lte=now, case__caller_person__isnull=False)
                .select_related("case", "to_unit")
                .order_by("id")[:BATCH]
            )
            last_step = (
                CaseStep.objects.filter(id__gt=mark.last_id, at__lte=now)
                .order_by("-id")
                .values_list("id", flat=True)
                .first()
            )
            if not steps:
                if last_step:
                    mark.last_id = last_step
                break
            accounts = dict(
                WorkerAccount.objects.filter(
                    person_id__in={s.case.caller_person_id for s in steps}, is_active=True
                ).values_list("person_id", "pk")
            )
            rows = [
                WorkerNotification(
                    account_id=accounts[step.case.caller_person_id],
                    text=f"您的诉求 {step.case.number} {TOLD_STEPS[step.action]}"
                    + (
                        f"（{step.to_unit.name}）"
                        if step.to_unit_id and step.action != StepAction.RESOLVE
                        else ""
                    )
                    + "。",
                    link=f"/worker/appeals/{step.case_id}/",
                    created_at=step.at,
                )
                for step in steps
                if step.action in TOLD_STEPS and step.case.caller_person_id in accounts
            ]
            WorkerNotification.objects.bulk_create(rows)
            created += len(rows)
            mark.last_id = steps[-1].id
            if len(steps) < BATCH:
                if last_step:
                    mark.last_id = max(mark.last_id, last_step)
                break
        mark.save(update_fields=["last_id"])
    return f"职工诉求进度通知 {created} 条"


# Which application statuses mean the application has reached each stage a worker hears about: an approved
# application goes on to notice and payment, so one that is already further along was approved too.
ASSISTANCE_STAGES = {
    AssistanceNoticeEvent.APPROVED: Q(
        status__in=(
            ApplicationStatus.APPROVED,
            ApplicationStatus.IN_NOTICE,
            ApplicationStatus.NOTICE_PASSED,
            ApplicationStatus.PAID,
        )
    ),
    AssistanceNoticeEvent.REJECTED: Q(status=ApplicationStatus.REJECTED),
    AssistanceNoticeEvent.PAID: Q(status=ApplicationStatus.PAID),
}
ASSISTANCE_TEXTS = {
    AssistanceNoticeEvent.APPROVED: "审核通过，将进行公示",
    AssistanceNoticeEvent.REJECTED: "未通过审核",
    AssistanceNoticeEvent.PAID: "帮扶款已发放",
}


@sweep_job("portal_assistance_decisions")
def notify_assistance_decisions(now: datetime.datetime) -> str:
    """Tell workers that their assistance applications were approved, rejected or paid. Each (application,
    stage) is handled once (an ``AssistanceNotice`` row), so a second run sends nothing twice. A stage reached
    before the worker registered is marked handled without a message (no flood of old news on sign-up)."""
    created = 0
    link = reverse("portal:applications")
    with transaction.atomic():
        # One sweep at a time: the lock serialises concurrent runs; the unique marker is the second guard.
        SweepMark.objects.select_for_update().get_or_create(name="assistance_decisions")
        worker_persons = WorkerAccount.objects.filter(is_active=True, person__isnull=False).values(
            "person_id"
        )
        for event, reached in ASSISTANCE_STAGES.items():
            while True:
                rows = list(
                    Application.objects.filter(reached, person_id__in=worker_persons)
                    .exclude(pk__in=AssistanceNotice.objects.filter(event=event).values("application_id"))
                    .select_related("round")
                    .order_by("pk")[:BATCH]
                )
                if not rows:
                    break
                accounts = {
                    person_id: (pk, created_at.date())
                    for person_id, pk, created_at in WorkerAccount.objects.filter(
                        person_id__in={row.person_id for row in rows}, is_active=True
                    )
                    .order_by("created_at")
                    .values_list("person_id", "pk", "created_at")
                }
                paid_on = {}
                if event == AssistanceNoticeEvent.PAID:
                    paid_on = dict(
                        Payment.objects.filter(application__in=rows, kind=PaymentKind.PAYMENT)
                        .values("application_id")
                        .annotate(first=Min("created_on"))
                        .values_list("application_id", "first")
                    )
                notices = []
                for row in rows:
                    account_id, registered_on = accounts[row.person_id]
                    happened_on = (
                        paid_on.get(row.pk) if event == AssistanceNoticeEvent.PAID else row.decided_on
                    )
                    if happened_on is not None and happened_on < registered_on:
                        continue
                    amount = f"（{row.amount} 元）" if event == AssistanceNoticeEvent.PAID else ""
                    notices.append(
                        WorkerNotification(
                            account_id=account_id,
                            text=f"您申请的“{row.round.title}”{ASSISTANCE_TEXTS[event]}{amount}。",
                            link=link,
                            created_at=now,
                        )
                    )
                WorkerNotification.objects.bulk_create(notices)
                AssistanceNotice.objects.bulk_create(
                    [AssistanceNotice(application=row, event=event, notified_at=now) for row in rows]
                )
                created += len(notices)
                if len(rows) < BATCH:
                    break
    return f"职工帮扶进度通知 {created} 条"
