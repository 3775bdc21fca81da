"""XLSX exports of every 服务帮扶 list (the same rows, filters and scope as the page) and the bank batch file.

Workbooks are write-only (one row in memory at a time) and streamed from a temporary file. ID numbers stay
masked, as on the pages. Amounts are written as numbers with two decimals (yuan.fen) so a spreadsheet sums
them exactly as the pages do.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from safetynet.assistance.models import (
    Application,
    DiscountBase,
    HardshipFile,
    Instalment,
    Loan,
    Payment,
    PaymentBatch,
    Round,
)
from safetynet.orgs.models import OrgLevel

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_SIZE = 2000

FILE_COLUMNS = (
    "档案编号",
    "姓名",
    "证件号码",
    "建档单位代码",
    "建档单位",
    "家庭人口",
    "家庭月收入（元）",
    "人均月收入（元）",
    "困难标准（元/人·月）",
    "困难类型",
    "困难程度",
    "状态",
    "建档日期",
    "年度复核到期",
    "脱困日期",
    "脱困原因",
)
ROUND_COLUMNS = (
    "名称",
    "帮扶项目",
    "年度",
    "组织单位",
    "申请开始",
    "申请截止",
    "标准金额（元）",
    "最低金额（元）",
    "最高金额（元）",
    "审核层级",
    "公示期（工作日）",
    "状态",
)
APPLICATION_COLUMNS = (
    "申请编号",
    "帮扶批次",
    "姓名",
    "证件号码",
    "申请单位代码",
    "申请单位",
    "金额（元）",
    "申请日期",
    "当前审核层级",
    "审核完成日期",
    "公示开始",
    "公示截止",
    "状态",
    "撤回或未通过原因",
)
BUDGET_COLUMNS = (
    "单位代码",
    "单位",
    "层级",
    "预算（元）",
    "已分解到下级（元）",
    "已发放（元）",
    "余额（元）",
    "超出份额",
)
PAYMENT_COLUMNS = (
    "记录编号",
    "帮扶批次",
    "姓名",
    "证件号码",
    "单位代码",
    "单位",
    "类型",
    "金额（元）",
    "发放批次",
    "出账日期",
    "发放日期",
    "说明",
)
LOAN_COLUMNS = (
    "借款编号",
    "姓名",
    "证件号码",
    "经办单位",
    "借款金额（元）",
    "放款日期",
    "期数",
    "用途",
    "状态",
)
OVERDUE_COLUMNS = (
    "借款编号",
    "姓名",
    "证件号码",
    "经办单位",
    "期次",
    "应还日期",
    "本期应还（元）",
    "逾期金额（元）",
)
BASE_COLUMNS = (
    "所属单位代码",
    "所属单位",
    "名称",
    "类型",
    "优惠内容",
    "地址",
    "联系电话",
    "生效日期",
    "失效日期",
)


def _day(value: Any) -> str:
    return value.isoformat() if value else ""


def _money(value: Decimal | None) -> float | None:
    """A number a spreadsheet sums (the value is exact to the fen; the cell format shows two decimals)."""
    return None if value is None else float(value)


def _level(value: int | None) -> str:
    return str(OrgLevel(value).label) if value else ""


def workbook_response(
    title: str, header: Iterable[str], rows: Iterable[list[Any]], *, filename: str = ""
) -> FileResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(list(header))
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, float):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "#,##0.00"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(handle)
    handle.seek(0)
    response = FileResponse(handle, content_type=XLSX)
    name = filename or f"{title}-{timezone.localdate().isoformat()}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def file_rows(queryset: QuerySet[HardshipFile]) -> Iterator[list[Any]]:
    for item in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield [
            item.pk,
            item.person.name,
            item.person.id_number_masked,
            item.org_unit.code,
            item.org_unit.name,
            item.household_size,
            _money(item.monthly_income),
            _money(item.income_per_head),
            _money(item.threshold),
            "、".join(item.cause_labels),
            item.get_level_display(),
            item.get_status_display(),
            _day(item.opened_on),
            _day(item.review_due_on) if item.closed_on is None else "",
            _day(item.closed_on),
            item.get_close_reason_display() if item.close_reason else "",
        ]


def files_response(queryset: QuerySet[HardshipFile]) -> FileResponse:
    return workbook_response("困难职工档案", FILE_COLUMNS, file_rows(queryset))


def rounds_response(queryset: QuerySet[Round]) -> FileResponse:
    rows = (
        [
            item.title,
            item.get_kind_display(),
            item.year,
            item.org_unit.name,
            _day(item.window_opens),
            _day(item.window_closes),
            _money(item.standard_amount),
            _money(item.min_amount),
            _money(item.max_amount),
            " → ".join(_level(level) for level in item.levels),
            item.notice_days,
            item.get_status_display(),
        ]
        for item in queryset
    )
    return workbook_response("帮扶活动", ROUND_COLUMNS, rows)


def application_rows(queryset: QuerySet[Application]) -> Iterator[list[Any]]:
    for item in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield [
            item.pk,
            item.round.title,
            item.person.name,
            item.person.id_number_masked,
            item.org_unit.code,
            item.org_unit.name,
            _money(item.amount),
            _day(item.submitted_on),
            _level(item.current_level),
            _day(item.decided_on),
            _day(item.notice_from),
            _day(item.notice_until),
            item.get_status_display(),
            item.closing_note,
        ]


def applications_response(
    round_: Round | None, queryset: QuerySet[Application], *, title: str = "帮扶申请"
) -> FileResponse:
    name = f"{round_.title} {title}" if round_ is not None else title
    return workbook_response(name, APPLICATION_COLUMNS, application_rows(queryset.select_related("round")))


def budget_response(round_: Round, lines: list[Any]) -> FileResponse:
    rows = (
        [
            line.unit.code,
            line.unit.name,
            str(OrgLevel(line.unit.level).label),
            _money(line.amount),
            _money(line.allocated_to_children),
            _money(line.spent),
            _money(line.remaining),
            "是" if line.over_allocated else "",
        ]
        for line in lines
    )
    return workbook_response(f"{round_.title} 预算分解", BUDGET_COLUMNS, rows)


def payments_response(queryset: QuerySet[Payment]) -> FileResponse:
    rows = (
        [
            item.pk,
            item.round.title,
            item.person.name,
            item.person.id_number_masked,
            item.org_unit.code,
            item.org_unit.name,
            item.get_kind_display(),
            _money(item.amount),
            f"#{item.batch_id}" if item.batch_id else "",
            _day(item.created_on),
            _day(item.paid_on),
            item.reason,
        ]
        for item in queryset.iterator(chunk_size=CHUNK_SIZE)
    )
    return workbook_response("帮扶发放记录", PAYMENT_COLUMNS, rows)


def bank_batch_response(batch: PaymentBatch) -> HttpResponse:
    """The bank batch file of the domain (序号, 户名, 证件号码, 金额, 单位, 申请编号) as a download."""
    from safetynet.assistance import bankfile

    content = bankfile.payment_batch_workbook(batch)
    response = HttpResponse(content, content_type=XLSX)
    filename = f"银行批量发放-批次{batch.pk}-{batch.org_unit.code}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def loans_response(queryset: QuerySet[Loan]) -> FileResponse:
    rows = (
        [
            item.pk,
            item.person.name,
            item.person.id_number_masked,
            item.org_unit.name,
            _money(item.principal),
            _day(item.granted_on),
            item.instalment_count,
            item.purpose,
            item.get_status_display(),
        ]
        for item in queryset.iterator(chunk_size=CHUNK_SIZE)
    )
    return workbook_response("无息借款", LOAN_COLUMNS, rows)


def overdue_response(queryset: QuerySet[Instalment]) -> FileResponse:
    rows = (
        [
            item.loan_id,
            item.loan.person.name,
            item.loan.person.id_number_masked,
            item.loan.org_unit.name,
            f"{item.number}/{item.loan.instalment_count}",
            _day(item.due_on),
            _money(item.amount),
            _money(getattr(item, "overdue_amount", None)),
        ]
        for item in queryset
    )
    return workbook_response("逾期未还借款", OVERDUE_COLUMNS, rows)


def bases_response(queryset: QuerySet[DiscountBase]) -> FileResponse:
    rows = (
        [
            item.org_unit.code,
            item.org_unit.name,
            item.name,
            item.get_kind_display(),
            item.discount,
            item.address,
            item.phone,
            _day(item.valid_from),
            _day(item.valid_to),
        ]
        for item in queryset.iterator(chunk_size=CHUNK_SIZE)
    )
    return workbook_response("会员服务基地", BASE_COLUMNS, rows)
