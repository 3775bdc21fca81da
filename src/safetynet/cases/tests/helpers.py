"""The cases' part of the scope walk (tests/test_scope_walk.py): one 中山区 case with a timeline step, an
attachment, an outcome and a follow-up, for every model a cases URL names; and a notification about it to
the 中山区 staff, which no 西岗区 user's inbox (page or API) may show."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.db.models import Model

from safetynet.accounts.models import User
from safetynet.cases import services
from safetynet.cases.models import Case, CaseAttachment, CaseStep
from safetynet.cases.notifications import notify


def scope_walk_records(enterprise: Any) -> tuple[dict[type[Model], Model], list[str]]:
    upload = ContentFile(b"walk", name="zs-walk-recording.txt")
    case = services.case_intake(
        actor=None,
        channel="hotline",
        category="wage_arrears",
        description="中山走查诉求：三个月工资未发",
        enterprise=enterprise,
        caller_phone="13912340001",
        claim_amount="9000",
        attachments=[upload],
    )
    case = Case.objects.get(pk=case.pk)
    records: dict[type[Model], Model] = {
        Case: case,
        CaseStep: case.steps.first(),
        CaseAttachment: case.attachments.get(),
    }
    staff_above = User.objects.filter(org_unit__in=list(enterprise.org_unit.ancestors()))
    notify(staff_above, "中山走查通知：案件待受理", case=case, link=services.case_link(case), email=False)
    return records, [case.number, "中山走查诉求", "zs-walk-recording", "中山走查通知"]
