"""The API's token scheme (settings ``DEFAULT_AUTHENTICATION_CLASSES``). A module of its own: DRF imports
it while loading its settings, so it must not import DRF's views."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from safetynet.core.statements import ModelColumns, statement_cursor


class TokenLookup:
    """The token, its user and the user's org unit in one statement written once per process: the ORM's
    select_related spent about 0.8 ms of CPU compiling the same join on every call."""

    def __init__(self, token_model: type) -> None:
        user_model = get_user_model()
        unit_field = user_model._meta.get_field("org_unit")
        self.token = ModelColumns(token_model, "t")
        self.user = ModelColumns(user_model, "u")
        self.unit = ModelColumns(unit_field.related_model, "o")
        quote = connection.ops.quote_name
        self.sql = (
            f"SELECT {self.token.sql()}, {self.user.sql()}, {self.unit.sql()}"
            f" FROM {quote(token_model._meta.db_table)} t"
            f" INNER JOIN {quote(user_model._meta.db_table)} u"
            f" ON u.{quote(user_model._meta.pk.column)} = t.{quote(token_model._meta.get_field('user').column)}"
            f" LEFT OUTER JOIN {quote(unit_field.related_model._meta.db_table)} o"
            f" ON o.{quote(unit_field.target_field.column)} = u.{quote(unit_field.column)}"
            f" WHERE t.{quote(token_model._meta.pk.column)} = %s"
        )

    def find(self, key: str) -> Any:
        with statement_cursor() as cursor:
            cursor.execute(self.sql, [key])
            row = cursor.fetchone()
        if row is None:
            return None
        token, position = self.token.take(row, 0)
        user, position = self.user.take(row, position)
        unit, position = self.unit.take(row, position)
        user.org_unit = unit
        token.user = user
        return token


class TokenWithUnitAuthentication(TokenAuthentication):
    """DRF's token check, reading the caller's org unit in the same query: every scoped call needs it, and
    the hotline system posts a hundred calls a second. It is the API's token scheme (settings)."""

    lookups: dict[type, TokenLookup] = {}

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        model = self.get_model()
        lookup = self.lookups.get(model)
        if lookup is None:
            lookup = self.lookups[model] = TokenLookup(model)
        token = lookup.find(key)
        if token is None:
            raise AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
