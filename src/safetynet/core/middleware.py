import sys
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils import translation

from safetynet.core.context import acting_from


def client_address(request: HttpRequest) -> str | None:
    """The address the audit trail and the per-address lockout record.

    Only the entries our own proxies appended to X-Forwarded-For can be trusted: a client can put anything at
    the front. With ``SAFETYNET_TRUSTED_PROXIES`` = n (default 1, the nginx of the deploying notes, which
    appends the address it saw) the n-th entry from the right is the client; 0 ignores the header.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [
        entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()
    ]
    if proxies > 0 and forwarded:
        return forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_from(client_address(request)):
            return self.get_response(request)


class LanguageMiddleware:
    """Chinese unless the user chose another language (the language cookie set by /i18n/setlang/).

    The browser's Accept-Language is not consulted: offices' machines often run English browsers, and the
    product is Chinese first.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


# --- the database unreachable --------------------------------------------------------------------

DATABASE_UNAVAILABLE = "数据库暂时无法连接，请稍后重试。"
_DATABASE_DOWN = "_safetynet_database_down"
RETRY_AFTER_SECONDS = 30


def note_database_failure(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``got_request_exception`` receiver: remember on the request that the database could not be used."""
    if request is not None and isinstance(sys.exception(), OperationalError | InterfaceError):
        setattr(request, _DATABASE_DOWN, True)


class DatabaseUnavailableMiddleware:
    """While the database cannot be reached (restarting, network), requests get 503 with a Chinese page
    (JSON for the API) instead of the generic error page; the next request after it is back succeeds,
    without restarting the application (``CONN_HEALTH_CHECKS`` replaces the dead persistent connection).

    Django turns an exception into a 500 response in the layer where it happens (the view, or the session
    middleware saving the session): ``got_request_exception`` says which exception it was, and this
    middleware, placed outside the session middleware, replaces that response. Django has logged the
    error by then. With DEBUG on, the technical page is left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        got_request_exception.connect(note_database_failure, dispatch_uid="safetynet.database_unavailable")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code >= 500 and getattr(request, _DATABASE_DOWN, False) and not settings.DEBUG:
            return database_unavailable_response(request)
        return response


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"code": "database_unavailable", "detail": DATABASE_UNAVAILABLE}, status=503
        )
    else:
        # No request context: context processors would query the database that is not there.
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
