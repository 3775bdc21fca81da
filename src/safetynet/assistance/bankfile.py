"""The bank batch file (XLSX) of a payment batch: one row per payment, the total at the end.

The registry keeps no bank accounts, so the bank matches each row by 户名 and the ID number; the file shows the
masked ID number as everywhere else (a full-number file would need an audited reveal of every row)."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from safetynet.assistance.models import Payment, PaymentBatch, PaymentKind

HEADERS = ("序号", "户名", "证件号码", "金额（元）", "单位", "申请编号")


def payment_batch_rows(batch: PaymentBatch) -> list[tuple[object, ...]]:
    payments = (
        Payment.objects.filter(batch=batch, kind=PaymentKind.PAYMENT)
        .select_related("person", "org_unit")
        .order_by("org_unit__path", "pk")
    )
    return [
        (index, p.person.name, p.person.id_number_masked, p.amount, p.org_unit.name, p.application_id)
        for index, p in enumerate(payments, start=1)
    ]


def payment_batch_workbook(batch: PaymentBatch) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"发放批次{batch.pk}"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    total = Decimal("0.00")
    rows = payment_batch_rows(batch)
    for row in rows:
        sheet.append(row)
        sheet.cell(row=sheet.max_row, column=4).number_format = "0.00"
        total += row[3]  # type: ignore[operator]
    sheet.append(("合计", f"{len(rows)} 笔", "", total, "", ""))
    sheet.cell(row=sheet.max_row, column=4).number_format = "0.00"
    for column, width in zip("ABCDEF", (6, 12, 22, 14, 20, 10), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
