"""/api/v1/reporting/ (rates per unit), /api/v1/reporting/flags/ (漏报 / 迟报 / 瞒报) and /api/v1/warnings/.

The reporting rows and flags are exactly those of INTERFACES.md ("Periodic reports and early warning") and of
``safetynet reporting``. A unit outside the caller's scope answers 404, as one that does not exist.
Warnings are scoped records: another district's warning answers 404; writes need a role that handles them.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from safetynet.core.api_base import (
    NOT_ALLOWED_MESSAGE,
    RecordSerializer,
    ScopedGenericViewSet,
    ScopedSlugRelatedField,
    api_exception_handler,
    bounded_integer,
)
from safetynet.core.errors import ServiceError
from safetynet.core.normalize import clean_code
from safetynet.orgs.models import Enterprise, OrgUnit
from safetynet.reporting import rates, selectors, services
from safetynet.reporting.models import (
    Incident,
    IncidentCategory,
    IncidentStatus,
    WarningAction,
    WarningCategory,
    WarningSignal,
    WarningSource,
    WarningStatus,
)
from safetynet.reporting.models import ReportForm as ReportFormModel

# --- reporting rates and flags ------------------------------------------------------------------------


class ReportingRowSerializer(serializers.Serializer):
    unit = serializers.CharField(help_text="单位区划代码（该期末的代码）")
    form = serializers.CharField(help_text="报表代码")
    period = serializers.CharField(help_text="报告期：2012-05、2012Q2 或 2012")
    as_of = serializers.DateField(help_text="截至日期")
    expected = serializers.IntegerField(help_text="应报单位数")
    received = serializers.IntegerField(help_text="已报单位数（截至日及以前首次报送）")
    timely = serializers.IntegerField(help_text="按时报送单位数")
    zero = serializers.IntegerField(help_text="零申报单位数")
    concealed = serializers.IntegerField(help_text="瞒报嫌疑单位数")
    report_rate = serializers.FloatField(allow_null=True, help_text="报送率；应报为 0 时为 null")
    report_timely_rate = serializers.FloatField(allow_null=True, help_text="及时率；应报为 0 时为 null")
    zero_report_rate = serializers.FloatField(allow_null=True, help_text="零申报率；已报为 0 时为 null")


class ReportingFlagSerializer(serializers.Serializer):
    unit = serializers.CharField(help_text="报送单位区划代码")
    flag = serializers.ChoiceField(
        choices=list(rates.FLAGS), help_text="missing 漏报 / late 迟报 / concealed 瞒报"
    )


PARAMETERS = [
    OpenApiParameter("form", OpenApiTypes.STR, required=True, description="报表代码，如 YJ01"),
    OpenApiParameter(
        "period", OpenApiTypes.STR, required=True, description="报告期：2012-05、2012Q2 或 2012"
    ),
    OpenApiParameter("as_of", OpenApiTypes.DATE, description="截至日期，默认今天"),
    OpenApiParameter("unit", OpenApiTypes.STR, description="单位区划代码，默认本单位；范围外的单位返回 404"),
]


def _result(request: Request) -> rates.Result:
    params = request.query_params
    code = (params.get("form") or "").strip().upper()
    if not code:
        raise ValidationError({"form": "必填：报表代码，如 YJ01。"})
    form = ReportFormModel.objects.filter(code=code).first()
    if form is None:
        raise ValidationError({"form": f"报表代码“{code[:20]}”不存在。"})
    if not params.get("period"):
        raise ValidationError({"period": "必填：报告期，如 2012-05、2012Q2 或 2012。"})
    try:
        period = form.parse_period(params["period"])
    except ValueError as exc:
        raise ValidationError({"period": f"{exc}。"}) from None
    raw_day = params.get("as_of")
    try:
        day = datetime.date.fromisoformat(raw_day) if raw_day else timezone.localdate()
    except ValueError:
        raise ValidationError({"as_of": f"“{raw_day[:20]}”不是 YYYY-MM-DD 格式的日期。"}) from None
    unit = clean_code(params.get("unit") or "") or None
    return selectors.reporting_for_user(request.user, form=form, period=period, as_of=day, unit_code=unit)


class ReportingViewSet(viewsets.ViewSet):
    permission_classes = [IsAuthenticated]

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    @extend_schema(
        summary="报送率、及时率、零申报率（本单位及所有下级单位）",
        description="与 `safetynet reporting` 的输出相同：每个单位一行（该期末的隶属关系）。",
        parameters=PARAMETERS,
        responses=ReportingRowSerializer(many=True),
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(_result(request).as_dicts())

    @extend_schema(
        summary="漏报、迟报、瞒报的单位",
        description="子树内每个应报单位的每个标记一条：missing 漏报、late 迟报、concealed 瞒报（可与迟报并存）。",
        parameters=PARAMETERS,
        responses=ReportingFlagSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    def flags(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(_result(request).flag_dicts())


# --- warnings -----------------------------------------------------------------------------------------


class WarningSerializer(RecordSerializer):
    enterprise = serializers.CharField(
        source="enterprise.credit_code", read_only=True, help_text="统一社会信用代码"
    )
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    unit = serializers.CharField(
        source="enterprise.org_unit.code", read_only=True, help_text="企业所属区划代码"
    )
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    case = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="转办的诉求案件 id（没有时为 null）"
    )
    case_number = serializers.SerializerMethodField(help_text="转办的诉求案件编号")

    class Meta:
        model = WarningSignal
        fields = [
            "id",
            "enterprise",
            "enterprise_name",
            "unit",
            "category",
            "category_label",
            "discovered_on",
            "reported_at",
            "workers_involved",
            "amount",
            "months",
            "description",
            "status",
            "status_label",
            "status_changed_at",
            "dismiss_reason",
            "handling_note",
            "case",
            "case_number",
            "source",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_case_number(self, warning: WarningSignal) -> str | None:
        return warning.case.number if warning.case_id else None


class WarningCreateSerializer(serializers.Serializer):
    enterprise = ScopedSlugRelatedField(
        slug_field="credit_code",
        queryset=Enterprise.objects.select_related("org_unit"),
        normalize=clean_code,
        help_text="企业统一社会信用代码（须在您的管辖范围内）",
    )
    category = serializers.ChoiceField(choices=WarningCategory.choices, help_text="预警类别")
    discovered_on = serializers.DateField(help_text="发现日期")
    reported_at = serializers.DateTimeField(required=False, help_text="报告时间，默认现在")
    workers_involved = bounded_integer(required=False, allow_null=True, help_text="涉及人数")
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="涉及金额（元），不能为负数",
    )
    months = bounded_integer(max_value=600, required=False, allow_null=True, help_text="涉及月数")
    description = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=5000,
        trim_whitespace=False,
        help_text="情况说明",
    )


class TransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=[(a, WarningAction(a).label) for a in WarningAction.values if a != WarningAction.CREATE_CASE],
        help_text="verify 核实 / handle 开始处置 / resolve 已化解 / dismiss 排除（须填理由）",
    )
    version = bounded_integer(min_value=1, required=False, help_text="您看到的版本号（过期时返回 409）")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class VersionOnlySerializer(serializers.Serializer):
    version = bounded_integer(min_value=1, required=False, help_text="您看到的版本号（过期时返回 409）")


class WarningHandlerPermission(BasePermission):
    """Reads for signed-in staff; writes for roles that handle warnings, checked after the scoped lookup."""

    message = NOT_ALLOWED_MESSAGE

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS or "pk" in getattr(view, "kwargs", {}):
            return True
        return services.can_handle_warnings(request.user)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return request.method in SAFE_METHODS or services.can_handle_warnings(request.user)


def _exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = api_exception_handler(exc, context)
    if isinstance(exc, ServiceError) and exc.code == "conflict" and response is not None:
        response.status_code = status.HTTP_409_CONFLICT
    return response


@extend_schema_view(
    list=extend_schema(
        summary="预警信息列表",
        description="您管辖范围内企业的预警，最新的在前。",
        parameters=[
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=[*WarningStatus.values, "open"], required=False
            ),
            OpenApiParameter("category", OpenApiTypes.STR, enum=WarningCategory.values, required=False),
        ],
    ),
    retrieve=extend_schema(summary="预警详情"),
    create=extend_schema(
        summary="登记预警",
        request=WarningCreateSerializer,
        responses={201: WarningSerializer},
    ),
)
class WarningViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = WarningSignal.objects.all()
    serializer_class = WarningSerializer
    create_serializer_class = WarningCreateSerializer
    permission_classes = [IsAuthenticated, WarningHandlerPermission]

    def queryset_base(self) -> QuerySet[WarningSignal]:
        return WarningSignal.objects.select_related("enterprise__org_unit", "case").order_by(
            "-reported_at", "-pk"
        )

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action != "list":
            return queryset
        wanted = self.request.query_params.get("status", "")
        if wanted == "open":
            queryset = queryset.filter(status__in=("reported", "verified", "handling"))
        elif wanted:
            if wanted not in WarningStatus.values:
                raise ValidationError({"status": f"可选值：{'、'.join([*WarningStatus.values, 'open'])}"})
            queryset = queryset.filter(status=wanted)
        category = self.request.query_params.get("category", "")
        if category:
            if category not in WarningCategory.values:
                raise ValidationError({"category": f"可选值：{'、'.join(WarningCategory.values)}"})
            queryset = queryset.filter(category=category)
        return queryset

    def get_exception_handler(self) -> Any:
        return _exception_handler

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated_input()
        warning = services.warning_create(actor=request.user, source=WarningSource.API, **data)
        return self.render(warning, status_code=status.HTTP_201_CREATED)

    @extend_schema(summary="预警状态流转", request=TransitionSerializer, responses={200: WarningSerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str, **kwargs: Any) -> Response:
        warning = self.get_object()
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        warning = services.warning_transition(
            actor=request.user, warning=warning, **serializer.validated_data
        )
        return self.render(warning)

    @extend_schema(
        summary="转为诉求案件",
        description="以“转办”渠道登记诉求案件并与预警互相关联；预警须已核实，且尚未转办。",
        request=VersionOnlySerializer,
        responses={200: WarningSerializer},
    )
    @action(detail=True, methods=["post"], url_path="create-case")
    def create_case(self, request: Request, pk: str, **kwargs: Any) -> Response:
        warning = self.get_object()
        serializer = VersionOnlySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.warning_create_case(actor=request.user, warning=warning, **serializer.validated_data)
        return self.render(warning)


# --- urgent incidents -------------------------------------------------------------------------------------


class IncidentSerializer(RecordSerializer):
    unit = serializers.CharField(source="unit.code", read_only=True, help_text="发生地区划代码")
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    enterprise = serializers.SerializerMethodField(help_text="涉及企业的统一社会信用代码（没有时为 null）")
    enterprise_name = serializers.SerializerMethodField()
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    reporter_unit = serializers.SerializerMethodField(help_text="报告单位区划代码")

    class Meta:
        model = Incident
        fields = [
            "id",
            "unit",
            "unit_name",
            "enterprise",
            "enterprise_name",
            "category",
            "category_label",
            "title",
            "description",
            "place",
            "workers_involved",
            "occurred_at",
            "known_at",
            "reported_at",
            "limit_hours",
            "late",
            "reporter_unit",
            "notified",
            "status",
            "status_label",
            "acknowledged_at",
            "closed_at",
            "outcome",
            "source",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_enterprise(self, incident: Incident) -> str | None:
        return incident.enterprise.credit_code if incident.enterprise_id else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_enterprise_name(self, incident: Incident) -> str | None:
        return incident.enterprise.name if incident.enterprise_id else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reporter_unit(self, incident: Incident) -> str | None:
        return incident.reporter_unit.code if incident.reporter_unit_id else None


class IncidentCreateSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=IncidentCategory.choices, help_text="事件类别")
    title = serializers.CharField(max_length=100, help_text="事件简述")
    known_at = serializers.DateTimeField(help_text="知悉时间（工会最早得知的时间）")
    reported_at = serializers.DateTimeField(required=False, help_text="报告时间，默认现在；不能早于知悉时间")
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, help_text="发生时间")
    unit = ScopedSlugRelatedField(
        slug_field="code",
        queryset=OrgUnit.objects.all(),
        normalize=clean_code,
        required=False,
        help_text="发生地区划代码，默认本单位（有企业时为企业所属区划）",
    )
    enterprise = ScopedSlugRelatedField(
        slug_field="credit_code",
        queryset=Enterprise.objects.select_related("org_unit"),
        normalize=clean_code,
        required=False,
        allow_null=True,
        help_text="涉及企业统一社会信用代码（须在您的管辖范围内）",
    )
    workers_involved = bounded_integer(
        required=False, allow_null=True, max_value=1_000_000, help_text="涉及人数"
    )
    place = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000, trim_whitespace=False
    )


class IncidentPermission(BasePermission):
    """Reads for signed-in staff; reporting for officers who file reports or handle warnings."""

    message = NOT_ALLOWED_MESSAGE

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS or "pk" in getattr(view, "kwargs", {}):
            return True
        return services.can_file_incidents(request.user)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return request.method in SAFE_METHODS


@extend_schema_view(
    list=extend_schema(
        summary="突发事件列表",
        description="您管辖范围内的突发事件，最新报告的在前；`late=true` 只列迟报的。",
        parameters=[
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=[*IncidentStatus.values, "open"], required=False
            ),
            OpenApiParameter("late", OpenApiTypes.BOOL, required=False),
        ],
    ),
    retrieve=extend_schema(summary="突发事件详情"),
    create=extend_schema(
        summary="报告突发事件",
        description="记录后立即通知所在区和市的值班人员（站内通知、邮件、短信）；报告时间晚于知悉时间超过时限"
        "（SAFETYNET_INCIDENT_REPORT_LIMIT_HOURS，默认 2 小时）的记为迟报；报告时间早于知悉时间的拒绝。",
        request=IncidentCreateSerializer,
        responses={201: IncidentSerializer},
    ),
)
class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = Incident.objects.all()
    serializer_class = IncidentSerializer
    create_serializer_class = IncidentCreateSerializer
    permission_classes = [IsAuthenticated, IncidentPermission]

    def queryset_base(self) -> QuerySet[Incident]:
        return Incident.objects.select_related("unit", "enterprise", "reporter_unit").order_by(
            "-reported_at", "-pk"
        )

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action != "list":
            return queryset
        wanted = self.request.query_params.get("status", "")
        if wanted == "open":
            queryset = queryset.exclude(status=IncidentStatus.CLOSED)
        elif wanted:
            if wanted not in IncidentStatus.values:
                raise ValidationError({"status": f"可选值：{'、'.join([*IncidentStatus.values, 'open'])}"})
            queryset = queryset.filter(status=wanted)
        late = self.request.query_params.get("late", "")
        if late:
            if late not in ("true", "false", "1", "0"):
                raise ValidationError({"late": "可选值：true、false。"})
            queryset = queryset.filter(late=late in ("true", "1"))
        return queryset

    def get_exception_handler(self) -> Any:
        return _exception_handler

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated_input()
        incident = services.incident_file(actor=request.user, source=WarningSource.API, **data)
        return self.render(incident, status_code=status.HTTP_201_CREATED)


def register(router: BaseRouter) -> None:
    router.register("reporting", ReportingViewSet, basename="reporting")
    router.register("warnings", WarningViewSet, basename="warning")
    router.register("incidents", IncidentViewSet, basename="incident")
