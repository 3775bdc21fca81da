"""Every write of the reporting app: forms and their versions, reports, reminders, warnings.

Keyword-only, one transaction each, the audit rows inside it. ``actor`` None is the system (commands,
imports, the sweep): full scope, every capability. A refusal is a :class:`ServiceError` with a stable code,
a Chinese message naming what is wrong and the field it concerns; nothing is saved.

Who may do what (see accounts.models.Capability): filing reports needs ``file_reports``, handling
warnings ``handle_warnings`` (operators and administrators have both); designing forms needs
``design_forms`` and a unit at the top of the hierarchy (the city's administrators).
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditAction
from safetynet.core.normalize import chinese, clean_code, clean_free_text, clean_text
from safetynet.core.scope import user_scope_path
from safetynet.core.services import (
    audit_build,
    audit_bulk,
    audit_created,
    audit_diff,
    audit_record,
    audit_snapshot,
)
from safetynet.core.workflow import transition_run
from safetynet.orgs.models import OrgLevel, OrgUnit
from safetynet.reporting import periods
from safetynet.reporting.models import (
    LEVEL_CHOICES,
    MAX_DUE_DAY,
    WARNING_TABLE,
    FieldKind,
    FormVersion,
    PeriodKind,
    Reminder,
    ReminderKind,
    Report,
    ReportForm,
    ReportSource,
    WarningAction,
    WarningCategory,
    WarningSignal,
    WarningSource,
    WarningStatus,
)

FORM_AUDIT_FIELDS = (
    "code",
    "name",
    "period_kind",
    "level",
    "due_day",
    "is_warning",
    "enabled_from",
    "enabled_to",
    "instructions",
)
REPORT_AUDIT_FIELDS = ("form", "period", "unit", "submitted_at", "is_zero", "content", "note", "source")
WARNING_AUDIT_FIELDS = (
    "enterprise",
    "category",
    "discovered_on",
    "reported_at",
    "workers_involved",
    "amount",
    "months",
    "description",
    "status",
    "source",
)
LEVEL_LABELS = dict(LEVEL_CHOICES)
STAFF_ROLES = ("operator", "unit_admin")
CONFLICT_MESSAGE = "该预警已被他人修改，请刷新后再操作。"


# --- who may act ----------------------------------------------------------------------------------------


def _active(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def _system_user(user: Any) -> bool:
    return user.is_superuser and user.org_unit_id is None


def can_file_reports(user: Any) -> bool:
    if not _active(user):
        return False
    return _system_user(user) or user.can("file_reports")


def can_handle_warnings(user: Any) -> bool:
    if not _active(user):
        return False
    return _system_user(user) or user.can("handle_warnings")


def can_design_forms(user: Any) -> bool:
    """Forms are one table for the whole city: only an administrator of the city itself designs them."""
    if not _active(user):
        return False
    if _system_user(user):
        return True
    return bool(user.can("design_forms") and user.org_unit_id and user.org_unit.parent_id is None)


def _require(actor: Any, check: Any, message: str) -> None:
    if actor is not None and not check(actor):
        raise NotAllowed(message)


def _require_unit_in_scope(actor: Any, unit: OrgUnit, *, field: str = "unit") -> None:
    if actor is None:
        return
    path = user_scope_path(actor)
    if path is None or not unit.path.startswith(path):
        raise OutOfScope(f"单位“{unit.name}”不在您的管辖范围内。", field=field)


def _who(actor: Any) -> Any:
    return actor if _active(actor) else None


def _city_path(actor: Any) -> str:
    """Form changes concern the whole city: their audit rows go to the city's path."""
    if actor is not None and getattr(actor, "org_unit", None) is not None:
        return actor.org_unit.path
    root = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    return root.path if root else ""


# --- forms --------------------------------------------------------------------------------------------


_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")
_CHOICE_SEPARATORS = re.compile(r"[;；、\n|]+")


def _check_form_attributes(data: dict[str, Any]) -> None:
    if data.get("period_kind") not in PeriodKind.values:
        raise ServiceError("invalid", "报送周期应为“月”“季”或“年”。", field="period_kind")
    if data.get("level") not in LEVEL_LABELS:
        raise ServiceError("invalid", "报送层级应为区市县、乡镇街道或村社区。", field="level")
    due_day = data.get("due_day")
    if not isinstance(due_day, int) or isinstance(due_day, bool) or not 1 <= due_day <= MAX_DUE_DAY:
        raise ServiceError(
            "invalid_due_day",
            f"截止日应为 1–{MAX_DUE_DAY} 之间的整数（每个月都有的日子），不能是“{due_day}”。",
            field="due_day",
        )
    if not data.get("name"):
        raise ServiceError("required", "请填写报表名称。", field="name")
    start, end = data.get("enabled_from"), data.get("enabled_to")
    if start and end and end <= start:
        raise ServiceError("dates_order", "停用日期应晚于启用日期。", field="enabled_to")


