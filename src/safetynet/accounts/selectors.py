"""Reads of staff accounts, always scoped to the reader's subtree."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from safetynet.accounts.models import Role, User


def staff_list(user: Any, *, q: str = "", role: str = "", active: bool | None = None) -> QuerySet[User]:
    qs = (
        User.objects.visible_to(user)
        .select_related("org_unit")
        .annotate(has_second_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
    )
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(full_name__icontains=q) | Q(org_unit__name__icontains=q))
    if role in Role.values:
        qs = qs.filter(role=role)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by("org_unit__path", "username")


def grantable_roles(user: Any) -> list[tuple[str, str]]:
    """The roles this user may give to an account they create."""
    city = getattr(user, "role", "") == Role.CITY_ADMIN or (user.is_superuser and user.org_unit_id is None)
    return [(value, label) for value, label in Role.choices if city or value != Role.CITY_ADMIN]
