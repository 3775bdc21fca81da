"""Demo visits (found by `safetynet demo-data`, see core/demo.py): cadres' visits this year and last year to a
sample of enterprises, some of whose findings became warnings (linked)."""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone

from safetynet.core.models import AuditAction
from safetynet.core.services import audit_record
from safetynet.orgs.models import Enterprise, OrgUnit
from safetynet.visits.models import EIGHT_VISIT, SIX_CLEAR, Visit

VISITS = {"small": 400, "city": 40_000, "city3": 120_000}
SURNAMES = "王李张刘陈杨赵黄周吴"
FINDINGS = ("", "", "", "职工反映加班较多", "部分职工未签劳动合同", "拖欠两个月工资", "食堂条件较差")


def extend_demo(*, seed: int, scale: str) -> dict[str, int]:
    if Visit.objects.exists():
        return {}
    rng = random.Random(f"visits-{seed}")
    bounds = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True)[:1]) + list(
        Enterprise.objects.order_by("-pk").values_list("pk", flat=True)[:1]
    )
    if len(bounds) < 2:
        return {}
    wanted = {rng.randint(bounds[0], bounds[1]) for _ in range(VISITS.get(scale, VISITS["small"]))}
    enterprises = list(Enterprise.objects.filter(pk__in=wanted).values_list("pk", "founded_on"))
    today = timezone.localdate()
    visits = []
    for pk, founded_on in enterprises:
        year = today.year - rng.randint(0, 1)
        last = today if year == today.year else datetime.date(year, 12, 31)
        day = datetime.date(year, 1, 1) + datetime.timedelta(
            days=rng.randint(0, (last - datetime.date(year, 1, 1)).days)
        )
        if day < founded_on:
            continue
        visits.append(
            Visit(
                officer=None,
                officer_name=f"{rng.choice(SURNAMES)}干事",
                visited_on=day,
                enterprise_id=pk,
                worker_name=rng.choice(("", "", f"{rng.choice(SURNAMES)}师傅")),
                checklist=rng.sample(list(SIX_CLEAR), 3) + rng.sample(list(EIGHT_VISIT), 2),
                findings=rng.choice(FINDINGS),
            )
        )
    city = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    with transaction.atomic():
        Visit.objects.bulk_create(visits, batch_size=5000)
        if city is not None:
            audit_record(
                actor=None,
                action=AuditAction.IMPORT,
                instance=city,
                changes={"走访记录": [None, len(visits)]},
                unit_path=city.path,
                note=f"载入演示数据（规模 {scale}，种子 {seed}）",
            )
    return {"visits": len(visits)}
