"""The escalation sweep: one level per run, from T, never above the city, idempotent, set-based."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from safetynet.cases import services
from safetynet.cases.models import (
    CaseStatus,
    CaseStep,
    Escalation,
    EscalationReason,
    Notification,
    StepAction,
)
from safetynet.cases.sweeps import sweep_cases
from safetynet.orgs.models import OrgLevel

from .conftest import T0
from .test_services import aware, intake

T = T0 + datetime.timedelta(days=16)  # past the community's 15 days


def test_an_overdue_case_goes_one_level_up_with_a_deadline_from_t(setup):
    case = intake(setup)
    summary = sweep_cases(T)
    assert summary.startswith("1 件超期案件上交一级")
    case.refresh_from_db()
    assert (case.unit, case.level, case.status) == (setup.city.street_a, OrgLevel.STREET, CaseStatus.NEW)
    assert case.deadline == T + datetime.timedelta(days=15)
    assert case.level_since == T and case.arrival == StepAction.ESCALATE and case.version == 2
    escalation = Escalation.objects.get(case=case)
    assert (escalation.reason, escalation.from_unit, escalation.to_unit) == (
        EscalationReason.DEADLINE,
        setup.city.community_a,
        setup.city.street_a,
    )
    step = case.steps.get(action=StepAction.ESCALATE)
    assert (step.from_level, step.to_level, step.actor_name) == (OrgLevel.COMMUNITY, OrgLevel.STREET, "系统")
    assert Notification.objects.filter(recipient=setup.street_officer).exists()


def test_running_twice_at_the_same_moment_escalates_nothing_more(setup):
    case = intake(setup)
    sweep_cases(T)
    assert sweep_cases(T).startswith("0 件超期案件上交一级")
    case.refresh_from_db()
    assert case.unit == setup.city.street_a and Escalation.objects.count() == 1


def test_one_level_per_run_up_to_the_city_and_never_above(setup):
    case = intake(setup)
    moments = [T + datetime.timedelta(days=16 * i) for i in range(5)]
    units = []
    for moment in moments:
        sweep_cases(moment)
        case.refresh_from_db()
        units.append(case.unit)
    assert units == [
        setup.city.street_a,
        setup.city.zhongshan,
        setup.city.city,
        setup.city.city,
        setup.city.city,
    ]
    assert case.breached and case.level == OrgLevel.CITY
    assert Escalation.objects.filter(case=case).count() == 3
    # Flagged once, not at every run.
    assert CaseStep.objects.filter(case=case, action=StepAction.BREACH).count() == 1


def test_closed_and_on_time_cases_stay(setup):
    on_time = intake(setup, now=T - datetime.timedelta(days=1))
    closed = intake(setup)
    closed = services.case_resolve(
        actor=setup.community_officer, case=closed, version=closed.version, kind="withdrawn", now=T0
    )
    sweep_cases(T)
    on_time.refresh_from_db()
    assert on_time.unit == setup.city.community_a
    assert not Escalation.objects.exists()


def test_a_hazard_with_an_overdue_rectification_escalates(setup):
    case = intake(setup, kind="hazard", category="safety")
    case = services.hazard_assign_rectification(
        actor=setup.community_officer,
        case=case,
        version=case.version,
        owner="李某",
        deadline=T0 + datetime.timedelta(days=2),
        now=T0,
    )
    sweep_cases(T0 + datetime.timedelta(days=3))
    case.refresh_from_db()
    assert case.unit == setup.city.street_a and case.status == CaseStatus.RECTIFYING


def test_a_user_holding_the_old_version_gets_a_conflict_after_the_sweep(setup):
    case = intake(setup)
    seen = case.version
    sweep_cases(T)
    with pytest.raises(services.ServiceError) as err:
        services.case_accept(actor=setup.street_officer, case=case, version=seen, now=T)
    assert err.value.code == "conflict"


def test_reminders_go_to_the_handler_then_the_head(setup, settings):
    settings.SAFETYNET_CASE_AT_RISK_HOURS = 48
    settings.SAFETYNET_CASE_HEAD_REMINDER_HOURS = 24
    case = intake(setup, workers=12)  # at the district
    case = services.case_assign_leader(
        actor=setup.district_officer, case=case, version=case.version, leader=setup.district_head, now=T0
    )
    case = services.case_accept(actor=setup.district_officer, case=case, version=case.version, now=T0)
    Notification.objects.all().delete()
    deadline = case.deadline
    sweep_cases(deadline - datetime.timedelta(hours=40))
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["district_officer"]
    sweep_cases(deadline - datetime.timedelta(hours=30))
    assert Notification.objects.count() == 1
    sweep_cases(deadline - datetime.timedelta(hours=20))
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "district_head",
        "district_officer",
    ]


def _count_sweep_queries(now) -> int:
    with CaptureQueriesContext(connection) as ctx:
        sweep_cases(now)
    return len(ctx.captured_queries)


def test_set_based_query_count_does_not_grow_with_overdue_cases(setup, django_assert_max_num_queries):
    for _ in range(3):
        intake(setup)
    few = _count_sweep_queries(T)
    for _ in range(40):
        intake(setup, now=T)
    for _ in range(10):
        intake(setup, enterprise=setup.street_enterprise, now=T)
    with django_assert_max_num_queries(few):
        sweep_cases(T + datetime.timedelta(days=16))
    # The first three go up again (street to district), the fifty new ones for the first time.
    assert Escalation.objects.count() == 3 + 3 + 50


def test_sweep_command_hands_an_overdue_case_up(setup):
    case = intake(setup)
    call_command("sweep", now="2012-09-20T00:00:00+08:00")
    case.refresh_from_db()
    assert case.unit == setup.city.street_a
    assert case.deadline == aware(2012, 9, 20, 0, 0) + datetime.timedelta(days=15)
