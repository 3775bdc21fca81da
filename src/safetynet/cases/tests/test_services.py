"""Routing, deadlines, the optimistic lock, the collective rule, merge, follow-up, reopen, hazards, scope."""

from __future__ import annotations

import datetime
import decimal

import pytest
from django.http import Http404
from django.utils import timezone

from safetynet.cases import deadlines, services
from safetynet.cases.models import (
    Case,
    CaseKind,
    CaseStatus,
    CaseStep,
    DayKind,
    DeadlineRule,
    Escalation,
    EscalationReason,
    Notification,
    OutcomeKind,
    StepAction,
)
from safetynet.cases.notifications import MemorySmsBackend
from safetynet.cases.selectors import case_possible_duplicates, city_board
from safetynet.core.errors import NotAllowed, ServiceError
from safetynet.core.models import AuditEntry
from safetynet.core.scope import get_for_user
from safetynet.orgs.models import OrgLevel

from .conftest import T0


def aware(*args: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*args))


def intake(setup, *, enterprise=None, workers=1, actor=None, now=T0, **extra) -> Case:
    return services.case_intake(
        actor=actor or setup.city_officer,
        channel="hotline",
        category=extra.pop("category", "wage_arrears"),
        description="三个月工资未发",
        enterprise=enterprise or setup.community_enterprise,
        workers_involved=workers,
        claim_amount="12000.00",
        caller_phone=extra.pop("caller_phone", "13912345678"),
        now=now,
        **extra,
    )


# --- routing -----------------------------------------------------------------------------------------


def test_a_case_starts_at_the_community_of_the_enterprise(setup):
    case = intake(setup)
    assert (case.level, case.unit, case.origin_unit) == (
        OrgLevel.COMMUNITY,
        setup.city.community_a,
        setup.city.community_a,
    )
    assert case.number == "210202001001-2012-000001"
    assert case.status == CaseStatus.NEW and not case.collective
    assert case.deadline == T0 + datetime.timedelta(days=15)
    assert case.caller_phone_masked == "139****5678" and "13912345678" not in case.caller_phone_encrypted
    assert services.caller_phone(case) == "13912345678"
    step = case.steps.get()
    assert (step.action, step.to_unit) == (StepAction.INTAKE, setup.city.community_a)
    assert AuditEntry.objects.filter(entity="cases.case", object_id=str(case.pk)).exists()
    # The community's officer is told a case waits.
    assert Notification.objects.filter(recipient=setup.community_officer, case=case).exists()


def test_an_enterprise_directly_under_a_street_starts_at_the_street(setup):
    case = intake(setup, enterprise=setup.street_enterprise)
    assert (case.level, case.unit) == (OrgLevel.STREET, setup.city.street_a)
    assert case.number.startswith("210202001-2012-")


def test_a_collective_case_starts_at_the_district_and_is_on_the_city_board(setup):
    case = intake(setup, workers=40)
    assert case.collective
    assert (case.level, case.unit, case.origin_unit) == (
        OrgLevel.DISTRICT,
        setup.city.zhongshan,
        setup.city.community_a,
    )
    assert case in city_board(setup.city_admin)
    assert Notification.objects.filter(recipient=setup.city_admin, case=case).exists()
    # The community still sees the case that concerns its enterprise.
    assert get_for_user(Case, setup.community_officer, pk=case.pk) == case


def test_numbers_are_sequential_per_unit_and_year(setup):
    numbers = [intake(setup).number for _ in range(3)]
    assert numbers == [f"210202001001-2012-00000{i}" for i in (1, 2, 3)]


def test_anonymous_needs_a_call_back_number(setup):
    with pytest.raises(ServiceError) as err:
        intake(setup, caller_phone="", anonymous=True)
    assert err.value.field == "caller_phone"


def test_a_viewer_cannot_take_a_call(setup):
    with pytest.raises(NotAllowed):
        intake(setup, actor=setup.viewer)


def test_unknown_enterprise_by_name_lands_at_the_given_unit(setup):
    case = services.case_intake(
        actor=setup.city_officer,
        channel="visit",
        category="dismissal",
        description="被无故辞退",
        enterprise_name="某小饭店",
        enterprise_address="八一路 12 号",
        unit=setup.city.street_b,
        caller_phone="0411-82345678",
        now=T0,
    )
    assert (case.unit, case.level, case.enterprise) == (setup.city.street_b, OrgLevel.STREET, None)
    assert case.caller_phone_masked == "041*****5678"


# --- deadlines ---------------------------------------------------------------------------------------


