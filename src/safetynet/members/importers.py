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

A roster may have a million rows, so the file is read twice (core.importing.StreamingImporter) and memory
stays bounded: pass 1 checks the rows batch by batch against enterprises and coverages (looked up once per
code) and keeps, per row, only a few numbers in flat arrays (enterprise, dates, union, phone) and, per
person, the slots of their rows; the checks across rows and against the stored persons then run person by
person, loading the stored records by chunks of keys, and leave each row's decision in the arrays. Pass 2
writes the rows that were not rejected, batch by batch: COPY on PostgreSQL, executemany on SQLite; ID
numbers and phones are encrypted only for the persons created or changed, a batch at a time. The employment
spans of the persons the import creates are computed from the rows written (members/spans.py
``person_spans``, with employment ids reserved beforehand) and written with them; the persons already stored
whose records changed get the SQL rebuild at the end. The audit trail gets one row per enterprise and union,
with the counts.
"""

from __future__ import annotations

import datetime
import functools
import json
import operator
from array import array
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from safetynet.core.importing import (
    Column,
    ImportUnusable,
    Record,
    Row,
    StreamingImporter,
    number_cell_problem,
    register_importer,
)
from safetynet.core.models import AuditAction, AuditEntry
from safetynet.core.normalize import parse_date
from safetynet.members import crypto
from safetynet.members.bulk import (
    BackgroundWriter,
    FastPersonalData,
    Prefetcher,
    analyze_tables,
    reserve_ids,
    restore_sqlite_cache,
    select_in,
    sqlite_cache,
    write_rows,
)
from safetynet.members.models import (
    Employment,
    EmploymentSpan,
    EmploymentType,
    Household,
    Membership,
    MembershipEndReason,
    Person,
)
from safetynet.members.spans import OPEN, SPAN_FIELDS, employment_spans_rebuild, person_spans
from safetynet.members.validation import (
    EARLIEST_BIRTH_DATE,
    NAME_MAX_LENGTH,
    IdNumberError,
    IdType,
    Sex,
    clean_person_name,
    division_code_name,
    mask_id_number,
    mask_phone,
    normalize_phone,
    validate_identity,
)
from safetynet.orgs.models import Enterprise, GrassrootsUnion, OrgUnit, UnionCoverage, UnionType
from safetynet.orgs.validation import normalize_credit_code

BATCH = 2000
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
AUDIT_FIELDS = (
    "at",
    "actor_id",
    "actor_name",
    "action",
    "entity",
    "object_id",
    "object_repr",
    "unit_path",
    "changes",
    "note",
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
# The order in which clean_row takes the cells of a row.
RAW_KEYS = (
    "name",
    "id_number",
    "id_type",
    "phone",
    "household",
    "employment_type",
    "credit_code",
    "employed_from",
    "employed_to",
    "joined_on",
    "left_on",
    "member_number",
)

# Small codes for the flat arrays of pass 1: None (the file has no such column) is 0.
TYPE_CODES: dict[str | None, int] = {
    None: 0,
    "": 1,
    EmploymentType.LABOUR_CONTRACT: 2,
    EmploymentType.DISPATCHED: 3,
    EmploymentType.PART_TIME: 4,
}
TYPE_VALUES = {code: value for value, code in TYPE_CODES.items()}
HOUSEHOLD_CODES = {"": 0, Household.URBAN: 1, Household.RURAL: 2}
HOUSEHOLD_VALUES = {code: value for value, code in HOUSEHOLD_CODES.items()}
# A row's decision about its employment or membership.
SKIP, CREATE, UPDATE, UNCHANGED = 0, 1, 2, 3
ACTION_CODES = {"create": CREATE, "update": UPDATE, "unchanged": UNCHANGED}
WRITES = (CREATE, UPDATE)


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


def _day(ordinal: int) -> datetime.date | None:
    return datetime.date.fromordinal(ordinal) if ordinal else None


def _phone_code(phone: str) -> int:
    """A normalised phone (digits, maybe a leading 0) as one integer; 0 for none."""
    return int("1" + phone) if phone else 0


def _phone_text(code: int) -> str:
    return str(code)[1:] if code else ""


def _clean_name(row: Any, raw_name: object) -> str | None:
    """The name as typed (no width folding, like the forms and the API): the usual name — letters only,
    Chinese characters are letters — as it is; any other through the shared check (or an error on the row)."""
    if type(raw_name) is str and raw_name.isalnum() and len(raw_name) <= NAME_MAX_LENGTH:
        return raw_name
    try:
        return clean_person_name(raw_name)
    except ValidationError as exc:
        row.error("name", exc.messages[0])
        return None


class MemberRow:
    """One row of a person whose rows are checked together (built for a chunk of persons at a time)."""

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
        "slot",
    )

    def __init__(
        self,
        *,
        slot: int,
        name: str,
        enterprise_id: int,
        employed_from: datetime.date,
        employed_to: datetime.date | None,
        employment_type: str | None,
        union_id: int | None,
        joined_on: datetime.date | None,
        left_on: datetime.date | None,
        member_number: str | None,
        phone: str,
        household: str,
    ) -> None:
        # Spelt out rather than a loop over __slots__: built for every row of a person with several rows.
        self.slot, self.name, self.enterprise_id = slot, name, enterprise_id
        self.employed_from, self.employed_to, self.employment_type = (
            employed_from,
            employed_to,
            employment_type,
        )
        self.union_id, self.joined_on, self.left_on = union_id, joined_on, left_on
        self.member_number, self.phone, self.household = member_number, phone, household
        self.id_type = self.number = self.number_hash = self.credit_code = None
        self.contract_signed = self.employment = self.membership = self.end_reason = None
        self.birth_date = self.sex = self.lead = self.person_action = self.person_pk = None


@functools.lru_cache(maxsize=65536)
def _parsed_date(text: str) -> datetime.date | None:
    try:
        return parse_date(text)
    except ValueError:
        return None


def _credit_code_problem(code: str) -> str:
    """Why a code that is not registered is not even a valid code ('' when it is valid)."""
    try:
        normalize_credit_code(code)
    except ValidationError as exc:
        return exc.messages[0]
    return ""


class Cleaned:
    """What ``clean_row`` makes of a row (the Record's target)."""

    __slots__ = (
        "name",
        "id_type",
        "number",
        "birth_date",
        "sex",
        "phone",
        "household",
        "employment_type",
        "credit_code",
        "employed_from",
        "employed_to",
        "joined_on",
        "left_on",
        "member_number",
    )

    def __init__(self, *values: Any) -> None:
        (
            self.name,
            self.id_type,
            self.number,
            self.birth_date,
            self.sex,
            self.phone,
            self.household,
            self.employment_type,
            self.credit_code,
            self.employed_from,
            self.employed_to,
            self.joined_on,
            self.left_on,
            self.member_number,
        ) = values


class MemberImporter(StreamingImporter):
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

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fast = FastPersonalData(crypto.current_key())
        self._births: dict[str, datetime.date | None] = {}
        self._dates: dict[Any, datetime.date] = {}
        self._picker: Any = None
        self._width = 0
        self._has = {column.key: column.key in self.present for column in self.columns}
        # Looked up once per run: credit code → (pk, name, unit path, founded, deregistered); unknown codes.
        self.enterprises: dict[str, tuple[int, str, str, datetime.date, datetime.date | None]] = {}
        self._unknown_codes: dict[str, str] = {}
        # enterprise pk → the coverages that may take a member, in the order they are preferred.
        self._coverages: dict[int, list[tuple[Any, ...]]] = {}
        # Pass 1 keeps per row (its "slot"): row number, enterprise, dates as ordinals, codes, union, phone.
        self.slot_row = array("l")
        self.slot_enterprise = array("l")
        self.slot_employed_from = array("l")
        self.slot_employed_to = array("l")
        self.slot_type = array("b")
        self.slot_union = array("l")
        self.slot_joined_on = array("l")
        self.slot_left_on = array("l")
        self.slot_phone = array("q")
        self.slot_household = array("b")
        self.slot_member_number: list[str | None] = []
        # person key (hash bytes, with the document type for other documents) → [name, slot, slot, ...]
        self.people: dict[bytes, list[Any]] = {}
        self._other_names: dict[int, str] = {}  # row → its name, when it differs from the person's first row
        self._conflicted: set[bytes] = set()
        # Decisions, per slot: the person's pk (negative: the n-th new person), whether the row leads the
        # person (writes it), the actions on employment and membership with the stored pks.
        self.slot_person = array("q")
        self.slot_lead = array("b")
        self.slot_contract = array("b")
        self.slot_employment = array("b")
        self.slot_employment_pk = array("q")
        self.slot_membership = array("b")
        self.slot_membership_pk = array("q")
        self._end_reasons: dict[int, str] = {}
        self.transfers: list[dict[str, Any]] = []
        self.new_people = 0
        self._counts = [0, 0, 0]
        # Pass 2: clean_row only picks out what creating a person needs (see _clean_for_saving).
        self._saving = False
        self._started = False
        self._cache_set, self._previous_cache = False, None
        self._added: dict[Any, int] = {Person: 0, Employment: 0, Membership: 0}
        # Stored persons whose employments, memberships or household this import wrote: their spans are
        # rebuilt by the SQL statement. The persons it creates get theirs computed from the rows written.
        self._touched: set[int] = set()
        # New persons (negative pks of slot_person) with more than one row: rows still to write. Their spans
        # are computed when the last is written; meanwhile their employments and memberships wait in _pending.
        self._rows_to_write: dict[int, int] = {}
        self._pending: dict[int, list[Any]] = {}
        self._employment_ids: list[int] = []
        self._next_employment = 0
        self._day_cache: dict[int, datetime.date | None] = {0: None, OPEN: None}
        self._cursor = 0
        self._new_ids: list[int] = []
        self.writer = BackgroundWriter()
        self._audit_counts: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))

    # --- 1. one row, no database ------------------------------------------------------------

    def _raw_values(self, row: Row) -> tuple[Any, ...]:
        """The raw cells of RAW_KEYS at once ("" for a column the file lacks): one C call per row."""
        if self._picker is None:
            positions = row.positions
            # An absent column reads the "" appended at the end of the row.
            self._picker = operator.itemgetter(*(positions.get(key, -1) for key in RAW_KEYS))
            self._width = max(positions.values()) + 1
        cells = row.cells
        if len(cells) >= self._width:
            values = self._picker([*cells, ""])
            if None not in values:
                return values
        return tuple(row.raw(key) for key in RAW_KEYS)

    def clean_row(self, row: Row) -> Record | None:
        if self._saving:
            return self._clean_for_saving(row)
        has = self._has
        (
            raw_name,
            raw_number,
            raw_id_type,
            raw_phone,
            raw_household,
            raw_type,
            raw_code,
            raw_employed_from,
            raw_employed_to,
            raw_joined_on,
            raw_left_on,
            raw_member_number,
        ) = self._raw_values(row)
        name = _clean_name(row, raw_name)
        id_type, identity = self._identity(row, raw_id_type, raw_number)
        if raw_phone == "":
            phone: str | None = ""
        elif (
            type(raw_phone) is str
            and len(raw_phone) == 11
            and raw_phone.isdigit()
            and raw_phone[0] == "1"
            and raw_phone[1] in "3456789"
        ):
            phone = raw_phone
        else:
            phone = self._phone(row)
        household = HOUSEHOLDS.get(raw_household) if type(raw_household) is str else None
        if household is None and has["household"]:
            household = row.choice("household", HOUSEHOLDS, hint="“城镇”或“农村”")
        employment_type = None
        if has["employment_type"]:
            employment_type = EMPLOYMENT_TYPES.get(raw_type) if type(raw_type) is str else None
            if employment_type is None:
                employment_type = row.choice(
                    "employment_type", EMPLOYMENT_TYPES, hint="“劳动合同”“劳务派遣”“非全日制”"
                )
            # None: the file has no such column, so a stored value stays as it is.
            employment_type = employment_type or ""
        if type(raw_code) is str and len(raw_code) == 18 and raw_code.isascii() and raw_code.isalnum():
            credit_code: str | None = raw_code.upper()
        else:
            credit_code = row.code("credit_code", required=True) or None
        dates = self._dates
        employed_from = dates.get(raw_employed_from) or self._date(row, "employed_from", required=True)
        employed_to = dates.get(raw_employed_to) if raw_employed_to != "" else None
        if raw_employed_to != "" and employed_to is None:
            employed_to = self._date(row, "employed_to")
        joined_on = dates.get(raw_joined_on) if raw_joined_on != "" else None
        if raw_joined_on != "" and joined_on is None:
            joined_on = self._date(row, "joined_on")
        left_on = dates.get(raw_left_on) if raw_left_on != "" else None
        if raw_left_on != "" and left_on is None:
            left_on = self._date(row, "left_on")
        member_number = None
        if has["member_number"]:
            if raw_member_number == "":
                member_number = ""
            elif (
                type(raw_member_number) is str
                and raw_member_number.isascii()
                and raw_member_number.isalnum()
                and len(raw_member_number) <= 30
            ):
                member_number = raw_member_number
            else:
                member_number = (row.text("member_number", max_length=30) or "").replace(" ", "")
        if employed_to is not None or joined_on is not None or left_on is not None or member_number:
            self._check_dates(row, employed_from, employed_to, joined_on, left_on, member_number)
        # A row with mistakes still goes to the batch checks (as not ok), so that its enterprise and union
        # are looked up too and every mistake of the row is reported at once.
        number, birth_date, sex = identity if identity is not None else (None, None, None)
        return Record(
            row.number,
            {},
            ok=identity is not None,
            target=Cleaned(
                name,
                id_type,
                number,
                birth_date,
                sex,
                phone or "",
                household or "",
                employment_type,
                credit_code,
                employed_from,
                employed_to,
                joined_on,
                left_on,
                member_number,
            ),
        )

    def _clean_for_saving(self, row: Row) -> Record | None:
        """Pass 2: the row was checked in pass 1 and its decision is in the arrays, so only a row that
        creates its person is read again, for the name and the ID number (which pass 1 kept no copy of).

        The record's target is (slot, None) or (slot, (name, document type, number, birth date, sex)).
        """
        slot_row, slots, number = self.slot_row, len(self.slot_row), row.number
        slot = self._cursor
        while slot < slots and slot_row[slot] < number:
            slot += 1
        self._cursor = slot
        if slot >= slots or slot_row[slot] != number or self.slot_person[slot] == 0:
            return None  # rejected in pass 1 or by the checks across rows
        lead = self.slot_lead[slot]
        if lead != CREATE:
            if lead == UPDATE or self.slot_employment[slot] in WRITES or self.slot_membership[slot] in WRITES:
                return Record(number, {}, target=(slot, None))
            return None  # nothing to write for this row (a re-imported row, unchanged)
        raw_name, raw_number, raw_id_type = self._raw_values(row)[:3]
        name = _clean_name(row, raw_name)
        id_type, identity = self._identity(row, raw_id_type, raw_number)
        if identity is None or name is None or row.errors:
            raise ImportUnusable(
                f"第 {number} 行在导入过程中被改动（第一遍检查时没有错误），文件可能被同时编辑了。"
                "数据库未作任何修改，请关闭其他程序后重新导入。"
            )
        return Record(number, {}, target=(slot, (name, id_type, *identity)))

    def _document(self, row: Row, id_type: str, raw: object) -> tuple[str, datetime.date | None, str] | None:
        if id_type == IdType.RESIDENT_ID and type(raw) is str and len(raw) == 18 and raw.isascii():
            found = self._resident_number(raw)
            if found is not None:
                return found
        # A number stored by a spreadsheet: said as every importer says it, showing the cell as the sheet
        # does (never the float expanded into an 18-digit number that looks like an ID).
        problem = number_cell_problem(raw, "身份证号" if id_type == IdType.RESIDENT_ID else "证件号码")
        if problem:
            row.error("id_number", problem)
            return None
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            raw = format(int(raw), "d")  # a whole number of at most 15 digits is exact
        # Anything unusual goes through the full check, which says what is wrong and how to fix it.
        try:
            identity = validate_identity(id_type, raw)
        except IdNumberError as exc:
            row.error("id_number", exc.messages[0])
            return None
        return identity.number, identity.birth_date, identity.sex

    def _identity(self, row: Any, raw_id_type: object, raw_number: object) -> tuple[str, Any]:
        """The document type and the checked identity of a row; the usual 18-character resident ID number
        takes the fast path, anything else the row's full checks (with an error on the row)."""
        id_type = IdType.RESIDENT_ID
        if raw_id_type != "":
            id_type = (
                ID_TYPES.get(raw_id_type)
                or row.choice("id_type", ID_TYPES, hint="、".join(IdType.labels))
                or IdType.RESIDENT_ID
            )
        identity = None
        if (
            id_type == IdType.RESIDENT_ID
            and type(raw_number) is str
            and len(raw_number) == 18
            and raw_number.isascii()
        ):
            identity = self._resident_number(raw_number)
        if identity is None:
            identity = self._document(row, id_type, raw_number)
        return id_type, identity

    def _resident_number(self, raw: str) -> tuple[str, datetime.date, str] | None:
        """A well-formed resident ID number, checked as validation.validate_resident_id does; None when
        it is not plainly valid (the full check then explains)."""
        body, last = raw[:17], raw[17]
        if not body.isdigit():
            return None
        if last == "x":
            last = "X"
        # ISO 7064 MOD 11-2, as python-stdnum computes it: the 17 digits read as one base-13 number.
        check = (1 - 2 * int(body, 13)) % 11
        if last != ("X" if check == 10 else str(check)):
            return None
        digits = raw[6:14]
        born = self._births.get(digits, False)
        if born is False:
            try:
                day = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
            except ValueError:
                day = None
            if day is not None and not (EARLIEST_BIRTH_DATE <= day <= self.today):
                day = None
            born = self._births[digits] = day
        if born is None or division_code_name(raw[:6]) is None:
            return None
        return body + last, born, Sex.MALE if int(raw[16]) % 2 else Sex.FEMALE

    @staticmethod
    def _phone(row: Row) -> str | None:
        raw = row.raw("phone")
        if type(raw) is str and len(raw) == 11 and raw.isdigit() and raw[0] == "1" and raw[1] in "3456789":
            return raw
        if not isinstance(raw, str) or "E" in raw.upper():
            # A number stored by a spreadsheet: whole and mobile-shaped it is exact, else the shared message.
            raw = row.phone("phone")
            if raw is None:
                return None
        try:
            return normalize_phone(raw)
        except ValidationError as exc:
            row.error("phone", exc.messages[0])
            return None

    def _date(self, row: Row, key: str, *, required: bool = False) -> datetime.date | None:
        """A roster repeats the same few dates: text already seen is parsed once (kept in ``_dates``)."""
        raw = row.raw(key)
        if isinstance(raw, str):
            if not raw and not required:
                return None
            day = _parsed_date(raw)
            if day is not None:
                if len(self._dates) < 100000:
                    self._dates[raw] = day
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

    # --- 2a. pass 1: each batch against the database ------------------------------------------------

    def check_batch(self, records: list[Record]) -> None:
        if not self._cache_set:
            # For the whole import, given back in counts() (the run's last call) or abandon_save().
            self._cache_set, self._previous_cache = True, sqlite_cache()
        self._resolve_enterprises(records)
        # Rows with mistakes are checked against the unions too (their other mistakes are reported at once).
        self._resolve_unions([r for r in records if r.target.credit_code in self.enterprises])
        self._keep([r for r in records if r.ok and r.row not in self.issues.rejected])

    def _resolve_enterprises(self, records: list[Record]) -> None:
        codes = {r.target.credit_code for r in records if r.target.credit_code}
        wanted = sorted(c for c in codes if c not in self.enterprises and c not in self._unknown_codes)
        if wanted:
            enterprise, unit = Enterprise._meta.db_table, OrgUnit._meta.db_table
            for pk, code, name, path, founded, deregistered in select_in(
                f"SELECT e.id, e.credit_code, e.name, u.path, e.founded_on, e.deregistered_on "
                f"FROM {enterprise} e JOIN {unit} u ON u.id = e.org_unit_id WHERE e.credit_code {{values}}",
                wanted,
                dates=(4, 5),
            ):
                self.enterprises[code] = (pk, name, path, founded, deregistered)
            for code in wanted:
                if code not in self.enterprises:
                    self._unknown_codes[code] = _credit_code_problem(code)
        for record in records:
            data = record.target
            code = data.credit_code
            if not code:
                continue
            enterprise = self.enterprises.get(code)
            if enterprise is None:
                self.reject(
                    record,
                    "credit_code",
                    self._unknown_codes[code]
                    or f"统一社会信用代码“{code}”尚未登记为企业，请核对，或先导入该企业。",
                )
                continue
            pk, name, path, founded, deregistered = enterprise
            if not self.in_scope(path):
                self.reject(record, "credit_code", f"企业“{name}”不在您的管辖范围内。")
            elif data.employed_from is None:
                continue  # the row's own mistake, already reported
            elif data.employed_from < founded:
                self.reject(
                    record,
                    "employed_from",
                    f"入职日期（{data.employed_from}）早于企业“{name}”的成立日期（{founded}），请核对。",
                )
            elif deregistered and data.employed_from >= deregistered:
                self.reject(
                    record, "employed_from", f"企业“{name}”已于 {deregistered} 注销，入职日期不能在此之后。"
                )

    def _resolve_unions(self, records: list[Record]) -> None:
        """The union each joining row's enterprise has on 入会日期 (``records``: enterprise known)."""
        joining = [r for r in records if r.target.joined_on is not None]
        wanted = sorted({self.enterprises[r.target.credit_code][0] for r in joining} - self._coverages.keys())
        if wanted:
            found: dict[int, list[tuple[Any, ...]]] = {pk: [] for pk in wanted}
            coverage, union = UnionCoverage._meta.db_table, GrassrootsUnion._meta.db_table
            for enterprise_id, union_id, valid_from, valid_to, founded, dissolved, union_type in select_in(
                f"SELECT c.enterprise_id, c.union_id, c.valid_from, c.valid_to, u.founded_on, u.dissolved_on, "
                f"u.union_type FROM {coverage} c JOIN {union} u ON u.id = c.union_id "
                f"WHERE c.enterprise_id {{values}}",
                wanted,
                dates=(2, 3, 4, 5),
            ):
                # A single-enterprise union first, then the oldest: the choice is the same on every run.
                found[enterprise_id].append(
                    (union_type != UnionType.SINGLE, founded, union_id, valid_from, valid_to, dissolved)
                )
            for pk, candidates in found.items():
                candidates.sort(key=lambda c: c[:3])
                self._coverages[pk] = candidates
        for record in joining:
            day = record.target.joined_on
            chosen = next(
                (
                    union_id
                    for _kind, founded, union_id, valid_from, valid_to, dissolved in self._coverages[
                        self.enterprises[record.target.credit_code][0]
                    ]
                    if (valid_from is None or valid_from <= day)
                    and (valid_to is None or day < valid_to)
                    and founded <= day
                    and (dissolved is None or day < dissolved)
                ),
                None,
            )
            if chosen is None:
                self.reject(
                    record,
                    "joined_on",
                    f"{NO_COVERAGE}（入会日期 {day}），请核对入会日期，或先登记覆盖该企业的工会。",
                )
            else:
                record.action = chosen  # the union, until the row is kept below

    def _keep(self, valid: list[Record]) -> None:
        """The few numbers the checks across rows need, in the flat arrays; the person's slots."""
        people, other_names, rejected = self.people, self._other_names, self.issues.rejected
        enterprises, digest = self.enterprises, self.fast.digest
        kept = [r for r in valid if r.row not in rejected]
        # Column by column: each array grows by one C call per batch instead of one call per row.
        data = [r.target for r in kept]
        self.slot_row.extend([r.row for r in kept])
        self.slot_enterprise.extend([enterprises[d.credit_code][0] for d in data])
        self.slot_employed_from.extend([d.employed_from.toordinal() for d in data])
        self.slot_employed_to.extend([d.employed_to.toordinal() if d.employed_to else 0 for d in data])
        self.slot_type.extend([TYPE_CODES[d.employment_type] for d in data])
        self.slot_union.extend([r.action if r.target.joined_on is not None else 0 for r in kept])
        self.slot_joined_on.extend([d.joined_on.toordinal() if d.joined_on else 0 for d in data])
        self.slot_left_on.extend([d.left_on.toordinal() if d.left_on else 0 for d in data])
        self.slot_phone.extend([int("1" + d.phone) if d.phone else 0 for d in data])
        self.slot_household.extend([HOUSEHOLD_CODES[d.household] for d in data])
        self.slot_member_number.extend([d.member_number if d.joined_on is not None else None for d in data])
        slot = len(self.slot_row) - len(kept)
        resident = IdType.RESIDENT_ID
        for record, d in zip(kept, data, strict=True):
            key = digest(d.number)
            if d.id_type != resident:
                key = d.id_type.encode() + b":" + key
            person = people.get(key)
            if person is None:
                people[key] = [d.name, slot]
            else:
                if d.name != person[0]:
                    other_names[record.row] = d.name
                    self._conflicted.add(key)
                person.append(slot)
            slot += 1

    # --- 2b. after pass 1: across rows and against the stored persons --------------------------------

    def finish_check(self) -> None:
        slots = len(self.slot_row)
        for decisions in (
            self.slot_person,
            self.slot_employment_pk,
            self.slot_membership_pk,
        ):
            decisions.extend(array("q", bytes(8 * slots)))
        for decisions in (self.slot_lead, self.slot_contract, self.slot_employment, self.slot_membership):
            decisions.extend(array("b", bytes(slots)))
        self._check_names_in_file()
        self.progress("核对", 0, slots)
        keys = list(self.people)
        done = 0
        chunk_size = 10000 if connection.vendor == "postgresql" else 2000
        for chunk, (stored_people, employments, memberships) in Prefetcher(
            self._load_people, list(_chunks(keys, chunk_size))
        ):
            for key in chunk:
                person = stored_people.get(key)
                group = self.people[key]
                if len(group) == 2:
                    if person is None:
                        self._decide_alone(group[1])
                        continue
                    if self._restated_alone(group, person, employments.get(person["pk"], ()), memberships):
                        continue
                pk = person["pk"] if person else None
                self._check_group(
                    group,
                    person,
                    employments.get(pk, []) if pk else [],
                    memberships.get(pk, []) if pk else [],
                )
            done += len(chunk)
            self.progress("核对", min(done * slots // max(len(keys), 1), slots), slots)
        # Pass 2 needs only the arrays: the persons' index goes (a third of the memory of pass 1).
        self.people = {}
        self._other_names = {}
        self._saving = True

    def _check_names_in_file(self) -> None:
        if not self._other_names:
            return
        rejected = self.issues.rejected
        for key in self._conflicted:
            group = self.people[key]
            rows = [self.slot_row[slot] for slot in group[1:] if self.slot_row[slot] not in rejected]
            names: dict[str, list[int]] = defaultdict(list)
            for row in rows:
                names[self._other_names.get(row, group[0])].append(row)
            if len(names) < 2:
                continue
            for row in rows:
                own = self._other_names.get(row, group[0])
                others = "、".join(
                    f"第 {other} 行为“{name}”"
                    for name, numbers in names.items()
                    for other in numbers
                    if other != row and name != own
                )
                self.issues.add(
                    row, self.header("name"), f"同一证件号码在本文件中对应不同姓名（{others}），请核对。"
                )

    def _load_people(
        self, keys: list[bytes], raw: Any = None
    ) -> tuple[dict[bytes, dict[str, Any]], dict[int, list[dict[str, Any]]], dict[int, list[dict[str, Any]]]]:
        """The stored persons of ``keys`` with their employments and memberships. ``raw``: the psycopg
        connection when called from the prefetching thread (which must not touch Django's connection)."""
        people: dict[bytes, dict[str, Any]] = {}
        wanted = set(keys)
        hashes = sorted({(key[-32:]).hex() for key in keys})
        person_table = Person._meta.db_table
        for pk, id_type, number_hash, name, phone_hash, household, masked in select_in(
            f"SELECT id, id_type, id_number_hash, name, phone_hash, household, id_number_masked "
            f"FROM {person_table} WHERE id_number_hash {{values}}",
            hashes,
            raw=raw,
        ):
            digest = bytes.fromhex(number_hash)
            key = digest if id_type == IdType.RESIDENT_ID else id_type.encode() + b":" + digest
            if key in wanted:
                people[key] = {
                    "pk": pk,
                    "name": name,
                    "phone_hash": phone_hash,
                    "household": household,
                    "id_number_masked": masked,
                }
        pks = sorted(p["pk"] for p in people.values())
        employments: dict[int, list[dict[str, Any]]] = defaultdict(list)
        memberships: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if pks:
            for (
                pk,
                person_id,
                enterprise_id,
                valid_from,
                valid_to,
                employment_type,
                contract_signed,
            ) in select_in(
                f"SELECT id, person_id, enterprise_id, valid_from, valid_to, employment_type, contract_signed "
                f"FROM {Employment._meta.db_table} WHERE person_id {{values}}",
                pks,
                dates=(3, 4),
                raw=raw,
            ):
                employments[person_id].append(
                    {
                        "pk": pk,
                        "enterprise_id": enterprise_id,
                        "valid_from": valid_from,
                        "valid_to": valid_to,
                        "employment_type": employment_type,
                        "contract_signed": bool(contract_signed),
                    }
                )
            for (
                pk,
                person_id,
                union_id,
                union_name,
                valid_from,
                valid_to,
                member_number,
                end_reason,
            ) in select_in(
                f"SELECT m.id, m.person_id, m.union_id, u.name, m.valid_from, m.valid_to, m.member_number, "
                f"m.end_reason FROM {Membership._meta.db_table} m "
                f"JOIN {GrassrootsUnion._meta.db_table} u ON u.id = m.union_id WHERE m.person_id {{values}}",
                pks,
                dates=(4, 5),
                raw=raw,
            ):
                memberships[person_id].append(
                    {
                        "pk": pk,
                        "union_id": union_id,
                        "union__name": union_name,
                        "valid_from": valid_from,
                        "valid_to": valid_to,
                        "member_number": member_number,
                        "end_reason": end_reason,
                    }
                )
        return people, employments, memberships

    def _decide_alone(self, slot: int) -> None:
        """The usual row: a new person with this one row. Nothing to compare, so no objects are built."""
        if self.slot_row[slot] in self.issues.rejected:
            return
        self.new_people += 1
        self.slot_person[slot] = -self.new_people
        self.slot_lead[slot] = CREATE
        type_code = self.slot_type[slot] or TYPE_CODES[""]
        self.slot_type[slot] = type_code
        self.slot_contract[slot] = TYPE_VALUES[type_code] == EmploymentType.LABOUR_CONTRACT
        self.slot_employment[slot] = CREATE
        if self.slot_joined_on[slot]:
            self.slot_membership[slot] = CREATE
            if self.slot_member_number[slot] is None:
                self.slot_member_number[slot] = ""
        self._counts[0] += 1

    def _restated_alone(
        self,
        group: list[Any],
        person: dict[str, Any],
        employments: Any,
        memberships: dict[int, list[dict[str, Any]]],
    ) -> bool:
        """The usual row of a re-imported file: a stored person's one row that restates a stored employment
        (and membership) exactly, with nothing else of theirs in the way. Decided here as unchanged without
        building the objects of :meth:`_check_group`; False (nothing decided) for anything else, which then
        takes the full checks. Every condition below is one under which those checks find no mistake and
        decide "unchanged" for the person, the employment and the membership."""
        slot = group[1]
        if group[0] != person["name"] or self.slot_row[slot] in self.issues.rejected:
            return False
        household = self.slot_household[slot]
        if household and HOUSEHOLD_VALUES[household] != person["household"]:
            return False
        phone = self.slot_phone[slot]
        if phone and self.fast.lookup_hash(_phone_text(phone)) != person["phone_hash"]:
            return False
        enterprise_id, employed_from = self.slot_enterprise[slot], _day(self.slot_employed_from[slot])
        employed_to = _day(self.slot_employed_to[slot])
        match = None
        for employment in employments:
            if employment["enterprise_id"] != enterprise_id:
                continue
            if employment["valid_from"] == employed_from:
                match = employment
            elif _overlaps(employed_from, employed_to, employment["valid_from"], employment["valid_to"]):
                return False  # refused by the full checks, with their message
        type_code = self.slot_type[slot]
        if match is None or match["valid_to"] != employed_to or match["employment_type"] not in TYPE_CODES:
            return False
        if type_code and TYPE_VALUES[type_code] != match["employment_type"]:
            return False
        member_number = None
        membership_pk = 0
        joined_on = _day(self.slot_joined_on[slot])
        if joined_on is not None:
            left_on, union_id = _day(self.slot_left_on[slot]), self.slot_union[slot]
            member_number = self.slot_member_number[slot]
            for membership in memberships.get(person["pk"], ()):
                if membership["union_id"] == union_id and membership["valid_from"] == joined_on:
                    if membership["valid_to"] != left_on:
                        return False
                    if member_number is None:
                        member_number = membership["member_number"]
                    if member_number != membership["member_number"]:
                        return False
                    membership_pk = membership["pk"]
                elif membership["valid_to"] is None or _overlaps(
                    joined_on, left_on, membership["valid_from"], membership["valid_to"]
                ):
                    return False  # a transfer, or an overlap the full checks refuse
            if not membership_pk:
                return False
        self.slot_person[slot] = person["pk"]
        self.slot_lead[slot] = UNCHANGED
        self.slot_phone[slot] = 0
        self.slot_household[slot] = 0
        self.slot_type[slot] = TYPE_CODES[match["employment_type"]]
        self.slot_contract[slot] = bool(match["contract_signed"])
        self.slot_employment[slot] = UNCHANGED
        self.slot_employment_pk[slot] = match["pk"]
        if membership_pk:
            self.slot_membership[slot] = UNCHANGED
            self.slot_membership_pk[slot] = membership_pk
            self.slot_member_number[slot] = member_number
        self._counts[2] += 1
        return True

    def _check_group(
        self,
        group: list[Any],
        person: dict[str, Any] | None,
        employments: list[dict[str, Any]],
        memberships: list[dict[str, Any]],
    ) -> None:
        """The rows of one person checked together, as Records (only for this person, then dropped)."""
        rejected = self.issues.rejected
        records = []
        for slot in group[1:]:
            row = self.slot_row[slot]
            if row in rejected:
                continue
            records.append(
                Record(
                    row,
                    {},
                    target=MemberRow(
                        slot=slot,
                        name=self._other_names.get(row, group[0]),
                        enterprise_id=self.slot_enterprise[slot],
                        employed_from=_day(self.slot_employed_from[slot]),
                        employed_to=_day(self.slot_employed_to[slot]),
                        employment_type=TYPE_VALUES[self.slot_type[slot]],
                        union_id=self.slot_union[slot] or None,
                        joined_on=_day(self.slot_joined_on[slot]),
                        left_on=_day(self.slot_left_on[slot]),
                        member_number=self.slot_member_number[slot],
                        phone=_phone_text(self.slot_phone[slot]),
                        household=HOUSEHOLD_VALUES[self.slot_household[slot]],
                    ),
                )
            )
        if not records:
            return
        self._check_person(records, person, employments, memberships)
        created_rows: dict[int, int] = defaultdict(int)
        for record in records:
            if not self._alive(record):
                continue
            data = record.target
            slot = data.slot
            lead = data.lead
            if lead.person_action == "create":
                if lead.person_pk is None:
                    self.new_people += 1
                    lead.person_pk = -self.new_people
                created_rows[lead.person_pk] += 1
            self.slot_person[slot] = lead.person_pk
            if data is lead:
                self.slot_lead[slot] = ACTION_CODES[lead.person_action]
                self.slot_phone[slot] = _phone_code(lead.phone or "")
                self.slot_household[slot] = HOUSEHOLD_CODES[lead.household or ""]
            self.slot_type[slot] = TYPE_CODES[data.employment_type]
            self.slot_contract[slot] = bool(data.contract_signed)
            action, pk = data.employment
            self.slot_employment[slot] = ACTION_CODES[action]
            self.slot_employment_pk[slot] = pk or 0
            if data.joined_on is not None:
                action, pk = data.membership
                self.slot_membership[slot] = ACTION_CODES[action]
                self.slot_membership_pk[slot] = pk or 0
                self.slot_member_number[slot] = data.member_number
                if action == "update":
                    self._end_reasons[slot] = data.end_reason
            self._counts[("create", "update", "unchanged").index(record.action)] += 1
        for record in records:
            # The lead row points at itself: a cycle that the disabled garbage collector would keep.
            record.target.lead = None
        for pk, rows in created_rows.items():
            if rows > 1:  # a new person with one row gets their spans from that row alone
                self._rows_to_write[pk] = rows

    def _check_person(
        self,
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
        self._decide(alive, person, employments, memberships)

    def _alive(self, record: Record) -> bool:
        return record.ok and record.row not in self.issues.rejected

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
            lead.phone = phone if phone and self.fast.lookup_hash(phone) != person["phone_hash"] else ""
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

    def counts(self) -> tuple[int, int, int]:
        self._restore_cache()
        created, updated, unchanged = self._counts
        return created, updated, unchanged

    # --- 3. pass 2: writing -------------------------------------------------------------------------

    def _start_saving(self) -> None:
        """Once, before the first write: the new persons' and employments' ids, and the transfers closed."""
        if self._started:
            return
        self._started = True
        self._new_ids = reserve_ids(Person, self.new_people)
        # Chosen here, so that the new persons' spans (computed from the rows) can name their employments.
        self._employment_ids = reserve_ids(Employment, self.slot_employment.count(CREATE))
        self._close_transferred()
        if connection.vendor == "postgresql":
            # Foreign keys are checked at the end of each COPY, in the writer's thread while the next
            # batch is prepared, rather than all at once at the commit.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    def save_batch(self, records: list[Record]) -> None:
        self._start_saving()
        counts = self._audit_counts
        new_ids, employment_ids = self._new_ids, self._employment_ids
        slot_person, slot_lead, slot_enterprise = self.slot_person, self.slot_lead, self.slot_enterprise
        slot_employment, slot_membership = self.slot_employment, self.slot_membership
        slot_employed_from, slot_employed_to = self.slot_employed_from, self.slot_employed_to
        slot_joined_on, slot_left_on = self.slot_joined_on, self.slot_left_on
        slot_type, slot_household = self.slot_type, self.slot_household
        rows_to_write, pending, touched = self._rows_to_write, self._pending, self._touched
        dispatched_code, rural_code = TYPE_CODES[EmploymentType.DISPATCHED], HOUSEHOLD_CODES[Household.RURAL]
        day = self._cached_day
        new_people: list[tuple[int, tuple[Any, ...], int]] = []
        changed_people: list[tuple[int, int]] = []
        employments, employment_updates = [], []
        memberships, membership_updates = [], []
        spans: list[tuple[Any, ...]] = []
        existing_employments = 0
        for record in records:
            slot, identity = record.target
            raw_pk = person_pk = slot_person[slot]
            if person_pk < 0:
                person_pk = new_ids[-person_pk - 1]
            enterprise_id = slot_enterprise[slot]
            lead = slot_lead[slot]
            if lead == CREATE:
                new_people.append((person_pk, identity, slot))
                counts[("enterprise", enterprise_id)]["新增职工"] += 1
            elif lead == UPDATE:
                changed_people.append((person_pk, slot))
                counts[("enterprise", enterprise_id)]["更新职工信息"] += 1
            employment_action = slot_employment[slot]
            employment_pk = 0
            if employment_action == CREATE or employment_action == UPDATE:
                values = (
                    person_pk,
                    enterprise_id,
                    day(slot_employed_from[slot]),
                    day(slot_employed_to[slot]),
                    TYPE_VALUES[slot_type[slot]],
                    bool(self.slot_contract[slot]),
                )
                if employment_action == CREATE:
                    employment_pk = employment_ids[self._next_employment]
                    self._next_employment += 1
                    employments.append((employment_pk, *values))
                    counts[("enterprise", enterprise_id)]["新增用工"] += 1
                else:
                    employment_updates.append(Employment(self.slot_employment_pk[slot], *values))
                    counts[("enterprise", enterprise_id)]["更新用工"] += 1
            membership_action = slot_membership[slot]
            if membership_action == CREATE or membership_action == UPDATE:
                union_id = self.slot_union[slot]
                values = (
                    person_pk,
                    union_id,
                    day(slot_joined_on[slot]),
                    day(slot_left_on[slot]),
                    self.slot_member_number[slot],
                    self._end_reasons.get(slot, "") if membership_action == UPDATE else "",
                )
                if membership_action == CREATE:
                    memberships.append(values)
                    counts[("union", union_id)]["新增会员"] += 1
                else:
                    membership_updates.append(Membership(self.slot_membership_pk[slot], *values))
                    counts[("union", union_id)]["更新会员关系"] += 1
            if raw_pk > 0:
                if lead == UPDATE or employment_action in WRITES or membership_action in WRITES:
                    touched.add(person_pk)
                existing_employments += employment_action == CREATE
                continue
            # A new person: every employment and membership of theirs is created from the file's rows.
            employment = (
                employment_pk,
                enterprise_id,
                slot_employed_from[slot],
                slot_employed_to[slot] or OPEN,
                slot_type[slot] == dispatched_code,
            )
            membership = (slot_joined_on[slot], slot_left_on[slot] or OPEN) if membership_action else None
            remaining = rows_to_write.get(raw_pk)
            if remaining is None:
                spans.extend(
                    person_spans(
                        person_pk,
                        (employment,),
                        (membership,) if membership else (),
                        slot_household[slot] == rural_code,
                    )
                )
                continue
            waiting = pending.get(raw_pk)
            if waiting is None:
                waiting = pending[raw_pk] = [False, [], []]
            if lead == CREATE:
                waiting[0] = slot_household[slot] == rural_code
            waiting[1].append(employment)
            if membership:
                waiting[2].append(membership)
            if remaining > 1:
                rows_to_write[raw_pk] = remaining - 1
            else:
                del rows_to_write[raw_pk], pending[raw_pk]
                spans.extend(person_spans(person_pk, waiting[1], waiting[2], waiting[0]))
        self._create_people(new_people)
        self.writer.write(Employment, EMPLOYMENT_FIELDS, employments, with_ids=True)
        self.writer.write(Membership, MEMBERSHIP_FIELDS, memberships)
        if spans:
            self.writer.write(
                EmploymentSpan,
                SPAN_FIELDS,
                [(e, p, n, day(start), day(end), *facts) for e, p, n, start, end, *facts in spans],
            )
        added = self._added
        added[Person] += len(new_people)
        added[Employment] += len(employments)
        added[Membership] += len(memberships)
        # Spans the SQL rebuild will add for stored persons: about one per new employment.
        added[EmploymentSpan] = added.get(EmploymentSpan, 0) + len(spans) + existing_employments
        if changed_people or employment_updates or membership_updates:
            # Updates go through the ORM on this thread: the writer finishes first.
            self.writer.wait()
            self._update_people(changed_people)
        if employment_updates:
            Employment.objects.bulk_update(
                employment_updates, ["valid_to", "employment_type", "contract_signed"], batch_size=BATCH
            )
        if membership_updates:
            Membership.objects.bulk_update(
                membership_updates, ["valid_to", "member_number", "end_reason"], batch_size=BATCH
            )

    def _cached_day(self, ordinal: int) -> datetime.date | None:
        """The day of an ordinal (0 and OPEN: none); a roster repeats a few thousand days."""
        found = self._day_cache.get(ordinal, False)
        if found is False:
            found = self._day_cache[ordinal] = datetime.date.fromordinal(ordinal)
        return found

    def _create_people(self, new_people: list[tuple[int, tuple[Any, ...], int]]) -> None:
        """``new_people``: (pk, (name, document type, number, birth date, sex), slot)."""
        if not new_people:
            return
        fast = self.fast
        phones = [_phone_text(self.slot_phone[slot]) for _pk, _identity, slot in new_people]
        numbers = fast.encrypt_many([identity[2] for _pk, identity, _slot in new_people])
        phone_tokens = fast.encrypt_many(phones)
        now = timezone.now()
        rows = []
        for (pk, (name, id_type, number, birth_date, sex), slot), number_token, phone, phone_token in zip(
            new_people, numbers, phones, phone_tokens, strict=True
        ):
            rows.append(
                (
                    pk,
                    name,
                    id_type,
                    number_token,
                    fast.lookup_hash(number),
                    mask_id_number(number),
                    birth_date,
                    sex or "",
                    phone_token,
                    fast.lookup_hash(phone),
                    mask_phone(phone),
                    HOUSEHOLD_VALUES[self.slot_household[slot]],
                    now,
                    now,
                )
            )
        self.writer.write(Person, PERSON_FIELDS, rows, with_ids=True)

    def _update_people(self, changed: list[tuple[int, int]]) -> None:
        if not changed:
            return
        slots = dict(changed)
        persons = list(Person.objects.order_by().filter(pk__in=list(slots)))
        phones = {pk: _phone_text(self.slot_phone[slot]) for pk, slot in changed}
        tokens = dict(zip(list(phones), self.fast.encrypt_many(list(phones.values())), strict=True))
        for person in persons:
            phone = phones[person.pk]
            if phone:
                person.phone_encrypted = tokens[person.pk]
                person.phone_hash = self.fast.lookup_hash(phone)
                person.phone_masked = mask_phone(phone)
            household = HOUSEHOLD_VALUES[self.slot_household[slots[person.pk]]]
            if household:
                person.household = household
        Person.objects.bulk_update(persons, ["phone_encrypted", "phone_hash", "phone_masked", "household"])

    def _close_transferred(self) -> None:
        """Stored open memberships that the file's later memberships end as transfers (会员关系接转)."""
        rejected = self.issues.rejected
        closing = [t for t in self.transfers if t["row"] not in rejected]
        for chunk in _chunks(closing):
            stored = {m.pk: m for m in Membership.objects.order_by().filter(pk__in=[t["pk"] for t in chunk])}
            for transfer in chunk:
                membership = stored[transfer["pk"]]
                self._touched.add(membership.person_id)
                membership.valid_to = transfer["on"]
                membership.end_reason = MembershipEndReason.TRANSFERRED
                self._audit_counts[("union", transfer["union_id"])]["会员关系转出"] += 1
            Membership.objects.bulk_update(list(stored.values()), ["valid_to", "end_reason"])

    def abandon_save(self) -> None:
        self.writer.abandon()
        self._restore_cache()

    def _restore_cache(self) -> None:
        if self._cache_set:
            self._cache_set = False
            restore_sqlite_cache(self._previous_cache)

    def finish_save(self) -> None:
        self._start_saving()  # when no row had anything to write, transfers may still close
        self.writer.wait()
        # The indicators count employment spans (members/spans.py): kept exact in the same transaction.
        # A new person whose rows were not all written (none should be left) gets the SQL rebuild instead.
        self._touched.update(self._new_ids[-pk - 1] for pk in self._pending)
        self._pending, self._rows_to_write = {}, {}
        employment_spans_rebuild(person_ids=self._touched)
        self._touched = set()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's own setting for the rest
        self._audit(self._audit_counts)
        analyze_tables(Person, Employment, Membership, EmploymentSpan, added=self._added)

    def _audit(self, counts: dict[tuple[str, int], dict[str, int]]) -> None:
        """One audit row per enterprise (employees) and per union (members), with what the import did."""
        enterprises = {e[0]: e for e in self.enterprises.values()}
        unions: dict[int, tuple[str, str]] = {}
        for chunk in _chunks([pk for kind, pk in counts if kind == "union"]):
            for pk, name, path in (
                GrassrootsUnion.objects.order_by()
                .filter(pk__in=chunk)
                .values_list("pk", "name", "org_unit__path")
            ):
                unions[pk] = (name, path)
        # Hundreds of thousands of rows for a city-wide roster: written like the roster itself, not by
        # bulk_create (which spends most of its time preparing each value).
        actor = self.actor if getattr(self.actor, "is_authenticated", False) else None
        actor_name = actor.get_username() if actor else "系统"
        now = timezone.now()
        rows = []
        for (kind, pk), numbers in counts.items():
            if kind == "enterprise":
                entity, name, path = "orgs.enterprise", enterprises[pk][1], enterprises[pk][2]
            else:
                entity, (name, path) = "orgs.grassrootsunion", unions[pk]
            changes = json.dumps({label: [None, n] for label, n in numbers.items()}, ensure_ascii=False)
            rows.append(
                (
                    now,
                    actor.pk if actor else None,
                    actor_name,
                    AuditAction.IMPORT,
                    entity,
                    str(pk),
                    name[:255],
                    path,
                    changes,
                    "导入会员名册",
                )
            )
        write_rows(AuditEntry, AUDIT_FIELDS, rows)


register_importer(MemberImporter.kind, MemberImporter)
