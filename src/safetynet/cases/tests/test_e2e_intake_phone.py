"""The intake form in a real browser: a named hotline call without a call-back number is refused next to the
phone field, with everything typed kept — the statement exactly as typed —; with the number (typed in
full-width digits) the case is registered. Headless Debian chromium; screenshot in /tmp/safetynet-cases/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from safetynet.cases.models import Case
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp/safetynet-cases")
STATEMENT = "新手测试：工资（三月）未发，未留电话。"


def sign_in(page, base: str, user) -> None:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}])


def test_a_call_without_a_call_back_number_is_refused_at_the_phone_field(
    live_server, transactional_db, city, make_staff, chromium_page, settings, tmp_path
):
    from playwright.sync_api import expect

    settings.MEDIA_ROOT = tmp_path
    settings.SAFETYNET_SMS_BACKEND = "safetynet.cases.notifications.MemorySmsBackend"
    EnterpriseFactory(org_unit=city.community_a, credit_code=make_credit_code(101), name="友好服装有限公司")
    page = chromium_page
    sign_in(page, live_server.url, make_staff("hotline", city.city, "operator"))

    page.goto(f"{live_server.url}/cases/intake/")
    expect(page.locator("#id_caller_phone").locator("xpath=..")).to_contain_text("匿名来电也须留回访电话")
    page.select_option("#id_channel", "hotline")
    page.fill("#id_enterprise_query", "友好服装")
    page.locator("#enterprise-suggestions button", has_text="友好服装有限公司").click()
    page.select_option("#id_category", "wage_arrears")
    page.fill("#id_description", STATEMENT)
    page.fill("#id_caller_name", "李师傅")
    with page.expect_navigation():
        page.locator("#intake-form button[type=submit]").click()

    phone_field = page.locator("#id_caller_phone").locator("xpath=..")
    expect(phone_field).to_have_class("field has-error")
    expect(phone_field.locator(".errorlist")).to_contain_text("12351热线诉求须留回访电话")
    expect(page.locator("#id_description")).to_have_value(STATEMENT)
    expect(page.locator("#id_caller_name")).to_have_value("李师傅")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "intake-phone-required.png"), full_page=True)
    assert not Case.objects.exists()

    page.fill("#id_caller_phone", "１３９１２３４５６７８")
    with page.expect_navigation():
        page.locator("#intake-form button[type=submit]").click()
    case = Case.objects.get()
    assert case.caller_phone_masked == "139****5678"
    assert case.description == STATEMENT
