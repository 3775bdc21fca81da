"""Reporting in a real browser (headless Debian chromium through Playwright).

It is 2012-06-04 for the reporting pages (May's form is due on the 5th). A street officer of 中山区 files
May as a zero report in one click; a 西岗区 street officer files April — a month late — as a full report, first
with a negative amount (refused beside the field) and then corrected; a wage-arrears warning about an
enterprise under the zero-reporting street comes in through the warning page; the district and the city
see the rates and the flags (迟报, 瞒报嫌疑) and send a reminder. Screenshots go to
docs/screenshots/reporting-*.png.
"""

from __future__ import annotations

import datetime
import re
import types
from pathlib import Path
from urllib.parse import quote

import pytest
from django.utils import timezone as real_timezone

from safetynet.cases.models import Notification
from safetynet.orgs.models import OrgLevel
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code
from safetynet.reporting import periods, services, views
from safetynet.reporting.models import Report, WarningSignal

PASSWORD = "Safetynet-test-1"
SCREENSHOTS = Path(__file__).resolve().parents[4] / "docs" / "screenshots"
NOW = datetime.datetime(2012, 6, 4, 10, 0, tzinfo=periods.BEIJING)

pytestmark = pytest.mark.browser


@pytest.fixture
def frozen(monkeypatch):
    """The reporting app's clock reads 2012-06-04 10:00 (Beijing); sessions and logins keep the real one."""
    clock = types.SimpleNamespace(
        **{name: getattr(real_timezone, name) for name in dir(real_timezone) if not name.startswith("__")}
    )
    clock.now = lambda: NOW
    clock.localdate = lambda value=None, timezone=None: NOW.date()
    monkeypatch.setattr(services, "timezone", clock)
    monkeypatch.setattr(views, "timezone", clock)


@pytest.fixture
def site(live_server, transactional_db, city, make_staff, frozen):
    form = services.reportform_create(
        actor=None,
        code="YJ01",
        name="劳动关系预警月报",
        period_kind="month",
        level=OrgLevel.STREET,
        due_day=5,
        is_warning=True,
        enabled_from=datetime.date(2012, 4, 1),
        fields=[
            {"label": "欠薪金额", "kind": "amount"},
            {"label": "涉及人数", "kind": "workers", "required": True},
        ],
    )
    enterprise = EnterpriseFactory(
        org_unit=city.community_a, credit_code=make_credit_code(601), name="友好服装有限公司"
    )
    staff = {
        "street": make_staff("street", city.street_a, "operator"),
        "xg_street": make_staff("xg_street", city.street_b, "operator"),
        "district": make_staff("district", city.zhongshan, "operator"),
        "city": make_staff("city", city.city, "city_admin"),
    }
    return live_server.url, form, enterprise, staff


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": page.viewport_size["width"], "height": max(900, height)})
    page.screenshot(path=str(SCREENSHOTS / f"reporting-{name}.png"))
    page.set_viewport_size({"width": page.viewport_size["width"], "height": 900})


def login(page, base: str, username: str, path: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/?next={quote(path)}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path.split("?")[0]) + r"(\?.*)?$"))


