"""The registry in a real browser: a street officer finds a worker by ID number and reads the timeline;
a chair transfers a member to another union in one step.

Runs headless Debian chromium through Playwright; skipped where /usr/bin/chromium is missing.
Screenshots go to docs/screenshots/members-*.png for people to look at.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

from safetynet.members.models import EmploymentType, Household, Membership
from safetynet.members.services import employment_end, employment_start, membership_join, person_register
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[4] / "docs" / "screenshots"
PASSWORD = "Safetynet-test-1"
D = datetime.date
NUMBER = make_id_number(11, born=D(1985, 6, 2))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run inside one unless told.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"members-{name}.png"), full_page=True)


def login(page, base: str, username: str, next_url: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(next_url) + "$"))


@pytest.fixture
def story(transactional_db, registry, city):
    """王建国 worked at 甲公司 (member of its union) and moved to 丁公司 in the same community in 2012."""
    dingco = EnterpriseFactory(
        name="大连丁香精密机械有限公司",
        org_unit=city.community_a,
        credit_code=make_credit_code(111),
        founded_on=D(2001, 1, 1),
    )
    ding_union = UnionFactory(
        name="大连丁香精密机械有限公司工会委员会",
        org_unit=city.community_a,
        founded_on=D(2008, 1, 1),
        enterprises=[dingco],
    )
    first = person_register(
        actor=None,
        name="王建国",
        id_number=NUMBER,
        enterprise=registry.acme,
        employed_from=D(2007, 3, 1),
        phone="13904111234",
        household=Household.RURAL,
        employment_type=EmploymentType.LABOUR_CONTRACT,
    )
    person = first.person
    membership_join(
        actor=None,
        person=person,
        union=registry.acme_union,
        valid_from=D(2007, 5, 1),
        member_number="210202000123",
    )
    employment_end(actor=None, employment=first, valid_to=D(2012, 9, 1))
    employment_start(
        actor=None,
        person=person,
        enterprise=dingco,
        valid_from=D(2012, 9, 1),
        employment_type=EmploymentType.LABOUR_CONTRACT,
    )
    return person, ding_union


def test_street_officer_looks_up_a_worker_by_id_number(live_server, story, city, make_staff, browser_page):
    from playwright.sync_api import expect

    make_staff("street_officer", city.street_a, "operator")
    page = browser_page
    login(page, live_server.url, "street_officer", "/members/persons/")
    page.fill("input[name=q]", f" {NUMBER[:6]} {NUMBER[6:14]} {NUMBER[14:]} ")  # spaces as people type them
    page.click("form.filter-form button[type=submit]")
    page.wait_for_url(re.compile(r"/members/persons/\d+/$"))
    expect(page.locator(".page-header h1")).to_contain_text("王建国")
    # Masked everywhere: the clear number is not on the page, and an operator has no reveal button.
    body = page.locator("body")
    expect(body).not_to_contain_text(NUMBER)
    expect(page.locator("#id-number")).to_contain_text(NUMBER[:6] + "********" + NUMBER[-4:])
    expect(page.get_by_role("button", name="显示完整号码")).to_have_count(0)
    employments = page.locator("#employments tbody tr")
    expect(employments).to_have_count(2)
    expect(employments.nth(0)).to_contain_text("甲公司")
    expect(employments.nth(0)).to_contain_text("2007-03-01")
    expect(employments.nth(0)).to_contain_text("2012-09-01")
    expect(employments.nth(1)).to_contain_text("大连丁香精密机械有限公司")
    expect(employments.nth(1)).to_contain_text("在职")
    memberships = page.locator("#memberships tbody tr")
    expect(memberships).to_have_count(1)
    expect(memberships.nth(0)).to_contain_text("甲公司工会")
    expect(memberships.nth(0)).to_contain_text("2007-05-01")
    expect(page.locator(".timeline")).to_contain_text("入会")
    shot(page, "person")


def test_chair_transfers_a_member_in_one_step(live_server, story, city, registry, make_staff, browser_page):
    from playwright.sync_api import expect

    person, ding_union = story
    make_staff("chair", city.community_a, "chair")
    page = browser_page
    login(page, live_server.url, "chair", "/members/rosters/")
    page.get_by_role("link", name="甲公司工会").first.click()
    row = page.locator("#roster tbody tr", has_text="王建国")
    expect(row).to_have_count(1)
    shot(page, "roster")
    row.get_by_role("link", name="接转").click()
    expect(page.locator("select[name=to_union]")).to_contain_text(ding_union.name)
    page.select_option("select[name=to_union]", label=f"{ding_union.name}（{city.community_a.name}）")
    page.fill("input[name=on]", "2012-09-01")
    shot(page, "transfer")
    page.get_by_role("button", name="接转").click()
    page.wait_for_url(re.compile(rf"/members/rosters/{ding_union.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("会员关系已接转")
    expect(page.locator("#roster tbody tr", has_text="王建国")).to_contain_text("210202000123")
    rows = list(Membership.objects.filter(person=person).order_by("valid_from"))
    assert [(m.union_id, m.valid_from, m.valid_to, m.end_reason) for m in rows] == [
        (registry.acme_union.pk, D(2007, 5, 1), D(2012, 9, 1), "transferred"),
        (ding_union.pk, D(2012, 9, 1), None, ""),
    ]
    # The person page now shows the transfer on the timeline.
    page.get_by_role("link", name="王建国").click()
    expect(page.locator(".timeline")).to_contain_text("会员关系接转")
    shot(page, "person-after-transfer")
