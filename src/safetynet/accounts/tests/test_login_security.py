"""Staff login hardening: lockout (django-axes), the login trail, idle sessions, password rules.

The second factor (TOTP) is in test_second_factor.py.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import re
import subprocess
import sys
import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from safetynet.accounts.middleware import RENEWED_AT
from safetynet.accounts.models import Role
from safetynet.core.models import AuditAction, AuditEntry

PASSWORD = "Safetynet-test-1"
LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"


def attempt(client, username, password, address="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def login_trail(**filters):
    return list(
        AuditEntry.objects.filter(entity="accounts.user", **filters)
        .order_by("pk")
        .values_list("action", "actor_name", "address", "note")
    )


@pytest.fixture
def officer(city, make_staff):
    return make_staff("zs_op", city.zhongshan, Role.OPERATOR)


# ---- lockout ------------------------------------------------------------------------------------------------


def test_the_fifth_failure_locks_the_account_and_says_until_when(client, officer):
    for _ in range(4):
        response = attempt(client, "zs_op", "wrong-password")
        assert response.status_code == 200
        assert "账号或密码不正确" in response.content.decode()
    response = attempt(client, "zs_op", "wrong-password")
    html = response.content.decode()
    assert response.status_code == 429
    until = timezone.localtime(timezone.now() + datetime.timedelta(minutes=15))
    message = re.search(r"登录失败次数过多，账号已暂时锁定，请于 15 分钟后（(\d\d:\d\d) 后）再试", html)
    assert message, html
    shown = datetime.datetime.strptime(message.group(1), "%H:%M").time()
    assert (
        abs((datetime.datetime.combine(until.date(), shown) - until.replace(tzinfo=None)).total_seconds())
        < 120
        or shown.hour == 0
    )  # (midnight wrap)
    # The page is still the login page, with the account name kept.
    assert 'name="password"' in html and 'value="zs_op"' in html


def test_while_locked_even_the_right_password_is_refused(client, officer):
    for _ in range(5):
        attempt(client, "zs_op", "wrong-password")
    response = attempt(client, "zs_op", PASSWORD)
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_account_is_locked_from_every_address(client, officer):
    for number in range(5):
        attempt(client, "zs_op", "wrong-password", address=f"10.0.1.{number}")
    response = attempt(client, "zs_op", PASSWORD, address="10.9.9.9")
    assert response.status_code == 429


def test_colleagues_typos_behind_one_address_lock_nobody_else(client, city, make_staff):
    make_staff("zs_viewer", city.zhongshan, Role.VIEWER)
    for number in range(19):
        attempt(client, f"colleague{number % 4}", "wrong-password", address="10.6.6.6")
    assert attempt(client, "zs_viewer", PASSWORD, address="10.6.6.6").status_code == 302


def test_an_address_guessing_many_accounts_is_locked_out(client, city, make_staff):
    make_staff("zs_viewer", city.zhongshan, Role.VIEWER)
    for number in range(19):
        assert attempt(client, f"guess{number}", "wrong-password", address="10.6.6.6").status_code == 200
    # The twentieth failure from the address locks it.
    assert attempt(client, "guess19", "wrong-password", address="10.6.6.6").status_code == 429
    # Even a real account with its right password cannot log in from that address now …
    assert attempt(client, "zs_viewer", PASSWORD, address="10.6.6.6").status_code == 429
    # … while from another address it can.
    response = attempt(client, "zs_viewer", PASSWORD, address="10.7.7.7")
    assert response.status_code == 302


def test_the_lock_ends_after_the_cooloff(client, officer):
    for _ in range(5):
        attempt(client, "zs_op", "wrong-password")
    # Sixteen minutes later (the attempts are django-axes' public AccessAttempt records).
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))
    response = attempt(client, "zs_op", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)


def test_a_success_clears_earlier_failures(client, officer):
    for _ in range(4):
        attempt(client, "zs_op", "wrong-password")
    assert attempt(client, "zs_op", PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(4):
        assert attempt(client, "zs_op", "wrong-password").status_code == 200


def test_limit_and_cooloff_follow_the_settings(client, officer, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=3)
    assert attempt(client, "zs_op", "wrong-password").status_code == 200
    response = attempt(client, "zs_op", "wrong-password")
    assert response.status_code == 429
    assert "请于 3 分钟后" in response.content.decode()


def test_settings_come_from_the_environment(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SAFETYNET_", "DJANGO_"))}
    environment.update(
        SAFETYNET_HOME=str(tmp_path),
        SAFETYNET_LOGIN_FAILURE_LIMIT="7",
        SAFETYNET_LOGIN_COOLOFF_MINUTES="20",
        SAFETYNET_LOGIN_ADDRESS_FAILURE_LIMIT="50",
        SAFETYNET_SESSION_IDLE_MINUTES="10",
        SAFETYNET_REQUIRE_2FA="1",
        DJANGO_SETTINGS_MODULE="safetynet.settings",
    )
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps(["
        "s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds(), s.SESSION_COOKIE_AGE,"
        "'safetynet.accounts.middleware.SessionIdleMiddleware' in s.MIDDLEWARE, s.SESSION_EXPIRE_AT_BROWSER_CLOSE, s.REQUIRE_2FA,"
        "s.AXES_LOCKOUT_PARAMETERS, s.AUTHENTICATION_BACKENDS[0], s.MIDDLEWARE[-1], s.LOGIN_ADDRESS_FAILURE_LIMIT]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        7,
        1200.0,
        600,
        True,
        True,
        True,
        ["username", "ip_address"],
        "axes.backends.AxesStandaloneBackend",
        "axes.middleware.AxesMiddleware",
        50,
    ]


def test_the_test_client_login_still_works(client, officer):
    # The suite's backend lets client.login() (no request) through; real logins are checked above.
    assert client.login(username="zs_op", password=PASSWORD)
    assert client.get(reverse("orgs:enterprise_list")).status_code == 200


# ---- the API token endpoint ---------------------------------------------------------------------------------


def test_the_token_endpoint_is_locked_out_too(client, officer):
    for _ in range(4):
        response = client.post(TOKEN, {"username": "zs_op", "password": "wrong"}, REMOTE_ADDR="10.0.0.5")
        assert response.status_code == 400
    response = client.post(TOKEN, {"username": "zs_op", "password": "wrong"}, REMOTE_ADDR="10.0.0.5")
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "locked_out" and "请于 15 分钟后" in body["detail"]
    # The right password does not help while locked, from the API or the login page.
    response = client.post(TOKEN, {"username": "zs_op", "password": PASSWORD}, REMOTE_ADDR="10.0.0.5")
    assert response.status_code == 429
    assert attempt(client, "zs_op", PASSWORD, address="10.0.0.6").status_code == 429
    assert [row[0] for row in login_trail()] == [AuditAction.LOGIN_FAILED] * 4 + [
        AuditAction.LOCKOUT,
        AuditAction.LOGIN_FAILED,
        AuditAction.LOGIN_FAILED,
    ]


def test_the_token_endpoint_still_gives_a_token(client, officer):
    response = client.post(TOKEN, {"username": "zs_op", "password": PASSWORD})
    assert response.status_code == 200 and response.json()["token"]


# ---- the login trail ----------------------------------------------------------------------------------------


def test_login_and_logout_are_in_the_trail_with_the_address(client, officer):
    assert attempt(client, "zs_op", PASSWORD, address="10.1.2.3").status_code == 302
    client.post(reverse("accounts:logout"), REMOTE_ADDR="10.1.2.4")
    entries = AuditEntry.objects.filter(entity="accounts.user").order_by("pk")
    assert [(e.action, e.actor_id, e.address, e.object_id) for e in entries] == [
        (AuditAction.LOGIN, officer.pk, "10.1.2.3", str(officer.pk)),
        (AuditAction.LOGOUT, officer.pk, "10.1.2.4", str(officer.pk)),
    ]
    # Scoped like the account: 中山区's administrators see it, 西岗区's do not.
    assert all(e.unit_path == officer.org_unit.path for e in entries)


def test_the_address_behind_the_proxy_is_the_forwarded_one(client, officer):
    client.post(
        LOGIN,
        {"username": "zs_op", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="172.16.5.9",
    )
    assert login_trail() == [(AuditAction.LOGIN, "zs_op", "172.16.5.9", "")]


def test_failures_and_the_lockout_are_in_the_trail(client, officer):
    for _ in range(6):
        attempt(client, "zs_op", "wrong-password", address="10.2.2.2")
    attempt(client, "nobody", "wrong-password", address="10.3.3.3")
    trail = login_trail()
    assert [row[0] for row in trail] == [AuditAction.LOGIN_FAILED] * 4 + [
        AuditAction.LOCKOUT,
        AuditAction.LOGIN_FAILED,
        AuditAction.LOGIN_FAILED,
    ]
    assert trail[0] == (AuditAction.LOGIN_FAILED, "zs_op", "10.2.2.2", "账号或密码不正确（1/5）")
    assert trail[4][3].startswith("登录失败次数达到上限（每个账号 5 次、每个地址 20 次），锁定至 ")
    assert trail[5][3].startswith("锁定期间再次尝试，未核对密码即拒绝；锁定延至 ")
    # An account that does not exist is recorded as typed, with no record behind it.
    unknown = AuditEntry.objects.filter(entity="accounts.user").latest("pk")
    assert (unknown.object_id, unknown.object_repr, unknown.actor_id, unknown.unit_path) == (
        "",
        "nobody",
        None,
        "",
    )
    # Failures are not the account's own doing: no actor.
    assert not AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED, actor__isnull=False).exists()


def test_the_audit_page_lists_login_events(client, city, make_staff, officer):
    attempt(client, "zs_op", "wrong-password", address="10.4.4.4")
    admin = make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN)
    client.force_login(admin)
    html = client.get(reverse("shell:audit_list")).content.decode()
    assert "登录失败" in html and "10.4.4.4" in html


# ---- sessions -----------------------------------------------------------------------------------------------


def test_the_session_ends_after_30_idle_minutes_and_on_browser_close(client, officer):
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    response = attempt(client, "zs_op", PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["expires"] and not cookie["max-age"]  # a browser-session cookie
    key = client.session.session_key
    page = reverse("orgs:enterprise_list")

    def expiry() -> datetime.datetime:
        return Session.objects.get(session_key=key).expire_date

    # Within a minute of the last renewal a page does not write the session …
    before = expiry()
    assert client.get(page).status_code == 200
    assert expiry() == before
    # … after it, a page renews the full 30 minutes.
    store = SessionStore(key)
    store[RENEWED_AT] = int(time.time()) - 120
    store.save()
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + datetime.timedelta(minutes=5))
    assert client.get(page).status_code == 200
    assert expiry() > timezone.now() + datetime.timedelta(minutes=29)
    # Thirty minutes without a request: the next one is sent to the login page, which says why.
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get(page)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    login_page = client.get(response["Location"])
    assert "您已较长时间未操作，为保护数据已自动退出，请重新登录。" in login_page.content.decode()


def test_a_fresh_visitor_is_not_told_about_a_timeout(client, db):
    assert "自动退出" not in client.get(LOGIN).content.decode()


# ---- passwords ----------------------------------------------------------------------------------------------

WEAK = [
    ("Ab1-xyz", "密码太短：至少需要 8 个字符，现在只有 7 个。"),  # 7 characters
    ("password123", "这个密码太常见了"),
    ("8412963075", "密码只包含数字"),
    ("new_officer_1", "密码跟 用户名 太相似了"),  # like the username
]


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_the_staff_page_refuses_weak_passwords(client, city, make_staff, password, message):
    client.force_login(make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN))
    response = client.post(
        reverse("accounts:staff_create"),
        {
            "username": "new_officer_1",
            "full_name": "王新",
            "org_unit": city.zhongshan.pk,
            "role": Role.OPERATOR,
            "password": password,
            "password_again": password,
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_add_staff_refuses_weak_passwords(city, password, message):
    with pytest.raises(CommandError) as error:
        call_command(
            "add-staff",
            "new_officer_1",
            "--unit",
            "210202",
            "--role",
            "viewer",
            stdin=io.StringIO(password + "\n"),
            stdout=io.StringIO(),
        )
    assert error.value.returncode == 2
    assert "密码不符合要求" in str(error.value) and message in str(error.value)


def test_a_password_like_the_full_name_is_refused(client, city, make_staff):
    client.force_login(make_staff("zs_admin", city.zhongshan, Role.UNIT_ADMIN))
    response = client.post(
        reverse("accounts:staff_create"),
        {
            "username": "wx01",
            "full_name": "wangxiaoming",
            "org_unit": city.zhongshan.pk,
            "role": Role.OPERATOR,
            "password": "wangxiaoming1",
            "password_again": "wangxiaoming1",
        },
    )
    assert response.status_code == 400 and "密码跟 姓名 太相似了" in response.content.decode()


def test_change_own_password(client, officer):
    client.force_login(officer)
    url = reverse("accounts:password_change")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {"old_password": "wrong", "new_password": "Another-good-2", "new_password_again": "Another-good-2"},
    )
    assert response.status_code == 400 and "原密码不正确" in response.content.decode()
    response = client.post(
        url, {"old_password": PASSWORD, "new_password": "12345678", "new_password_again": "12345678"}
    )
    assert response.status_code == 400 and "密码只包含数字" in response.content.decode()
    response = client.post(
        url,
        {"old_password": PASSWORD, "new_password": "Another-good-2", "new_password_again": "Another-good-2"},
    )
    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.check_password("Another-good-2")
    # Still signed in here; the change is in the trail without the password itself.
    assert client.get(reverse("orgs:enterprise_list")).status_code == 200
    entry = AuditEntry.objects.get(entity="accounts.user", action=AuditAction.UPDATE)
    assert entry.changes == {"password": ["******", "******"]} and entry.note == "修改密码"


def test_the_admin_forms_check_passwords_too(client, city, make_staff):
    root = make_staff("root", city.city, Role.CITY_ADMIN)
    root.is_staff = root.is_superuser = True
    root.save()
    client.force_login(root)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {"username": "adm_new", "password1": "12345678", "password2": "12345678", "org_unit": city.city.pk},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "密码只包含数字" in response.content.decode()
