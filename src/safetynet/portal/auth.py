"""The worker's session, kept apart from staff authentication.

A signed-in worker is two keys in the Django session (account id and its ``session_version``), never
``_auth_user_id``: ``request.user`` stays anonymous for a worker, so every staff page, staff API and the admin
answer the login page or 403. Worker pages read ``request.worker`` through :func:`current_worker` and ignore
a staff login: a staff member reaches them only if they also signed in as a worker.

The API takes the same session or a bearer token ``Authorization: Worker <token>`` (signed, 30 days, ended by
a password change or consent withdrawal through ``session_version``).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from rest_framework import authentication, exceptions

from safetynet.members import crypto
from safetynet.portal.models import WorkerAccount

SESSION_ACCOUNT = "portal_worker_id"
SESSION_VERSION = "portal_worker_version"
SESSION_RENEWED = "portal_worker_renewed"
# The number typed on the first password-reset page, for the second page (encrypted like every stored number).
SESSION_RESET_MOBILE = "portal_reset_mobile"
TOKEN_SALT = "safetynet.portal.token"
TOKEN_MAX_AGE = 30 * 24 * 3600


def worker_login(request: HttpRequest, account: WorkerAccount) -> None:
    # A new session key on sign-in (session fixation), keeping a staff login of the same browser.
    request.session.cycle_key()
    request.session[SESSION_ACCOUNT] = account.pk
    request.session[SESSION_VERSION] = account.session_version
    request.worker = account  # type: ignore[attr-defined]


def worker_logout(request: HttpRequest) -> None:
    for key in (SESSION_ACCOUNT, SESSION_VERSION, SESSION_RENEWED):
        request.session.pop(key, None)
    request.worker = None  # type: ignore[attr-defined]


def reset_mobile_remember(request: HttpRequest, number: str) -> None:
    request.session[SESSION_RESET_MOBILE] = crypto.encrypt(number)


def reset_mobile_recall(request: HttpRequest) -> str | None:
    """The number of the password reset under way in this browser, if any."""
    token = request.session.get(SESSION_RESET_MOBILE)
    if not token:
        return None
    try:
        return crypto.decrypt(token)
    except ImproperlyConfigured:  # the key rotated meanwhile: start again on the first page
        request.session.pop(SESSION_RESET_MOBILE, None)
        return None


def reset_mobile_forget(request: HttpRequest) -> None:
    request.session.pop(SESSION_RESET_MOBILE, None)


def current_worker(request: HttpRequest) -> WorkerAccount | None:
    if hasattr(request, "worker"):
        return request.worker  # type: ignore[attr-defined]
    account = None
    account_id = request.session.get(SESSION_ACCOUNT)
    if account_id is not None:
        account = (
            WorkerAccount.objects.filter(pk=account_id, is_active=True)
            .select_related("person", "org_unit")
            .first()
        )
        if account is not None and account.session_version != request.session.get(SESSION_VERSION):
            account = None
        if account is None:
            worker_logout(request)
        else:
            now = int(time.time())
            # Like the staff idle timeout: a request renews the session at most once a minute.
            if now - int(request.session.get(SESSION_RENEWED, 0)) >= 60:
                request.session[SESSION_RENEWED] = now
    request.worker = account  # type: ignore[attr-defined]
    return account


def worker_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A worker page: the worker login page for anyone not signed in as a worker (staff included)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if current_worker(request) is None:
            if request.headers.get("HX-Request"):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = reverse("portal:login")
                return response
            return redirect(f"{reverse('portal:login')}?next={request.path}")
        return view(request, *args, **kwargs)

    return wrapper


def token_for(account: WorkerAccount) -> str:
    return signing.TimestampSigner(salt=TOKEN_SALT).sign_object(
        {"a": account.pk, "v": account.session_version}
    )


def account_from_token(token: str) -> WorkerAccount | None:
    try:
        data = signing.TimestampSigner(salt=TOKEN_SALT).unsign_object(token, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    account = (
        WorkerAccount.objects.filter(pk=data.get("a"), is_active=True)
        .select_related("person", "org_unit")
        .first()
    )
    if account is None or account.session_version != data.get("v"):
        return None
    return account


class WorkerPrincipal:
    """What DRF sees as ``request.user`` for a worker: authenticated, but no staff capability at all."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    org_unit_id = None

    def __init__(self, account: WorkerAccount) -> None:
        self.account = account
        self.pk = None

    def can(self, capability: str) -> bool:
        return False

    def __str__(self) -> str:
        return f"worker {self.account.pk}"


class WorkerAuthentication(authentication.BaseAuthentication):
    """``Authorization: Worker <token>`` (from POST /api/v1/me/token/), or a worker session cookie."""

    keyword = "Worker"

    def authenticate(self, request: Any) -> tuple[WorkerPrincipal, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if header and header[0].decode(errors="ignore") == self.keyword:
            if len(header) != 2:
                raise exceptions.AuthenticationFailed("令牌格式不对。")
            account = account_from_token(header[1].decode(errors="ignore"))
            if account is None:
                raise exceptions.AuthenticationFailed("令牌无效或已过期，请重新登录。")
            return WorkerPrincipal(account), None
        # DRF's Request hands attribute reads (session, META) to the Django request underneath.
        account = current_worker(request)
        if account is None:
            return None
        # A session is cookie-borne: unsafe methods need the CSRF token, as for staff sessions.
        authentication.SessionAuthentication().enforce_csrf(request)
        return WorkerPrincipal(account), None

    def authenticate_header(self, request: Any) -> str:
        return self.keyword
