"""Importing units, enterprises and unions: the contract files, every kind of bad row, idempotence, scope."""

from __future__ import annotations

import datetime
import io
import shutil
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc

from safetynet.core.importing import run_import
from safetynet.core.models import AuditEntry
from safetynet.orgs.importers import _valid_credit_code_fast
from safetynet.orgs.models import (
    Enterprise,
    EnterpriseHeadcount,
    EnterpriseLocation,
    GrassrootsUnion,
    OrgUnit,
    OrgUnitVersion,
    Ownership,
    UnionCoverage,
)
from safetynet.orgs.services import orgunit_close
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code

CONTRACT = Path("/work/shared/contract")
ENTERPRISE_HEADER = [
    "统一社会信用代码", "企业名称", "所属区划代码", "经济类型", "行业门类", "规模以上", "职工人数", "农民工人数",
    "劳务派遣人数", "成立日期", "注销日期",
]  # fmt: skip
UNION_HEADER = [
    "工会名称",
    "工会类型",
    "所属区划代码",
    "成立日期",
    "撤销日期",
    "覆盖企业",
    "主席姓名",
    "主席直选",
]
UNIT_HEADER = ["区划代码", "名称", "上级区划代码", "层级", "启用日期", "停用日期"]
ALL_TABLES = (OrgUnit, OrgUnitVersion, Enterprise, EnterpriseLocation, EnterpriseHeadcount, GrassrootsUnion,
              UnionCoverage, AuditEntry)  # fmt: skip


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8-sig") -> Path:
    text = "\r\n".join(",".join(str(c) for c in row) for row in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def run_command(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in ALL_TABLES}


def enterprise_row(n: int, unit: str = "210202001001", **overrides: object) -> list[object]:
    values = {
        "统一社会信用代码": make_credit_code(n), "企业名称": f"导入企业{n}有限公司", "所属区划代码": unit,
        "经济类型": "私营", "行业门类": "C", "规模以上": "否", "职工人数": 100, "农民工人数": 10, "劳务派遣人数": 5,
        "成立日期": "2005-01-01", "注销日期": "",
    }  # fmt: skip
    values.update(overrides)
    return [values[h] for h in ENTERPRISE_HEADER]


def enterprises_file(tmp_path: Path, *rows: list[object], name: str = "e.csv") -> Path:
    return write_csv(tmp_path / name, [ENTERPRISE_HEADER, *rows])


# --- the contract files --------------------------------------------------------------------------


@pytest.mark.skipif(not CONTRACT.exists(), reason="the shared contract files are not on this machine")
def test_contract_files_import_and_reimport_changes_nothing(db, tmp_path):
    for kind in ("units", "enterprises", "unions"):
        code, out, err = run_command(kind, str(CONTRACT / f"{kind}.csv"))
        assert (code, err) == (0, ""), out
    assert (
        OrgUnit.objects.count() == 6
        and Enterprise.objects.count() == 5
        and GrassrootsUnion.objects.count() == 4
    )
    before = counts()
    for kind in ("units", "enterprises", "unions"):
        code, out, _ = run_command(kind, str(CONTRACT / f"{kind}.csv"))
        assert code == 0 and "新增 0，更新 0，未变" in out
    assert counts() == before
    dissolved = GrassrootsUnion.objects.get(name="示例企业5有限公司工会")
    coverage = UnionCoverage.objects.get(union=dissolved)
    assert (coverage.valid_from, coverage.valid_to) == (
        datetime.date(2004, 1, 1),
        datetime.date(2011, 12, 31),
    )


# --- units ---------------------------------------------------------------------------------------


def test_units_in_any_order_get_paths_and_versions_like_the_service(db, tmp_path):
    path = write_csv(tmp_path / "u.csv", [
        UNIT_HEADER,
        ["210202001001", "友好社区", "210202001", "村社区", "", ""],
        ["210202001", "青泥洼桥街道", "210202", "乡镇街道", "", ""],
        ["210202", "中山区", "2102", "区市县", "1990-01-01", ""],
        ["2102", "大连市", "", "市", "", ""],
    ])  # fmt: skip
    result = run_import("units", path)
    assert (result.exit_code, result.created) == (0, 4)
    units = {u.code: u for u in OrgUnit.objects.all()}
    city, district = units["2102"], units["210202"]
    assert city.path == f"{city.pk}/"
    assert district.path == f"{city.pk}/{district.pk}/" and district.parent == city
    community = units["210202001001"]
    assert community.path == f"{units['210202001'].path}{community.pk}/"
    version = OrgUnitVersion.objects.get(unit=district)
    assert (version.path, version.valid_from, version.parent_id) == (
        district.path,
        datetime.date(1990, 1, 1),
        city.pk,
    )
    entry = AuditEntry.objects.get(entity="orgs.orgunit", object_id=str(district.pk))
    assert (
        entry.action == "import"
        and entry.changes["name"] == [None, "中山区"]
        and entry.unit_path == district.path
    )


def test_unit_parent_must_exist_and_be_one_level_up(city, tmp_path):
    path = write_csv(tmp_path / "u.csv", [
        UNIT_HEADER,
        ["210202002", "新街道", "210299", "乡镇街道", "", ""],
        ["210202003001", "错层社区", "210202", "村社区", "", ""],
        ["210202004", "好街道", "210202", "乡镇街道", "", ""],
    ])  # fmt: skip
    result = run_import("units", path)
    messages = {e.row: str(e) for e in result.errors}
    assert "上级区划代码“210299”不存在" in messages[2]
    assert "村社区的上级应是乡镇街道" in messages[3]
    assert 4 not in messages
    assert not OrgUnit.objects.filter(code="210202004").exists()  # atomic: one bad row, nothing saved


def test_unit_whose_parent_row_is_bad_is_rejected_too(city, tmp_path):
    path = write_csv(tmp_path / "u.csv", [
        UNIT_HEADER,
        ["210202009001", "子社区", "210202009", "村社区", "", ""],
        ["210202009", "坏街道", "210202", "乡镇街道", "2010-01-01", "2009-01-01"],
    ])  # fmt: skip
    result = run_import("units", path, keep_valid=True)
    messages = {e.row: e.message for e in result.errors}
    assert "停用日期（2009-01-01）必须晚于启用日期（2010-01-01）" in messages[3]
    assert "第 3 行有错误" in messages[2]


def test_district_code_rule(city, tmp_path):
    path = write_csv(tmp_path / "u.csv", [
        UNIT_HEADER,
        ["210214", "普兰店区", "2102", "区市县", "", ""],  # a real GB/T 2260 county code
        ["210299", "本地新区", "2102", "区市县", "", ""],  # unknown nationally, but under 2102
        ["110105", "朝阳区", "2102", "区市县", "", ""],  # a real code, of Beijing: allowed by the rule
        ["379999", "乱码区", "2102", "区市县", "", ""],  # neither
    ])  # fmt: skip
    result = run_import("units", path, keep_valid=True)
    assert [e.row for e in result.errors] == [5]
    assert "GB/T 2260" in result.errors[0].message
    assert result.created == 3


def test_renamed_unit_keeps_history_and_reimport_is_quiet(city, tmp_path):
    rows = [UNIT_HEADER[:4], ["210202", "中山新区", "2102", "区市县"]]
    result = run_import("units", write_csv(tmp_path / "u.csv", rows))
    assert (result.updated, result.exit_code) == (1, 0)
    versions = OrgUnitVersion.objects.filter(unit=city.zhongshan).order_by("id")
    assert [(v.name, v.valid_from) for v in versions] == [
        ("中山区", None),
        ("中山新区", timezone.localdate()),
    ]
    audits = AuditEntry.objects.count()
    again = run_import("units", write_csv(tmp_path / "u.csv", rows))
    assert (again.updated, again.unchanged) == (0, 1) and AuditEntry.objects.count() == audits


def test_unit_moved_to_another_parent(city, tmp_path):
    rows = [UNIT_HEADER[:4], ["210202001", "青泥洼桥街道", "210203", "乡镇街道"]]
    result = run_import("units", write_csv(tmp_path / "u.csv", rows))
    assert result.updated == 1
    city.community_a.refresh_from_db()
    assert city.community_a.path.startswith(city.xigang.path)


def test_existing_unit_dates_are_not_changed_by_import(city, tmp_path):
    rows = [UNIT_HEADER, ["210202", "中山区", "2102", "区市县", "", "2020-01-01"]]
    result = run_import("units", write_csv(tmp_path / "u.csv", rows))
    assert "导入不能修改已有单位的停用日期" in result.errors[0].message


# --- enterprises ---------------------------------------------------------------------------------


def test_enterprises_create_with_location_headcount_and_audit(city, tmp_path):
    path = enterprises_file(
        tmp_path, enterprise_row(1), enterprise_row(2, "210203001", 经济类型="国有及国有控股")
    )
    code, out, _ = run_command("enterprises", str(path))
    assert code == 0 and "新增 2，更新 0，未变 0" in out
    first = Enterprise.objects.get(credit_code=make_credit_code(1))
    assert (first.org_unit, first.industry_id, first.headcount, first.migrant_headcount) == (
        city.community_a, "C", 100, 10,
    )  # fmt: skip
    assert Enterprise.objects.get(credit_code=make_credit_code(2)).ownership == Ownership.STATE
    location = EnterpriseLocation.objects.get(enterprise=first)
    assert (location.org_unit, location.valid_from, location.valid_to) == (city.community_a, None, None)
    headcount = EnterpriseHeadcount.objects.get(enterprise=first)
    assert (headcount.headcount, headcount.dispatched_headcount, headcount.valid_from) == (100, 5, None)
    entry = AuditEntry.objects.get(entity="orgs.enterprise", object_id=str(first.pk))
    assert (
        entry.action == "import" and entry.actor_name == "系统" and entry.unit_path == city.community_a.path
    )
    assert entry.changes["ownership"] == [None, "私营"]


def test_reimport_changes_nothing_and_update_dates_new_figures_from_today(city, tmp_path):
    path = enterprises_file(tmp_path, enterprise_row(1), enterprise_row(2))
    run_import("enterprises", path)
    before = counts()
    again = run_import("enterprises", path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2) and counts() == before

    changed = enterprises_file(tmp_path, enterprise_row(1, "210203001", 职工人数=120), enterprise_row(2))
    result = run_import("enterprises", changed)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    enterprise = Enterprise.objects.get(credit_code=make_credit_code(1))
    today = timezone.localdate()
    assert [(h.valid_from, h.valid_to, h.headcount) for h in enterprise.headcounts.order_by("id")] == [
        (None, today, 100), (today, None, 120),
    ]  # fmt: skip
    assert [(loc.valid_from, loc.org_unit_id) for loc in enterprise.locations.order_by("id")] == [
        (None, city.community_a.pk), (today, city.street_b.pk),
    ]  # fmt: skip
    entry = AuditEntry.objects.get(entity="orgs.enterprise", object_id=str(enterprise.pk), action="update")
    assert entry.changes == {"org_unit": ["友好社区", "八一路街道"], "headcount": [100, 120]}


@pytest.mark.parametrize(
    ("overrides", "column", "fragment"),
    [
        ({"统一社会信用代码": make_credit_code(3)[:-1] + "0"}, "统一社会信用代码", "校验位不对"),
        ({"统一社会信用代码": "91210202"}, "统一社会信用代码", "应为 18 位"),
        ({"所属区划代码": "210202999"}, "所属区划代码", "所属区划代码“210202999”不存在"),
        (
            {"成立日期": "2010-01-01", "注销日期": "2009-12-31"},
            "注销日期",
            "注销日期（2009-12-31）不能早于成立日期",
        ),
        ({"企业名称": "  "}, "企业名称", "企业名称不能为空"),
        ({"成立日期": ""}, "成立日期", "成立日期不能为空"),
        ({"经济类型": "合资"}, "经济类型", "“合资”不是可选的值"),
        ({"行业门类": "Z"}, "行业门类", "A–T"),
        ({"规模以上": "大概"}, "规模以上", "应填“是”或“否”"),
        ({"职工人数": "一百"}, "职工人数", "不是数字"),
        ({"农民工人数": 101}, "农民工人数", "不能多于职工人数"),
        ({"劳务派遣人数": 200}, "劳务派遣人数", "不能多于职工人数"),
        ({"统一社会信用代码": "9.1210202E+17"}, "统一社会信用代码", "“文本”格式"),
    ],
)
def test_bad_enterprise_rows(city, tmp_path, overrides, column, fragment):
    path = enterprises_file(tmp_path, enterprise_row(1), enterprise_row(3, **overrides))
    code, out, err = run_command("enterprises", str(path))
    assert code == 1
    assert f"第 3 行，列“{column}”：" in err and fragment in err
    assert "第 2 行" not in err
    assert not Enterprise.objects.exists()  # the good row was not saved either


def test_closed_unit_is_refused_for_new_enterprises(city, tmp_path):
    orgunit_close(actor=None, unit=city.community_a, closed_on=datetime.date(2015, 1, 1))
    result = run_import("enterprises", enterprises_file(tmp_path, enterprise_row(1)))
    assert "已于 2015-01-01 停用" in result.errors[0].message


def test_full_width_digits_and_stray_spaces(city, tmp_path):
    code = make_credit_code(7)
    wide = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in code)
    row = enterprise_row(7, " ２１０２０２００１００１ ", 统一社会信用代码=f" {wide[:9]} {wide[9:]} ", 企业名称="  全角  企业 ",
                         职工人数="１２０", 成立日期="２００５年１月２日", 经济类型=" 私营 ", 规模以上=" 是")  # fmt: skip
    result = run_import("enterprises", enterprises_file(tmp_path, row))
    assert result.exit_code == 0, result.errors
    enterprise = Enterprise.objects.get(credit_code=code)
    assert (enterprise.name, enterprise.headcount, enterprise.founded_on, enterprise.above_designated_size) == (
        "全角 企业", 120, datetime.date(2005, 1, 2), True,
    )  # fmt: skip


