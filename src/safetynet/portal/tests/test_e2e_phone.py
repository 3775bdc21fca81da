"""The platform in a phone browser (390 × 844, touch): a worker registers, proves who they are, applies to
join; the chair approves in a second (desktop) browser; the worker opens the e-card. Then the worker files
an appeal, an officer handles it, and the worker follows the steps and rates the outcome.
Headless Debian chromium; screenshots in /tmp/portal_shots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from safetynet.cases import services as case_services
from safetynet.cases.models import Case
from safetynet.portal.models import JoinApplication, WorkerAccount
from safetynet.portal.sweeps import notify_case_steps
from safetynet.portal.tests.helpers import PASSWORD, last_code

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/portal_shots")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def browser(monkeypatch):
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS, headless=True)
        yield browser
        browser.close()


def _phone(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def _staff(browser, base: str, user):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    client = Client()
    client.force_login(user)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base,
            }
        ]
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_register_join_card_and_appeal_on_a_phone(
    live_server, transactional_db, world, browser, settings, tmp_path
):
    from playwright.sync_api import expect

    settings.MEDIA_ROOT = tmp_path
    base = live_server.url
    mobile = "13812340001"
    person = world.people["王小明"]
    page = _phone(browser)

    page.goto(f"{base}/worker/register/")
    _no_horizontal_scroll(page)
    page.fill("#mobile", mobile)
    page.get_by_role("button", name="获取验证码").tap()
    expect(page.locator(".msg-success")).to_contain_text("验证码已发送")
    page.fill("#code", "000000" if last_code(mobile) != "000000" else "111111")
    page.fill("#password", PASSWORD)
    page.check("#consent")
    page.get_by_role("button", name="注册", exact=True).tap()
    expect(page.locator(".error")).to_contain_text("短信验证码不正确")
    expect(page.locator("#mobile")).to_have_value(mobile)
    _shot(page, "01-register-wrong-code")
    page.fill("#code", last_code(mobile))
    page.fill("#password", PASSWORD)
    page.check("#consent")
    page.get_by_role("button", name="注册", exact=True).tap()
    expect(page.get_by_role("heading", name="实名认证")).to_be_visible()
    page.fill("#name", "王大明")
    page.fill("#id_number", person["id_number"])
    page.get_by_role("button", name="提交认证").tap()
    expect(page.locator(".error")).to_contain_text("未能核验您的身份")
    expect(page.locator("#name")).to_have_value("王大明")
    _shot(page, "02-verify-no-match")
    page.fill("#name", "王小明")
    page.fill("#id_number", person["id_number"])
    page.get_by_role("button", name="提交认证").tap()
    expect(page.locator(".msg-success")).to_contain_text("实名认证成功")
    _shot(page, "03-home-verified")
    _no_horizontal_scroll(page)
    assert WorkerAccount.objects.get().person_id == person["person"].pk

    page.get_by_role("link", name="申请入会").first.tap()
    page.get_by_role("button", name="提交入会申请").tap()
    expect(page.locator(".now")).to_contain_text("正在审批中")
    _shot(page, "04-join-pending")

    chair = _staff(browser, base, world.chair)
    chair.goto(f"{base}/portal/join/")
    expect(chair.locator("table.table")).to_contain_text("王小明")
    _shot(chair, "05-chair-queue")
    chair.get_by_role("button", name="批准入会").click()
    expect(chair.locator(".messages, .message").first).to_contain_text("已处理")
    assert JoinApplication.objects.get().status == "approved"

    page.goto(f"{base}/worker/card/")
    expect(page.locator(".ecard")).to_contain_text("友好电子有限公司工会")
    expect(page.locator(".qr svg")).to_be_visible()
    _no_horizontal_scroll(page)
    _shot(page, "06-ecard")
    page.goto(f"{base}/worker/notifications/")
    expect(page.locator(".list")).to_contain_text("已批准")

    # The appeal: no description first, then a proper one with a file.
    page.goto(f"{base}/worker/appeals/new/")
    page.select_option("#category", "wage_arrears")
    page.get_by_role("button", name="提交诉求").tap()
    expect(page.locator(".error")).to_contain_text("请填写诉求内容")
    _shot(page, "07-appeal-refused")
    page.fill("#description", "公司拖欠 10 月、11 月工资共 9600 元，多次讨要未果。")
    pdf = tmp_path / "工资条.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%test\n")
    page.set_input_files("#files", str(pdf))
    page.get_by_role("button", name="提交诉求").tap()
    expect(page.locator(".now")).to_contain_text("前答复")
    _shot(page, "08-appeal-filed")
    case = Case.objects.get()
    assert case.channel == "platform" and case.caller_name == "王小明"

    officer = world.officer.__class__.objects.create_user(
        username="handler",
        password="Safetynet-test-1",
        org_unit=case.unit,
        role="operator",
        full_name="刘经办",
    )
    staff_page = _staff(browser, base, officer)
    staff_page.goto(f"{base}/cases/{case.pk}/")
    expect(staff_page.locator("body")).to_contain_text(case.number)
    expect(staff_page.locator("body")).to_contain_text("来自网络工会")
    _shot(staff_page, "09-officer-case")
    # The officer accepts it on the case page; the resolution is recorded through the case service.
    staff_page.locator("#action-accept summary").click()
    staff_page.locator("#action-accept button[type=submit]").click()
    expect(staff_page.locator("body")).to_contain_text("办理中")
    case.refresh_from_db()
    assert case.status == "in_progress"
    case_services.case_resolve(
        actor=officer, case=case, version=case.version, kind="mediated", agreement="企业补发工资"
    )
    notify_case_steps(timezone.now())

    page.goto(f"{base}/worker/appeals/{case.pk}/")
    expect(page.locator(".timeline")).to_contain_text("受理")
    expect(page.locator(".timeline")).to_contain_text("办结")
    page.locator("input[name=score][value='5']").check()
    page.fill("#comment", "工资已补发，谢谢工会")
    page.get_by_role("button", name="提交评价").tap()
    expect(page.locator("main")).to_contain_text("您的评价：5 星")
    _no_horizontal_scroll(page)
    _shot(page, "10-appeal-rated")
