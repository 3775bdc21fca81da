"""The import framework: reading files by content, headers, typed cells, exit codes, the error file."""

from __future__ import annotations

import datetime
import io
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone

from safetynet.core.importing import (
    LOST_LEADING_ZERO,
    NOT_WHOLE,
    Column,
    Importer,
    ImportUnusable,
    Issues,
    Record,
    Row,
    SourceFile,
    StreamingImporter,
    get_importer,
    header_key,
    insert_rows,
    known_kinds,
    number_cell_message,
    number_cell_problem,
    run_import,
    snapshotter,
    spreadsheet_number,
)
from safetynet.core.models import AuditEntry
from safetynet.core.services import audit_snapshot
from safetynet.orgs.models import Enterprise, EnterpriseLocation, OrgUnit
from safetynet.orgs.services import ENTERPRISE_AUDIT_FIELDS
from safetynet.orgs.tests.factories import EnterpriseFactory

UNITS_HEADER = ["区划代码", "名称", "上级区划代码", "层级"]
UNITS = [["2102", "大连市", "", "市"], ["210202", "中山区", "2102", "区市县"]]


def write_csv(
    path: Path, rows: list[list[object]], encoding: str = "utf-8-sig", delimiter: str = ","
) -> Path:
    text = "\r\n".join(delimiter.join(str(c) for c in row) for row in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def run_command(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


# --- a tiny importer to test the typed cells on their own ----------------------------------------


class CellsImporter(Importer):
    kind = "cells-test"
    label = "测试"
    columns = (
        Column("code", "代码", required=True),
        Column("count", "人数"),
        Column("day", "日期"),
        Column("flag", "是否"),
    )


def make_row(cells: list[object]) -> Row:
    columns = {c.key: c for c in CellsImporter.columns}
    return Row(7, cells, {"code": 0, "count": 1, "day": 2, "flag": 3}, columns)


def test_code_stored_as_long_number_is_refused_with_how_to_fix():
    row = make_row([9.1210202e17, "", "", ""])
    assert row.code("code") is None
    assert "文本" in row.errors[0].message and "9.1210202E+17" in row.errors[0].message
    assert row.errors[0].row == 7 and row.errors[0].column == "代码"


def test_code_written_by_excel_in_scientific_notation_is_refused():
    row = make_row(["1.10101E+17", "", "", ""])
    assert row.code("code") is None
    assert "“文本”格式" in row.errors[0].message


def test_short_code_stored_as_number_is_exact_and_accepted():
    assert make_row([210202001001.0, "", "", ""]).code("code") == "210202001001"


def test_a_code_read_as_a_number_is_shown_as_the_spreadsheet_shows_it():
    assert spreadsheet_number(2.1020319600101e17) == "2.1020319600101E+17"
    assert spreadsheet_number(13800001111.0) == "13800001111"
    assert spreadsheet_number("9.12102111000002E+017") == "9.12102111000002E+017"
    assert spreadsheet_number("91210202E015811284") is None  # a real credit code with an E in it
    assert spreadsheet_number("210202") is None
    assert number_cell_problem(13800001111.0, "手机号") is None  # exact: taken as its digits
    assert number_cell_problem(210202.5, "区划代码") == number_cell_message("区划代码", "210202.5", NOT_WHOLE)
    row = make_row([2.1020319600101e17, "", "", ""])
    assert row.code("code", what="身份证号") is None
    assert row.errors[0].message == number_cell_message("身份证号", "2.1020319600101E+17")
    assert "210203196001009984" not in row.errors[0].message


def test_a_phone_read_as_a_number_keeps_a_mobile_and_refuses_a_landline_without_its_0():
    assert make_row([13800001111.0, "", "", ""]).phone("code") == "13800001111"
    assert make_row(["0411-82345678", "", "", ""]).phone("code") == "0411-82345678"
    row = make_row([41182345678.0, "", "", ""])
    assert row.phone("code") is None
    assert row.errors[0].message == number_cell_message("代码", "41182345678", LOST_LEADING_ZERO)


def test_full_width_digits_and_spaces_in_codes_are_normalised():
    assert make_row([" ２１０２０２ ００１ ", "", "", ""]).code("code") == "210202001"


def test_integer_valued_float_headcount_is_fine_but_fraction_and_negative_are_not():
    assert make_row(["x", 100.0, "", ""]).integer("count") == 100
    assert make_row(["x", "１，２００", "", ""]).integer("count") == 1200
    row = make_row(["x", 100.5, "", ""])
    assert row.integer("count") is None and "整数" in row.errors[0].message
    row = make_row(["x", "-3", "", ""])
    assert row.integer("count") is None and "负数" in row.errors[0].message


def test_dates_from_cells_and_text():
    assert make_row(["x", "", datetime.datetime(2012, 3, 15, 0, 0), ""]).date("day") == datetime.date(
        2012, 3, 15
    )
    assert make_row(["x", "", "２０１２年３月１５日", ""]).date("day") == datetime.date(2012, 3, 15)
    row = make_row(["x", "", 40983.0, ""])
    assert row.date("day") is None and "日期格式" in row.errors[0].message
    row = make_row(["x", "", "2012-02-30", ""])
    assert row.date("day") is None and "不是有效日期" in row.errors[0].message


def test_required_empty_cell_says_which_column():
    row = make_row(["  ", "", "", ""])
    assert row.code("code", required=True) is None
    assert row.errors[0].message == "代码不能为空，请填写。"


def test_yes_no():
    assert make_row(["x", "", "", " 是 "]).yes_no("flag") is True
    assert make_row(["x", "", "", ""]).yes_no("flag") is False
    row = make_row(["x", "", "", "可能"])
    assert row.yes_no("flag") is None and "是" in row.errors[0].message


def test_header_key_ignores_spaces_full_width_and_required_marks():
    assert header_key(" 区划 代码 ") == "区划代码"
    assert header_key("*职工人数（必填）") == "职工人数"
    assert header_key("区划代码　") == "区划代码"


def test_duplicates_name_every_row():
    issues = Issues()
    importer = CellsImporter(actor=None, today=timezone.localdate(), present=frozenset(), issues=issues)
    records = [Record(2, {"code": "A"}), Record(3, {"code": "B"}), Record(5, {"code": "A"})]
    importer.reject_duplicates(records, lambda r: r.data["code"], "code", lambda c: f"代码“{c}”")
    assert sorted(issues.rejected) == [2, 5]
    assert "另见第 5 行" in issues.errors[0].message and "另见第 2 行" in issues.errors[1].message


# --- files ---------------------------------------------------------------------------------------


def test_known_kinds_are_discovered_from_apps():
    from safetynet.core.importing import autodiscover

    autodiscover()
    assert {"units", "enterprises", "unions"} <= set(known_kinds())
    with pytest.raises(ImportUnusable) as exc:
        get_importer("nonsense")
    assert "units（区域单位）" in exc.value.message


def test_format_detected_by_content_not_name(tmp_path):
    xlsx_named_csv = write_xlsx(tmp_path / "units.csv", [UNITS_HEADER, *UNITS])
    assert SourceFile.open(xlsx_named_csv).format == "xlsx"
    csv_named_xlsx = write_csv(tmp_path / "units.xlsx", [UNITS_HEADER, *UNITS])
    assert SourceFile.open(csv_named_xlsx).format == "csv"


def test_utf8_with_and_without_bom_and_gb18030(tmp_path):
    with_bom = SourceFile.open(write_csv(tmp_path / "a.csv", [UNITS_HEADER, *UNITS], "utf-8-sig"))
    without = SourceFile.open(write_csv(tmp_path / "b.csv", [UNITS_HEADER, *UNITS], "utf-8"))
    gbk = SourceFile.open(write_csv(tmp_path / "c.csv", [UNITS_HEADER, *UNITS], "gb18030"))
    for source in (with_bom, without, gbk):
        rows = list(source.rows())
        assert rows[0] == (1, UNITS_HEADER)
    assert with_bom.notes == [] and without.notes == []
    assert "GB18030" in gbk.notes[0]


def test_tab_separated_text_is_read(tmp_path):
    source = SourceFile.open(write_csv(tmp_path / "t.txt", [UNITS_HEADER, *UNITS], delimiter="\t"))
    assert list(source.rows())[1] == (2, UNITS[0])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "0 字节"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "既不是 CSV 也不是 XLSX"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Excel 97-2003"),
        (b"PK\x03\x04not really a workbook", "不是可读取的 XLSX"),
    ],
)
def test_unusable_files(db, tmp_path, content, expected):
    path = tmp_path / "file.csv"
    path.write_bytes(content)
    with pytest.raises(ImportUnusable) as exc:
        run_import("units", path)
    assert expected in exc.value.message


