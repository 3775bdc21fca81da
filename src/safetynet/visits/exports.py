"""走访企业职工: XLSX export."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from safetynet.core.exports import xlsx_response  # noqa: F401 (the views import it from here)

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
