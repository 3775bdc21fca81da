"""The case workflow is its table (cases/workflow.py): every (status, action) pair the table does not list
is refused by the step's service with "invalid_transition" and changes nothing (status, version, timeline,
audit); the refusals say why in words."""

from __future__ import annotations

import datetime

import pytest

from safetynet.cases import services, workflow
from safetynet.cases.models import Case, CaseKind, CaseStatus, CaseStep, OutcomeKind, StepAction
from safetynet.cases.tests.conftest import T0
from safetynet.cases.tests.test_services import intake
from safetynet.core.errors import ServiceError
from safetynet.core.models import AuditEntry

LATER = T0 + datetime.timedelta(days=1)


def take(action: str, setup, case: Case) -> None:
    """The service of ``action``, by an actor and with arguments it would accept in the right status."""
    officer = setup.community_officer
    common = {"case": case, "version": case.version, "now": LATER}
    calls = {
        StepAction.ACCEPT: lambda: services.case_accept(actor=officer, **common),
        StepAction.ASSIGN_LEADER: lambda: services.case_assign_leader(
            actor=officer, leader=setup.district_head, **common
        ),
        StepAction.MEDIATION_ATTEMPT: lambda: services.case_record_mediation_attempt(
            actor=officer, note="双方到场", **common
        ),
        StepAction.RECTIFICATION: lambda: services.hazard_assign_rectification(
            actor=officer, owner="张经理", deadline=LATER + datetime.timedelta(days=10), **common
        ),
        StepAction.VERIFY: lambda: services.hazard_verify(
            actor=officer, passed=True, note="现场已整改", **common
        ),
        StepAction.RESOLVE: lambda: services.case_resolve(
            actor=officer, kind=OutcomeKind.WITHDRAWN, **common
        ),
        StepAction.REFER_OUT: lambda: services.case_refer_out(
            actor=officer, kind=OutcomeKind.ARBITRATION, **common
        ),
        StepAction.HAND_UP: lambda: services.case_hand_up(actor=officer, reason="调解不成", **common),
        StepAction.PULL_UP: lambda: services.case_pull_up(
            actor=setup.street_officer, reason="提级", **common
        ),
        StepAction.SEND_DOWN: lambda: services.case_send_down(
            actor=officer, instructions="请属地办理", **common
        ),
        StepAction.MERGE: lambda: services.case_merge_into_collective(actor=officer, cases=[case], now=LATER),
        StepAction.FOLLOW_UP: lambda: services.case_record_follow_up(actor=officer, satisfaction=5, **common),
        StepAction.REOPEN: lambda: services.case_reopen(actor=officer, reason="协议未履行", **common),
    }
    calls[action]()


REFUSED = [
    (status, action)
    for status in CaseStatus.values
    for action in workflow.TABLE.transitions
    if action not in workflow.TABLE.allowed(status)
]


def test_the_table_lists_what_each_status_allows():
    allowed = workflow.TABLE.allowed
    assert StepAction.ACCEPT in allowed(CaseStatus.NEW)
    assert StepAction.MEDIATION_ATTEMPT not in allowed(CaseStatus.NEW)
    assert allowed(CaseStatus.CLOSED) == [
        StepAction.LEGAL_AID,
        StepAction.ATTACH,
        StepAction.FOLLOW_UP,
        StepAction.REOPEN,
    ]
    assert allowed(CaseStatus.MERGED) == [StepAction.LEGAL_AID, StepAction.ATTACH]
    assert workflow.TABLE.target(CaseStatus.RECTIFYING, StepAction.VERIFY, CaseStatus.IN_PROGRESS) == (
        CaseStatus.IN_PROGRESS
    )
    # Every refused pair below has a service to try it on.
    assert {action for _, action in REFUSED} <= set(StepAction.values)


@pytest.mark.parametrize("status, action", REFUSED)
def test_every_step_outside_the_table_is_refused_and_changes_nothing(setup, status, action):
    # A hazard report for the verification, so the table (not the kind of case) is what refuses.
    case = intake(setup, kind=CaseKind.HAZARD if action == StepAction.VERIFY else CaseKind.DISPUTE)
    Case.objects.filter(pk=case.pk).update(status=status)
    case.refresh_from_db()
    steps, audits = CaseStep.objects.count(), AuditEntry.objects.count()
    with pytest.raises(ServiceError) as error:
        take(action, setup, case)
    assert error.value.code == "invalid_transition"
    assert f"当前状态：{CaseStatus(status).label}" in error.value.message
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.status, fresh.version, fresh.unit_id) == (status, case.version, case.unit_id)
    assert (CaseStep.objects.count(), AuditEntry.objects.count()) == (steps, audits)


@pytest.mark.parametrize(
    "status, action, reason",
    [
        (CaseStatus.IN_PROGRESS, StepAction.ACCEPT, "该案件已受理，不能重复受理"),
        (CaseStatus.NEW, StepAction.MEDIATION_ATTEMPT, "案件尚未受理，请先受理"),
        (CaseStatus.CLOSED, StepAction.HAND_UP, "该案件已办结，不能进行此操作；如协议未履行"),
        (CaseStatus.MERGED, StepAction.REOPEN, "该案件已并入集体争议"),
        (CaseStatus.IN_PROGRESS, StepAction.FOLLOW_UP, "案件办结后才能回访"),
        (CaseStatus.NEW, StepAction.REOPEN, "只有已办结的案件才能重新办理"),
    ],
)
def test_refusals_say_why(setup, status, action, reason):
    case = intake(setup)
    Case.objects.filter(pk=case.pk).update(status=status)
    case.refresh_from_db()
    with pytest.raises(ServiceError) as error:
        take(action, setup, case)
    assert reason in error.value.message


def test_a_merge_refusal_names_the_case(setup):
    case = intake(setup)
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED)
    with pytest.raises(ServiceError) as error:
        services.case_merge_into_collective(actor=setup.community_officer, cases=[case], now=LATER)
    assert error.value.message.startswith(f"案件{case.number}：该案件已办结")


def test_a_step_through_the_table_writes_one_step_and_one_audit_row(setup):
    case = intake(setup)
    case = services.case_accept(actor=setup.community_officer, case=case, version=case.version, now=LATER)
    case = services.case_hand_up(
        actor=setup.community_officer, case=case, version=case.version, reason="调解不成", now=LATER
    )
    assert (case.status, case.unit, case.version) == (CaseStatus.NEW, setup.city.street_a, 3)
    entries = AuditEntry.objects.filter(
        entity="cases.case", object_id=str(case.pk), action="update"
    ).order_by("pk")
    assert [(e.note, e.changes) for e in entries] == [
        ("受理", {"status": ["待受理", "办理中"]}),
        (
            "上交",
            {
                "status": ["办理中", "待受理"],
                "unit": [setup.city.community_a.name, setup.city.street_a.name],
                "reason": [None, "调解不成"],
            },
        ),
    ]
    assert list(case.steps.values_list("action", flat=True)) == ["intake", "accept", "hand_up"]
