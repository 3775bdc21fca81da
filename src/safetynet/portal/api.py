"""网络工会（职工服务平台） under /api/v1/me/…: the signed-in worker's own records, for a mini-program or app.

Authentication: ``Authorization: Worker <token>`` (POST /api/v1/me/token/ with mobile and password) or the
worker's session cookie. Staff credentials are not accepted here, and worker credentials are not accepted by
any staff endpoint (they are not ``accounts.User``). Every endpoint reads only the caller's own records; a
record of someone else answers 404 like a missing one.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from safetynet.assistance.models import Application
from safetynet.cases.models import Case, CaseStep
from safetynet.core.api_base import ErrorSerializer
from safetynet.core.errors import ServiceError
from safetynet.core.middleware import client_address
from safetynet.members.models import MemberCard, Membership
from safetynet.members.services import card_qr_payload
from safetynet.portal import selectors, services
from safetynet.portal.auth import WorkerAuthentication, WorkerPrincipal, token_for
from safetynet.portal.models import JoinApplication, WorkerAccount, WorkerNotification


class IsWorker(permissions.BasePermission):
    message = "请以职工账号登录。"

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, WorkerPrincipal)


class WorkerAuthenticationScheme(OpenApiAuthenticationExtension):
    """The worker's session cookie is the site's session cookie, already documented as ``cookieAuth``: refer
    to it and register nothing new. (A mini-program sends ``Authorization: Worker <token>`` instead, from
    POST /api/v1/me/token/, as this module's docstring says.)"""

    target_class = WorkerAuthentication
    name: list[str] = []

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, str]]:
        return []

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[str]]:
        return {"cookieAuth": []}


class WorkerViewSet(viewsets.GenericViewSet):
    authentication_classes = [WorkerAuthentication]
    permission_classes = [IsWorker]
    pagination_class = None

    @property
    def account(self) -> WorkerAccount:
        return self.request.user.account

    @property
    def describing(self) -> bool:
        """True while drf-spectacular builds the schema (no request, no worker): querysets answer empty."""
        return getattr(self, "swagger_fake_view", False)


# --- serializers --------------------------------------------------------------------------------


class WorkerProfileSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    id_number_masked = serializers.SerializerMethodField()
    verified = serializers.BooleanField(source="is_verified")

    class Meta:
        model = WorkerAccount
        fields = [
            "mobile_masked",
            "verified",
            "verified_at",
            "name",
            "id_number_masked",
            "consent_version",
            "consent_at",
        ]

    def get_name(self, account: WorkerAccount) -> str:
        return account.person.name if account.person_id else ""

    def get_id_number_masked(self, account: WorkerAccount) -> str:
        return account.person.id_number_masked if account.person_id else ""


class WorkerCardSerializer(serializers.ModelSerializer):
    union = serializers.CharField(source="union.name")
    # A plain string here: the members API already publishes this choice set as an enum of its own.
    status = serializers.CharField(help_text="active 正常 / lost 挂失 / cancelled 注销")
    qr_payload = serializers.SerializerMethodField()

    class Meta:
        model = MemberCard
        fields = ["card_number", "union", "issued_on", "status", "qr_payload"]

    def get_qr_payload(self, card: MemberCard) -> str:
        return card_qr_payload(card)


class WorkerMembershipSerializer(serializers.ModelSerializer):
    union = serializers.CharField(source="union.name")

    class Meta:
        model = Membership
        fields = ["id", "union", "valid_from", "valid_to", "end_reason", "member_number"]


class WorkerCaseStepSerializer(serializers.ModelSerializer):
    to_unit = serializers.CharField(source="to_unit.name", default="")

    class Meta:
        model = CaseStep
        fields = ["at", "action", "to_unit", "reason"]


class WorkerCaseSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.name", help_text="正在办理的单位")

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "category",
            "status",
            "received_at",
            "unit",
            "deadline",
            "closed_at",
            "outcome_kind",
        ]


class WorkerCaseDetailSerializer(WorkerCaseSerializer):
    steps = serializers.SerializerMethodField()

    class Meta(WorkerCaseSerializer.Meta):
        fields = [*WorkerCaseSerializer.Meta.fields, "description", "steps"]

    @extend_schema_field(WorkerCaseStepSerializer(many=True))
    def get_steps(self, case: Case) -> list[dict[str, Any]]:
        return WorkerCaseStepSerializer(selectors.case_story(case)["steps"], many=True).data


