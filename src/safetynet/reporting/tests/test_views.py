"""The pages: 待报送 with the one-click zero report, a full report with its errors beside the fields, corrections
and their history, the overview with reminders and the XLSX, the concealment board, the designer (city only),
warnings; out of scope is 404; no inline scripts anywhere."""

from __future__ import annotations

import datetime
import io
import re

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from safetynet.cases.models import Case, Notification
from safetynet.reporting import services
from safetynet.reporting.models import Reminder, Report, ReportForm, WarningSignal
from safetynet.reporting.tests.conftest import at, file_report

D = datetime.date


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def no_inline_script(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", html), "on*= attribute"


@pytest.fixture
def today_in_june(monkeypatch):
    """The pages think it is 2012-06-03 (Beijing): May's form is due on the 5th."""
    from django.utils import timezone

    moment = at("2012-06-03 10:00")
    monkeypatch.setattr(timezone, "now", lambda: moment)
    monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: moment.date())
    return moment


def test_filing_lists_due_and_a_zero_report_is_one_click(world, today_in_june):
    client = client_for(world.street_officer)
    response = client.get(reverse("reporting:filing"))
    html = response.content.decode()
    assert response.status_code == 200
    no_inline_script(html)
    assert "本期无情况（零申报）" in html and "2012年5月" in html and "待报" in html
    assert "2012年4月" in html and "逾期未报" in html  # April was due on May 5
    response = client.post(
        reverse("reporting:zero_report"),
        {"form": world.form.pk, "period": "2012-05", "unit": world.city.street_a.pk},
    )
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.is_zero and report.submitted_by == world.street_officer and report.period == "2012-05"
    html = client.get(reverse("reporting:filing")).content.decode()
    assert 'id="filing-done"' in html and "零申报" in html


def test_a_viewer_sees_but_cannot_file(world, today_in_june):
    client = client_for(world.viewer)
    html = client.get(reverse("reporting:filing") + f"?unit={world.city.street_a.pk}").content.decode()
    assert "您的角色只能查看" in html
    response = client.post(
        reverse("reporting:zero_report"),
        {"form": world.form.pk, "period": "2012-05", "unit": world.city.street_a.pk},
    )
    assert response.status_code == 403 and not Report.objects.exists()


def test_another_districts_unit_is_404(world, today_in_june):
    client = client_for(world.street_officer)
    assert client.get(reverse("reporting:filing") + f"?unit={world.city.street_b.pk}").status_code == 404
    response = client.post(
        reverse("reporting:zero_report"),
        {"form": world.form.pk, "period": "2012-05", "unit": world.city.street_b.pk},
    )
    assert response.status_code == 404 and not Report.objects.exists()
    query = f"?form={world.form.pk}&period=2012-05&unit={world.city.street_b.pk}"
    assert client.get(reverse("reporting:file") + query).status_code == 404


def test_a_period_not_yet_ended_is_refused_with_the_reason(world, today_in_june):
    client = client_for(world.street_officer)
    response = client.post(
        reverse("reporting:zero_report"),
        {"form": world.form.pk, "period": "2012-06", "unit": world.city.street_a.pk},
        follow=True,
    )
    assert "还不能报送" in response.content.decode() and not Report.objects.exists()


