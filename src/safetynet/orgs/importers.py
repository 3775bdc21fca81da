"""Importing org units, enterprises and grassroots unions from the files people bring (INTERFACES.md).

Records are matched by their natural keys — units by 区划代码, enterprises by 统一社会信用代码, unions by
(所属区划代码, 工会名称) — so importing the same file twice changes nothing. An optional column the file
lacks leaves the stored value alone; a column that is there but empty means "no value".

Rules for units, kept simple on purpose:
- a unit's parent must exist in the database or in the same file (any order), one level up, and still
  be open while the unit is;
- a 6-digit district code is accepted when python-stdnum's GB/T 2260 data knows it as a county code, or
  when it begins with its city's 4-digit code (new or local districts the national list lacks);
- an existing unit may get a new name (a rename from the import day on) or a new parent (a move from the
  import day on); its level, 启用日期 and 停用日期 are not changed by an import (use the unit pages).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from safetynet.core.errors import ServiceError
from safetynet.core.importing import (
    Column,
    Importer,
    Record,
    Row,
    insert_rows,
    register_importer,
    snapshotter,
    spreadsheet_number,
)
from safetynet.core.models import AuditAction
from safetynet.core.normalize import chinese
from safetynet.core.services import audit_build, audit_bulk, audit_diff
from safetynet.orgs import services
from safetynet.orgs.models import (
    PATH_SEPARATOR,
    Enterprise,
    EnterpriseHeadcount,
    EnterpriseLocation,
    GrassrootsUnion,
    Industry,
    OrgLevel,
    OrgUnit,
    OrgUnitVersion,
    Ownership,
    UnionCoverage,
    UnionType,
)
from safetynet.orgs.services import ENTERPRISE_AUDIT_FIELDS, ORGUNIT_AUDIT_FIELDS, UNION_AUDIT_FIELDS
from safetynet.orgs.validation import county_code_info, normalize_credit_code, validate_division_code

BATCH = 2000
# Lookups with IN (...) stay under SQLite's 999 parameters.
LOOKUP_CHUNK = 900

LEVELS = {
    "市": OrgLevel.CITY,
    "区市县": OrgLevel.DISTRICT,
    "区县": OrgLevel.DISTRICT,
    "乡镇街道": OrgLevel.STREET,
    "街道": OrgLevel.STREET,
    "乡镇": OrgLevel.STREET,
    "村社区": OrgLevel.COMMUNITY,
    "社区": OrgLevel.COMMUNITY,
    "村": OrgLevel.COMMUNITY,
}
LEVEL_HINT = "“市”“区市县”“乡镇街道”“村社区”"

OWNERSHIPS = {chinese(label): value for value, label in Ownership.choices} | {
    "国有及国有控股": Ownership.STATE,
    "国有控股": Ownership.STATE,
    "国有企业": Ownership.STATE,
    "集体企业": Ownership.COLLECTIVE,
    "私营企业": Ownership.PRIVATE,
    "民营": Ownership.PRIVATE,
    "民营企业": Ownership.PRIVATE,
    "外资企业": Ownership.FOREIGN,
    "外商投资": Ownership.FOREIGN,
    "外商投资企业": Ownership.FOREIGN,
    "港澳台投资": Ownership.HMT,
    "港澳台商投资": Ownership.HMT,
    "港澳台企业": Ownership.HMT,
    "个体工商户": Ownership.INDIVIDUAL,
    "机关单位": Ownership.ORGAN,
    "国家机关": Ownership.ORGAN,
}
OWNERSHIP_HINT = "、".join(f"“{chinese(label)}”" for label in Ownership.labels)

UNION_TYPES = {chinese(label): value for value, label in UnionType.choices} | {
    "单独基层工会": UnionType.SINGLE,
    "联合基层工会": UnionType.JOINT,
    "区域性工会联合会": UnionType.REGIONAL,
    "行业性工会联合会": UnionType.INDUSTRY,
    "项目工会": UnionType.PROJECT,
}
UNION_TYPE_HINT = "、".join(f"“{chinese(label)}”" for label in UnionType.labels)

_CODE_SEPARATORS = re.compile(r"[;,、\s]+")


def _chunks(items: list[Any], size: int = LOOKUP_CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUES = {c: i for i, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"\d{8}[0-9A-HJ-NPQRTUWXY]{10}")


def _valid_credit_code_fast(code: str) -> bool:
    """GB 32100's check (as stdnum.cn.uscc.validate) without its per-call cleaning: the import's hot path."""
    if len(code) != 18 or not _USCC_SHAPE.fullmatch(code):
        return False
    total = sum(_USCC_VALUES[c] * w for c, w in zip(code, _USCC_WEIGHTS, strict=False))
    return code[17] == _USCC_ALPHABET[(31 - total) % 31]


def credit_code_cell(row: Row, key: str, *, required: bool = True) -> str | None:
    """The credit code in the row's column ``key``, normalised; None (with the row's error) when wrong."""
    code = row.code(key, required=required)
    if not code:
        return code
    if _valid_credit_code_fast(code):
        return code
    try:
        return normalize_credit_code(code)
    except ValidationError as exc:
        row.error(key, f"{exc.messages[0]}")
        return None


def credit_code_list(row: Row, key: str, empty_message: str) -> list[str] | None:
    """One or several credit codes separated by ';' or '、' (or ',' / spaces), each checked: every wrong one
    is reported (one message each), the right ones are returned so that they are looked up too; None when
    the cell gives none at all."""
    raw = row.raw(key)
    if isinstance(raw, str) and spreadsheet_number(raw) is None:
        text = row.text(key) or ""
    else:
        # A lone code stored as a number: refused like any code whose digits may be lost.
        text = row.code(key, required=True, what="统一社会信用代码")
        if text is None:
            return None
    tokens = [t for t in _CODE_SEPARATORS.split(text) if t]
    if not tokens:
        row.error(key, empty_message)
        return None
    codes: list[str] = []
    for token in tokens:
        if _valid_credit_code_fast(token):
            code = token
        else:
            try:
                code = normalize_credit_code(token)
            except ValidationError as exc:
                row.error(key, exc.messages[0])
                continue
        if code not in codes:
            codes.append(code)
    return codes


_SNAPSHOTS: dict[tuple[type, tuple[str, ...]], Any] = {}


def _snapshot(instance: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """``audit_snapshot`` with its field lookups done once per model."""
    key = (type(instance), fields)
    if key not in _SNAPSHOTS:
        _SNAPSHOTS[key] = snapshotter(type(instance), fields)
    return _SNAPSHOTS[key](instance)


def _audit_new(actor: Any, instance: Any, fields: tuple[str, ...], unit_path: str, note: str = "") -> Any:
    """The audit row of a record an import created, shaped like ``audit_created``'s."""
    after = _snapshot(instance, fields)
    return audit_build(
        actor=actor,
        action=AuditAction.IMPORT,
        instance=instance,
        changes={k: [None, v] for k, v in after.items() if v not in (None, "")},
        unit_path=unit_path,
        note=note,
    )