def clean_field_definitions(fields: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The designed fields, checked and normalised; each keeps its ``key`` (new ones get the next free one)."""
    cleaned: list[dict[str, Any]] = []
    raw = list(fields)
    used = {str(f.get("key")) for f in raw if f.get("key")}
    counter = 1
    labels: set[str] = set()
    for position, field in enumerate(raw, start=1):
        label = clean_text(field.get("label", ""))
        if not label:
            raise ServiceError("required", f"第 {position} 个字段没有名称，请填写。", field="fields")
        if len(label) > 60:
            raise ServiceError("invalid", f"字段“{label[:20]}…”的名称最多 60 个字。", field="fields")
        if label in labels:
            raise ServiceError("duplicate", f"字段名称“{label}”重复，请改一个。", field="fields")
        labels.add(label)
        kind = field.get("kind")
        if kind not in FieldKind.values:
            raise ServiceError("invalid", f"字段“{label}”的类型不对。", field="fields")
        choices: list[str] = []
        if kind == FieldKind.CHOICE:
            given = field.get("choices") or []
            if isinstance(given, str):
                given = _CHOICE_SEPARATORS.split(given)
            choices = [c for c in (clean_text(x) for x in given) if c]
            if len(choices) < 2:
                raise ServiceError(
                    "invalid", f"选项字段“{label}”至少要有两个选项，用“、”或换行分隔。", field="fields"
                )
            if len(set(choices)) != len(choices):
                raise ServiceError("duplicate", f"选项字段“{label}”有重复的选项。", field="fields")
        key = str(field.get("key") or "")
        if not key:
            while f"f{counter}" in used:
                counter += 1
            key = f"f{counter}"
            used.add(key)
        cleaned.append(
            {
                "key": key,
                "label": label,
                "kind": kind,
                "required": bool(field.get("required")),
                "choices": choices,
                "help": clean_text(field.get("help", ""))[:200],
            }
        )
    if len({f["key"] for f in cleaned}) != len(cleaned):
        raise ServiceError("duplicate", "字段编号重复，请刷新页面后重新设计。", field="fields")
    return cleaned


@transaction.atomic
def reportform_create(
    *,
    actor: Any,
    code: str,
    name: str,
    period_kind: str,
    level: int,
    due_day: int,
    is_warning: bool = False,
    enabled_from: datetime.date | None = None,
    enabled_to: datetime.date | None = None,
    instructions: str = "",
    fields: Iterable[dict[str, Any]] = (),
    now: datetime.datetime | None = None,
) -> ReportForm:
    """A new form with its first version (fields may be empty: a form that is only a statement or a zero)."""
    _require(actor, can_design_forms, "只有市级管理员可以设计报表。")
    code = clean_text(code).replace(" ", "").upper()
    if not _CODE.match(code):
        raise ServiceError(
            "invalid_code", "报表代码应为字母、数字、“-”或“_”，最多 20 位，如 YJ01。", field="code"
        )
    data = {
        "code": code,
        "name": clean_text(name),
        "period_kind": period_kind,
        "level": int(level) if str(level).isdigit() else level,
        "due_day": due_day,
        "is_warning": bool(is_warning),
        "enabled_from": enabled_from,
        "enabled_to": enabled_to,
        "instructions": clean_free_text(instructions),
    }
    _check_form_attributes(data)
    if ReportForm.objects.filter(code=code).exists():
        raise ServiceError("duplicate_code", f"报表代码“{code}”已存在。", field="code")
    definitions = clean_field_definitions(fields)
    form = ReportForm.objects.create(**data)
    FormVersion.objects.create(
        form=form, number=1, fields=definitions, published_at=now or timezone.now(), published_by=_who(actor)
    )
    audit_created(actor=actor, instance=form, fields=FORM_AUDIT_FIELDS, unit_path=_city_path(actor))
    return form


@transaction.atomic
def reportform_update(*, actor: Any, form: ReportForm, **changes: Any) -> ReportForm:
    """Change a form's attributes. Its period kind and level stay once reports exist (they would change what
    those reports mean)."""
    _require(actor, can_design_forms, "只有市级管理员可以修改报表。")
    form = ReportForm.objects.select_for_update().get(pk=form.pk)
    allowed = set(FORM_AUDIT_FIELDS) - {"code"}
    unknown = set(changes) - allowed
    if unknown:
        raise ServiceError("invalid", f"不能修改：{'、'.join(sorted(unknown))}。")
    before = audit_snapshot(form, FORM_AUDIT_FIELDS)
    data = {name: getattr(form, name) for name in FORM_AUDIT_FIELDS}
    data.update(changes)
    if "name" in changes:
        data["name"] = clean_text(changes["name"])
    if "instructions" in changes:
        data["instructions"] = clean_free_text(changes["instructions"])
    _check_form_attributes(data)
    has_reports = form.reports.exists()
    for name in ("period_kind", "level"):
        if has_reports and data[name] != getattr(form, name):
            label = chinese(ReportForm._meta.get_field(name).verbose_name)
            raise ServiceError(
                "has_reports", f"该报表已有报送记录，不能修改{label}；如需调整请新建报表。", field=name
            )
    for name in allowed:
        setattr(form, name, data[name])
    changed = audit_diff(before, audit_snapshot(form, FORM_AUDIT_FIELDS))
    if not changed:
        return form
    form.save()
    audit_record(
        actor=actor, action=AuditAction.UPDATE, instance=form, changes=changed, unit_path=_city_path(actor)
    )
    return form


def current_version(form: ReportForm) -> FormVersion:
    version = form.versions.order_by("-number").first()
    if version is None:  # every form is created with version 1; a form without one is a bug
        raise ServiceError("no_version", f"报表“{form}”没有字段版本，请联系市级管理员。")
    return version


@transaction.atomic
def reportform_publish_fields(
    *,
    actor: Any,
    form: ReportForm,
    fields: Iterable[dict[str, Any]],
    note: str = "",
    now: datetime.datetime | None = None,
) -> FormVersion:
    """A new version of the form's fields: reports made from now on use it, older ones keep theirs."""
    _require(actor, can_design_forms, "只有市级管理员可以设计报表。")
    form = ReportForm.objects.select_for_update().get(pk=form.pk)
    latest = current_version(form)
    definitions = clean_field_definitions(fields)
    if definitions == latest.fields:
        return latest
    version = FormVersion.objects.create(
        form=form,
        number=latest.number + 1,
        fields=definitions,
        published_at=now or timezone.now(),
        published_by=_who(actor),
        note=clean_text(note)[:200],
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=form,
        changes={"fields": [[f["label"] for f in latest.fields], [f["label"] for f in definitions]]},
        unit_path=_city_path(actor),
        note=f"发布第 {version.number} 版字段",
    )
    return version


# --- reports ------------------------------------------------------------------------------------------


