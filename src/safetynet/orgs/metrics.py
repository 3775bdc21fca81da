"""The registry's facts and indicators (see core/metrics.py): 建会率."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
)

from safetynet.core.metrics import (
    ENTERPRISE,
    ChangeDays,
    Fact,
    Indicator,
    MetricsDeclaration,
    Population,
    boolean,
)
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


def headcount_in_force(day: datetime.date | None = None, enterprise_ref: str = "pk") -> F:
    """The enterprise's headcount in force on d, as a quantity of E(u,d)'s row: the population joins that
    one dated headcount row (see ``enterprise_population``), so this reads the joined column."""
    return F("headcounts__headcount")


DECLARATION = MetricsDeclaration(
    facts=[
        Fact("covered", ENTERPRISE, covered),
        Fact("headcount", ENTERPRISE, headcount_in_force),
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
    change_days=[
        ChangeDays(Enterprise, "pk", days=("founded_on", "deregistered_on")),
        ChangeDays(EnterpriseHeadcount, "enterprise_id", days=("valid_from", "valid_to")),
        ChangeDays(EnterpriseLocation, "enterprise_id", days=("valid_from", "valid_to")),
        ChangeDays(
            UnionCoverage,
            "enterprise_id",
            days=("valid_from", "valid_to", "union__founded_on", "union__dissolved_on"),
        ),
    ],
)


def enterprise_population(day: datetime.date, hierarchy: str, unionised: QuerySet | None) -> QuerySet:
    """E(u,d): enterprises founded on or before d, not deregistered on or before d, whose headcount in force
    on d is at least ELIGIBLE_MIN_HEADCOUNT, each with the org unit it belonged to on d.

    The dated headcount and location rows are joined, not looked up per enterprise: their periods never
    overlap (the services close one before opening the next), so each enterprise meets one row of each.
    """
    queryset = (
        Enterprise.objects.filter(founded_on__lte=day)
        .filter(Q(deregistered_on__isnull=True) | Q(deregistered_on__gt=day))
        .filter(active_on_q(day, "headcounts__"), headcounts__headcount__gte=settings.ELIGIBLE_MIN_HEADCOUNT)
        .order_by()
    )
    if hierarchy == "today":
        return queryset.annotate(indicator_unit=F("org_unit_id"))
    return queryset.filter(active_on_q(day, "locations__")).annotate(
        indicator_unit=F("locations__org_unit_id")
    )


POPULATION = Population(ENTERPRISE, enterprise_population, enterprise_ref="pk", enterprise_prefix="")
DECLARATION.populations.append(POPULATION)
