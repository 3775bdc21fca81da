"""An urgent incident in a real browser (headless Debian chromium through Playwright).

A community officer of 中山区, on a phone, reports that workers block a factory gate: first with 报告时间 before
知悉时间 (refused beside the field, nothing saved), then as it is — known three hours ago, so it is late. The
city's duty officer (the city administrator: the city keeps no duty roster) sees the unread badge in the top
bar at once, finds the notification, opens the incident with its 迟报 flag and takes it (接报); the district
sees it on its board, 西岗区 does not. Screenshots go to docs/screenshots/reporting-incident-*.png.
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from safetynet.cases.models import Notification
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code
from safetynet.reporting.models import Incident, IncidentStatus
from safetynet.reporting.tests.test_e2e_browser import login, shot

pytestmark = pytest.mark.browser


@pytest.fixture
def site(live_server, transactional_db, city, make_staff):
    enterprise = EnterpriseFactory(
        org_unit=city.community_a, credit_code=make_credit_code(611), name="友好服装有限公司"
    )
    staff = {
        "community": make_staff("community", city.community_a, "operator"),
        "district": make_staff("district", city.zhongshan, "operator"),
        "city": make_staff("city", city.city, "city_admin"),
        "xigang": make_staff("xigang", city.xigang, "operator"),
    }
    return live_server.url, enterprise, staff


def local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_an_urgent_incident_reaches_the_city_duty_officer_and_is_flagged_late(site, chromium_page):
    from playwright.sync_api import expect

    base, enterprise, staff = site
    page = chromium_page
    now = timezone.now()

    # The community officer, on a phone.
    page.set_viewport_size({"width": 390, "height": 900})
    login(page, base, "community", "/reporting/incidents/new/")
    page.select_option("#id_category", "collective_action")
    page.fill("#id_title", "友好服装厂 60 余名职工因欠薪堵厂门")
    page.fill("#id_known_at", local(now - datetime.timedelta(hours=3)))
    page.fill("#id_reported_at", local(now - datetime.timedelta(hours=4)))
    page.fill("input[name=credit_code]", enterprise.credit_code)
    expect(page.locator("#enterprise-lookup")).to_contain_text("友好服装有限公司")
    page.fill("#id_workers_involved", "60")
    page.fill("#id_description", "职工聚集在厂门口，要求补发４、５月工资。")
    with page.expect_navigation():
        page.locator("#incident-form button[type=submit]").click()
    expect(page.locator(".field.has-error")).to_contain_text("报告时间")
    expect(page.locator(".field.has-error")).to_contain_text("不能早于知悉时间")
    assert not Incident.objects.exists() and not Notification.objects.exists()
    page.fill("#id_reported_at", "")
    shot(page, "incident-phone")
    with page.expect_navigation():
        page.locator("#incident-form button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("已通知 2 名区、市值班人员（已超过报告时限，记为迟报）")
    expect(page.locator("#reported-at .flag-late")).to_contain_text("迟报")
    incident = Incident.objects.get()
    assert incident.late and incident.enterprise == enterprise and incident.notified == 2
    assert incident.description == "职工聚集在厂门口，要求补发４、５月工资。"
    page.set_viewport_size({"width": 1280, "height": 900})

    # The city's duty officer: the badge in the top bar, the notification, the incident, 接报.
    login(page, base, "city", "/")
    expect(page.locator("#notification-badge")).to_contain_text("1")
    page.locator("#notification-badge").click()
    row = page.locator("#notifications tr.unread").first
    expect(row).to_contain_text("【突发事件】友好社区：友好服装厂 60 余名职工因欠薪堵厂门")
    expect(row).to_contain_text("迟报")
    shot(page, "incident-notification")
    with page.expect_navigation():
        row.locator("button[name=open]").click()
    expect(page.locator("#reported-at")).to_contain_text("迟报：超过 2 小时时限")
    with page.expect_navigation():
        page.locator("#incident-acknowledge").click()
    expect(page.locator(".page-header")).to_contain_text("已接报")
    assert Incident.objects.get().status == IncidentStatus.ACKNOWLEDGED
    assert Notification.objects.get(recipient=staff["city"]).read
    shot(page, "incident-detail")

    # The board: the district sees it with its flags; 西岗区 does not.
    login(page, base, "district", "/reporting/incidents/?status=")
    expect(page.locator(f"#incident-table tr[data-incident='{incident.pk}'] .flag-late")).to_be_visible()
    shot(page, "incident-board")
    login(page, base, "xigang", "/reporting/incidents/?status=")
    expect(page.locator(".empty-state")).to_contain_text("没有符合条件的突发事件")