def test_duplicate_rows_in_file_name_both_rows(city, tmp_path):
    result = run_import(
        "enterprises", enterprises_file(tmp_path, enterprise_row(1), enterprise_row(2), enterprise_row(1))
    )
    assert [(e.row, e.column) for e in result.errors] == [(2, "统一社会信用代码"), (4, "统一社会信用代码")]
    assert "另见第 4 行" in result.errors[0].message and "另见第 2 行" in result.errors[1].message


def test_keep_valid_saves_good_rows_and_still_exits_1(city, tmp_path):
    path = enterprises_file(tmp_path, enterprise_row(1), enterprise_row(2, "999"), enterprise_row(3))
    code, out, err = run_command("enterprises", str(path), "--keep-valid")
    assert code == 1 and "第 3 行，列“所属区划代码”" in err
    assert "已导入正确的行：新增 2" in out
    assert set(Enterprise.objects.values_list("credit_code", flat=True)) == {
        make_credit_code(1),
        make_credit_code(3),
    }


def test_dry_run_writes_nothing(city, tmp_path):
    before = counts()
    code, out, _ = run_command("enterprises", str(enterprises_file(tmp_path, enterprise_row(1))), "--dry-run")
    assert code == 0 and "试运行" in out and "新增 1" in out
    assert counts() == before