class WorkerJoinApplicationSerializer(serializers.ModelSerializer):
    union = serializers.CharField(source="union.name")
    enterprise = serializers.CharField(source="enterprise.name")

    class Meta:
        model = JoinApplication
        fields = ["id", "union", "enterprise", "status", "reason", "created_at", "decided_at"]


class WorkerNotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkerNotification
        fields = ["id", "text", "link", "created_at", "read"]


# --- endpoints ----------------------------------------------------------------------------------


class WorkerLoginSerializer(serializers.Serializer):
    mobile = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False)


class TokenViewSet(viewsets.GenericViewSet):
    """Sign in with mobile and password; the answer carries a token for ``Authorization: Worker <token>``."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    # What DRF's OPTIONS answer describes (without it OPTIONS was a 500).
    serializer_class = WorkerLoginSerializer

    @extend_schema(
        request=WorkerLoginSerializer,
        responses={200: inline_serializer("WorkerToken", {"token": serializers.CharField()})},
    )
    def create(self, request: Request) -> Response:
        # A body that is not an object (a JSON list) has no fields: refused like a wrong password, not a 500.
        data = request.data if isinstance(request.data, dict) else {}
        account = services.worker_authenticate(
            mobile=str(data.get("mobile", "")),
            password=str(data.get("password", "")),
            address=client_address(request),
        )
        return Response({"token": token_for(account)})


class WorkerPasswordResetRequestSerializer(serializers.Serializer):
    mobile = serializers.CharField(max_length=20, help_text="注册时使用的手机号")


class WorkerPasswordResetSerializer(serializers.Serializer):
    mobile = serializers.CharField(max_length=20, help_text="注册时使用的手机号")
    code = serializers.CharField(max_length=10, help_text="短信验证码（6 位）")
    password = serializers.CharField(max_length=128, trim_whitespace=False, help_text="新密码")
    password_again = serializers.CharField(max_length=128, trim_whitespace=False, help_text="再次输入新密码")


class WorkerPasswordResetAnswerSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="给人看的中文说明")


RESET_REFUSALS = {
    400: OpenApiResponse(ErrorSerializer, description="输入有误（detail 说明原因，field 指出字段）"),
    429: OpenApiResponse(ErrorSerializer, description="过于频繁，请按 detail 所说的时间后再试"),
}


class PasswordResetViewSet(viewsets.GenericViewSet):
    """Forgotten password, for anonymous callers (like ``me/token``): ask for a code, then set a new password.

    The first answer is the same whether or not the number is registered; the limits are the web pages'
    (shared counters), and a refusal for going too fast answers 429."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    serializer_class = WorkerPasswordResetRequestSerializer

    @staticmethod
    def refusal(exc: ServiceError) -> Response:
        code = (
            status.HTTP_429_TOO_MANY_REQUESTS if exc.code == "rate_limited" else status.HTTP_400_BAD_REQUEST
        )
        return Response({"code": exc.code, "detail": exc.message, "field": exc.field}, status=code)

    @extend_schema(
        summary="忘记密码：获取验证码",
        description="向注册手机号发送重置密码的短信验证码。无论该手机号是否已注册，回答都相同。"
        "同一手机号 1 分钟 1 次、1 小时 5 次，同一地址 1 小时 20 次（与注册验证码共用），超出回答 429。",
        request=WorkerPasswordResetRequestSerializer,
        responses={
            200: OpenApiResponse(
                WorkerPasswordResetAnswerSerializer, description="已受理（如果该手机号已注册，验证码已发送）"
            ),
            **RESET_REFUSALS,
        },
        auth=[],
    )
    def create(self, request: Request) -> Response:
        data = WorkerPasswordResetRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.worker_password_reset_request(
                mobile=data.validated_data["mobile"], address=client_address(request)
            )
        except ServiceError as exc:
            return self.refusal(exc)
        return Response({"detail": services.RESET_SENT_MESSAGE})

    @extend_schema(
        summary="忘记密码：设置新密码",
        description="用短信验证码设置新密码（规则同注册）。验证码一次有效、10 分钟过期、输错 5 次失效；"
        "成功后该账号的所有登录和令牌失效，须重新登录。同一地址 1 小时内验证码错误 20 次后回答 429。",
        request=WorkerPasswordResetSerializer,
        responses={
            200: OpenApiResponse(
                WorkerPasswordResetAnswerSerializer, description="密码已重置，请用新密码登录"
            ),
            **RESET_REFUSALS,
        },
        auth=[],
    )
    @action(
        detail=False, methods=["post"], url_path="confirm", serializer_class=WorkerPasswordResetSerializer
    )
    def confirm(self, request: Request) -> Response:
        data = WorkerPasswordResetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.worker_password_reset(**data.validated_data, address=client_address(request))
        except ServiceError as exc:
            return self.refusal(exc)
        return Response({"detail": services.RESET_DONE_MESSAGE})


