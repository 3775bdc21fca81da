"""Membership indicators (see core/metrics.py): 入会率, for migrant and for dispatched workers too.

The population is the employments active on d at enterprises in U(u,d) (eligible, covered); an employment
counts as a member when its person holds any membership active on d. The engine counts them through the
employment spans (members/spans.py): each employment active on d has exactly one span active on d, and the
span says whether the person was a member then, so no membership is looked up per employment.
"""

from __future__ import annotations

import datetime

from django.db.models import F, Q, QuerySet

from safetynet.core.metrics import (
    EMPLOYMENT,
    ChangeDays,
    Fact,
    Indicator,
    MetricsDeclaration,
    Population,
    boolean,
)
from safetynet.members.models import Employment, EmploymentSpan
from safetynet.orgs.models import active_on_q


def spans_between(first: datetime.date, last: datetime.date) -> QuerySet:
    """The spans active on some day from ``first`` to ``last`` (for a trend over those days)."""
    return (
        EmploymentSpan.objects.filter(valid_from__lte=last)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=first))
        .order_by()
    )


def spans_on(day: datetime.date) -> QuerySet:
    return spans_between(day, day)


def employment_population(day: datetime.date, hierarchy: str, unionised: QuerySet | None) -> QuerySet:
    queryset = spans_on(day)
    if unionised is not None:
        queryset = queryset.filter(enterprise_id__in=unionised)
    if hierarchy == "today":
        return queryset.annotate(indicator_unit=F("enterprise__org_unit_id"))
    # One location row of the enterprise is active on the day (periods never overlap): a join, not a lookup.
    return queryset.filter(active_on_q(day, "enterprise__locations__")).annotate(
        indicator_unit=F("enterprise__locations__org_unit_id")
    )


def employment_records(spans: QuerySet) -> QuerySet:
    """The employments behind the spans (one span per employment on any one day)."""
    return Employment.objects.filter(pk__in=spans.values("employment_id"))


DECLARATION = MetricsDeclaration(
    populations=[
        Population(
            EMPLOYMENT,
            employment_population,
            enterprise_ref="enterprise_id",
            enterprise_prefix="enterprise__",
            per_enterprise=spans_on,
            interval=("valid_from", "valid_to"),
            per_enterprise_between=spans_between,
            records=employment_records,
        )
    ],
    facts=[
        Fact("member", EMPLOYMENT, lambda day, ref: boolean(Q(member=True))),
        Fact("migrant", EMPLOYMENT, lambda day, ref: boolean(Q(migrant=True))),
        Fact("dispatched", EMPLOYMENT, lambda day, ref: boolean(Q(dispatched=True))),
    ],
    indicators=[
        Indicator(
            code="membership_rate",
            label="入会率",
            population=EMPLOYMENT,
            numerator=("member",),
            denominator=(),
            order=20,
            description="已建会企业在岗职工中当日是工会会员的比例",
        ),
        Indicator(
            code="migrant_membership_rate",
            label="农民工入会率",
            population=EMPLOYMENT,
            numerator=("migrant", "member"),
            denominator=("migrant",),
            order=30,
            description="已建会企业农村户籍在岗职工中当日是工会会员的比例",
        ),
        Indicator(
            code="dispatched_membership_rate",
            label="劳务派遣工入会率",
            population=EMPLOYMENT,
            numerator=("dispatched", "member"),
            denominator=("dispatched",),
            order=40,
            description="已建会企业劳务派遣在岗职工中当日是工会会员的比例",
        ),
    ],
    # The spans carry their own days (the counters cut them to the enterprise's runs); a written span only
    # names the enterprise whose employment counters to bring up to date.
    change_days=[ChangeDays(EmploymentSpan, "enterprise_id")],
)