def test_dry_run_still_checks_against_the_database(city, tmp_path):
    code, _, err = run_command(
        "enterprises", str(enterprises_file(tmp_path, enterprise_row(1, "210299001"))), "--dry-run"
    )
    assert code == 1 and "不存在" in err


def test_error_file_lists_original_cells_row_number_and_reasons(city, tmp_path):
    bad = enterprise_row(2, "999", 职工人数=-1)
    path = enterprises_file(tmp_path, enterprise_row(1), bad)
    code, _, _ = run_command("enterprises", str(path), "--errors", str(tmp_path / "out.xlsx"))
    assert code == 1
    rows = list(openpyxl.load_workbook(tmp_path / "out.xlsx").active.iter_rows(values_only=True))
    assert list(rows[0]) == [*ENTERPRISE_HEADER, "行号", "错误原因"]
    assert len(rows) == 2
    assert rows[1][0] == bad[0] and rows[1][2] == "999" and rows[1][11] == 3
    assert "列“职工人数”：“-1”是负数" in rows[1][12]


def test_xlsx_input_with_number_cells(city, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(ENTERPRISE_HEADER)
    good = enterprise_row(1)
    good[2], good[6], good[9] = 210202001001, 100.0, datetime.date(2005, 1, 1)
    sheet.append(good)
    lost = enterprise_row(2)
    lost[0] = 912102029000002000  # typed as a number: Excel keeps 15 digits
    sheet.append(lost)
    workbook.save(tmp_path / "e.xlsx")
    result = run_import("enterprises", tmp_path / "e.xlsx", keep_valid=True)
    assert [(e.row, e.column) for e in result.errors] == [(3, "统一社会信用代码")]
    assert "文本" in result.errors[0].message
    enterprise = Enterprise.objects.get()
    assert (enterprise.org_unit, enterprise.headcount, enterprise.founded_on) == (
        city.community_a, 100, datetime.date(2005, 1, 1),
    )  # fmt: skip


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_encodings(city, tmp_path, encoding):
    path = write_csv(tmp_path / "e.csv", [ENTERPRISE_HEADER, enterprise_row(1)], encoding=encoding)
    result = run_import("enterprises", path)
    assert result.created == 1
    assert Enterprise.objects.get().name == "导入企业1有限公司"
    assert bool(result.notes) == (encoding == "gb18030")


def test_scope_of_the_acting_user(city, make_staff, tmp_path):
    make_staff("zs_operator", city.zhongshan, "operator")
    path = enterprises_file(tmp_path, enterprise_row(1), enterprise_row(2, "210203001"))
    code, _, err = run_command("enterprises", str(path), "--as-user", "zs_operator", "--keep-valid")
    assert (
        code == 1 and "第 3 行，列“所属区划代码”：所属区划“八一路街道”（210203001）不在您的管辖范围内" in err
    )
    enterprise = Enterprise.objects.get()
    entry = AuditEntry.objects.get(entity="orgs.enterprise", object_id=str(enterprise.pk))
    assert entry.actor_name == "zs_operator" and entry.actor.username == "zs_operator"


def test_enterprise_registered_outside_scope_cannot_be_changed(city, make_staff, tmp_path):
    EnterpriseFactory(credit_code=make_credit_code(1), org_unit=city.street_b)
    make_staff("zs_admin", city.zhongshan, "unit_admin")
    code, _, err = run_command(
        "enterprises", str(enterprises_file(tmp_path, enterprise_row(1))), "--as-user", "zs_admin"
    )
    assert code == 1 and "管辖范围以外" in err


def test_missing_optional_columns_leave_stored_values_alone(city, tmp_path):
    EnterpriseFactory(credit_code=make_credit_code(1), org_unit=city.community_a, migrant_headcount=7,
                      name="导入企业1有限公司", founded_on=datetime.date(2005, 1, 1))  # fmt: skip
    header = ["统一社会信用代码", "企业名称", "所属区划代码", "经济类型", "职工人数", "成立日期"]
    path = write_csv(tmp_path / "e.csv", [header, [make_credit_code(1), "导入企业1有限公司", "210202001001", "私营",
                                                   100, "2005-01-01"]])  # fmt: skip
    result = run_import("enterprises", path)
    assert (result.unchanged, result.exit_code) == (1, 0)
    assert Enterprise.objects.get().migrant_headcount == 7


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**9),
    st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXYIOZSV", max_size=1),
)
def test_fast_credit_code_check_agrees_with_stdnum(n, last):
    code = make_credit_code(n)
    variant = code[:-1] + last if last else code
    assert _valid_credit_code_fast(variant) == uscc.is_valid(variant)


