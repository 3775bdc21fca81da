"""A row with several mistakes reports all of them at once, in every kind and in the error file.

Each kind gets a row with a wrong credit code, an unknown 区划代码 (or an unregistered enterprise, where the
kind names enterprises only) and an impossible date: before, the lookups ran only for rows whose cells were
all right, so the unknown code showed up only after the other mistakes had been fixed.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from safetynet.core.importing import run_import
from safetynet.orgs.tests.factories import make_credit_code

BAD_DATE = "2012-02-30"
UNKNOWN_UNIT = "210299001"  # a well-formed street code the city does not have


def bad_credit_code(code: str) -> str:
    """The code with a wrong check character."""
    return code[:17] + ("0" if code[17] != "0" else "1")


UNREGISTERED = make_credit_code(999)  # valid, but no such enterprise
BAD_CODE = bad_credit_code(make_credit_code(998))


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    path.write_text(
        "\ufeff" + "\n".join(",".join(str(c) for c in row) for row in rows) + "\n", encoding="utf-8"
    )
    return path


def columns_by_row(result) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for error in result.errors:
        found.setdefault(error.row, []).append(error.column)
    return found


def messages(result, row: int) -> str:
    return " | ".join(f"{e.column}:{e.message}" for e in result.errors if e.row == row)


def test_enterprise_row_reports_code_unit_date_and_headcount_together(db, city, tmp_path):
    header = [
        "统一社会信用代码",
        "企业名称",
        "所属区划代码",
        "经济类型",
        "职工人数",
        "农民工人数",
        "成立日期",
    ]
    path = write_csv(
        tmp_path / "enterprises.csv",
        [header, [BAD_CODE, "错误很多的企业", UNKNOWN_UNIT, "私营", 100, 200, BAD_DATE]],
    )
    result = run_import("enterprises", path)
    assert sorted(columns_by_row(result)[2]) == sorted(
        ["统一社会信用代码", "所属区划代码", "成立日期", "农民工人数"]
    ), messages(result, 2)
    text = messages(result, 2)
    assert f"所属区划代码“{UNKNOWN_UNIT}”不存在" in text
    assert "校验位不对" in text and "不是有效日期" in text and "不能多于职工人数" in text
    assert result.rejected == 1 and not result.saved

    # The error file lists every reason of the row in its 错误原因 cell.
    out = tmp_path / "errors.xlsx"
    result.write_error_file(out)
    sheet = openpyxl.load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-2:] == ("行号", "错误原因")
    reason = rows[1][-1]
    for column in ("统一社会信用代码", "所属区划代码", "成立日期", "农民工人数"):
        assert f"列“{column}”" in reason
    assert UNKNOWN_UNIT in reason


def test_a_right_row_next_to_a_wrong_one_is_still_checked_as_before(db, city, tmp_path):
    header = ["统一社会信用代码", "企业名称", "所属区划代码", "经济类型", "职工人数", "成立日期"]
    good = make_credit_code(401)
    path = write_csv(
        tmp_path / "enterprises.csv",
        [
            header,
            [good, "正确的企业", "210202001", "私营", 30, "2005-01-01"],
            [BAD_CODE, "错误的企业", UNKNOWN_UNIT, "私营", 30, BAD_DATE],
        ],
    )
    result = run_import("enterprises", path, keep_valid=True)
    assert set(columns_by_row(result)) == {3}
    assert result.created == 1 and result.saved


def test_unit_row_reports_its_code_parent_and_date_together(db, city, tmp_path):
    path = write_csv(
        tmp_path / "units.csv",
        [
            ["区划代码", "名称", "上级区划代码", "层级", "启用日期"],
            ["2102990011", "新街道", "210299", "乡镇街道", BAD_DATE],
        ],
    )
    result = run_import("units", path)
    assert sorted(columns_by_row(result)[2]) == sorted(["区划代码", "上级区划代码", "启用日期"]), messages(
        result, 2
    )
    assert "上级区划代码“210299”不存在" in messages(result, 2)


def test_union_row_reports_unit_date_and_each_enterprise_together(db, city, registry, tmp_path):
    covered = f"{BAD_CODE};{UNREGISTERED};{registry.acme.credit_code}"
    path = write_csv(
        tmp_path / "unions.csv",
        [
            ["工会名称", "工会类型", "所属区划代码", "成立日期", "覆盖企业"],
            ["错误很多的工会", "单独", UNKNOWN_UNIT, BAD_DATE, covered],
        ],
    )
    result = run_import("unions", path)
    text = messages(result, 2)
    assert sorted(set(columns_by_row(result)[2])) == sorted(["所属区划代码", "成立日期", "覆盖企业"]), text
    assert f"所属区划代码“{UNKNOWN_UNIT}”不存在" in text
    assert f"“{BAD_CODE}”的校验位不对" in text  # the wrong code
    assert f"“{UNREGISTERED}”尚未登记为企业" in text  # and the unregistered one, in the same run
    assert registry.acme.credit_code not in text


def test_member_row_reports_id_enterprise_and_date_together(db, city, registry, tmp_path):
    header = ["姓名", "身份证号", "手机号", "企业统一社会信用代码", "入职日期", "入会日期"]
    path = write_csv(
        tmp_path / "members.csv",
        [
            header,
            ["王小明", "210202198013450011", "13800001111", UNREGISTERED, BAD_DATE, ""],
            ["李红", "210202198013450011", "12345", BAD_CODE, "2010-03-01", ""],
            # The ID number is wrong, and the enterprise had no union on 入会日期: both are said.
            ["赵六", "12345", "13800001112", registry.bolt.credit_code, "2010-03-01", "2010-03-01"],
        ],
    )
    result = run_import("members", path)
    found = columns_by_row(result)
    assert sorted(found[2]) == sorted(["身份证号", "企业统一社会信用代码", "入职日期"]), messages(result, 2)
    assert f"“{UNREGISTERED}”尚未登记为企业" in messages(result, 2)
    assert sorted(found[3]) == sorted(["身份证号", "手机号", "企业统一社会信用代码"]), messages(result, 3)
    assert "校验位不对" in messages(result, 3) and "校验码应为" in messages(result, 3)
    assert sorted(found[4]) == sorted(["身份证号", "入会日期"]), messages(result, 4)
    assert "没有工会覆盖" in messages(result, 4)


def test_contract_row_reports_each_enterprise_and_the_date_together(db, city, registry, tmp_path):
    path = write_csv(
        tmp_path / "contracts.csv",
        [
            ["合同类型", "覆盖企业", "签订日期", "生效日期", "到期日期"],
            ["综合", f"{BAD_CODE}、{UNREGISTERED}", BAD_DATE, "2012-01-01", "2014-12-31"],
        ],
    )
    result = run_import("contracts", path)
    text = messages(result, 2)
    assert sorted(set(columns_by_row(result)[2])) == sorted(["覆盖企业", "签订日期"]), text
    assert "校验位不对" in text and f"“{UNREGISTERED}”尚未登记为企业" in text and "不是有效日期" in text


@pytest.mark.parametrize(
    ("code", "expected"),
    [(UNREGISTERED, "尚未登记为企业"), (BAD_CODE, "校验位不对")],
)
def test_congress_row_reports_enterprise_system_and_date_together(db, city, tmp_path, code, expected):
    path = write_csv(
        tmp_path / "congresses.csv",
        [["企业统一社会信用代码", "制度", "建立日期"], [code, "职工之家", BAD_DATE]],
    )
    result = run_import("congresses", path)
    text = messages(result, 2)
    assert sorted(columns_by_row(result)[2]) == sorted(["企业统一社会信用代码", "制度", "建立日期"]), text
    assert expected in text
