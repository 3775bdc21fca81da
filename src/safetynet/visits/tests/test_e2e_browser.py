"""A visit logged on a phone-sized screen in a real browser: the finding becomes a warning and a case in one
step; the detail page links both. Screenshots (390×844 form, 1440×900 detail) in /tmp/harmony_shots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from safetynet.cases.models import Case
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code
from safetynet.reporting.models import WarningSignal
from safetynet.visits.models import Visit

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/harmony_shots")


def sign_in(page, base: str, user) -> None:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}])


def test_visit_finding_becomes_warning_and_case(
    live_server, transactional_db, city, make_staff, chromium_page, settings, tmp_path
):
    from playwright.sync_api import expect

    settings.MEDIA_ROOT = tmp_path
    settings.SAFETYNET_SMS_BACKEND = "safetynet.cases.notifications.MemorySmsBackend"
    enterprise = EnterpriseFactory(
        org_unit=city.community_a, credit_code=make_credit_code(131), name="友好纺织有限公司"
    )
    page = chromium_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, live_server.url, make_staff("street_cadre", city.street_a, "operator"))

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/visits/new/")
    page.fill("#id_enterprise", enterprise.credit_code)
    page.check("input[name=six_clear][value=six_wages]")
    page.check("input[name=eight_visit][value=eight_migrant]")
    page.fill("#id_worker_name", "刘师傅")
    page.fill("#id_findings", "车间 20 名农民工反映两个月工资未发。")
    page.select_option("#id_warning_category", "wage_arrears")
    page.select_option("#id_case_category", "wage_arrears")
    page.fill("#id_caller_phone", "13912345678")
    page.screenshot(path=str(SHOTS / "visit-form-390.png"), full_page=True)
    # The form fits the phone's width (no field runs off the screen).
    box = page.locator(".visit-form").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    wide = page.evaluate(
        "[...document.querySelectorAll('.visit-form *')].filter(e => e.getBoundingClientRect().right > 390).length"
    )
    assert wide == 0
    with page.expect_navigation():
        page.locator("form button[type=submit]").click()

    visit = Visit.objects.get()
    warning = WarningSignal.objects.get()
    case = Case.objects.get()
    assert visit.warning == warning and visit.case == case and warning.case == case
    expect(page.locator(".messages")).to_contain_text(f"已转为诉求案件 {case.number}")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.reload()
    expect(page.locator("dl.facts")).to_contain_text("欠薪")
    expect(page.locator(f"a[href='/cases/{case.pk}/']")).to_contain_text(case.number)
    page.screenshot(path=str(SHOTS / "visit-detail-1440.png"), full_page=True)
    page.goto(f"{live_server.url}/visits/?year={visit.visited_on.year}")
    expect(page.locator("table.table")).to_contain_text("友好纺织有限公司")
    page.screenshot(path=str(SHOTS / "visit-list-1440.png"), full_page=True)
