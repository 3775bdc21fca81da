"""A wage-specific contract from offer to in force, across two accounts, in a real browser.

The chair of a community union records the offer, bargaining and the draft and submits it; the officer of the
street above returns it with comments; the chair resubmits; the officer passes it; the chair records the
congress vote, the signing and the filing (the bureau received it 30 days ago); the daily sweep finds the
15 days passed and the contract in force. Screenshots go to docs/screenshots/programmes-*.png.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from safetynet.orgs.tests.factories import UnionFactory
from safetynet.programmes.models import CollectiveContract, ContractStatus
from safetynet.programmes.tests.helpers import make_actors

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
def browser_page(monkeypatch, settings, tmp_path):
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run inside one unless told.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.MEDIA_ROOT = tmp_path
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
    page.screenshot(path=str(SCREENSHOTS / f"programmes-{name}.png"), full_page=True)


def day(offset: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=offset)).isoformat()


def test_wage_contract_from_offer_to_in_force_across_chair_and_street_officer(
    live_server, transactional_db, city, make_staff, browser_page
):
    from playwright.sync_api import expect

    actors = make_actors(city, make_staff)
    UnionFactory(
        name="友好机械有限公司工会委员会", org_unit=city.community_a, enterprises=[actors.enterprise]
    )
    page, base = browser_page, live_server.url

    def login(username: str, path: str) -> None:
        page.goto(f"{base}/accounts/login/?next={path}")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(re.escape(path.split("?")[0])))

    def logout() -> None:
        page.locator("form.logout button").click()
        page.wait_for_url(re.compile(r"/accounts/login/"))

    def submit_step(label: str) -> None:
        page.locator("#next-step button[type=submit]", has_text=label).click()
        page.wait_for_load_state("networkidle")

    # The chair finds the enterprise on the work list and sends the offer from there.
    login("chair", "/programmes/worklist/")
    expect(page.locator("table.table")).to_contain_text("友好机械有限公司")
    shot(page, "worklist")
    page.locator("table.table a", has_text="发出要约").first.click()
    page.wait_for_url(re.compile(r"/programmes/contracts/new/"))
    expect(page.locator("#id_enterprise_codes")).to_have_value(actors.enterprise.credit_code)
    page.select_option("#id_kind", "wage")
    page.fill("#id_offered_on", day(-60))
    page.set_input_files(
        "#id_attachment",
        files=[{"name": "要约书.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 offer"}],
    )
    shot(page, "offer")
    page.locator("form button[type=submit]", has_text="登记要约").click()
    page.wait_for_url(re.compile(r"/programmes/contracts/\d+/$"))
    contract = CollectiveContract.objects.get()
    expect(page.locator(".page-header h1")).to_contain_text("友好机械有限公司工资专项集体合同")
    expect(page.locator(".stepbar li.done")).to_have_count(1)

    page.fill("#id_on", day(-55))
    submit_step("登记开始协商")
    page.check("input[name=clauses][value=wages]")
    page.check("input[name=clauses][value=hours]")
    page.fill("#id_wage_rise_percent", "8.5")
    page.fill("#id_on", day(-50))
    page.set_input_files(
        "#id_attachment",
        files=[{"name": "草案.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 draft"}],
    )
    submit_step("提交预审")
    expect(page.locator("main")).to_contain_text("等待上级工会“青泥洼桥街道”预审")
    expect(page.locator("#next-step form")).to_have_count(0)
    shot(page, "submitted")
    logout()

    # The street officer returns the draft with comments.
    login("street", "/programmes/review/")
    expect(page.locator("table.table")).to_contain_text("友好机械有限公司工资专项集体合同")
    shot(page, "review-queue")
    page.locator("table.table a", has_text="预审").last.click()
    page.wait_for_url(re.compile(rf"/programmes/contracts/{contract.pk}/"))
    page.check("input[name=decision][value=return]")
    page.fill("#id_on", day(-48))
    submit_step("提交预审意见")
    # Without comments the return is refused next to the field; then with them.
    expect(page.locator("#next-step .errorlist")).to_contain_text("请写明修改意见")
    page.fill("#id_comments", "工资增幅请与上年度经济效益挂钩，补充测算依据。")
    shot(page, "return")
    submit_step("提交预审意见")
    expect(page.locator(".stepbar li.warning")).to_contain_text("预审")
    logout()

    # The chair resubmits; the officer passes it.
    login("chair", f"/programmes/contracts/{contract.pk}/")
    expect(page.locator("#steps")).to_contain_text("工资增幅请与上年度经济效益挂钩")
    page.fill("#id_wage_rise_percent", "9")
    page.fill("#id_on", day(-46))
    submit_step("提交预审")
    logout()
    login("street", f"/programmes/contracts/{contract.pk}/")
    page.check("input[name=decision][value=pass]")
    page.fill("#id_on", day(-45))
    submit_step("提交预审意见")
    expect(page.locator(".page-header h1")).to_contain_text("预审通过")
    logout()

    # The chair records the congress vote, the signing and the filing.
    login("chair", f"/programmes/contracts/{contract.pk}/")
    page.fill("#id_held_on", day(-40))
    page.fill("#id_representatives_total", "30")
    page.fill("#id_attended", "26")
    page.fill("#id_votes_for", "24")
    page.fill("#id_votes_against", "2")
    submit_step("登记职代会表决")
    expect(page.locator(".page-header h1")).to_contain_text("职代会审议通过")
    page.fill("#id_signed_on", day(-36))
    page.fill("#id_effective_on", day(-14))
    page.fill("#id_expires_on", day(2 * 365))
    submit_step("登记签订")
    page.fill("#id_filed_on", day(-30))
    page.set_input_files(
        "#id_attachment",
        files=[{"name": "备案回执.pdf", "mimeType": "application/pdf", "buffer": b"%PDF receipt"}],
    )
    submit_step("登记备案")
    expect(page.locator(".page-header h1")).to_contain_text("已备案")
    expect(page.locator(".card").first).to_contain_text(day(-14))  # deemed effective: receipt + 16 days

    # The daily sweep: the 15 days passed without objection and the term began — in force.
    call_command("sweep")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.IN_FORCE
    page.reload()
    expect(page.locator(".page-header h1")).to_contain_text("生效中")
    expect(page.locator(".stepbar li.done")).to_have_count(8)
    expect(page.locator(".stepbar")).to_contain_text("青泥洼桥街道")  # the pre-review by the street
    expect(page.locator("#steps a", has_text="下载")).to_have_count(3)
    shot(page, "in-force")

    # The enterprise page's 建制 tab shows the contract in force.
    page.goto(f"{base}/orgs/enterprises/{actors.enterprise.pk}/?tab=programmes")
    expect(page.locator("#programme-panel")).to_contain_text("工资集体协商：有合同生效")
    shot(page, "panel")
    page.goto(f"{base}/programmes/contracts/")
    expect(page.locator("table.table")).to_contain_text("生效中")
    shot(page, "list")