class ProfileViewSet(WorkerViewSet):
    queryset = WorkerAccount.objects.none()

    @extend_schema(responses=WorkerProfileSerializer)
    def list(self, request: Request) -> Response:
        return Response(WorkerProfileSerializer(self.account).data)


class CardViewSet(WorkerViewSet):
    queryset = MemberCard.objects.none()

    @extend_schema(responses={200: WorkerCardSerializer, 404: OpenApiResponse(description="尚无会员卡")})
    def list(self, request: Request) -> Response:
        card = selectors.own_card(self.account)
        if card is None:
            raise Http404
        return Response(WorkerCardSerializer(card).data)


class MembershipViewSet(WorkerViewSet):
    queryset = Membership.objects.none()
    serializer_class = WorkerMembershipSerializer

    def get_queryset(self) -> Any:
        if self.describing:
            return self.queryset
        return selectors.own_memberships(self.account)

    def list(self, request: Request) -> Response:
        return Response(self.get_serializer(self.get_queryset(), many=True).data)


class CaseViewSet(WorkerViewSet):
    queryset = Case.objects.none()
    serializer_class = WorkerCaseSerializer

    def get_queryset(self) -> Any:
        if self.describing:
            return self.queryset
        return selectors.own_cases(self.account)

    def list(self, request: Request) -> Response:
        return Response(self.get_serializer(self.get_queryset()[:100], many=True).data)

    @extend_schema(responses=WorkerCaseDetailSerializer)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        case = self.get_queryset().filter(pk=pk).first() if str(pk).isdigit() else None
        if case is None:
            raise Http404
        return Response(WorkerCaseDetailSerializer(case).data)


class JoinApplicationViewSet(WorkerViewSet):
    queryset = JoinApplication.objects.none()
    serializer_class = WorkerJoinApplicationSerializer

    def get_queryset(self) -> Any:
        if self.describing:
            return self.queryset
        return selectors.own_join_applications(self.account)

    def list(self, request: Request) -> Response:
        return Response(self.get_serializer(self.get_queryset()[:50], many=True).data)


class AssistanceApplicationViewSet(WorkerViewSet):
    """The worker's own assistance applications."""

    queryset = Application.objects.none()

    @extend_schema(
        responses=inline_serializer(
            "WorkerAssistanceApplication",
            {
                "id": serializers.IntegerField(),
                "round": serializers.CharField(),
                "status": serializers.CharField(),
                "amount": serializers.DecimalField(max_digits=12, decimal_places=2),
                "submitted_on": serializers.DateField(),
            },
            many=True,
        )
    )
    def list(self, request: Request) -> Response:
        rows = selectors.own_assistance_applications(self.account)
        return Response(
            [
                {
                    "id": row.pk,
                    "round": str(row.round.title),
                    "status": row.status,
                    "amount": str(row.amount),
                    "submitted_on": row.submitted_on,
                }
                for row in rows
            ]
        )


class NotificationViewSet(WorkerViewSet):
    queryset = WorkerNotification.objects.none()
    serializer_class = WorkerNotificationSerializer

    def list(self, request: Request) -> Response:
        return Response(self.get_serializer(selectors.own_notifications(self.account), many=True).data)


def register(router: DefaultRouter) -> None:
    router.register("me/token", TokenViewSet, basename="me-token")
    router.register("me/password-reset", PasswordResetViewSet, basename="me-password-reset")
    router.register("me/profile", ProfileViewSet, basename="me-profile")
    router.register("me/card", CardViewSet, basename="me-card")
    router.register("me/memberships", MembershipViewSet, basename="me-membership")
    router.register("me/cases", CaseViewSet, basename="me-case")
    router.register("me/join-applications", JoinApplicationViewSet, basename="me-join-application")
    router.register("me/applications", AssistanceApplicationViewSet, basename="me-application")
    router.register("me/notifications", NotificationViewSet, basename="me-notification")
