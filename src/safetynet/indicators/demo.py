"""The demo city's targets: the source documents' figures for 2012 on, set by the city for itself and
decomposed to every district (the 责任状), so the dashboard shows met / behind / far behind.

The seeds give targets for 2012, a raised non-public congress and openness target from 2013 and a raised
wage-bargaining target for 2015; each later year carries the latest one on, up to the current year, so the
dashboard a leader opens today has targets too. Districts get the city's figure: weighted by their
denominators their targets then add up to the city's exactly (no decomposition gap).
"""

from __future__ import annotations

from django.utils import timezone

from safetynet.indicators.counters import counters_rebuild
from safetynet.indicators.services import target_set
from safetynet.orgs.models import OrgUnit

FIRST_YEAR = 2012

# indicator → [(from year, target)], from ../shared/DOMAIN.md §4 (the seeds' numbers).
SEED_TARGETS: dict[str, list[tuple[int, str]]] = {
    "union_rate": [(2012, "0.90")],
    "membership_rate": [(2012, "0.97")],
    "migrant_membership_rate": [(2012, "0.97")],
    "dispatched_membership_rate": [(2012, "0.97")],
    "wage_bargaining_rate": [(2012, "0.80"), (2015, "0.95")],
    "congress_rate_public": [(2012, "0.96")],
    "congress_rate_nonpublic": [(2012, "0.82"), (2013, "0.85")],
    "openness_rate_public": [(2012, "0.96")],
    "openness_rate_nonpublic": [(2012, "0.82"), (2013, "0.85")],
    "case_handling_rate": [(2012, "1.00")],
    "case_success_rate": [(2012, "0.85")],
}


def target_for(indicator: str, year: int) -> str | None:
    """The seeds' target in force for that year (the latest one set on or before it)."""
    value = None
    for since, target in SEED_TARGETS[indicator]:
        if since <= year:
            value = target
    return value


def load_targets_demo(*, last_year: int | None = None) -> int:
    last_year = last_year or timezone.localdate().year
    city = OrgUnit.objects.filter(parent__isnull=True).order_by("code").first()
    if city is None:
        return 0
    districts = list(city.children.order_by("code"))
    count = 0
    for year in range(FIRST_YEAR, last_year + 1):
        for indicator in SEED_TARGETS:
            value = target_for(indicator, year)
            if value is None:
                continue
            for unit in [city, *districts]:
                target_set(actor=None, indicator=indicator, org_unit=unit, year=year, value=value)
                count += 1
    return count


def extend_demo(*, seed: int, scale: str) -> dict[str, int]:
    """The hook `safetynet demo-data` calls after the registry is loaded (see core/demo.py)."""
    return {"目标": load_targets_demo()}


def finish_demo(*, scale: str) -> dict[str, int]:
    """The counters kept as dated steps, built once the whole city demo is loaded (indicators/counters.py);
    the small city's figures come from the engine, fast at that size (``--rebuild-counters`` builds them)."""
    if scale == "small":
        return {}
    result = counters_rebuild()
    return {"计数器企业区段": result.enterprise_runs, "计数器单位区段": result.unit_rows}
