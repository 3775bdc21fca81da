"""The visits import: every rule of the service checked per row with a Chinese reason naming row and column,
scope, a worker named by ID number, re-import leaves the log unchanged, audit rows, the template."""

from __future__ import annotations

import datetime

import pytest
from openpyxl import Workbook, load_workbook

from safetynet.core.importing import run_import
from safetynet.core.models import AuditEntry
from safetynet.imports.guide import build_template
from safetynet.members.services import person_register
from safetynet.members.validation import check_character
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code
from safetynet.visits.models import Visit

D = datetime.date
HEADER = [
    "走访日期",
    "走访人姓名",
    "企业统一社会信用代码",
    "走访职工姓名",
    "走访职工身份证号",
    "六必清/八必访事项",
    "发现的问题",
]


def id_number(n: int) -> str:
    body = f"21020219800101{n:03d}"
    return body + check_character(body)


@pytest.fixture
def setting(city, make_staff):
    zs = EnterpriseFactory(
        name="友好走访机械有限公司", credit_code=make_credit_code(511), org_unit=city.community_a
    )
    xg = EnterpriseFactory(
        name="西岗走访电子有限公司", credit_code=make_credit_code(512, "210203"), org_unit=city.street_b
    )
    person = person_register(
        actor=None, name="王师傅", id_number=id_number(7), enterprise=zs, employed_from=D(2008, 1, 1)
    ).person
    return {
        "zs": zs,
        "xg": xg,
        "person": person,
        "officer": make_staff("zs_officer", city.zhongshan, "operator"),
        "viewer": make_staff("zs_viewer", city.zhongshan, "viewer"),
    }


def _xlsx(tmp_path, rows, name="visits.xlsx"):
    workbook = Workbook()
    workbook.active.append(HEADER)
    for row in rows:
        workbook.active.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def test_good_file_logs_visits_with_worker_and_checklist_and_reimport_is_unchanged(setting, tmp_path):
    zs = setting["zs"].credit_code
    path = _xlsx(
        tmp_path,
        [
            [
                "2012-05-03",
                "李干部",
                zs,
                "王师傅",
                id_number(7),
                "工资支付和社会保险缴纳情况必清、农民工必访",
                "工资拖欠两个月",
            ],
            [D(2012, 6, 1), "李干部", zs, "", "", "企业基本情况；six_union", ""],
            ["2012/07/01", "赵干部", zs, "张女工", "", "", ""],
        ],
    )
    result = run_import("visits", path, actor=setting["officer"])
    assert (result.created, result.rejected) == (3, 0), [str(e) for e in result.errors]
    first = Visit.objects.get(visited_on=D(2012, 5, 3))
    assert first.person == setting["person"] and first.worker_name == "王师傅"
    assert first.checklist == ["six_wages", "eight_migrant"]
    assert first.findings == "工资拖欠两个月"
    assert first.officer is None and first.officer_name == "李干部"
    assert Visit.objects.get(visited_on=D(2012, 6, 1)).checklist == ["six_basic", "six_union"]
    assert AuditEntry.objects.filter(entity="visits.visit", action="import").count() == 3
    again = run_import("visits", path, actor=setting["officer"])
    assert (again.created, again.unchanged, again.rejected) == (0, 3, 0)
    assert Visit.objects.count() == 3


def test_every_bad_row_refused_with_row_column_and_reason(setting, tmp_path):
    zs, xg = setting["zs"].credit_code, setting["xg"].credit_code
    path = _xlsx(
        tmp_path,
        [
            ["2099-01-01", "李干部", zs, "", "", "", ""],  # 2: in the future
            ["2012-05-03", "李干部", xg, "", "", "", ""],  # 3: out of scope
            ["2004-05-03", "李干部", zs, "", "", "", ""],  # 4: before the enterprise was founded (2005)
            ["2012-05-03", "李干部", zs, "", "", "必须喝茶", ""],  # 5: not a checklist item
            ["2012-05-03", "李干部", zs, "李四", id_number(7), "", ""],  # 6: name differs from the registry
            ["2012-05-03", "", zs, "", "", "", ""],  # 7: no cadre
            ["2012-05-04", "李干部", "91210202XXXXXXXXXX", "", "", "", ""],  # 8: bad credit code
            ["2012-05-05", "李干部", zs, "", "", "", ""],  # 9 and 10: the same visit twice
            ["2012-05-05", "李干部", zs, "", "", "", ""],
            ["2012-05-06", "李干部", zs, "", id_number(9), "", ""],  # 11: ID without a name, not registered
            ["2012-05-07", "李干部", zs, "", "", "", "问" * 5001],  # 12: findings too long
        ],
    )
    result = run_import("visits", path, actor=setting["officer"])
    messages = [str(e) for e in result.errors]

    def said(row, *parts):
        return any(f"第 {row} 行" in m and all(p in m for p in parts) for m in messages)

    assert said(2, "走访日期", "不能晚于今天")
    assert said(3, "企业统一社会信用代码", "不在您的管辖范围内")
    assert said(4, "走访日期", "早于企业", "成立日期")
    assert said(5, "六必清/八必访事项", "必须喝茶", "不在六必清、八必访清单中")
    assert said(6, "走访职工姓名", "姓名与该身份证号登记的姓名不一致")
    assert said(7, "走访人姓名")
    assert said(8, "企业统一社会信用代码")
    assert said(9, "重复") and said(10, "重复")
    assert said(11, "走访职工姓名")
    assert said(12, "发现的问题", "最多 5000 个字")
    assert result.rejected == 11
    assert not Visit.objects.exists()


def test_a_viewer_may_not_import_visits(setting, tmp_path):
    from safetynet.core.importing import ImportUnusable

    path = _xlsx(tmp_path, [["2012-05-03", "李干部", setting["zs"].credit_code, "", "", "", ""]])
    with pytest.raises(ImportUnusable):
        run_import("visits", path, actor=setting["viewer"])
    assert not Visit.objects.exists()


def test_template_names_every_column(tmp_path):
    path = tmp_path / "template.xlsx"
    path.write_bytes(build_template("visits"))
    headers = [str(cell.value).lstrip("*") for cell in load_workbook(path).active[1]]
    assert headers[: len(HEADER)] == HEADER


def test_visit_list_offers_the_import_to_officers_only(setting, client):
    from django.urls import reverse

    client.force_login(setting["officer"])
    page = client.get(reverse("visits:visit_list")).content.decode()
    assert reverse("imports:job_create") + "?kind=visits" in page
    form = client.get(reverse("imports:job_create") + "?kind=visits").content.decode()
    assert '<option value="visits" selected>走访记录</option>' in form
    assert 'href="/imports/templates/visits.xlsx"' in form
    client.force_login(setting["viewer"])
    assert "?kind=visits" not in client.get(reverse("visits:visit_list")).content.decode()
