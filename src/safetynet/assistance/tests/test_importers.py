"""`safetynet import hardship-files`: created, re-import unchanged, closing by import, every bad row refused
with its row, column and a Chinese reason, nothing saved; dry run, error file and exit codes 0 / 1 / 2."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from safetynet.assistance.models import FileStatus, HardshipFile
from safetynet.assistance.tests.factories import make_person, make_threshold
from safetynet.core.importing import run_import
from safetynet.members.tests.factories import make_id_number

pytestmark = pytest.mark.django_db

HEADER = "\ufeff姓名,身份证号,所属区划代码,家庭人口,家庭月收入,困难类型,建档日期,脱困日期,脱困原因\n"


def write(tmp_path, text, name="files.csv"):
    path = tmp_path / name
    path.write_text(HEADER + text, encoding="utf-8")
    return path


def messages(result):
    return [(e.row, e.column, e.message) for e in result.errors]


@pytest.fixture
def people(city):
    make_threshold(city.zhongshan, 2012, "800")
    return [make_person(n, name=name) for n, name in ((11, "王一"), (12, "李二"), (13, "张三"))]


def test_files_are_created_and_reimport_changes_nothing(city, people, tmp_path):
    path = write(
        tmp_path,
        f"王一,{make_id_number(11)},210202001001,3,2000.50,因病、子女上学,2012-03-01,,\n"
        f"李二,{make_id_number(12)},210202001,2,900,失业,2012/04/01,,\n"
        f"张三,{make_id_number(13)},210202,1,500,因残,2012年05月01日,2012-10-01,实现就业\n",
    )
    result = run_import("hardship-files", path)
    assert (result.created, result.exit_code) == (3, 0), messages(result)
    first = HardshipFile.objects.get(person=people[0])
    assert first.income_per_head == Decimal("666.83") and first.threshold == Decimal("800.00")
    assert first.cause_labels == ["因病", "子女上学"]
    assert HardshipFile.objects.get(person=people[2]).status == FileStatus.CLOSED
    again = run_import("hardship-files", path)
    assert (again.created, again.unchanged) == (0, 3)
    closing = write(
        tmp_path, f"王一,{make_id_number(11)},210202001001,3,2000.50,因病,2012-03-01,2012-12-01,收入提高\n"
    )
    assert run_import("hardship-files", closing).updated == 1
    first.refresh_from_db()
    assert first.closed_on == datetime.date(2012, 12, 1) and first.status == FileStatus.CLOSED


def test_bad_rows_are_refused_with_reasons_and_nothing_saved(city, people, tmp_path):
    bad_check = make_id_number(11)[:-1] + ("0" if make_id_number(11)[-1] != "0" else "1")
    path = write(
        tmp_path,
        f"王一,{make_id_number(14)},210202001001,3,2000,因病,2012-03-01,,\n"  # 2: not in the registry
        f"王一,{bad_check},210202001001,3,2000,因病,2012-03-01,,\n"  # 3: check digit
        f"李二,{make_id_number(12)},210202001,0,900,失业,2012-04-01,,\n"  # 4: household 0
        f"张三,{make_id_number(13)},210202,1,-5,因残,2012-05-01,,\n"  # 5: negative income
        f"张三,{make_id_number(13)},210202,1,500,因残,2012-06-01,2012-05-01,实现就业\n"  # 6: closing before opening
        f"赵四,{make_id_number(11)},210202,1,500,因残,2012-06-01,,\n"  # 7: name mismatch
        f"李二,{make_id_number(12)},999999,2,900,欠债,2012-04-01,,\n",  # 8: unit, cause
    )
    result = run_import("hardship-files", path)
    assert result.exit_code == 1
    found = messages(result)
    columns = {(row, column) for row, column, _ in found}
    assert (2, "身份证号") in columns and (3, "身份证号") in columns
    assert (4, "家庭人口") in columns and (5, "家庭月收入") in columns
    assert (6, "脱困日期") in columns and (7, "姓名") in columns
    assert (8, "所属区划代码") in columns and (8, "困难类型") in columns
    assert any("实名库中没有" in m for _, _, m in found)
    assert not HardshipFile.objects.exists()


def test_second_open_file_is_refused(city, people, tmp_path):
    path = write(
        tmp_path,
        f"王一,{make_id_number(11)},210202001001,3,2000,因病,2012-03-01,,\n"
        f"王一,{make_id_number(11)},210202001001,3,2000,因病,2012-08-01,,\n",
    )
    result = run_import("hardship-files", path)
    assert result.exit_code == 1 and "重叠" in " ".join(m for _, _, m in messages(result))
    assert not HardshipFile.objects.exists()


def test_command_dry_run_error_file_and_exit_codes(city, people, tmp_path):
    good = write(tmp_path, f"王一,{make_id_number(11)},210202001001,3,2000,因病,2012-03-01,,\n", "good.csv")
    call_command("import", "hardship-files", str(good), "--dry-run")  # exit 0: returns
    assert not HardshipFile.objects.exists()
    call_command("import", "hardship-files", str(good))
    assert HardshipFile.objects.count() == 1
    bad = write(tmp_path, f"王一,{make_id_number(11)},210202001001,0,2000,因病,2012-03-01,,\n", "bad.csv")
    with pytest.raises(SystemExit) as code:
        call_command("import", "hardship-files", str(bad), "--errors", str(tmp_path / "errors.xlsx"))
    assert code.value.code == 1 and (tmp_path / "errors.xlsx").exists()
    with pytest.raises(SystemExit) as code:
        call_command("import", "hardship-files", str(tmp_path / "missing.csv"))
    assert code.value.code == 2