def test_working_days_skip_national_day_and_count_the_make_up_saturday():
    # 2012: Sat 29 Sept is a make-up working day (调休); 30 Sept – 7 Oct are days off.
    assert deadlines.is_working_day(datetime.date(2012, 9, 29))
    assert not deadlines.is_working_day(datetime.date(2012, 10, 5))
    start = aware(2012, 9, 27, 10, 0)  # Thursday
    period = deadlines.Period(5, DayKind.WORKING)
    # 28 Sept (Fri) 1, 29 Sept (make-up Sat) 2, 8 Oct 3, 9 Oct 4, 10 Oct 5.
    assert period.deadline_from(start) == aware(2012, 10, 10, 10, 0)
    assert deadlines.Period(5, DayKind.CALENDAR).deadline_from(start) == aware(2012, 10, 2, 10, 0)


def test_working_days_across_spring_festival_2012():
    # Spring Festival 22–28 Jan 2012 off; Sat 21 Jan and Sun 29 Jan were working days.
    start = aware(2012, 1, 19, 9, 30)  # Thursday
    assert deadlines.Period(3, DayKind.WORKING).deadline_from(start) == aware(2012, 1, 29, 9, 30)
    assert deadlines.Period(4, DayKind.WORKING).deadline_from(start) == aware(2012, 1, 30, 9, 30)


def test_the_most_specific_rule_wins(setup):
    DeadlineRule.objects.create(level=OrgLevel.COMMUNITY, days=10, day_kind=DayKind.CALENDAR)
    DeadlineRule.objects.create(
        level=OrgLevel.COMMUNITY, category="wage_arrears", days=5, day_kind=DayKind.WORKING
    )
    case = intake(setup, now=aware(2012, 9, 27, 10, 0))
    assert case.deadline == aware(2012, 10, 10, 10, 0)
    other = intake(setup, category="dismissal", now=aware(2012, 9, 27, 10, 0))
    assert other.deadline == aware(2012, 10, 7, 10, 0)


def test_deadline_state(settings):
    settings.SAFETYNET_CASE_AT_RISK_HOURS = 48
    deadline = aware(2012, 10, 10, 10, 0)
    assert deadlines.deadline_state(deadline, aware(2012, 10, 1, 10, 0)) == deadlines.ON_TRACK
    assert deadlines.deadline_state(deadline, aware(2012, 10, 9, 10, 0)) == deadlines.AT_RISK
    assert deadlines.deadline_state(deadline, aware(2012, 10, 10, 10, 1)) == deadlines.BREACHED


# --- handling ----------------------------------------------------------------------------------------


