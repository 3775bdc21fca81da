"""Every write to staff accounts. One transaction each, with its audit row inside it."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp import verify_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from safetynet.accounts.models import Capability, Role, User
from safetynet.core.context import current_address
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditAction, AuditEntry
from safetynet.core.normalize import clean_name, clean_text
from safetynet.core.scope import user_scope_path
from safetynet.core.services import audit_created, audit_record
from safetynet.orgs.models import OrgUnit

STAFF_AUDIT_FIELDS = ("username", "full_name", "org_unit", "role", "is_active")
# Authenticator apps (WeChat's mini programs, Google/Microsoft Authenticator, FreeOTP) all default to these.
TOTP_STEP = 30
TOTP_DIGITS = 6


def _require_manager(actor: Any) -> None:
    """Commands run as the system (actor None) may do anything; people need manage_staff."""
    if actor is not None and not actor.can(Capability.MANAGE_STAFF):
        raise NotAllowed("您的角色无权管理人员账号。")


def _require_unit_in_scope(actor: Any, unit: OrgUnit) -> None:
    if actor is None:
        return
    path = user_scope_path(actor)
    if path is None or not unit.path.startswith(path):
        raise OutOfScope(f"单位“{unit.name}”不在您的管辖范围内。", field="org_unit")


def _require_role_grantable(actor: Any, role: str) -> None:
    if role not in Role.values:
        raise ServiceError("invalid_role", f"“{role}”不是有效的角色。", field="role")
    # Only the city (or the system) hands out city-wide administration.
    if (
        role == Role.CITY_ADMIN
        and actor is not None
        and not (actor.role == Role.CITY_ADMIN or (actor.is_superuser and actor.org_unit_id is None))
    ):
        raise NotAllowed("只有市级管理员可以设置“市级管理员”角色。")


@transaction.atomic
def staff_create(
    *,
    actor: Any,
    username: str,
    password: str,
    org_unit: OrgUnit,
    role: str,
    full_name: str = "",
) -> User:
    """A staff account in ``org_unit`` with ``role``; the actor must manage staff and see the unit."""
    _require_manager(actor)
    _require_unit_in_scope(actor, org_unit)
    _require_role_grantable(actor, role)
    username = clean_text(username).replace(" ", "")
    full_name = clean_name(full_name)
    if not username:
        raise ServiceError("username_required", "请填写登录账号。", field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise ServiceError("username_taken", f"登录账号“{username}”已被使用，请换一个。", field="username")
    user = User(username=username, full_name=full_name, org_unit=org_unit, role=role, is_active=True)
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise ServiceError("weak_password", " ".join(error.messages), field="password") from None
    user.set_password(password)
    user.save()
    audit_created(actor=actor, instance=user, fields=STAFF_AUDIT_FIELDS, unit_path=org_unit.path)
    return user


@transaction.atomic
def staff_set_active(*, actor: Any, user: User, is_active: bool, note: str = "") -> User:
    """Deactivate (or reactivate) an account. Nobody deactivates themselves; only the city touches city admins."""
    _require_manager(actor)
    if user.org_unit is not None:
        _require_unit_in_scope(actor, user.org_unit)
    elif actor is not None and user_scope_path(actor) != "":
        raise OutOfScope("该账号不在您的管辖范围内。")
    if actor is not None and actor.pk == user.pk and not is_active:
        raise ServiceError("self_deactivate", "不能停用自己的账号。")
    if user.role == Role.CITY_ADMIN:
        _require_role_grantable(actor, Role.CITY_ADMIN)
    if user.is_active == is_active:
        return user
    user.is_active = is_active
    user.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=user,
        changes={"is_active": [not is_active, is_active]},
        unit_path=user.org_unit.path if user.org_unit else "",
        note=note,
    )
    return user


# ---- the login trail and the second factor ---------------------------------------------------------------

LOGIN_ENTITY = "accounts.user"


@transaction.atomic
def login_event_record(*, action: str, username: str, note: str = "") -> AuditEntry:
    """One row of the login trail (a login, a failure, a lockout, a logout) with the client address.

    ``username`` is what was typed: it names an account when one matches, and is kept as typed otherwise, so
    that guesses at accounts that do not exist are in the trail too. Only a login and a logout have an actor;
    a failure is someone claiming to be ``username``.
    """
    username = (username or "").strip()
    user = User.objects.filter(username=username).select_related("org_unit").first() if username else None
    acted = action in (AuditAction.LOGIN, AuditAction.LOGOUT) and user is not None
    return AuditEntry.objects.create(
        actor=user if acted else None,
        actor_name=username[:150] or "（未填写账号）",
        address=current_address(),
        action=action,
        entity=LOGIN_ENTITY,
        object_id=str(user.pk) if user is not None else "",
        object_repr=(user.username if user is not None else username)[:255],
        # Scoped like the account, so a unit's administrator sees the logins of the unit's staff.
        unit_path=user.org_unit.path if user is not None and user.org_unit is not None else "",
        changes={},
        note=note[:255],
    )


def login_failure_record(
    *, username: str, failures: int | None, limit: int, locked_until: datetime.datetime | None
) -> AuditEntry:
    """A failed password check: a plain failure, the failure that starts a lockout, or one during it."""
    if locked_until is None:
        count = f"（{failures}/{limit}）" if failures else ""
        return login_event_record(
            action=AuditAction.LOGIN_FAILED, username=username, note=f"账号或密码不正确{count}"
        )
    until = timezone.localtime(locked_until).strftime("%H:%M")
    if failures is None or failures <= limit:
        return login_event_record(
            action=AuditAction.LOCKOUT,
            username=username,
            note=(
                f"登录失败次数达到上限（每个账号 {limit} 次、每个地址 {settings.LOGIN_ADDRESS_FAILURE_LIMIT} 次），"
                f"锁定至 {until}"
            ),
        )
    return login_event_record(
        action=AuditAction.LOGIN_FAILED,
        username=username,
        note=f"锁定期间再次尝试，未核对密码即拒绝；锁定延至 {until}",
    )


def second_factor_required(user: Any) -> bool:
    """City administrators must use a second factor when SAFETYNET_REQUIRE_2FA is on."""
    return bool(settings.REQUIRE_2FA) and getattr(user, "role", "") == Role.CITY_ADMIN


def second_factor_device(user: Any) -> TOTPDevice | None:
    """The user's confirmed TOTP device (one per user), if any."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


