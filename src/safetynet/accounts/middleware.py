"""Two session rules for signed-in staff.

- Idle timeout: a session lives SESSION_COOKIE_AGE (SAFETYNET_SESSION_IDLE_MINUTES) after its last renewal;
  a request renews it at most once a minute, so browsing does not write the session on every page.
- Second factor: a user who owes a TOTP code (or, when it is required, an enrolment) reaches nothing else
  until it is given. What is owed is decided once, at login (accounts/signals.py), and kept in the session.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

# Session keys.
RENEWED_AT = "safetynet_renewed_at"
SECOND_FACTOR_OWED = "safetynet_second_factor_owed"
OWE_CODE = "code"
OWE_ENROLMENT = "enrolment"
RENEW_EVERY_SECONDS = 60


class SessionIdleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            if now - int(request.session.get(RENEWED_AT, 0)) >= RENEW_EVERY_SECONDS:
                # A modified session is saved with a new expiry: now + SESSION_COOKIE_AGE.
                request.session[RENEWED_AT] = now
        return self.get_response(request)


def _open_paths() -> tuple[str, ...]:
    """What a user between the password and the code may still reach."""
    return (
        reverse("accounts:otp_verify"),
        reverse("accounts:otp_setup"),
        reverse("accounts:logout"),
        "/i18n/",
        "/healthz",
        settings.STATIC_URL,
    )


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            owed = request.session.get(SECOND_FACTOR_OWED)
            # OTPMiddleware gives every user is_verified(): true once a code was given in this session.
            if owed and not request.path_info.startswith(_open_paths()) and not user.is_verified():
                return self._send_to(request, owed)
        return self.get_response(request)

    @staticmethod
    def _send_to(request: HttpRequest, owed: str) -> HttpResponse:
        target = reverse("accounts:otp_verify" if owed == OWE_CODE else "accounts:otp_setup")
        if request.path_info.startswith("/api/"):
            message = (
                "请先在网页上输入动态口令。" if owed == OWE_CODE else "市级管理员须先在网页上启用动态口令。"
            )
            return JsonResponse(
                {"code": "second_factor_required", "detail": message, "field": None}, status=403
            )
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)
