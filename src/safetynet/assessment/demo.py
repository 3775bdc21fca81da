"""The demo city's assessment: last year's city scheme taken all the way to a published bulletin, and this
year's (copied from it) published and scored live. Found by ``safetynet demo-data`` (see core/demo.py); it
runs after the indicators' demo, whose targets the indicator items need."""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.utils import timezone

from safetynet.assessment import services
from safetynet.assessment.models import Item, Letter, Scheme, SchemeStatus
from safetynet.assessment.scoring import compute_sheet
from safetynet.orgs.models import OrgUnit

DEMO_ITEMS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("建会率", "indicator", "25", {"metric": "union_rate", "mode": "linear", "floor": "0.6"}),
    (
        "工资集体协商建制率",
        "indicator",
        "20",
        {
            "metric": "wage_bargaining_rate",
            "mode": "stepped",
            "steps": [
                {"from": 100, "to": None, "points": 20},
                {"from": 90, "to": 100, "points": 15},
                {"from": 80, "to": 90, "points": 10},
                {"from": 0, "to": 80, "points": 0},
            ],
        },
    ),
    ("信息报送及时", "deduction", "15", {"source": "reports", "late": 2, "missing": 5}),
    ("诉求按期办结", "ratio", "15", {"source": "cases_closed_on_time"}),
    ("特色工作与创新", "manual", "25", {}),
    ("安全生产与重大群体性事件", "veto", "0", {"cap": 60}),
]

REVIEW_REASONS = [
    "材料齐全，特色鲜明",
    "有创新做法，成效明显",
    "材料基本齐全，亮点不多",
    "材料不全，已补充说明",
]


def build_city_scheme(city: OrgUnit, year: int) -> Scheme:
    """The city's scheme of the year with the demo items (a draft)."""
    scheme = services.scheme_create(actor=None, org_unit=city, year=year)
    for name, kind, weight, rule in DEMO_ITEMS:
        services.item_add(actor=None, scheme=scheme, name=name, kind=kind, weight=weight, rule=rule)
    return scheme


def _respond(scheme: Scheme, rng: random.Random, on: datetime.date) -> None:
    """Letters signed in January, the manual item reviewed with reasons, one veto finding."""
    for letter in Letter.objects.filter(scheme=scheme).select_related("org_unit", "scheme"):
        if rng.random() < 0.85:
            services.letter_sign(
                actor=None, letter=letter, on=datetime.date(scheme.year, 1, rng.randint(10, 28))
            )
    manual = Item.objects.get(scheme=scheme, kind="manual")
    veto = Item.objects.get(scheme=scheme, kind="veto")
    units = list(OrgUnit.objects.filter(parent=scheme.org_unit).order_by("code"))
    for unit in units:
        services.review_record(
            actor=None,
            item=manual,
            org_unit=unit,
            points=rng.choice(["15", "18", "20", "22", "24"]),
            reason=rng.choice(REVIEW_REASONS),
            on=on,
        )
    if units:
        services.veto_record(
            actor=None,
            item=veto,
            org_unit=units[-1],
            found_on=on,
            reason="发生一起较大生产安全事故（演示数据）",
        )


def load_assessment_demo(*, seed: int = 1) -> dict[str, int]:
    city = OrgUnit.objects.filter(parent__isnull=True).order_by("code").first()
    if city is None or Scheme.objects.filter(org_unit=city).exists():
        return {}
    rng = random.Random(f"assessment-{seed}")
    today = timezone.localdate()
    last = build_city_scheme(city, today.year - 1)
    if services.publish_problems(last):
        return {"考核方案": 1}  # no targets in the demo: left as a draft
    last = services.scheme_publish(actor=None, scheme=last)
    _respond(last, rng, datetime.date(last.year, 11, 30))
    last = services.scheme_freeze(
        actor=None,
        scheme=last,
        day=datetime.date(last.year, 12, 31),
        appeal_until=today + datetime.timedelta(days=7),
    )
    sheet = compute_sheet(last, datetime.date(last.year, 12, 31))
    best = "、".join(u.unit.name for u in sheet.units[:3])
    worst = "、".join(u.unit.name for u in sheet.units[-2:])
    services.bulletin_update(
        actor=None,
        scheme=last,
        commendation=f"{best}等单位目标任务完成好，建会、集体协商和信息报送工作扎实，予以通报表扬。",
        criticism=f"{worst}等单位部分指标未达目标，信息报送存在迟报、漏报，予以通报批评，限期整改。",
    )
    services.scheme_publish_bulletin(actor=None, scheme=last)
    current = services.scheme_copy(actor=None, source=last, year=today.year)
    if not services.publish_problems(current):
        current = services.scheme_publish(actor=None, scheme=current)
        _respond(current, rng, today)
    return {"考核方案": 2, "责任状": Letter.objects.count()}


def extend_demo(*, seed: int, scale: str) -> dict[str, int]:
    """The hook `safetynet demo-data` calls after the registry is loaded (see core/demo.py)."""
    return load_assessment_demo(seed=seed)


__all__ = ["build_city_scheme", "extend_demo", "load_assessment_demo", "SchemeStatus"]
