"""The scenarios of the cases issue in a real browser (headless Debian chromium through Playwright).

(a) A hotline operator takes an anonymous call about three months of wage arrears at a community enterprise;
the community mediator accepts it, fails and hands it up; the street accepts and mediates it with an
agreement; a follow-up call records satisfaction. (b) A hazard report gets a rectification owner and a
deadline, cannot be closed before verification, then is verified and closed.
Screenshots of the intake, the queue and the case go to docs/screenshots/cases-*.png.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone

from safetynet.cases.models import Case, CaseStatus, CaseStep, OutcomeKind, StepAction
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code

PASSWORD = "Safetynet-test-1"
SCREENSHOTS = Path(__file__).resolve().parents[4] / "docs" / "screenshots"

pytestmark = pytest.mark.browser


@pytest.fixture
def site(live_server, transactional_db, city, make_staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SAFETYNET_SMS_BACKEND = "safetynet.cases.notifications.MemorySmsBackend"
    enterprise = EnterpriseFactory(
        org_unit=city.community_a, credit_code=make_credit_code(101), name="友好服装有限公司"
    )
    staff = {
        "hotline": make_staff("hotline", city.city, "operator"),
        "community": make_staff("community", city.community_a, "operator"),
        "street": make_staff("street", city.street_a, "operator"),
    }
    return live_server.url, enterprise, staff


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # A viewport as tall as the page, so the sticky top bar stays at the top of the picture.
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": max(900, height)})
    page.screenshot(path=str(SCREENSHOTS / f"cases-{name}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})


class Browser:
    def __init__(self, page, base: str) -> None:
        self.page, self.base = page, base

    def login(self, username: str, path: str) -> None:
        self.page.context.clear_cookies()
        self.page.goto(f"{self.base}/accounts/login/?next={path}")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(re.compile(re.escape(path) + "$"))

    def act(
        self, slug: str, fields: dict[str, str] | None = None, *, check: dict[str, str] | None = None
    ) -> None:
        """Open the step's small form, fill it in and submit it; wait for the case page to come back."""
        page = self.page
        if page.locator(f"#action-{slug}[open]").count() == 0:
            page.locator(f"#action-{slug} > summary").click()
        for name, value in (fields or {}).items():
            selector = f"#id_{slug}-{name}"
            if page.locator(selector).evaluate("e => e.tagName") == "SELECT":
                page.select_option(selector, value)
            else:
                page.fill(selector, value)
        for name, value in (check or {}).items():
            page.check(f"#action-{slug} input[name='{slug}-{name}'][value='{value}']")
        with page.expect_navigation():
            page.locator(f"#action-{slug} button[type=submit]").click()