def test_missing_file(db, tmp_path):
    with pytest.raises(ImportUnusable) as exc:
        run_import("units", tmp_path / "nowhere.csv")
    assert "找不到文件" in exc.value.message


def test_header_missing_a_required_column_names_it(db, tmp_path):
    path = write_csv(tmp_path / "u.csv", [["区划代码", "名称", "层级"], ["2102", "大连市", "市"]])
    with pytest.raises(ImportUnusable) as exc:
        run_import("units", path)
    assert "缺少必需的列：“上级区划代码”" in exc.value.message


def test_duplicate_header_column(db, tmp_path):
    path = write_csv(tmp_path / "u.csv", [[*UNITS_HEADER, "名称"], [*UNITS[0], "x"]])
    with pytest.raises(ImportUnusable) as exc:
        run_import("units", path)
    assert "“名称”列出现了不止一次" in exc.value.message


def test_header_only_is_unusable(db, tmp_path):
    with pytest.raises(ImportUnusable) as exc:
        run_import("units", write_csv(tmp_path / "u.csv", [UNITS_HEADER]))
    assert "没有数据行" in exc.value.message


def test_headers_in_any_order_with_spaces_and_unknown_columns(db, tmp_path):
    path = write_csv(
        tmp_path / "u.csv",
        [["层级 ", "备注", " 名 称", "上级区划代码", "区划代码"], ["市", "x", "大连市", "", "2102"]],
    )
    result = run_import("units", path)
    assert result.created == 1 and result.exit_code == 0
    assert "备注" in result.notes[0]


