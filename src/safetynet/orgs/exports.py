"""The enterprise list as CSV or XLSX, written row by row so a whole city never sits in memory.

The columns are those of the enterprise import file (plus 是否建会 and the unit name), so an export can be
edited and brought back.
"""

from __future__ import annotations

import csv
import datetime
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl import Workbook

from safetynet.core.normalize import chinese
from safetynet.orgs.models import Enterprise, Ownership

ENTERPRISE_COLUMNS = (
    "统一社会信用代码",
    "企业名称",
    "所属区划代码",
    "所属区划",
    "经济类型",
    "行业门类",
    "规模以上",
    "职工人数",
    "农民工人数",
    "劳务派遣人数",
    "成立日期",
    "注销日期",
    "是否建会",
    "地址",
    "联系电话",
)
CHUNK_SIZE = 2000


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def _day(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""


def enterprise_rows(queryset: QuerySet[Enterprise]) -> Iterator[list[Any]]:
    """One list per enterprise; the queryset comes from ``enterprise_list`` (scoped, ``is_covered`` set)."""
    ownership_labels = {value: chinese(label) for value, label in Ownership.choices}
    for enterprise in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield [
            enterprise.credit_code,
            enterprise.name,
            enterprise.org_unit.code,
            enterprise.org_unit.name,
            ownership_labels.get(enterprise.ownership, enterprise.ownership),
            enterprise.industry_id or "",
            _yes_no(enterprise.above_designated_size),
            enterprise.headcount,
            enterprise.migrant_headcount,
            enterprise.dispatched_headcount,
            _day(enterprise.founded_on),
            _day(enterprise.deregistered_on),
            "已建会" if getattr(enterprise, "is_covered", False) else "未建会",
            enterprise.address,
            enterprise.contact_phone,
        ]


def _filename(extension: str) -> str:
    return f"企业名录-{timezone.localdate().isoformat()}.{extension}"


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


def enterprise_csv_response(queryset: QuerySet[Enterprise]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        _csv_lines(ENTERPRISE_COLUMNS, enterprise_rows(queryset)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(True, _filename("csv"))
    return response


def enterprise_xlsx_response(queryset: QuerySet[Enterprise]) -> FileResponse:
    """A write-only workbook keeps only the current row in memory; the file on disk is then streamed."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("企业名录")
    sheet.append(list(ENTERPRISE_COLUMNS))
    for row in enterprise_rows(queryset):
        sheet.append(row)
    # The temporary file is deleted when the response closes it.
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(handle)
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=_filename("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
