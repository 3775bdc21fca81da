"""Importing member rosters (``safetynet import members FILE``; INTERFACES.md, the ``members`` file).

One row is one person at one enterprise: an employment (入职日期 – 离职日期) and, when 入会日期 is filled
in, a membership of the union that covers the enterprise on that day (入会日期 – 离会日期).

Matching, so that importing the same file twice changes nothing:
- a person by the keyed hash of the ID number (never by name); a registered person keeps their name
  (a different name in the file is refused, not overwritten); phone and 户籍类型 are updated when the file
  gives a value;
- an employment by (person, enterprise, 入职日期), a membership by (person, union, 入会日期): a matched
  record takes the file's end date and details, anything else is new.

Rules between rows and against what is stored:
- rows of one person are their history: successive jobs and transfers are kept;
- two rows of one person whose employments at the same enterprise overlap, or whose full-time jobs at two
  enterprises overlap (非全日制 may run beside another job), or whose memberships overlap, are all rejected,
  each naming the other row;
- against stored records: an overlapping employment at the same enterprise is refused; a membership
  elsewhere that is still open and began earlier ends on the new 入会日期 as a transfer (会员关系接转);
  any other overlapping membership is refused;
- the union is the one covering the enterprise on 入会日期 (a single-enterprise union before a joint or
  regional one; then the oldest); none → "该企业在入会日期没有工会覆盖".

Set-based: lookups go by chunks of keys (enterprises, coverages, persons, their employments and
memberships), writes by bulk inserts and updates; ID numbers and phones are encrypted only for the persons
actually created or changed. The audit trail gets one row per enterprise and import, with the counts.
"""

from __future__ import annotations

import datetime
import functools
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from safetynet.core.importing import Column, Importer, Record, Row, register_importer
from safetynet.core.models import AuditAction, AuditEntry
from safetynet.core.normalize import parse_date
from safetynet.core.services import audit_bulk
from safetynet.members import crypto
from safetynet.members.bulk import analyze_tables, insert_rows, person_chunk_size
from safetynet.members.models import (
    Employment,
    EmploymentType,
    Household,
    Membership,
    MembershipEndReason,
    Person,
)
from safetynet.members.validation import (
    IdentityInfo,
    IdNumberError,
    IdType,
    mask_id_number,
    mask_phone,
    normalize_phone,
    validate_identity,
)
from safetynet.orgs.models import Enterprise, GrassrootsUnion, UnionCoverage, UnionType
from safetynet.orgs.validation import normalize_credit_code

BATCH = 2000
COPY_BATCH = 50000
PERSON_FIELDS = (
    "name",
    "id_type",
    "id_number_encrypted",
    "id_number_hash",
    "id_number_masked",
    "birth_date",
    "sex",
    "phone_encrypted",
    "phone_hash",
    "phone_masked",
    "household",
    "created_at",
    "updated_at",
)
EMPLOYMENT_FIELDS = (
    "person_id",
    "enterprise_id",
    "valid_from",
    "valid_to",
    "employment_type",
    "contract_signed",
)
MEMBERSHIP_FIELDS = ("person_id", "union_id", "valid_from", "valid_to", "member_number", "end_reason")
# Lookups with IN (...) stay under SQLite's 999 parameters.
LOOKUP_CHUNK = 900

HOUSEHOLDS = {
    "城镇": Household.URBAN,
    "城市": Household.URBAN,
    "非农业": Household.URBAN,
    "非农业户口": Household.URBAN,
    "城镇户口": Household.URBAN,
    "农村": Household.RURAL,
    "农业": Household.RURAL,
    "农业户口": Household.RURAL,
    "农村户口": Household.RURAL,
}
EMPLOYMENT_TYPES = {label: value for value, label in EmploymentType.choices} | {
    "劳动合同制": EmploymentType.LABOUR_CONTRACT,
    "合同制": EmploymentType.LABOUR_CONTRACT,
    "派遣": EmploymentType.DISPATCHED,
    "劳务派遣工": EmploymentType.DISPATCHED,
    "非全日制用工": EmploymentType.PART_TIME,
}
ID_TYPES = {label: value for value, label in IdType.choices} | {
    "身份证": IdType.RESIDENT_ID,
    "居民身份证号码": IdType.RESIDENT_ID,
    "回乡证": IdType.HK_MACAO_PERMIT,
    "港澳通行证": IdType.HK_MACAO_PERMIT,
    "台胞证": IdType.TAIWAN_PERMIT,
}

