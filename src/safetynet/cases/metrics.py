"""Case indicators (see core/metrics.py): 调处率, 调处成功率, 按期办结率.

Population "case": the cases registered from 1 January of d's year up to the end of day d (local time),
merged ones left out (their collective case counts), each at the unit where it started (its origin unit:
the enterprise's unit), so a case counts for its community, street and district however high it went.
Facts are read from the cases as they stand now (a reopened case counts as open again): the engine asks
for past days too, and for those the figures are today's knowledge of that year's cases.
"""

from __future__ import annotations

import datetime

from django.db.models import ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from safetynet.cases.models import Case, CaseStatus, OutcomeKind
from safetynet.core.metrics import Fact, Indicator, MetricsDeclaration, Population, boolean

CASE = "case"


def _end_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time()))


def case_population(day: datetime.date, hierarchy: str, unionised: QuerySet | None) -> QuerySet:
    start = timezone.make_aware(datetime.datetime(day.year, 1, 1))
    return (
        Case.objects.filter(received_at__gte=start, received_at__lt=_end_of(day))
        .exclude(status=CaseStatus.MERGED)
        .order_by()
        .annotate(indicator_unit=F("origin_unit_id"))
    )


def due(day: datetime.date, enterprise_ref: str) -> ExpressionWrapper:
    """Its time ran out on or before d, or it was closed by then."""
    end = _end_of(day)
    return boolean(Q(deadline__lt=end) | Q(closed_at__lt=end))


def closed(day: datetime.date, enterprise_ref: str) -> ExpressionWrapper:
    return boolean(Q(status=CaseStatus.CLOSED, closed_at__lt=_end_of(day)) & ~Q(outcome_kind=""))


def mediated(day: datetime.date, enterprise_ref: str) -> ExpressionWrapper:
    return boolean(Q(outcome_kind=OutcomeKind.MEDIATED))


def on_time(day: datetime.date, enterprise_ref: str) -> ExpressionWrapper:
    return boolean(Q(closed_on_time=True))


DECLARATION = MetricsDeclaration(
    populations=[
        Population(CASE, case_population, enterprise_ref="enterprise_id", enterprise_prefix="enterprise__")
    ],
    facts=[
        Fact("due", CASE, due),
        Fact("closed", CASE, closed),
        Fact("mediated", CASE, mediated),
        Fact("on_time", CASE, on_time),
    ],
    indicators=[
        Indicator(
            code="case_handling_rate",
            label="调处率",
            population=CASE,
            numerator=("due", "closed"),
            denominator=("due",),
            order=200,
            description="当年登记、到期（或已办结）的案件中已办结（有办理结果）的比例",
        ),
        Indicator(
            code="case_success_rate",
            label="调处成功率",
            population=CASE,
            numerator=("closed", "mediated"),
            denominator=("closed",),
            order=210,
            description="当年已办结案件中调解成功的比例",
        ),
        Indicator(
            code="case_on_time_rate",
            label="按期办结率",
            population=CASE,
            numerator=("closed", "on_time"),
            denominator=("closed",),
            order=220,
            description="当年已办结案件中在当时层级期限内办结的比例",
        ),
    ],
)
