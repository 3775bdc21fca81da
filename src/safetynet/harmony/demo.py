"""Demo index models, surveys, last year's scores and 和谐企业 (found by `safetynet demo-data`)."""

from __future__ import annotations

import random

from django.db import transaction
from django.utils import timezone

from safetynet.harmony import scoring, services
from safetynet.harmony.models import Designation, DesignationStatus, IndexModel, Survey
from safetynet.orgs.models import Enterprise

SURVEYS = {"small": 300, "city": 20_000, "city3": 60_000}


def extend_demo(*, seed: int, scale: str) -> dict[str, int]:
    if IndexModel.objects.exists():
        return {}
    rng = random.Random(f"harmony-{seed}")
    this_year = timezone.localdate().year
    last_year = this_year - 1
    for year in (last_year, this_year):
        services.indexmodel_save(actor=None, year=year, weights=services.DEFAULT_WEIGHTS)
    day = scoring.as_of(last_year)
    ids = list(scoring.existing_enterprises(day).order_by("pk").values_list("pk", flat=True))
    if not ids:
        return {}
    sample = rng.sample(ids, min(len(ids), SURVEYS.get(scale, SURVEYS["small"])))
    with transaction.atomic():
        Survey.objects.bulk_create(
            [Survey(enterprise_id=pk, year=last_year, score=rng.randint(55, 100)) for pk in sample],
            batch_size=5000,
        )
    scored = scoring.compute_year(year=last_year, model=IndexModel.objects.get(year=last_year))
    proposed = services.designation_propose(actor=None, year=last_year)
    # About half of the proposals approved by the district (the demo leaves the rest to be decided).
    for designation in Designation.objects.filter(
        year=last_year, status=DesignationStatus.PROPOSED
    ).select_related("enterprise__org_unit")[: min(proposed // 2, 300)]:
        services.designation_decide(actor=None, designation=designation, action="approve")
    return {
        "harmony_scores": scored,
        "harmony_designations": proposed,
        "enterprises": Enterprise.objects.count(),
    }