NO_COVERAGE = "该企业在入会日期没有工会覆盖"


def _chunks(items: list[Any], size: int = LOOKUP_CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _period(start: datetime.date, end: datetime.date | None) -> str:
    return f"{start} 至 {end}" if end else f"{start} 起至今"


def _overlaps(
    a_from: datetime.date, a_to: datetime.date | None, b_from: datetime.date, b_to: datetime.date | None
) -> bool:
    """[a_from, a_to) and [b_from, b_to) share a day (an empty end is open)."""
    return (a_to is None or b_from < a_to) and (b_to is None or a_from < b_to)


class MemberRow:
    """One cleaned row, kept small: a million of them are held while the file is checked."""

    __slots__ = (
        "name",
        "id_type",
        "number",
        "number_hash",
        "phone",
        "household",
        "employment_type",
        "credit_code",
        "employed_from",
        "employed_to",
        "joined_on",
        "left_on",
        "member_number",
        "enterprise_id",
        "union_id",
        "contract_signed",
        "employment",
        "membership",
        "end_reason",
        "birth_date",
        "sex",
        "lead",
        "person_action",
        "person_pk",
    )

    def __init__(self, **values: Any) -> None:
        for name in self.__slots__:
            setattr(self, name, None)
        for name, value in values.items():
            setattr(self, name, value)


@functools.lru_cache(maxsize=65536)
def _checked_credit_code(code: str) -> tuple[str | None, str]:
    """A roster names few enterprises on many rows: each code is checked once per process."""
    try:
        return normalize_credit_code(code), ""
    except ValidationError as exc:
        return None, exc.messages[0]


@functools.lru_cache(maxsize=65536)
def _parsed_date(text: str) -> datetime.date | None:
    try:
        return parse_date(text)
    except ValueError:
        return None


class MemberImporter(Importer):
    kind = "members"
    label = "会员"
    capabilities = ("import", "edit_registry")
    columns = (
        Column("name", "姓名", required=True, aliases=("职工姓名",)),
        Column("id_number", "身份证号", required=True, aliases=("身份证号码", "证件号码", "公民身份号码")),
        Column("id_type", "证件类型"),
        Column("phone", "手机号", aliases=("手机号码", "联系电话", "电话")),
        Column("household", "户籍类型", aliases=("户口性质", "户籍性质")),
        Column("employment_type", "用工形式"),
        Column("credit_code", "企业统一社会信用代码", required=True, aliases=("统一社会信用代码",)),
        Column("employed_from", "入职日期", required=True),
        Column("employed_to", "离职日期"),
        Column("joined_on", "入会日期"),
        Column("left_on", "离会日期"),
        Column("member_number", "会员编号"),
    )

    # --- 1. one row, no database ------------------------------------------------------------

    def clean_row(self, row: Row) -> Record | None:
        name = row.text("name", required=True, max_length=50)
        id_type = IdType.RESIDENT_ID
        if row.has("id_type") and row.text("id_type"):
            id_type = row.choice("id_type", ID_TYPES, hint="、".join(IdType.labels)) or IdType.RESIDENT_ID
        identity = self._document(row, id_type)
        phone = self._phone(row)
        household = (
            row.choice("household", HOUSEHOLDS, hint="“城镇”或“农村”") if row.has("household") else None
        )
        employment_type = (
            row.choice("employment_type", EMPLOYMENT_TYPES, hint="“劳动合同”“劳务派遣”“非全日制”")
            if row.has("employment_type")
            else None
        )
        credit_code = self._credit_code(row)
        employed_from = self._date(row, "employed_from", required=True)
        employed_to = self._date(row, "employed_to")
        joined_on = self._date(row, "joined_on")
        left_on = self._date(row, "left_on")
        member_number = (
            (row.text("member_number", max_length=30) or "").replace(" ", "")
            if row.has("member_number")
            else None
        )
        self._check_dates(row, employed_from, employed_to, joined_on, left_on, member_number)
        if identity is None:
            return None
        return Record(
            row.number,
            {},
            target=MemberRow(
                name=name,
                id_type=id_type,
                number=identity.number,
                number_hash=crypto.lookup_hash(identity.number),
                birth_date=identity.birth_date,
                sex=identity.sex,
                phone=phone or "",
                household=household or "",
                # None: the file has no such column, so a stored value stays as it is.
                employment_type=(employment_type or "") if row.has("employment_type") else None,
                credit_code=credit_code,
                employed_from=employed_from,
                employed_to=employed_to,
                joined_on=joined_on,
                left_on=left_on,
                member_number=member_number,
            ),
        )

    @staticmethod
    def _document(row: Row, id_type: str) -> IdentityInfo | None:
        try:
            return validate_identity(id_type, row.raw("id_number"))
        except IdNumberError as exc:
            row.error("id_number", exc.messages[0])
            return None

    @staticmethod
    def _phone(row: Row) -> str | None:
        if not row.has("phone"):
            return ""
        try:
            return normalize_phone(row.raw("phone"))
        except ValidationError as exc:
            row.error("phone", exc.messages[0])
            return None

    @staticmethod
    def _credit_code(row: Row) -> str | None:
        code = row.code("credit_code", required=True)
        if not code:
            return None
        checked, message = _checked_credit_code(code)
        if message:
            row.error("credit_code", message)
        return checked

    @staticmethod
    def _date(row: Row, key: str, *, required: bool = False) -> datetime.date | None:
        """A roster repeats the same few dates: text already seen is parsed once."""
        raw = row.raw(key)
        if isinstance(raw, str):
            if not raw and not required:
                return None
            day = _parsed_date(raw)
            if day is not None:
                return day
        return row.date(key, required=required)

    @staticmethod
    def _check_dates(
        row: Row,
        employed_from: datetime.date | None,
        employed_to: datetime.date | None,
        joined_on: datetime.date | None,
        left_on: datetime.date | None,
        member_number: str | None,
    ) -> None:
        if employed_from and employed_to and employed_to < employed_from:
            row.error("employed_to", f"离职日期（{employed_to}）早于入职日期（{employed_from}），请核对。")
        if joined_on is None:
            if left_on is not None:
                row.error("left_on", "填写了离会日期但没有入会日期，请补填入会日期或删去离会日期。")
            if member_number:
                row.error("member_number", "填写了会员编号但没有入会日期，请补填入会日期。")
            return
        if left_on and left_on < joined_on:
            row.error("left_on", f"离会日期（{left_on}）早于入会日期（{joined_on}），请核对。")
        if employed_from and joined_on < employed_from:
            row.error(
                "joined_on",
                f"入会日期（{joined_on}）早于入职日期（{employed_from}）：本行的入会须在该企业任职期间；"
                "在原单位入会的，请把原单位的任职和入会另填一行。",
            )
        elif employed_to and joined_on >= employed_to:
            row.error(
                "joined_on", f"入会日期（{joined_on}）不在任职期间（{_period(employed_from, employed_to)}）。"
            )

    # --- 2. all rows against the database -----------------------------------------------------

    def check(self, records: list[Record]) -> None:
        self._resolve_enterprises(self.valid(records))
        self._resolve_unions(self.valid(records))
        self._check_names_in_file(self.valid(records))
        valid = self.valid(records)
        self.progress("核对", 0, len(valid))
        by_person: dict[tuple[str, str], list[Record]] = defaultdict(list)
        for record in valid:
            by_person[(record.target.id_type, record.target.number_hash)].append(record)
        keys = list(by_person)
        self.transfers: list[dict[str, Any]] = []
        done = 0
        for chunk in _chunks(keys, person_chunk_size()):
            people, employments, memberships = self._load_people(chunk)
            for key in chunk:
                person = people.get(key)
                pk = person["pk"] if person else None
                self._check_person(
                    key,
                    by_person[key],
                    person,
                    employments.get(pk, []) if pk else [],
                    memberships.get(pk, []) if pk else [],
                )
            done += sum(len(by_person[k]) for k in chunk)
            self.progress("核对", done, len(valid))

    def _resolve_enterprises(self, valid: list[Record]) -> None:
        codes = sorted({r.target.credit_code for r in valid})
        self.enterprises: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(codes):
            for values in (
                Enterprise.objects.order_by()
                .filter(credit_code__in=chunk)
                .values("pk", "credit_code", "name", "org_unit__path", "founded_on", "deregistered_on")
            ):
                self.enterprises[values["credit_code"]] = values
        for record in valid:
            data = record.target
            enterprise = self.enterprises.get(data.credit_code)
            if enterprise is None:
                self.reject(
                    record,
                    "credit_code",
                    f"统一社会信用代码“{data.credit_code}”尚未登记为企业，请核对，或先导入该企业。",
                )
                continue
            if not self.in_scope(enterprise["org_unit__path"]):
                self.reject(record, "credit_code", f"企业“{enterprise['name']}”不在您的管辖范围内。")
                continue
            if data.employed_from < enterprise["founded_on"]:
                self.reject(
                    record,
                    "employed_from",
                    f"入职日期（{data.employed_from}）早于企业“{enterprise['name']}”的成立日期"
                    f"（{enterprise['founded_on']}），请核对。",
                )
                continue
            if enterprise["deregistered_on"] and data.employed_from >= enterprise["deregistered_on"]:
                self.reject(
                    record,
                    "employed_from",
                    f"企业“{enterprise['name']}”已于 {enterprise['deregistered_on']} 注销，入职日期不能在此之后。",
                )
                continue
            data.enterprise_id = enterprise["pk"]

    def _resolve_unions(self, valid: list[Record]) -> None:
        joining = [r for r in valid if r.target.joined_on is not None]
        enterprise_ids = sorted({r.target.enterprise_id for r in joining})
        coverages: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for chunk in _chunks(enterprise_ids):
            for values in (
                UnionCoverage.objects.order_by()
                .filter(enterprise_id__in=chunk)
                .values(
                    "enterprise_id",
                    "union_id",
                    "valid_from",
                    "valid_to",
                    "union__founded_on",
                    "union__dissolved_on",
                    "union__union_type",
                )
            ):
                coverages[values["enterprise_id"]].append(values)
        for candidates in coverages.values():
            # A single-enterprise union first, then the oldest: the choice is the same on every run.
            candidates.sort(
                key=lambda c: (
                    c["union__union_type"] != UnionType.SINGLE,
                    c["union__founded_on"],
                    c["union_id"],
                )
            )
        for record in joining:
            day = record.target.joined_on
            chosen = next(
                (
                    c
                    for c in coverages.get(record.target.enterprise_id, [])
                    if (c["valid_from"] is None or c["valid_from"] <= day)
                    and (c["valid_to"] is None or day < c["valid_to"])
                    and c["union__founded_on"] <= day
                    and (c["union__dissolved_on"] is None or day < c["union__dissolved_on"])
                ),
                None,
            )
            if chosen is None:
                self.reject(
                    record,
                    "joined_on",
                    f"{NO_COVERAGE}（入会日期 {day}），请核对入会日期，或先登记覆盖该企业的工会。",
                )
                continue
            record.target.union_id = chosen["union_id"]

    def _check_names_in_file(self, valid: list[Record]) -> None:
        names: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for record in valid:
            names[(record.target.id_type, record.target.number_hash)][record.target.name].append(record.row)
        conflicting = {key: rows for key, rows in names.items() if len(rows) > 1}
        if not conflicting:
            return
        for record in valid:
            rows = conflicting.get((record.target.id_type, record.target.number_hash))
            if rows:
                others = "、".join(
                    f"第 {row} 行为“{name}”"
                    for name, numbers in rows.items()
                    for row in numbers
                    if row != record.row and name != record.target.name
                )
                self.reject(record, "name", f"同一证件号码在本文件中对应不同姓名（{others}），请核对。")

    def _load_people(
        self, keys: list[tuple[str, str]]
    ) -> tuple[
        dict[tuple[str, str], dict[str, Any]],
        dict[int, list[dict[str, Any]]],
        dict[int, list[dict[str, Any]]],
    ]:
        people: dict[tuple[str, str], dict[str, Any]] = {}
        wanted = set(keys)
        for values in (
            Person.objects.order_by()
            .filter(id_number_hash__in=[h for _t, h in keys])
            .values("pk", "id_type", "id_number_hash", "name", "phone_hash", "household", "id_number_masked")
        ):
            key = (values["id_type"], values["id_number_hash"])
            if key in wanted:
                people[key] = values
        pks = [p["pk"] for p in people.values()]
        employments: dict[int, list[dict[str, Any]]] = defaultdict(list)
        memberships: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if pks:
            for values in (
                Employment.objects.order_by()
                .filter(person_id__in=pks)
                .values(
                    "pk",
                    "person_id",
                    "enterprise_id",
                    "valid_from",
                    "valid_to",
                    "employment_type",
                    "contract_signed",
                )
            ):
                employments[values["person_id"]].append(values)
            for values in (
                Membership.objects.order_by()
                .filter(person_id__in=pks)
                .values(
                    "pk",
                    "person_id",
                    "union_id",
                    "union__name",
                    "valid_from",
                    "valid_to",
                    "member_number",
                    "end_reason",
                )
            ):
                memberships[values["person_id"]].append(values)
        return people, employments, memberships

    def _alive(self, record: Record) -> bool:
        return record.ok and record.row not in self.issues.rejected

    def _check_person(
        self,
        key: tuple[str, str],
        group: list[Record],
        person: dict[str, Any] | None,
        employments: list[dict[str, Any]],
        memberships: list[dict[str, Any]],
    ) -> None:
        if person is not None:
            for record in group:
                if record.target.name != person["name"]:
                    self.reject(
                        record,
                        "name",
                        f"证件号码 {person['id_number_masked']} 已登记，但姓名与登记的不一致；同一证件号码只能对应一人，"
                        "请核对姓名或号码。",
                    )
        self._check_employments(group, employments)
        self._check_memberships(group, memberships)
        alive = [r for r in group if self._alive(r)]
        if not alive:
            return
        self._decide(key, alive, person, employments, memberships)

    def _check_employments(self, group: list[Record], stored: list[dict[str, Any]]) -> None:
        by_key = {(e["enterprise_id"], e["valid_from"]): e for e in stored}
        rows = [r for r in group if self._alive(r)]
        for index, record in enumerate(rows):
            data = record.target
            for other in rows[index + 1 :]:
                o = other.target
                if not _overlaps(data.employed_from, data.employed_to, o.employed_from, o.employed_to):
                    continue
                if data.enterprise_id == o.enterprise_id:
                    why = "同一人在同一企业的任职期间不能重叠"
                elif EmploymentType.PART_TIME not in (data.employment_type, o.employment_type):
                    why = "同一人不能同时在两家企业全日制任职（兼职请把用工形式填为“非全日制”）"
                else:
                    continue
                self.reject(record, "employed_from", f"与第 {other.row} 行的任职期间重叠：{why}。")
                self.reject(other, "employed_from", f"与第 {record.row} 行的任职期间重叠：{why}。")
        for record in rows:
            data = record.target
            match = by_key.get((data.enterprise_id, data.employed_from))
            for employment in stored:
                if employment is match or employment["enterprise_id"] != data.enterprise_id:
                    continue
                if _overlaps(
                    data.employed_from,
                    data.employed_to,
                    employment["valid_from"],
                    employment["valid_to"],
                ):
                    self.reject(
                        record,
                        "employed_from",
                        f"已登记此人在该企业的任职记录（{_period(employment['valid_from'], employment['valid_to'])}），"
                        "与本行重叠；同一条任职请填写相同的入职日期。",
                    )
                    break

    @staticmethod
    def _transfer_dates(rows: list[Record], stored: list[dict[str, Any]]) -> dict[int, datetime.date]:
        """Stored open memberships the file does not restate that end as a transfer: pk → the day the
        earliest later membership of the file begins (in another union)."""
        restated = {(r.target.union_id, r.target.joined_on) for r in rows}
        ends: dict[int, datetime.date] = {}
        for membership in stored:
            if (
                membership["valid_to"] is not None
                or (membership["union_id"], membership["valid_from"]) in restated
            ):
                continue
            later = [r for r in rows if r.target.joined_on > membership["valid_from"]]
            if not later:
                continue
            first = min(r.target.joined_on for r in later)
            if all(r.target.union_id != membership["union_id"] for r in later if r.target.joined_on == first):
                ends[membership["pk"]] = first
        return ends

    def _check_memberships(self, group: list[Record], stored: list[dict[str, Any]]) -> None:
        rows = [r for r in group if self._alive(r) and r.target.joined_on is not None]
        for index, record in enumerate(rows):
            data = record.target
            for other in rows[index + 1 :]:
                o = other.target
                if _overlaps(data.joined_on, data.left_on, o.joined_on, o.left_on):
                    why = "同一人同一时间只能是一个工会的会员（转会的，原工会一行请填写离会日期）"
                    self.reject(record, "joined_on", f"与第 {other.row} 行的会员期间重叠：{why}。")
                    self.reject(other, "joined_on", f"与第 {record.row} 行的会员期间重叠：{why}。")
        rows = [r for r in rows if self._alive(r)]
        restated = {(r.target.union_id, r.target.joined_on) for r in rows}
        transfers = self._transfer_dates(rows, stored)
        for record in rows:
            data = record.target
            for membership in stored:
                if (membership["union_id"], membership["valid_from"]) in restated:
                    continue
                end = transfers.get(membership["pk"], membership["valid_to"])
                if _overlaps(data.joined_on, data.left_on, membership["valid_from"], end):
                    self.reject(
                        record,
                        "joined_on",
                        f"已登记此人为“{membership['union__name']}”的会员"
                        f"（{_period(membership['valid_from'], membership['valid_to'])}），与本行的会员期间重叠；"
                        "同一条会员关系请填写相同的入会日期。",
                    )
                    break

    def _decide(
        self,
        key: tuple[str, str],
        rows: list[Record],
        person: dict[str, Any] | None,
        employments: list[dict[str, Any]],
        memberships: list[dict[str, Any]],
    ) -> None:
        """Set each surviving row's action, and remember the person to create or update."""
        latest = sorted(rows, key=lambda r: (r.target.employed_from, r.row))
        phone = next((r.target.phone for r in reversed(latest) if r.target.phone), "")
        household = next((r.target.household for r in reversed(latest) if r.target.household), "")
        # The first row leads: it carries what is written to the person, and later their id for all rows.
        lead = rows[0].target
        if person is None:
            lead.person_action, lead.person_pk = "create", None
            lead.phone, lead.household = phone, household
        else:
            lead.person_action, lead.person_pk = "unchanged", person["pk"]
            lead.phone = phone if phone and crypto.lookup_hash(phone) != person["phone_hash"] else ""
            lead.household = household if household and household != person["household"] else ""
            if lead.phone or lead.household:
                lead.person_action = "update"
        for record in rows:
            record.target.lead = lead
        by_employment = {(e["enterprise_id"], e["valid_from"]): e for e in employments}
        by_membership = {(m["union_id"], m["valid_from"]): m for m in memberships}
        joining = [r for r in rows if r.target.joined_on is not None]
        transfer_rows: dict[datetime.date, list[dict[str, Any]]] = defaultdict(list)
        for pk, day in self._transfer_dates(joining, memberships).items():
            union_id = next(m["union_id"] for m in memberships if m["pk"] == pk)
            transfer_rows[day].append({"pk": pk, "on": day, "union_id": union_id})
        for record in rows:
            data = record.target
            actions = [lead.person_action] if data is lead else []
            stored = by_employment.get((data.enterprise_id, data.employed_from))
            employment_type = data.employment_type
            if employment_type is None:
                employment_type = stored["employment_type"] if stored else ""
            data.employment_type = employment_type
            if stored is not None and stored["employment_type"] == employment_type:
                data.contract_signed = stored["contract_signed"]
            else:
                data.contract_signed = employment_type == EmploymentType.LABOUR_CONTRACT
            if stored is None:
                data.employment = ("create", None)
            elif (stored["valid_to"], stored["employment_type"]) != (data.employed_to, employment_type):
                data.employment = ("update", stored["pk"])
            else:
                data.employment = ("unchanged", stored["pk"])
            actions.append(data.employment[0])
            if data.joined_on is not None:
                membership = by_membership.get((data.union_id, data.joined_on))
                if data.member_number is None:
                    data.member_number = membership["member_number"] if membership else ""
                if membership is None:
                    data.membership = ("create", None)
                    data.end_reason = ""
                elif (membership["valid_to"], membership["member_number"]) != (
                    data.left_on,
                    data.member_number,
                ):
                    data.membership = ("update", membership["pk"])
                    # The reason is not in the file: keep a stored one only for the same end date.
                    data.end_reason = (
                        membership["end_reason"] if membership["valid_to"] == data.left_on else ""
                    )
                else:
                    data.membership = ("unchanged", membership["pk"])
                actions.append(data.membership[0])
                for transfer in transfer_rows.pop(data.joined_on, []):
                    self.transfers.append({**transfer, "row": record.row})
                    actions.append("update")
            record.action = (
                "create" if "create" in actions else "update" if "update" in actions else "unchanged"
            )

    # --- 3. writing ---------------------------------------------------------------------------

    def save(self, records: list[Record]) -> None:
        rows = {r.row for r in records}
        counts: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._save_people(records, counts)
        self._save_employments(records, counts)
        self._save_memberships(records, rows, counts)
        self._audit(counts)
        analyze_tables(Person, Employment, Membership)

    def _save_people(self, records: list[Record], counts: dict[tuple[str, int], dict[str, int]]) -> None:
        key = crypto.current_key()
        now = timezone.now()
        leads = [r.target for r in records if r.target.lead is r.target]
        creates = [m for m in leads if m.person_action == "create"]
        for batch in _chunks(creates, COPY_BATCH):
            rows = [
                (
                    m.name,
                    m.id_type,
                    key.encrypt(m.number),
                    m.number_hash,
                    mask_id_number(m.number),
                    m.birth_date,
                    m.sex or "",
                    key.encrypt(m.phone),
                    key.lookup_hash(m.phone),
                    mask_phone(m.phone),
                    m.household,
                    now,
                    now,
                )
                for m in batch
            ]
            for m, pk in zip(batch, insert_rows(Person, PERSON_FIELDS, rows), strict=True):
                m.person_pk = pk
                counts[("enterprise", m.enterprise_id)]["新增职工"] += 1
        updates = [m for m in leads if m.person_action == "update"]
        for batch in _chunks(updates, BATCH):
            persons = list(Person.objects.order_by().filter(pk__in=[m.person_pk for m in batch]))
            by_pk = {m.person_pk: m for m in batch}
            for person in persons:
                lead = by_pk[person.pk]
                if lead.phone:
                    person.phone_encrypted = key.encrypt(lead.phone)
                    person.phone_hash = key.lookup_hash(lead.phone)
                    person.phone_masked = mask_phone(lead.phone)
                if lead.household:
                    person.household = lead.household
                counts[("enterprise", lead.enterprise_id)]["更新职工信息"] += 1
            Person.objects.bulk_update(
                persons, ["phone_encrypted", "phone_hash", "phone_masked", "household"]
            )

    def _save_employments(self, records: list[Record], counts: dict[tuple[str, int], dict[str, int]]) -> None:
        creates, updates = [], []
        for record in records:
            data = record.target
            action, pk = data.employment
            if action == "unchanged":
                continue
            values = (
                data.lead.person_pk,
                data.enterprise_id,
                data.employed_from,
                data.employed_to,
                data.employment_type,
                data.contract_signed,
            )
            if action == "create":
                creates.append(values)
            else:
                updates.append(Employment(pk, *values))
            counts[("enterprise", data.enterprise_id)]["新增用工" if action == "create" else "更新用工"] += 1
        for batch in _chunks(creates, COPY_BATCH):
            insert_rows(Employment, EMPLOYMENT_FIELDS, batch)
        Employment.objects.bulk_update(
            updates, ["valid_to", "employment_type", "contract_signed"], batch_size=BATCH
        )

    def _save_memberships(
        self, records: list[Record], rows: set[int], counts: dict[tuple[str, int], dict[str, int]]
    ) -> None:
        closing = [t for t in self.transfers if t["row"] in rows]
        if closing:
            for chunk in _chunks(closing):
                stored = {
                    m.pk: m for m in Membership.objects.order_by().filter(pk__in=[t["pk"] for t in chunk])
                }
                for transfer in chunk:
                    membership = stored[transfer["pk"]]
                    membership.valid_to = transfer["on"]
                    membership.end_reason = MembershipEndReason.TRANSFERRED
                    counts[("union", transfer["union_id"])]["会员关系转出"] += 1
                Membership.objects.bulk_update(list(stored.values()), ["valid_to", "end_reason"])
        creates, updates = [], []
        for record in records:
            data = record.target
            if data.joined_on is None or data.membership[0] == "unchanged":
                continue
            action, pk = data.membership
            values = (
                data.lead.person_pk,
                data.union_id,
                data.joined_on,
                data.left_on,
                data.member_number,
                data.end_reason,
            )
            if action == "create":
                creates.append(values)
            else:
                updates.append(Membership(pk, *values))
            counts[("union", data.union_id)]["新增会员" if action == "create" else "更新会员关系"] += 1
        for batch in _chunks(creates, COPY_BATCH):
            insert_rows(Membership, MEMBERSHIP_FIELDS, batch)
        Membership.objects.bulk_update(updates, ["valid_to", "member_number", "end_reason"], batch_size=BATCH)

    def _audit(self, counts: dict[tuple[str, int], dict[str, int]]) -> None:
        """One audit row per enterprise (employees) and per union (members), with what the import did."""
        enterprises = {e["pk"]: e for e in self.enterprises.values()}
        unions: dict[int, tuple[str, str]] = {}
        for chunk in _chunks([pk for kind, pk in counts if kind == "union"]):
            for pk, name, path in (
                GrassrootsUnion.objects.order_by()
                .filter(pk__in=chunk)
                .values_list("pk", "name", "org_unit__path")
            ):
                unions[pk] = (name, path)
        entries = []
        actor = self.actor if getattr(self.actor, "is_authenticated", False) else None
        for (kind, pk), numbers in counts.items():
            if kind == "enterprise":
                entity, name, path = (
                    "orgs.enterprise",
                    enterprises[pk]["name"],
                    enterprises[pk]["org_unit__path"],
                )
            else:
                entity, (name, path) = "orgs.grassrootsunion", unions[pk]
            entries.append(
                AuditEntry(
                    actor=actor,
                    actor_name=actor.get_username() if actor else "系统",
                    action=AuditAction.IMPORT,
                    entity=entity,
                    object_id=str(pk),
                    object_repr=name[:255],
                    unit_path=path,
                    changes={label: [None, n] for label, n in numbers.items()},
                    note="导入会员名册",
                )
            )
        audit_bulk(entries)


register_importer(MemberImporter.kind, MemberImporter)