def test_anonymous_wage_arrears_call_up_the_ladder_to_a_mediated_outcome(site, chromium_page):
    from playwright.sync_api import expect

    base, enterprise, staff = site
    browser = Browser(chromium_page, base)
    page = chromium_page

    # The hotline operator types the call into the one-screen form.
    browser.login("hotline", "/cases/intake/")
    page.select_option("#id_channel", "hotline")
    page.fill("#id_enterprise_query", "友好服装")
    page.locator("#enterprise-suggestions button", has_text="友好服装有限公司").click()
    expect(page.locator("#chosen-enterprise")).to_contain_text("友好服装有限公司")
    page.select_option("#id_category", "wage_arrears")
    page.fill("#id_workers_involved", "1")
    page.fill("#id_claim_amount", "15000")
    page.fill("#id_description", "企业已连续三个月（6、7、8 月）未发工资，共 15000 元。")
    page.check("#id_anonymous")
    page.fill("#id_caller_phone", "139 1234 5678")
    page.set_input_files(
        "#id_attachments", files=[{"name": "工资条.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8jpeg"}]
    )
    shot(page, "intake")
    with page.expect_navigation():
        page.locator("#intake-form button[type=submit]").click()

    case = Case.objects.get()
    assert case.anonymous and case.caller_name == "" and case.caller_phone_masked == "139****5678"
    assert (case.unit.name, case.level) == ("友好社区", 4)
    assert case.deadline - case.level_since == datetime.timedelta(days=15)
    expect(page.locator(".page-header h1")).to_contain_text(case.number)
    expect(page.locator("#case-facts")).to_contain_text("友好社区")
    expect(page.locator("#case-facts")).to_contain_text("社区级")
    expect(page.locator("#case-facts")).to_contain_text(f"{timezone.localtime(case.deadline):%Y-%m-%d}")
    expect(page.locator(".ladder li.current")).to_contain_text("友好社区")
    assert case.attachments.count() == 1

    # The community mediator: accept, one failed meeting, hand up.
    browser.login("community", "/cases/")
    expect(page.locator("nav.tabs a.active")).to_contain_text("待受理")
    expect(page.locator("table.table")).to_contain_text(case.number)
    expect(page.locator("table.table .badge", has_text="按期")).to_be_visible()
    shot(page, "queue")
    page.locator("table.table a", has_text=case.number).click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    browser.act("accept")
    expect(page.locator(".messages")).to_contain_text("已受理")
    browser.act("mediation", {"note": "9 月 5 日约双方到社区调解，企业负责人拒绝支付，调解不成。"})
    browser.act("hand_up", {"reason": "企业拒不支付，社区调解不成，请街道协调。"})
    case.refresh_from_db()
    assert (case.unit.name, case.status) == ("青泥洼桥街道", CaseStatus.NEW)
    assert case.escalations.get().note.startswith("企业拒不支付")

    # The street accepts and mediates it, within its own 15 days.
    browser.login("street", "/cases/?tab=escalated")
    expect(page.locator("table.table")).to_contain_text(case.number)
    page.goto(f"{base}/cases/{case.pk}/")
    expect(page.locator("#timeline")).to_contain_text("企业拒不支付，社区调解不成")
    browser.act("accept")
    browser.act(
        "resolve",
        {
            "kind": "mediated",
            "agreement": "企业于 9 月 30 日前一次性支付拖欠工资 15000 元。",
            "amount_recovered": "15000",
        },
    )
    case.refresh_from_db()
    assert (case.status, case.outcome_kind, case.closed_on_time) == (
        CaseStatus.CLOSED,
        OutcomeKind.MEDIATED,
        True,
    )
    outcome = case.outcomes.get()
    assert (outcome.unit.name, outcome.amount_recovered) == ("青泥洼桥街道", 15000)

    # The hotline calls the worker back.
    browser.login("hotline", f"/cases/{case.pk}/")
    browser.act("follow_up", {"satisfaction": "5", "note": "工资已全部到账，职工表示满意。"})
    assert case.follow_ups.get().satisfaction == 5
    expect(page.locator("#timeline")).to_contain_text("满意度 5")
    shot(page, "detail")
    actions = list(CaseStep.objects.filter(case=case).values_list("action", flat=True))
    assert actions == [
        StepAction.INTAKE,
        StepAction.ACCEPT,
        StepAction.MEDIATION_ATTEMPT,
        StepAction.HAND_UP,
        StepAction.ACCEPT,
        StepAction.RESOLVE,
        StepAction.FOLLOW_UP,
    ]


def test_hazard_report_is_closed_only_after_verification(site, chromium_page):
    from playwright.sync_api import expect

    base, enterprise, staff = site
    browser = Browser(chromium_page, base)
    page = chromium_page

    browser.login("hotline", "/cases/intake/?kind=hazard")
    expect(page.locator("#id_kind_1")).to_be_checked()
    page.select_option("#id_channel", "hotline")
    page.fill("#id_enterprise_query", "友好服装")
    page.locator("#enterprise-suggestions button", has_text="友好服装有限公司").click()
    page.select_option("#id_category", "safety")
    page.fill("#id_description", "车间消防通道被货物堵死，安全出口上锁。")
    page.fill("#id_caller_name", "李师傅")
    page.fill("#id_caller_phone", "13800001111")
    with page.expect_navigation():
        page.locator("#intake-form button[type=submit]").click()
    case = Case.objects.get()
    assert case.kind == "hazard"

    browser.login("community", f"/cases/{case.pk}/")
    # A hazard report has no "办结" of its own: it closes through verification.
    expect(page.locator("#action-resolve")).to_have_count(0)
    expect(page.locator("#action-verify")).to_have_count(0)
    deadline = timezone.localtime() + datetime.timedelta(days=7)
    page.locator("#action-rectification > summary").click()
    page.fill("#id_rectification-owner", "王厂长（生产副总）")
    shot(page, "hazard")
    browser.act("rectification", {"owner": "王厂长（生产副总）", "deadline": f"{deadline:%Y-%m-%dT%H:%M}"})
    case.refresh_from_db()
    assert (case.status, case.rectification_owner) == (CaseStatus.RECTIFYING, "王厂长（生产副总）")
    expect(page.locator("#action-resolve")).to_have_count(0)
    expect(page.locator("#case-facts")).to_contain_text("王厂长")

    browser.act("verify", {"note": "9 月 12 日现场检查：通道已清空，安全出口已开锁。"}, check={"passed": "1"})
    case.refresh_from_db()
    assert (case.status, case.outcome_kind) == (CaseStatus.CLOSED, OutcomeKind.RECTIFIED)
    assert case.verified_by.username == "community"
    expect(page.locator(".page-header h1")).to_contain_text("已办结")
