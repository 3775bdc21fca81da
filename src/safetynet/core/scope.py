"""The one mechanism that scopes every read to the user's org unit subtree.

Every scoped model declares ``SCOPE_PATH``: the lookup that reaches the materialized path of the org
unit the record belongs to (``"path"`` for units themselves, ``"org_unit__path"`` for enterprises).
Its manager is built from :class:`ScopedQuerySet`, so ``Model.objects.visible_to(user)`` is the only
way pages, API, exports, imports and admin ask for records. A record outside the subtree is "not
found", exactly like a missing one.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from django.http import Http404

M = TypeVar("M", bound=models.Model)


def user_scope_path(user: Any) -> str | None:
    """The path prefix the user may see, or None for nobody (anonymous, inactive, no unit)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    unit = getattr(user, "org_unit", None)
    if unit is None:
        # A superuser created without a unit (emergency access through the admin) sees everything.
        return "" if user.is_superuser else None
    return unit.path


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> ScopedQuerySet:
        path = user_scope_path(user)
        if path is None:
            return self.none()
        if path == "":
            return self.all()
        return self.filter(**{f"{self.model.SCOPE_PATH}__startswith": path})

    def within(self, path: str) -> ScopedQuerySet:
        """Records at the unit with this path and below it (one indexed prefix query)."""
        return self.filter(**{f"{self.model.SCOPE_PATH}__startswith": path})


def get_for_user(queryset: models.QuerySet[M] | type[M], user: Any, **lookup: Any) -> M:
    """The record if it exists and the user may see it; otherwise 404, the same for missing and forbidden."""
    if isinstance(queryset, type):
        queryset = queryset.objects.all()
    try:
        return queryset.visible_to(user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404("未找到该记录，或您无权查看。") from None
