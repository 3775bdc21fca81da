"""core.workflow: the transition table's answers and refusals, and transition_run's one shape of a step
(lock, version, guard, table, apply, save, after, audit) on a real record — a reporting WarningSignal."""

from __future__ import annotations

import datetime

import pytest
from django.db import models
from django.utils import timezone

from safetynet.core.errors import ServiceError
from safetynet.core.models import AuditEntry
from safetynet.core.workflow import CONFLICT_MESSAGE, Transition, TransitionTable, lock_row, transition_run
from safetynet.orgs.tests.factories import EnterpriseFactory
from safetynet.reporting.models import WARNING_TABLE, WarningAction, WarningSignal, WarningStatus


class Door(models.TextChoices):
    OPEN = "open", "已打开"
    CLOSED = "closed", "已关闭"
    LOCKED = "locked", "已上锁"
    GONE = "gone", "已拆除"


class Move(models.TextChoices):
    SHUT = "shut", "关门"
    OPEN = "open", "开门"
    LOCK = "lock", "上锁"
    UNLOCK = "unlock", "开锁"
    KNOCK = "knock", "敲门"
    REMOVE = "remove", "拆除"


def door_table(**extra) -> TransitionTable:
    return TransitionTable(
        subject="门",
        statuses=Door,
        actions=Move,
        transitions=(
            Transition(Move.SHUT, frozenset({Door.OPEN}), (Door.CLOSED,)),
            Transition(Move.OPEN, frozenset({Door.CLOSED}), (Door.OPEN,), "门上锁了，先开锁"),
            Transition(Move.LOCK, frozenset({Door.CLOSED}), (Door.LOCKED,)),
            Transition(Move.UNLOCK, frozenset({Door.LOCKED}), (Door.CLOSED,)),
            Transition(Move.KNOCK, frozenset({Door.CLOSED, Door.LOCKED}), (), stays=True),
            Transition(Move.REMOVE, frozenset({Door.OPEN, Door.CLOSED}), (Door.GONE, Door.CLOSED)),
        ),
        already={Move.LOCK: {Door.LOCKED}},
        **extra,
    )


# --- the table ---------------------------------------------------------------------------------------


def test_allowed_lists_the_actions_of_a_status_in_table_order():
    table = door_table()
    assert table.allowed(Door.OPEN) == [Move.SHUT, Move.REMOVE]
    assert table.allowed(Door.CLOSED) == [Move.OPEN, Move.LOCK, Move.KNOCK, Move.REMOVE]
    assert table.allowed(Door.LOCKED) == [Move.UNLOCK, Move.KNOCK]
    assert table.allowed(Door.GONE) == []


def test_check_returns_the_transition_and_target_picks_the_first_or_the_named_one():
    table = door_table()
    assert table.check(Door.OPEN, Move.SHUT).targets == (Door.CLOSED,)
    assert table.target(Door.OPEN, Move.REMOVE) == Door.GONE
    assert table.target(Door.OPEN, Move.REMOVE, Door.CLOSED) == Door.CLOSED
    with pytest.raises(ValueError):  # a programming error, not a user's
        table.target(Door.OPEN, Move.REMOVE, Door.LOCKED)
    # A step that stays leads back to where it was taken.
    assert table.target(Door.LOCKED, Move.KNOCK) == Door.LOCKED
    assert table.target(Door.CLOSED, Move.KNOCK) == Door.CLOSED


def test_a_refusal_gives_the_steps_own_reason_and_the_current_status():
    with pytest.raises(ServiceError) as error:
        door_table().check(Door.LOCKED, Move.OPEN)
    assert error.value.code == "invalid_transition" and error.value.field == "action"
    assert error.value.message == "门上锁了，先开锁（当前状态：已上锁）。"


def test_a_step_already_taken_says_so():
    with pytest.raises(ServiceError) as error:
        door_table().check(Door.LOCKED, Move.LOCK)
    assert error.value.message == "该门已上锁，不能重复上锁（当前状态：已上锁）。"