def test_xlsx_rows_numbered_as_excel_shows_them(db, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["B3"], sheet["C3"], sheet["D3"], sheet["E3"] = UNITS_HEADER
    sheet["B4"], sheet["C4"], sheet["D4"], sheet["E4"] = "2102", "大连市", None, "市"
    sheet["B6"], sheet["C6"], sheet["D6"], sheet["E6"] = "2103", "另一市", None, "城市"
    workbook.save(tmp_path / "u.xlsx")
    result = run_import("units", tmp_path / "u.xlsx")
    assert [e.row for e in result.errors] == [6]
    assert result.errors[0].column == "层级"


# --- the command ---------------------------------------------------------------------------------


def test_command_unknown_kind_exits_2_listing_kinds(db, tmp_path):
    code, _, err = run_command("widgets", str(tmp_path / "x.csv"))
    assert code == 2
    assert "未知的导入类型“widgets”" in err and "enterprises（企业）" in err


def test_command_exit_codes_and_error_file(db, tmp_path):
    path = write_csv(tmp_path / "u.csv", [UNITS_HEADER, *UNITS, ["210203", "西岗区", "9999", "区市县"]])
    out_file = tmp_path / "errors.xlsx"
    code, out, err = run_command("units", str(path), "--errors", str(out_file))
    assert code == 1
    assert "第 4 行，列“上级区划代码”：" in err
    assert "数据库未作任何修改" in out
    assert not OrgUnit.objects.exists()
    sheet = openpyxl.load_workbook(out_file).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == [*UNITS_HEADER, "行号", "错误原因"]
    assert rows[1][:4] == ["210203", "西岗区", "9999", "区市县"]
    assert rows[1][4] == 4 and "上级区划代码“9999”不存在" in rows[1][5]
    assert len(rows) == 2

    code, out, _ = run_command("units", str(write_csv(tmp_path / "ok.csv", [UNITS_HEADER, *UNITS])))
    assert code == 0 and "新增 2，更新 0，未变 0" in out


def test_error_file_keeps_text_starting_with_equals_as_text(db, tmp_path):
    path = write_csv(tmp_path / "u.csv", [UNITS_HEADER, ["2102", "=1+1", "", "城市"]])
    result = run_import("units", path)
    result.write_error_file(tmp_path / "e.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "e.xlsx").active
    assert sheet["B2"].value == "=1+1" and sheet["B2"].data_type == "s"


def test_console_script_exit_code_2_for_unusable_file(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    script = Path(sys.executable).parent / "safetynet"
    completed = subprocess.run(
        [str(script), "import", "units", str(empty)], capture_output=True, text=True, check=False, timeout=120
    )
    assert completed.returncode == 2
    assert "0 字节" in completed.stderr


def test_as_user_unknown_or_without_capability_exits_2(city, make_staff, tmp_path):
    path = write_csv(tmp_path / "u.csv", [UNITS_HEADER, *UNITS])
    code, _, err = run_command("units", str(path), "--as-user", "nobody")
    assert code == 2 and "找不到人员账号" in err
    make_staff("looker", city.city, "viewer")
    code, _, err = run_command("units", str(path), "--as-user", "looker")
    assert code == 2 and "无权导入区域单位" in err
    make_staff("clerk", city.city, "operator")
    code, _, err = run_command("units", str(path), "--as-user", "clerk")
    assert code == 2 and "edit_units" in err


# --- helpers for importers -----------------------------------------------------------------------


def test_snapshotter_equals_audit_snapshot(city):
    enterprise = EnterpriseFactory(org_unit=city.community_a, deregistered_on=datetime.date(2020, 1, 1))
    fast = snapshotter(Enterprise, ENTERPRISE_AUDIT_FIELDS)
    assert fast(enterprise) == audit_snapshot(enterprise, ENTERPRISE_AUDIT_FIELDS)


def test_insert_rows(city):
    enterprise = EnterpriseFactory(org_unit=city.community_a)
    insert_rows(
        EnterpriseLocation,
        ["enterprise", "org_unit", "valid_from", "valid_to"],
        [(enterprise.pk, city.street_a.pk, datetime.date(2013, 1, 1), None)],
    )
    row = EnterpriseLocation.objects.get(enterprise=enterprise, valid_from__isnull=False)
    assert (row.org_unit_id, row.valid_from) == (city.street_a.pk, datetime.date(2013, 1, 1))


def test_progress_is_reported(db, tmp_path):
    seen = []
    run_import(
        "units", write_csv(tmp_path / "u.csv", [UNITS_HEADER, *UNITS]), progress=lambda *a: seen.append(a)
    )
    assert ("读取", 2, 2) in seen


# --- fast paths and the streaming protocol of big imports ------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abc",
        "王小明",
        " 王 小明 ",
        "ＡＢＣ１２３",
        "２１０２０２　００１",
        "a\tb\nc",
        "\u3000全角空格\u3000",
        "a\xa0b",
        "①②",
        "x\x1cy",
        "ﾊﾝｶｸ",
        "阿依古丽·买买提",
        12.0,
        12.5,
        7,
        None,
    ],
)
def test_clean_cell_is_exactly_clean_text(value):
    from safetynet.core.importing import clean_cell
    from safetynet.core.normalize import clean_text

    assert clean_cell(value) == clean_text(value)


def test_a_credit_code_with_an_e_between_digits_is_not_scientific_notation():
    assert make_row(["91210202E015811284", "", "", ""]).code("code") == "91210202E015811284"
    row = make_row(["9.1210202E17", "", "", ""])
    assert row.code("code") is None and "“文本”格式" in row.errors[0].message


class StreamingCellsImporter(StreamingImporter):
    """Counts what the framework hands over; rows with code "BAD" are refused by the check."""

    kind = "streaming-test"
    label = "测试"
    columns = (Column("code", "代码", required=True),)
    batch_size = 2
    calls: ClassVar[list[tuple[str, list[int]]]] = []
    fail_saving = False

    def clean_row(self, row: Row) -> Record | None:
        code = row.code("code", required=True)
        return Record(row.number, {"code": code}) if code else None

    def check_batch(self, records: list[Record]) -> None:
        self.calls.append(("check", [r.row for r in records]))
        for record in records:
            if record.data["code"] == "BAD":
                self.reject(record, "code", "坏的。")

    def finish_check(self) -> None:
        self.calls.append(("finish_check", []))

    def save_batch(self, records: list[Record]) -> None:
        self.calls.append(("save", [r.row for r in records]))
        AuditEntry.objects.create(action="import", entity="streaming-test", object_id="1")
        if self.fail_saving:
            raise RuntimeError("boom")

    def finish_save(self) -> None:
        self.calls.append(("finish_save", []))

    def abandon_save(self) -> None:
        self.calls.append(("abandon", []))

    def counts(self) -> tuple[int, int, int]:
        return 1, 2, 3


@pytest.fixture
def streaming_kind():
    from safetynet.core import importing

    importing.register_importer(StreamingCellsImporter.kind, StreamingCellsImporter)
    StreamingCellsImporter.calls = []
    yield StreamingCellsImporter
    StreamingCellsImporter.fail_saving = False
    importing._REGISTRY.pop(StreamingCellsImporter.kind, None)


def test_streaming_importer_checks_in_batches_and_saves_in_a_second_pass(db, tmp_path, streaming_kind):
    rows = [["代码", "备注"], ["A", ""], ["", "x"], ["B", ""], ["C", ""], [" ", ""], ["D", ""]]
    path = write_csv(tmp_path / "s.csv", rows)
    result = run_import("streaming-test", path, dry_run=True)
    # Row 3 has no code (refused while cleaning), row 6 is blank and skipped.
    assert streaming_kind.calls == [("check", [2, 4]), ("check", [5, 7]), ("finish_check", [])]
    assert (result.rows, result.rejected, result.saved) == (5, 1, False)
    streaming_kind.calls = []
    result = run_import("streaming-test", path, keep_valid=True)
    assert ("save", [2, 4]) in streaming_kind.calls and ("save", [5, 7]) in streaming_kind.calls
    assert streaming_kind.calls[-1] == ("finish_save", [])
    assert result.saved and (result.created, result.updated, result.unchanged) == (1, 2, 3)


def test_streaming_importer_leaves_the_database_alone_when_saving_fails(db, tmp_path, streaming_kind):
    path = write_csv(tmp_path / "s.csv", [["代码"], ["A"], ["BAD"], ["C"]])
    result = run_import("streaming-test", path)
    assert result.rejected == 1 and not result.saved
    assert not any(name == "save" for name, _rows in streaming_kind.calls)
    streaming_kind.fail_saving = True
    with pytest.raises(RuntimeError):
        run_import("streaming-test", path, keep_valid=True)
    assert streaming_kind.calls[-1] == ("abandon", [])
    assert not AuditEntry.objects.filter(entity="streaming-test").exists()


@pytest.mark.django_db
def test_copy_rows_writes_every_column_type_in_binary_as_it_was_given():
    """Binary COPY takes each column's own type from the model (bigint ids, varchar, text, dates, a boolean,
    bytes and text that COPY's text format would have to escape, NULL), and reads back what was given."""
    from django.db import connection

    from safetynet.core.importing import copy_rows
    from safetynet.indicators.models import EnterpriseCounts, UnitCounts

    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    units = [
        ("street", "enterprise", 2**40, datetime.date(2012, 1, 1), None, b"\x00\t\\\n\xff"),
        ("today", "employment", 7, datetime.date(2026, 12, 1), datetime.date(2027, 1, 1), b""),
    ]
    assert (
        copy_rows(
            UnitCounts, ("hierarchy", "population", "unit_id", "valid_from", "valid_to", "counts"), units
        )
        == 2
    )
    read = UnitCounts.objects.order_by("unit_id").values_list(
        "hierarchy", "population", "unit_id", "valid_from", "valid_to", "counts"
    )
    assert [(*row[:5], bytes(row[5])) for row in read] == sorted(units, key=lambda row: row[2])
    enterprises = [
        (5, datetime.date(2020, 2, 29), None, 3, 4, True, "1 2 0 1"),
        (6, datetime.date(2021, 1, 1), datetime.date(2022, 1, 1), None, 3, False, "职工 0"),
    ]
    fields = ("enterprise_id", "valid_from", "valid_to", "unit_id", "today_unit_id", "unionised", "counts")
    assert copy_rows(EnterpriseCounts, fields, iter(enterprises)) == 2
    assert list(EnterpriseCounts.objects.order_by("enterprise_id").values_list(*fields)) == enterprises
    assert copy_rows(EnterpriseCounts, fields, []) == 0
