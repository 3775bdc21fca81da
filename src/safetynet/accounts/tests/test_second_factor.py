"""The TOTP second factor (django-otp): enrolment, the login's second step, SAFETYNET_REQUIRE_2FA, resets."""

from __future__ import annotations

import base64
import re
import time

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from safetynet.accounts import services
from safetynet.accounts.models import Role
from safetynet.accounts.views import ENROL_KEY_SESSION
from safetynet.core.errors import NotAllowed
from safetynet.core.models import AuditAction, AuditEntry

PASSWORD = "Safetynet-test-1"
SETUP = "/accounts/security/second-factor/"
VERIFY = "/accounts/login/code/"


def code(key: str, steps_ahead: int = 0) -> str:
    totp = TOTP(bytes.fromhex(key), step=30, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def log_in(client, username: str):
    return client.post(reverse("accounts:login"), {"username": username, "password": PASSWORD})


def enrol(client) -> str:
    """Enrol through the page; returns the device's key."""
    page = client.get(SETUP)
    assert page.status_code == 200
    key = client.session[ENROL_KEY_SESSION]
    response = client.post(SETUP, {"action": "enrol", "token": code(key)})
    assert response.status_code == 302, response.content.decode()
    return key


@pytest.fixture
def officer(city, make_staff):
    return make_staff("zs_op", city.zhongshan, Role.OPERATOR)


def test_the_setup_page_shows_a_qr_code_of_the_otpauth_address(client, officer):
    client.force_login(officer)
    html = client.get(SETUP).content.decode()
    key = client.session[ENROL_KEY_SESSION]
    secret = base64.b32encode(bytes.fromhex(key)).decode()
    assert "<svg" in html and 'class="segno"' in html
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html
    device = TOTPDevice(user=officer, key=key)
    assert device.config_url.startswith("otpauth://totp/") and f"secret={secret}" in device.config_url
    assert (
        "%E8%81%8C%E5%B7%A5%E7%BB%B4%E6%9D%83%E5%AE%89%E5%85%A8%E7%BD%91" in device.config_url
    )  # the issuer
    # Nothing is stored until the user confirms with a code.
    assert not TOTPDevice.objects.exists()
    # Reloading keeps the same secret (a phone that scanned it stays valid).
    client.get(SETUP)
    assert client.session[ENROL_KEY_SESSION] == key


def test_enrol_needs_the_current_code(client, officer):
    client.force_login(officer)
    client.get(SETUP)
    key = client.session[ENROL_KEY_SESSION]
    wrong = f"{(int(code(key)) + 1) % 1000000:06d}"
    response = client.post(SETUP, {"action": "enrol", "token": wrong})
    assert response.status_code == 400
    assert "动态口令不正确" in response.content.decode()
    assert not TOTPDevice.objects.exists()
    response = client.post(SETUP, {"action": "enrol", "token": code(key)})
    assert response.status_code == 302
    device = TOTPDevice.objects.get()
    assert device.user == officer and device.confirmed and device.key == key
    entry = AuditEntry.objects.get(entity="accounts.user", action=AuditAction.UPDATE)
    assert entry.changes == {"second_factor": ["未启用", "已启用"]} and entry.actor == officer


@pytest.fixture
def no_throttle(settings):
    """django-otp waits 1, 2, 4 … seconds after each wrong code; tests that are not about that skip the wait."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def test_login_then_asks_for_the_code(client, officer, no_throttle):
    client.force_login(officer)
    key = enrol(client)
    client.post(reverse("accounts:logout"))

    response = log_in(client, "zs_op")
    assert response.status_code == 302
    # Every page now leads to the code first, keeping where the user wanted to go.
    target = reverse("orgs:enterprise_list")
    response = client.get(target)
    assert response.status_code == 302 and response["Location"] == f"{VERIFY}?next=%2Forgs%2Fenterprises%2F"
    assert client.get("/api/v1/me/").status_code == 403
    assert client.get("/api/v1/me/").json()["code"] == "second_factor_required"
    htmx = client.get(target, HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"].startswith(VERIFY)
    page = client.get(response["Location"])
    assert page.status_code == 200 and "输入动态口令" in page.content.decode()

    # The code used to enrol cannot be replayed; a wrong code is refused and recorded.
    response = client.post(VERIFY, {"token": code(key), "next": target})
    assert response.status_code == 400 and "动态口令不正确" in response.content.decode()
    response = client.post(VERIFY, {"token": code(key, steps_ahead=1), "next": target})
    assert response.status_code == 302 and response["Location"] == target
    assert client.get(target).status_code == 200
    trail = list(
        AuditEntry.objects.filter(
            entity="accounts.user", action__in=[AuditAction.LOGIN, AuditAction.LOGIN_FAILED]
        )
        .order_by("pk")
        .values_list("action", "note")
    )
    assert trail[-3:] == [
        (AuditAction.LOGIN, "密码正确，待输入动态口令"),
        (AuditAction.LOGIN_FAILED, "动态口令不正确"),
        (AuditAction.LOGIN, "动态口令正确"),
    ]


def test_wrong_codes_are_throttled(client, officer):
    client.force_login(officer)
    key = enrol(client)
    client.post(reverse("accounts:logout"))
    log_in(client, "zs_op")
    wrong = f"{(int(code(key, 1)) + 7) % 1000000:06d}"
    client.post(VERIFY, {"token": wrong})
    # The next try within a second is refused without checking, with how long to wait.
    response = client.post(VERIFY, {"token": code(key, steps_ahead=1)})
    assert response.status_code == 400
    assert re.search(r"动态口令错误次数过多，请 \d+ 秒后再试", response.content.decode())


def test_stopping_the_second_factor_needs_a_code(client, officer, no_throttle):
    client.force_login(officer)
    key = enrol(client)
    response = client.post(SETUP, {"action": "remove", "token": "000000"})
    assert response.status_code == 400 and TOTPDevice.objects.exists()
    response = client.post(SETUP, {"action": "remove", "token": code(key, steps_ahead=1)})
    assert response.status_code == 302 and not TOTPDevice.objects.exists()


def test_city_admin_must_enrol_when_required(client, city, make_staff, settings):
    settings.REQUIRE_2FA = True
    make_staff("city_boss", city.city, Role.CITY_ADMIN)
    make_staff("zs_op", city.zhongshan, Role.OPERATOR)
    log_in(client, "city_boss")
    response = client.get(reverse("accounts:staff_list"))
    assert response.status_code == 302 and response["Location"].startswith(SETUP)
    assert client.get("/admin/").status_code == 302
    assert client.get("/api/v1/me/").status_code == 403
    page = client.get(response["Location"])
    assert "市级管理员须启用动态口令后才能继续使用系统。" in page.content.decode()
    key = client.session[ENROL_KEY_SESSION]
    response = client.post(
        SETUP, {"action": "enrol", "token": code(key), "next": reverse("accounts:staff_list")}
    )
    assert response["Location"] == reverse("accounts:staff_list")
    assert client.get(reverse("accounts:staff_list")).status_code == 200
    # A city administrator cannot switch it off while it is required.
    response = client.post(SETUP, {"action": "remove", "token": code(key, steps_ahead=1)})
    assert TOTPDevice.objects.filter(user__username="city_boss").exists()
    # Other roles are not forced.
    client.post(reverse("accounts:logout"))
    log_in(client, "zs_op")
    assert client.get(reverse("orgs:enterprise_list")).status_code == 200


def test_not_required_by_default(client, city, make_staff):
    make_staff("city_boss", city.city, Role.CITY_ADMIN)
    log_in(client, "city_boss")
    assert client.get(reverse("accounts:staff_list")).status_code == 200


def test_the_api_token_needs_the_code_too(client, officer, no_throttle):
    client.force_login(officer)
    key = enrol(client)
    client.post(reverse("accounts:logout"))
    url = "/api/v1/auth/token/"
    response = client.post(url, {"username": "zs_op", "password": PASSWORD})
    assert response.status_code == 400 and response.json()["code"] == "second_factor_required"
    response = client.post(url, {"username": "zs_op", "password": PASSWORD, "otp_token": "000000"})
    assert response.status_code == 400 and response.json()["code"] == "second_factor_invalid"
    response = client.post(url, {"username": "zs_op", "password": PASSWORD, "otp_token": code(key, 1)})
    assert response.status_code == 200 and response.json()["token"]


def test_a_required_city_admin_without_a_device_gets_no_token(client, city, make_staff, settings):
    settings.REQUIRE_2FA = True
    make_staff("city_boss", city.city, Role.CITY_ADMIN)
    response = client.post("/api/v1/auth/token/", {"username": "city_boss", "password": PASSWORD})
    assert response.status_code == 403 and "须先在网页上启用动态口令" in response.json()["detail"]


def test_a_manager_resets_a_lost_phone(client, city, make_staff, officer):
    client.force_login(officer)
    enrol(client)
    admin = make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN)
    outsider = make_staff("xg_admin", city.xigang, Role.UNIT_ADMIN)
    url = reverse("accounts:staff_second_factor_reset", args=[officer.pk])
    client.force_login(outsider)
    assert client.post(url).status_code == 404
    client.force_login(admin)
    listing = client.get(reverse("accounts:staff_list")).content.decode()
    assert "重置动态口令" in listing
    response = client.post(url)
    assert response.status_code == 302 and not TOTPDevice.objects.exists()
    entry = AuditEntry.objects.filter(entity="accounts.user", action=AuditAction.UPDATE).latest("pk")
    assert entry.actor == admin and entry.changes == {"second_factor": ["已启用", "未启用"]}


def test_only_the_user_enrols_their_own_device(officer, city, make_staff):
    admin = make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN)
    key = "3132333435363738393031323334353637383930"
    with pytest.raises(NotAllowed):
        services.second_factor_enrol(actor=admin, user=officer, key=key, token=code(key))
