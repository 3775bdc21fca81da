"""Every write to staff accounts. One transaction each, with its audit row inside it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from safetynet.accounts.models import Capability, Role, User
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditAction
from safetynet.core.normalize import clean_text
from safetynet.core.scope import user_scope_path
from safetynet.core.services import audit_created, audit_record
from safetynet.orgs.models import OrgUnit

STAFF_AUDIT_FIELDS = ("username", "full_name", "org_unit", "role", "is_active")


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
    full_name = clean_text(full_name)
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