def test_a_full_report_with_a_negative_amount_shows_the_error_beside_the_field(world, today_in_june):
    client = client_for(world.street_officer)
    url = reverse("reporting:file")
    query = {"form": world.form.pk, "period": "2012-05", "unit": world.city.street_a.pk}
    html = client.get(url, query).content.decode()
    no_inline_script(html)
    assert "欠薪金额" in html and "涉及人数" in html and "本期无情况（零申报）" in html
    response = client.post(url, {**query, "f1": "-100", "f2": "3", "content": "说明"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "“欠薪金额”是金额，不能为负数" in html and 'value="-100"' in html
    assert not Report.objects.exists()
    response = client.post(
        url, {**query, "f1": "1200", "f2": "3", "f3": "是", "f4": "中", "content": "欠薪一起（３人）"}
    )
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.values == {"f1": "1200.00", "f2": 3, "f3": True, "f4": "中"}
    assert report.content == "欠薪一起（３人）"


def test_a_correction_keeps_the_history(world, today_in_june):
    first = file_report(world, world.city.street_a, "2012-06-02 09:00", zero=True)
    client = client_for(world.street_officer)
    url = reverse("reporting:file")
    query = {"form": world.form.pk, "period": "2012-05", "unit": world.city.street_a.pk}
    html = client.get(url, query).content.decode()
    assert "更正" in html and "首次报送" in html
    response = client.post(url, {**query, "f2": "4", "note": "补报欠薪"})
    assert response.status_code == 302
    second = Report.objects.exclude(pk=first.pk).get()
    html = client.get(reverse("reporting:report_detail", args=[second.pk])).content.decode()
    no_inline_script(html)
    assert "本期报送记录" in html and "首次报送" in html and "补报欠薪" in html and "按时" in html
    assert (
        client_for(world.xigang_officer).get(reverse("reporting:report_detail", args=[second.pk])).status_code
        == 404
    )


def test_the_overview_rates_lists_reminders_and_export(world, today_in_june):
    file_report(world, world.city.street_a, "2012-06-02 09:00", zero=True)
    client = client_for(world.district_officer)
    query = f"?form={world.form.pk}&period=2012-05&as_of=2012-06-03"
    html = client.get(reverse("reporting:overview") + query).content.decode()
    no_inline_script(html)
    assert "50.0 %" in html  # 中山区: A of A and E
    assert "桃源街道" in html and "待报" in html and "向 1 个未报单位发送催报提醒" in html
    assert "八一路街道" not in html
    response = client.post(
        reverse("reporting:remind"), {"form": world.form.pk, "period": "2012-05", "unit": ""}
    )
    assert response.status_code == 302
    assert Reminder.objects.get().unit == world.street_e
    response = client.get(reverse("reporting:overview_export") + query)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["报送率", "应报单位"]
    units = [row[1] for row in book["应报单位"].iter_rows(min_row=3, values_only=True)]
    assert units == ["青泥洼桥街道", "桃源街道"]
    assert (
        client.get(reverse("reporting:overview") + query + f"&unit={world.city.xigang.pk}").status_code == 404
    )


def test_the_concealment_board_shows_both_records(world, today_in_june):
    report = file_report(world, world.city.street_a, "2012-06-02 09:00", zero=True)
    warning = services.warning_create(
        actor=None,
        enterprise=world.enterprise_a,
        category="wage_arrears",
        discovered_on=D(2012, 5, 20),
        reported_at=at("2012-05-21 10:00"),
        description="拖欠两个月工资",
    )
    client = client_for(world.city_admin)
    html = client.get(
        reverse("reporting:concealment") + f"?form={world.form.pk}&period=2012-05"
    ).content.decode()
    no_inline_script(html)
    assert "青泥洼桥街道" in html and "瞒报嫌疑" in html
    assert reverse("reporting:report_detail", args=[report.pk]) in html
    assert reverse("reporting:warning_detail", args=[warning.pk]) in html and "友好服装有限公司" in html
    html = (
        client_for(world.xigang_officer)
        .get(reverse("reporting:concealment") + f"?form={world.form.pk}&period=2012-05")
        .content.decode()
    )
    assert "青泥洼桥街道" not in html


def test_the_designer_is_for_the_city(world):
    for user in (world.district_head, world.street_officer, world.viewer):
        client = client_for(user)
        assert client.get(reverse("reporting:form_create")).status_code == 403
        assert client.get(reverse("reporting:form_edit", args=[world.form.pk])).status_code == 403
    client = client_for(world.city_admin)
    html = client.get(reverse("reporting:form_list")).content.decode()
    assert "YJ01" in html and "新增报表" in html
    response = client.post(
        reverse("reporting:form_create"),
        {"code": "JB01", "name": "工会工作季报", "period_kind": "quarter", "level": "2", "due_day": "31"},
    )
    assert response.status_code == 400 and "“截止日”不能大于 28" in response.content.decode()
    assert not ReportForm.objects.filter(code="JB01").exists()
    response = client.post(
        reverse("reporting:form_create"),
        {"code": "jb01", "name": "工会工作季报", "period_kind": "quarter", "level": "2", "due_day": "15"},
    )
    created = ReportForm.objects.get(code="JB01")
    assert response.status_code == 302
    edit = reverse("reporting:form_edit", args=[created.pk])
    html = client.get(edit).content.decode()
    no_inline_script(html)
    assert "data-designer-add" in html
    response = client.post(
        edit,
        {
            "part": "fields",
            "field-1-label": "开展活动次数",
            "field-1-kind": "number",
            "field-2-label": "是否换届",
            "field-2-kind": "yes_no",
            "field-2-required": "1",
            "field-3-label": "",
            "note": "首版",
        },
    )
    assert response.status_code == 302
    version = created.versions.order_by("-number").first()
    assert version.number == 2 and [f["label"] for f in version.fields] == ["开展活动次数", "是否换届"]
    response = client.post(edit, {"part": "fields", "field-1-label": "等级", "field-1-kind": "choice"})
    assert response.status_code == 400 and "至少要有两个选项" in response.content.decode()


def test_warning_pages(world):
    client = client_for(world.street_officer)
    html = client.get(reverse("reporting:warning_create")).content.decode()
    no_inline_script(html)
    lookup = client.get(
        reverse("reporting:enterprise_lookup"), {"credit_code": world.enterprise_a.credit_code}
    )
    assert "友好服装有限公司" in lookup.content.decode()
    lookup = client.get(
        reverse("reporting:enterprise_lookup"), {"credit_code": world.enterprise_b.credit_code}
    )
    assert "八一路食品厂" not in lookup.content.decode()
    response = client.post(
        reverse("reporting:warning_create"),
        {
            "credit_code": world.enterprise_a.credit_code,
            "category": "wage_arrears",
            "discovered_on": "2012-05-20",
            "amount": "-1",
        },
    )
    assert response.status_code == 400 and "涉及金额不能为负数" in response.content.decode()
    response = client.post(
        reverse("reporting:warning_create"),
        {
            "credit_code": world.enterprise_a.credit_code,
            "category": "wage_arrears",
            "discovered_on": "2012-05-20",
            "workers_involved": "12",
            "amount": "60000",
            "description": "拖欠３个月工资：（约６万元）",
        },
    )
    warning = WarningSignal.objects.get()
    assert response.status_code == 302 and warning.description == "拖欠３个月工资：（约６万元）"
    detail = reverse("reporting:warning_detail", args=[warning.pk])
    html = client.get(detail).content.decode()
    no_inline_script(html)
    assert "核实" in html and "排除" in html
    transition = reverse("reporting:warning_transition", args=[warning.pk])
    response = client.post(transition, {"action": "dismiss", "version": 1, "reason": ""})
    assert response.status_code == 400 and "排除预警须填写排除理由" in response.content.decode()
    assert client.post(transition, {"action": "verify", "version": 1}).status_code == 302
    response = client.post(reverse("reporting:warning_case", args=[warning.pk]), {"version": 2})
    assert response.status_code == 302
    case = Case.objects.get()
    warning.refresh_from_db()
    assert warning.case == case and warning.status == "handling"
    html = client.get(detail).content.decode()
    assert case.number in html
    html = client.get(reverse("reporting:warning_list")).content.decode()
    assert "友好服装有限公司" in html and "已转案件" in html
    xigang = client_for(world.xigang_officer)
    assert xigang.get(detail).status_code == 404
    assert xigang.post(transition, {"action": "resolve", "version": 3}).status_code == 404
    assert "友好服装有限公司" not in xigang.get(reverse("reporting:warning_list")).content.decode()
    assert client_for(world.viewer).post(transition, {"action": "resolve", "version": 3}).status_code == 403
    assert Notification.objects.filter(recipient=world.district_officer).exists()


def test_the_menu_links_the_pages(world):
    html = client_for(world.street_officer).get(reverse("reporting:filing")).content.decode()
    assert "信息报送与预警" in html and reverse("reporting:warning_list") in html
