"""/api/v1/units, /enterprises, /unions: thin viewsets on the scoped base.

Each action parses (serializer), authorises (the base), calls one service or selector, renders.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from safetynet.core.api_base import ErrorSerializer, ScopedGenericViewSet
from safetynet.orgs import serializers as s
from safetynet.orgs.filters import EnterpriseFilter, OrgUnitFilter, UnionFilter
from safetynet.orgs.models import Enterprise, GrassrootsUnion, OrgUnit
from safetynet.orgs.selectors import enterprise_list, orgunit_list, union_coverages, union_list
from safetynet.orgs.services import (
    enterprise_create,
    enterprise_update,
    orgunit_create,
    orgunit_update,
    union_cover_enterprise,
    union_create,
    union_update,
)

ERRORS = {
    400: OpenApiResponse(
        ErrorSerializer, description="输入有误或业务规则不允许（detail 说明原因，field 指出字段）"
    ),
    403: OpenApiResponse(ErrorSerializer, description="您的角色无权进行此操作"),
    404: OpenApiResponse(ErrorSerializer, description="记录不存在，或不在您的管辖范围内"),
}


def _write_schema(request: type, response: type, summary: str, code: int = 200) -> Any:
    return extend_schema(summary=summary, request=request, responses={code: response, **ERRORS})


@extend_schema_view(
    list=extend_schema(summary="区域单位列表", description="您管辖范围内的单位（本单位及其下级）。"),
    retrieve=extend_schema(summary="区域单位详情", responses={200: s.OrgUnitSerializer, 404: ERRORS[404]}),
    create=_write_schema(s.OrgUnitCreateSerializer, s.OrgUnitSerializer, "新建区域单位", 201),
    update=_write_schema(
        s.OrgUnitUpdateSerializer, s.OrgUnitSerializer, "更名或更改区划代码（自生效日期起）"
    ),
    partial_update=_write_schema(
        s.OrgUnitUpdateSerializer, s.OrgUnitSerializer, "更名或更改区划代码（部分字段）"
    ),
)
class OrgUnitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = OrgUnit.objects.all()
    serializer_class = s.OrgUnitSerializer
    create_serializer_class = s.OrgUnitCreateSerializer
    update_serializer_class = s.OrgUnitUpdateSerializer
    filterset_class = OrgUnitFilter
    write_capability = "edit_units"
    delete_refusal = "区域单位不能删除；请填写停用日期。"

    def queryset_base(self) -> QuerySet[OrgUnit]:
        return orgunit_list(self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        unit = orgunit_create(actor=request.user, **self.validated_input())
        return self.render(unit, status_code=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, partial: bool = False, **kwargs: Any) -> Response:
        unit = self.get_object()
        data = self.validated_input(partial=partial)
        unit = orgunit_update(
            actor=request.user,
            unit=unit,
            name=data.get("name"),
            code=data.get("code"),
            effective_on=data.get("effective_on"),
        )
        return self.render(unit)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


@extend_schema_view(
    list=extend_schema(
        summary="企业列表",
        description="您管辖范围内的企业；is_covered 表示今天是否有存续工会覆盖。unit=区划代码 含其下级单位的企业。",
    ),
    retrieve=extend_schema(summary="企业详情", responses={200: s.EnterpriseSerializer, 404: ERRORS[404]}),
    create=_write_schema(s.EnterpriseWriteSerializer, s.EnterpriseSerializer, "登记企业", 201),
    update=_write_schema(s.EnterpriseWriteSerializer, s.EnterpriseSerializer, "修改企业（全部字段）"),
    partial_update=_write_schema(s.EnterpriseWriteSerializer, s.EnterpriseSerializer, "修改企业（部分字段）"),
)
class EnterpriseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = Enterprise.objects.all()
    serializer_class = s.EnterpriseSerializer
    create_serializer_class = s.EnterpriseWriteSerializer
    update_serializer_class = s.EnterpriseWriteSerializer
    filterset_class = EnterpriseFilter
    write_capability = "edit_registry"
    delete_refusal = "企业不能删除；请填写注销日期。"

    def queryset_base(self) -> QuerySet[Enterprise]:
        return enterprise_list(self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated_input()
        data.pop("effective_on", None)
        enterprise = enterprise_create(actor=request.user, **data)
        return self.render(enterprise, status_code=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, partial: bool = False, **kwargs: Any) -> Response:
        enterprise = self.get_object()
        data = self.validated_input(partial=partial)
        effective_on = data.pop("effective_on", None)
        enterprise = enterprise_update(
            actor=request.user, enterprise=enterprise, data=data, effective_on=effective_on
        )
        return self.render(enterprise)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


@extend_schema_view(
    list=extend_schema(
        summary="基层工会列表", description="您管辖范围内的基层工会；covered_count 为今天覆盖的企业数。"
    ),
    retrieve=extend_schema(summary="基层工会详情", responses={200: s.UnionSerializer, 404: ERRORS[404]}),
    create=_write_schema(
        s.UnionCreateSerializer, s.UnionSerializer, "建立基层工会（可同时列出覆盖企业）", 201
    ),
    update=_write_schema(s.UnionUpdateSerializer, s.UnionSerializer, "修改基层工会（全部字段）"),
    partial_update=_write_schema(s.UnionUpdateSerializer, s.UnionSerializer, "修改基层工会（部分字段）"),
)
class UnionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = GrassrootsUnion.objects.all()
    serializer_class = s.UnionSerializer
    create_serializer_class = s.UnionCreateSerializer
    update_serializer_class = s.UnionUpdateSerializer
    filterset_class = UnionFilter
    write_capability = "edit_registry"
    delete_refusal = "基层工会不能删除；请填写撤销日期。"

    def queryset_base(self) -> QuerySet[GrassrootsUnion]:
        return union_list(self.request.user)

    def get_serializer_class(self) -> type:
        if self.action == "coverages":
            return s.CoverageCreateSerializer if self.request.method == "POST" else s.CoverageSerializer
        return super().get_serializer_class()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        union = union_create(actor=request.user, **self.validated_input())
        return self.render(union, status_code=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, partial: bool = False, **kwargs: Any) -> Response:
        union = self.get_object()
        union = union_update(actor=request.user, union=union, data=self.validated_input(partial=partial))
        return self.render(union)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        methods=["GET"],
        summary="工会覆盖的企业（含历史）",
        responses={200: s.CoverageSerializer(many=True), 404: ERRORS[404]},
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        summary="工会开始覆盖一家企业",
        request=s.CoverageCreateSerializer,
        responses={201: s.CoverageSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def coverages(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        union = self.get_object()
        if request.method == "POST":
            coverage = union_cover_enterprise(actor=request.user, union=union, **self.validated_input())
            context = self.get_serializer_context()
            return Response(
                s.CoverageSerializer(coverage, context=context).data, status=status.HTTP_201_CREATED
            )
        page = self.paginate_queryset(union_coverages(union))
        context = self.get_serializer_context()
        return self.get_paginated_response(s.CoverageSerializer(page, many=True, context=context).data)


def register(router: BaseRouter) -> None:
    router.register("units", OrgUnitViewSet, basename="orgunit")
    router.register("enterprises", EnterpriseViewSet, basename="enterprise")
    router.register("unions", UnionViewSet, basename="union")
