"""add-staff and demo-logins from the command line."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from safetynet.accounts.models import User
from safetynet.core.models import AuditEntry

PASSWORD = "Quiet-harbour-2012"


def add_staff(*args: str, password: str = PASSWORD) -> str:
    out = io.StringIO()
    call_command("add-staff", *args, stdin=io.StringIO(password + "\n"), stdout=out)
    return out.getvalue()


def test_add_staff_creates_a_working_login_with_role_and_unit(city, client):
    output = add_staff("li_si", "--unit", "210202", "--role", "operator", "--full-name", "李四")
    user = User.objects.get(username="li_si")
    assert (user.role, user.org_unit, user.full_name) == ("operator", city.zhongshan, "李四")
    assert user.can("edit_registry") and not user.can("manage_staff")
    assert "已建立" in output
    assert client.login(username="li_si", password=PASSWORD)
    assert AuditEntry.objects.filter(entity="accounts.user", object_id=str(user.pk), action="create").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("wang", "--unit", "999999", "--role", "viewer"), "单位不存在"),
        (("wang", "--unit", "210202", "--role", "boss"), "角色“boss”不存在"),
        (("wang", "--unit", "210202", "--role", "viewer", "--full-name", ""), None),
    ],
)
def test_add_staff_refuses_unknown_unit_or_role(city, args, expected):
    if expected is None:
        add_staff(*args)
        args, expected = args, "已被使用"  # the same name twice
    with pytest.raises(CommandError) as exc:
        add_staff(*args)
    assert exc.value.returncode == 2
    assert expected in str(exc.value)
    assert User.objects.filter(username="wang").count() == (1 if expected == "已被使用" else 0)


def test_add_staff_checks_the_password(city):
    with pytest.raises(CommandError) as exc:
        add_staff("zhao", "--unit", "210202", "--role", "viewer", password="12345678")
    assert exc.value.returncode == 2 and "密码" in str(exc.value)
    with pytest.raises(CommandError) as exc:
        add_staff("zhao", "--unit", "210202", "--role", "viewer", password="")
    assert "没有读到密码" in str(exc.value)
    assert not User.objects.filter(username="zhao").exists()


def test_demo_logins_without_demo_says_how_to_load_it(db):
    out = io.StringIO()
    call_command("demo-logins", stdout=out)
    assert "demo-data" in out.getvalue()
