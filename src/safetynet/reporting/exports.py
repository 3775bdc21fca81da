"""The reporting overview as an XLSX workbook: the rates per unit, and every expected reporter with its flags."""

from __future__ import annotations

import datetime
import tempfile
from typing import Any

from django.http import FileResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl import Workbook

from safetynet.reporting import rates

RATE_HEADER = [
    "区划代码",
    "单位",
    "应报",
    "已报",
    "按时",
    "零申报",
    "瞒报嫌疑",
    "报送率",
    "及时率",
    "零申报率",
]
REPORTER_HEADER = [
    "区划代码",
    "报送单位",
    "上级单位",
    "状态",
    "首次报送时间",
    "最近报送时间",
    "零申报",
    "标记",
]


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _time(value: datetime.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def overview_xlsx_response(result: rates.Result, *, today: datetime.date) -> FileResponse:
    workbook = Workbook(write_only=True)
    title = f"{result.form.name} {result.period.label}（截至 {result.as_of.isoformat()}）"
    sheet = workbook.create_sheet("报送率")
    sheet.append([title])
    sheet.append(RATE_HEADER)
    for row in result.rows:
        counts = row.counts
        sheet.append(
            [
                row.node.code,
                row.node.name,
                counts.expected,
                counts.received,
                counts.timely,
                counts.zero,
                counts.concealed,
                _percent(row.report_rate),
                _percent(row.report_timely_rate),
                _percent(row.zero_report_rate),
            ]
        )
    reporters = workbook.create_sheet("应报单位")
    reporters.append([title])
    reporters.append(REPORTER_HEADER)
    overdue = min(today, result.as_of) > result.due_date
    for reporter in result.reporters:
        parent = result.by_id.get(reporter.node.parent_id)
        if reporter.received:
            state = "已报" if reporter.timely else "迟报"
        else:
            state = "逾期未报" if overdue else "待报"
        reporters.append(
            [
                reporter.node.code,
                reporter.node.name,
                parent.name if parent else "",
                state,
                _time(reporter.first_at),
                _time(reporter.last_at),
                ("是" if reporter.is_zero else "否") if reporter.received else "",
                "、".join(rates.FLAG_LABELS[flag] for flag in reporter.flags),
            ]
        )
    handle = tempfile.TemporaryFile()
    workbook.save(handle)
    handle.seek(0)
    response = FileResponse(
        handle, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    filename = f"报送情况-{result.form.code}-{result.period.code}-{result.root.code}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


# --- risk levels and headcounts ---------------------------------------------------------------------------

RISK_HEADER = [
    "风险等级",
    "得分",
    "统一社会信用代码",
    "企业名称",
    "所属区划",
    "区划代码",
    "行业门类",
    "风险事实",
]
HEADCOUNT_HEADER = [
    "统一社会信用代码",
    "企业名称",
    "所属区划",
    "区划代码",
    "报告职工人数",
    "名册在职职工",
    "差额（报告−名册）",
    "名册在职会员",
    "工会会员名册",
    "差额（会员名册−在职会员）",
    "差异类型",
]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_BATCH = 5000


def _xlsx_response(workbook: Workbook, filename: str) -> FileResponse:
    handle = tempfile.TemporaryFile()
    workbook.save(handle)
    handle.seek(0)
    response = FileResponse(handle, content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _enterprises(ids: list[int]) -> dict[int, tuple[str, str, str, str, str]]:
    """(credit code, name, unit name, unit code, industry) by id, read in batches (an export can be long)."""
    from safetynet.orgs.models import Enterprise

    found: dict[int, tuple[str, str, str, str, str]] = {}
    for start in range(0, len(ids), EXPORT_BATCH):
        for pk, code, name, unit_name, unit_code, industry in Enterprise.objects.filter(
            pk__in=ids[start : start + EXPORT_BATCH]
        ).values_list("pk", "credit_code", "name", "org_unit__name", "org_unit__code", "industry__name"):
            found[pk] = (code, name, unit_name, unit_code, industry or "")
    return found


def risk_xlsx_response(rows: list, *, title: str) -> FileResponse:
    """The risk list as filtered, highest score first, each row with the facts that made its level."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("企业风险等级")
    sheet.append([f"{title}（{timezone.localdate().isoformat()}）"])
    sheet.append(RISK_HEADER)
    names = _enterprises([row.enterprise_id for row in rows])
    for row in rows:
        code, name, unit_name, unit_code, industry = names.get(row.enterprise_id, ("", "", "", "", ""))
        sheet.append([row.level_label, row.score, code, name, unit_name, unit_code, industry, row.text])
    return _xlsx_response(workbook, f"企业风险等级-{timezone.localdate().isoformat()}.xlsx")


def headcounts_xlsx_response(comparison: Any, rows: list, *, unit: Any) -> FileResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("职工人数比对")
    sheet.append(
        [
            f"{unit.name} 报告职工人数与实名名册比对（截至 {comparison.day.isoformat()}；"
            f"相差超过 {comparison.people} 人且超过 {comparison.percent:g}%）"
        ]
    )
    sheet.append(HEADCOUNT_HEADER)
    names = _enterprises([row.enterprise_id for row in rows])
    for row in rows:
        code, name, unit_name, unit_code, _industry = names.get(row.enterprise_id, ("", "", "", "", ""))
        sheet.append(
            [
                code,
                name,
                unit_name,
                unit_code,
                row.reported,
                row.employees,
                row.gap,
                row.members,
                row.register if row.register is not None else ("联合工会" if row.joint else ""),
                row.member_gap,
                "、".join(row.labels),
            ]
        )
    return _xlsx_response(workbook, f"职工人数比对-{unit.code}-{comparison.day.isoformat()}.xlsx")
