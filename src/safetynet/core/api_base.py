"""The one scoped base for every endpoint under /api/v1/.

Reads come from ``queryset_base().visible_to(request.user)``, so a record outside the caller's subtree is
"not found" exactly like a missing one (404). Writes need the viewset's ``write_capability``; on a single
record the capability is checked *after* the scoped lookup, so an outsider learns nothing (404, never 403).
Errors answer one shape, in Chinese: ``{"code": ..., "detail": ..., "field": ...}``.

Also here, shared by every app's API layer (docs/API.md describes the rules to callers):

- bounded integers (``bounded_integer``, ``record_id``, ``IdFilter``): every integer the API accepts has a
  maximum, so no value reaches the database to overflow a column (that would be a 500);
- ``RecordSerializer``, the base of serializers built from a model (blank choices and portable ranges);
- nested records outside the caller's scope (``NestedRecordSerializer``): shown without what identifies them;
- ``document_error_responses``, the schema hook that documents the error answers of every operation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Model, QuerySet
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
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

# Record ids are 64-bit (BigAutoField); counts and other integers fit PostgreSQL's 32-bit integer columns.
MAX_ID = 2**63 - 1
MAX_COUNT = 2**31 - 1


def bounded_integer(
    *, min_value: int = 0, max_value: int = MAX_COUNT, **kwargs: Any
) -> serializers.IntegerField:
    """An integer input with both bounds: out of range answers 400 (a number the column cannot hold never
    reaches the database). The default suits counts (people, votes, staff)."""
    return serializers.IntegerField(min_value=min_value, max_value=max_value, **kwargs)


def record_id(**kwargs: Any) -> serializers.IntegerField:
    """A record id in an input (a list of ids, a version): 1 to the largest id the database can hold."""
    return bounded_integer(min_value=1, max_value=MAX_ID, **kwargs)


class IdFilter(filters.NumberFilter):
    """A query parameter naming a record by id (``?person=12``): a whole number from 1 to ``MAX_ID``, or 400.

    django-filter's NumberFilter parses a decimal of any size, which overflowed the database (a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, label: str = "", **kwargs: Any) -> None:
        super().__init__(*args, label=label, min_value=1, max_value=MAX_ID, **kwargs)
        schema = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID, "description": label}
        extend_schema_field(schema)(self)


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


# What the schema documents for the error answers an operation can give, unless the view says more precisely.
ERROR_DESCRIPTIONS = {
    "400": "输入有误（detail 说明原因，field 指出字段）",
    "403": "未登录，或您的角色无权进行此操作",
    "404": "记录不存在或不在您的管辖范围内；列表的页码超出范围",
    "401": "未以职工账号登录（职工接口）",
}
ERROR_SCHEMA_NAME = "Error"


def body_record(lookup: Callable[[], Model], *, field: str, message: str) -> Model:
    """A record named in a request body. Missing or out of scope is a 400 on that field, not a 404: the
    address was right, the input was not (and the schema documents 404 only where the path names a record)."""
    try:
        return lookup()
    except Http404:
        raise exceptions.ValidationError({field: message}) from None


def document_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook (SPECTACULAR_SETTINGS): every operation documents the errors it
    can answer, in the one error shape: 400 when it takes parameters or a body, 404 when it takes
    parameters (a record in the path; a page number, a unit code in the query), 403 when it needs a login.

    Without them the schema promised only 200, and clients (and the fuzz test) met undocumented answers."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    if ERROR_SCHEMA_NAME not in components:
        components[ERROR_SCHEMA_NAME] = {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "detail": {"type": "string"},
                "field": {"type": "string", "nullable": True},
            },
            "required": ["code", "detail", "field"],
        }
    reference = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = []
            takes_input = bool(operation.get("parameters")) or "requestBody" in operation
            if takes_input:
                codes.append("400")
            # The workers' API answers 401 or 404 to anyone not signed in as a worker (portal/api.py).
            workers = path.startswith("/api/v1/me/") and path != "/api/v1/me/"
            if operation.get("parameters") or workers:
                codes.append("404")
            if workers:
                codes.append("401")
            if {} not in operation.get("security", [{}]):
                codes.append("403")
            for code in codes:
                operation["responses"].setdefault(
                    code,
                    {
                        "description": ERROR_DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": dict(reference)}},
                    },
                )
    return result


TEXT_TYPES = ("CharField", "TextField")


class RecordSerializer(serializers.ModelSerializer):
    """The base of every serializer built from a model.

    - A read-only choice field keeps the model's blank value: ``""`` (nothing chosen, e.g. no outcome yet)
      is then in the schema's enum; DRF dropped ``allow_blank`` from read-only fields, and the schema lied.
    - An integer field accepts the range of the narrowest database the project runs on (PostgreSQL): the
      schema and the answers are the same on SQLite, and no value overflows a column.
    """

    def build_standard_field(self, field_name: str, model_field: Any) -> tuple[type, dict[str, Any]]:
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if "choices" in kwargs and model_field.blank and model_field.get_internal_type() in TEXT_TYPES:
            kwargs["allow_blank"] = True  # DRF leaves it out for fields that are not editable
        bounds = BaseDatabaseOperations.integer_field_ranges.get(model_field.get_internal_type())
        if bounds is not None and "choices" not in kwargs:
            low, high = bounds
            kwargs["min_value"] = max(kwargs.get("min_value", low), low)
            kwargs["max_value"] = min(kwargs.get("max_value", high), high)
        return field_class, kwargs

    def include_extra_kwargs(self, kwargs: dict[str, Any], extra_kwargs: dict[str, Any]) -> dict[str, Any]:
        # DRF drops allow_blank from read-only fields; a choice field's blank value is a value it renders.
        blank_choice = "choices" in kwargs and kwargs.get("allow_blank", False)
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if blank_choice:
            kwargs["allow_blank"] = True
        return kwargs