def check_report_target(
    *, form: ReportForm, unit: OrgUnit, period: periods.Period, submitted_at: datetime.datetime
) -> None:
    """Refuse a report that is not wanted: form not in use, period not ended by its time, unit of another
    level, or not open on every day of the period. Raises ServiceError naming the field."""
    if not form.in_use_for(period):
        since = form.enabled_from.isoformat() if form.enabled_from else "—"
        until = form.enabled_to.isoformat() if form.enabled_to else "—"
        raise ServiceError(
            "form_not_in_use",
            f"报表“{form.name}”在 {period.label}未启用（启用日期 {since}，停用日期 {until}），不能报送该期。",
            field="form",
        )
    if submitted_at < periods.moment(period.end):
        raise ServiceError(
            "period_not_ended",
            f"报告期 {period.label}到 {period.last_day.isoformat()} 才结束，"
            f"{periods.beijing_date(submitted_at).isoformat()} 还不能报送该期，请在期末之后报送。",
            field="period",
        )
    if unit.level != form.level:
        raise ServiceError(
            "not_expected",
            f"“{unit.name}”是{chinese(OrgLevel(unit.level).label)}，报表“{form.name}”由"
            f"{LEVEL_LABELS[form.level]}报送，本单位不需要报送。",
            field="unit",
        )
    if unit.valid_to is not None and unit.valid_to <= period.last_day:
        raise ServiceError(
            "unit_closed",
            f"“{unit.name}”已于 {unit.valid_to.isoformat()} 停用，{period.label}未整期存续，不需要也不能报送。",
            field="unit",
        )
    if unit.valid_from is not None and unit.valid_from > period.start:
        raise ServiceError(
            "unit_not_open",
            f"“{unit.name}”于 {unit.valid_from.isoformat()} 启用，{period.label}未整期存续，不需要也不能报送。",
            field="unit",
        )


def _decimal(label: str, key: str, value: Any) -> decimal.Decimal:
    text = clean_text(value).replace(",", "").replace(" ", "")
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise ServiceError("invalid", f"“{label}”应填数字，不能是“{text}”。", field=key) from None
    if not number.is_finite() or abs(number) >= decimal.Decimal("1e13"):
        raise ServiceError("invalid", f"“{label}”的数值不对。", field=key)
    return number


def clean_report_values(version: FormVersion, values: dict[str, Any] | None) -> dict[str, Any]:
    """The values of a full report checked against the version's fields. Numbers are kept as text (exact
    decimals), yes/no as booleans, text as typed."""
    values = values or {}
    cleaned: dict[str, Any] = {}
    for field in version.fields:
        key, label, kind = field["key"], field["label"], field["kind"]
        raw = values.get(key)
        empty = raw is None or (isinstance(raw, str) and not raw.strip())
        if empty:
            if field.get("required"):
                raise ServiceError("required", f"请填写“{label}”（必填）。", field=key)
            continue
        if kind in (FieldKind.NUMBER, FieldKind.AMOUNT):
            number = _decimal(label, key, raw)
            if kind == FieldKind.AMOUNT and number < 0:
                raise ServiceError("negative", f"“{label}”是金额，不能为负数（填写了 {number}）。", field=key)
            if kind == FieldKind.AMOUNT:
                number = number.quantize(decimal.Decimal("0.01"))
            cleaned[key] = str(number)
        elif kind == FieldKind.WORKERS:
            number = _decimal(label, key, raw)
            if number < 0 or number != number.to_integral_value():
                raise ServiceError("invalid", f"“{label}”是人数，应填不小于 0 的整数。", field=key)
            cleaned[key] = int(number)
        elif kind == FieldKind.YES_NO:
            if isinstance(raw, bool):
                cleaned[key] = raw
            elif clean_text(raw) in ("是", "1", "true", "True", "yes", "on"):
                cleaned[key] = True
            elif clean_text(raw) in ("否", "0", "false", "False", "no", "off"):
                cleaned[key] = False
            else:
                raise ServiceError("invalid", f"“{label}”应填“是”或“否”。", field=key)
        elif kind == FieldKind.CHOICE:
            text = clean_text(raw)
            if text not in field.get("choices", []):
                raise ServiceError(
                    "invalid", f"“{label}”应为{'、'.join(field.get('choices', []))}之一。", field=key
                )
            cleaned[key] = text
        else:
            text = clean_free_text(raw)
            if len(text) > 2000:
                raise ServiceError("invalid", f"“{label}”最多 2000 字。", field=key)
            cleaned[key] = text
    unknown = set(values) - {f["key"] for f in version.fields}
    if unknown:
        raise ServiceError("invalid", f"报表中没有这些字段：{'、'.join(sorted(unknown))}。", field="values")
    return cleaned


@transaction.atomic
def report_submit(
    *,
    actor: Any,
    form: ReportForm,
    unit: OrgUnit,
    period: str | periods.Period,
    is_zero: bool,
    values: dict[str, Any] | None = None,
    content: str = "",
    note: str = "",
    submitted_at: datetime.datetime | None = None,
    source: str = ReportSource.WEB,
) -> Report:
    """File a report (a zero report when ``is_zero``: no values). A second report for the same form, period
    and unit is a correction: kept beside the first, which still decides timeliness."""
    _require(actor, can_file_reports, "您的角色不能报送报表（查看人员只能查看）。")
    _require_unit_in_scope(actor, unit)
    now = timezone.now()
    moment = submitted_at or now
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=periods.BEIJING)
    if moment > now + datetime.timedelta(minutes=5):
        raise ServiceError("future", "报送时间不能晚于现在。", field="submitted_at")
    if isinstance(period, str):
        try:
            period = form.parse_period(period)
        except ValueError as exc:
            raise ServiceError("invalid_period", f"{exc}。", field="period") from None
    elif period.kind != form.period_kind:
        raise ServiceError("invalid_period", "报告期与报表的报送周期不符。", field="period")
    unit = OrgUnit.objects.get(pk=unit.pk)  # the unit's dates as they are now, not as a caller cached them
    check_report_target(form=form, unit=unit, period=period, submitted_at=moment)
    version = current_version(form)
    cleaned = {} if is_zero else clean_report_values(version, values)
    content = clean_free_text(content)
    if len(content) > 5000:
        raise ServiceError("invalid", "“内容”最多 5000 字。", field="content")
    if Report.objects.filter(form=form, period=period.code, unit=unit, submitted_at=moment).exists():
        raise ServiceError("duplicate", "同一时间已有一份该期报表，请勿重复提交。", field="submitted_at")
    report = Report.objects.create(
        form=form,
        version=version,
        period=period.code,
        unit=unit,
        submitted_at=moment,
        is_zero=bool(is_zero),
        values=cleaned,
        content=content,
        note=clean_text(note)[:200],
        submitted_by=_who(actor),
        source=source,
    )
    earlier = Report.objects.filter(
        form=form, period=period.code, unit=unit, submitted_at__lt=moment
    ).exists()
    audit_created(
        actor=actor,
        instance=report,
        fields=REPORT_AUDIT_FIELDS,
        unit_path=unit.path,
        note="更正" if earlier else ("零申报" if is_zero else "报送"),
    )
    return report