def test_without_a_reason_the_refusal_lists_what_can_be_done():
    with pytest.raises(ServiceError) as error:
        door_table().check(Door.OPEN, Move.UNLOCK)
    assert error.value.message == "该门当前为“已打开”，不能“开锁”；可以“关门”、“拆除”。"
    with pytest.raises(ServiceError) as error:
        door_table().check(Door.GONE, Move.SHUT)
    assert error.value.message == "该门当前为“已拆除”，不能“关门”，办理已结束。"


def test_a_closed_status_gives_its_own_reason_and_the_table_its_own_code():
    table = door_table(closed={Door.GONE: "门已拆除，不能再动"}, code="step_out_of_order")
    with pytest.raises(ServiceError) as error:
        table.check(Door.GONE, Move.OPEN)
    assert error.value.code == "step_out_of_order"
    assert error.value.message == "门已拆除，不能再动（当前状态：已拆除）。"
    # "Already" comes first, then the closed status, then the step's reason.
    with pytest.raises(ServiceError) as error:
        table.check(Door.LOCKED, Move.LOCK)
    assert "不能重复上锁" in error.value.message


def test_an_unknown_action_is_refused_with_its_own_code():
    with pytest.raises(ServiceError) as error:
        door_table().check(Door.OPEN, "fly")
    assert error.value.code == "invalid_action" and "fly" in error.value.message


def test_edges_list_every_source_action_target():
    edges = door_table().edges()
    assert (Door.OPEN, Move.SHUT, Door.CLOSED) in edges
    assert (Door.OPEN, Move.REMOVE, Door.GONE) in edges and (Door.OPEN, Move.REMOVE, Door.CLOSED) in edges
    assert (Door.LOCKED, Move.KNOCK, Door.LOCKED) in edges and (Door.CLOSED, Move.KNOCK, Door.CLOSED) in edges
    assert len(edges) == len(set(edges)) == 1 + 1 + 1 + 1 + 2 + 4


def test_an_action_declared_twice_or_leading_nowhere_is_refused():
    with pytest.raises(ValueError, match="declared twice"):
        TransitionTable(
            subject="门",
            statuses=Door,
            actions=Move,
            transitions=(
                Transition(Move.SHUT, frozenset({Door.OPEN}), (Door.CLOSED,)),
                Transition(Move.SHUT, frozenset({Door.LOCKED}), (Door.CLOSED,)),
            ),
        )
    with pytest.raises(ValueError, match="leads nowhere"):
        TransitionTable(
            subject="门", statuses=Door, actions=Move, transitions=(Transition(Move.SHUT, frozenset(), ()),)
        )


# --- transition_run on a real record -----------------------------------------------------------------


@pytest.fixture
def warning(city) -> WarningSignal:
    enterprise = EnterpriseFactory(org_unit=city.community_a)
    now = timezone.now()
    return WarningSignal.objects.create(
        enterprise=enterprise,
        category="wage_arrears",
        discovered_on=datetime.date(2012, 5, 20),
        reported_at=now,
        status_changed_at=now,
    )


def audits(warning: WarningSignal) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(entity="reporting.warningsignal", object_id=str(warning.pk)))


def run(warning: WarningSignal, action: str, **options):
    return transition_run(
        instance=warning,
        table=WARNING_TABLE,
        action=action,
        actor=None,
        unit_path=lambda row: row.enterprise.org_unit.path,
        related=("enterprise__org_unit",),
        **options,
    )


