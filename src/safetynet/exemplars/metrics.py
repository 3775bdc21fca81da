"""Exemplar indicators (see core/metrics.py).

- 劳动竞赛参与率: eligible enterprises taking part in a competition running in d's year (up to d) / eligible.
- Counts per unit for the dashboard, as populations of their own: honours held (劳动模范, 五一劳动奖章; the
  numerator counts those of national or provincial level), 劳模创新工作室 founded by d (numerator: with a
  patent), 工人先锋号 teams named by d's year (numerator: national or provincial). Each record counts at the
  unit it belongs to (its enterprise's unit when recorded).
"""

from __future__ import annotations

import datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from safetynet.core.metrics import ENTERPRISE, Fact, Indicator, MetricsDeclaration, Population, boolean
from safetynet.exemplars.models import CompetitionEntry, Honour, HonourLevel, PioneerTeam, Studio

HONOUR = "honour"
STUDIO = "studio"
TEAM = "pioneer_team"
HIGH_LEVELS = (HonourLevel.NATIONAL, HonourLevel.PROVINCIAL)


def in_competition(day: datetime.date, enterprise_ref: str) -> Exists:
    return Exists(
        CompetitionEntry.objects.filter(
            enterprise_id=OuterRef(enterprise_ref),
            competition__starts_on__lte=day,
            competition__ends_on__gte=datetime.date(day.year, 1, 1),
        )
    )


def honour_population(day: datetime.date, hierarchy: str, unionised: QuerySet | None) -> QuerySet:
    return Honour.objects.filter(year__lte=day.year).order_by().annotate(indicator_unit=F("org_unit_id"))


def studio_population(day: datetime.date, hierarchy: str, unionised: QuerySet | None) -> QuerySet:
    return Studio.objects.filter(founded_on__lte=day).order_by().annotate(indicator_unit=F("org_unit_id"))


def team_population(day: datetime.date, hierarchy: str, unionised: QuerySet | None) -> QuerySet:
    return PioneerTeam.objects.filter(year__lte=day.year).order_by().annotate(indicator_unit=F("org_unit_id"))


def high_level(day: datetime.date, enterprise_ref: str):
    return boolean(Q(level__in=HIGH_LEVELS))


DECLARATION = MetricsDeclaration(
    populations=[
        Population(
            HONOUR, honour_population, enterprise_ref="enterprise_id", enterprise_prefix="enterprise__"
        ),
        Population(
            STUDIO, studio_population, enterprise_ref="enterprise_id", enterprise_prefix="enterprise__"
        ),
        Population(TEAM, team_population, enterprise_ref="enterprise_id", enterprise_prefix="enterprise__"),
    ],
    facts=[
        Fact("in_competition", ENTERPRISE, in_competition),
        Fact("honour_high_level", HONOUR, high_level),
        Fact("studio_with_patent", STUDIO, lambda day, ref: boolean(Q(patents__gt=0))),
        Fact("team_high_level", TEAM, high_level),
    ],
    indicators=[
        Indicator(
            code="competition_rate",
            label="劳动竞赛参与率",
            population=ENTERPRISE,
            numerator=("in_competition",),
            denominator=(),
            order=310,
            description="当年有企业参加的劳动和技能竞赛（开始日期 ≤ d，当年仍在进行）的应建会企业 / 应建会企业",
        ),
        Indicator(
            code="honour_count",
            label="劳模及五一奖章获得者（分子：全国和省级）",
            population=HONOUR,
            numerator=("honour_high_level",),
            denominator=(),
            order=320,
            description="截至当年获得劳动模范、五一劳动奖章的人次（分母）及其中全国和省级的人次（分子）",
        ),
        Indicator(
            code="studio_count",
            label="劳模创新工作室（分子：有专利的）",
            population=STUDIO,
            numerator=("studio_with_patent",),
            denominator=(),
            order=330,
            description="截至当日成立的劳模创新工作室数（分母）及其中取得专利的（分子）",
        ),
        Indicator(
            code="pioneer_team_count",
            label="工人先锋号（分子：全国和省级）",
            population=TEAM,
            numerator=("team_high_level",),
            denominator=(),
            order=340,
            description="截至当年命名的工人先锋号班组数（分母）及其中全国和省级的（分子）",
        ),
    ],
)