def totp_matching_step(key: str, token: str) -> int | None:
    """The time step at which ``token`` is the code (now, or one step either side) for the hex ``key``."""
    token = clean_code_digits(token)
    if len(token) != TOTP_DIGITS or not token.isdigit():
        return None
    totp = TOTP(bytes.fromhex(key), step=TOTP_STEP, digits=TOTP_DIGITS)
    return totp.t() if totp.verify(int(token), tolerance=1) else None


def clean_code_digits(token: str) -> str:
    """A code as typed: full-width digits and spaces (as phones group them: 123 456) are accepted."""
    return clean_text(token or "").replace(" ", "")


@transaction.atomic
def second_factor_enrol(*, actor: Any, user: User, key: str, token: str) -> TOTPDevice:
    """Confirm a new TOTP device for ``user`` (only the user themself) with a code it shows now."""
    if actor is None or actor.pk != user.pk:
        raise NotAllowed("动态口令只能由本人在自己的手机上启用。")
    if second_factor_device(user) is not None:
        raise ServiceError("otp_exists", "您已启用动态口令；如需更换手机，请先停用原来的动态口令。")
    step = totp_matching_step(key, token)
    if step is None:
        raise ServiceError(
            "otp_invalid",
            "动态口令不正确：请输入验证器应用中“职工维权安全网”下当前显示的 6 位数字；"
            "如仍不正确，请检查手机时间是否准确（设为自动）。",
            field="token",
        )
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(
        user=user,
        name="手机验证器",
        key=key,
        step=TOTP_STEP,
        digits=TOTP_DIGITS,
        confirmed=True,
        # The code used to enrol cannot be used again to log in (django-otp accepts only later steps).
        last_t=step,
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=user,
        changes={"second_factor": ["未启用", "已启用"]},
        unit_path=user.org_unit.path if user.org_unit else "",
        note="启用动态口令",
    )
    return device


@transaction.atomic
def second_factor_remove(*, actor: Any, user: User, note: str = "") -> int:
    """Remove the user's TOTP devices: the user themself, or a staff manager whose scope holds the account
    (a lost phone). Returns how many devices were removed."""
    if actor is not None and actor.pk != user.pk:
        _require_manager(actor)
        if user.org_unit is not None:
            _require_unit_in_scope(actor, user.org_unit)
        elif user_scope_path(actor) != "":
            raise OutOfScope("该账号不在您的管辖范围内。")
        if user.role == Role.CITY_ADMIN:
            _require_role_grantable(actor, Role.CITY_ADMIN)
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    if removed:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=user,
            changes={"second_factor": ["已启用", "未启用"]},
            unit_path=user.org_unit.path if user.org_unit else "",
            note=note or "停用动态口令",
        )
    return removed


@transaction.atomic
def password_change(*, actor: Any, user: User, old_password: str, new_password: str) -> User:
    """A user changes their own password: the old one must be right, the new one pass every validator."""
    if actor is None or actor.pk != user.pk:
        raise NotAllowed("只能修改自己的密码。")
    if not user.check_password(old_password):
        raise ServiceError("wrong_password", "原密码不正确，请重新输入。", field="old_password")
    if old_password == new_password:
        raise ServiceError("same_password", "新密码不能与原密码相同。", field="new_password")
    try:
        validate_password(new_password, user=user)
    except ValidationError as error:
        raise ServiceError("weak_password", " ".join(error.messages), field="new_password") from None
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=user,
        changes={"password": ["******", "******"]},
        unit_path=user.org_unit.path if user.org_unit else "",
        note="修改密码",
    )
    return user


def second_factor_check(*, user: User, token: str) -> None:
    """For a login without pages (the API token): the code is needed when the account has a device, and a
    city administrator who must use one but has none is refused until they enrol on the web."""
    device = second_factor_device(user)
    if device is None:
        if second_factor_required(user):
            raise NotAllowed("市级管理员须先在网页上启用动态口令，再获取 API 令牌。")
        return
    token = clean_code_digits(token)
    if not token:
        raise ServiceError(
            "second_factor_required",
            "该账号已启用动态口令：请在 otp_token 中提供验证器当前显示的 6 位数字。",
            field="otp_token",
        )
    allowed, _details = device.verify_is_allowed()
    if not allowed or verify_token(user, device.persistent_id, token) is None:
        login_event_record(
            action=AuditAction.LOGIN_FAILED, username=user.get_username(), note="动态口令不正确（API）"
        )
        raise ServiceError(
            "second_factor_invalid",
            "动态口令不正确或尝试过于频繁：请等待验证器显示新的数字后再试。",
            field="otp_token",
        )