# --- reminders ----------------------------------------------------------------------------------------


def staff_of(unit_ids: Iterable[int], roles: Iterable[str] = STAFF_ROLES) -> dict[int, list[Any]]:
    """The active staff of each unit with one of ``roles``, by unit id (one query)."""
    from django.contrib.auth import get_user_model

    by_unit: dict[int, list[Any]] = {}
    ids = list(set(unit_ids))
    if ids:
        users = get_user_model().objects.filter(org_unit_id__in=ids, role__in=list(roles), is_active=True)
        for user in users:
            by_unit.setdefault(user.org_unit_id, []).append(user)
    return by_unit


def filing_link(form: ReportForm, period: periods.Period) -> str:
    return f"/reporting/?form={form.pk}&period={period.code}"


@transaction.atomic
def reminder_send(
    *,
    actor: Any,
    form: ReportForm,
    period: periods.Period,
    units: Iterable[OrgUnit],
    now: datetime.datetime | None = None,
) -> int:
    """催报: remind the staff of each unit that has not reported (a unit that reported is skipped). Returns
    how many units were reminded. In-app and email through the cases' notifications, all in bulk."""
    from safetynet.cases.models import Notification
    from safetynet.cases.notifications import notify_bulk

    _require(actor, can_file_reports, "您的角色不能发送催报提醒。")
    now = now or timezone.now()
    targets = list(units)
    for unit in targets:
        _require_unit_in_scope(actor, unit)
    reported = set(
        Report.objects.filter(form=form, period=period.code, unit__in=targets).values_list(
            "unit_id", flat=True
        )
    )
    pending = [u for u in targets if u.pk not in reported]
    if not pending:
        return 0
    staff = staff_of(u.pk for u in pending)
    sender = getattr(actor, "org_unit", None)
    text = (
        f"催报：{form.name}（{period.label}）尚未报送，截止日 {period.due_date(form.due_day).isoformat()}。"
        + (f"——{sender.name}" if sender is not None else "")
    )
    link = filing_link(form, period)
    rows, emails = [], []
    for unit in pending:
        for user in staff.get(unit.pk, []):
            rows.append(Notification(recipient=user, text=text[:300], link=link, created_at=now))
            if user.email:
                emails.append((f"【安全网】{text[:60]}", f"{text}\n\n{link}", user.email))
    notify_bulk(rows, emails)
    reminders = Reminder.objects.bulk_create(
        Reminder(
            form=form,
            period=period.code,
            unit=unit,
            kind=ReminderKind.MANUAL,
            sent_at=now,
            sent_by=_who(actor),
            recipients=len(staff.get(unit.pk, [])),
        )
        for unit in pending
    )
    audit_bulk(
        [
            audit_build(
                actor=actor,
                action=AuditAction.CREATE,
                instance=reminder,
                changes={
                    "kind": [None, ReminderKind.MANUAL.label],
                    "recipients": [None, reminder.recipients],
                },
                unit_path=reminder.unit.path,
                note=f"催报 {form.code} {period.code}",
            )
            for reminder in reminders
        ]
    )
    return len(pending)


# --- warnings -----------------------------------------------------------------------------------------


def _optional_amount(value: Any) -> decimal.Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = clean_text(value).replace(",", "").replace(" ", "")
    try:
        amount = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise ServiceError("invalid", f"涉及金额应为数字（元），不能是“{text}”。", field="amount") from None
    if not amount.is_finite() or amount >= decimal.Decimal("1e12"):
        raise ServiceError("invalid", "涉及金额的数值不对。", field="amount")
    if amount < 0:
        raise ServiceError("negative", f"涉及金额不能为负数（填写了 {amount}）。", field="amount")
    return amount.quantize(decimal.Decimal("0.01"))


def _optional_count(value: Any, field: str, label: str, limit: int) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(clean_text(value)) if not isinstance(value, int) else value
    except ValueError:
        raise ServiceError("invalid", f"{label}应为不小于 0 的整数。", field=field) from None
    if isinstance(number, bool) or number < 0 or number > limit:
        raise ServiceError("invalid", f"{label}应为 0–{limit} 之间的整数。", field=field)
    return number


def clean_warning(
    *,
    category: str,
    discovered_on: datetime.date | None,
    reported_at: datetime.datetime,
    workers_involved: Any = None,
    amount: Any = None,
    months: Any = None,
    description: str = "",
    now: datetime.datetime | None = None,
) -> dict[str, Any]:
    """The checked fields of a warning (shared by the service and the import)."""
    now = now or timezone.now()
    if category not in WarningCategory.values:
        raise ServiceError(
            "invalid",
            f"预警类别应为{'、'.join(str(c) for c in WarningCategory.labels)}之一。",
            field="category",
        )
    if discovered_on is None:
        raise ServiceError("required", "请填写发现日期。", field="discovered_on")
    if timezone.is_naive(reported_at):
        reported_at = reported_at.replace(tzinfo=periods.BEIJING)
    if reported_at > now + datetime.timedelta(minutes=5):
        raise ServiceError("future", "报告时间不能晚于现在。", field="reported_at")
    if periods.beijing_date(reported_at) < discovered_on:
        raise ServiceError(
            "reported_before_discovered",
            f"报告时间（{periods.beijing_date(reported_at).isoformat()}）不能早于发现日期"
            f"（{discovered_on.isoformat()}）。",
            field="reported_at",
        )
    text = clean_free_text(description)
    if len(text) > 5000:
        raise ServiceError("invalid", "情况说明最多 5000 字。", field="description")
    return {
        "category": category,
        "discovered_on": discovered_on,
        "reported_at": reported_at,
        "workers_involved": _optional_count(workers_involved, "workers_involved", "涉及人数", 1_000_000),
        "amount": _optional_amount(amount),
        "months": _optional_count(months, "months", "涉及月数", 600),
        "description": text,
    }


