"""和谐劳动关系评价: XLSX export of the ranking."""

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


RANKING_HEADERS = ("名次", "企业名称", "统一社会信用代码", "所属区划", "行业", "和谐指数")


def ranking_rows(scores: Iterable[Any]) -> Iterable[list[Any]]:
    for rank, score in enumerate(scores, start=1):
        e = score.enterprise
        yield [
            rank,
            e.name,
            e.credit_code,
            e.org_unit.name,
            e.industry.name if e.industry_id else "",
            float(score.total),
        ]
