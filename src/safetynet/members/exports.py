"""Rosters as CSV or XLSX, written row by row so a big union never sits in memory.

ID numbers and phones are masked unless the caller may see personal data and asked for the full export;
each full export writes one audit row (what was exported, how many persons, never the numbers).
"""

from __future__ import annotations

import csv
import datetime
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from openpyxl import Workbook

from safetynet.members import crypto
from safetynet.members.models import EmploymentType, Household
from safetynet.members.validation import IdType

CHUNK_SIZE = 2000
HOUSEHOLD_LABELS = dict(Household.choices)
EMPLOYMENT_LABELS = dict(EmploymentType.choices)
ID_TYPE_LABELS = dict(IdType.choices)

UNION_COLUMNS = (
    "姓名",
    "证件类型",
    "身份证号",
    "性别",
    "出生日期",
    "手机号",
    "户籍类型",
    "会员编号",
    "入会日期",
    "离会日期",
)
ENTERPRISE_COLUMNS = (
    "姓名",
    "证件类型",
    "身份证号",
    "手机号",
    "户籍类型",
    "用工形式",
    "企业统一社会信用代码",
    "入职日期",
    "离职日期",
    "是否会员",
)


def _day(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""


def _identity(person: Any, full: bool) -> tuple[str, str]:
    if full:
        return crypto.decrypt(person.id_number_encrypted), crypto.decrypt(person.phone_encrypted)
    return person.id_number_masked, person.phone_masked


def union_rows(memberships: QuerySet, *, full: bool) -> Iterator[list[Any]]:
    """One row per membership; the queryset carries ``select_related("person")``."""
    for membership in memberships.iterator(chunk_size=CHUNK_SIZE):
        person = membership.person
        number, phone = _identity(person, full)
        yield [
            person.name,
            ID_TYPE_LABELS.get(person.id_type, person.id_type),
            number,
            person.get_sex_display(),
            _day(person.birth_date),
            phone,
            HOUSEHOLD_LABELS.get(person.household, ""),
            membership.member_number,
            _day(membership.valid_from),
            _day(membership.valid_to),
        ]


def enterprise_rows(employments: QuerySet, credit_code: str, *, full: bool) -> Iterator[list[Any]]:
    """One row per employment; the queryset carries ``select_related("person")`` and ``is_member``."""
    for employment in employments.iterator(chunk_size=CHUNK_SIZE):
        person = employment.person
        number, phone = _identity(person, full)
        yield [
            person.name,
            ID_TYPE_LABELS.get(person.id_type, person.id_type),
            number,
            phone,
            HOUSEHOLD_LABELS.get(person.household, ""),
            EMPLOYMENT_LABELS.get(employment.employment_type, ""),
            credit_code,
            _day(employment.valid_from),
            _day(employment.valid_to),
            "是" if getattr(employment, "is_member", False) else "否",
        ]


class _Echo:
    """csv.writer wants a file; this one hands each line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(header: Iterable[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # The byte order mark makes Excel on Windows read the file as UTF-8 instead of GBK.
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


def roster_response(
    export_format: str,
    filename: str,
    columns: tuple[str, ...],
    rows: Iterator[list[Any]],
    *,
    sheet: str = "名册",
) -> HttpResponse:
    """CSV streamed line by line, or a write-only XLSX (one row in memory) streamed from a temporary file."""
    if export_format == "xlsx":
        workbook = Workbook(write_only=True)
        worksheet = workbook.create_sheet(sheet)
        worksheet.append(list(columns))
        for row in rows:
            worksheet.append(row)
        handle = tempfile.TemporaryFile(suffix=".xlsx")
        workbook.save(handle)
        handle.seek(0)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"{filename}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = StreamingHttpResponse(_csv_lines(columns, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{filename}.csv")
    return response
