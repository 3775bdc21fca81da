"""The assessment part of the scope walk (tests/test_scope_walk.py): a scheme 中山区 runs for its streets, with
an item, the street's letter, its evidence and an appeal — every model an assessment URL names."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.utils import timezone

from safetynet.assessment import services
from safetynet.assessment.models import Appeal, Evidence, Item, Letter, Scheme


def scope_walk_records(enterprise: Any) -> tuple[dict[type[Model], Model], list[str]]:
    street = enterprise.org_unit.parent if enterprise.org_unit.level == 4 else enterprise.org_unit
    district = street.parent
    scheme = services.scheme_create(actor=None, org_unit=district, year=2012, name="中山走查街道考核方案")
    item = services.item_add(actor=None, scheme=scheme, name="中山走查特色工作", kind="manual", weight="100")
    scheme = services.scheme_publish(actor=None, scheme=scheme)
    letter = Letter.objects.get(scheme=scheme, org_unit=street)
    evidence = services.evidence_upload(
        actor=None,
        item=item,
        org_unit=street,
        file=SimpleUploadedFile("中山走查材料.pdf", b"%PDF-1.4\n%%EOF\n"),
        note="中山走查材料说明",
    )
    scheme = services.scheme_freeze(
        actor=None, scheme=scheme, day=datetime.date(2012, 12, 31), appeal_until=timezone.localdate()
    )
    appeal = services.appeal_submit(actor=None, item=item, org_unit=street, reason="中山走查申诉理由")
    records: dict[type[Model], Model] = {
        Scheme: scheme,
        Item: item,
        Letter: letter,
        Evidence: evidence,
        Appeal: appeal,
    }
    return records, ["中山走查街道考核方案", "中山走查特色工作", "中山走查材料", "中山走查申诉理由"]
