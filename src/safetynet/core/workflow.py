"""Workflows as explicit transition tables, and the one way a step is taken.

Every workflow of the platform (collective contracts, cases, warnings, assistance applications…) declares a
:class:`TransitionTable`: which action may follow which status and where it leads, with the Chinese reason
given when a step is out of order. :func:`transition_run` is the one shape of a step: lock the row, check the
version the user saw, ask the table, apply the step's own changes, move the status, save, write the audit
row — all in one transaction, so two officers pressing the same button at once get one step and one
"conflict".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models, transaction

from safetynet.core.errors import ServiceError
from safetynet.core.models import AuditAction
from safetynet.core.services import audit_diff, audit_record, audit_snapshot

M = TypeVar("M", bound=models.Model)

CONFLICT_MESSAGE = "该记录已被其他人修改，请刷新页面后重新操作。"


@dataclass(frozen=True)
class Transition:
    """``action`` may be taken in any of ``sources`` and leads to one of ``targets`` (the first by default)."""

    action: str
    sources: frozenset[str]
    targets: tuple[str, ...]
    # Why the step is refused when the record is not in one of ``sources``; empty: a message built from the
    # table ("当前为…，不能…；可以…").
    refusal: str = ""
    # A step that leaves the status as it is (a note, a document, a leader named): ``targets`` may then be
    # empty, and the step leads back to the status it was taken in.
    stays: bool = False


class TransitionTable:
    """The workflow of one kind of record as data: checked by services, listed by pages as buttons."""

    def __init__(
        self,
        *,
        subject: str,
        statuses: type[models.TextChoices],
        actions: type[models.TextChoices],
        transitions: Iterable[Transition],
        already: Mapping[str, Iterable[str]] | None = None,
        code: str = "invalid_transition",
        closed: Mapping[str, str] | None = None,
    ) -> None:
        self.subject = subject  # "合同", "案件", "申请": the noun in messages
        self.statuses = statuses
        self.actions = actions
        self.code = code
        self.transitions: dict[str, Transition] = {}
        for transition in transitions:
            if transition.action in self.transitions:
                raise ValueError(f"action {transition.action} declared twice")
            if not transition.targets and not transition.stays:
                raise ValueError(f"action {transition.action} leads nowhere")
            self.transitions[transition.action] = transition
        # Statuses reached after an action, so a refusal can say "already done" instead of "not yet".
        self.already = {action: frozenset(states) for action, states in (already or {}).items()}
        # Statuses where the record's handling has ended, with the reason every refused step gives there
        # ("合同协商已终止，不能继续办理"); it comes after "already", before the step's own refusal.
        self.closed = dict(closed or {})

    def _status_label(self, status: str) -> str:
        try:
            return str(self.statuses(status).label)
        except ValueError:
            return status

    def action_label(self, action: str) -> str:
        try:
            return str(self.actions(action).label)
        except ValueError:
            return action

    def allowed(self, status: str) -> list[str]:
        """The actions that may follow ``status``, in the table's order (for buttons)."""
        return [action for action, t in self.transitions.items() if status in t.sources]

    def edges(self) -> list[tuple[str, str, str]]:
        """(from status, action, to status) for every edge: for documentation and tests."""
        rows: list[tuple[str, str, str]] = []
        for action, t in self.transitions.items():
            for source in sorted(t.sources):
                targets = dict.fromkeys((source, *t.targets) if t.stays else t.targets)
                rows.extend((source, action, target) for target in targets)
        return rows

    def check(self, status: str, action: str) -> Transition:
        """The transition if ``action`` may follow ``status``; otherwise a coded ServiceError saying why."""
        transition = self.transitions.get(action)
        if transition is None:
            raise ServiceError("invalid_action", f"没有“{action}”这项操作。", field="action")
        if status in transition.sources:
            return transition
        label = self.action_label(action)
        current = self._status_label(status)
        if status in self.already.get(action, ()):
            reason = f"该{self.subject}已{label}，不能重复{label}（当前状态：{current}）。"
        elif status in self.closed:
            reason = f"{self.closed[status]}（当前状态：{current}）。"
        elif transition.refusal:
            reason = f"{transition.refusal}（当前状态：{current}）。"
        else:
            possible = "、".join(f"“{self.action_label(a)}”" for a in self.allowed(status))
            reason = f"该{self.subject}当前为“{current}”，不能“{label}”" + (
                f"；可以{possible}。" if possible else "，办理已结束。"
            )
        raise ServiceError(self.code, reason, field="action")

    def target(self, status: str, action: str, target: str | None = None) -> str:
        """Where ``action`` from ``status`` leads: ``target`` if the table allows it, else the first target."""
        transition = self.check(status, action)
        if transition.stays and (target is None or target == status):
            return status
        if target is None:
            return transition.targets[0]
        if target not in transition.targets:  # a programming error, not a user's
            raise ValueError(f"{action} cannot lead to {target}")
        return target


