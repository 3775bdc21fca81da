"""登记职工 in a real browser: a district officer registers a new worker from the enterprise's 职工与会员 tab
(a mistyped ID number first, which the form explains), sees them on their page, lets them join the union and
ends the employment. Headless Debian chromium through Playwright; screenshots go to /tmp/safetynet-members/.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from safetynet.members.models import Employment, Household, Membership, Person
from safetynet.members.tests.factories import make_id_number

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp/safetynet-members")
NUMBER = make_id_number(31, born=datetime.date(1990, 7, 8))


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page, base: str, user) -> None:
    """A session made by Django's test client, handed to the browser (the sign-in page is tested elsewhere)."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}])


def test_register_a_worker_at_an_enterprise_then_join_and_end_the_employment(
    live_server, transactional_db, registry, city, make_staff, chromium_page
):
    from playwright.sync_api import expect

    page = chromium_page
    base = live_server.url
    sign_in(page, base, make_staff("zs_officer", city.zhongshan, "operator"))

    # The search explains a mistyped ID number instead of only "not found".
    page.goto(f"{base}/members/persons/?q=210202198013450011")
    expect(page.locator("#id-problem")).to_contain_text("出生日期 19801345 不是有效日期")
    shot(page, "search-wrong-number")

    page.goto(f"{base}/orgs/enterprises/{registry.acme.pk}/?tab=members")
    shot(page, "enterprise-tab")
    page.get_by_role("link", name="登记职工").first.click()
    expect(page.locator("h1")).to_contain_text("登记职工")
    expect(page.locator(".card-body").first).to_contain_text("在“甲公司”登记职工")

    # A mistyped number: the form says what is wrong and keeps everything typed.
    page.fill("#id_id_number", "210202198013450011")
    page.fill("#id_name", "新职工 王芳")
    page.fill("#id_phone", "１３９ ０４１１ ２２３３")
    page.select_option("#id_household", Household.RURAL)
    page.fill("#id_employed_from", "2012-03-01")
    page.select_option("#id_employment_type", "labour_contract")
    page.get_by_role("button", name="登记职工").click()
    error = page.locator(".field.has-error .errorlist")
    expect(error).to_contain_text("出生日期 19801345 不是有效日期")
    expect(error).to_contain_text("按前 17 位计算校验码应为 9，现为 1")
    expect(page.locator("#id_name")).to_have_value("新职工 王芳")
    shot(page, "register-error")
    assert not Person.objects.exists()

    page.fill("#id_id_number", NUMBER)
    page.get_by_role("button", name="登记职工").click()
    person = Person.objects.get()
    page.wait_for_url(re.compile(rf"/members/persons/{person.pk}/$"))
    expect(page.locator(".message-success")).to_contain_text(
        "已登记新职工 王芳在“甲公司”的用工（2012-03-01 起）"
    )
    expect(page.locator("#employments")).to_contain_text("甲公司")
    expect(page.locator("#employments")).to_contain_text("在职")
    expect(page.locator("h1")).to_contain_text("农民工")
    shot(page, "person-registered")

    # 入会 from the person's page: the union covering 甲公司 is offered.
    page.get_by_role("link", name="入会", exact=True).first.click()
    expect(page.locator("#id_union")).to_contain_text("甲公司工会")
    page.fill("#id_valid_from", "2012-04-01")
    page.fill("#id_member_number", "JG-0031")
    shot(page, "person-join")
    page.get_by_role("button", name="入会").click()
    page.wait_for_url(re.compile(rf"/members/persons/{person.pk}/$"))
    expect(page.locator("#memberships")).to_contain_text("甲公司工会")
    assert Membership.objects.get(person=person).member_number == "JG-0031"

    # 结束用工.
    page.locator("#employments").get_by_role("link", name="结束用工").click()
    expect(page.locator(".card-body").first).to_contain_text("其会员关系不随之结束")
    page.fill("#id_valid_to", "2012-12-31")
    shot(page, "employment-end")
    page.get_by_role("button", name="结束用工").click()
    page.wait_for_url(re.compile(rf"/members/persons/{person.pk}/$"))
    expect(page.locator(".message-success")).to_contain_text("已结束用工")
    expect(page.locator("#employments")).to_contain_text("已离职")
    expect(page.locator("#employments")).to_contain_text("2012-12-31")
    shot(page, "person-ended")
    assert Employment.objects.get(person=person).valid_to == datetime.date(2012, 12, 31)
