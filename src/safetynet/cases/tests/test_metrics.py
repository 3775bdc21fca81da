"""The case indicators through the indicator engine."""

from __future__ import annotations

import datetime

from safetynet.cases import services
from safetynet.indicators.engine import compute

from .conftest import T0
from .test_services import intake


def test_handling_success_and_on_time_rates(setup):
    mediated = intake(setup)
    mediated = services.case_accept(
        actor=setup.community_officer, case=mediated, version=mediated.version, now=T0
    )
    services.case_resolve(
        actor=setup.community_officer,
        case=mediated,
        version=mediated.version,
        kind="mediated",
        agreement="付清",
        now=T0,
    )
    referred = intake(setup)
    services.case_refer_out(
        actor=setup.community_officer,
        case=referred,
        version=referred.version,
        kind="arbitration",
        now=T0 + datetime.timedelta(days=20),
    )
    intake(setup)  # open and overdue on 30 September: due, not handled
    intake(setup, now=T0 + datetime.timedelta(days=25))  # open, not yet due
    rows = {
        (r.unit, r.indicator): r
        for r in compute(
            day=datetime.date(2012, 9, 30),
            unit_code="210202",
            indicator_codes=["case_handling_rate", "case_success_rate", "case_on_time_rate"],
            hierarchy="today",
        )
    }
    handling = rows[("210202001001", "case_handling_rate")]
    assert (handling.numerator, handling.denominator) == (2, 3)
    success = rows[("210202", "case_success_rate")]
    assert (success.numerator, success.denominator) == (1, 2)
    on_time = rows[("210202001", "case_on_time_rate")]
    assert (on_time.numerator, on_time.denominator) == (1, 2)


def test_the_counters_answer_gives_the_case_rates_figure_for_figure(setup):
    """The counters answer record populations such as cases through the engine, their sums packed: the same
    figures, each numerator and denominator in its place (the counters' own tests' histories give records
    whose lanes in the wrong order would still compare equal)."""
    from safetynet.indicators.counters import counters_compute, counters_rebuild

    test_handling_success_and_on_time_rates(setup)
    counters_rebuild()
    day = datetime.date(2012, 9, 30)
    codes = ["case_handling_rate", "case_success_rate", "case_on_time_rate", "portal_appeal_share"]
    answered = {
        (r.unit, r.indicator): (r.numerator, r.denominator)
        for r in counters_compute(
            day=day, unit_code="210202", indicator_codes=codes, hierarchy="today"
        ).rows()
    }
    expected = {
        (r.unit, r.indicator): (r.numerator, r.denominator)
        for r in compute(
            day=day, unit_code="210202", indicator_codes=codes, hierarchy="today", counters=False
        )
    }
    assert answered == expected
    assert answered[("210202001001", "case_handling_rate")] == (2, 3)
    assert answered[("210202", "case_success_rate")] == (1, 2)
