from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from safetynet.core.context import acting_from


def client_address(request: HttpRequest) -> str | None:
    # Behind a reverse proxy the first X-Forwarded-For entry is the client; deploy notes require the proxy to set it.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_from(client_address(request)):
            return self.get_response(request)