@transaction.atomic
def warning_create(
    *,
    actor: Any,
    enterprise: Any,
    category: str,
    discovered_on: datetime.date | None,
    reported_at: datetime.datetime | None = None,
    workers_involved: Any = None,
    amount: Any = None,
    months: Any = None,
    description: str = "",
    source: str = WarningSource.WEB,
    now: datetime.datetime | None = None,
) -> WarningSignal:
    """Record a warning signal about an enterprise in the actor's scope. 情况说明 is kept as typed."""
    _require(actor, can_handle_warnings, "您的角色不能登记预警信息（查看人员只能查看）。")
    _require_unit_in_scope(actor, enterprise.org_unit, field="enterprise")
    now = now or timezone.now()
    data = clean_warning(
        category=category,
        discovered_on=discovered_on,
        reported_at=reported_at or now,
        workers_involved=workers_involved,
        amount=amount,
        months=months,
        description=description,
        now=now,
    )
    warning = WarningSignal.objects.create(
        enterprise=enterprise,
        status=WarningStatus.REPORTED,
        status_changed_at=now,
        reported_by=_who(actor),
        source=source,
        **data,
    )
    audit_created(
        actor=actor, instance=warning, fields=WARNING_AUDIT_FIELDS, unit_path=enterprise.org_unit.path
    )
    _notify_warning(warning, now)
    return warning


def _notify_warning(warning: WarningSignal, now: datetime.datetime) -> None:
    """The staff of the enterprise's unit and of the units above it up to the district hear of a new warning."""
    from safetynet.cases.notifications import notify

    unit = warning.enterprise.org_unit
    ids = [int(part) for part in unit.path.split("/") if part]
    above = [pk for pk, level in OrgUnit.objects.filter(pk__in=ids).values_list("pk", "level") if level >= 2]
    recipients = [user for users in staff_of(above).values() for user in users]
    notify(
        recipients,
        f"新预警：{warning.enterprise.name}（{warning.get_category_display()}）",
        link=f"/reporting/warnings/{warning.pk}/",
        now=now,
        email=False,
    )


def _warning_unit_path(warning: WarningSignal) -> str:
    return warning.enterprise.org_unit.path


@transaction.atomic
def warning_transition(
    *,
    actor: Any,
    warning: WarningSignal,
    action: str,
    version: int | None = None,
    reason: str = "",
    note: str = "",
    now: datetime.datetime | None = None,
) -> WarningSignal:
    """One step of the lifecycle (WARNING_TABLE): verify, handle, resolve, or dismiss with a reason."""
    _require(actor, can_handle_warnings, "您的角色不能处理预警信息（查看人员只能查看）。")
    reason = clean_free_text(reason)
    note = clean_free_text(note)

    def guard(locked: WarningSignal) -> None:
        _require_unit_in_scope(actor, locked.enterprise.org_unit, field="warning")
        if action == WarningAction.CREATE_CASE:
            raise ServiceError("invalid", "转为诉求案件请使用“转为诉求案件”。", field="action")
        if action not in WarningAction.values:
            raise ServiceError("invalid", "操作不对。", field="action")

    def apply(locked: WarningSignal, target: str) -> dict[str, Any]:
        if action == WarningAction.DISMISS and not reason:
            raise ServiceError("required", "排除预警须填写排除理由。", field="reason")
        values: dict[str, Any] = {"status_changed_at": now or timezone.now()}
        if action == WarningAction.DISMISS:
            values["dismiss_reason"] = reason
        if note:
            values["handling_note"] = (
                f"{locked.handling_note}\n{note}".strip() if locked.handling_note else note
            )
        return values

    return transition_run(
        instance=warning,
        table=WARNING_TABLE,
        action=action,
        actor=actor,
        unit_path=_warning_unit_path,
        audit_fields=("dismiss_reason", "handling_note"),
        version=version,
        related=("enterprise__org_unit",),
        guard=guard,
        apply=apply,
        conflict=CONFLICT_MESSAGE,
    )


# What a warning becomes as a case (cases.models.Category).
CASE_CATEGORY = {
    WarningCategory.WAGE_ARREARS: "wage_arrears",
    WarningCategory.SOCIAL_INSURANCE: "social_insurance",
    WarningCategory.LAYOFFS: "dismissal",
}


@transaction.atomic
def warning_create_case(
    *, actor: Any, warning: WarningSignal, version: int | None = None, now: datetime.datetime | None = None
) -> Any:
    """Open an appeal case from a verified warning (a referral, 转办) through the cases' intake, and link the
    two: the warning is then being handled, and its case is one click away (and back)."""
    from safetynet.cases.services import case_intake

    _require(actor, can_handle_warnings, "您的角色不能处理预警信息（查看人员只能查看）。")
    now = now or timezone.now()
    made: list[Any] = []

    def guard(locked: WarningSignal) -> None:
        _require_unit_in_scope(actor, locked.enterprise.org_unit, field="warning")
        if locked.case_id is not None:
            raise ServiceError("has_case", "该预警已转为诉求案件，不能重复转办。", field="action")

    def apply(locked: WarningSignal, target: str) -> dict[str, Any]:
        description = (
            f"由预警信息转办（{locked.get_category_display()}，发现日期 {locked.discovered_on.isoformat()}）"
            + (f"：{locked.description}" if locked.description else "。")
        )
        case = case_intake(
            actor=actor,
            channel="referral",
            category=CASE_CATEGORY.get(locked.category, "other"),
            description=description,
            enterprise=locked.enterprise,
            workers_involved=locked.workers_involved or 1,
            claim_amount=locked.amount or 0,
            now=now,
        )
        made.append(case)
        return {"case": case, "status_changed_at": now}

    transition_run(
        instance=warning,
        table=WARNING_TABLE,
        action=WarningAction.CREATE_CASE,
        actor=actor,
        unit_path=_warning_unit_path,
        audit_fields=("case",),
        version=version,
        related=("enterprise__org_unit",),
        guard=guard,
        apply=apply,
        note=lambda locked, from_status, to_status: f"转为诉求案件 {made[0].number}",
        conflict=CONFLICT_MESSAGE,
    )
    return made[0]