# --- unions --------------------------------------------------------------------------------------


def union_row(name: str, codes: str, **overrides: object) -> list[object]:
    values = {"工会名称": name, "工会类型": "联合", "所属区划代码": "210202001", "成立日期": "2010-01-01",
              "撤销日期": "", "覆盖企业": codes, "主席姓名": "王主席", "主席直选": "是"}  # fmt: skip
    values.update(overrides)
    return [values[h] for h in UNION_HEADER]


def test_union_covers_listed_enterprises_for_its_whole_life(city, tmp_path):
    first = EnterpriseFactory(credit_code=make_credit_code(1), org_unit=city.community_a)
    second = EnterpriseFactory(credit_code=make_credit_code(2), org_unit=city.street_a)
    codes = f"{make_credit_code(1)}；{make_credit_code(2).lower()}"
    path = write_csv(tmp_path / "u.csv", [UNION_HEADER, union_row("联合工会", codes, 撤销日期="2015-06-30")])
    code, out, _ = run_command("unions", str(path))
    assert code == 0 and "新增 1" in out
    union = GrassrootsUnion.objects.get()
    assert (union.union_type, union.chair_directly_elected, union.dissolved_on) == (
        "joint", True, datetime.date(2015, 6, 30),
    )  # fmt: skip
    coverages = UnionCoverage.objects.filter(union=union).order_by("enterprise_id")
    assert [(c.enterprise_id, c.valid_from, c.valid_to) for c in coverages] == [
        (first.pk, datetime.date(2010, 1, 1), datetime.date(2015, 6, 30)),
        (second.pk, datetime.date(2010, 1, 1), datetime.date(2015, 6, 30)),
    ]
    entry = AuditEntry.objects.get(entity="orgs.grassrootsunion")
    assert entry.action == "import" and first.name in entry.note

    before = counts()
    again = run_import("unions", write_csv(tmp_path / "u2.csv", [UNION_HEADER, union_row("联合工会", f"{make_credit_code(2)}、{make_credit_code(1)}", 撤销日期="2015-06-30")]))  # fmt: skip
    assert (again.unchanged, again.exit_code) == (1, 0) and counts() == before


