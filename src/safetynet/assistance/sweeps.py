"""`safetynet sweep`: yearly reviews falling due, and public notices whose period is over.

- review due: every open file whose yearly review is due on or before the sweep's day and not yet raised
  gets ``review_reminded_on`` and one in-app message to the operators and unit admins of its unit (or the
  street above a community); set-based, each file raised once per due date (a review clears the mark).
- notices: every application whose 公示 ended before the sweep's day and has no open objection moves to
  公示期满 (through the workflow, one step each).
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from safetynet.assistance.models import HardshipFile
from safetynet.assistance.services import application_notice_end_due
from safetynet.core.sweep import sweep_job

STAFF_ROLES = ("operator", "unit_admin")


def _local_day(now: datetime.datetime) -> datetime.date:
    return timezone.localtime(now).date() if timezone.is_aware(now) else now.date()


@sweep_job("assistance_reviews_due")
def raise_due_reviews(now: datetime.datetime) -> str:
    from django.contrib.auth import get_user_model

    from safetynet.cases.models import Notification
    from safetynet.cases.notifications import notify_bulk

    day = _local_day(now)
    with transaction.atomic():
        due = list(
            HardshipFile.objects.select_for_update(skip_locked=True)
            .filter(closed_on__isnull=True, review_due_on__lte=day, review_reminded_on__isnull=True)
            .values_list("pk", "org_unit_id", "org_unit__parent_id", "org_unit__level")
        )
        if not due:
            return "无到期复核的困难档案"
        by_unit: dict[int, int] = {}
        for _pk, unit_id, parent_id, level in due:
            target = parent_id if level == 4 and parent_id else unit_id
            by_unit[target] = by_unit.get(target, 0) + 1
        staff = get_user_model().objects.filter(
            org_unit_id__in=list(by_unit), role__in=STAFF_ROLES, is_active=True
        )
        rows = [
            Notification(
                recipient=user,
                text=f"有 {by_unit[user.org_unit_id]} 份困难职工档案到期需年度复核。",
                link="/assistance/files/?due=1",
                created_at=now,
            )
            for user in staff
        ]
        notify_bulk(rows, [])
        HardshipFile.objects.filter(pk__in=[row[0] for row in due]).update(review_reminded_on=day)
    return f"到期复核档案 {len(due)} 份，通知 {len(rows)} 人"


@sweep_job("assistance_notices_end")
def end_notices(now: datetime.datetime) -> str:
    count = application_notice_end_due(on=_local_day(now))
    return f"公示期满 {count} 份申请"