def _unit_label(unit: OrgUnit) -> str:
    return f"“{unit.name}”（{unit.code}）"


# --- org units ----------------------------------------------------------------------------------


class UnitImporter(Importer):
    kind = "units"
    label = "区域单位"
    capabilities = ("import", "edit_units")
    columns = (
        Column("code", "区划代码", required=True),
        Column("name", "名称", required=True, aliases=("单位名称",)),
        Column("parent_code", "上级区划代码", required=True),
        Column("level", "层级", required=True),
        Column("valid_from", "启用日期"),
        Column("valid_to", "停用日期"),
    )

    def clean_row(self, row: Row) -> Record | None:
        code = row.code("code", required=True)
        name = row.text("name", required=True, max_length=100)
        parent_code = row.code("parent_code")
        level = row.choice("level", LEVELS, required=True, hint=LEVEL_HINT)
        valid_from = row.date("valid_from")
        valid_to = row.date("valid_to")
        if code and level:
            try:
                validate_division_code(code, level)
            except ValidationError as exc:
                row.error("code", f"{exc.messages[0]}（{OrgLevel(level).label}）")
        if level == OrgLevel.CITY and parent_code:
            row.error("parent_code", "市级单位不能有上级单位，请留空（县级市的层级请填“区市县”）。")
        if level and level != OrgLevel.CITY and parent_code == "":
            row.error("parent_code", "除市级外，单位必须有上级单位，请填写上级区划代码。")
        if valid_from and valid_to and valid_to <= valid_from:
            row.error("valid_to", f"停用日期（{valid_to}）必须晚于启用日期（{valid_from}）。")
        if level == OrgLevel.DISTRICT and code and parent_code and len(code) == 6 and code.isdigit():
            if county_code_info(code) is None and not code.startswith(parent_code[:4]):
                row.error(
                    "code",
                    f"“{code}”不是国家标准 GB/T 2260 中的县级区划代码，也不以上级区划代码“{parent_code[:4]}”开头，"
                    "请核对。",
                )
        return Record(
            row.number,
            {
                "code": code,
                "name": name,
                "parent_code": parent_code or "",
                "level": level,
                "valid_from": valid_from,
                "valid_to": valid_to,
            },
        )

    def check(self, records: list[Record]) -> None:
        self.reject_duplicates(records, lambda r: r.data["code"], "code", lambda c: f"区划代码“{c}”")
        self.units = {u.code: u for u in OrgUnit.objects.all()}
        self.codes_by_id = {u.pk: code for code, u in self.units.items()}
        in_file = {r.data["code"]: r for r in records if r.data["code"]}
        # Parents before children, whatever the order in the file; rows with mistakes are checked too, so
        # that all their mistakes are reported at once.
        ordered = sorted(records, key=lambda r: (r.data["level"] or 9, r.row))
        for record in ordered:
            self._check_one(record, in_file)

    def _state(self, code: str, in_file: dict[str, Record]) -> tuple[int, str, datetime.date | None] | None:
        """Level, name and 停用日期 of a unit as it will stand after the import."""
        record = in_file.get(code)
        if record is not None and record.data["level"]:
            existing = self.units.get(code)
            valid_to = (
                record.data["valid_to"]
                if "valid_to" in self.present
                else (existing.valid_to if existing else None)
            )
            return record.data["level"], record.data["name"] or code, valid_to
        unit = self.units.get(code)
        if unit is not None:
            return unit.level, unit.name, unit.valid_to
        return None

    def _own_dates(self, record: Record, existing: OrgUnit | None) -> tuple[Any, Any] | None:
        """启用日期 and 停用日期 as they will stand; None when one of them is itself wrong on the row."""
        if self.failed(record, "valid_from", "valid_to"):
            return None
        data = record.data
        return tuple(  # type: ignore[return-value]
            data[key] if key in self.present or existing is None else getattr(existing, key)
            for key in ("valid_from", "valid_to")
        )

    def _check_parent(self, record: Record, in_file: dict[str, Record], existing: OrgUnit | None) -> None:
        level, parent_code = record.data["level"], record.data["parent_code"]
        parent_record = in_file.get(parent_code)
        if parent_record is not None and parent_record is not record and not self.alive(parent_record):
            self.reject(
                record,
                "parent_code",
                f"上级区划代码“{parent_code}”所在的第 {parent_record.row} 行有错误，本行无法导入。",
            )
            return
        parent = self._state(parent_code, in_file)
        if parent is None:
            self.reject(
                record,
                "parent_code",
                f"上级区划代码“{parent_code}”不存在：系统中没有，本文件中也没有，请先导入上级单位。",
            )
            return
        parent_level, parent_name, parent_to = parent
        if level and parent_level != level - 1:
            self.reject(
                record,
                "parent_code",
                f"上级单位“{parent_name}”是{OrgLevel(parent_level).label}，"
                f"{OrgLevel(level).label}的上级应是{OrgLevel(level - 1).label}。",
            )
            return
        dates = self._own_dates(record, existing)
        placed_here = existing is None or self.codes_by_id.get(existing.parent_id, "") != parent_code
        if placed_here and parent_to is not None and dates is not None:
            own_from, own_to = dates
            if (own_from is not None and own_from >= parent_to) or own_to is None or own_to > parent_to:
                self.reject(
                    record,
                    "parent_code",
                    f"上级单位“{parent_name}”已于 {parent_to} 停用，本单位不能在它停用后仍在其下。",
                )

    def _check_one(self, record: Record, in_file: dict[str, Record]) -> None:
        """Every check the row's values allow (each independent one even after another failed); the action
        only for a row without mistakes."""
        data = record.data
        code, level, parent_code = data["code"], data["level"], data["parent_code"]
        existing = self.units.get(code) if code else None
        if parent_code:
            self._check_parent(record, in_file, existing)
        in_scope = True
        if existing is not None:
            record.target = existing
            if not self.in_scope(existing.path):
                self.reject(record, "code", f"单位{_unit_label(existing)}不在您的管辖范围内。")
                in_scope = False
        parent_now = self.codes_by_id.get(existing.parent_id, "") if existing is not None else ""
        if in_scope and parent_code is not None and (existing is None or parent_code != parent_now):
            # A new unit, or one moved: where it goes must be in the user's scope (a new parent from this
            # file was checked on its own row).
            anchor = self.units.get(parent_code)
            if anchor is not None and not self.in_scope(anchor.path):
                self.reject(record, "parent_code", f"上级单位{_unit_label(anchor)}不在您的管辖范围内。")
            elif (
                not parent_code
                and level == OrgLevel.CITY
                and self.scope_path != ""
                and getattr(self.actor, "role", "") != "city_admin"
            ):
                self.reject(record, "level", "只有市级管理员可以建立市级单位。")
        if existing is not None and in_scope:
            if level and existing.level != level:
                self.reject(
                    record,
                    "level",
                    f"系统中该单位的层级是“{existing.get_level_display()}”，导入不能改变单位的层级。",
                )
            for key in ("valid_from", "valid_to"):
                if (
                    key in self.present
                    and not self.failed(record, key)
                    and data[key] != getattr(existing, key)
                ):
                    stored = getattr(existing, key) or "空"
                    self.reject(
                        record,
                        key,
                        f"与系统记录（{stored}）不同；导入不能修改已有单位的{self.header(key)}，请在单位页面中修改。",
                    )
        if not self.alive(record):
            return
        if existing is None:
            record.action = "create"
            return
        if data["name"] != existing.name:
            record.changes["name"] = [existing.name, data["name"]]
        if parent_code != parent_now:
            record.changes["parent"] = [parent_now, parent_code]
        record.action = "update" if record.changes else "unchanged"

    def save(self, records: list[Record]) -> None:
        creates = sorted((r for r in records if r.action == "create"), key=lambda r: (r.data["level"], r.row))
        by_code = dict(self.units)
        audits = []
        for level in OrgLevel.values:
            batch = [r for r in creates if r.data["level"] == level]
            if not batch:
                continue
            units = [
                OrgUnit(
                    code=r.data["code"],
                    name=r.data["name"],
                    level=level,
                    parent=by_code[r.data["parent_code"]] if r.data["parent_code"] else None,
                    valid_from=r.data["valid_from"],
                    valid_to=r.data["valid_to"],
                    path="",
                )
                for r in batch
            ]
            OrgUnit.objects.bulk_create(units, batch_size=BATCH)
            for unit in units:
                unit.path = f"{unit.parent.path if unit.parent else ''}{unit.pk}{PATH_SEPARATOR}"
                by_code[unit.code] = unit
            OrgUnit.objects.bulk_update(units, ["path"], batch_size=BATCH)
            OrgUnitVersion.objects.bulk_create(
                (
                    OrgUnitVersion(
                        unit=u,
                        code=u.code,
                        name=u.name,
                        level=u.level,
                        parent=u.parent,
                        path=u.path,
                        valid_from=u.valid_from,
                        valid_to=u.valid_to,
                    )
                    for u in units
                ),
                batch_size=BATCH,
            )
            audits.extend(_audit_new(self.actor, u, ORGUNIT_AUDIT_FIELDS, u.path) for u in units)
        audit_bulk(audits)
        # The few changed units go through the services, so renames and moves keep their history.
        for record in (r for r in records if r.action == "update"):
            try:
                with transaction.atomic():
                    unit = OrgUnit.objects.get(code=record.data["code"])
                    if "name" in record.changes:
                        unit = services.orgunit_update(
                            actor=self.actor, unit=unit, name=record.data["name"], effective_on=self.today
                        )
                    if "parent" in record.changes:
                        services.orgunit_move(
                            actor=self.actor,
                            unit=unit,
                            new_parent=OrgUnit.objects.get(code=record.data["parent_code"]),
                            effective_on=self.today,
                        )
            except ServiceError as exc:
                self.reject(record, "parent_code" if exc.field == "parent" else "name", exc.message)


