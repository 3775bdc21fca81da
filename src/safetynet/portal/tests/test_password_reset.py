"""Forgotten password: a code to the registered number, then a new password; every other session ends.

Through the pages (worker/password-reset/…), the services and the API (/api/v1/me/password-reset/…), with
every refusal: wrong, expired, reused codes, too many tries, the shared SMS limits, weak passwords; an
unregistered number (or a staff login name) answers exactly like a registered one.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from safetynet.accounts.models import User
from safetynet.core.errors import ServiceError
from safetynet.core.models import AuditEntry
from safetynet.portal import ratelimit, services
from safetynet.portal.auth import token_for
from safetynet.portal.models import SmsCode, SmsPurpose, WorkerAccount, WorkerNotification
from safetynet.portal.sms import MemorySmsGateway
from safetynet.portal.tests.helpers import PASSWORD, last_code, make_account

NEW_PASSWORD = "Xin-Mima-2027"
MOBILE = "13920000001"
UNKNOWN = "13920000999"
RESET = reverse("portal:password_reset")
CONFIRM = reverse("portal:password_reset_confirm")


def registered(mobile: str, **kwargs: str) -> WorkerAccount:
    """A registered worker, and an empty SMS outbox (the registration code is not what these tests count)."""
    account = make_account(mobile, **kwargs)
    MemorySmsGateway.outbox = []
    return account


def sms_to(mobile: str) -> list[str]:
    return [text for number, text in MemorySmsGateway.outbox if number == mobile]


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def signed_in(mobile: str = MOBILE, password: str = PASSWORD) -> Client:
    client = Client()
    response = client.post(reverse("portal:login"), {"mobile": mobile, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def is_signed_in(client: Client) -> bool:
    return client.get(reverse("portal:home")).status_code == 200


def can_log_in(mobile: str, password: str) -> bool:
    try:
        services.worker_authenticate(mobile=mobile, password=password)
    except ServiceError:
        return False
    return True


def request_code(client: Client, mobile: str):
    return client.post(RESET, {"mobile": mobile}, follow=True)


def confirm(client: Client, code: str, password: str = NEW_PASSWORD, again: str | None = None):
    return client.post(
        CONFIRM, {"code": code, "password": password, "password_again": password if again is None else again}
    )


def fresh_limits() -> None:
    """A new minute for the per-number SMS limit (and nothing else kept)."""
    cache.clear()


# --- the way through ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_happy_path_through_the_pages(client, world):
    account = registered(MOBILE, name="王小明", id_number=world.people["王小明"]["id_number"])
    login_page = client.get(reverse("portal:login")).content.decode()
    assert f'href="{RESET}"' in login_page and "忘记密码" in login_page

    response = client.post(RESET, {"mobile": f" {MOBILE} "})
    assert response.status_code == 302 and response["Location"] == CONFIRM
    page = client.get(CONFIRM).content.decode()
    assert services.RESET_SENT_MESSAGE in page and "139****0001" in page and MOBILE not in page
    assert len(sms_to(MOBILE)) == 1

    response = confirm(client, last_code(MOBILE))
    assert response.status_code == 302 and response["Location"] == reverse("portal:login")
    assert services.RESET_DONE_MESSAGE in client.get(reverse("portal:login")).content.decode()
    assert can_log_in(MOBILE, NEW_PASSWORD) and not can_log_in(MOBILE, PASSWORD)
    # The reset is over: page 2 sends back to page 1.
    assert client.get(CONFIRM)["Location"] == RESET

    account.refresh_from_db()
    assert account.session_version == 2
    assert not SmsCode.objects.filter(purpose=SmsPurpose.RESET, used_at__isnull=True).exists()
    notes = list(
        AuditEntry.objects.filter(entity="portal.workeraccount", object_id=str(account.pk))
        .order_by("id")
        .values_list("note", "unit_path", "changes")
    )
    assert "申请重置密码" in notes[-2][0] and "重置密码" in notes[-1][0]
    assert notes[-1][1] == world.city.community_a.path  # the district sees it in its trail
    assert notes[-1][2]["会话版本"] == [1, 2] and NEW_PASSWORD not in str(notes[-1][2])
    assert WorkerNotification.objects.filter(account=account, text__contains="重置").exists()
    assert "密码已重置" in sms_to(MOBILE)[-1]  # the told-by-SMS notice, in case it was not the worker
    # Signing in with the new password works on the page too.
    assert signed_in(MOBILE, NEW_PASSWORD)


@pytest.mark.django_db
def test_unknown_number_answers_alike():
    registered(MOBILE)
    known, unknown = Client(), Client()
    answers = [request_code(known, MOBILE), request_code(unknown, UNKNOWN)]
    assert [a.status_code for a in answers] == [200, 200]
    assert [a.redirect_chain for a in answers] == [[(CONFIRM, 302)]] * 2

    def strip(html: str) -> str:
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
        for number in ("139****0001", "139****0999", MOBILE, UNKNOWN):
            html = html.replace(number, "N")
        return html

    assert strip(answers[0].content.decode()) == strip(answers[1].content.decode())
    assert services.RESET_SENT_MESSAGE in answers[1].content.decode()
    assert sms_to(UNKNOWN) == [] and len(sms_to(MOBILE)) == 1
    # A wrong code on page 2, a too-fast second request: the same answers again.
    wrong_code = wrong(last_code(MOBILE))
    pages = [confirm(known, wrong_code), confirm(unknown, wrong_code)]
    assert [p.status_code for p in pages] == [400, 400]
    assert strip(pages[0].content.decode()) == strip(pages[1].content.decode())
    assert "还可尝试 4 次" in pages[1].content.decode()
    again = [request_code(known, MOBILE), request_code(unknown, UNKNOWN)]
    assert [a.status_code for a in again] == [429, 429]
    assert strip(again[0].content.decode()) == strip(again[1].content.decode())
    # A number typed wrongly is about the input, and says so.
    response = Client().post(RESET, {"mobile": "12345"})
    assert response.status_code == 400 and "手机号应为 1 开头的 11 位数字" in response.content.decode()


# --- refusals of the code -----------------------------------------------------------------------


@pytest.mark.django_db
def test_wrong_code_is_refused_and_the_right_one_still_works(client):
    registered(MOBILE)
    request_code(client, MOBILE)
    code = last_code(MOBILE)
    response = confirm(client, wrong(code))
    html = response.content.decode()
    assert response.status_code == 400 and "短信验证码不正确，还可尝试 4 次" in html
    assert 'id="code-error"' in html and wrong(code) in html  # the code is kept, next to its message
    assert can_log_in(MOBILE, PASSWORD) and not can_log_in(MOBILE, NEW_PASSWORD)
    assert confirm(client, code).status_code == 302
    assert can_log_in(MOBILE, NEW_PASSWORD)


@pytest.mark.django_db
def test_expired_code(client):
    registered(MOBILE)
    request_code(client, MOBILE)
    SmsCode.objects.filter(purpose=SmsPurpose.RESET).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = confirm(client, last_code(MOBILE))
    assert response.status_code == 400 and "已过期" in response.content.decode()
    assert can_log_in(MOBILE, PASSWORD)
    # The same through the service, with a clock: a code lives SMS_CODE_MINUTES.
    fresh_limits()
    start = timezone.now()
    services.worker_password_reset_request(mobile=MOBILE, now=start)
    with pytest.raises(ServiceError) as caught:
        services.worker_password_reset(
            mobile=MOBILE,
            code=last_code(MOBILE),
            password=NEW_PASSWORD,
            password_again=NEW_PASSWORD,
            now=start + datetime.timedelta(minutes=services.SMS_CODE_MINUTES, seconds=1),
        )
    assert caught.value.code == "sms_expired"
    assert can_log_in(MOBILE, PASSWORD)


@pytest.mark.django_db
def test_reused_code(client):
    registered(MOBILE)
    request_code(client, MOBILE)
    code = last_code(MOBILE)
    assert confirm(client, code).status_code == 302
    # The same code again (through the service: the browser's reset is over) sets nothing.
    with pytest.raises(ServiceError) as caught:
        services.worker_password_reset(
            mobile=MOBILE, code=code, password="Third-Mima-2028", password_again="Third-Mima-2028"
        )
    assert caught.value.field == "code"
    assert can_log_in(MOBILE, NEW_PASSWORD) and not can_log_in(MOBILE, "Third-Mima-2028")
    # A newer code makes the older unusable too.
    fresh_limits()
    services.worker_password_reset_request(mobile=MOBILE)
    older = last_code(MOBILE)
    fresh_limits()
    services.worker_password_reset_request(mobile=MOBILE)
    newer = last_code(MOBILE)
    if older != newer:
        with pytest.raises(ServiceError):
            services.worker_password_reset(
                mobile=MOBILE, code=older, password="Third-Mima-2028", password_again="Third-Mima-2028"
            )
    # A registration code is no reset code.
    fresh_limits()
    services.sms_code_send(mobile=MOBILE, purpose=SmsPurpose.REGISTER)
    with pytest.raises(ServiceError):
        services.worker_password_reset(
            mobile=MOBILE,
            code=last_code(MOBILE),
            password="Third-Mima-2028",
            password_again="Third-Mima-2028",
        )
    assert can_log_in(MOBILE, NEW_PASSWORD)


@pytest.mark.django_db
def test_too_many_wrong_tries(client):
    registered(MOBILE)
    request_code(client, MOBILE)
    code = last_code(MOBILE)
    for left in (4, 3, 2, 1):
        assert f"还可尝试 {left} 次" in confirm(client, wrong(code)).content.decode()
    assert "错误次数过多" in confirm(client, wrong(code)).content.decode()
    response = confirm(client, code)  # the right code is dead now
    assert response.status_code == 400 and "错误次数过多" in response.content.decode()
    assert can_log_in(MOBILE, PASSWORD)
    # "Resend" on page 2 gives a new code (a minute later), and that one works.
    fresh_limits()
    page = client.post(CONFIRM, {"step": "resend"})
    assert page.status_code == 200 and services.RESET_SENT_MESSAGE in page.content.decode()
    assert last_code(MOBILE) and confirm(client, last_code(MOBILE)).status_code == 302
    assert can_log_in(MOBILE, NEW_PASSWORD)


# --- rate limits --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rate_limits_per_number_and_per_address(client):
    registered(MOBILE)
    digest = services.mobile_hash(MOBILE)
    # Per number: one a minute, shared with the registration code.
    services.sms_code_send(mobile=MOBILE, purpose=SmsPurpose.REGISTER)
    response = client.post(RESET, {"mobile": MOBILE})
    assert response.status_code == 429 and "1 分钟" in response.content.decode()
    # Five an hour: the fifth of the hour is refused after four more minutes.
    for _ in range(4):
        ratelimit.reset(ratelimit.SMS_PER_NUMBER_MINUTE, digest)
        services.worker_password_reset_request(mobile=MOBILE)
    ratelimit.reset(ratelimit.SMS_PER_NUMBER_MINUTE, digest)
    with pytest.raises(ServiceError) as caught:
        services.worker_password_reset_request(mobile=MOBILE)
    assert caught.value.code == "rate_limited" and "1 小时" in caught.value.message
    assert len(sms_to(MOBILE)) == 5  # one registration code, four reset codes
    # Per address: twenty an hour, registered numbers or not.
    fresh_limits()
    address = "203.0.113.7"
    for n in range(20):
        services.worker_password_reset_request(mobile=f"1392000{n:04d}", address=address)
    with pytest.raises(ServiceError) as caught:
        services.worker_password_reset_request(mobile="13920001999", address=address)
    assert caught.value.code == "rate_limited"
    page = client.post(RESET, {"mobile": "13920001999"}, REMOTE_ADDR=address)
    assert page.status_code == 429 and "过于频繁" in page.content.decode()
    assert Client().post(RESET, {"mobile": "13920001999"}, REMOTE_ADDR="203.0.113.8").status_code == 302


@pytest.mark.django_db
def test_wrong_codes_per_address_are_limited(client):
    """Guessing codes for many numbers from one address stops after twenty wrong ones in an hour."""
    registered(MOBILE)
    address = "198.51.100.4"
    services.worker_password_reset_request(mobile=MOBILE, address="192.0.2.1")
    code = last_code(MOBILE)
    for n in range(20):
        with pytest.raises(ServiceError):
            services.worker_password_reset(
                mobile=f"1393000{n:04d}",
                code="123456",
                password=NEW_PASSWORD,
                password_again=NEW_PASSWORD,
                address=address,
            )
    with pytest.raises(ServiceError) as caught:
        services.worker_password_reset(
            mobile=MOBILE, code=code, password=NEW_PASSWORD, password_again=NEW_PASSWORD, address=address
        )
    assert caught.value.code == "rate_limited"
    assert can_log_in(MOBILE, PASSWORD)
    assert SmsCode.objects.get(purpose=SmsPurpose.RESET, used_at__isnull=True).attempts == 0
    # Another address goes on.
    services.worker_password_reset(
        mobile=MOBILE, code=code, password=NEW_PASSWORD, password_again=NEW_PASSWORD, address="192.0.2.1"
    )
    assert can_log_in(MOBILE, NEW_PASSWORD)


@pytest.mark.django_db
def test_reset_lifts_the_login_lockout(client):
    registered(MOBILE)
    for _ in range(5):
        client.post(reverse("portal:login"), {"mobile": MOBILE, "password": "wrong-password"})
    assert not can_log_in(MOBILE, PASSWORD)
    request_code(client, MOBILE)
    assert confirm(client, last_code(MOBILE)).status_code == 302
    assert can_log_in(MOBILE, NEW_PASSWORD)


# --- the new password ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_weak_or_mismatched_password_costs_no_try(client):
    registered(MOBILE)
    request_code(client, MOBILE)
    code = last_code(MOBILE)
    for password, again, field, text in (
        ("12345678", "12345678", "password", "密码"),
        ("abc", "abc", "password", "密码"),
        ("password", "password", "password", "密码"),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "password_again", "两次输入的新密码不一致"),
    ):
        response = confirm(client, code, password, again)
        html = response.content.decode()
        assert response.status_code == 400 and text in html, (password, html[:1500])
        assert f'id="{field}-error"' in html and code in html  # the code is kept
        assert NEW_PASSWORD not in html and "12345678" not in html  # passwords are never echoed
    assert SmsCode.objects.get(purpose=SmsPurpose.RESET, used_at__isnull=True).attempts == 0
    assert can_log_in(MOBILE, PASSWORD)
    assert confirm(client, code).status_code == 302


# --- sessions -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_other_session_and_token_ends(world):
    account = registered(MOBILE)
    phone, tablet = signed_in(), signed_in()
    # A browser signed in both as staff and as this worker keeps its staff login.
    both = Client()
    both.force_login(world.officer)
    both.post(reverse("portal:login"), {"mobile": MOBILE, "password": PASSWORD})
    token = APIClient()
    token.credentials(HTTP_AUTHORIZATION=f"Worker {token_for(account)}")
    other = registered("13920000002")
    bystander = signed_in("13920000002")
    assert all(is_signed_in(c) for c in (phone, tablet, both, bystander))
    assert token.get("/api/v1/me/profile/").status_code == 200

    stranger = Client()
    request_code(stranger, MOBILE)
    assert confirm(stranger, last_code(MOBILE)).status_code == 302

    for client in (phone, tablet, both):
        response = client.get(reverse("portal:home"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))
    assert token.get("/api/v1/me/profile/").status_code in (401, 403)
    assert both.get(reverse("portal:join_queue")).status_code == 200  # staff login untouched
    assert is_signed_in(bystander)  # another worker's sessions untouched
    other.refresh_from_db()
    assert other.session_version == 1
    assert is_signed_in(signed_in(MOBILE, NEW_PASSWORD))


@pytest.mark.django_db
def test_signed_in_worker_and_fresh_visitor_are_sent_on(client):
    registered(MOBILE)
    sent = len(MemorySmsGateway.outbox)
    worker = signed_in()
    assert worker.get(RESET)["Location"] == reverse("portal:home")
    assert worker.get(CONFIRM)["Location"] == reverse("portal:home")
    # Page 2 without page 1: back to page 1, nothing sent.
    response = client.post(
        CONFIRM, {"code": "123456", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == RESET
    assert client.post(CONFIRM, {"step": "resend"})["Location"] == RESET
    assert len(MemorySmsGateway.outbox) == sent
    assert not SmsCode.objects.filter(purpose=SmsPurpose.RESET).exists()
    # The number is kept encrypted in the session, never in clear.
    client.post(RESET, {"mobile": MOBILE})
    from django.contrib.sessions.models import Session

    assert not any(MOBILE in str(s.get_decoded()) for s in Session.objects.all())


# --- staff accounts -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_accounts_cannot_be_reset_through_it(client, world):
    staff_password = "Safetynet-staff-1"
    staff = User.objects.create_user(
        username="13920000888", password=staff_password, org_unit=world.city.zhongshan, role="operator"
    )
    # A staff login name that looks like a mobile number: answered like any unregistered number.
    response = request_code(client, "13920000888")
    assert response.status_code == 200 and services.RESET_SENT_MESSAGE in response.content.decode()
    assert sms_to("13920000888") == []
    for guess in ("000000", "123456"):
        response = confirm(client, guess)
        assert response.status_code == 400
    staff.refresh_from_db()
    assert staff.check_password(staff_password) and not staff.check_password(NEW_PASSWORD)
    # A worker with the same number: only the worker's password changes.
    fresh_limits()
    registered("13920000888")
    other = Client()
    request_code(other, "13920000888")
    assert confirm(other, last_code("13920000888")).status_code == 302
    staff.refresh_from_db()
    assert staff.check_password(staff_password)
    assert can_log_in("13920000888", NEW_PASSWORD)
    # A staff member signed in (as staff only) gets no special way: the page is the anonymous one.
    officer = Client()
    officer.force_login(world.officer)
    assert officer.get(RESET).status_code == 200
    assert officer.get(CONFIRM)["Location"] == RESET
    assert not WorkerAccount.objects.filter(mobile_hash=services.mobile_hash(world.officer.username)).exists()


# --- API ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_reset_for_anonymous_callers():
    account = registered(MOBILE)
    api = APIClient()
    old_token = token_for(account)
    url, confirm_url = "/api/v1/me/password-reset/", "/api/v1/me/password-reset/confirm/"
    known = api.post(url, {"mobile": MOBILE}, format="json")
    unknown = api.post(url, {"mobile": UNKNOWN}, format="json")
    assert known.status_code == unknown.status_code == 200 and known.json() == unknown.json()
    assert known.json() == {"detail": services.RESET_SENT_MESSAGE}
    too_fast = api.post(url, {"mobile": MOBILE}, format="json")
    assert too_fast.status_code == 429
    assert too_fast.json()["code"] == "rate_limited" and "1 分钟" in too_fast.json()["detail"]
    assert api.post(url, {"mobile": "123"}, format="json").status_code == 400
    assert api.post(url, ["not", "an", "object"], format="json").status_code == 400

    body = {"mobile": MOBILE, "code": wrong(last_code(MOBILE)), "password": NEW_PASSWORD}
    missing = api.post(confirm_url, body, format="json")
    assert missing.status_code == 400 and missing.json()["field"] == "password_again"
    body["password_again"] = NEW_PASSWORD
    refused = api.post(confirm_url, body, format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "code"
    assert "还可尝试 4 次" in refused.json()["detail"]
    weak = api.post(
        confirm_url, {**body, "password": "12345678", "password_again": "12345678"}, format="json"
    )
    assert weak.status_code == 400 and weak.json()["field"] == "password"
    done = api.post(confirm_url, {**body, "code": last_code(MOBILE)}, format="json")
    assert done.status_code == 200 and done.json() == {"detail": services.RESET_DONE_MESSAGE}
    worker = APIClient()
    worker.credentials(HTTP_AUTHORIZATION=f"Worker {old_token}")
    assert worker.get("/api/v1/me/profile/").status_code in (401, 403)
    token = api.post("/api/v1/me/token/", {"mobile": MOBILE, "password": NEW_PASSWORD}, format="json")
    assert token.status_code == 200
    # Staff credentials change nothing: the endpoints take no authentication at all.
    cache.clear()
    staff = APIClient()
    staff.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert staff.post(url, {"mobile": MOBILE}, format="json").status_code == 200


@pytest.mark.django_db
def test_openapi_documents_the_reset_answers(client):
    schema = client.get("/api/schema/?format=json").json()
    for path in ("/api/v1/me/password-reset/", "/api/v1/me/password-reset/confirm/"):
        responses = schema["paths"][path]["post"]["responses"]
        assert {"200", "400", "429"} <= set(responses), (path, sorted(responses))
        assert responses["429"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


# --- the pages themselves -----------------------------------------------------------------------


@pytest.mark.django_db
def test_reset_pages_are_light_and_labelled(client):
    registered(MOBILE)
    pages = [client.get(RESET)]
    client.post(RESET, {"mobile": MOBILE})
    pages.append(client.get(CONFIRM))
    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        total = len(response.content)
        for asset in re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html):
            total += Path(finders.find(asset.removeprefix("/static/"))).stat().st_size
        assert total < 150 * 1024
        assert "<script>" not in html and 'lang="zh-CN"' in html and "<h2>" in html
        for field_id in re.findall(r'<input[^>]+id="([^"]+)"', html):
            assert f'for="{field_id}"' in html, field_id
        assert 'autocomplete="new-password"' in html or 'autocomplete="tel"' in html


# --- in a phone browser -------------------------------------------------------------------------

CHROMIUM_ARGS = [
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
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


def phone(browser):
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


def shot(page, name: str) -> None:
    page.screenshot(path=f"/tmp/reset_{name}.png", full_page=True)


def no_horizontal_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.browser
def test_reset_on_a_phone_ends_the_other_device(live_server, transactional_db, browser):
    from playwright.sync_api import expect

    base = live_server.url
    registered(MOBILE)
    # The worker's other device (an old phone): signed in.
    other = phone(browser)
    other.goto(f"{base}/worker/login/")
    other.fill("#mobile", MOBILE)
    other.fill("#password", PASSWORD)
    other.get_by_role("button", name="登录").tap()
    expect(other.get_by_role("link", name="我的会员卡")).to_be_visible()

    page = phone(browser)
    page.goto(f"{base}/worker/login/")
    shot(page, "01_login")
    page.get_by_role("link", name="忘记密码").tap()
    expect(page.get_by_role("heading", name="忘记密码")).to_be_visible()
    no_horizontal_scroll(page)
    page.fill("#mobile", "1392000")
    page.get_by_role("button", name="获取验证码").tap()
    expect(page.locator("#mobile-error")).to_contain_text("手机号")
    shot(page, "02_request_refused")
    page.fill("#mobile", MOBILE)
    page.get_by_role("button", name="获取验证码").tap()
    expect(page.get_by_role("heading", name="设置新密码")).to_be_visible()
    expect(page.locator(".msg-success")).to_contain_text("如果该手机号已注册，验证码已发送")
    expect(page.locator(".lead")).to_contain_text("139****0001")
    no_horizontal_scroll(page)
    shot(page, "03_code_sent")
    code = last_code(MOBILE)

    page.fill("#code", wrong(code))
    page.fill("#password", NEW_PASSWORD)
    page.fill("#password_again", NEW_PASSWORD)
    page.get_by_role("button", name="重置密码").tap()
    expect(page.locator("#code-error")).to_contain_text("还可尝试 4 次")
    expect(page.locator("#code")).to_have_value(wrong(code))
    expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")
    shot(page, "04_wrong_code")

    page.fill("#code", code)
    page.fill("#password", "12345678")
    page.fill("#password_again", "12345678")
    page.get_by_role("button", name="重置密码").tap()
    expect(page.locator("#password-error")).to_contain_text("密码")
    no_horizontal_scroll(page)
    shot(page, "05_weak_password")

    page.fill("#password", NEW_PASSWORD)
    page.fill("#password_again", NEW_PASSWORD)
    page.get_by_role("button", name="重置密码").tap()
    expect(page.get_by_role("heading", name="职工登录")).to_be_visible()
    expect(page.locator(".msg-success")).to_contain_text("密码已重置")
    shot(page, "06_done")
    page.fill("#mobile", MOBILE)
    page.fill("#password", NEW_PASSWORD)
    page.get_by_role("button", name="登录").tap()
    expect(page.get_by_role("link", name="我的会员卡")).to_be_visible()
    page.goto(f"{base}/worker/notifications/")
    expect(page.locator("main")).to_contain_text("用短信验证码重置")
    shot(page, "07_notified")

    # The other device is signed out.
    other.goto(f"{base}/worker/")
    expect(other.get_by_role("heading", name="职工登录")).to_be_visible()
    shot(other, "08_other_device")
    assert can_log_in(MOBILE, NEW_PASSWORD) and not can_log_in(MOBILE, PASSWORD)
