"""/api/v1/contracts, /systems, /stations: thin viewsets on the scoped base.

A contract is created by the offer to bargain (POST /contracts/); every later workflow step is its own action
(POST /contracts/{id}/pre-review/ …) calling the matching service. Steps may carry a document (multipart).
Scope: a record outside the caller's subtree is 404; writes need ``edit_registry`` (403 otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from safetynet.core.api_base import ErrorSerializer, ScopedGenericViewSet
from safetynet.programmes import selectors, services
from safetynet.programmes import serializers as s
from safetynet.programmes.filters import ContractFilter, StationFilter, SystemFilter
from safetynet.programmes.models import CollectiveContract, EnterpriseSystem, ServiceStation

ERRORS = {
    400: OpenApiResponse(
        ErrorSerializer,
        description="输入有误、步骤顺序不对或业务规则不允许（detail 说明原因，field 指出字段）",
    ),
    403: OpenApiResponse(ErrorSerializer, description="您的角色无权进行此操作，或不是上级工会的工作人员"),
    404: OpenApiResponse(ErrorSerializer, description="记录不存在，或不在您的管辖范围内"),
}
PARSERS = [JSONParser, MultiPartParser, FormParser]
EDIT = "edit_registry"


def _step(
    name: str,
    url_path: str,
    input_serializer: type[serializers.Serializer],
    service: Callable[..., CollectiveContract],
    summary: str,
    description: str = "",
) -> Any:
    """One workflow step as a POST action: scoped lookup (404), capability (403), parse, one service call."""

    def handler(self: ContractViewSet, request: Request, *args: Any, **kwargs: Any) -> Response:
        contract = self.get_object()
        result = service(actor=request.user, contract=contract, **self.validated_input())
        return self.render(result)

    handler.__name__ = name
    handler.__doc__ = summary
    handler = action(
        detail=True, methods=["post"], url_path=url_path, url_name=url_path, parser_classes=PARSERS
    )(handler)
    return extend_schema(
        summary=summary,
        description=description,
        request=input_serializer,
        responses={200: s.ContractSerializer, **ERRORS},
        filters=False,
    )(handler)


STEP_INPUTS: dict[str, type[serializers.Serializer]] = {
    "bargain": s.StepInputSerializer,
    "submit_draft": s.DraftInputSerializer,
    "pre_review": s.PreReviewInputSerializer,
    "vote": s.VoteInputSerializer,
    "sign": s.SignInputSerializer,
    "file": s.FileInputSerializer,
    "objection": s.ObjectionInputSerializer,
    "take_effect": s.StepInputSerializer,
    "expire": s.ExpireInputSerializer,
    "renew": s.RenewInputSerializer,
    "withdraw": s.WithdrawInputSerializer,
}


@extend_schema_view(
    list=extend_schema(
        summary="集体合同列表",
        description="您管辖范围内承办的集体合同；next_actions 为当前状态下可办理的步骤。",
    ),
    retrieve=extend_schema(summary="集体合同详情", responses={200: s.ContractSerializer, 404: ERRORS[404]}),
    create=extend_schema(
        summary="发出要约（新建集体合同）",
        description="工会向企业方发出协商要约，合同由此建立，状态为“已发出要约”。一家企业为企业合同，多家为区域性或行业性合同。",
        request=s.ContractOfferSerializer,
        responses={201: s.ContractSerializer, **ERRORS},
    ),
)
class ContractViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = CollectiveContract.objects.all()
    serializer_class = s.ContractSerializer
    create_serializer_class = s.ContractOfferSerializer
    filterset_class = ContractFilter
    write_capability = EDIT
    parser_classes = PARSERS
    delete_refusal = "集体合同不能删除；未签订的可终止协商（withdraw）。"

    def queryset_base(self) -> QuerySet[CollectiveContract]:
        return CollectiveContract.objects.select_related("org_unit").prefetch_related("coverages__enterprise")

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action in STEP_INPUTS:
            return STEP_INPUTS[self.action]
        if self.action == "steps":
            return s.ContractStepSerializer
        return super().get_serializer_class()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contract = services.contract_offer(actor=request.user, **self.validated_input())
        return self.render(contract, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="办理记录",
        description="合同每一步的经办人、日期、意见和是否附有文件，按时间先后。",
        responses={200: s.ContractStepSerializer(many=True), 404: ERRORS[404]},
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def steps(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contract = self.get_object()
        page = self.paginate_queryset(selectors.contract_steps(contract))
        return self.get_paginated_response(s.ContractStepSerializer(page, many=True).data)

    bargain = _step(
        "bargain",
        "bargain",
        s.StepInputSerializer,
        services.contract_start_bargaining,
        "开始（重新开始）协商",
    )
    submit_draft = _step(
        "submit_draft",
        "submit-draft",
        s.DraftInputSerializer,
        services.contract_submit_draft,
        "提交草案，报上级工会预审",
    )
    pre_review = _step(
        "pre_review",
        "pre-review",
        s.PreReviewInputSerializer,
        services.contract_pre_review,
        "上级工会预审：通过或退回",
        "只有合同承办单位的上一级单位的工作人员才能预审；退回时须写明意见（comments）。",
    )
    vote = _step(
        "vote",
        "vote",
        s.VoteInputSerializer,
        services.contract_record_vote,
        "职代会审议表决",
        "出席代表不少于全体代表的三分之二、且赞成票超过全体代表半数时通过；否则状态为“职代会未通过”。",
    )
    sign = _step(
        "sign",
        "sign",
        s.SignInputSerializer,
        services.contract_sign,
        "签订",
        "须在职代会通过之后；10 日内报送备案。",
    )
    file = _step(
        "file",
        "file",
        s.FileInputSerializer,
        services.contract_file,
        "报送人社部门备案",
        "filed_on 为人社部门收到文本的日期；十五日内未提出异议的，次日视为生效（由每日任务 contracts-status 更新）。",
    )
    objection = _step(
        "objection",
        "objection",
        s.ObjectionInputSerializer,
        services.contract_bureau_objection,
        "登记人社部门异议（退回协商）",
    )
    take_effect = _step(
        "take_effect", "take-effect", s.StepInputSerializer, services.contract_take_effect, "登记生效"
    )
    expire = _step("expire", "expire", s.ExpireInputSerializer, services.contract_expire, "登记到期")
    renew = _step(
        "renew",
        "renew",
        s.RenewInputSerializer,
        services.contract_renew,
        "续订",
        "原合同标记为已续订，返回新一期合同（已发出要约）。",
    )
    withdraw = _step(
        "withdraw", "withdraw", s.WithdrawInputSerializer, services.contract_withdraw, "终止协商"
    )


@extend_schema_view(
    list=extend_schema(summary="职代会和厂务公开制度列表", description="含每次会议的出席情况和表决事项。"),
    retrieve=extend_schema(
        summary="职代会或厂务公开制度详情", responses={200: s.SystemSerializer, 404: ERRORS[404]}
    ),
    create=extend_schema(
        summary="建立职代会或厂务公开制度",
        request=s.SystemCreateSerializer,
        responses={201: s.SystemSerializer, **ERRORS},
    ),
)
class SystemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = EnterpriseSystem.objects.all()
    serializer_class = s.SystemSerializer
    create_serializer_class = s.SystemCreateSerializer
    filterset_class = SystemFilter
    write_capability = EDIT
    delete_refusal = "制度记录不能删除；请填写撤销日期。"

    def queryset_base(self) -> QuerySet[EnterpriseSystem]:
        return EnterpriseSystem.objects.select_related("org_unit").prefetch_related(
            "coverages__enterprise", "sessions__votes"
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        record = services.system_create(actor=request.user, **self.validated_input())
        return self.render(record, status_code=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="职工服务站列表"),
    retrieve=extend_schema(summary="职工服务站详情", responses={200: s.StationSerializer, 404: ERRORS[404]}),
    create=extend_schema(
        summary="登记职工服务站",
        request=s.StationWriteSerializer,
        responses={201: s.StationSerializer, **ERRORS},
    ),
    update=extend_schema(
        summary="修改职工服务站（全部字段）",
        request=s.StationWriteSerializer,
        responses={200: s.StationSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="修改职工服务站（部分字段）",
        request=s.StationWriteSerializer,
        responses={200: s.StationSerializer, **ERRORS},
    ),
)
class StationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = ServiceStation.objects.all()
    serializer_class = s.StationSerializer
    create_serializer_class = s.StationWriteSerializer
    update_serializer_class = s.StationWriteSerializer
    filterset_class = StationFilter
    write_capability = EDIT
    delete_refusal = "服务站不能删除；请填写撤销日期。"

    def queryset_base(self) -> QuerySet[ServiceStation]:
        return ServiceStation.objects.select_related("org_unit", "enterprise")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        station = services.station_create(actor=request.user, **self.validated_input())
        return self.render(station, status_code=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, partial: bool = False, **kwargs: Any) -> Response:
        station = self.get_object()
        data = self.validated_input(partial=partial)
        if data.get("org_unit") is None:
            data.pop("org_unit", None)  # keep the station where it is unless a unit is named
        station = services.station_update(actor=request.user, station=station, data=data)
        return self.render(station)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


def register(router: BaseRouter) -> None:
    router.register("contracts", ContractViewSet, basename="contract")
    router.register("systems", SystemViewSet, basename="system")
    router.register("stations", StationViewSet, basename="station")
