"""Importing hardship files (`safetynet import hardship-files FILE [--dry-run] [--errors OUT.xlsx]`).

Columns (Chinese header row, any order; required in bold in the README): **姓名**, **身份证号**, **所属区划代码**,
**家庭人口**, **家庭月收入**, **困难类型** (several separated by 、 or ,: 因病 / 因残 / 因灾 / 单亲 / 子女上学 / 失业 /
其他), **建档日期**, 脱困日期, 脱困原因 (收入提高 / 实现就业 / 病愈或困难消除 / 迁出本地 / 去世 / 其他; required
with 脱困日期), 困难程度 (一般困难 / 特困).

The worker must already be in the registry with that name and ID number. A file is matched by (person, 建档日期):
importing the same file again changes nothing; a row adding 脱困日期 to a file already open closes it. A second
open file for a person, or periods of one person that overlap, are refused. Set-based: a few queries for the
whole file (units, persons by ID hash, their files, thresholds), one bulk insert.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from safetynet.assistance import services
from safetynet.assistance.models import CloseReason, FileStatus, HardshipFile, HardshipLevel
from safetynet.core.errors import ServiceError
from safetynet.core.importing import (
    Column,
    Importer,
    Record,
    Row,
    chunked,
    number_cell_problem,
    register_importer,
)
from safetynet.core.models import AuditAction
from safetynet.core.services import audit_build, audit_bulk, audit_snapshot
from safetynet.members import crypto
from safetynet.members.models import Person
from safetynet.members.validation import IdNumberError, IdType, validate_identity
from safetynet.orgs.models import OrgLevel, OrgUnit

CLOSE_REASONS = {str(label): value for value, label in CloseReason.choices} | {
    "收入增加": CloseReason.INCOME_RISEN,
    "就业": CloseReason.EMPLOYED,
    "再就业": CloseReason.EMPLOYED,
    "病愈": CloseReason.RECOVERED,
    "迁出": CloseReason.MOVED,
}
LEVELS = {str(label): value for value, label in HardshipLevel.choices} | {
    "一般": "general",
    "特别困难": "extreme",
}


class HardshipFileImporter(Importer):
    kind = "hardship-files"
    label = "困难职工档案"
    capabilities = ("import", "handle_assistance")
    columns = (
        Column("name", "姓名", required=True),
        Column("id_number", "身份证号", required=True),
        Column("unit_code", "所属区划代码", required=True),
        Column("household_size", "家庭人口", required=True),
        Column("monthly_income", "家庭月收入", required=True),
        Column("causes", "困难类型", required=True),
        Column("opened_on", "建档日期", required=True),
        Column("closed_on", "脱困日期"),
        Column("close_reason", "脱困原因"),
        Column("level", "困难程度"),
    )

    def _id_number(self, row: Row) -> str | None:
        raw = row.raw("id_number")
        problem = number_cell_problem(raw, "身份证号")
        if problem:
            row.error("id_number", problem)
            return None
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            raw = format(int(raw), "d")
        if raw in (None, ""):
            row.error("id_number", "身份证号不能为空，请填写。")
            return None
        try:
            return validate_identity(IdType.RESIDENT_ID, raw).number
        except IdNumberError as exc:
            row.error("id_number", exc.messages[0])
            return None

    def clean_row(self, row: Row) -> Record | None:
        name = row.text("name", required=True, max_length=50)
        number = self._id_number(row)
        unit_code = row.code("unit_code", required=True)
        size = row.integer("household_size", required=True, default=None)
        if size is not None and size < 1:
            row.error("household_size", f"家庭人口应至少为 1 人（填写的是 {size}）。")
            size = None
        income: Decimal | None = None
        raw_income = row.raw("monthly_income")
        if raw_income in (None, ""):
            row.error("monthly_income", "家庭月收入不能为空，请填写（元，可带两位小数）。")
        else:
            try:
                income = services.money(
                    raw_income if not isinstance(raw_income, float) else repr(round(raw_income, 2)),
                    field_name="monthly_income",
                    label="家庭月收入",
                )
            except ServiceError as exc:
                row.error("monthly_income", exc.message)
        causes = None
        raw_causes = row.text("causes", required=True)
        if raw_causes:
            try:
                causes = services.clean_causes(raw_causes)
            except ServiceError as exc:
                row.error("causes", exc.message)
        opened_on = row.date("opened_on", required=True)
        closed_on = row.date("closed_on") if row.has("closed_on") else None
        if opened_on and closed_on and closed_on < opened_on:
            row.error("closed_on", f"脱困日期（{closed_on}）不能早于建档日期（{opened_on}）。")
        reason = ""
        if row.has("close_reason"):
            reason = (
                row.choice("close_reason", CLOSE_REASONS, hint="“收入提高”“实现就业”“病愈或困难消除”等") or ""
            )
        if closed_on and not reason:
            row.error(
                "close_reason" if row.has("close_reason") else "closed_on",
                "填写了脱困日期时，请同时填写脱困原因。",
            )
        if reason and not closed_on:
            row.error("closed_on", "填写了脱困原因时，请同时填写脱困日期。")
        level = HardshipLevel.GENERAL
        if row.has("level") and row.raw("level") not in (None, ""):
            level = row.choice("level", LEVELS, hint="“一般困难”或“特困”") or HardshipLevel.GENERAL
        data = {
            "name": name,
            "hash": crypto.lookup_hash(number) if number else None,
            "unit_code": unit_code,
            "household_size": size,
            "monthly_income": income,
            "causes": causes,
            "opened_on": opened_on,
            "closed_on": closed_on,
            "close_reason": reason,
            "level": level,
        }
        return Record(row.number, data)

    def check(self, records: list[Record]) -> None:
        self.reject_duplicates(
            [r for r in records if r.data["hash"] and r.data["opened_on"]],
            lambda r: (r.data["hash"], r.data["opened_on"]),
            "id_number",
            lambda key: f"同一职工同一建档日期（{key[1]}）的档案",
        )
        codes = sorted({r.data["unit_code"] for r in records if r.data["unit_code"]})
        units: dict[str, OrgUnit] = {}
        for chunk in chunked(codes):
            units.update({u.code: u for u in OrgUnit.objects.filter(code__in=chunk)})
        hashes = sorted({r.data["hash"] for r in records if r.data["hash"]})
        persons: dict[str, tuple[int, str]] = {}
        for chunk in chunked(hashes):
            for pk, name, key in Person.objects.filter(
                id_type=IdType.RESIDENT_ID, id_number_hash__in=chunk
            ).values_list("pk", "name", "id_number_hash"):
                persons[key] = (pk, name)
        existing: dict[int, list[tuple[int, datetime.date, datetime.date | None, str]]] = {}
        person_ids = [pk for pk, _ in persons.values()]
        for chunk in chunked(person_ids):
            for pk, person_id, opened_on, closed_on, status in HardshipFile.objects.filter(
                person_id__in=chunk
            ).values_list("pk", "person_id", "opened_on", "closed_on", "status"):
                existing.setdefault(person_id, []).append((pk, opened_on, closed_on, status))
        self.units = units
        self.persons = persons
        self.thresholds: dict[tuple[int, int], Decimal | None] = {}
        planned: dict[int, list[tuple[datetime.date, datetime.date | None, int]]] = {}
        for record in records:
            data = record.data
            unit = units.get(data["unit_code"]) if data["unit_code"] else None
            if data["unit_code"] and unit is None:
                self.reject(
                    record, "unit_code", f"区划代码“{data['unit_code']}”不存在，请先导入或新建该单位。"
                )
            elif unit is not None and not self.in_scope(unit.path):
                self.reject(record, "unit_code", f"单位“{unit.name}”不在您的管辖范围内。")
            elif unit is not None and unit.level < OrgLevel.DISTRICT:
                self.reject(record, "unit_code", "困难档案应建在区市县、街道或社区，不能建在市级。")
            found = persons.get(data["hash"]) if data["hash"] else None
            if data["hash"] and found is None:
                self.reject(
                    record,
                    "id_number",
                    "实名库中没有该身份证号的职工，请先在职工库登记（导入 members）后再建档。",
                )
            elif found is not None and data["name"] and found[1] != data["name"]:
                self.reject(
                    record, "name", f"姓名“{data['name']}”与实名库中该身份证号的职工姓名不一致，请核对。"
                )
            if not self.alive(record) or found is None or unit is None:
                continue
            person_id = found[0]
            data["person_id"], data["unit"] = person_id, unit
            opened, closed = data["opened_on"], data["closed_on"]
            match = next((e for e in existing.get(person_id, []) if e[1] == opened), None)
            if match is not None:
                pk, _opened, old_closed, _status = match
                record.target = pk
                if old_closed is None and closed is not None:
                    record.action = "update"
                elif old_closed == closed:
                    record.action = "unchanged"
                else:
                    self.reject(
                        record,
                        "closed_on",
                        f"该档案已于 {old_closed} 脱困，文件中的脱困日期（{closed or '空'}）与之不一致；"
                        "已脱困的档案不能通过导入修改。",
                    )
                continue
            others = [(e[1], e[2]) for e in existing.get(person_id, []) if e[1] != opened]
            others += [(o, c) for o, c, row in planned.get(person_id, []) if row != record.row]
            clash = next((o for o in others if _overlap(o, (opened, closed))), None)
            if clash is not None:
                self.reject(
                    record,
                    "opened_on",
                    f"{data['name']}已有{'在档' if clash[1] is None else ''}的困难档案（{clash[0]} 建档"
                    + (f"，{clash[1]} 脱困" if clash[1] else "")
                    + "），与本行的建档期间重叠；同一职工同一时间只能有一份档案。",
                )
                continue
            planned.setdefault(person_id, []).append((opened, closed, record.row))
            record.action = "create"
            key = (unit.pk, opened.year)
            if key not in self.thresholds:
                self.thresholds[key] = services.threshold_for(unit, opened.year)

    def save(self, records: list[Record]) -> None:
        valid = self.valid(records)
        hashes = {r.data["hash"]: r.data["person_id"] for r in valid}
        person_hash = {pk: key for key, pk in hashes.items()}
        creates = [r for r in valid if r.action == "create"]
        files = []
        for record in creates:
            data = record.data
            files.append(
                HardshipFile(
                    person_id=data["person_id"],
                    org_unit=data["unit"],
                    household_key=person_hash[data["person_id"]],
                    household_size=data["household_size"],
                    monthly_income=data["monthly_income"],
                    income_per_head=services.income_per_head(data["monthly_income"], data["household_size"]),
                    threshold=self.thresholds.get((data["unit"].pk, data["opened_on"].year)),
                    causes=data["causes"],
                    level=data["level"],
                    status=FileStatus.CLOSED if data["closed_on"] else FileStatus.OPEN,
                    opened_on=data["opened_on"],
                    closed_on=data["closed_on"],
                    close_reason=data["close_reason"],
                    review_due_on=services._one_year_later(data["opened_on"]),
                )
            )
        created = HardshipFile.objects.bulk_create(files, batch_size=2000)
        entries = []
        for record, hardship_file in zip(creates, created, strict=True):
            # __str__ names the person: the name is the row's (checked against the registry), no query.
            hardship_file.person = Person(pk=record.data["person_id"], name=record.data["name"])
            if hardship_file.pk is None:  # SQLite before 3.35 gives no ids back; the audit row needs one
                hardship_file = HardshipFile.objects.get(
                    person_id=record.data["person_id"], opened_on=record.data["opened_on"]
                )
            after = audit_snapshot(
                hardship_file, ("household_size", "monthly_income", "causes", "opened_on", "closed_on")
            )
            entries.append(
                audit_build(
                    actor=self.actor,
                    action=AuditAction.IMPORT,
                    instance=hardship_file,
                    changes={k: [None, v] for k, v in after.items() if v not in (None, "")},
                    unit_path=record.data["unit"].path,
                )
            )
        audit_bulk(entries)
        # Closing an open file (脱困) is a step of its workflow: few rows, each through the service.
        for record in valid:
            if record.action == "update":
                services.hardship_file_close(
                    actor=self.actor,
                    hardship_file=HardshipFile(pk=record.target),
                    closed_on=record.data["closed_on"],
                    reason=record.data["close_reason"] or CloseReason.OTHER,
                    note="导入",
                )


def _overlap(
    a: tuple[datetime.date, datetime.date | None], b: tuple[datetime.date, datetime.date | None]
) -> bool:
    """[a0, a1) and [b0, b1) share a day (an empty end is open)."""
    a_end = a[1] or datetime.date.max
    b_end = b[1] or datetime.date.max
    return a[0] < b_end and b[0] < a_end


register_importer(HardshipFileImporter.kind, HardshipFileImporter)
