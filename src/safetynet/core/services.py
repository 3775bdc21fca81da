"""Writing the audit trail. Services call these inside their own transaction; writing it schedules the
after-write hooks (``core.writes``) for when that transaction commits."""

from __future__ import annotations

import datetime
import decimal
import functools
from collections.abc import Iterable
from typing import Any

from django.db import models

from safetynet.core.context import current_address
from safetynet.core.models import AuditAction, AuditEntry
from safetynet.core.normalize import chinese
from safetynet.core.writes import after_write_schedule


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


@functools.lru_cache(maxsize=4096)
def choice_label(field: models.Field, value: Any) -> str:
    """The Chinese label of one of a field's choices (the value itself if it is none of them). Kept per process:
    choices are fixed in the code, and every audit row of a new record names several."""
    return chinese(dict(field.flatchoices).get(value, value))


def audit_snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The audited fields of a record as plain JSON values (a foreign key shows its display name)."""
    snap: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        value = getattr(instance, name)
        if getattr(field, "choices", None) and value not in (None, ""):
            value = (
                choice_label(field, value)
                if isinstance(value, str | int)
                else chinese(dict(field.flatchoices).get(value, value))
            )
        snap[name] = _plain(value)
    return snap


def audit_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def _actor_fields(actor: Any) -> dict[str, Any]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {"actor": None, "actor_name": "系统"}
    return {"actor": actor, "actor_name": actor.get_username()}


def audit_build(
    *,
    actor: Any,
    action: str,
    instance: models.Model,
    changes: dict[str, Any],
    unit_path: str = "",
    note: str = "",
) -> AuditEntry:
    return AuditEntry(
        **_actor_fields(actor),
        address=current_address(),
        action=action,
        entity=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:255],
        unit_path=unit_path,
        changes=changes,
        note=note[:255],
    )


def audit_record(
    *,
    actor: Any,
    action: str,
    instance: models.Model,
    changes: dict[str, Any],
    unit_path: str = "",
    note: str = "",
) -> AuditEntry:
    entry = audit_build(
        actor=actor, action=action, instance=instance, changes=changes, unit_path=unit_path, note=note
    )
    entry.save()
    after_write_schedule()
    return entry


def audit_created_build(
    *,
    actor: Any,
    instance: models.Model,
    fields: Iterable[str],
    unit_path: str = "",
    note: str = "",
    action: str = AuditAction.CREATE,
) -> AuditEntry:
    """The (unsaved) audit row of a new record: its audited fields, each from nothing to its value."""
    after = audit_snapshot(instance, fields)
    return audit_build(
        actor=actor,
        action=action,
        instance=instance,
        changes={k: [None, v] for k, v in after.items() if v not in (None, "")},
        unit_path=unit_path,
        note=note,
    )


def audit_created(
    *,
    actor: Any,
    instance: models.Model,
    fields: Iterable[str],
    unit_path: str = "",
    note: str = "",
    action: str = AuditAction.CREATE,
) -> AuditEntry:
    entry = audit_created_build(
        actor=actor, instance=instance, fields=fields, unit_path=unit_path, note=note, action=action
    )
    entry.save()
    after_write_schedule()
    return entry


def audit_bulk(entries: list[AuditEntry]) -> None:
    AuditEntry.objects.bulk_create(entries, batch_size=2000)
    after_write_schedule()