def test_zero_report_late_report_warning_and_the_flags(site, chromium_page, city):
    from playwright.sync_api import expect

    base, form, enterprise, staff = site
    page = chromium_page

    # 中山区's street, on a phone: May is due, April overdue; May's zero report is one click.
    page.set_viewport_size({"width": 390, "height": 900})
    login(page, base, "street", "/reporting/")
    may = page.locator("#filing-open tr[data-period='2012-05']")
    expect(may).to_contain_text("待报")
    expect(page.locator("#filing-open tr[data-period='2012-04']")).to_contain_text("逾期未报")
    shot(page, "filing-phone")
    with page.expect_navigation():
        may.locator("button", has_text="本期无情况（零申报）").click()
    expect(page.locator(".messages")).to_contain_text("已零申报")
    expect(page.locator("#filing-done tr[data-period='2012-05']")).to_contain_text("已报")
    report = Report.objects.get(unit=city.street_a)
    assert report.is_zero and report.submitted_at == NOW
    page.set_viewport_size({"width": 1280, "height": 900})

    # 西岗区's street files April, a month late, as a full report.
    login(page, base, "xg_street", "/reporting/")
    page.locator("#filing-open tr[data-period='2012-04'] a", has_text="填报").click()
    page.wait_for_url(re.compile(r"/reporting/file/"))
    page.fill("#id_f1", "-3000")
    page.fill("#id_f2", "6")
    page.fill("#id_content", "八一路食品厂拖欠６名职工４月工资：已约谈。")
    with page.expect_navigation():
        page.locator(".report-form button[type=submit]").click()
    expect(page.locator(".field.has-error")).to_contain_text("“欠薪金额”是金额，不能为负数")
    assert not Report.objects.filter(unit=city.street_b).exists()
    page.fill("#id_f1", "18000")
    with page.expect_navigation():
        page.locator(".report-form button[type=submit]").click()
    expect(page.locator("#report-facts")).to_contain_text("迟报")
    late = Report.objects.get(unit=city.street_b)
    assert (
        late.values == {"f1": "18000.00", "f2": 6}
        and late.content == "八一路食品厂拖欠６名职工４月工资：已约谈。"
    )

    # A wage-arrears warning about the enterprise under the street that zero-reported May.
    login(page, base, "street", "/reporting/warnings/new/")
    page.fill("input[name=credit_code]", enterprise.credit_code)
    expect(page.locator("#enterprise-lookup")).to_contain_text("友好服装有限公司")
    page.select_option("#id_category", "wage_arrears")
    page.fill("#id_discovered_on", "2012-05-20")
    page.fill("#id_workers_involved", "8")
    page.fill("#id_amount", "40000")
    page.fill("#id_description", "拖欠两个月工资（约４万元）")
    with page.expect_navigation():
        page.locator("#warning-form button[type=submit]").click()
    warning = WarningSignal.objects.get()
    assert warning.description == "拖欠两个月工资（约４万元）" and warning.reported_at == NOW
    expect(page.locator(".warning-steps li.current")).to_contain_text("已报告")
    with page.expect_navigation():
        page.locator("#warning-actions summary", has_text="核实").click()
        page.locator("#warning-actions button", has_text="确认核实").click()
    expect(page.locator(".warning-steps li.current")).to_contain_text("已核实")

    # The district: May's rates and the flags; a reminder to the street that has not reported.
    login(page, base, "district", f"/reporting/overview/?form={form.pk}&period=2012-05")
    expect(page.locator("#report-rate")).to_contain_text("100.0 %")
    expect(page.locator("#reporter-table tr[data-unit='210202001'] .flag-concealed")).to_be_visible()
    shot(page, "overview")

    # The city: April has 八一路街道 late; May has 青泥洼桥街道 concealed, side by side with the warning.
    login(page, base, "city", f"/reporting/overview/?form={form.pk}&period=2012-04")
    expect(page.locator("#reporter-table tr[data-unit='210203001'] .flag-late")).to_be_visible()
    expect(page.locator("#reporter-table tr[data-unit='210202001'] .flag-missing")).to_be_visible()
    with page.expect_navigation():
        page.locator("#reporter-table tr[data-unit='210202001'] button", has_text="发送催报提醒").click()
    expect(page.locator(".messages")).to_contain_text("已向 1 个未报单位发送催报提醒")
    assert Notification.objects.filter(recipient=staff["street"], text__contains="催报").exists()
    page.goto(f"{base}/reporting/concealment/?form={form.pk}&period=2012-05")
    board = page.locator("#concealment-board")
    expect(board).to_contain_text("青泥洼桥街道")
    expect(board).to_contain_text("友好服装有限公司")
    shot(page, "concealment")
