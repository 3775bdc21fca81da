"""走访企业职工: XLSX export."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header


def xlsx_response(
    filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]
) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(list(headers))
    for row in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


VISIT_HEADERS = (
    "走访日期",
    "走访人",
    "企业名称",
    "统一社会信用代码",
    "所属区划",
    "走访职工",
    "六必清/八必访",
    "发现的问题",
    "预警",
    "诉求案件",
)


def visit_rows(visits: Iterable[Any]) -> Iterable[list[Any]]:
    for visit in visits:
        yield [
            visit.visited_on,
            visit.officer_name,
            visit.enterprise.name,
            visit.enterprise.credit_code,
            visit.enterprise.org_unit.name,
            visit.worker_name,
            "、".join(visit.checklist_labels),
            visit.findings,
            visit.warning.get_category_display() if visit.warning_id else "",
            visit.case.number if visit.case_id else "",
        ]