# --- urgent incidents (突发事件) ----------------------------------------------------------------------------

DEFAULT_INCIDENT_LIMIT_HOURS = 2
INCIDENT_AUDIT_FIELDS = (
    "unit",
    "enterprise",
    "category",
    "title",
    "description",
    "place",
    "workers_involved",
    "occurred_at",
    "known_at",
    "reported_at",
    "limit_hours",
    "late",
    "status",
    "source",
)
DUTY_LEVELS = (OrgLevel.CITY, OrgLevel.DISTRICT)
CLOCK_TOLERANCE = datetime.timedelta(minutes=5)
EARLIEST_INCIDENT = datetime.datetime(1990, 1, 1, tzinfo=periods.BEIJING)


def setting_number(name: str, default: float) -> float:
    """A number from settings (``NAME``), else the environment (``SAFETYNET_NAME``), else ``default``.

    settings.py reads most SAFETYNET_* variables itself; these few are read here so that the reporting app
    works before settings.py names them (tests override them through ``settings``)."""
    import os

    from django.conf import settings

    value = getattr(settings, name, None)
    if value is None or value == "":
        value = os.environ.get(f"SAFETYNET_{name}", "")
    try:
        return float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def incident_limit_hours() -> int:
    """SAFETYNET_INCIDENT_REPORT_LIMIT_HOURS (default 2): an incident reported later than this after the union
    knew of it is 迟报."""
    return max(1, int(setting_number("INCIDENT_REPORT_LIMIT_HOURS", DEFAULT_INCIDENT_LIMIT_HOURS)))


def can_file_incidents(user: Any) -> bool:
    """Any officer who files reports or handles warnings, at any level, may report an incident."""
    return can_file_reports(user) or can_handle_warnings(user)


def handler_roles() -> list[str]:
    from safetynet.accounts.models import ROLE_CAPABILITIES

    return [role for role, capabilities in ROLE_CAPABILITIES.items() if "handle_warnings" in capabilities]


def duty_officers_of(unit_ids: Iterable[int]) -> dict[int, list[tuple[Any, str]]]:
    """The duty officers of each unit, with their duty phone ("" when none), by unit id (two queries).

    Who they are, simplest first: the unit's duty roster (DutyOfficer rows of active users) when it has one;
    otherwise every active staff member of the unit whose role handles warnings (operators and
    administrators). So incidents reach someone from the first day, and a unit that keeps a roster narrows it
    and adds phones for SMS."""
    from safetynet.reporting.models import DutyOfficer

    ids = set(unit_ids)
    found: dict[int, list[tuple[Any, str]]] = {}
    for entry in DutyOfficer.objects.filter(unit_id__in=ids, user__is_active=True).select_related("user"):
        found.setdefault(entry.unit_id, []).append((entry.user, entry.phone))
    for unit_id, users in staff_of(ids - set(found), roles=handler_roles()).items():
        found[unit_id] = [(user, "") for user in users]
    return found


def _duty_units(unit: OrgUnit) -> list[OrgUnit]:
    """The district above (or at) the unit and the city: the levels whose duty officers hear of incidents."""
    ids = [int(part) for part in unit.path.split("/") if part]
    return list(OrgUnit.objects.filter(pk__in=ids, level__in=DUTY_LEVELS).order_by("level"))


def _aware(value: datetime.datetime | None) -> datetime.datetime | None:
    if value is not None and timezone.is_naive(value):
        return value.replace(tzinfo=periods.BEIJING)
    return value


def _beijing(value: datetime.datetime) -> str:
    return value.astimezone(periods.BEIJING).strftime("%Y-%m-%d %H:%M")


def clean_incident(
    *,
    category: str,
    title: str,
    known_at: datetime.datetime | None,
    reported_at: datetime.datetime | None,
    occurred_at: datetime.datetime | None = None,
    workers_involved: Any = None,
    description: str = "",
    place: str = "",
    now: datetime.datetime,
) -> dict[str, Any]:
    """The checked fields of an incident; each refusal names its field."""
    from safetynet.reporting.models import IncidentCategory

    if category not in IncidentCategory.values:
        raise ServiceError(
            "invalid",
            f"事件类别应为{'、'.join(str(c) for c in IncidentCategory.labels)}之一。",
            field="category",
        )
    title = clean_text(title)
    if not title:
        raise ServiceError("required", "请填写事件简述（一句话说明发生了什么）。", field="title")
    if len(title) > 100:
        raise ServiceError(
            "invalid", f"事件简述最多 100 个字（现有 {len(title)} 个），详情请写在事件经过里。", field="title"
        )
    known_at = _aware(known_at)
    if known_at is None:
        raise ServiceError("required", "请填写知悉时间（工会最早得知此事的时间）。", field="known_at")
    for name, label, value in (
        ("known_at", "知悉时间", known_at),
        ("reported_at", "报告时间", _aware(reported_at)),
        ("occurred_at", "发生时间", _aware(occurred_at)),
    ):
        if value is not None and value < EARLIEST_INCIDENT:
            raise ServiceError("invalid", f"{label}不对：早于 {EARLIEST_INCIDENT.year} 年。", field=name)
    if known_at > now + CLOCK_TOLERANCE:
        raise ServiceError("future", f"知悉时间（{_beijing(known_at)}）不能晚于现在。", field="known_at")
    reported_at = _aware(reported_at) or now
    if reported_at > now + CLOCK_TOLERANCE:
        raise ServiceError(
            "future", f"报告时间（{_beijing(reported_at)}）不能晚于现在。", field="reported_at"
        )
    if reported_at < known_at:
        raise ServiceError(
            "reported_before_known",
            f"报告时间（{_beijing(reported_at)}）不能早于知悉时间（{_beijing(known_at)}）：先知悉，后报告。",
            field="reported_at",
        )
    occurred_at = _aware(occurred_at)
    if occurred_at is not None and occurred_at > reported_at:
        raise ServiceError(
            "occurred_after_reported",
            f"发生时间（{_beijing(occurred_at)}）不能晚于报告时间（{_beijing(reported_at)}）。",
            field="occurred_at",
        )
    description = clean_free_text(description)
    if len(description) > 5000:
        raise ServiceError("invalid", "事件经过最多 5000 字。", field="description")
    place = clean_text(place)
    if len(place) > 200:
        raise ServiceError("invalid", "发生地点最多 200 字。", field="place")
    return {
        "category": category,
        "title": title,
        "known_at": known_at,
        "reported_at": reported_at,
        "occurred_at": occurred_at,
        "workers_involved": _optional_count(workers_involved, "workers_involved", "涉及人数", 1_000_000),
        "description": description,
        "place": place,
    }