def lock_row(
    instance: M,
    *,
    version: int | None = None,
    related: Sequence[str] = (),
    version_field: str = "version",
    not_found: str = "该记录不存在或已被删除。",
    conflict: str = CONFLICT_MESSAGE,
) -> M:
    """``instance``'s row locked for this transaction (SELECT … FOR UPDATE), fresh from the database.

    A ``version`` differing from the stored one means someone changed the record since the user loaded it:
    refused with code "conflict" rather than overwriting their change.
    """
    model = type(instance)
    queryset = model._default_manager.select_for_update(of=("self",) if related else ())
    if related:
        queryset = queryset.select_related(*related)
    try:
        locked = queryset.get(pk=instance.pk)
    except model.DoesNotExist:
        raise ServiceError("not_found", not_found) from None
    if version is not None and int(version) != getattr(locked, version_field):
        raise ServiceError("conflict", conflict, field="version")
    return locked


def _has_field(instance: models.Model, name: str) -> bool:
    try:
        instance._meta.get_field(name)
    except Exception:  # FieldDoesNotExist
        return False
    return True


def transition_run(
    *,
    instance: M,
    table: TransitionTable,
    action: str,
    actor: Any,
    unit_path: Callable[[M], str],
    audit_fields: Sequence[str] = (),
    version: int | None = None,
    target: str | None = None,
    status_field: str = "status",
    related: Sequence[str] = (),
    guard: Callable[[M], None] | None = None,
    apply: Callable[[M, str], Mapping[str, Any] | None] | None = None,
    after: Callable[[M, str, str], None] | None = None,
    note: str | Callable[[M, str, str], str] = "",
    conflict: str = CONFLICT_MESSAGE,
    not_found: str = "该记录不存在或已被删除。",
    audit_extra: Callable[[M, str, str], Mapping[str, Any]] | None = None,
) -> M:
    """Take one step of a workflow on ``instance``; returns the locked, saved row.

    In order, inside one transaction: lock the row (``related`` joined), refuse a stale ``version``;
    ``guard(row)`` checks what needs the fresh row (scope, level, role); the table checks the step;
    ``apply(row, target)`` checks the step's own conditions and returns the field values to set; the status
    moves to ``target``; a ``version`` field, if the model has one, goes up by one; the row is saved;
    ``after(row, from_status, target)`` writes the step's own records (a step log, a vote); the audit row
    records every change of ``audit_fields`` and the status. Any ServiceError rolls all of it back.

    ``note`` may be a function of (row, from status, to status), for a note only known once the step is
    applied; ``conflict`` and ``not_found`` word the refusals of a stale version and of a vanished row;
    ``audit_extra(row, from_status, to_status)`` adds entries that are not fields of the row to the audit
    changes (the reason given, the outcome recorded elsewhere).
    """
    with transaction.atomic():
        row = lock_row(instance, version=version, related=related, not_found=not_found, conflict=conflict)
        if guard is not None:
            guard(row)
        from_status = getattr(row, status_field)
        to_status = table.target(from_status, action, target)
        fields = [status_field, *(f for f in audit_fields if f != status_field)]
        before = audit_snapshot(row, fields)
        values = dict(apply(row, to_status) or {}) if apply is not None else {}
        for name, value in values.items():
            setattr(row, name, value)
        setattr(row, status_field, to_status)
        if _has_field(row, "version"):
            row.version = (row.version or 0) + 1
        row.save()
        if after is not None:
            after(row, from_status, to_status)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=row,
            changes=audit_diff(before, audit_snapshot(row, fields))
            | (dict(audit_extra(row, from_status, to_status)) if audit_extra is not None else {}),
            unit_path=unit_path(row),
            note=(note(row, from_status, to_status) if callable(note) else note)
            or table.action_label(action),
        )
        return row
