"""The scoped base for every staff page.

A page names its model (or overrides ``get_base_queryset``); the queryset it gets is already
``visible_to(request.user)``, and single records come through :func:`get_for_user`, so a record of another
unit answers 404 like a missing one. Writes also name the capability they need.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.views import View

from safetynet.core.scope import get_for_user


class StaffView(LoginRequiredMixin, View):
    """Any staff page: logged in; ``capability`` (if set) must be granted by the user's role."""

    capability: str | None = None

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.capability and not request.user.can(self.capability):
            raise PermissionDenied("您的角色无权进行此操作。")
        return super().dispatch(request, *args, **kwargs)


class ScopedMixin:
    """Gives ``scoped_queryset()`` and ``get_scoped_object()``; nothing else may read the model."""

    model: type[Model]
    request: Any
    kwargs: dict[str, Any]
    lookup_field = "pk"
    lookup_url_kwarg = "pk"

    def get_base_queryset(self) -> QuerySet:
        return self.model.objects.all()

    def scoped_queryset(self) -> QuerySet:
        return self.get_base_queryset().visible_to(self.request.user)

    def get_scoped_object(self) -> Model:
        return get_for_user(
            self.get_base_queryset(),
            self.request.user,
            **{self.lookup_field: self.kwargs[self.lookup_url_kwarg]},
        )