def test_the_whole_ladder_community_fails_street_succeeds(setup):
    case = intake(setup)
    case = services.case_accept(actor=setup.community_officer, case=case, version=case.version, now=T0)
    case = services.case_record_mediation_attempt(
        actor=setup.community_officer, case=case, version=case.version, note="约谈双方，企业拒绝", now=T0
    )
    later = T0 + datetime.timedelta(days=3)
    case = services.case_hand_up(
        actor=setup.community_officer, case=case, version=case.version, reason="调解不成", now=later
    )
    assert (case.unit, case.level, case.status) == (setup.city.street_a, OrgLevel.STREET, CaseStatus.NEW)
    assert case.deadline == later + datetime.timedelta(days=15)
    assert Escalation.objects.get(case=case).reason == EscalationReason.FAILED
    case = services.case_accept(actor=setup.street_officer, case=case, version=case.version, now=later)
    outcome = services.case_resolve(
        actor=setup.street_officer,
        case=case,
        version=case.version,
        kind=OutcomeKind.MEDIATED,
        agreement="企业于 9 月 30 日前付清欠薪",
        amount_recovered="12000",
        now=later + datetime.timedelta(days=2),
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.outcome_kind == OutcomeKind.MEDIATED
    assert outcome.on_time and outcome.amount_recovered == decimal.Decimal("12000")
    assert MemorySmsBackend.outbox == []  # sent on commit; the test transaction never commits
    actions = list(case.steps.values_list("action", flat=True))
    assert actions == ["intake", "accept", "mediation_attempt", "hand_up", "accept", "resolve"]
    follow = services.case_record_follow_up(
        actor=setup.city_officer,
        case=case,
        satisfaction=5,
        note="工资已到账",
        now=later + datetime.timedelta(days=9),
    )
    assert follow.satisfaction == 5


def test_sms_goes_out_after_commit(setup, django_capture_on_commit_callbacks):
    case = intake(setup)
    case = services.case_accept(actor=setup.community_officer, case=case, version=case.version, now=T0)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_resolve(
            actor=setup.community_officer, case=case, version=case.version, kind="withdrawn", now=T0
        )
    assert MemorySmsBackend.outbox and MemorySmsBackend.outbox[0][0] == "13912345678"


def test_a_stale_version_is_a_conflict_and_changes_nothing(setup):
    case = intake(setup)
    seen = case.version
    services.case_accept(actor=setup.community_officer, case=case, version=seen, now=T0)
    with pytest.raises(ServiceError) as err:
        services.case_hand_up(
            actor=setup.community_officer, case=case, version=seen, reason="调解不成", now=T0
        )
    assert err.value.code == "conflict"
    assert str(err.value) == "该案件已被他人修改，请刷新后再操作"
    case.refresh_from_db()
    assert case.unit == setup.city.community_a and case.status == CaseStatus.IN_PROGRESS


def test_only_the_unit_handling_the_case_acts_and_upper_levels_pull_up(setup):
    case = intake(setup)
    with pytest.raises(ServiceError) as err:
        services.case_accept(actor=setup.district_officer, case=case, version=case.version, now=T0)
    assert err.value.code == "not_at_level"
    case = services.case_pull_up(
        actor=setup.district_officer, case=case, version=case.version, reason="社会影响大", now=T0
    )
    assert (case.unit, case.level) == (setup.city.zhongshan, OrgLevel.DISTRICT)
    assert Escalation.objects.get(case=case).reason == EscalationReason.PULLED_UP
    case = services.case_send_down(
        actor=setup.district_officer, case=case, version=case.version, instructions="请街道牵头调解", now=T0
    )
    assert case.unit == setup.city.street_a
    with pytest.raises(ServiceError):
        services.case_pull_up(actor=setup.community_officer, case=case, version=case.version, now=T0)


def test_a_sibling_district_gets_404(setup):
    case = intake(setup)
    with pytest.raises(Http404):
        get_for_user(Case, setup.xigang_officer, pk=case.pk)
    with pytest.raises(ServiceError) as err:
        services.case_pull_up(actor=setup.xigang_officer, case=case, version=case.version, now=T0)
    assert err.value.code == "out_of_scope"


def test_city_cannot_hand_up(setup):
    case = intake(setup)
    case = services.case_pull_up(actor=setup.city_officer, case=case, version=case.version, now=T0)
    with pytest.raises(ServiceError) as err:
        services.case_hand_up(actor=setup.city_officer, case=case, version=case.version, reason="x", now=T0)
    assert err.value.code == "at_top"


# --- collective and merge ------------------------------------------------------------------------------


def test_a_collective_case_needs_its_leader_before_acceptance(setup):
    case = intake(setup, workers=12)
    with pytest.raises(ServiceError) as err:
        services.case_accept(actor=setup.district_officer, case=case, version=case.version, now=T0)
    assert err.value.code == "leader_required"
    case = services.case_assign_leader(
        actor=setup.district_officer, case=case, version=case.version, leader=setup.district_head, now=T0
    )
    case = services.case_accept(actor=setup.district_officer, case=case, version=case.version, now=T0)
    assert case.leader == setup.district_head and case.status == CaseStatus.IN_PROGRESS
    assert Notification.objects.filter(recipient=setup.district_head, case=case).exists()
    with pytest.raises(ServiceError) as err:
        services.case_send_down(
            actor=setup.district_officer, case=case, version=case.version, instructions="x", now=T0
        )
    assert err.value.code == "collective_level"


def test_individual_cases_merge_into_a_new_collective_case(setup):
    calls = [intake(setup, workers=4, caller_phone=f"1391234000{i}") for i in range(3)]
    collective = services.case_merge_into_collective(actor=setup.city_officer, cases=calls, now=T0)
    assert collective.collective and collective.workers_involved == 12
    assert collective.unit == setup.city.zhongshan
    for call in calls:
        call.refresh_from_db()
        assert call.status == CaseStatus.MERGED and call.merged_into == collective
        assert call.steps.filter(action=StepAction.MERGE).exists()
    assert collective in city_board(setup.city_admin)


def test_merge_into_an_existing_collective_case_and_refusals(setup):
    collective = intake(setup, workers=40)
    single = intake(setup)
    other_category = intake(setup, category="dismissal")
    with pytest.raises(ServiceError):
        services.case_merge_into_collective(
            actor=setup.district_officer, cases=[other_category], collective=collective, now=T0
        )
    with pytest.raises(ServiceError) as err:
        services.case_merge_into_collective(
            actor=setup.district_officer,
            cases=[single],
            collective=collective,
            versions={collective.pk: 99},
            now=T0,
        )
    assert err.value.code == "conflict"
    services.case_merge_into_collective(
        actor=setup.district_officer, cases=[single], collective=collective, now=T0
    )
    single.refresh_from_db()
    assert single.merged_into == collective
    too_few = [intake(setup, workers=2), intake(setup, workers=3)]
    with pytest.raises(ServiceError) as err:
        services.case_merge_into_collective(actor=setup.city_officer, cases=too_few, now=T0)
    assert err.value.code == "not_collective"


# --- after the outcome -----------------------------------------------------------------------------------


def _closed_case(setup, when):
    case = intake(setup, now=when)
    case = services.case_accept(actor=setup.community_officer, case=case, version=case.version, now=when)
    services.case_resolve(
        actor=setup.community_officer,
        case=case,
        version=case.version,
        kind="mediated",
        agreement="分两期付清",
        now=when,
    )
    case.refresh_from_db()
    return case


def test_reopen_within_30_days(setup):
    case = _closed_case(setup, T0)
    later = T0 + datetime.timedelta(days=29)
    case = services.case_reopen(
        actor=setup.city_officer, case=case, version=case.version, reason="第二期未付", now=later
    )
    assert case.status == CaseStatus.NEW and case.unit == setup.city.community_a
    assert case.deadline == later + datetime.timedelta(days=15) and case.outcome_kind == ""
    assert case.outcomes.count() == 1


def test_reopen_refused_after_30_days(setup):
    case = _closed_case(setup, T0)
    with pytest.raises(ServiceError) as err:
        services.case_reopen(
            actor=setup.city_officer,
            case=case,
            version=case.version,
            reason="未付",
            now=T0 + datetime.timedelta(days=31),
        )
    assert err.value.code == "reopen_window_passed"


def test_follow_up_only_after_closing_and_satisfaction_1_to_5(setup):
    case = intake(setup)
    with pytest.raises(ServiceError):
        services.case_record_follow_up(actor=setup.city_officer, case=case, satisfaction=4, now=T0)
    case = _closed_case(setup, T0)
    with pytest.raises(ServiceError) as err:
        services.case_record_follow_up(actor=setup.city_officer, case=case, satisfaction=6, now=T0)
    assert err.value.field == "satisfaction"


def test_legal_aid(setup):
    case = intake(setup)
    aid = services.case_record_legal_aid(
        actor=setup.community_officer,
        case=case,
        lawyer="王律师",
        hours="3.5",
        given_on=datetime.date(2012, 9, 4),
        now=T0,
    )
    assert aid.hours == decimal.Decimal("3.5")


def test_duplicates_same_caller_and_enterprise_within_30_days(setup):
    first = intake(setup)
    hash_ = services.phone_lookup_hash("139 1234 5678")
    found = case_possible_duplicates(
        setup.city_officer,
        phone_hash=hash_,
        enterprise_id=setup.community_enterprise.pk,
        now=T0 + datetime.timedelta(days=5),
    )
    assert list(found) == [first]
    assert not case_possible_duplicates(
        setup.city_officer,
        phone_hash=hash_,
        enterprise_id=setup.community_enterprise.pk,
        now=T0 + datetime.timedelta(days=31),
    ).exists()


# --- hazards ---------------------------------------------------------------------------------------------


def test_a_hazard_closes_only_after_verification(setup):
    case = intake(setup, kind=CaseKind.HAZARD, category="safety")
    with pytest.raises(ServiceError) as err:
        services.case_resolve(
            actor=setup.community_officer, case=case, version=case.version, kind="withdrawn", now=T0
        )
    assert err.value.code == "hazard_needs_verification"
    due = T0 + datetime.timedelta(days=7)
    case = services.hazard_assign_rectification(
        actor=setup.community_officer,
        case=case,
        version=case.version,
        owner="厂长 李某",
        deadline=due,
        now=T0,
    )
    assert case.status == CaseStatus.RECTIFYING and case.deadline == due
    case = services.hazard_verify(
        actor=setup.community_officer,
        case=case,
        version=case.version,
        passed=False,
        note="消防通道仍堵塞",
        now=T0,
    )
    assert case.status == CaseStatus.IN_PROGRESS
    case = services.hazard_assign_rectification(
        actor=setup.community_officer,
        case=case,
        version=case.version,
        owner="厂长 李某",
        deadline=due,
        now=T0,
    )
    case = services.hazard_verify(
        actor=setup.street_officer,
        case=case,
        version=case.version,
        passed=True,
        note="现场核查已清理",
        now=T0,
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.outcome_kind == OutcomeKind.RECTIFIED
    assert case.verified_by == setup.street_officer
    assert list(
        CaseStep.objects.filter(case=case, action=StepAction.VERIFY).values_list("reason", flat=True)
    ) == [
        "核查未通过",
        "核查通过",
    ]
