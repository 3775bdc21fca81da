"""The records behind an indicator number as an XLSX workbook, written row by row."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils.http import content_disposition_header
from openpyxl import Workbook

ENTERPRISE_HEADER = [
    "统一社会信用代码",
    "企业名称",
    "所属区划代码",
    "所属区划",
    "经济类型",
    "规模以上",
    "职工人数",
    "成立日期",
]
EMPLOYMENT_HEADER = [
    "姓名",
    "证件号码（脱敏）",
    "户籍类型",
    "用工形式",
    "企业名称",
    "统一社会信用代码",
    "所属区划",
    "入职日期",
]


def record_rows(queryset: QuerySet, population: str) -> Iterator[list[Any]]:
    if population == "enterprise":
        for e in queryset.iterator(chunk_size=2000):
            yield [
                e.credit_code,
                e.name,
                e.org_unit.code,
                e.org_unit.name,
                e.get_ownership_display(),
                "是" if e.above_designated_size else "否",
                e.headcount,
                e.founded_on.isoformat(),
            ]
        return
    for employment in queryset.iterator(chunk_size=2000):
        person = employment.person
        yield [
            person.name,
            person.id_number_masked,
            person.get_household_display(),
            employment.get_employment_type_display(),
            employment.enterprise.name,
            employment.enterprise.credit_code,
            employment.enterprise.org_unit.name,
            employment.valid_from.isoformat(),
        ]


def records_xlsx_response(queryset: QuerySet, population: str, *, title: str, filename: str) -> FileResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append([title])
    sheet.append(ENTERPRISE_HEADER if population == "enterprise" else EMPLOYMENT_HEADER)
    for row in record_rows(queryset, population):
        sheet.append(row)
    handle = tempfile.TemporaryFile()
    workbook.save(handle)
    handle.seek(0)
    response = FileResponse(
        handle, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
