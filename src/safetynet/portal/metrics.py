"""Indicators of the workers' platform (see core/metrics.py).

- "portal_account": worker accounts registered by the end of day d, at the unit of the enterprise the worker
  was employed at when verified (an account not yet verified has no unit and counts only city-wide through
  :func:`safetynet.portal.selectors.platform_figures`). Fact: verified by d.
- "portal_join": join applications filed from 1 January of d's year to the end of d, at their union's unit.
  Facts: decided by d, decided within 5 days, approved.
- The cases' own population ("case", cases/metrics.py) gets two facts: filed on the platform (channel 网络工会), and
  every case — so the share of appeals that came from the platform is an indicator of each unit.
"""

from __future__ import annotations

import datetime

from django.db.models import ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from safetynet.cases.models import Channel
from safetynet.core.metrics import Fact, Indicator, MetricsDeclaration, Population, boolean
from safetynet.portal.models import JoinApplication, JoinStatus, WorkerAccount

ACCOUNT = "portal_account"
JOIN = "portal_join"
CASE = "case"
DECISION_DAYS = 5


def end_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time()))


def account_population(day: datetime.date, hierarchy: str, unionised: QuerySet | None) -> QuerySet:
    return (
        WorkerAccount.objects.filter(created_at__lt=end_of(day), org_unit__isnull=False)
        .order_by()
        .annotate(indicator_unit=F("org_unit_id"))
    )


def join_population(day: datetime.date, hierarchy: str, unionised: QuerySet | None) -> QuerySet:
    start = timezone.make_aware(datetime.datetime(day.year, 1, 1))
    return (
        JoinApplication.objects.filter(created_at__gte=start, created_at__lt=end_of(day))
        .order_by()
        .annotate(indicator_unit=F("union__org_unit_id"))
    )


def verified(day: datetime.date, enterprise_ref: str) -> ExpressionWrapper:
    return boolean(Q(verified_at__lt=end_of(day)))


def decided(day: datetime.date, enterprise_ref: str) -> ExpressionWrapper:
    return boolean(Q(decided_at__lt=end_of(day)) & Q(status__in=(JoinStatus.APPROVED, JoinStatus.REJECTED)))


def decided_in_time(day: datetime.date, enterprise_ref: str) -> ExpressionWrapper:
    return boolean(
        Q(decided_at__lt=end_of(day))
        & Q(status__in=(JoinStatus.APPROVED, JoinStatus.REJECTED))
        & Q(decided_at__lte=F("created_at") + datetime.timedelta(days=DECISION_DAYS))
    )


def approved(day: datetime.date, enterprise_ref: str) -> ExpressionWrapper:
    return boolean(Q(status=JoinStatus.APPROVED, decided_at__lt=end_of(day)))


def from_platform(day: datetime.date, enterprise_ref: str) -> ExpressionWrapper:
    return boolean(Q(channel=Channel.PLATFORM))


def any_case(day: datetime.date, enterprise_ref: str) -> ExpressionWrapper:
    return boolean(Q(pk__isnull=False))


DECLARATION = MetricsDeclaration(
    populations=[
        Population(
            ACCOUNT, account_population, enterprise_ref="enterprise_id", enterprise_prefix="enterprise__"
        ),
        Population(JOIN, join_population, enterprise_ref="enterprise_id", enterprise_prefix="enterprise__"),
    ],
    facts=[
        Fact("portal_registered", ACCOUNT, lambda day, ref: boolean(Q(pk__isnull=False))),
        Fact("portal_verified", ACCOUNT, verified),
        Fact("portal_filed", JOIN, lambda day, ref: boolean(Q(pk__isnull=False))),
        Fact("portal_decided", JOIN, decided),
        Fact("portal_decided_in_time", JOIN, decided_in_time),
        Fact("portal_approved", JOIN, approved),
        Fact("portal_from_platform", CASE, from_platform),
        Fact("portal_any_case", CASE, any_case),
    ],
    indicators=[
        Indicator(
            code="portal_verified_rate",
            label="网络工会实名认证率",
            population=ACCOUNT,
            numerator=("portal_registered", "portal_verified"),
            denominator=("portal_registered",),
            order=700,
            description="截至当日注册的职工账号中已完成实名认证的比例（分母即注册职工数）",
        ),
        Indicator(
            code="portal_join_decided_rate",
            label="网上入会申请审批率",
            population=JOIN,
            numerator=("portal_filed", "portal_decided"),
            denominator=("portal_filed",),
            order=710,
            description="当年网上入会申请中截至当日已审批（批准或不批准）的比例（分母即申请数）",
        ),
        Indicator(
            code="portal_join_on_time_rate",
            label="入会申请按期审批率",
            population=JOIN,
            numerator=("portal_decided", "portal_decided_in_time"),
            denominator=("portal_decided",),
            order=720,
            description=f"当年已审批的网上入会申请中在 {DECISION_DAYS} 日内审批的比例",
        ),
        Indicator(
            code="portal_join_approved_rate",
            label="入会申请批准率",
            population=JOIN,
            numerator=("portal_decided", "portal_approved"),
            denominator=("portal_decided",),
            order=730,
            description="当年已审批的网上入会申请中批准的比例",
        ),
        Indicator(
            code="portal_appeal_share",
            label="网络工会诉求占比",
            population=CASE,
            numerator=("portal_any_case", "portal_from_platform"),
            denominator=("portal_any_case",),
            order=740,
            description="当年登记的诉求中由职工在网络工会提交的比例（分子即网上诉求数）",
        ),
    ],
)
