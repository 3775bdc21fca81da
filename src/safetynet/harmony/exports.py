"""和谐劳动关系评价: XLSX export of the ranking."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from safetynet.core.exports import xlsx_response  # noqa: F401 (the views import it from here)

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
