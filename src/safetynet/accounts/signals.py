"""The login trail: Django's and django-axes' authentication signals, each written by one service call.

Receivers are connected in AccountsConfig.ready(). ``axes`` comes before our apps in INSTALLED_APPS, so its
own ``user_login_failed`` receiver has already run and set ``request.axes_locked_out`` and
``request.axes_failures_since_start`` (public request attributes of django-axes) when ours runs.
"""

from __future__ import annotations

import time
from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from safetynet.accounts import services
from safetynet.accounts.middleware import OWE_CODE, OWE_ENROLMENT, RENEWED_AT, SECOND_FACTOR_OWED
from safetynet.core.context import acting_from
from safetynet.core.middleware import client_address
from safetynet.core.models import AuditAction


def _address(request: Any) -> str | None:
    return client_address(request) if request is not None and hasattr(request, "META") else None


@receiver(user_logged_in, dispatch_uid="safetynet_login_audit")
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Every way in (the login page, the admin's, the test client) records the login and decides, once,
    whether the session owes a TOTP code or an enrolment before anything else (SecondFactorMiddleware)."""
    owed = ""
    if services.second_factor_device(user) is not None:
        owed = OWE_CODE
    elif services.second_factor_required(user):
        owed = OWE_ENROLMENT
    session = getattr(request, "session", None)
    if session is not None:
        session[SECOND_FACTOR_OWED] = owed
        session[RENEWED_AT] = int(time.time())
    note = {OWE_CODE: "密码正确，待输入动态口令", OWE_ENROLMENT: "密码正确，须先启用动态口令"}.get(owed, "")
    with acting_from(_address(request)):
        services.login_event_record(action=AuditAction.LOGIN, username=user.get_username(), note=note)


@receiver(user_logged_out, dispatch_uid="safetynet_logout_audit")
def audit_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:  # a visitor who was not signed in
        return
    with acting_from(_address(request)):
        services.login_event_record(action=AuditAction.LOGOUT, username=user.get_username())


@receiver(user_login_failed, dispatch_uid="safetynet_login_failed_audit")
def audit_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username") or "")
    locked = bool(getattr(request, "axes_locked_out", False))
    locked_until = None
    if locked:
        locked_until = request.axes_attempt_time + get_cool_off(request)
    with acting_from(_address(request)):
        services.login_failure_record(
            username=username,
            failures=getattr(request, "axes_failures_since_start", None),
            limit=settings.AXES_FAILURE_LIMIT,
            locked_until=locked_until,
        )
