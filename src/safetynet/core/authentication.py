"""The API's token scheme (settings ``DEFAULT_AUTHENTICATION_CLASSES``). A module of its own: DRF imports
it while loading its settings, so it must not import DRF's views."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


class TokenWithUnitAuthentication(TokenAuthentication):
    """DRF's token check, reading the caller's org unit in the same query: every scoped call needs it, and
    the hotline system posts a hundred calls a second. It is the API's token scheme (settings)."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        model = self.get_model()
        token = model.objects.select_related("user__org_unit").filter(key=key).first()
        if token is None:
            raise AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
