"""The exemplars part of the scope walk: a 中山区 honour, team, studio and competition with an entry."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Model

from safetynet.exemplars.models import Competition, CompetitionEntry, Honour, PioneerTeam, Studio
from safetynet.members.services import person_register


def scope_walk_records(enterprise: Any) -> tuple[dict[type[Model], Model], list[str]]:
    person = person_register(
        actor=None,
        name="中山劳模甲",
        id_number="210202198001010016",
        enterprise=enterprise,
        employed_from=datetime.date(2010, 1, 1),
    ).person
    honour = Honour.objects.create(
        person=person,
        kind="labour_model",
        level="city",
        year=2012,
        enterprise=enterprise,
        org_unit=enterprise.org_unit,
        title="中山走查劳模称号",
    )
    team = PioneerTeam.objects.create(
        name="中山走查先锋班组", enterprise=enterprise, org_unit=enterprise.org_unit, level="city", year=2012
    )
    studio = Studio.objects.create(
        name="中山走查创新工作室",
        leader=person,
        enterprise=enterprise,
        org_unit=enterprise.org_unit,
        founded_on=datetime.date(2012, 3, 1),
    )
    competition = Competition.objects.create(
        name="中山走查技能竞赛",
        kind="skill",
        organiser_level="district",
        org_unit=enterprise.org_unit.parent,
        starts_on=datetime.date(2012, 4, 1),
        ends_on=datetime.date(2012, 10, 1),
    )
    entry = CompetitionEntry.objects.create(
        competition=competition, enterprise=enterprise, workers=5, award="中山走查一等奖"
    )
    return (
        {
            Honour: honour,
            PioneerTeam: team,
            Studio: studio,
            Competition: competition,
            CompetitionEntry: entry,
        },
        [
            "中山劳模甲",
            "中山走查劳模称号",
            "中山走查先锋班组",
            "中山走查创新工作室",
            "中山走查技能竞赛",
            "中山走查一等奖",
        ],
    )
