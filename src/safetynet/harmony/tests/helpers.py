"""The harmony part of the scope walk: a 中山区 survey, score, designation and run."""

from __future__ import annotations

import decimal
from typing import Any

from django.db.models import Model
from django.utils import timezone

from safetynet.harmony.models import Designation, IndexModel, Run, Score, Survey


def scope_walk_records(enterprise: Any) -> tuple[dict[type[Model], Model], list[str]]:
    model, _ = IndexModel.objects.get_or_create(year=2012, defaults={"name": "走查模型"})
    survey = Survey.objects.create(
        enterprise=enterprise, year=2012, score=decimal.Decimal("77"), note="中山走查调查说明"
    )
    score = Score.objects.create(
        enterprise=enterprise,
        org_unit=enterprise.org_unit,
        year=2012,
        model=model,
        total=decimal.Decimal("81.5"),
        facts={},
        computed_at=timezone.now(),
    )
    designation = Designation.objects.create(
        enterprise=enterprise,
        year=2012,
        level="district",
        score=decimal.Decimal("81.5"),
        valid_from_year=2013,
        valid_to_year=2014,
        reason="中山走查审批意见",
    )
    run = Run.objects.create(year=2012, org_unit=enterprise.org_unit, stage="中山走查计算")
    return (
        {Survey: survey, Score: score, Designation: designation, Run: run},
        ["中山走查调查说明", "中山走查审批意见", "中山走查计算"],
    )