# --- records nested in a record, but outside the caller's scope ---------------------------------------

OTHER_UNIT = "其他单位"


class ScopeCheck:
    """Which records the caller may see, asked through ``visible_to`` once per model and batch of rows."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.asked: dict[type[Model], set[Any]] = {}
        self.visible: dict[type[Model], set[Any]] = {}

    def prime(self, model: type[Model], ids: Any) -> None:
        asked = self.asked.setdefault(model, set())
        wanted = {pk for pk in ids if pk is not None} - asked
        if not wanted:
            return
        found = model.objects.visible_to(self.user).filter(pk__in=wanted).values_list("pk", flat=True)
        self.visible.setdefault(model, set()).update(found)
        asked.update(wanted)

    def sees(self, model: type[Model], pk: Any) -> bool:
        self.prime(model, [pk])
        return pk in self.visible.get(model, set())


def scope_check(context: dict[str, Any]) -> ScopeCheck:
    """The request's ScopeCheck, shared by the serializers of one response (kept in their context)."""
    check = context.get("scope_check")
    if check is None:
        request = context.get("request")
        check = ScopeCheck(getattr(request, "user", None))
        context["scope_check"] = check
    return check


class NestedRecordListSerializer(serializers.ListSerializer):
    """Asks once for the whole list which nested records the caller may see (one query per model, not one per
    row): the child serializer's ``prime_scope(check, rows)`` names them."""

    def to_representation(self, data: Any) -> list[Any]:
        rows = list(data.all() if hasattr(data, "all") else data)
        self.child.prime_scope(scope_check(self.context), rows)
        return super().to_representation(rows)


class NestedRecordSerializer(serializers.Serializer):
    """A record shown inside another one (a person's employments, a union's covered enterprises).

    The caller sees the outer record, not necessarily each nested one. One rule (docs/API.md, "Records
    outside your scope"): a nested record outside the caller's scope is shown without what identifies it.
    Its dates and kinds stay; ids and codes are null, names read “其他单位”, and ``in_scope`` is false.
    Such a record answers 404 on its own URL, as a missing one does.

    Set ``scope_model`` and ``scope_key`` (the attribute holding that model's id: ``"pk"`` when the nested
    record is itself scoped, ``"enterprise_id"`` when what matters is the enterprise it names) and
    ``withheld`` (field → what is shown instead); its ``Meta`` lists ``"in_scope"`` among the fields and sets
    ``list_serializer_class = NestedRecordListSerializer``. Pass the view's context: it carries the caller.
    """

    scope_model: type[Model]
    scope_key: str = "pk"
    withheld: dict[str, Any] = {}

    in_scope = serializers.SerializerMethodField(
        help_text="false：该记录不在您的管辖范围内，编号、代码和名称不予显示（见 API 说明“管辖范围以外的记录”）"
    )

    def prime_scope(self, check: ScopeCheck, rows: list[Any]) -> None:
        check.prime(self.scope_model, [getattr(row, self.scope_key) for row in rows])

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_in_scope(self, instance: Any) -> bool:
        return scope_check(self.context).sees(self.scope_model, getattr(instance, self.scope_key))

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not data["in_scope"]:
            data.update(self.withheld)
        return data


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
        # No code holds a control character; PostgreSQL refuses NUL in a query at all (a 500, not a 400).
        if not isinstance(data, str | int) or any(ord(c) < 32 for c in str(data)):
            self.fail("invalid")
        return super().to_internal_value(data)


class ScopedViewSetMixin:
    """Mix into a GenericViewSet: scoped reads, capability-checked writes, uniform Chinese errors.

    Set ``queryset`` (it names the model for the router and the schema; it is never read unscoped),
    ``serializer_class`` (what is rendered), optionally ``create_serializer_class`` /
    ``update_serializer_class`` (what is accepted) and ``write_capability``.
    """

    write_capability: str | None = None
    # Any text in the record's place of the URL reaches the view, which answers it with the JSON 404 of a
    # missing record (DRF's default pattern left "/cases/0.5/" to the HTML page of the site).
    lookup_value_regex = "[^/]+"
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


def valid_body(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The body of a custom action (``@action``), checked by ``serializer_class``: its validated fields, or a
    400 naming the field."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# ``create`` for a ScopedViewSetMixin viewset: the accepted input (``create_serializer_class``, see
# ``validated_input``) goes to ``create_record``, which calls one service with ``actor=self.request.user``
# (after looking up any record the body names); the new record answers 201 as the caller now sees it.
# Mix in before the scoped base: ``class HonourViewSet(ServiceCreateMixin, mixins.ListModelMixin, …,
# ScopedGenericViewSet)``. Comments, not docstrings, here and in ``create``: drf-spectacular takes a viewset's
# description from the first docstring in its classes before DRF's own, and this one would become the API
# documentation of every viewset without a docstring of its own.
class ServiceCreateMixin:
    request: Request

    def create_record(self, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        record = self.create_record(self.validated_input())  # type: ignore[attr-defined]
        return self.render(record, status_code=status.HTTP_201_CREATED)  # type: ignore[attr-defined]
