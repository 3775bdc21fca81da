"""The registry's facts and indicators (see core/metrics.py): 建会率."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import (
    BigIntegerField,
    Exists,
    Expression,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from safetynet.core.metrics import ENTERPRISE, Fact, Indicator, MetricsDeclaration, Population, boolean
from safetynet.orgs.models import (
    PUBLIC_OWNERSHIPS,
    Enterprise,
    EnterpriseHeadcount,
    EnterpriseLocation,
    UnionCoverage,
    active_on_q,
)


def covered(day: datetime.date, enterprise_ref: str) -> Exists:
    """covered(e,d): some union founded on or before d, not dissolved on or before d, covers e on d."""
    return Exists(
        UnionCoverage.objects.filter(enterprise_id=OuterRef(enterprise_ref))
        .filter(active_on_q(day))
        .filter(union__founded_on__lte=day)
        .filter(Q(union__dissolved_on__isnull=True) | Q(union__dissolved_on__gt=day))
    )


DECLARATION = MetricsDeclaration(
    facts=[
        Fact("covered", ENTERPRISE, covered),
        Fact("public", ENTERPRISE, lambda day, ref: boolean(Q(ownership__in=PUBLIC_OWNERSHIPS))),
        Fact("nonpublic", ENTERPRISE, lambda day, ref: boolean(~Q(ownership__in=PUBLIC_OWNERSHIPS))),
    ],
    indicators=[
        Indicator(
            code="union_rate",
            label="建会率",
            population=ENTERPRISE,
            numerator=("covered",),
            denominator=(),
            order=10,
            description="被工会覆盖的应建会企业 / 应建会企业（职工人数达到下限、在当日存续）",
        ),
    ],
)


def enterprise_population(day: datetime.date, hierarchy: str, unionised: QuerySet | None) -> QuerySet:
    """E(u,d): enterprises founded on or before d, not deregistered on or before d, whose headcount in force
    on d is at least ELIGIBLE_MIN_HEADCOUNT, each with the org unit it belonged to on d."""
    headcount_on_day = (
        EnterpriseHeadcount.objects.filter(enterprise_id=OuterRef("pk"))
        .filter(active_on_q(day))
        .values("headcount")[:1]
    )
    queryset = (
        Enterprise.objects.filter(founded_on__lte=day)
        .filter(Q(deregistered_on__isnull=True) | Q(deregistered_on__gt=day))
        .annotate(
            headcount_on_day=Coalesce(Subquery(headcount_on_day), F("headcount"), output_field=IntegerField())
        )
        .filter(headcount_on_day__gte=settings.ELIGIBLE_MIN_HEADCOUNT)
    )
    return queryset.annotate(
        unit_id=unit_on_day(day, hierarchy, enterprise_ref="pk", current_unit="org_unit_id")
    )


def unit_on_day(day: datetime.date, hierarchy: str, *, enterprise_ref: str, current_unit: str) -> Expression:
    """The org unit an enterprise belonged to on ``day`` (its dated location), or today's when asked for."""
    if hierarchy == "today":
        return F(current_unit)
    located = (
        EnterpriseLocation.objects.filter(enterprise_id=OuterRef(enterprise_ref))
        .filter(active_on_q(day))
        .values("org_unit_id")[:1]
    )
    return Coalesce(Subquery(located), F(current_unit), output_field=BigIntegerField())


POPULATION = Population(ENTERPRISE, enterprise_population, enterprise_ref="pk", enterprise_prefix="")
DECLARATION.populations.append(POPULATION)
