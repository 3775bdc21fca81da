"""The one scoped base for every endpoint under /api/v1/.

Reads come from ``queryset_base().visible_to(request.user)``, so a record outside the caller's subtree is
"not found" exactly like a missing one (404). Writes need the viewset's ``write_capability``; on a single
record the capability is checked *after* the scoped lookup, so an outsider learns nothing (404, never 403).
Errors answer one shape, in Chinese: ``{"code": ..., "detail": ..., "field": ...}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.viewsets import GenericViewSet

from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError

NOT_ALLOWED_MESSAGE = "您的角色无权进行此操作。"
NOT_FOUND_MESSAGE = "未找到该记录，或您无权查看。"


class ScopedPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    page_size_query_description = "每页条数（最多 500）。"
    page_query_description = "页码，从 1 开始。"
    max_page_size = 500


class CapabilityPermission(BasePermission):
    """Reads for any signed-in staff member; writes only with the view's ``write_capability``.

    For a single record (the URL names it) the check waits for :meth:`has_object_permission`, which DRF
    calls after the scoped lookup: out of scope answers 404 before any 403 could tell that it exists.
    """

    message = NOT_ALLOWED_MESSAGE

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
        if lookup in getattr(view, "kwargs", {}):
            return True
        return self.allowed(request, view)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return self.allowed(request, view)

    @staticmethod
    def allowed(request: Request, view: Any) -> bool:
        capability = getattr(view, "write_capability", None)
        return bool(capability) and request.user.can(capability)


def _first_error(detail: Any, field: str | None = None) -> tuple[str | None, str, str]:
    """The first (field, message, code) of a nested DRF error structure."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else None
            return _first_error(value, field if name is None else (f"{field}.{name}" if field else name))
    if isinstance(detail, list) and detail:
        return _first_error(detail[0], field)
    code = getattr(detail, "code", None) or "invalid"
    return field, str(detail), code


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Service errors and DRF errors as ``{"code", "detail", "field"}`` (validation errors also list ``errors``)."""
    if isinstance(exc, NotAllowed):
        return Response(
            {"code": exc.code, "detail": exc.message, "field": exc.field}, status=status.HTTP_403_FORBIDDEN
        )
    if isinstance(exc, OutOfScope):
        return Response(
            {"code": exc.code, "detail": exc.message, "field": exc.field}, status=status.HTTP_404_NOT_FOUND
        )
    if isinstance(exc, ServiceError):
        return Response(
            {"code": exc.code, "detail": exc.message, "field": exc.field}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, Http404):
        # One Chinese sentence whether the record is missing or outside the caller's scope.
        exc = exceptions.NotFound(NOT_FOUND_MESSAGE)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        field, message, code = _first_error(exc.detail)
        response.data = {"code": code, "detail": message, "field": field, "errors": exc.detail}
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        response.data = {"code": code, "detail": str(exc.detail), "field": None}
    return response


class ErrorSerializer(serializers.Serializer):
    """How every refusal looks (for the schema)."""

    code = serializers.CharField(help_text="稳定的错误代码，供程序判断")
    detail = serializers.CharField(help_text="给人看的中文说明")
    field = serializers.CharField(allow_null=True, help_text="出错的字段名（没有时为 null）")


class ScopedSlugRelatedField(serializers.SlugRelatedField):
    """A related record named by a code (unit code, credit code), looked up only among those the caller sees.

    A code outside the caller's scope is refused with the same message as an unknown one.
    """

    default_error_messages = {
        "does_not_exist": "代码“{value}”不存在或不在您的管辖范围内。",
        "invalid": "代码格式不对。",
    }

    def __init__(self, *, normalize: Callable[[Any], Any] | None = None, **kwargs: Any) -> None:
        self.normalize = normalize
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        request = self.context.get("request")
        return super().get_queryset().visible_to(getattr(request, "user", None))

    def to_internal_value(self, data: Any) -> Any:
        if self.normalize is not None:
            data = self.normalize(data)
        return super().to_internal_value(data)


class ScopedViewSetMixin:
    """Mix into a GenericViewSet: scoped reads, capability-checked writes, uniform Chinese errors.

    Set ``queryset`` (it names the model for the router and the schema; it is never read unscoped),
    ``serializer_class`` (what is rendered), optionally ``create_serializer_class`` /
    ``update_serializer_class`` (what is accepted) and ``write_capability``.
    """

    write_capability: str | None = None
    create_serializer_class: type[serializers.Serializer] | None = None
    update_serializer_class: type[serializers.Serializer] | None = None
    delete_refusal = "记录不能删除。"
    permission_classes = [IsAuthenticated, CapabilityPermission]
    pagination_class = ScopedPagination

    request: Request
    action: str | None

    def queryset_base(self) -> QuerySet:
        """The unscoped base; override to use the app's selector (annotations, joins)."""
        return self.queryset.all()  # type: ignore[attr-defined]

    def get_queryset(self) -> QuerySet:
        return self.queryset_base().visible_to(self.request.user)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # Query parameters filter lists only; a single record is found by its key within the scope alone.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)  # type: ignore[misc]

    def get_exception_handler(self) -> Callable[..., Response | None]:
        return api_exception_handler

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "create" and self.create_serializer_class is not None:
            return self.create_serializer_class
        if self.action in {"update", "partial_update"} and self.update_serializer_class is not None:
            return self.update_serializer_class
        return super().get_serializer_class()  # type: ignore[misc]

    def validated_input(self, *, partial: bool = False) -> dict[str, Any]:
        serializer = self.get_serializer(data=self.request.data, partial=partial)  # type: ignore[attr-defined]
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def render(self, instance: Model, *, status_code: int = status.HTTP_200_OK) -> Response:
        """The record as the caller now sees it, read again through the scoped queryset (annotations included)."""
        fresh = self.get_queryset().filter(pk=instance.pk).first() or instance
        serializer = self.serializer_class(fresh, context=self.get_serializer_context())  # type: ignore[attr-defined]
        return Response(serializer.data, status=status_code)

    @extend_schema(exclude=True)
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Registry records are never deleted (they end with a date). Scope and role are checked first."""
        self.get_object()  # type: ignore[attr-defined]
        raise exceptions.MethodNotAllowed(request.method, detail=self.delete_refusal)


class ScopedGenericViewSet(ScopedViewSetMixin, GenericViewSet):
    pass
