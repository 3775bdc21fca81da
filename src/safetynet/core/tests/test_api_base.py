"""The scoped API base: scope on reads, capability on writes (after the lookup), one error shape."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from safetynet.core.api_base import (
    CapabilityPermission,
    ScopedGenericViewSet,
    ScopedPagination,
    ScopedSlugRelatedField,
    api_exception_handler,
)
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.orgs.models import OrgUnit

factory = APIRequestFactory()


class UnitViewSet(ScopedGenericViewSet):
    queryset = OrgUnit.objects.all()
    write_capability = "edit_units"


def _view(user: Any, method: str = "get", kwargs: dict[str, Any] | None = None) -> UnitViewSet:
    request = Request(getattr(factory, method)("/x/"))
    request.user = user
    view = UnitViewSet()
    view.request = request
    view.kwargs = kwargs or {}
    view.action = "list"
    view.format_kwarg = None
    return view


@pytest.fixture
def staff(city, make_staff):
    return {
        "zs_operator": make_staff("zs_operator", city.zhongshan, "operator"),
        "zs_admin": make_staff("zs_admin", city.zhongshan, "unit_admin"),
        "xg_admin": make_staff("xg_admin", city.xigang, "unit_admin"),
        "viewer": make_staff("viewer", city.zhongshan, "viewer"),
    }


def test_queryset_is_visible_to_the_user(city, staff):
    codes = set(_view(staff["zs_operator"]).get_queryset().values_list("code", flat=True))
    assert codes == {"210202", "210202001", "210202001001"}
    assert not _view(AnonymousUser()).get_queryset().exists()


def test_object_lookup_outside_scope_is_404(city, staff):
    view = _view(staff["xg_admin"], kwargs={"pk": str(city.street_a.pk)})
    view.action = "retrieve"
    with pytest.raises(Http404):
        view.get_object()
    view.kwargs = {"pk": str(city.street_b.pk)}
    assert view.get_object() == city.street_b


def test_permission_reads_for_all_writes_by_capability(city, staff):
    permission = CapabilityPermission()
    assert permission.has_permission(_view(staff["viewer"]).request, _view(staff["viewer"]))
    for name, allowed in (("viewer", False), ("zs_operator", False), ("zs_admin", True)):
        view = _view(staff[name], "post")
        assert permission.has_permission(view.request, view) is allowed, name


def test_permission_on_a_record_waits_for_the_scoped_lookup(city, staff):
    permission = CapabilityPermission()
    view = _view(staff["viewer"], "patch", kwargs={"pk": "1"})
    # Deferred: the lookup answers 404 first for a record outside the scope.
    assert permission.has_permission(view.request, view) is True
    assert permission.has_object_permission(view.request, view, city.zhongshan) is False
    admin_view = _view(staff["zs_admin"], "patch", kwargs={"pk": "1"})
    assert permission.has_object_permission(admin_view.request, admin_view, city.zhongshan) is True


def test_no_write_capability_means_no_writes(city, staff):
    class ReadOnly(UnitViewSet):
        write_capability = None

    view = _view(staff["zs_admin"], "post")
    view.__class__ = ReadOnly
    assert CapabilityPermission().has_permission(view.request, view) is False


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (
            ServiceError("dates_order", "停用日期必须晚于启用日期。", field="valid_to"),
            400,
            {"code": "dates_order", "detail": "停用日期必须晚于启用日期。", "field": "valid_to"},
        ),
        (NotAllowed(), 403, {"code": "not_allowed", "detail": "您的角色无权进行此操作。", "field": None}),
        (OutOfScope(), 404, {"code": "out_of_scope", "detail": "该记录不在您的管辖范围内。", "field": None}),
        (
            Http404("No OrgUnit matches the given query."),
            404,
            {"code": "not_found", "detail": "未找到该记录，或您无权查看。", "field": None},
        ),
        (
            exceptions.PermissionDenied("您的角色无权进行此操作。"),
            403,
            {"code": "permission_denied", "detail": "您的角色无权进行此操作。", "field": None},
        ),
    ],
)
def test_errors_have_one_shape(error, status, body):
    response = api_exception_handler(error, {})
    assert response.status_code == status
    assert response.data == body


def test_validation_errors_name_the_first_field():
    error = exceptions.ValidationError(
        {"headcount": ["请填写一个有效的整数。"], "name": ["该字段是必填项。"]}
    )
    response = api_exception_handler(error, {})
    assert response.status_code == 400
    assert response.data["field"] == "headcount"
    assert response.data["detail"] == "请填写一个有效的整数。"
    assert set(response.data["errors"]) == {"headcount", "name"}
    nested = api_exception_handler(exceptions.ValidationError({"enterprises": {1: ["不存在。"]}}), {})
    assert nested.data["field"] == "enterprises.1"


def test_other_exceptions_are_left_to_django():
    assert api_exception_handler(ValueError("boom"), {}) is None


def test_page_size_is_capped_at_500():
    paginator = ScopedPagination()
    assert paginator.get_page_size(Request(factory.get("/x/", {"page_size": 10}))) == 10
    assert paginator.get_page_size(Request(factory.get("/x/", {"page_size": 100000}))) == 500


def test_scoped_slug_field_refuses_out_of_scope_codes_like_unknown_ones(city, staff):
    class Input(serializers.Serializer):
        unit = ScopedSlugRelatedField(slug_field="code", queryset=OrgUnit.objects.all(), normalize=str.strip)

    request = Request(factory.get("/x/"))
    request.user = staff["xg_admin"]
    good = Input(data={"unit": " 210203001 "}, context={"request": request})
    assert good.is_valid(), good.errors
    assert good.validated_data["unit"] == city.street_b
    for code in ("210202001", "999999"):
        bad = Input(data={"unit": code}, context={"request": request})
        assert not bad.is_valid()
        assert "不存在或不在您的管辖范围内" in str(bad.errors["unit"][0])
