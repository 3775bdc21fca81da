"""Harmony indicator (see core/metrics.py): 和谐企业命名率 = eligible enterprises with an approved 和谐企业
designation in force in d's year / eligible enterprises."""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef

from safetynet.core.metrics import ENTERPRISE, ChangeDays, Fact, Indicator, MetricsDeclaration
from safetynet.harmony.models import Designation, DesignationStatus


def harmonious(day: datetime.date, enterprise_ref: str) -> Exists:
    return Exists(
        Designation.objects.filter(
            enterprise_id=OuterRef(enterprise_ref),
            status=DesignationStatus.APPROVED,
            valid_from_year__lte=day.year,
            valid_to_year__gte=day.year,
        )
    )


DECLARATION = MetricsDeclaration(
    facts=[Fact("harmonious", ENTERPRISE, harmonious)],
    indicators=[
        Indicator(
            code="harmonious_rate",
            label="和谐企业命名率",
            population=ENTERPRISE,
            numerator=("harmonious",),
            denominator=(),
            order=290,
            description="当年在有效期内的（经区总工会批准的）和谐企业 / 应建会企业",
        )
    ],
    # Designations run by whole years: 1 January is a change day anyway.
    change_days=[ChangeDays(Designation, "enterprise_id")],
)
