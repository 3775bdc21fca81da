"""Codes that a spreadsheet stored as numbers: one message in every importer, the cell shown as the sheet shows it.

A file saved by an office suite (LibreOffice Calc 7.4 converting the holdout CSVs, or Excel) keeps an all-digit
18-character credit code or ID number typed into a General cell as a number with 15 significant digits:
2.1020319600101E+17. Such a row is refused, saying so in the same words for every code column, and never
showing the float expanded to 18 digits (210203196001009984), which looks like a real ID number.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import openpyxl
import pytest

from safetynet.core.importing import (
    LOST_LEADING_ZERO,
    NOT_WHOLE,
    number_cell_message,
    run_import,
)
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code

ID_AS_NUMBER = 2.1020319600101e17  # how Calc kept 210203196001010xxx
ID_EXPANDED = "210203196001009984"  # what the float looks like written out: never shown
CODE_AS_NUMBER = 9.12102111000002e17


def write_xlsx(path: Path, header: list[str], *rows: list[object]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def errors_of(result, row: int = 2) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in result.errors:
        if error.row == row:
            found.setdefault(error.column, []).append(error.message)
    return found


@pytest.fixture
def digits_enterprise(city):
    code = next(c for n in range(1, 200) if (c := make_credit_code(600 + n)).isdigit())
    return EnterpriseFactory(
        credit_code=code, org_unit=city.community_a, founded_on=datetime.date(2000, 1, 1)
    )


def test_the_message_shows_the_cell_as_the_spreadsheet_does():
    message = number_cell_message("身份证号", "2.1020319600101E+17")
    assert message == (
        "身份证号被表格软件当作数字保存了（显示为“2.1020319600101E+17”），数字最多只保留 15 位有效数字，"
        "后几位已经丢失。请把该列设置为“文本”格式，重新填写完整的身份证号后再导入。"
    )


def test_members_id_number_and_phones_read_as_numbers(db, city, digits_enterprise, tmp_path):
    header = ["姓名", "身份证号", "手机号", "企业统一社会信用代码", "入职日期"]
    hired = datetime.datetime(2010, 3, 1)
    path = write_xlsx(
        tmp_path / "members.xlsx",
        header,
        ["王小明", ID_AS_NUMBER, 13800001111.0, digits_enterprise.credit_code, hired],
        ["李红", make_id_number(2), 41182345678.0, CODE_AS_NUMBER, hired],
        ["赵六", make_id_number(3), 13800001112.0, digits_enterprise.credit_code, hired],
    )
    result = run_import("members", path)
    first = errors_of(result, 2)
    assert first == {"身份证号": [number_cell_message("身份证号", "2.1020319600101E+17")]}
    assert ID_EXPANDED not in str(result.errors) and "Excel" not in str(result.errors)
    second = errors_of(result, 3)
    assert second == {
        "手机号": [number_cell_message("手机号", "41182345678", LOST_LEADING_ZERO)],
        "企业统一社会信用代码": [number_cell_message("企业统一社会信用代码", "9.12102111000002E+17")],
    }
    assert 4 not in {e.row for e in result.errors}  # a mobile number kept as a number is exact


def test_enterprises_credit_code_unit_code_and_phone_read_as_numbers(db, city, tmp_path):
    header = ["统一社会信用代码", "企业名称", "所属区划代码", "经济类型", "职工人数", "成立日期", "联系电话"]
    founded = datetime.datetime(2005, 1, 1)
    good = next(c for n in range(1, 200) if (c := make_credit_code(800 + n)).isdigit())
    path = write_xlsx(
        tmp_path / "enterprises.xlsx",
        header,
        [CODE_AS_NUMBER, "甲公司", 210202001.0, "私营", 30, founded, 41182345678.0],
        [good, "乙公司", 210202001.5, "私营", 30, founded, 13800001111.0],
    )
    result = run_import("enterprises", path)
    assert errors_of(result, 2) == {
        "统一社会信用代码": [number_cell_message("统一社会信用代码", "9.12102111000002E+17")],
        "联系电话": [number_cell_message("联系电话", "41182345678", LOST_LEADING_ZERO)],
    }
    assert errors_of(result, 3) == {
        "所属区划代码": [number_cell_message("所属区划代码", "210202001.5", NOT_WHOLE)]
    }


def test_a_csv_saved_by_an_office_suite_shows_its_own_text(db, city, tmp_path):
    # LibreOffice writes the number of a General cell to CSV like this.
    path = tmp_path / "enterprises.csv"
    path.write_text(
        "统一社会信用代码,企业名称,所属区划代码,经济类型,职工人数,成立日期\n"
        "9.12102111000002E+017,甲公司,210202001,私营,30,2005-01-01\n",
        encoding="utf-8",
    )
    result = run_import("enterprises", path)
    assert errors_of(result) == {
        "统一社会信用代码": [number_cell_message("统一社会信用代码", "9.12102111000002E+017")]
    }


def test_units_codes_kept_as_whole_numbers_are_exact(db, city, tmp_path):
    path = write_xlsx(
        tmp_path / "units.xlsx",
        ["区划代码", "名称", "上级区划代码", "层级"],
        [210202001009.0, "新社区", 210202001.0, "村社区"],
    )
    result = run_import("units", path)
    assert result.errors == [] and result.created == 1


@pytest.mark.parametrize(
    ("kind", "header", "row", "column"),
    [
        (
            "unions",
            ["工会名称", "工会类型", "所属区划代码", "成立日期", "覆盖企业"],
            ["甲工会", "单独", "210202001", "2009-07-01", CODE_AS_NUMBER],
            "覆盖企业",
        ),
        (
            "contracts",
            ["合同类型", "覆盖企业", "签订日期", "生效日期", "到期日期"],
            ["综合", CODE_AS_NUMBER, "2012-01-10", "2012-02-01", "2015-01-31"],
            "覆盖企业",
        ),
        (
            "congresses",
            ["企业统一社会信用代码", "制度", "建立日期"],
            [CODE_AS_NUMBER, "职代会", "2010-06-01"],
            "企业统一社会信用代码",
        ),
    ],
)
def test_credit_codes_read_as_numbers_in_the_other_kinds(db, city, tmp_path, kind, header, row, column):
    result = run_import(kind, write_xlsx(tmp_path / f"{kind}.xlsx", header, row))
    assert errors_of(result) == {column: [number_cell_message("统一社会信用代码", "9.12102111000002E+17")]}