def test_union_new_enterprise_and_dissolution_update_coverage(city, tmp_path):
    first = EnterpriseFactory(credit_code=make_credit_code(1), org_unit=city.community_a)
    second = EnterpriseFactory(credit_code=make_credit_code(2), org_unit=city.community_a)
    union = UnionFactory(name="联合工会", org_unit=city.street_a, founded_on=datetime.date(2010, 1, 1),
                         enterprises=[first], union_type="joint", chair_name="王主席")  # fmt: skip
    row = union_row(
        "联合工会", f"{make_credit_code(1)};{make_credit_code(2)}", 撤销日期="2016-01-01", 主席直选="否"
    )
    result = run_import("unions", write_csv(tmp_path / "u.csv", [UNION_HEADER, row]))
    assert (result.updated, result.exit_code) == (1, 0)
    coverages = {
        c.enterprise_id: (c.valid_from, c.valid_to) for c in UnionCoverage.objects.filter(union=union)
    }
    assert coverages == {
        first.pk: (datetime.date(2010, 1, 1), datetime.date(2016, 1, 1)),
        second.pk: (datetime.date(2010, 1, 1), datetime.date(2016, 1, 1)),
    }
    entry = AuditEntry.objects.filter(entity="orgs.grassrootsunion", action="update").get()
    assert (
        entry.changes["dissolved_on"] == [None, "2016-01-01"] and second.name in entry.changes["覆盖企业"][1]
    )


