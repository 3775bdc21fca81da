"""Demo model workers, 工人先锋号, studios and competitions (found by `safetynet demo-data`)."""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone

from safetynet.core.models import AuditAction
from safetynet.core.services import audit_record
from safetynet.exemplars.models import (
    Competition,
    CompetitionEntry,
    CompetitionKind,
    Honour,
    HonourKind,
    HonourLevel,
    OrganiserLevel,
    PioneerTeam,
    Studio,
)
from safetynet.members.models import Employment
from safetynet.orgs.models import Enterprise, OrgLevel, OrgUnit

SIZES = {
    "small": (80, 40, 20, 3, 150),
    "city": (4000, 2000, 800, 12, 15000),
    "city3": (12000, 6000, 2400, 36, 45000),
}
LEVELS = [HonourLevel.CITY] * 6 + [HonourLevel.PROVINCIAL] * 3 + [HonourLevel.NATIONAL]


def _sample_employments(rng: random.Random, n: int) -> list[tuple[int, int, int, int]]:
    first = Employment.objects.order_by("pk").values_list("pk", flat=True).first()
    last = Employment.objects.order_by("-pk").values_list("pk", flat=True).first()
    if first is None:
        return []
    ids = {rng.randint(first, last) for _ in range(n * 2)}
    return list(
        Employment.objects.filter(pk__in=ids).values_list(
            "person_id", "enterprise_id", "enterprise__org_unit_id", "pk"
        )[:n]
    )


def extend_demo(*, seed: int, scale: str) -> dict[str, int]:
    if Honour.objects.exists() or Competition.objects.exists():
        return {}
    rng = random.Random(f"exemplars-{seed}")
    honours_n, teams_n, studios_n, competitions_n, entries_n = SIZES.get(scale, SIZES["small"])
    this_year = timezone.localdate().year
    people = _sample_employments(rng, honours_n + studios_n)
    if not people:
        return {}
    honours, seen = [], set()
    for person, enterprise, unit, _ in people[:honours_n]:
        kind, level, year = (
            rng.choice(HonourKind.values),
            rng.choice(LEVELS),
            rng.randint(this_year - 8, this_year - 1),
        )
        if (person, kind, level, year) in seen:
            continue
        seen.add((person, kind, level, year))
        honours.append(
            Honour(
                person_id=person,
                kind=kind,
                level=level,
                year=year,
                enterprise_id=enterprise,
                org_unit_id=unit,
            )
        )
    studios = [
        Studio(
            name=f"劳模创新工作室{i + 1:04d}",
            leader_id=person,
            enterprise_id=enterprise,
            org_unit_id=unit,
            level=rng.choice(LEVELS),
            founded_on=datetime.date(rng.randint(this_year - 6, this_year - 1), rng.randint(1, 12), 1),
            members_count=rng.randint(3, 30),
            patents=rng.choice((0, 0, 1, 2, 5)),
            savings=rng.randint(0, 5000) / 10,
        )
        for i, (person, enterprise, unit, _) in enumerate(people[honours_n:])
    ]
    enterprises = list(
        Enterprise.objects.order_by("pk").values_list("pk", "org_unit_id", "founded_on")[
            : max(teams_n, entries_n) * 3
        ]
    )
    rng.shuffle(enterprises)
    teams = [
        PioneerTeam(
            name=rng.choice(("装配", "维修", "检验", "焊接", "调度")) + f"{i % 9 + 1}班",
            enterprise_id=pk,
            org_unit_id=unit,
            level=rng.choice(LEVELS),
            year=rng.randint(this_year - 5, this_year - 1),
            members_count=rng.randint(5, 40),
        )
        for i, (pk, unit, _) in enumerate(enterprises[:teams_n])
    ]
    city = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    districts = list(OrgUnit.objects.filter(level=OrgLevel.DISTRICT).order_by("code"))
    with transaction.atomic():
        Honour.objects.bulk_create(honours, batch_size=5000)
        Studio.objects.bulk_create(studios, batch_size=5000)
        PioneerTeam.objects.bulk_create(teams, batch_size=5000)
        competitions = []
        for i in range(competitions_n):
            unit = city if i % 3 == 0 or not districts else districts[i % len(districts)]
            year = this_year - (i % 2)
            competitions.append(
                Competition.objects.create(
                    name=f"{year}年{'全市' if unit == city else unit.name}{'职工技能大赛' if i % 2 else '劳动竞赛'}",
                    kind=CompetitionKind.SKILL if i % 2 else CompetitionKind.LABOUR,
                    organiser_level=OrganiserLevel.CITY if unit == city else OrganiserLevel.DISTRICT,
                    org_unit=unit,
                    starts_on=datetime.date(year, 3, 1),
                    ends_on=datetime.date(year, 10, 31),
                )
            )
        entries, seen_entries = [], set()
        for pk, _unit, founded_on in enterprises[:entries_n]:
            competition = rng.choice(competitions)
            if founded_on > competition.ends_on or (competition.pk, pk) in seen_entries:
                continue
            seen_entries.add((competition.pk, pk))
            entries.append(
                CompetitionEntry(
                    competition=competition,
                    enterprise_id=pk,
                    workers=rng.randint(2, 60),
                    award=rng.choice(("", "", "", "优胜奖", "三等奖", "二等奖", "一等奖")),
                )
            )
        CompetitionEntry.objects.bulk_create(entries, batch_size=5000)
        if city is not None:
            audit_record(
                actor=None,
                action=AuditAction.IMPORT,
                instance=city,
                changes={
                    "劳模及奖章": [None, len(honours)],
                    "工作室": [None, len(studios)],
                    "工人先锋号": [None, len(teams)],
                    "参赛企业": [None, len(entries)],
                },
                unit_path=city.path,
                note=f"载入演示数据（规模 {scale}，种子 {seed}）",
            )
    return {
        "honours": len(honours),
        "studios": len(studios),
        "pioneer_teams": len(teams),
        "competition_entries": len(entries),
    }
