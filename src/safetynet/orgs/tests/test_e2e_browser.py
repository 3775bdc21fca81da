"""A district officer's day in a real browser: tree → street → enterprise → edit → history, and a 404.

Runs headless Debian chromium through Playwright; skipped where /usr/bin/chromium is missing.
Screenshots go to docs/screenshots/orgs-*.png for people to look at.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run inside one unless told.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

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

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture
def browser_page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"orgs-{name}.png"), full_page=True)


def test_district_officer_drills_down_edits_and_sees_history(
    live_server, transactional_db, city, make_staff, browser_page
):
    from playwright.sync_api import expect

    covered = EnterpriseFactory(
        name="大连青泥洼商贸有限公司",
        org_unit=city.street_a,
        headcount=120,
        credit_code=make_credit_code(201),
    )
    target = EnterpriseFactory(
        name="大连友好软件有限公司", org_unit=city.street_a, headcount=80, credit_code=make_credit_code(202)
    )
    EnterpriseFactory(
        name="友好社区便利店", org_unit=city.community_a, headcount=6, credit_code=make_credit_code(203)
    )
    foreign = EnterpriseFactory(
        name="西岗区外部公司",
        org_unit=city.street_b,
        headcount=200,
        credit_code=make_credit_code(204, region="210203"),
    )
    UnionFactory(name="大连青泥洼商贸有限公司工会委员会", org_unit=city.street_a, enterprises=[covered])
    make_staff("zs_officer", city.zhongshan, "operator")
    page = browser_page
    base = live_server.url

    # Log in through the login page, landing on the org tree.
    page.goto(f"{base}/accounts/login/?next=/orgs/")
    page.fill("#id_username", "zs_officer")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/orgs/$"))
    expect(page.locator(".page-header h1")).to_contain_text("中山区")
    expect(page.locator(".split-main table.table")).to_contain_text("青泥洼桥街道")
    expect(page.locator("body")).not_to_contain_text("西岗区")

    # The tree search narrows to matching units without leaving the page (htmx).
    page.fill(".split-side input[name=q]", "友好")
    expect(page.locator("#tree-panel")).to_contain_text("友好社区")
    page.fill(".split-side input[name=q]", "")
    # Back to the tree: only the tree nests lists (the search answers a flat one).
    expect(page.locator("#tree-panel ul.tree ul")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    shot(page, "tree")

    # Drill down: the street in the tree, then its enterprises.
    page.locator("#tree-panel ul.tree a", has_text="青泥洼桥街道").click()
    page.wait_for_url(re.compile(rf"unit={city.street_a.pk}"))
    expect(page.locator(".page-header h1")).to_contain_text("青泥洼桥街道")
    expect(page.locator(".split-main")).to_contain_text("友好社区")
    expect(page.locator(".breadcrumbs")).to_contain_text("中山区")
    page.locator(".page-actions a", has_text="企业名录").click()
    page.wait_for_url(re.compile(r"/orgs/enterprises/\?unit="))
    expect(page.locator("table.table")).to_contain_text("大连友好软件有限公司")
    expect(page.locator(".pagination")).to_contain_text("共 3 条")
    shot(page, "list")

    page.locator("table.table a", has_text="大连友好软件有限公司").first.click()
    page.wait_for_url(re.compile(rf"/orgs/enterprises/{target.pk}/"))
    expect(page.locator(".page-header h1")).to_contain_text("未建会")
    shot(page, "detail")

    # Edit: the headcount changes from a given day.
    page.locator(".page-actions a", has_text="编辑").click()
    page.wait_for_url(re.compile(rf"/orgs/enterprises/{target.pk}/edit/"))
    page.fill("#id_headcount", "95")
    page.fill("#id_effective_on", "2024-03-01")
    shot(page, "form")
    page.locator(".form-actions button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/orgs/enterprises/{target.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("企业信息已保存")
    expect(page.locator("dl.facts").first).to_contain_text("95")

    # The history tab, last of the tabs, shows the change and who made it.
    tabs = page.locator("nav.tabs a")
    expect(tabs.last).to_have_text("变更记录")
    tabs.last.click()
    page.wait_for_url(re.compile(r"tab=history"))
    history = page.locator(".history").first
    expect(history).to_contain_text("zs_officer")
    expect(history).to_contain_text("95")
    expect(page.locator(".card")).to_contain_text(["2024-03-01"])
    shot(page, "history")

    # The union that covers the street's other enterprise, from the union list.
    page.locator(".sidebar a", has_text="工会").first.click()
    expect(page.locator("table.table")).to_contain_text("大连青泥洼商贸有限公司工会委员会")
    page.locator("table.table a", has_text="大连青泥洼商贸有限公司工会委员会").first.click()
    expect(page.locator("#coverages")).to_contain_text("大连青泥洼商贸有限公司")
    shot(page, "union")

    # The street's own page: its facts, its versions and history.
    page.goto(f"{base}/orgs/units/{city.street_a.pk}/")
    expect(page.locator(".page-header h1")).to_contain_text("青泥洼桥街道")
    expect(page.locator("body")).to_contain_text("历史沿革")
    shot(page, "unit")

    # Another district's enterprise is "not found", exactly like a missing one.
    response = page.goto(f"{base}/orgs/enterprises/{foreign.pk}/")
    assert response is not None and response.status == 404
    expect(page.locator("body")).not_to_contain_text("西岗区外部公司")
    shot(page, "not-found")
