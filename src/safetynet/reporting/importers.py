"""Importing report forms, reports and warnings (INTERFACES.md: `report-forms`, `reports`, `warnings`).

Each file is checked whole before anything is written (the framework's dry run, error file and exit codes).
The rules are the services' own (``check_report_target``, ``clean_warning``), so a row is refused for the
same reason, in the same words, as the page would refuse it. Importing a file twice changes nothing: a form
is matched by its code, a report by (form, unit, period, 报送时间), a warning by (enterprise, category,
发现日期, 报告时间).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from safetynet.core.errors import ServiceError
from safetynet.core.importing import Column, Importer, Record, Row, register_importer
from safetynet.core.models import AuditAction
from safetynet.core.normalize import clean_free_text, clean_text
from safetynet.core.services import audit_build, audit_bulk, audit_snapshot
from safetynet.orgs.models import Enterprise, OrgLevel, OrgUnit, OrgUnitVersion
from safetynet.orgs.validation import normalize_credit_code
from safetynet.reporting import periods
from safetynet.reporting.models import (
    FormVersion,
    PeriodKind,
    Report,
    ReportForm,
    ReportSource,
    WarningCategory,
    WarningSignal,
    WarningSource,
    WarningStatus,
)
from safetynet.reporting.services import (
    FORM_AUDIT_FIELDS,
    REPORT_AUDIT_FIELDS,
    WARNING_AUDIT_FIELDS,
    can_design_forms,
    can_file_reports,
    can_handle_warnings,
    check_report_target,
    clean_warning,
)

CHUNK = 900  # IN (...) lookups stay under SQLite's 999 parameters
BATCH = 2000

PERIOD_KINDS = {
    "月": PeriodKind.MONTH,
    "月报": PeriodKind.MONTH,
    "月度": PeriodKind.MONTH,
    "季": PeriodKind.QUARTER,
    "季报": PeriodKind.QUARTER,
    "季度": PeriodKind.QUARTER,
    "年": PeriodKind.YEAR,
    "年报": PeriodKind.YEAR,
    "年度": PeriodKind.YEAR,
}
LEVELS = {
    "区市县": OrgLevel.DISTRICT,
    "区县": OrgLevel.DISTRICT,
    "县区": OrgLevel.DISTRICT,
    "乡镇街道": OrgLevel.STREET,
    "街道": OrgLevel.STREET,
    "乡镇": OrgLevel.STREET,
    "村社区": OrgLevel.COMMUNITY,
    "社区": OrgLevel.COMMUNITY,
    "村": OrgLevel.COMMUNITY,
}
CATEGORIES = {str(label): value for value, label in WarningCategory.choices} | {
    "拖欠工资": WarningCategory.WAGE_ARREARS,
    "欠缴社保": WarningCategory.SOCIAL_INSURANCE,
    "欠缴社会保险": WarningCategory.SOCIAL_INSURANCE,
    "减员": WarningCategory.LAYOFFS,
    "裁员": WarningCategory.LAYOFFS,
    "减薪": WarningCategory.LAYOFFS,
    "停产停业": WarningCategory.STOPPAGE,
    "半停产": WarningCategory.STOPPAGE,
    "改制": WarningCategory.RESTRUCTURING,
    "搬迁": WarningCategory.RESTRUCTURING,
    "群体性事件": WarningCategory.COLLECTIVE_ACTION,
}
CATEGORY_HINT = "、".join(f"“{label}”" for label in WarningCategory.labels)

_DATETIME = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]*(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2})秒?)?分?)?$"
)


def _chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def parse_moment(row: Row, key: str, header: str) -> datetime.datetime | None:
    """A Beijing-time moment: ``2012-06-02 09:00`` (seconds, "/" or 年月日 also), a spreadsheet date-time cell,
    or a date alone (its first minute)."""
    value = row.raw(key)
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime.combine(value, datetime.time.min)
    else:
        text = clean_text(value)
        if not text:
            row.error(key, f"{header}不能为空，请填写，如 2012-06-02 09:00。")
            return None
        match = _DATETIME.match(text.replace("  ", " "))
        if not match:
            row.error(key, f"“{text}”不是可识别的时间，请写成 2012-06-02 09:00（北京时间）。")
            return None
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
        try:
            moment = datetime.datetime(year, month, day, hour, minute, second)
        except ValueError:
            row.error(key, f"“{text}”不是有效的时间，请核对年月日和时分。")
            return None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=periods.BEIJING)
    return moment


def _audit_new(actor: Any, instance: Any, fields: tuple[str, ...], unit_path: str, note: str = "") -> Any:
    after = audit_snapshot(instance, fields)
    return audit_build(
        actor=actor,
        action=AuditAction.IMPORT,
        instance=instance,
        changes={k: [None, v] for k, v in after.items() if v not in (None, "")},
        unit_path=unit_path,
        note=note,
    )


def _city_path() -> str:
    root = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    return root.path if root else ""


# --- report forms ---------------------------------------------------------------------------------


class ReportFormImporter(Importer):
    kind = "report-forms"
    label = "报表"
    capabilities = ("import", "edit_units")
    columns = (
        Column("code", "报表代码", required=True),
        Column("name", "报表名称", required=True),
        Column("period_kind", "报送周期", required=True),
        Column("level", "报送层级", required=True),
        Column("due_day", "截止日", required=True),
        Column("is_warning", "预警报表", required=True),
        Column("enabled_from", "启用日期"),
        Column("enabled_to", "停用日期"),
    )
    UPDATABLE = ("name", "period_kind", "level", "due_day", "is_warning", "enabled_from", "enabled_to")

    def clean_row(self, row: Row) -> Record | None:
        code = row.code("code", required=True)
        if code and not re.match(r"^[A-Z0-9][A-Z0-9_-]{0,19}$", code):
            row.error("code", f"“{code}”不是有效的报表代码：应为字母、数字、“-”或“_”，最多 20 位，如 YJ01。")
        due_day = row.integer("due_day", required=True, default=None)
        if due_day is not None and not 1 <= due_day <= 28:
            row.error("due_day", f"截止日应为 1–28 之间的整数（每个月都有的日子），不能是 {due_day}。")
            due_day = None
        if not clean_text(row.raw("is_warning")):
            row.error("is_warning", "预警报表不能为空，请填写“是”或“否”。")
        data = {
            "code": code,
            "name": row.text("name", required=True, max_length=100),
            "period_kind": row.choice("period_kind", PERIOD_KINDS, required=True, hint="“月”“季”“年”"),
            "level": row.choice("level", LEVELS, required=True, hint="“区市县”“乡镇街道”“村社区”"),
            "due_day": due_day,
            "is_warning": row.yes_no("is_warning"),
        }
        if row.has("enabled_from"):
            data["enabled_from"] = row.date("enabled_from")
        if row.has("enabled_to"):
            data["enabled_to"] = row.date("enabled_to")
        start, end = data.get("enabled_from"), data.get("enabled_to")
        if start and end and end <= start:
            row.error("enabled_to", f"停用日期（{end}）应晚于启用日期（{start}）。")
        if not code:
            return None
        return Record(row.number, data)

    def check(self, records: list[Record]) -> None:
        if self.actor is not None and not can_design_forms(self.actor):
            for record in records:
                self.reject(record, "code", "只有市级管理员可以导入报表。")
            return
        self.reject_duplicates(records, lambda r: r.data["code"], "code", lambda c: f"报表代码“{c}”")
        valid = self.valid(records)
        self.existing = {
            f.code: f for f in ReportForm.objects.filter(code__in=[r.data["code"] for r in valid])
        }
        with_reports = set(
            Report.objects.filter(form__in=self.existing.values())
            .values_list("form__code", flat=True)
            .distinct()
        )
        for record in valid:
            form = self.existing.get(record.data["code"])
            if form is None:
                record.action = "create"
                continue
            changes = {
                name: [getattr(form, name), record.data[name]]
                for name in self.UPDATABLE
                if name in record.data and getattr(form, name) != record.data[name]
            }
            if form.code in with_reports:
                for name in ("period_kind", "level"):
                    if name in changes:
                        self.reject(
                            record,
                            name,
                            f"报表“{form.code}”已有报送记录，不能修改{self.header(name)}；如需调整请新建报表。",
                        )
            record.target = form
            record.changes = changes
            record.action = "update" if changes else "unchanged"

    def save(self, records: list[Record]) -> None:
        path = _city_path()
        now = timezone.now()
        created = [
            ReportForm(
                code=r.data["code"],
                **{name: r.data.get(name) for name in self.UPDATABLE if name in r.data},
            )
            for r in records
            if r.action == "create"
        ]
        ReportForm.objects.bulk_create(created)
        FormVersion.objects.bulk_create(
            FormVersion(form=form, number=1, fields=[], published_at=now) for form in created
        )
        audits = [_audit_new(self.actor, form, FORM_AUDIT_FIELDS, path) for form in created]
        updated = []
        for record in records:
            if record.action != "update":
                continue
            form = record.target
            for name, (_before, after) in record.changes.items():
                setattr(form, name, after)
            updated.append(form)
            audits.append(
                audit_build(
                    actor=self.actor,
                    action=AuditAction.IMPORT,
                    instance=form,
                    changes={k: [str(v[0]), str(v[1])] for k, v in record.changes.items()},
                    unit_path=path,
                    note="由文件导入更正",
                )
            )
        if updated:
            ReportForm.objects.bulk_update(updated, list(self.UPDATABLE))
        audit_bulk(audits)


# --- reports --------------------------------------------------------------------------------------


FIELD_COLUMNS = {"form": "form", "unit": "unit", "period": "period", "submitted_at": "submitted_at"}


class ReportImporter(Importer):
    kind = "reports"
    label = "报送记录"
    capabilities = ("import",)
    columns = (
        Column("form", "报表代码", required=True),
        Column("unit", "报送单位代码", required=True, aliases=("单位代码", "区划代码")),
        Column("period", "报告期", required=True),
        Column("submitted_at", "报送时间", required=True),
        Column("is_zero", "零申报", required=True),
        Column("content", "内容"),
    )

    def clean_row(self, row: Row) -> Record | None:
        form = row.code("form", required=True)
        unit = row.code("unit", required=True)
        period = None
        if clean_text(row.raw("period")):
            try:
                period = periods.parse_period(row.raw("period"))
            except ValueError as exc:
                row.error("period", f"{exc}。")
        else:
            row.error("period", f"报告期不能为空（{periods.FORMATS_HINT}）。")
        submitted_at = parse_moment(row, "submitted_at", self.header("submitted_at"))
        if not clean_text(row.raw("is_zero")):
            row.error("is_zero", "零申报不能为空：本期无情况填“是”，有情况填“否”。")
        is_zero = row.yes_no("is_zero")
        content = clean_free_text(row.raw("content"))
        if len(content) > 5000:
            row.error("content", f"内容有 {len(content)} 个字，最多 5000 个字，请缩短。")
        if not (form and unit):
            return None
        return Record(
            row.number,
            {
                "form": form,
                "unit": unit,
                "period": period,
                "submitted_at": submitted_at,
                "is_zero": is_zero,
                "content": content,
            },
        )

    def check(self, records: list[Record]) -> None:
        if self.actor is not None and not can_file_reports(self.actor):
            for record in records:
                self.reject(record, "form", "您的角色不能报送报表。")
            return
        self.reject_duplicates(
            records,
            lambda r: (r.data["form"], r.data["unit"], r.data["period"], r.data["submitted_at"]),
            "submitted_at",
            lambda key: f"{key[0]} {key[2]} 单位 {key[1]} 在 {key[3]:%Y-%m-%d %H:%M} 的报表",
        )
        valid = self.valid(records)
        self.forms = {f.code: f for f in ReportForm.objects.filter(code__in={r.data["form"] for r in valid})}
        self.versions = {
            form_id: version
            for form_id, version in (
                (v.form_id, v)
                for v in FormVersion.objects.filter(form__in=self.forms.values()).order_by("number")
            )
        }
        codes = sorted({r.data["unit"] for r in valid})
        self.units = {u.code: u for chunk in _chunks(codes) for u in OrgUnit.objects.filter(code__in=chunk)}
        missing = [c for c in codes if c not in self.units]
        if missing:
            # A code the unit carried earlier (普兰店市 210282 before it became 普兰店区 210214).
            for chunk in _chunks(missing):
                for version in OrgUnitVersion.objects.filter(code__in=chunk).select_related("unit"):
                    self.units.setdefault(version.code, version.unit)
        now = timezone.now()
        for record in valid:
            self._check_one(record, now)
        valid = self.valid(valid)
        existing: set[tuple[int, str, int, datetime.datetime]] = set()
        for form in self.forms.values():
            mine = [r for r in valid if r.data["form"] == form.code]
            unit_ids = sorted({self.units[r.data["unit"]].pk for r in mine})
            for chunk in _chunks(unit_ids):
                existing.update(
                    Report.objects.filter(form=form, unit_id__in=chunk).values_list(
                        "form_id", "period", "unit_id", "submitted_at"
                    )
                )
        for record in valid:
            key = (
                self.forms[record.data["form"]].pk,
                record.data["period"].code,
                self.units[record.data["unit"]].pk,
                record.data["submitted_at"],
            )
            record.action = "unchanged" if key in existing else "create"

    def _check_one(self, record: Record, now: datetime.datetime) -> None:
        data = record.data
        form = self.forms.get(data["form"])
        if form is None:
            self.reject(record, "form", f"报表代码“{data['form']}”不存在，请核对，或先导入报表。")
            return
        unit = self.units.get(data["unit"])
        if unit is None:
            self.reject(record, "unit", f"报送单位代码“{data['unit']}”不存在，请核对。")
            return
        if not self.in_scope(unit.path):
            self.reject(record, "unit", f"单位“{unit.name}”不在您的管辖范围内。")
            return
        if data["period"].kind != form.period_kind:
            try:
                form.parse_period(data["period"].code)
            except ValueError as exc:
                self.reject(record, "period", f"{exc}。")
                return
        if data["submitted_at"] > now + datetime.timedelta(minutes=5):
            self.reject(record, "submitted_at", "报送时间不能晚于现在。")
            return
        try:
            check_report_target(
                form=form, unit=unit, period=data["period"], submitted_at=data["submitted_at"]
            )
        except ServiceError as exc:
            self.reject(record, FIELD_COLUMNS.get(exc.field or "", "form"), exc.message)

    def save(self, records: list[Record]) -> None:
        for batch in _chunks([r for r in records if r.action == "create"], BATCH):
            reports = [
                Report(
                    form=self.forms[r.data["form"]],
                    version=self.versions[self.forms[r.data["form"]].pk],
                    period=r.data["period"].code,
                    unit=self.units[r.data["unit"]],
                    submitted_at=r.data["submitted_at"],
                    is_zero=r.data["is_zero"],
                    content=r.data["content"],
                    submitted_by=self.actor
                    if self.actor is not None and self.actor.is_authenticated
                    else None,
                    source=ReportSource.IMPORT,
                )
                for r in batch
            ]
            Report.objects.bulk_create(reports)
            audit_bulk([_audit_new(self.actor, r, REPORT_AUDIT_FIELDS, r.unit.path) for r in reports])


# --- warnings -------------------------------------------------------------------------------------


WARNING_FIELDS = {
    "category": "category",
    "discovered_on": "discovered_on",
    "reported_at": "reported_at",
    "workers_involved": "workers_involved",
    "amount": "amount",
    "description": "description",
}


class WarningImporter(Importer):
    kind = "warnings"
    label = "预警信息"
    capabilities = ("import",)
    columns = (
        Column("enterprise", "企业统一社会信用代码", required=True, aliases=("统一社会信用代码",)),
        Column("category", "预警类别", required=True),
        Column("discovered_on", "发现日期", required=True),
        Column("reported_at", "报告时间", required=True),
        Column("workers_involved", "涉及人数"),
        Column("amount", "涉及金额", aliases=("涉及金额（元）", "涉及金额(元)")),
        Column("description", "情况说明"),
    )

    def clean_row(self, row: Row) -> Record | None:
        code = row.code("enterprise", required=True)
        if code:
            try:
                code = normalize_credit_code(code)
            except ValidationError as exc:
                row.error("enterprise", exc.messages[0])
                code = None
        data = {
            "enterprise": code,
            "category": row.choice("category", CATEGORIES, required=True, hint=CATEGORY_HINT),
            "discovered_on": row.date("discovered_on", required=True),
            "reported_at": parse_moment(row, "reported_at", self.header("reported_at")),
            "workers_involved": row.integer("workers_involved", default=None),
            "amount": clean_text(row.raw("amount")),
            # 情况说明 is what a person wrote: kept exactly as typed (no width folding).
            "description": clean_free_text(row.raw("description")),
        }
        if not code:
            return None
        return Record(row.number, data)

    def check(self, records: list[Record]) -> None:
        if self.actor is not None and not can_handle_warnings(self.actor):
            for record in records:
                self.reject(record, "enterprise", "您的角色不能登记预警信息。")
            return
        self.reject_duplicates(
            records,
            lambda r: (
                r.data["enterprise"],
                r.data["category"],
                r.data["discovered_on"],
                r.data["reported_at"],
            ),
            "enterprise",
            lambda key: f"企业“{key[0]}”同一时间的同类预警",
        )
        valid = self.valid(records)
        codes = sorted({r.data["enterprise"] for r in valid})
        self.enterprises = {
            e.credit_code: e
            for chunk in _chunks(codes)
            for e in Enterprise.objects.filter(credit_code__in=chunk).select_related("org_unit")
        }
        now = timezone.now()
        for record in valid:
            enterprise = self.enterprises.get(record.data["enterprise"])
            if enterprise is None:
                self.reject(
                    record,
                    "enterprise",
                    f"统一社会信用代码“{record.data['enterprise']}”尚未登记为企业，请核对，或先导入该企业。",
                )
                continue
            if not self.in_scope(enterprise.org_unit.path):
                self.reject(record, "enterprise", f"企业“{enterprise.name}”不在您的管辖范围内。")
                continue
            try:
                record.data["clean"] = clean_warning(
                    category=record.data["category"],
                    discovered_on=record.data["discovered_on"],
                    reported_at=record.data["reported_at"],
                    workers_involved=record.data["workers_involved"],
                    amount=record.data["amount"],
                    description=record.data["description"],
                    now=now,
                )
            except ServiceError as exc:
                self.reject(record, WARNING_FIELDS.get(exc.field or "", "enterprise"), exc.message)
        valid = self.valid(valid)
        ids = sorted({self.enterprises[r.data["enterprise"]].pk for r in valid})
        existing: set[tuple[int, str, datetime.date, datetime.datetime]] = set()
        for chunk in _chunks(ids):
            existing.update(
                WarningSignal.objects.filter(enterprise_id__in=chunk).values_list(
                    "enterprise_id", "category", "discovered_on", "reported_at"
                )
            )
        for record in valid:
            clean = record.data["clean"]
            key = (
                self.enterprises[record.data["enterprise"]].pk,
                clean["category"],
                clean["discovered_on"],
                clean["reported_at"],
            )
            record.action = "unchanged" if key in existing else "create"

    def save(self, records: list[Record]) -> None:
        now = timezone.now()
        actor = self.actor if self.actor is not None and self.actor.is_authenticated else None
        for batch in _chunks([r for r in records if r.action == "create"], BATCH):
            warnings = [
                WarningSignal(
                    enterprise=self.enterprises[r.data["enterprise"]],
                    status=WarningStatus.REPORTED,
                    status_changed_at=now,
                    reported_by=actor,
                    source=WarningSource.IMPORT,
                    **r.data["clean"],
                )
                for r in batch
            ]
            WarningSignal.objects.bulk_create(warnings)
            audit_bulk(
                [
                    _audit_new(self.actor, w, WARNING_AUDIT_FIELDS, w.enterprise.org_unit.path)
                    for w in warnings
                ]
            )


register_importer(ReportFormImporter.kind, ReportFormImporter)
register_importer(ReportImporter.kind, ReportImporter)
register_importer(WarningImporter.kind, WarningImporter)
