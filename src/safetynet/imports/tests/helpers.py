"""Records of this app for tests/test_scope_walk.py."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile

from safetynet.imports.models import ImportJob
from safetynet.orgs.models import Enterprise


def scope_walk_records(enterprise: Enterprise) -> tuple[dict[type, Any], list[str]]:
    """A finished import job of 中山区 (with an error file), and the file name a list must not show elsewhere."""
    job = ImportJob(
        kind="enterprises",
        kind_label="企业",
        original_name="中山走查导入.csv",
        org_unit=enterprise.org_unit.parent.parent if enterprise.org_unit.level == 4 else enterprise.org_unit,
        status="done",
    )
    job.source.save("walk.csv", ContentFile("统一社会信用代码\n".encode()), save=False)
    job.error_file.save("walk-errors.xlsx", ContentFile(b"not really xlsx"), save=False)
    job.save()
    return {ImportJob: job}, [job.original_name]