@transaction.atomic
def incident_file(
    *,
    actor: Any,
    category: str,
    title: str,
    known_at: datetime.datetime | None,
    reported_at: datetime.datetime | None = None,
    unit: OrgUnit | None = None,
    enterprise: Any = None,
    occurred_at: datetime.datetime | None = None,
    workers_involved: Any = None,
    description: str = "",
    place: str = "",
    source: str = WarningSource.WEB,
    now: datetime.datetime | None = None,
) -> Any:
    """报告突发事件: record it and tell the district's and the city's duty officers at once (in-app now,
    email and SMS when the transaction commits). Late (迟报) when reported more than the limit after 知悉时间."""
    from safetynet.reporting.models import Incident

    _require(actor, can_file_incidents, "您的角色不能报告突发事件（查看人员只能查看）。")
    now = now or timezone.now()
    if enterprise is not None:
        _require_unit_in_scope(actor, enterprise.org_unit, field="enterprise")
        if unit is None:
            unit = enterprise.org_unit
        elif not enterprise.org_unit.path.startswith(unit.path):
            raise ServiceError(
                "enterprise_elsewhere",
                f"企业“{enterprise.name}”属于{enterprise.org_unit.name}，不在“{unit.name}”辖区内；"
                "请改选发生地区划或企业。",
                field="enterprise",
            )
    if unit is None:
        unit = getattr(actor, "org_unit", None)
    if unit is None:
        raise ServiceError("required", "请选择事件发生地区划。", field="unit")
    unit = OrgUnit.objects.get(pk=unit.pk)
    _require_unit_in_scope(actor, unit)
    if unit.valid_to is not None and unit.valid_to <= periods.beijing_date(now):
        raise ServiceError(
            "unit_closed",
            f"“{unit.name}”已于 {unit.valid_to.isoformat()} 停用，请选择现在的区划。",
            field="unit",
        )
    data = clean_incident(
        category=category,
        title=title,
        known_at=known_at,
        reported_at=reported_at,
        occurred_at=occurred_at,
        workers_involved=workers_involved,
        description=description,
        place=place,
        now=now,
    )
    limit = incident_limit_hours()
    incident = Incident.objects.create(
        unit=unit,
        enterprise=enterprise,
        limit_hours=limit,
        late=data["reported_at"] - data["known_at"] > datetime.timedelta(hours=limit),
        reporter_unit=getattr(actor, "org_unit", None) if _active(actor) else None,
        reported_by=_who(actor),
        source=source,
        **data,
    )
    audit_created(actor=actor, instance=incident, fields=INCIDENT_AUDIT_FIELDS, unit_path=unit.path)
    incident.notified = _notify_incident(incident, actor=actor, now=now)
    Incident.objects.filter(pk=incident.pk).update(notified=incident.notified)
    return incident


def incident_message(incident: Any) -> str:
    known = incident.known_at.astimezone(periods.BEIJING)
    reported = incident.reported_at.astimezone(periods.BEIJING)
    people = f"，约 {incident.workers_involved} 人" if incident.workers_involved else ""
    late = f"，迟报（超过 {incident.limit_hours} 小时）" if incident.late else ""
    return (
        f"【突发事件】{incident.unit.name}：{incident.title}（{incident.get_category_display()}{people}；"
        f"知悉 {known:%m-%d %H:%M}，报告 {reported:%m-%d %H:%M}{late}）"
    )


def _notify_incident(incident: Any, *, actor: Any, now: datetime.datetime) -> int:
    """In-app and email to the duty officers of the district and the city (not to the one who filed), SMS to
    those with a duty phone. Returns how many people were told."""
    from safetynet.cases.notifications import notify, sms_on_commit

    units = _duty_units(incident.unit)
    officers = duty_officers_of(u.pk for u in units)
    filer = getattr(actor, "pk", None)
    recipients: dict[int, Any] = {}
    phones: dict[str, None] = {}
    for unit in units:
        for user, phone in officers.get(unit.pk, []):
            if user.pk == filer:
                continue
            recipients[user.pk] = user
            if phone:
                phones[phone] = None
    text = incident_message(incident)
    notify(recipients.values(), text, link=f"/reporting/incidents/{incident.pk}/", now=now)
    for phone in phones:
        sms_on_commit(phone, text[:140])
    return len(recipients)


