"""Visit indicator (see core/metrics.py): 走访覆盖率 = enterprises visited this year (up to d) / eligible ones."""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef

from safetynet.core.metrics import ENTERPRISE, ChangeDays, Fact, Indicator, MetricsDeclaration
from safetynet.visits.models import Visit


def visited(day: datetime.date, enterprise_ref: str) -> Exists:
    """Some visit to the enterprise from 1 January of d's year up to d."""
    return Exists(
        Visit.objects.filter(
            enterprise_id=OuterRef(enterprise_ref),
            visited_on__gte=datetime.date(day.year, 1, 1),
            visited_on__lte=day,
        )
    )


DECLARATION = MetricsDeclaration(
    facts=[Fact("visited", ENTERPRISE, visited)],
    indicators=[
        Indicator(
            code="visit_rate",
            label="走访覆盖率",
            population=ENTERPRISE,
            numerator=("visited",),
            denominator=(),
            order=300,
            description="当年 1 月 1 日至当日有干部走访记录的应建会企业 / 应建会企业",
        )
    ],
    change_days=[ChangeDays(Visit, "enterprise_id", days=("visited_on",))],
)
