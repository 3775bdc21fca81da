"""The lockout backend for the test suite only (test_settings.AUTHENTICATION_BACKENDS).

Django's test client ``client.login(username=..., password=...)`` calls ``authenticate()`` without a
request, which django-axes refuses (AxesBackendRequestParameterRequired). Such a call cannot come from a
browser or the API: every real login path (the login page, the admin's, the token endpoint) passes its
request, and still goes through the lockout exactly as in production.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend


class AxesBackendAllowingTestClientLogin(AxesStandaloneBackend):
    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
