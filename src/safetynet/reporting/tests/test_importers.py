"""Imports `report-forms`, `reports`, `warnings` (INTERFACES.md): the columns, rows refused with their row,
column and a Chinese reason, nothing saved then, re-importing changes nothing, exit codes 0 / 1 / 2."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command

from safetynet.core.importing import run_import
from safetynet.reporting.models import Report, ReportForm, WarningSignal
from safetynet.reporting.tests.conftest import at

D = datetime.date

FORMS = "\ufeff报表代码,报表名称,报送周期,报送层级,截止日,预警报表,启用日期,停用日期\n"
REPORTS = "\ufeff报表代码,报送单位代码,报告期,报送时间,零申报,内容\n"
WARNINGS = "\ufeff企业统一社会信用代码,预警类别,发现日期,报告时间,涉及人数,涉及金额,情况说明\n"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def messages(result):
    return [(e.row, e.column, e.message) for e in result.errors]


def test_report_forms_are_created_and_updated(city, tmp_path):
    path = write(
        tmp_path,
        "forms.csv",
        FORMS + "YJ01,劳动关系预警月报,月,乡镇街道,5,是,2012-01-01,\nJB01,工会工作季报,季报,区市县,15,否,,\n",
    )
    result = run_import("report-forms", path)
    assert (result.created, result.exit_code) == (2, 0)
    form = ReportForm.objects.get(code="YJ01")
    assert (form.period_kind, form.level, form.due_day, form.is_warning) == ("month", 3, 5, True)
    assert form.versions.get().number == 1
    assert run_import("report-forms", path).unchanged == 2
    write(tmp_path, "forms.csv", FORMS + "YJ01,劳动关系预警月报,月,乡镇街道,10,是,2012-01-01,\n")
    result = run_import("report-forms", path)
    assert result.updated == 1
    form.refresh_from_db()
    assert form.due_day == 10


def test_bad_form_rows_are_refused_with_row_and_column(city, tmp_path):
    path = write(
        tmp_path,
        "forms.csv",
        FORMS
        + "YJ01,预警月报,月,乡镇街道,31,是,,\n"
        + "YJ02,预警月报,周,乡镇街道,5,是,,\n"
        + "YJ03,预警月报,月,市,5,是,,\n"
        + "YJ04,预警月报,月,村社区,5,,,\n",
    )
    result = run_import("report-forms", path)
    found = messages(result)
    assert (2, "截止日") == found[0][:2] and "1–28" in found[0][2]
    assert (3, "报送周期") == found[1][:2]
    assert (4, "报送层级") == found[2][:2]
    assert (5, "预警报表") == found[3][:2]
    assert result.exit_code == 1 and not ReportForm.objects.exists()


@pytest.fixture
def loaded(world):
    return world


def test_reports_import_and_reimport(loaded, tmp_path):
    path = write(
        tmp_path,
        "reports.csv",
        REPORTS
        + "YJ01,210202001,2012-05,2012-06-02 09:00,是,本月无情况\n"
        + "YJ01,210203001,2012-05,2012/06/07 10:00,否,欠薪两起，已介入（１２人）\n"
        + "YJ01,210203001,2012年5月,2012-06-08 10:00:00,是,\n",
    )
    result = run_import("reports", path)
    assert (result.created, result.exit_code) == (3, 0), messages(result)
    report = Report.objects.get(unit__code="210203001", is_zero=False)
    assert report.content == "欠薪两起，已介入（１２人）"  # as typed
    assert report.submitted_at == at("2012-06-07 10:00") and report.source == "import"
    again = run_import("reports", path)
    assert (again.created, again.unchanged) == (0, 3)
    assert Report.objects.count() == 3


def test_bad_report_rows_say_why(loaded, tmp_path):
    path = write(
        tmp_path,
        "reports.csv",
        REPORTS
        + "YJ01,210202001,2012Q2,2012-07-02 09:00,是,\n"  # 2: wrong kind
        + "YJ01,210202003,2012-05,2012-06-02 09:00,是,\n"  # 3: opened inside May
        + "YJ01,210203002,2012-05,2012-06-02 09:00,是,\n"  # 4: closed inside May
        + "YJ01,210202001,2012-06,2012-06-20 09:00,是,\n"  # 5: period not ended
        + "YJ01,210202001,2011-12,2012-01-02 09:00,是,\n"  # 6: form not in use
        + "YJ09,210202001,2012-05,2012-06-02 09:00,是,\n"  # 7: unknown form
        + "YJ01,210202001001,2012-05,2012-06-02 09:00,是,\n"  # 8: a community
        + "YJ01,210202001,2012-05,明天,是,\n"  # 9: not a time
        + "YJ01,210202001,2012-05,2012-06-02 09:00,,\n",  # 10: 零申报 empty
    )
    result = run_import("reports", path)
    found = {row: (column, message) for row, column, message in messages(result)}
    assert found[2][0] == "报告期" and "按月报送" in found[2][1]
    assert found[3][0] == "报送单位代码" and "2012-05-10" in found[3][1]
    assert found[4][0] == "报送单位代码" and "停用" in found[4][1]
    assert found[5][0] == "报告期" and "还不能报送" in found[5][1]
    assert found[6][0] == "报表代码" and "未启用" in found[6][1]
    assert found[7][0] == "报表代码"
    assert found[8][0] == "报送单位代码" and "乡镇街道" in found[8][1]
    assert found[9][0] == "报送时间"
    assert found[10][0] == "零申报"
    assert result.exit_code == 1 and not Report.objects.exists()


def test_reports_of_another_district_are_refused_for_a_district_user(loaded, tmp_path):
    path = write(tmp_path, "reports.csv", REPORTS + "YJ01,210203001,2012-05,2012-06-02 09:00,是,\n")
    result = run_import("reports", path, actor=loaded.district_officer)
    assert "不在您的管辖范围内" in result.errors[0].message


def test_warnings_import(loaded, tmp_path):
    path = write(
        tmp_path,
        "warnings.csv",
        WARNINGS
        + f"{loaded.enterprise_a.credit_code},欠薪,2012-05-20,2012-05-21 10:00,8,40000,拖欠两个月工资（约４万元）\n"
        + f"{loaded.enterprise_b.credit_code},欠保,2012-05-22,2012-05-22 16:30,,,\n",
    )
    result = run_import("warnings", path)
    assert (result.created, result.exit_code) == (2, 0), messages(result)
    warning = WarningSignal.objects.get(enterprise=loaded.enterprise_a)
    assert warning.description == "拖欠两个月工资（约４万元）"
    assert (warning.workers_involved, warning.amount, warning.source) == (8, 40000, "import")
    assert run_import("warnings", path).unchanged == 2


def test_bad_warning_rows(loaded, tmp_path):
    path = write(
        tmp_path,
        "warnings.csv",
        WARNINGS
        + f"{loaded.enterprise_a.credit_code},火灾,2012-05-20,2012-05-21 10:00,,,\n"
        + f"{loaded.enterprise_a.credit_code},欠薪,2012-05-20,2012-05-19 10:00,,,\n"
        + f"{loaded.enterprise_a.credit_code},欠薪,2012-05-20,2012-05-21 10:00,,-5,\n"
        + "91210202MA0QC12345,欠薪,2012-05-20,2012-05-21 10:00,,,\n",
    )
    result = run_import("warnings", path)
    found = {row: (column, message) for row, column, message in messages(result)}
    assert found[2][0] == "预警类别" and "群体性事件苗头" in found[2][1]
    assert found[3][0] == "报告时间" and "不能早于发现日期" in found[3][1]
    assert found[4][0] == "涉及金额" and "负数" in found[4][1]
    assert found[5][0] == "企业统一社会信用代码"
    assert not WarningSignal.objects.exists()


def test_the_command_exit_codes(loaded, tmp_path):
    good = write(tmp_path, "good.csv", REPORTS + "YJ01,210202001,2012-05,2012-06-02 09:00,是,\n")
    call_command("import", "reports", str(good))
    bad = write(tmp_path, "bad.csv", REPORTS + "YJ01,210202001,2012-13,2012-06-02 09:00,是,\n")
    with pytest.raises(SystemExit) as exit_code:
        call_command("import", "reports", str(bad), "--dry-run", "--errors", str(tmp_path / "errors.xlsx"))
    assert exit_code.value.code == 1 and (tmp_path / "errors.xlsx").exists()
    with pytest.raises(SystemExit) as exit_code:
        call_command("import", "warnings", str(tmp_path / "missing.csv"))
    assert exit_code.value.code == 2
