"""The cases' part of the scope walk (tests/test_scope_walk.py): one 中山区 case with a timeline step, an
attachment, an outcome and a follow-up, for every model a cases URL names."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.db.models import Model

from safetynet.cases import services
from safetynet.cases.models import Case, CaseAttachment, CaseStep


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
    return records, [case.number, "中山走查诉求", "zs-walk-recording"]
