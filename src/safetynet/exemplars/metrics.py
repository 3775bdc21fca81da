"""Exemplar indicators (see core/metrics.py).

- 劳动竞赛参与率: eligible enterprises taking part in a competition running in d's year (up to d) / eligible.
- 职工参赛率: the workers those enterprises entered (added over their entries, at most each enterprise's
  headcount) / the headcount of the eligible enterprises — a rate of quantities (``numerator_sum``).
- Counts per unit for the dashboard, as populations of their own: honours held (劳动模范, 五一劳动奖章; the
  numerator counts those of national or provincial level), 劳模创新工作室 founded by d (numerator: with a
  patent), 工人先锋号 teams named by d's year (numerator: national or provincial). Each record counts at the
  unit it belongs to (its enterprise's unit when recorded).
"""

from __future__ import annotations

import datetime

from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Least

from safetynet.core.metrics import (
    ENTERPRISE,
    ChangeDays,
    Fact,
    Indicator,
    MetricsDeclaration,
    Population,
    boolean,
)
from safetynet.exemplars.models import CompetitionEntry, Honour, HonourLevel, PioneerTeam, Studio
from safetynet.orgs.metrics import headcount_in_force

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


def competition_workers(day: datetime.date, enterprise_ref: str) -> Least:
    """The enterprise's workers entered in competitions running in d's year (up to d): the entries' workers
    added, never more than its headcount in force on d (a worker may be entered in two competitions)."""
    entered = (
        CompetitionEntry.objects.filter(
            enterprise_id=OuterRef(enterprise_ref),
            competition__starts_on__lte=day,
            competition__ends_on__gte=datetime.date(day.year, 1, 1),
        )
        .order_by()
        .values("enterprise_id")
        .annotate(total=Sum("workers"))
        .values("total")
    )
    return Least(
        Coalesce(Subquery(entered, output_field=IntegerField()), Value(0)),
        headcount_in_force(day, enterprise_ref),
        output_field=IntegerField(),
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
        Fact("competition_workers", ENTERPRISE, competition_workers),
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
            code="competition_worker_rate",
            label="职工参赛率",
            population=ENTERPRISE,
            numerator=(),
            denominator=(),
            numerator_sum="competition_workers",
            denominator_sum="headcount",
            order=315,
            description=(
                "应建会企业当年参加劳动和技能竞赛（开始日期 ≤ d，当年仍在进行）的职工人数之和"
                "（每家企业不超过其职工人数）/ 应建会企业职工人数之和"
            ),
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
    # The competitions' ends count by year (1 January is a change day anyway).
    change_days=[ChangeDays(CompetitionEntry, "enterprise_id", days=("competition__starts_on",))],
)
