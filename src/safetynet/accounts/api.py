"""/api/v1/me/ (who am I, what may I do) and /api/v1/auth/token/ (a token for scripts).

Staff accounts themselves are managed through pages and the command line.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from safetynet.accounts.models import Capability
from safetynet.accounts.services import second_factor_check
from safetynet.accounts.views import lockout_response
from safetynet.core.api_base import ErrorSerializer, api_exception_handler


class SingleObjectSchema(AutoSchema):
    """The ``list`` route of a viewset that answers one object (``me``), not an array."""

    def _is_list_view(self, serializer: Any = None) -> bool:
        return False


class MeSerializer(serializers.Serializer):
    username = serializers.CharField(help_text="登录名")
    full_name = serializers.CharField(help_text="姓名")
    unit = serializers.CharField(allow_null=True, help_text="所属单位区划代码（没有时为 null）")
    unit_name = serializers.CharField(allow_null=True, help_text="所属单位名称")
    role = serializers.CharField(help_text="角色：city_admin、unit_admin、operator、viewer、chair")
    role_label = serializers.CharField(help_text="角色名称")
    capabilities = serializers.ListField(
        child=serializers.CharField(),
        help_text="可做的事：edit_units、edit_registry、import、manage_staff、view_audit",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="在请求头中发送：Authorization: Token <token>")


class TokenRequestSerializer(AuthTokenSerializer):
    otp_token = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        write_only=True,
        help_text="已启用动态口令的账号须提供：验证器当前显示的 6 位数字",
    )


class MeViewSet(viewsets.ViewSet):
    permission_classes = [IsAuthenticated]
    schema = SingleObjectSchema()

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    @extend_schema(
        summary="当前用户", description="登录名、所属单位、角色和权限。", responses={200: MeSerializer}
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = request.user
        unit = user.org_unit
        data = {
            "username": user.get_username(),
            "full_name": user.full_name,
            "unit": unit.code if unit else None,
            "unit_name": unit.name if unit else None,
            "role": user.role,
            "role_label": user.get_role_display(),
            "capabilities": [c for c in Capability.values if user.can(c)],
        }
        return Response(MeSerializer(data).data)


class AuthTokenViewSet(viewsets.ViewSet):
    """POST username and password, get the token that scripts send as ``Authorization: Token <token>``."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    @extend_schema(
        summary="获取令牌",
        description=(
            "用登录名和密码换取 API 令牌（同一用户总是同一令牌）。已启用动态口令的账号还须提供 otp_token。"
            "与网页登录一样，同一账号或同一地址连续失败达到上限后锁定一段时间（429）。"
        ),
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(ErrorSerializer, description="登录名、密码或动态口令不对"),
            403: OpenApiResponse(ErrorSerializer, description="须先在网页上启用动态口令"),
            429: OpenApiResponse(ErrorSerializer, description="失败次数过多，暂时锁定（说明何时可再试）"),
        },
        auth=[],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            # django-axes refused the password check (AxesStandaloneBackend): say so, and until when.
            if getattr(request, "axes_locked_out", False):
                return lockout_response(request)
            raise ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        second_factor_check(user=user, token=serializer.validated_data.get("otp_token", ""))
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key}, status=status.HTTP_200_OK)


def register(router: BaseRouter) -> None:
    router.register("me", MeViewSet, basename="me")
    router.register("auth/token", AuthTokenViewSet, basename="auth-token")
