"""The audit trail for auditors: export a date range to XLSX, and the retention rule.

Audit rows are kept at least ``AUDIT_RETENTION_DAYS`` (180 days, MLPS 2.0 level 3). Nothing in the app edits or
deletes them (the admin is read-only, the API has no audit endpoint, the page only reads); the only way to
remove rows is ``audit_purge``, which refuses any cut-off later than today − 180 days and leaves a row saying
what it removed.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation

from safetynet.core.errors import ServiceError
from safetynet.core.models import AuditAction, AuditEntry
from safetynet.core.normalize import parse_date

AUDIT_RETENTION_DAYS = 180
EXPORT_COLUMNS = (
    "时间",
    "操作人",
    "地址",
    "操作",
    "对象类型",
    "对象编号",
    "对象",
    "字段变化",
    "说明",
    "所属单位路径",
)
_EXPORT_FIELDS = (
    "at",
    "actor_name",
    "address",
    "action",
    "entity",
    "object_id",
    "object_repr",
    "changes",
    "note",
    "unit_path",
)
_CELL_LIMIT = 32_767
_SHEET_ROWS = 1_048_576


def parse_day(value: str, *, option: str) -> datetime.date:
    """A day from the command line; ValueError with a Chinese message saying what to write."""
    try:
        return parse_date(value)
    except ValueError:
        raise ValueError(f"{option} “{value}”不是日期。请写成 YYYY-MM-DD，例如 2024-01-31。") from None


def day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def earliest_purge_limit(today: datetime.date | None = None) -> datetime.date:
    """The latest cut-off ``audit_purge`` accepts: rows older than it are at least 180 days old."""
    return (today or timezone.localdate()) - datetime.timedelta(days=AUDIT_RETENTION_DAYS)


def purgeable_entries(before: datetime.date, today: datetime.date | None = None) -> QuerySet[AuditEntry]:
    """The rows ``audit_purge`` would delete; ServiceError when ``before`` is later than today − 180 days."""
    limit = earliest_purge_limit(today)
    if before > limit:
        raise ServiceError(
            "audit_retention",
            f"变更记录至少保存 {AUDIT_RETENTION_DAYS} 天（等保 2.0 第三级），不能清理 {before.isoformat()} 之前的记录。"
            f"最晚只能指定 {limit.isoformat()}（今天减 {AUDIT_RETENTION_DAYS} 天）。",
            field="before",
        )
    return AuditEntry.objects.filter(at__lt=day_start(before))


@transaction.atomic
def audit_purge(*, actor: Any, before: datetime.date, today: datetime.date | None = None) -> int:
    """Delete the audit rows made before ``before`` (Beijing time, 00:00), refusing any day later than
    today − 180 days. Leaves one audit row saying how many were removed."""
    deleted, _ = purgeable_entries(before, today).delete()
    actor_known = actor is not None and getattr(actor, "is_authenticated", False)
    AuditEntry.objects.create(
        actor=actor if actor_known else None,
        actor_name=actor.get_username() if actor_known else "系统",
        action=AuditAction.DELETE,
        entity=AuditEntry._meta.label_lower,
        object_id="",
        object_repr=f"{before.isoformat()} 之前的变更记录",
        changes={"before": [None, before.isoformat()], "deleted": [None, deleted]},
        note=f"按保存期限清理 {before.isoformat()} 之前的变更记录 {deleted} 条",
    )
    return deleted


def _model_for(entity: str) -> Any:
    try:
        return apps.get_model(entity)
    except (LookupError, ValueError):
        return None


def _field_label(model: Any, name: str) -> str:
    try:
        field = model._meta.get_field(name)
    except (AttributeError, FieldDoesNotExist):
        return name
    if hasattr(field, "verbose_name"):
        return str(field.verbose_name)
    # A reverse relation has no verbose name of its own: the related model's names it.
    related = getattr(field, "related_model", None)
    return str(related._meta.verbose_name) if related is not None else name


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, list):
        return "、".join(_shown(v) for v in value)
    return str(value)


def change_text(model: Any, changes: Any) -> str:
    """One line per field: "字段：原值 → 新值" (a summary row's counts show as "字段：— → 147")."""
    if isinstance(changes, str):
        try:
            changes = json.loads(changes)
        except ValueError:
            return changes
    if not isinstance(changes, dict):
        return _shown(changes)
    lines = []
    for name, pair in changes.items():
        before, after = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        lines.append(f"{_field_label(model, name)}：{_shown(before)} → {_shown(after)}")
    return "\n".join(lines)


def audit_export_xlsx(start: datetime.date, end: datetime.date, out: Path, *, chunk_size: int = 2000) -> int:
    """Every audit row from ``start`` to ``end`` (whole days, Beijing time), oldest first, into ``out``.

    Streamed: a write-only workbook and rows read in chunks, so memory stays flat however long the range.
    Returns the number of rows written. The file is for the auditors and is always in Chinese, whatever
    language the process last served a page in.
    """
    with translation.override(settings.LANGUAGE_CODE):
        return _audit_export_xlsx(start, end, out, chunk_size=chunk_size)


def _audit_export_xlsx(start: datetime.date, end: datetime.date, out: Path, *, chunk_size: int) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    actions = dict(AuditAction.choices)
    models: dict[str, Any] = {}
    workbook = Workbook(write_only=True)
    sheets = 0
    sheet: Any = None
    rows_in_sheet = _SHEET_ROWS

    def text(value: Any) -> Any:
        # Text stays text: a value beginning with "=" must not become a formula in the auditor's Excel.
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", str(value or ""))[:_CELL_LIMIT])
        cell.data_type = "s"
        return cell

    def moment(value: datetime.datetime) -> Any:
        cell = WriteOnlyCell(sheet, value=timezone.localtime(value).replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell

    rows = (
        AuditEntry.objects.filter(
            at__gte=day_start(start), at__lt=day_start(end + datetime.timedelta(days=1))
        )
        .order_by("at", "pk")
        .values_list(*_EXPORT_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    count = 0
    for at, actor_name, address, action, entity, object_id, object_repr, changes, note, unit_path in rows:
        if rows_in_sheet >= _SHEET_ROWS:
            # Excel holds 1,048,576 rows a sheet; a longer range goes on in the next sheet.
            sheets += 1
            sheet = workbook.create_sheet("变更记录" if sheets == 1 else f"变更记录（{sheets}）")
            sheet.append(list(EXPORT_COLUMNS))
            rows_in_sheet = 1
        if entity not in models:
            models[entity] = _model_for(entity)
        model = models[entity]
        sheet.append(
            [
                moment(at),
                text(actor_name),
                text(address),
                text(actions.get(action, action)),
                text(str(model._meta.verbose_name) if model is not None else entity),
                text(object_id),
                text(object_repr),
                text(change_text(model, changes)),
                text(note),
                text(unit_path),
            ]
        )
        rows_in_sheet += 1
        count += 1
    if sheets == 0:
        sheet = workbook.create_sheet("变更记录")
        sheet.append(list(EXPORT_COLUMNS))
    workbook.save(str(out))
    return count
