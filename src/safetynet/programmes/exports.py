"""XLSX exports of the programme lists (the contract list and the work list), row by row."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook

from safetynet.orgs.models import Ownership
from safetynet.programmes.models import CollectiveContract, ContractKind, ContractStatus, ProgrammeScope

CHUNK_SIZE = 2000

CONTRACT_COLUMNS = (
    "合同名称",
    "合同类型",
    "合同范围",
    "承办单位代码",
    "承办单位",
    "状态",
    "覆盖企业数",
    "覆盖职工人数",
    "要约日期",
    "签订日期",
    "备案日期",
    "生效日期",
    "到期日期",
    "工资增幅（%）",
)

WORKLIST_COLUMNS = (
    "统一社会信用代码",
    "企业名称",
    "所属区划代码",
    "所属区划",
    "经济类型",
    "职工人数",
    "工资集体协商",
    "职代会",
    "厂务公开",
    "职工服务站",
)


def _day(value: Any) -> str:
    return value.isoformat() if value else ""


def _yes(value: bool) -> str:
    return "有" if value else "缺"


def contract_rows(queryset: QuerySet[CollectiveContract]) -> Iterator[list[Any]]:
    kinds, scopes, statuses = (
        dict(ContractKind.choices),
        dict(ProgrammeScope.choices),
        dict(ContractStatus.choices),
    )
    for contract in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield [
            str(contract),
            str(kinds.get(contract.kind, contract.kind)),
            str(scopes.get(contract.scope, contract.scope)),
            contract.org_unit.code,
            contract.org_unit.name,
            str(statuses.get(contract.status, contract.status)),
            getattr(contract, "enterprise_count", None),
            contract.covered_employees,
            _day(contract.offered_on),
            _day(contract.signed_on),
            _day(contract.filed_on),
            _day(contract.effective_on),
            _day(contract.expires_on),
            float(contract.wage_rise_percent) if contract.wage_rise_percent is not None else None,
        ]


def worklist_rows(queryset: QuerySet) -> Iterator[list[Any]]:
    """Enterprises annotated by ``selectors.annotate_programmes``."""
    ownerships = dict(Ownership.choices)
    for enterprise in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield [
            enterprise.credit_code,
            enterprise.name,
            enterprise.org_unit.code,
            enterprise.org_unit.name,
            str(ownerships.get(enterprise.ownership, enterprise.ownership)),
            enterprise.headcount,
            _yes(enterprise.has_wage_contract),
            _yes(enterprise.has_congress),
            _yes(enterprise.has_openness),
            _yes(enterprise.has_station),
        ]


def xlsx_response(sheet_name: str, header: Iterable[str], rows: Iterable[list[Any]]) -> FileResponse:
    """A write-only workbook keeps only the current row in memory; the file on disk is then streamed."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    sheet.append(list(header))
    for row in rows:
        sheet.append(row)
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(handle)
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{sheet_name}-{timezone.localdate().isoformat()}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