# --- enterprises --------------------------------------------------------------------------------

_ENTERPRISE_VALUES = (
    "pk",
    "credit_code",
    "name",
    "org_unit_id",
    "ownership",
    "industry_id",
    "above_designated_size",
    "headcount",
    "migrant_headcount",
    "dispatched_headcount",
    "founded_on",
    "deregistered_on",
    "address",
    "contact_phone",
)
_COUNTS = ("headcount", "migrant_headcount", "dispatched_headcount")


class EnterpriseImporter(Importer):
    kind = "enterprises"
    label = "企业"
    capabilities = ("import", "edit_registry")
    columns = (
        Column("credit_code", "统一社会信用代码", required=True, aliases=("社会信用代码", "信用代码")),
        Column("name", "企业名称", required=True, aliases=("单位名称",)),
        Column("org_unit", "所属区划代码", required=True),
        Column("ownership", "经济类型", required=True),
        Column("industry", "行业门类"),
        Column("above_designated_size", "规模以上", aliases=("是否规模以上",)),
        Column("headcount", "职工人数", required=True),
        Column("migrant_headcount", "农民工人数"),
        Column("dispatched_headcount", "劳务派遣人数"),
        Column("founded_on", "成立日期", required=True),
        Column("deregistered_on", "注销日期"),
        Column("address", "地址"),
        Column("contact_phone", "联系电话"),
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.industries = {i.code: i for i in Industry.objects.all()}

    def _industry(self, row: Row) -> str | None:
        text = row.text("industry") or ""
        if not text:
            return None
        letter = text[0].upper()
        rest = text[1:].strip(" .、:：")
        if letter in self.industries and (not rest or rest == self.industries[letter].name):
            return letter
        row.error("industry", f"“{text}”不是行业门类，应填 A–T 中的一个字母（如 C 表示制造业）。")
        return None

    def clean_row(self, row: Row) -> Record | None:
        code = credit_code_cell(row, "credit_code", required=True)
        data: dict[str, Any] = {
            "credit_code": code,
            "name": row.text("name", required=True, max_length=200),
            "org_unit": row.code("org_unit", required=True),
            "ownership": row.choice("ownership", OWNERSHIPS, required=True, hint=OWNERSHIP_HINT),
            "headcount": row.integer("headcount", required=True),
            "founded_on": row.date("founded_on", required=True),
        }
        if row.has("industry"):
            data["industry"] = self._industry(row)
        if row.has("above_designated_size"):
            data["above_designated_size"] = row.yes_no("above_designated_size")
        for key in ("migrant_headcount", "dispatched_headcount"):
            if row.has(key):
                data[key] = row.integer(key)
        if row.has("deregistered_on"):
            data["deregistered_on"] = row.date("deregistered_on")
        if row.has("address"):
            data["address"] = row.text("address", max_length=200, as_typed=True)
        if row.has("contact_phone"):
            data["contact_phone"] = row.phone("contact_phone", max_length=30)
        return Record(row.number, data)

    def check(self, records: list[Record]) -> None:
        self.reject_duplicates(
            records, lambda r: r.data["credit_code"], "credit_code", lambda c: f"统一社会信用代码“{c}”"
        )
        self.units_by_code = {u.code: u for u in OrgUnit.objects.all()}
        self.units_by_id = {u.pk: u for u in self.units_by_code.values()}
        existing: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(sorted({r.data["credit_code"] for r in records if r.data["credit_code"]})):
            for values in Enterprise.objects.filter(credit_code__in=chunk).values(*_ENTERPRISE_VALUES):
                existing[values["credit_code"]] = values
        # Rows with mistakes too: their 区划代码 and the rest are checked, so all mistakes show at once.
        for record in records:
            code = record.data["credit_code"]
            self._check_one(record, existing.get(code) if code else None)

    def _check_one(self, record: Record, stored: dict[str, Any] | None) -> None:
        """Every check the row's values allow, each independent one even after another failed; the action
        only for a row without mistakes."""
        data = record.data
        unit = None
        if data["org_unit"]:
            unit = self.units_by_code.get(data["org_unit"])
            if unit is None:
                self.reject(
                    record,
                    "org_unit",
                    f"所属区划代码“{data['org_unit']}”不存在，请核对，或先导入该区域单位。",
                )
        if stored is not None:
            current_unit = self.units_by_id[stored["org_unit_id"]]
            if not self.in_scope(current_unit.path):
                self.reject(record, "credit_code", "该企业已登记在您管辖范围以外的单位，不能由您修改。")
        if unit is not None:
            unit_changed = stored is None or stored["org_unit_id"] != unit.pk
            if not self.in_scope(unit.path):
                self.reject(record, "org_unit", f"所属区划{_unit_label(unit)}不在您的管辖范围内。")
            elif unit_changed and unit.valid_to is not None and unit.valid_to <= self.today:
                self.reject(
                    record,
                    "org_unit",
                    f"所属区划{_unit_label(unit)}已于 {unit.valid_to} 停用，请填写现在的区划代码。",
                )
        # The values of the row where they are right, else the stored ones: the checks between columns.
        merged = {**(stored or {})}
        merged.update((key, value) for key, value in data.items() if not self.failed(record, key))
        headcount = None if self.failed(record, "headcount") else merged.get("headcount")
        for key in ("migrant_headcount", "dispatched_headcount"):
            if headcount is not None and not self.failed(record, key) and (merged.get(key) or 0) > headcount:
                self.reject(
                    record,
                    key,
                    f"{self.header(key)}（{merged[key]}）不能多于职工人数（{headcount}）。",
                )
        founded, deregistered = merged.get("founded_on"), merged.get("deregistered_on")
        if (
            founded
            and deregistered
            and deregistered < founded
            and not self.failed(record, "founded_on", "deregistered_on")
        ):
            self.reject(
                record,
                "deregistered_on",
                f"注销日期（{deregistered}）不能早于成立日期（{founded}）。",
            )
        if not self.alive(record) or unit is None:
            return
        new = {key: value for key, value in data.items() if key != "org_unit"}
        new["org_unit_id"] = unit.pk
        if "industry" in new:
            new["industry_id"] = new.pop("industry")
        record.data = new
        if stored is None:
            record.action = "create"
            return
        record.target = stored
        record.changes = {key: value for key, value in new.items() if stored[key] != value}
        record.action = "update" if record.changes else "unchanged"

    def _instance(self, values: dict[str, Any]) -> Enterprise:
        """An Enterprise built from values, with its unit and industry attached so audit needs no queries."""
        enterprise = Enterprise(**values)
        enterprise.org_unit = self.units_by_id[values["org_unit_id"]]
        enterprise.industry = self.industries.get(values.get("industry_id"))
        return enterprise

    def save(self, records: list[Record]) -> None:
        creates = [r for r in records if r.action == "create"]
        updates = [r for r in records if r.action == "update"]
        total = len(creates) + len(updates)
        done = 0
        for batch in _chunks(creates, BATCH):
            enterprises = [self._instance(r.data) for r in batch]
            Enterprise.objects.bulk_create(enterprises)
            # As enterprise_create: one location and one headcount row each, in force since before records began.
            insert_rows(
                EnterpriseLocation,
                ["enterprise", "org_unit", "valid_from", "valid_to"],
                [(e.pk, e.org_unit_id, None, None) for e in enterprises],
            )
            insert_rows(
                EnterpriseHeadcount,
                [
                    "enterprise",
                    "valid_from",
                    "valid_to",
                    "headcount",
                    "migrant_headcount",
                    "dispatched_headcount",
                ],
                [
                    (e.pk, None, None, e.headcount, e.migrant_headcount, e.dispatched_headcount)
                    for e in enterprises
                ],
            )
            audit_bulk(
                [_audit_new(self.actor, e, ENTERPRISE_AUDIT_FIELDS, e.org_unit.path) for e in enterprises]
            )
            done += len(batch)
            self.progress("保存", done, total)
        for batch in _chunks(updates, BATCH):
            self._save_updates(batch)
            done += len(batch)
            self.progress("保存", done, total)

    def _save_updates(self, batch: list[Record]) -> None:
        enterprises = []
        audits = []
        fields: set[str] = set()
        moved: dict[int, int] = {}
        recounted: dict[int, dict[str, int]] = {}
        for record in batch:
            before = self._instance(record.target)
            after = self._instance({**record.target, **record.data})
            changes = audit_diff(
                _snapshot(before, ENTERPRISE_AUDIT_FIELDS),
                _snapshot(after, ENTERPRISE_AUDIT_FIELDS),
            )
            fields.update(k.removesuffix("_id") for k in record.changes)
            enterprises.append(after)
            if "org_unit_id" in record.changes:
                moved[after.pk] = after.org_unit_id
            if any(k in record.changes for k in _COUNTS):
                recounted[after.pk] = {k: getattr(after, k) for k in _COUNTS}
            note = (
                f"所属区划或人数自 {self.today} 起生效" if {"org_unit", "headcount"} & changes.keys() else ""
            )
            audits.append(
                audit_build(
                    actor=self.actor,
                    action=AuditAction.UPDATE,
                    instance=after,
                    changes=changes,
                    unit_path=after.org_unit.path,
                    note=note,
                )
            )
        Enterprise.objects.bulk_update(enterprises, sorted(fields))
        self._close_and_open(
            EnterpriseLocation, {pk: {"org_unit_id": unit_id} for pk, unit_id in moved.items()}
        )
        self._close_and_open(EnterpriseHeadcount, recounted)
        audit_bulk(audits)

    def _close_and_open(self, model: type, values: dict[int, dict[str, Any]]) -> None:
        """End each enterprise's open dated row today and open one with the new values (services' rule, set-based)."""
        if not values:
            return
        keys = sorted({k for v in values.values() for k in v})
        corrected, closed, opened = [], [], []
        seen: set[int] = set()
        for chunk in _chunks(list(values)):
            for current in model.objects.filter(enterprise_id__in=chunk, valid_to__isnull=True):
                seen.add(current.enterprise_id)
                if current.valid_from is not None and current.valid_from >= self.today:
                    for key, value in values[current.enterprise_id].items():
                        setattr(current, key, value)
                    corrected.append(current)
                else:
                    current.valid_to = self.today
                    closed.append(current)
                    opened.append(
                        model(
                            enterprise_id=current.enterprise_id,
                            valid_from=self.today,
                            **values[current.enterprise_id],
                        )
                    )
        opened.extend(
            model(enterprise_id=pk, valid_from=self.today, **v) for pk, v in values.items() if pk not in seen
        )
        model.objects.bulk_update(corrected, keys, batch_size=BATCH)
        model.objects.bulk_update(closed, ["valid_to"], batch_size=BATCH)
        model.objects.bulk_create(opened, batch_size=BATCH)


# --- grassroots unions --------------------------------------------------------------------------

_UNION_VALUES = (
    "pk",
    "name",
    "union_type",
    "org_unit_id",
    "founded_on",
    "dissolved_on",
    "chair_name",
    "chair_directly_elected",
)


class UnionImporter(Importer):
    kind = "unions"
    label = "基层工会"
    capabilities = ("import", "edit_registry")
    columns = (
        Column("name", "工会名称", required=True),
        Column("union_type", "工会类型", required=True),
        Column("org_unit", "所属区划代码", required=True),
        Column("founded_on", "成立日期", required=True),
        Column("dissolved_on", "撤销日期"),
        Column("enterprises", "覆盖企业", required=True),
        Column("chair_name", "主席姓名"),
        Column("chair_directly_elected", "主席直选", aliases=("主席是否直选",)),
    )

    def _enterprise_codes(self, row: Row) -> list[str] | None:
        return credit_code_list(
            row,
            "enterprises",
            "覆盖企业不能为空：请填写该工会覆盖的企业的统一社会信用代码，多个用“;”或“、”分隔。",
        )

    def clean_row(self, row: Row) -> Record | None:
        name = row.text("name", required=True, max_length=200)
        unit_code = row.code("org_unit", required=True)
        data: dict[str, Any] = {
            "name": name,
            "union_type": row.choice("union_type", UNION_TYPES, required=True, hint=UNION_TYPE_HINT),
            "org_unit": unit_code,
            "founded_on": row.date("founded_on", required=True),
            "enterprises": self._enterprise_codes(row),
        }
        if row.has("dissolved_on"):
            data["dissolved_on"] = row.date("dissolved_on")
        if row.has("chair_name"):
            data["chair_name"] = row.text("chair_name", max_length=50, as_typed=True)
        if row.has("chair_directly_elected"):
            data["chair_directly_elected"] = row.yes_no("chair_directly_elected")
        founded, dissolved = data["founded_on"], data.get("dissolved_on")
        if founded and dissolved:
            if dissolved < founded:
                row.error(
                    "dissolved_on", f"撤销日期早于成立日期（撤销 {dissolved}，成立 {founded}），请核对。"
                )
            elif dissolved == founded:
                row.error(
                    "dissolved_on", f"撤销日期与成立日期是同一天（{founded}），工会须在成立之后撤销，请核对。"
                )
        return Record(row.number, data)

    @staticmethod
    def _key(record: Record) -> tuple[str, str] | None:
        unit_code, name = record.data["org_unit"], record.data["name"]
        return (unit_code, name) if unit_code and name else None

    def check(self, records: list[Record]) -> None:
        self.reject_duplicates(records, self._key, "name", lambda key: f"“{key[0]}”下的工会“{key[1]}”")
        self.units_by_code = {u.code: u for u in OrgUnit.objects.all()}
        self.units_by_id = {u.pk: u for u in self.units_by_code.values()}
        # Rows with mistakes are looked up too, so that all their mistakes are reported at once.
        codes = sorted({c for r in records for c in r.data["enterprises"] or ()})
        self.enterprises: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(codes):
            for values in Enterprise.objects.filter(credit_code__in=chunk).values(
                "pk", "credit_code", "name", "org_unit_id"
            ):
                self.enterprises[values["credit_code"]] = values
        self.enterprise_names = {v["pk"]: v["name"] for v in self.enterprises.values()}
        keys = [k for k in map(self._key, records) if k and k[0] in self.units_by_code]
        unit_ids = sorted({self.units_by_code[unit_code].pk for unit_code, _name in keys})
        stored: dict[tuple[int, str], dict[str, Any]] = {}
        for chunk in _chunks(unit_ids):
            for values in GrassrootsUnion.objects.filter(org_unit_id__in=chunk).values(*_UNION_VALUES):
                stored[(values["org_unit_id"], values["name"])] = values
        names = set(keys)
        stored = {k: v for k, v in stored.items() if (self.units_by_id[k[0]].code, k[1]) in names}
        self.coverages: dict[int, list[UnionCoverage]] = {}
        for chunk in _chunks(sorted(v["pk"] for v in stored.values())):
            for coverage in UnionCoverage.objects.filter(union_id__in=chunk):
                self.coverages.setdefault(coverage.union_id, []).append(coverage)
        for record in records:
            unit = self.units_by_code.get(record.data["org_unit"]) if record.data["org_unit"] else None
            self._check_one(record, unit, stored.get((unit.pk, record.data["name"])) if unit else None)

    def _check_one(self, record: Record, unit: OrgUnit | None, stored: dict[str, Any] | None) -> None:
        """Every check the row's values allow, each independent one even after another failed; the action
        only for a row without mistakes."""
        data = record.data
        if unit is None and data["org_unit"]:
            self.reject(
                record, "org_unit", f"所属区划代码“{data['org_unit']}”不存在，请核对，或先导入该区域单位。"
            )
        elif unit is not None and not self.in_scope(unit.path):
            self.reject(record, "org_unit", f"所属区划{_unit_label(unit)}不在您的管辖范围内。")
        elif unit is not None and not self.failed(record, "dissolved_on"):
            dissolved = data.get("dissolved_on", stored["dissolved_on"] if stored else None)
            if unit.valid_to is not None and (dissolved is None or dissolved > unit.valid_to):
                self.reject(
                    record,
                    "org_unit",
                    f"所属区划{_unit_label(unit)}已于 {unit.valid_to} 停用，未撤销的工会请填写现在的区划代码。",
                )
        codes = data["enterprises"] or []
        unknown = [c for c in codes if c not in self.enterprises]
        if unknown:
            self.reject(
                record,
                "enterprises",
                f"统一社会信用代码“{'、'.join(unknown)}”尚未登记为企业，请核对，或先导入这些企业。",
            )
        outside = [
            c
            for c in codes
            if c in self.enterprises
            and not self.in_scope(self.units_by_id[self.enterprises[c]["org_unit_id"]].path)
        ]
        if outside:
            self.reject(record, "enterprises", f"企业“{'、'.join(outside)}”不在您的管辖范围内。")
        if not self.alive(record) or unit is None:
            return
        new = {k: v for k, v in data.items() if k not in ("org_unit", "enterprises")}
        new["org_unit_id"] = unit.pk
        record.data = {**new, "enterprise_ids": [self.enterprises[c]["pk"] for c in data["enterprises"]]}
        if stored is None:
            record.action = "create"
            return
        founded = new["founded_on"]
        if dissolved is not None and dissolved <= founded:
            self.reject(record, "dissolved_on", f"撤销日期（{dissolved}）必须晚于成立日期（{founded}）。")
            return
        record.target = stored
        record.changes = {k: v for k, v in new.items() if stored[k] != v}
        covered = {c.enterprise_id for c in self.coverages.get(stored["pk"], [])}
        added = [pk for pk in record.data["enterprise_ids"] if pk not in covered]
        if added:
            record.changes["enterprise_ids"] = added
        record.action = "update" if record.changes else "unchanged"

    def _instance(self, values: dict[str, Any]) -> GrassrootsUnion:
        union = GrassrootsUnion(**{k: v for k, v in values.items() if k != "enterprise_ids"})
        union.org_unit = self.units_by_id[values["org_unit_id"]]
        return union

    def _names(self, enterprise_ids: Iterable[int]) -> str:
        return "、".join(self.enterprise_names[pk] for pk in enterprise_ids)

    def save(self, records: list[Record]) -> None:
        for batch in _chunks([r for r in records if r.action == "create"], BATCH):
            unions = [self._instance(r.data) for r in batch]
            GrassrootsUnion.objects.bulk_create(unions)
            UnionCoverage.objects.bulk_create(
                (
                    UnionCoverage(union=u, enterprise_id=pk, valid_from=u.founded_on, valid_to=u.dissolved_on)
                    for u, r in zip(unions, batch, strict=True)
                    for pk in r.data["enterprise_ids"]
                ),
                batch_size=BATCH,
            )
            audit_bulk(
                [
                    _audit_new(
                        self.actor,
                        u,
                        UNION_AUDIT_FIELDS,
                        u.org_unit.path,
                        note="覆盖企业：" + self._names(r.data["enterprise_ids"]),
                    )
                    for u, r in zip(unions, batch, strict=True)
                ]
            )
        for batch in _chunks([r for r in records if r.action == "update"], BATCH):
            self._save_updates(batch)

    def _save_updates(self, batch: list[Record]) -> None:
        unions, audits, fields = [], [], set()
        changed_coverages: list[UnionCoverage] = []
        new_coverages: list[UnionCoverage] = []
        for record in batch:
            stored = record.target
            before = self._instance(stored)
            after = self._instance({**stored, **record.data})
            changes = audit_diff(_snapshot(before, UNION_AUDIT_FIELDS), _snapshot(after, UNION_AUDIT_FIELDS))
            fields.update(k for k in record.changes if k != "enterprise_ids")
            unions.append(after)
            for coverage in self.coverages.get(after.pk, []):
                if self._follow_dates(coverage, stored, after):
                    changed_coverages.append(coverage)
            added = record.changes.get("enterprise_ids", [])
            new_coverages.extend(
                UnionCoverage(
                    union_id=after.pk,
                    enterprise_id=pk,
                    valid_from=after.founded_on,
                    valid_to=after.dissolved_on,
                )
                for pk in added
            )
            if added:
                changes["覆盖企业"] = [None, self._names(added)]
            audits.append(
                audit_build(
                    actor=self.actor,
                    action=AuditAction.UPDATE,
                    instance=after,
                    changes=changes,
                    unit_path=after.org_unit.path,
                )
            )
        if fields:
            GrassrootsUnion.objects.bulk_update(unions, sorted(fields))
        UnionCoverage.objects.bulk_update(changed_coverages, ["valid_from", "valid_to"], batch_size=BATCH)
        UnionCoverage.objects.bulk_create(new_coverages, batch_size=BATCH)
        audit_bulk(audits)

    @staticmethod
    def _follow_dates(coverage: UnionCoverage, stored: dict[str, Any], after: GrassrootsUnion) -> bool:
        """Coverage over the union's whole life follows its new dates; others are cut at a dissolution."""
        old = (coverage.valid_from, coverage.valid_to)
        if old == (stored["founded_on"], stored["dissolved_on"]):
            coverage.valid_from, coverage.valid_to = after.founded_on, after.dissolved_on
        elif after.dissolved_on is not None and (
            coverage.valid_to is None or coverage.valid_to > after.dissolved_on
        ):
            if coverage.valid_from is None or coverage.valid_from < after.dissolved_on:
                coverage.valid_to = after.dissolved_on
        return (coverage.valid_from, coverage.valid_to) != old


register_importer(UnitImporter.kind, UnitImporter)
register_importer(EnterpriseImporter.kind, EnterpriseImporter)
register_importer(UnionImporter.kind, UnionImporter)
