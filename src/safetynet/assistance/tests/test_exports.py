"""The XLSX exports: every list's workbook has its Chinese header, masked ID numbers only, amounts as numbers
to the fen (a spreadsheet sums them exactly), and the same scope as the page."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from safetynet.assistance import exports, views
from safetynet.assistance.models import Application, HardshipFile, Payment
from safetynet.assistance.tests import factories
from safetynet.members.tests.factories import make_id_number


def rows_of(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)], sheet


@pytest.fixture
def paid(city, monkeypatch):
    monkeypatch.setattr(views, "today", lambda: factories.DAY)
    round_ = factories.make_round(city)
    hardship_file = factories.make_file(city.community_a, person=factories.make_person(31, name="导出职工"))
    payment = factories.make_paid_application(round_, hardship_file)
    return round_, hardship_file, payment


def test_files_workbook_masks_and_keeps_money_exact(paid):
    _round, hardship_file, _payment = paid
    rows, sheet = rows_of(exports.files_response(HardshipFile.objects.select_related("person", "org_unit")))
    assert rows[0] == list(exports.FILE_COLUMNS)
    assert rows[1][1] == "导出职工" and rows[1][2] == hardship_file.person.id_number_masked
    assert rows[1][7] == 500.0 and sheet.cell(row=2, column=8).number_format == "#,##0.00"
    assert make_id_number(31) not in str(rows)


def test_application_and_payment_workbooks(paid):
    round_, _file, payment = paid
    queryset = Application.objects.select_related("person", "org_unit", "round")
    rows, _ = rows_of(exports.applications_response(round_, queryset))
    assert rows[0] == list(exports.APPLICATION_COLUMNS) and rows[1][12] == "已发放"
    rows, _ = rows_of(
        exports.payments_response(Payment.objects.select_related("person", "org_unit", "round"))
    )
    assert rows[1][6] == "发放" and Decimal(str(rows[1][7])) == payment.amount


def test_every_list_exports_within_scope(paid, city, make_staff):
    factories.make_loan(city.community_a)
    factories.make_base(city.community_a)
    round_, _file, _payment = paid
    inside, outside = Client(), Client()
    inside.force_login(make_staff("exp_zs", city.zhongshan, "unit_admin"))
    outside.force_login(make_staff("exp_xg", city.xigang, "unit_admin"))
    for name, args, query in (
        ("assistance:file_export", [], {}),
        ("assistance:round_export", [], {}),
        ("assistance:application_export", [round_.pk], {}),
        ("assistance:payment_export", [], {"round": round_.pk}),
        ("assistance:loan_export", [], {}),
        ("assistance:loan_export", [], {"tab": "overdue"}),
        ("assistance:base_export", [], {}),
        ("assistance:review_export", [], {}),
        ("assistance:budget_export", [round_.pk], {}),
        ("assistance:notice_export", [round_.pk], {}),
    ):
        response = inside.get(reverse(name, args=args), query)
        assert response.status_code == 200, name
        assert response["Content-Type"].startswith("application/vnd.openxmlformats"), name
        assert "attachment" in response["Content-Disposition"], name
        rows, _ = rows_of(response)
        assert rows[0], name
        if name in ("assistance:file_export", "assistance:loan_export", "assistance:base_export"):
            other, _ = rows_of(outside.get(reverse(name, args=args), query))
            assert len(other) == 1, name  # the header only: nothing of 中山区
    assert outside.get(reverse("assistance:payment_export"), {"round": round_.pk}).status_code == 200