@transaction.atomic
def incident_transition(
    *,
    actor: Any,
    incident: Any,
    action: str,
    version: int | None = None,
    outcome: str = "",
    now: datetime.datetime | None = None,
) -> Any:
    """接报 (a duty officer of a district or the city takes it) or 处置完毕 (with the outcome)."""
    from safetynet.reporting.models import INCIDENT_TABLE, IncidentAction, IncidentStatus

    _require(actor, can_handle_warnings, "您的角色不能处理突发事件（查看人员只能查看）。")
    outcome = clean_free_text(outcome)
    now = now or timezone.now()

    def guard(locked: Any) -> None:
        _require_unit_in_scope(actor, locked.unit, field="incident")
        if action not in IncidentAction.values:
            raise ServiceError("invalid", "操作不对。", field="action")

    def apply(locked: Any, target: str) -> dict[str, Any]:
        if action == IncidentAction.ACKNOWLEDGE and _active(actor) and not _system_user(actor):
            if actor.org_unit is None or actor.org_unit.level not in DUTY_LEVELS:
                raise NotAllowed("接报由区或市的值班人员进行。")
        if action == IncidentAction.CLOSE and not outcome:
            raise ServiceError("required", "请填写处置结果。", field="outcome")
        if len(outcome) > 5000:
            raise ServiceError("invalid", "处置结果最多 5000 字。", field="outcome")
        values: dict[str, Any] = {}
        if action == IncidentAction.ACKNOWLEDGE:
            values |= {"acknowledged_at": now, "acknowledged_by": _who(actor)}
        if target == IncidentStatus.CLOSED:
            values |= {"closed_at": now, "outcome": outcome}
        return values

    return transition_run(
        instance=incident,
        table=INCIDENT_TABLE,
        action=action,
        actor=actor,
        unit_path=lambda locked: locked.unit.path,
        audit_fields=("outcome",),
        version=version,
        related=("unit",),
        guard=guard,
        apply=apply,
        conflict="该事件已被他人更新，请刷新后再操作。",
    )


_PHONE = re.compile(r"^1\d{10}$")


@transaction.atomic
def duty_officers_set(*, actor: Any, unit: OrgUnit, entries: Iterable[tuple[Any, str]]) -> int:
    """The duty roster of a district or the city: exactly these staff of the unit, each with a mobile number
    for SMS (may be empty). An empty roster means "every officer of the unit" again. Returns its size."""
    from safetynet.reporting.models import DutyOfficer

    if actor is not None and not (_system_user(actor) or (_active(actor) and actor.can("manage_staff"))):
        raise NotAllowed("只有单位管理员可以安排值班人员。")
    _require_unit_in_scope(actor, unit)
    if unit.level not in DUTY_LEVELS:
        raise ServiceError("invalid", "值班人员只在区市县和市一级安排。", field="unit")
    wanted: dict[int, str] = {}
    for user, phone in entries:
        if user.org_unit_id != unit.pk or not user.is_active:
            raise ServiceError("invalid", f"“{user}”不是{unit.name}的在职人员。", field="user")
        phone = clean_code(phone)
        if phone and not _PHONE.match(phone):
            raise ServiceError(
                "invalid_phone", f"“{user}”的值班手机“{phone}”不是 11 位手机号码。", field="phone"
            )
        wanted[user.pk] = phone
    existing = {entry.user_id: entry for entry in DutyOfficer.objects.select_for_update().filter(unit=unit)}
    before = {pk: entry.phone for pk, entry in existing.items()}
    DutyOfficer.objects.filter(unit=unit).exclude(user_id__in=wanted).delete()
    for user_id, phone in wanted.items():
        entry = existing.get(user_id)
        if entry is None:
            DutyOfficer.objects.create(unit=unit, user_id=user_id, phone=phone)
        elif entry.phone != phone:
            entry.phone = phone
            entry.save(update_fields=["phone"])
    if before != wanted:
        from django.contrib.auth import get_user_model

        names = dict(
            get_user_model().objects.filter(pk__in=set(before) | set(wanted)).values_list("pk", "username")
        )

        def shown(roster: dict[int, str]) -> list[str]:
            return sorted(
                f"{names.get(pk, pk)}{'（' + phone[-4:] + '）' if phone else ''}"
                for pk, phone in roster.items()
            )

        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=unit,
            changes={"值班人员": [shown(before), shown(wanted)]},
            unit_path=unit.path,
            note="安排值班人员",
        )
    return len(wanted)


# --- the risk rule (风险等级规则) ----------------------------------------------------------------------------

RISK_WEIGHT_LIMIT = 1000


@transaction.atomic
def riskrule_update(*, actor: Any, values: dict[str, Any], now: datetime.datetime | None = None) -> Any:
    """The city's weights and thresholds of the enterprise risk level (one row; created on first save)."""
    from safetynet.reporting.models import RiskRule
    from safetynet.reporting.risk import RULE_FIELDS

    _require(actor, can_design_forms, "只有市级管理员可以设置风险等级规则。")
    rule = RiskRule.objects.select_for_update().filter(pk=RiskRule.SINGLETON_PK).first() or RiskRule(
        pk=RiskRule.SINGLETON_PK
    )
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise ServiceError("invalid", f"不能设置：{'、'.join(sorted(unknown))}。")
    created = rule._state.adding
    before = audit_snapshot(rule, RULE_FIELDS)
    for name, raw in values.items():
        label = chinese(RiskRule._meta.get_field(name).verbose_name)
        try:
            number = int(clean_text(raw)) if not isinstance(raw, int) else raw
        except ValueError:
            raise ServiceError("invalid", f"“{label}”应为整数，不能是“{raw}”。", field=name) from None
        low, high = (
            (1, 3650)
            if name == "recent_days"
            else (0, RISK_WEIGHT_LIMIT if "threshold" not in name else 10000)
        )
        if isinstance(number, bool) or not low <= number <= high:
            raise ServiceError(
                "invalid", f"“{label}”应为 {low}–{high} 之间的整数（填写了 {number}）。", field=name
            )
        setattr(rule, name, number)
    if rule.threshold_yellow < 1:
        raise ServiceError("invalid", "黄色起点分至少为 1 分。", field="threshold_yellow")
    if not rule.threshold_yellow < rule.threshold_orange < rule.threshold_red:
        raise ServiceError(
            "thresholds_order",
            f"起点分应为 黄 < 橙 < 红（现为 {rule.threshold_yellow}、{rule.threshold_orange}、{rule.threshold_red}）。",
            field="threshold_orange" if rule.threshold_orange <= rule.threshold_yellow else "threshold_red",
        )
    changed = audit_diff(before, audit_snapshot(rule, RULE_FIELDS))
    if not changed and not created:
        return rule
    rule.updated_at = now or timezone.now()
    rule.updated_by = _who(actor)
    rule.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        instance=rule,
        changes=changed,
        unit_path=_city_path(actor),
        note="风险等级规则",
    )
    return rule