def test_a_step_applies_its_values_moves_the_status_bumps_the_version_and_audits(warning):
    seen = []
    row = run(
        warning,
        WarningAction.VERIFY,
        version=1,
        audit_fields=("handling_note",),
        apply=lambda row, target: {"handling_note": f"核实为{WarningStatus(target).label}"},
        after=lambda row, from_status, to_status: seen.append((from_status, to_status)),
    )
    assert seen == [(WarningStatus.REPORTED, WarningStatus.VERIFIED)]
    warning.refresh_from_db()
    assert warning.status == WarningStatus.VERIFIED and row.status == WarningStatus.VERIFIED
    assert warning.handling_note == "核实为已核实" and warning.version == 2
    [entry] = audits(warning)
    assert entry.action == "update" and entry.note == "核实"
    assert entry.changes == {"status": ["已报告", "已核实"], "handling_note": ["", "核实为已核实"]}
    assert entry.unit_path == warning.enterprise.org_unit.path


def test_a_stale_version_is_a_conflict_and_changes_nothing(warning):
    run(warning, WarningAction.VERIFY, version=1)
    with pytest.raises(ServiceError) as error:
        run(warning, WarningAction.HANDLE, version=1)
    assert error.value.code == "conflict" and error.value.message == CONFLICT_MESSAGE
    with pytest.raises(ServiceError) as error:
        run(warning, WarningAction.HANDLE, version=1, conflict="该预警已被他人修改。")
    assert error.value.message == "该预警已被他人修改。"
    warning.refresh_from_db()
    assert warning.status == WarningStatus.VERIFIED and warning.version == 2
    assert len(audits(warning)) == 1


def test_a_guard_refusal_rolls_back_before_anything_is_applied(warning):
    applied = []

    def guard(row):
        raise ServiceError("not_allowed_here", "不在您的辖区。")

    with pytest.raises(ServiceError) as error:
        run(warning, WarningAction.VERIFY, guard=guard, apply=lambda row, target: applied.append(row))
    assert error.value.code == "not_allowed_here" and applied == []
    warning.refresh_from_db()
    assert warning.status == WarningStatus.REPORTED and warning.version == 1 and audits(warning) == []


def test_a_step_the_table_refuses_changes_nothing(warning):
    with pytest.raises(ServiceError) as error:
        run(warning, WarningAction.RESOLVE)
    assert error.value.code == "invalid_transition" and "核实" in error.value.message
    warning.refresh_from_db()
    assert warning.status == WarningStatus.REPORTED and warning.version == 1 and audits(warning) == []


def test_a_service_error_from_apply_leaves_the_row_and_the_audit_untouched(warning):
    def apply(row, target):
        row.handling_note = "半途写入"
        raise ServiceError("required", "请填写处置情况。", field="note")

    with pytest.raises(ServiceError):
        run(warning, WarningAction.VERIFY, version=1, apply=apply)
    warning.refresh_from_db()
    assert warning.status == WarningStatus.REPORTED and warning.handling_note == "" and warning.version == 1
    assert audits(warning) == []


def test_a_service_error_from_after_rolls_back_the_saved_step(warning):
    def after(row, from_status, to_status):
        raise ServiceError("log", "记录失败。")

    with pytest.raises(ServiceError):
        run(warning, WarningAction.VERIFY, after=after)
    warning.refresh_from_db()
    assert warning.status == WarningStatus.REPORTED and warning.version == 1 and audits(warning) == []


def test_the_note_may_be_computed_and_extra_audit_entries_added(warning):
    run(
        warning,
        WarningAction.VERIFY,
        note=lambda row, from_status, to_status: f"{from_status}→{to_status}",
        audit_extra=lambda row, from_status, to_status: {"reason": [None, "电话核实"]},
    )
    [entry] = audits(warning)
    assert entry.note == "reported→verified"
    assert entry.changes == {"status": ["已报告", "已核实"], "reason": [None, "电话核实"]}


def test_lock_row_refuses_a_vanished_row(warning):
    gone = WarningSignal(pk=warning.pk + 1000)
    with pytest.raises(ServiceError) as error:
        lock_row(gone, not_found="该预警不存在。")
    assert error.value.code == "not_found" and error.value.message == "该预警不存在。"
