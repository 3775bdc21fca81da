"""Rates and flags against hand-computed figures (INTERFACES.md, "Periodic reports and early warning").

May 2012, form YJ01 (streets, due 2012-06-05, a warning form). Streets:
- A 青泥洼桥街道 (中山区): zero report at 2012-06-05 23:59 — the due day's last minute, timely.
- B 八一路街道 (西岗区): full report at 2012-06-06 00:00 — the first minute after, late; corrected to a zero
  report on 06-07.
- E 桃源街道 (中山区): full report on 06-01 (timely), corrected to a zero report on 06-10, after the due day:
  still timely (the first report decides), zero only as of 06-10.
- C 新开街道 (opened 2012-05-10) and D 撤并街道 (closed 2012-05-20): not open on every day of May, so not
  expected, and their reports are refused.
Signals: a case about E's enterprise received 2012-05-15; a warning about A's enterprise (in a community
under A) discovered 2012-05-20 and reported only on 2012-07-02 — known after 06-30.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command

from safetynet.cases import services as case_services
from safetynet.core.errors import ServiceError
from safetynet.orgs.services import enterprise_update, orgunit_move
from safetynet.reporting import rates, services
from safetynet.reporting.models import Report
from safetynet.reporting.tests.conftest import MAY, at, file_report

D = datetime.date


@pytest.fixture
def may(world):
    file_report(world, world.city.street_a, "2012-06-05 23:59", zero=True)
    file_report(world, world.city.street_b, "2012-06-06 00:00", zero=False)
    file_report(world, world.city.street_b, "2012-06-07 09:00", zero=True)
    file_report(world, world.street_e, "2012-06-01 10:00", zero=False)
    file_report(world, world.street_e, "2012-06-10 10:00", zero=True)
    case_services.case_intake(
        actor=None,
        channel="hotline",
        category="wage_arrears",
        description="拖欠工资两个月",
        enterprise=world.enterprise_e,
        caller_phone="13912345678",
        now=at("2012-05-15 09:00"),
    )
    services.warning_create(
        actor=None,
        enterprise=world.enterprise_a,
        category="wage_arrears",
        discovered_on=D(2012, 5, 20),
        reported_at=at("2012-07-02 10:00"),
        workers_involved=8,
        amount="40000",
    )
    return world


def figures(world, day, unit=None):
    result = rates.compute(form=world.form, period=MAY, as_of=day, unit_code=unit)
    # The dashboard's cards compute without the report times, the comparisons made by the database: every
    # figure and flag must be the same.
    counted = rates.compute(form=world.form, period=MAY, as_of=day, unit_code=unit, moments=False)
    assert counted.as_dicts() == result.as_dicts()
    assert counted.flag_dicts() == result.flag_dicts()
    assert [(r.received, r.timely, r.is_zero) for r in counted.reporters] == [
        (r.received, r.timely, r.is_zero) for r in result.reporters
    ]
    return {row["unit"]: row for row in result.as_dicts()}, result


def counts(row):
    return tuple(row[k] for k in ("expected", "received", "timely", "zero", "concealed"))


def test_hand_computed_figures_as_of_june_30(may):
    rows, result = figures(may, D(2012, 6, 30))
    assert counts(rows["2102"]) == (3, 3, 2, 3, 1)
    assert rows["2102"]["report_rate"] == 1.0
    assert rows["2102"]["report_timely_rate"] == 0.6667
    assert rows["2102"]["zero_report_rate"] == 1.0
    assert counts(rows["210202"]) == (2, 2, 2, 2, 1)  # A and E; C opened inside May
    assert counts(rows["210203"]) == (1, 1, 0, 1, 0)  # B; D closed inside May
    assert rows["210203"]["report_timely_rate"] == 0.0
    # A unit with nothing expected below it: rates are null, not 0 and not 100 %.
    assert counts(rows["210202001001"]) == (0, 0, 0, 0, 0)
    assert rows["210202001001"]["report_rate"] is None
    assert rows["210202001001"]["zero_report_rate"] is None
    assert result.flag_dicts() == [
        {"unit": "210202002", "flag": "concealed"},
        {"unit": "210203001", "flag": "late"},
    ]
    assert list(rows["2102"]) == list(rates.ROW_KEYS)
    assert rows["2102"]["period"] == "2012-05" and rows["2102"]["as_of"] == "2012-06-30"


def test_as_of_the_due_day(may):
    rows, result = figures(may, D(2012, 6, 5))
    # A (23:59 that day) and E (06-01, not yet a zero report) received; B not yet.
    assert counts(rows["2102"]) == (3, 2, 2, 1, 0)
    assert rows["2102"]["report_rate"] == 0.6667
    assert rows["2102"]["zero_report_rate"] == 0.5
    assert {(f["unit"], f["flag"]) for f in result.flag_dicts()} == {("210203001", "missing")}


def test_a_correction_after_the_due_day_keeps_the_first_reports_timeliness(may):
    rows, _ = figures(may, D(2012, 6, 9), unit="210202002")
    assert counts(rows["210202002"]) == (1, 1, 1, 0, 0)  # still its full report of 06-01
    rows, _ = figures(may, D(2012, 6, 10), unit="210202002")
    assert counts(rows["210202002"]) == (1, 1, 1, 1, 1)  # the zero correction, and the case of May 15


def test_a_warning_known_only_after_the_day_asked(may):
    rows, _ = figures(may, D(2012, 6, 30), unit="210202001")
    assert rows["210202001"]["concealed"] == 0
    rows, result = figures(may, D(2012, 7, 2))
    assert rows["210202001"]["concealed"] == 1
    assert rows["2102"]["concealed"] == 2
    assert {"unit": "210202001", "flag": "concealed"} in result.flag_dicts()


def test_a_signal_outside_the_period_does_not_count(world):
    file_report(world, world.city.street_a, "2012-06-02 09:00", zero=True)
    services.warning_create(
        actor=None,
        enterprise=world.enterprise_a,
        category="stoppage",
        discovered_on=D(2012, 6, 1),
        reported_at=at("2012-06-01 12:00"),
    )
    rows, _ = figures(world, D(2012, 6, 30))
    assert rows["210202001"]["concealed"] == 0


def test_a_full_report_is_never_concealment(world):
    file_report(world, world.city.street_a, "2012-06-02 09:00", zero=False)
    services.warning_create(
        actor=None,
        enterprise=world.enterprise_a,
        category="wage_arrears",
        discovered_on=D(2012, 5, 3),
        reported_at=at("2012-05-03 12:00"),
    )
    rows, _ = figures(world, D(2012, 6, 30))
    assert counts(rows["210202001"]) == (1, 1, 1, 0, 0)


def test_not_a_warning_form_no_concealment(world):
    services.reportform_update(actor=None, form=world.form, is_warning=False)
    world.form.refresh_from_db()
    file_report(world, world.city.street_a, "2012-06-02 09:00", zero=True)
    services.warning_create(
        actor=None,
        enterprise=world.enterprise_a,
        category="other",
        discovered_on=D(2012, 5, 3),
        reported_at=at("2012-05-03 12:00"),
    )
    rows, _ = figures(world, D(2012, 6, 30))
    assert rows["2102"]["concealed"] == 0


def test_the_enterprise_counts_where_it_stood_on_the_signal_day(world):
    """The enterprise moved from street B to street A on May 25: a warning discovered on May 20 concerns B."""
    enterprise_update(
        actor=None,
        enterprise=world.enterprise_b,
        data={"org_unit": world.city.street_a},
        effective_on=D(2012, 5, 25),
    )
    file_report(world, world.city.street_a, "2012-06-02 09:00", zero=True)
    file_report(world, world.city.street_b, "2012-06-02 09:00", zero=True)
    services.warning_create(
        actor=None,
        enterprise=world.enterprise_b,
        category="wage_arrears",
        discovered_on=D(2012, 5, 20),
        reported_at=at("2012-05-21 10:00"),
    )
    rows, _ = figures(world, D(2012, 6, 30))
    assert rows["210203001"]["concealed"] == 1
    assert rows["210202001"]["concealed"] == 0


def test_the_hierarchy_as_it_stood_on_the_periods_last_day(may):
    """Street E moves to 西岗区 on June 15: for May it still counts under 中山区; for June under 西岗区."""
    orgunit_move(actor=None, unit=may.street_e, new_parent=may.city.xigang, effective_on=D(2012, 6, 15))
    rows, _ = figures(may, D(2012, 6, 30))
    assert rows["210202"]["expected"] == 2 and rows["210203"]["expected"] == 1
    june = rates.compute(form=may.form, period=MAY.next(), as_of=D(2012, 7, 30))
    by_unit = {row["unit"]: row for row in june.as_dicts()}
    # June: E under 西岗区 now, and C (opened May 10) is open on every day of June.
    assert by_unit["210203"]["expected"] == 2 and by_unit["210202"]["expected"] == 2


def test_a_form_not_in_use_expects_nobody(world):
    services.reportform_update(actor=None, form=world.form, enabled_from=D(2012, 6, 1))
    world.form.refresh_from_db()
    rows, result = figures(world, D(2012, 6, 30))
    assert rows["2102"]["expected"] == 0 and rows["2102"]["report_rate"] is None
    assert not result.in_use and result.flag_dicts() == []


def test_units_opened_or_closed_inside_the_period_are_refused_with_the_reason(world):
    with pytest.raises(ServiceError) as error:
        file_report(world, world.street_c, "2012-06-02 09:00", zero=True)
    assert error.value.code == "unit_not_open" and error.value.field == "unit"
    assert "2012-05-10" in error.value.message
    with pytest.raises(ServiceError) as error:
        file_report(world, world.street_d, "2012-06-02 09:00", zero=True)
    assert error.value.code == "unit_closed" and "2012-05-20" in error.value.message
    assert not Report.objects.exists()


def test_the_command_prints_the_rows(may, capsys):
    call_command(
        "reporting", "--form", "YJ01", "--period", "2012-05", "--as-of", "2012-06-30", "--unit", "210202"
    )
    import json

    rows = json.loads(capsys.readouterr().out)
    assert [r["unit"] for r in rows] == ["210202", "210202001", "210202001001", "210202002", "210202003"]
    assert counts(rows[0]) == (2, 2, 2, 2, 1)
    call_command(
        "reporting", "--form", "YJ01", "--period", "2012-05", "--as-of", "2012-06-30", "--format", "csv"
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ",".join(rates.ROW_KEYS)
    assert lines[1].startswith("2102,YJ01,2012-05,2012-06-30,3,3,2,3,1,1.0,0.6667,1.0")


def test_the_command_refuses_a_period_of_the_wrong_kind(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="按月报送"):
        call_command("reporting", "--form", "YJ01", "--period", "2012Q2", "--as-of", "2012-06-30")


def test_a_few_statements_whatever_the_size(may, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        rates.compute(form=may.form, period=MAY, as_of=D(2012, 7, 5))
    with django_assert_max_num_queries(6):
        rates.compute(form=may.form, period=MAY, as_of=D(2012, 7, 5), moments=False)