@pytest.mark.parametrize(
    ("overrides", "column", "fragment"),
    [
        ({"成立日期": "2010-01-01", "撤销日期": "2009-01-01"}, "撤销日期", "撤销日期早于成立日期"),
        ({"覆盖企业": make_credit_code(99)}, "覆盖企业", f"“{make_credit_code(99)}”尚未登记为企业"),
        ({"覆盖企业": "12345"}, "覆盖企业", "应为 18 位"),
        ({"覆盖企业": ""}, "覆盖企业", "覆盖企业不能为空"),
        ({"工会类型": "大型"}, "工会类型", "“大型”不是可选的值"),
        ({"所属区划代码": "210202888"}, "所属区划代码", "不存在"),
        ({"工会名称": ""}, "工会名称", "工会名称不能为空"),
    ],
)
def test_bad_union_rows(city, tmp_path, overrides, column, fragment):
    EnterpriseFactory(credit_code=make_credit_code(1), org_unit=city.community_a)
    path = write_csv(tmp_path / "u.csv", [UNION_HEADER, union_row("甲工会", make_credit_code(1)),
                                          union_row("乙工会", make_credit_code(1), **overrides)])  # fmt: skip
    code, _, err = run_command("unions", str(path))
    assert code == 1 and f"第 3 行，列“{column}”：" in err and fragment in err
    assert not GrassrootsUnion.objects.exists()


