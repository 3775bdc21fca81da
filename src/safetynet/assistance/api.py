"""服务帮扶 under /api/v1/assistance/: hardship files, rounds (with their budget lines), applications (with the
review queue, votes and withdrawal), payments (reversal), loans (repayment) and member discount bases.

Scoped like every endpoint (core/api_base.py): a record outside the caller's subtree answers 404 as a missing
one; a round is visible to the units that take part in it (its unit, those above and below). Writes call one
``assistance.services`` function each; a refusal is ``{"code", "detail", "field"}`` in Chinese. ID numbers are
only ever masked.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from safetynet.accounts.models import Capability
from safetynet.assistance import selectors, services
from safetynet.assistance.models import (
    Application,
    ApplicationStatus,
    BaseKind,
    Cause,
    CloseReason,
    DiscountBase,
    FileStatus,
    HardshipFile,
    HardshipLevel,
    Loan,
    LoanStatus,
    Payment,
    Round,
)
from safetynet.core.api_base import (
    RecordSerializer,
    ScopedGenericViewSet,
    ScopedSlugRelatedField,
    ServiceCreateMixin,
    body_record,
    bounded_integer,
    record_id,
    valid_body,
)
from safetynet.core.normalize import clean_code
from safetynet.core.scope import get_for_user
from safetynet.members.models import Person
from safetynet.orgs.models import OrgUnit

MONEY = {"max_digits": 12, "decimal_places": 2}


def money_field(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(**MONEY, **kwargs)


class PersonFieldsMixin(serializers.Serializer):
    person_name = serializers.CharField(source="person.name", read_only=True, help_text="职工姓名")
    person_id_number = serializers.CharField(
        source="person.id_number_masked", read_only=True, help_text="证件号码（遮蔽）"
    )
    unit = serializers.CharField(source="org_unit.code", read_only=True, help_text="单位区划代码")
    unit_name = serializers.CharField(source="org_unit.name", read_only=True)


# --- hardship files ----------------------------------------------------------------------------------


class HardshipFileSerializer(PersonFieldsMixin, RecordSerializer):
    causes = serializers.ListField(child=serializers.CharField(), source="cause_codes", read_only=True)
    cause_labels = serializers.ListField(child=serializers.CharField(), read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    below_threshold = serializers.BooleanField(read_only=True, allow_null=True)

    class Meta:
        model = HardshipFile
        fields = [
            "id",
            "person",
            "person_name",
            "person_id_number",
            "unit",
            "unit_name",
            "household_size",
            "monthly_income",
            "income_per_head",
            "threshold",
            "below_threshold",
            "causes",
            "cause_labels",
            "level",
            "status",
            "status_label",
            "opened_on",
            "closed_on",
            "close_reason",
            "reviewed_on",
            "review_due_on",
            "version",
        ]
        read_only_fields = fields


class HardshipFileCreateSerializer(serializers.Serializer):
    person = record_id(help_text="职工 id（职工名录中，须在您的管辖范围内）")
    unit = ScopedSlugRelatedField(
        slug_field="code", queryset=OrgUnit.objects.all(), normalize=clean_code, help_text="建档单位区划代码"
    )
    household_size = bounded_integer(min_value=1, max_value=30, help_text="家庭人口")
    monthly_income = money_field(min_value=0, help_text="家庭月收入（元）")
    causes = serializers.ListField(
        child=serializers.ChoiceField(choices=Cause.choices), min_length=1, help_text="困难类型"
    )
    opened_on = serializers.DateField(help_text="建档日期")
    level = serializers.ChoiceField(choices=HardshipLevel.choices, default=HardshipLevel.GENERAL)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class FileReviewSerializer(serializers.Serializer):
    reviewed_on = serializers.DateField(help_text="审核日期")
    household_size = bounded_integer(min_value=1, max_value=30, required=False, allow_null=True)
    monthly_income = money_field(min_value=0, required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    version = bounded_integer(required=False, allow_null=True, help_text="看到的版本（乐观锁）")


class FileCloseSerializer(serializers.Serializer):
    closed_on = serializers.DateField(help_text="脱困日期，不能早于建档日期")
    reason = serializers.ChoiceField(choices=CloseReason.choices, help_text="脱困原因")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    version = bounded_integer(required=False, allow_null=True)


class ActionCapabilityMixin:
    """The capability a write needs depends on the action (open a file: handle; review it: review)."""

    action_capabilities: dict[str, str] = {}
    action: str | None

    @property
    def write_capability(self) -> str | None:
        return self.action_capabilities.get(self.action or "")


# A list and a detail of one kind of record. The list's query parameters are read by ``filter_list`` (by
# default the filter backends'); a single record is found by its key within the scope alone. (A comment, not
# a docstring: drf-spectacular would show it as the description of every viewset without its own.)
class RecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action != "list":
            return queryset
        return self.filter_list(queryset)

    def filter_list(self, queryset: QuerySet) -> QuerySet:
        return super().filter_queryset(queryset)


def choice_param(request: Request, name: str, values: Any) -> str:
    value = request.query_params.get(name, "")
    if value and value not in values:
        raise ValidationError({name: f"可选值：{'、'.join(values)}。"})
    return value


@extend_schema_view(
    list=extend_schema(
        summary="困难职工档案列表",
        parameters=[
            OpenApiParameter("q", str, description="姓名（开头）或证件号码后四位"),
            OpenApiParameter("status", str, enum=FileStatus.values),
            OpenApiParameter("cause", str, enum=Cause.values),
        ],
    ),
    retrieve=extend_schema(summary="困难职工档案详情"),
    create=extend_schema(
        summary="建立困难职工档案",
        description="职工须在职工名录中；人均月收入按家庭月收入 ÷ 家庭人口计算，与本区当年的困难标准比较。"
        "同一职工只能有一份在档档案。",
        request=HardshipFileCreateSerializer,
        responses={201: HardshipFileSerializer},
    ),
)
class FileViewSet(ActionCapabilityMixin, ServiceCreateMixin, RecordViewSet):
    queryset = HardshipFile.objects.all()
    serializer_class = HardshipFileSerializer
    create_serializer_class = HardshipFileCreateSerializer
    action_capabilities = {
        "create": Capability.HANDLE_ASSISTANCE,
        "review": Capability.REVIEW_ASSISTANCE,
        "close": Capability.HANDLE_ASSISTANCE,
    }

    def queryset_base(self) -> QuerySet[HardshipFile]:
        return HardshipFile.objects.select_related("person", "org_unit").order_by("-opened_on", "-pk")

    def filter_list(self, queryset: QuerySet) -> QuerySet:
        params = self.request.query_params
        status_value = choice_param(self.request, "status", FileStatus.values)
        cause = choice_param(self.request, "cause", Cause.values)
        return selectors.hardship_file_list(
            self.request.user, q=params.get("q", "")[:50], status=status_value, cause=cause
        ).order_by("-opened_on", "-pk")

    def create_record(self, data: dict[str, Any]) -> HardshipFile:
        person = body_record(
            lambda: get_for_user(Person, self.request.user, pk=data["person"]),
            field="person",
            message="该职工不在职工名册中，或不在您的管辖范围内。",
        )
        return services.hardship_file_open(
            actor=self.request.user,
            person=person,
            org_unit=data["unit"],
            household_size=data["household_size"],
            monthly_income=data["monthly_income"],
            causes=data["causes"],
            opened_on=data["opened_on"],
            level=data["level"],
            note=data["note"],
        )

    @extend_schema(
        summary="审核或年度复核档案", request=FileReviewSerializer, responses={200: HardshipFileSerializer}
    )
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str, **kwargs: Any) -> Response:
        hardship_file = self.get_object()
        hardship_file = services.hardship_file_review(
            actor=request.user, hardship_file=hardship_file, **valid_body(FileReviewSerializer, request)
        )
        return self.render(hardship_file)

    @extend_schema(summary="脱困销档", request=FileCloseSerializer, responses={200: HardshipFileSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str, **kwargs: Any) -> Response:
        hardship_file = self.get_object()
        hardship_file = services.hardship_file_close(
            actor=request.user, hardship_file=hardship_file, **valid_body(FileCloseSerializer, request)
        )
        return self.render(hardship_file)


# --- rounds ------------------------------------------------------------------------------------------


class RoundSerializer(RecordSerializer):
    unit = serializers.CharField(source="org_unit.code", read_only=True, help_text="组织单位区划代码")
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    levels = serializers.ListField(
        child=serializers.IntegerField(), read_only=True, help_text="审核层级，自下而上"
    )

    class Meta:
        model = Round
        fields = [
            "id",
            "kind",
            "kind_label",
            "year",
            "title",
            "unit",
            "status",
            "window_opens",
            "window_closes",
            "standard_amount",
            "min_amount",
            "max_amount",
            "require_open_file",
            "require_member",
            "require_below_threshold",
            "require_not_paid",
            "levels",
            "notice_days",
            "version",
        ]
        read_only_fields = fields


class BudgetLineSerializer(serializers.Serializer):
    unit = serializers.CharField(source="unit.code")
    unit_name = serializers.CharField(source="unit.name")
    amount = money_field()
    allocated_to_children = money_field()
    spent = money_field()
    remaining = money_field()
    over_allocated = serializers.BooleanField()


@extend_schema_view(
    list=extend_schema(
        summary="帮扶批次列表",
        description="本单位、上级和下级单位组织的帮扶批次。",
        parameters=[OpenApiParameter("year", int), OpenApiParameter("kind", str)],
    ),
    retrieve=extend_schema(summary="帮扶批次详情"),
)
class RoundViewSet(RecordViewSet):
    queryset = Round.objects.all()
    serializer_class = RoundSerializer

    def get_queryset(self) -> QuerySet[Round]:
        return selectors.round_list(self.request.user).order_by("-year", "kind", "pk")

    def filter_list(self, queryset: QuerySet) -> QuerySet:
        year = self.request.query_params.get("year", "")
        if year and not (year.isdigit() and 2000 <= int(year) <= 2100):
            raise ValidationError({"year": "年度应为 2000–2100 的整数。"})
        kind = self.request.query_params.get("kind", "")
        if year:
            queryset = queryset.filter(year=int(year))
        if kind:
            queryset = queryset.filter(kind=kind)
        return queryset

    @extend_schema(
        summary="预算分解（您能看到的各单位份额）", responses={200: BudgetLineSerializer(many=True)}
    )
    @action(detail=True, methods=["get"])
    def budget(self, request: Request, pk: str, **kwargs: Any) -> Response:
        round_ = self.get_object()
        return Response(BudgetLineSerializer(selectors.budget_lines(round_, request.user), many=True).data)


# --- applications ------------------------------------------------------------------------------------


class VoteSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    voter_name = serializers.CharField()
    decision = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class ApplicationSerializer(PersonFieldsMixin, RecordSerializer):
    round_title = serializers.CharField(source="round.title", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Application
        fields = [
            "id",
            "round",
            "round_title",
            "hardship_file",
            "person",
            "person_name",
            "person_id_number",
            "unit",
            "unit_name",
            "amount",
            "status",
            "status_label",
            "current_level",
            "submitted_on",
            "submitted_via",
            "decided_on",
            "notice_from",
            "notice_until",
            "student_name",
            "school",
            "reason",
            "closing_note",
            "version",
        ]
        read_only_fields = fields


class ApplicationCreateSerializer(serializers.Serializer):
    round = record_id(help_text="帮扶批次 id")
    hardship_file = record_id(help_text="困难档案 id")
    amount = money_field(min_value=0, required=False, allow_null=True, help_text="金额，默认本批次标准金额")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[("approve", "同意"), ("reject", "不同意")])
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    version = bounded_integer(required=False, allow_null=True)


class AssistanceReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


@extend_schema_view(
    list=extend_schema(
        summary="帮扶申请列表",
        parameters=[
            OpenApiParameter("round", int, description="帮扶批次 id"),
            OpenApiParameter("status", str, enum=ApplicationStatus.values),
        ],
    ),
    retrieve=extend_schema(summary="帮扶申请详情"),
    create=extend_schema(
        summary="提交帮扶申请（金秋助学须在页面上传录取通知书）",
        request=ApplicationCreateSerializer,
        responses={201: ApplicationSerializer},
    ),
)
class ApplicationViewSet(ActionCapabilityMixin, ServiceCreateMixin, RecordViewSet):
    queryset = Application.objects.all()
    serializer_class = ApplicationSerializer
    create_serializer_class = ApplicationCreateSerializer
    action_capabilities = {
        "create": Capability.HANDLE_ASSISTANCE,
        "vote": Capability.REVIEW_ASSISTANCE,
        "withdraw": Capability.HANDLE_ASSISTANCE,
    }

    def queryset_base(self) -> QuerySet[Application]:
        return Application.objects.select_related("person", "org_unit", "round").order_by("-pk")

    def filter_list(self, queryset: QuerySet) -> QuerySet:
        round_id = self.request.query_params.get("round", "")
        if round_id and not round_id.isdigit():
            raise ValidationError({"round": "帮扶批次 id 应为整数。"})
        status_value = choice_param(self.request, "status", ApplicationStatus.values)
        round_ = None
        if round_id:
            round_ = selectors.round_list(self.request.user).filter(pk=int(round_id[:18])).first()
            if round_ is None:
                return queryset.none()
        return selectors.application_list(self.request.user, round=round_, status=status_value).order_by(
            "-pk"
        )

    def create_record(self, data: dict[str, Any]) -> Application:
        round_ = selectors.round_list(self.request.user).filter(pk=data["round"]).first()
        if round_ is None:
            raise ValidationError({"round": "帮扶批次不存在或您不能参与。"})
        hardship_file = body_record(
            lambda: get_for_user(HardshipFile, self.request.user, pk=data["hardship_file"]),
            field="hardship_file",
            message="困难职工档案不存在，或不在您的管辖范围内。",
        )
        return services.application_submit(
            actor=self.request.user,
            round=round_,
            on=timezone.localdate(),
            hardship_file=hardship_file,
            amount=data.get("amount"),
            reason=data["reason"],
        )

    @extend_schema(summary="待我审核", responses={200: ApplicationSerializer(many=True)})
    @action(detail=False, methods=["get"])
    def queue(self, request: Request, **kwargs: Any) -> Response:
        queryset = selectors.review_queue(request.user)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(ApplicationSerializer(page, many=True).data)

    @extend_schema(summary="审核记录（只增不改）", responses={200: VoteSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def votes(self, request: Request, pk: str, **kwargs: Any) -> Response:
        application = self.get_object()
        return Response(VoteSerializer(selectors.application_votes(application), many=True).data)

    @extend_schema(
        summary="审核：同意或不同意（不同意须写明理由）",
        description="由申请当前所在层级的审核人投票；达到该级需同意人数（N/M）后进入上一级或审核通过。",
        request=DecisionSerializer,
        responses={200: ApplicationSerializer},
    )
    @action(detail=True, methods=["post"])
    def vote(self, request: Request, pk: str, **kwargs: Any) -> Response:
        application = self.get_object()
        application = services.application_vote(
            actor=request.user, application=application, **valid_body(DecisionSerializer, request)
        )
        return self.render(application)

    @extend_schema(
        summary="撤回申请", request=AssistanceReasonSerializer, responses={200: ApplicationSerializer}
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str, **kwargs: Any) -> Response:
        application = self.get_object()
        reason = valid_body(AssistanceReasonSerializer, request)["reason"]
        application = services.application_withdraw(
            actor=request.user, application=application, reason=reason
        )
        return self.render(application)


# --- payments ----------------------------------------------------------------------------------------


class PaymentSerializer(PersonFieldsMixin, RecordSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "round",
            "application",
            "person",
            "person_name",
            "person_id_number",
            "unit",
            "unit_name",
            "kind",
            "kind_label",
            "amount",
            "batch",
            "reverses",
            "reason",
            "created_on",
            "paid_on",
            "reversed_on",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="帮扶发放记录（冲正为负数记录）"),
    retrieve=extend_schema(summary="发放记录详情"),
)
class PaymentViewSet(ActionCapabilityMixin, RecordViewSet):
    queryset = Payment.objects.all()
    serializer_class = PaymentSerializer
    action_capabilities = {"reverse": Capability.MANAGE_ASSISTANCE_FUNDS}

    def queryset_base(self) -> QuerySet[Payment]:
        return Payment.objects.select_related("person", "org_unit").order_by("-pk")

    @extend_schema(
        summary="冲正（新增一条负数记录，预算退回）",
        request=AssistanceReasonSerializer,
        responses={201: PaymentSerializer},
    )
    @action(detail=True, methods=["post"])
    def reverse(self, request: Request, pk: str, **kwargs: Any) -> Response:
        payment = self.get_object()
        reversal = services.payment_reverse(
            actor=request.user,
            payment=payment,
            reason=valid_body(AssistanceReasonSerializer, request)["reason"],
            on=timezone.localdate(),
        )
        return self.render(reversal, status_code=status.HTTP_201_CREATED)


# --- loans -------------------------------------------------------------------------------------------


class LoanSerializer(PersonFieldsMixin, RecordSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Loan
        fields = [
            "id",
            "person",
            "person_name",
            "person_id_number",
            "unit",
            "unit_name",
            "principal",
            "granted_on",
            "instalment_count",
            "purpose",
            "status",
            "status_label",
            "written_off_on",
            "version",
        ]
        read_only_fields = fields


class RepaymentSerializer(serializers.Serializer):
    amount = money_field(min_value=0, help_text="还款金额（元），不能超过未还余额")
    paid_on = serializers.DateField(help_text="还款日期")


@extend_schema_view(
    list=extend_schema(
        summary="小额无息借款", parameters=[OpenApiParameter("status", str, enum=LoanStatus.values)]
    ),
    retrieve=extend_schema(summary="借款详情"),
)
class LoanViewSet(ActionCapabilityMixin, RecordViewSet):
    queryset = Loan.objects.all()
    serializer_class = LoanSerializer
    action_capabilities = {"repay": Capability.HANDLE_ASSISTANCE}

    def queryset_base(self) -> QuerySet[Loan]:
        return Loan.objects.select_related("person", "org_unit").order_by("-granted_on", "-pk")

    def filter_list(self, queryset: QuerySet) -> QuerySet:
        status_value = choice_param(self.request, "status", LoanStatus.values)
        return queryset.filter(status=status_value) if status_value else queryset

    @extend_schema(summary="登记还款", request=RepaymentSerializer, responses={200: LoanSerializer})
    @action(detail=True, methods=["post"])
    def repay(self, request: Request, pk: str, **kwargs: Any) -> Response:
        loan = self.get_object()
        services.loan_repay(actor=request.user, loan=loan, **valid_body(RepaymentSerializer, request))
        return self.render(loan)


# --- member discount bases ---------------------------------------------------------------------------


class DiscountBaseSerializer(RecordSerializer):
    unit = serializers.CharField(source="org_unit.code", read_only=True)
    unit_name = serializers.CharField(source="org_unit.name", read_only=True)

    class Meta:
        model = DiscountBase
        fields = [
            "id",
            "name",
            "kind",
            "address",
            "phone",
            "discount",
            "valid_from",
            "valid_to",
            "unit",
            "unit_name",
            "version",
        ]
        read_only_fields = fields


class DiscountBaseCreateSerializer(serializers.Serializer):
    unit = ScopedSlugRelatedField(
        slug_field="code", queryset=OrgUnit.objects.all(), normalize=clean_code, help_text="所属单位区划代码"
    )
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=BaseKind.choices)
    address = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    discount = serializers.CharField(max_length=300, help_text="优惠内容")
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(required=False, allow_null=True, default=None)


@extend_schema_view(
    list=extend_schema(
        summary="会员服务基地",
        parameters=[
            OpenApiParameter("kind", str, enum=BaseKind.values),
            OpenApiParameter("active_on", str, description="只列该日有效的（YYYY-MM-DD）"),
        ],
    ),
    retrieve=extend_schema(summary="会员服务基地详情"),
    create=extend_schema(
        summary="新增会员服务基地",
        request=DiscountBaseCreateSerializer,
        responses={201: DiscountBaseSerializer},
    ),
)
class DiscountBaseViewSet(ServiceCreateMixin, RecordViewSet):
    queryset = DiscountBase.objects.all()
    serializer_class = DiscountBaseSerializer
    create_serializer_class = DiscountBaseCreateSerializer
    write_capability = Capability.HANDLE_ASSISTANCE

    def queryset_base(self) -> QuerySet[DiscountBase]:
        return DiscountBase.objects.select_related("org_unit").order_by("org_unit__path", "name", "pk")

    def filter_list(self, queryset: QuerySet) -> QuerySet:
        kind = choice_param(self.request, "kind", BaseKind.values)
        raw = self.request.query_params.get("active_on", "")
        active_on = None
        if raw:
            try:
                active_on = serializers.DateField().to_internal_value(raw[:20])
            except serializers.ValidationError:
                raise ValidationError({"active_on": f"“{raw[:20]}”不是 YYYY-MM-DD 格式的日期。"}) from None
        return selectors.discount_base_list(self.request.user, kind=kind, active_on=active_on).order_by(
            "org_unit__path", "name", "pk"
        )

    def create_record(self, data: dict[str, Any]) -> DiscountBase:
        return services.discount_base_create(actor=self.request.user, org_unit=data.pop("unit"), **data)


def register(router: BaseRouter) -> None:
    router.register("assistance/files", FileViewSet, basename="assistance-file")
    router.register("assistance/rounds", RoundViewSet, basename="assistance-round")
    router.register("assistance/applications", ApplicationViewSet, basename="assistance-application")
    router.register("assistance/payments", PaymentViewSet, basename="assistance-payment")
    router.register("assistance/loans", LoanViewSet, basename="assistance-loan")
    router.register("assistance/bases", DiscountBaseViewSet, basename="assistance-base")
