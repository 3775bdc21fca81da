"""/api/v1/cases/: intake (a hotline system posts calls), the record, my unit's queues, the city board, and
every handling step as a POST. Reads are scoped (another district's case answers 404); writes need a role
that handles cases (viewers read only) and the version the caller saw (a stale one answers 409)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter
from rest_framework.viewsets import GenericViewSet

from safetynet.cases import serializers as s
from safetynet.cases import services
from safetynet.cases.models import Case, Notification
from safetynet.cases.selectors import (
    QUEUE_BUCKETS,
    case_queue,
    case_queue_counts,
    city_board,
    notification_inbox,
    notification_unread_count,
)
from safetynet.core.api_base import (
    NOT_ALLOWED_MESSAGE,
    ErrorSerializer,
    ScopedGenericViewSet,
    ScopedPagination,
    api_exception_handler,
)
from safetynet.core.errors import ServiceError

ERRORS = {
    400: OpenApiResponse(
        ErrorSerializer, description="输入有误或业务规则不允许（detail 说明原因，field 指出字段）"
    ),
    403: OpenApiResponse(ErrorSerializer, description="您的角色不能办理案件"),
    404: OpenApiResponse(ErrorSerializer, description="案件不存在，或不在您的管辖范围内"),
    409: OpenApiResponse(ErrorSerializer, description="案件已被他人修改（code=conflict），请刷新后再操作"),
}


class CaseHandlerPermission(BasePermission):
    """Reads for signed-in staff; writes for roles that handle cases, checked after the scoped lookup."""

    message = NOT_ALLOWED_MESSAGE

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS or "pk" in getattr(view, "kwargs", {}):
            return True
        return services.can_handle_cases(request.user)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return request.method in SAFE_METHODS or services.can_handle_cases(request.user)


def _exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = api_exception_handler(exc, context)
    if isinstance(exc, ServiceError) and exc.code == "conflict" and response is not None:
        response.status_code = status.HTTP_409_CONFLICT
    return response


def _step_schema(request: type, summary: str) -> Any:
    return extend_schema(summary=summary, request=request, responses={200: s.CaseSerializer, **ERRORS})


@extend_schema_view(
    list=extend_schema(summary="案件列表", description="您管辖范围内的案件（属地在本单位及其下级）。"),
    retrieve=extend_schema(summary="案件详情", responses={200: s.CaseSerializer, 404: ERRORS[404]}),
    create=extend_schema(
        summary="登记诉求（热线等来电）",
        description="案件落在企业所在的社区（或企业直属的街道）；10 人及以上为集体争议，直接由区级办理并上市级看板。",
        request=s.CaseCreateSerializer,
        responses={201: s.CaseSerializer, 400: ERRORS[400], 403: ERRORS[403]},
    ),
)
class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = Case.objects.all()
    serializer_class = s.CaseSerializer
    create_serializer_class = s.CaseCreateSerializer
    permission_classes = [IsAuthenticated, CaseHandlerPermission]

    def queryset_base(self) -> QuerySet[Case]:
        return Case.objects.select_related("unit", "origin_unit", "enterprise", "leader", "handler").order_by(
            "-received_at", "-pk"
        )

    def get_exception_handler(self) -> Any:
        return _exception_handler

    def _input(self, serializer_class: type) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = services.case_intake(actor=request.user, **self._input(s.CaseCreateSerializer))
        # The new case as the service left it (unit, origin and enterprise loaded, nothing annotated), rendered
        # as CaseSerializer renders it: reading it again would cost a five-table query per call.
        return Response(s.case_representation(case), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="本单位待办队列",
        description="本单位正在办理的案件：all 全部在办、new 待受理、due_soon 临期、overdue 超期、escalated 上交至本级。",
        parameters=[OpenApiParameter("bucket", OpenApiTypes.STR, enum=list(QUEUE_BUCKETS), required=False)],
        responses={200: s.CaseSerializer(many=True)},
    )
    @action(detail=False, methods=["get"])
    def queue(self, request: Request, **kwargs: Any) -> Response:
        bucket = request.query_params.get("bucket", "all")
        if bucket not in QUEUE_BUCKETS:
            raise ServiceError("invalid", f"bucket 应为 {' / '.join(QUEUE_BUCKETS)} 之一。", field="bucket")
        page = self.paginate_queryset(case_queue(request.user, bucket))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(summary="本单位待办数量", responses={200: s.QueueCountsSerializer})
    @action(detail=False, methods=["get"], url_path="queue/counts")
    def queue_counts(self, request: Request, **kwargs: Any) -> Response:
        return Response(case_queue_counts(request.user))

    @extend_schema(summary="市级看板：集体争议和重大案件", responses={200: s.CaseSerializer(many=True)})
    @action(detail=False, methods=["get"])
    def board(self, request: Request, **kwargs: Any) -> Response:
        page = self.paginate_queryset(city_board(request.user))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _act(self, serializer_class: type, call: Any) -> Response:
        case = self.get_object()
        data = self._input(serializer_class)
        result = call(case, data)
        return self.render(result if isinstance(result, Case) else case)

    @_step_schema(s.AcceptSerializer, "受理")
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str, **kwargs: Any) -> Response:
        return self._act(
            s.AcceptSerializer, lambda case, d: services.case_accept(actor=request.user, case=case, **d)
        )

    @_step_schema(s.NoteSerializer, "记录一次调解")
    @action(detail=True, methods=["post"], url_path="mediation-attempt")
    def mediation_attempt(self, request: Request, pk: str, **kwargs: Any) -> Response:
        return self._act(
            s.NoteSerializer,
            lambda case, d: services.case_record_mediation_attempt(actor=request.user, case=case, **d),
        )

    @_step_schema(s.ResolveSerializer, "办结：调解成功、撤回或不属受理范围")
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str, **kwargs: Any) -> Response:
        return self._act(
            s.ResolveSerializer, lambda case, d: services.case_resolve(actor=request.user, case=case, **d)
        )

    @_step_schema(s.ReferSerializer, "转出：劳动仲裁、人民法院、劳动监察、信访部门")
    @action(detail=True, methods=["post"], url_path="refer-out")
    def refer_out(self, request: Request, pk: str, **kwargs: Any) -> Response:
        return self._act(
            s.ReferSerializer, lambda case, d: services.case_refer_out(actor=request.user, case=case, **d)
        )

    @_step_schema(s.ReasonSerializer, "上交上一级")
    @action(detail=True, methods=["post"], url_path="hand-up")
    def hand_up(self, request: Request, pk: str, **kwargs: Any) -> Response:
        return self._act(
            s.ReasonSerializer, lambda case, d: services.case_hand_up(actor=request.user, case=case, **d)
        )

    @_step_schema(s.OptionalReasonSerializer, "提级办理（上级单位接手）")
    @action(detail=True, methods=["post"], url_path="pull-up")
    def pull_up(self, request: Request, pk: str, **kwargs: Any) -> Response:
        return self._act(
            s.OptionalReasonSerializer,
            lambda case, d: services.case_pull_up(actor=request.user, case=case, **d),
        )

    @_step_schema(s.InstructionsSerializer, "交办下级（附交办意见）")
    @action(detail=True, methods=["post"], url_path="send-down")
    def send_down(self, request: Request, pk: str, **kwargs: Any) -> Response:
        return self._act(
            s.InstructionsSerializer,
            lambda case, d: services.case_send_down(actor=request.user, case=case, **d),
        )

    @_step_schema(s.LeaderSerializer, "指定包案领导")
    @action(detail=True, methods=["post"])
    def leader(self, request: Request, pk: str, **kwargs: Any) -> Response:
        return self._act(
            s.LeaderSerializer,
            lambda case, d: services.case_assign_leader(actor=request.user, case=case, **d),
        )

    @_step_schema(s.MergeSerializer, "将同一企业、同类别的个案并入本集体争议")
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str, **kwargs: Any) -> Response:
        def call(case: Case, data: dict[str, Any]) -> Case:
            members = list(Case.objects.visible_to(request.user).filter(pk__in=data["cases"]))
            if len(members) != len(set(data["cases"])):
                raise ServiceError("not_found", "部分个案不存在或不在您的管辖范围内。", field="cases")
            return services.case_merge_into_collective(
                actor=request.user, cases=members, collective=case, versions={case.pk: data["version"]}
            )

        return self._act(s.MergeSerializer, call)

    @_step_schema(s.FollowUpSerializer, "回访")
    @action(detail=True, methods=["post"], url_path="follow-up")
    def follow_up(self, request: Request, pk: str, **kwargs: Any) -> Response:
        return self._act(
            s.FollowUpSerializer,
            lambda case, d: services.case_record_follow_up(actor=request.user, case=case, **d),
        )

    @_step_schema(s.ReasonSerializer, "重新办理（办结后 30 日内）")
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str, **kwargs: Any) -> Response:
        return self._act(
            s.ReasonSerializer, lambda case, d: services.case_reopen(actor=request.user, case=case, **d)
        )

    @_step_schema(s.RectificationSerializer, "隐患举报：责令整改")
    @action(detail=True, methods=["post"])
    def rectification(self, request: Request, pk: str, **kwargs: Any) -> Response:
        return self._act(
            s.RectificationSerializer,
            lambda case, d: services.hazard_assign_rectification(actor=request.user, case=case, **d),
        )

    @_step_schema(s.VerifySerializer, "隐患举报：整改核查")
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str, **kwargs: Any) -> Response:
        return self._act(
            s.VerifySerializer, lambda case, d: services.hazard_verify(actor=request.user, case=case, **d)
        )


@extend_schema_view(
    list=extend_schema(
        summary="我的站内通知",
        description="当前登录人员自己的通知，最新的在前；unread=true 只列未读。只能看到发给自己的通知。",
        parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, required=False, description="只列未读")],
    ),
)
class NotificationViewSet(mixins.ListModelMixin, GenericViewSet):
    """/api/v1/notifications/: the caller's own inbox (never anyone else's), and marking it read."""

    queryset = Notification.objects.none()
    serializer_class = s.NotificationSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = ScopedPagination

    def get_queryset(self) -> QuerySet[Notification]:
        unread = self.request.query_params.get("unread", "").lower() in ("1", "true", "yes")
        return notification_inbox(self.request.user, unread_only=unread)

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    @extend_schema(
        summary="标为已读",
        description="ids 列出的通知标为已读；省略 ids 时全部未读通知标为已读。列出的通知中有不存在或不是发给您的，"
        "整个请求答 404，什么也不改。",
        request=s.NotificationReadSerializer,
        responses={200: s.NotificationReadResultSerializer, 400: ERRORS[400], 404: ERRORS[404]},
    )
    @action(detail=False, methods=["post"])
    def read(self, request: Request, **kwargs: Any) -> Response:
        serializer = s.NotificationReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = services.notification_mark_read(
            actor=request.user, notification_ids=serializer.validated_data.get("ids")
        )
        return Response({"marked": marked, "unread": notification_unread_count(request.user)})

    @extend_schema(summary="未读通知条数", responses={200: s.NotificationCountSerializer})
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request: Request, **kwargs: Any) -> Response:
        return Response({"unread": notification_unread_count(request.user)})


def register(router: BaseRouter) -> None:
    router.register("cases", CaseViewSet, basename="case")
    router.register("notifications", NotificationViewSet, basename="notification")
