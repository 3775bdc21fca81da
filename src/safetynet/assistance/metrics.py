"""Assistance indicators (see core/metrics.py), exact as of any day d from dated facts.

Population "hardship_file": files opened on or before d, at their filing unit (today's hierarchy). A file is
active in d's year when it was open on some day from 1 January up to d: opened_on <= d and (closed_on empty or
closed_on > 1 January). Facts: open on d ([opened_on, closed_on) contains d), opened in d's year, closed (脱困)
in d's year on or before d.

Population "assistance_application": applications of the rounds of d's year submitted on or before d, at the
applying unit. Fact "helped": a payment for it was paid on or before d and not reversed on or before d.

``assistance_budget_used_rate`` (paid ÷ budget, money) is not a count: the engine (core.metrics) sums 1 per
row, so it cannot be declared here until an Indicator can name a weight column. Until then its exact figures
come from ``selectors.budget_used(unit, day)``; see NOTES.md.
"""

from __future__ import annotations

import datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from safetynet.assistance.models import Application, HardshipFile, Payment, PaymentKind, open_on_q
from safetynet.core.metrics import Fact, Indicator, MetricsDeclaration, Population, boolean

HARDSHIP_FILE = "hardship_file"
APPLICATION = "assistance_application"


def _year_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, 1, 1)


def file_population(day: datetime.date, hierarchy: str, unionised: QuerySet | None) -> QuerySet:
    return (
        HardshipFile.objects.filter(opened_on__lte=day)
        .filter(Q(closed_on__isnull=True) | Q(closed_on__gt=_year_start(day)))
        .order_by()
        .annotate(indicator_unit=F("org_unit_id"))
    )


def file_open(day: datetime.date, enterprise_ref: str):
    return boolean(open_on_q(day))


def file_opened(day: datetime.date, enterprise_ref: str):
    return boolean(Q(opened_on__gte=_year_start(day)))


def file_closed(day: datetime.date, enterprise_ref: str):
    return boolean(Q(closed_on__isnull=False, closed_on__lte=day))


def application_population(day: datetime.date, hierarchy: str, unionised: QuerySet | None) -> QuerySet:
    return (
        Application.objects.filter(round__year=day.year, submitted_on__lte=day)
        .order_by()
        .annotate(indicator_unit=F("org_unit_id"))
    )


def helped(day: datetime.date, enterprise_ref: str):
    paid = Payment.objects.filter(
        application=OuterRef("pk"), kind=PaymentKind.PAYMENT, paid_on__isnull=False, paid_on__lte=day
    ).exclude(Exists(Payment.objects.filter(reverses=OuterRef("pk"), paid_on__lte=day)))
    return boolean(Q(Exists(paid)))


def always(day: datetime.date, enterprise_ref: str):
    return boolean(Q(pk__isnull=False))


# Breakdowns (ownership, size, industry) group by the enterprise where the worker is employed; a file or an
# application has no enterprise of its own, so the prefix reaches the person's employments.
_PREFIX = "person__employments__enterprise__"

DECLARATION = MetricsDeclaration(
    populations=[
        Population(HARDSHIP_FILE, file_population, enterprise_ref="pk", enterprise_prefix=_PREFIX),
        Population(APPLICATION, application_population, enterprise_ref="pk", enterprise_prefix=_PREFIX),
    ],
    facts=[
        Fact("file_active", HARDSHIP_FILE, always),
        Fact("file_open", HARDSHIP_FILE, file_open),
        Fact("file_opened", HARDSHIP_FILE, file_opened),
        Fact("file_closed", HARDSHIP_FILE, file_closed),
        Fact("application_any", APPLICATION, always),
        Fact("helped", APPLICATION, helped),
    ],
    indicators=[
        Indicator(
            code="assistance_files_open",
            label="困难职工在档率",
            population=HARDSHIP_FILE,
            numerator=("file_active", "file_open"),
            denominator=("file_active",),
            order=600,
            description="当年内曾在档的困难职工档案中，当日仍在档的比例（分子为当日在档档案数）",
        ),
        Indicator(
            code="assistance_files_opened",
            label="当年新建档占比",
            population=HARDSHIP_FILE,
            numerator=("file_active", "file_opened"),
            denominator=("file_active",),
            order=610,
            description="当年内曾在档的困难职工档案中，当年新建档的比例（分子为当年新建档案数）",
        ),
        Indicator(
            code="assistance_files_closed",
            label="脱困率",
            population=HARDSHIP_FILE,
            numerator=("file_active", "file_closed"),
            denominator=("file_active",),
            order=620,
            description="当年内曾在档的困难职工档案中，当年截至当日已脱困销档的比例（分子为脱困人数）",
        ),
        Indicator(
            code="assistance_people_helped",
            label="帮扶发放率",
            population=APPLICATION,
            numerator=("application_any", "helped"),
            denominator=("application_any",),
            order=630,
            description="当年各帮扶批次的申请中，截至当日已发放（未冲正）的比例（分子为受助人数）",
        ),
    ],
)