def test_same_union_twice_in_file(city, tmp_path):
    EnterpriseFactory(credit_code=make_credit_code(1), org_unit=city.community_a)
    path = write_csv(tmp_path / "u.csv", [UNION_HEADER, union_row("甲工会", make_credit_code(1)),
                                          union_row("甲工会", make_credit_code(1))])  # fmt: skip
    result = run_import("unions", path)
    assert [e.row for e in result.errors] == [2, 3] and "重复" in result.errors[0].message


def test_xlsx_copy_of_contract_file_named_csv(db, tmp_path):
    if not CONTRACT.exists():
        pytest.skip("the shared contract files are not on this machine")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for line in (CONTRACT / "units.csv").read_text(encoding="utf-8-sig").splitlines():
        sheet.append(line.split(","))
    workbook.save(tmp_path / "units.csv")  # an XLSX with the wrong extension
    shutil.copy(tmp_path / "units.csv", tmp_path / "units-copy.csv")
    assert run_import("units", tmp_path / "units-copy.csv").created == 6


def test_unit_admin_may_add_units_only_below_own_unit(city, make_staff, tmp_path):
    make_staff("zs_admin", city.zhongshan, "unit_admin")
    rows = [
        UNIT_HEADER[:4],
        ["210202002001", "新社区", "210202002", "村社区"],
        ["210203002", "别区街道", "210203", "乡镇街道"],
        ["210202002", "新街道", "210202", "乡镇街道"],
    ]
    code, _, err = run_command(
        "units", str(write_csv(tmp_path / "u.csv", rows)), "--as-user", "zs_admin", "--keep-valid"
    )
    assert code == 1 and "第 3 行，列“上级区划代码”：上级单位“西岗区”（210203）不在您的管辖范围内" in err
    created = OrgUnit.objects.filter(code__in=["210202002", "210202002001", "210203002"])
    assert sorted(created.values_list("code", flat=True)) == ["210202002", "210202002001"]
    entry = AuditEntry.objects.get(entity="orgs.orgunit", object_id=str(created.get(code="210202002").pk))
    assert entry.actor_name == "zs_admin"


def test_closed_units_can_be_loaded_under_a_parent_closed_no_earlier(city, tmp_path):
    rows = [
        UNIT_HEADER,
        ["210202005", "旧街道", "210202", "乡镇街道", "1990-01-01", "2010-01-01"],
        ["210202005001", "旧社区", "210202005", "村社区", "", "2010-01-01"],
        ["210202005002", "晚社区", "210202005", "村社区", "", ""],
    ]
    result = run_import("units", write_csv(tmp_path / "u.csv", rows), keep_valid=True)
    assert [(e.row, e.column) for e in result.errors] == [(4, "上级区划代码")]
    assert "已于 2010-01-01 停用" in result.errors[0].message
    assert result.created == 2
