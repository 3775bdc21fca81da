"""/api/v1/persons, /employments, /memberships, /cards: thin viewsets on the scoped base.

Each action parses (serializer), authorises (the base), calls one service or selector, renders. ID numbers
and phones are always masked; ``POST /persons/{id}/reveal/`` returns them in clear for a permitted role and
writes the audit row. A document number is looked up by its keyed hash (exact), never by pattern.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from safetynet.core.api_base import ErrorSerializer, IdFilter, ScopedGenericViewSet
from safetynet.members import selectors, services
from safetynet.members import serializers as s
from safetynet.members.models import CardStatus, Employment, MemberCard, Membership, Person, interval_active_q
from safetynet.members.validation import IdNumberError, validate_resident_id

ERRORS = {
    400: OpenApiResponse(
        ErrorSerializer, description="输入有误或业务规则不允许（detail 说明原因，field 指出字段）"
    ),
    403: OpenApiResponse(ErrorSerializer, description="您的角色无权进行此操作"),
    404: OpenApiResponse(ErrorSerializer, description="记录不存在，或不在您的管辖范围内"),
}


def _write_schema(request: Any, response: Any, summary: str, code: int = 200, **extra: Any) -> Any:
    return extend_schema(summary=summary, request=request, responses={code: response, **ERRORS}, **extra)


# --- filters ---------------------------------------------------------------------------------


class PersonFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", label="姓名、完整证件号码、脱敏号码、电话、会员编号或卡号")
    id_number = filters.CharFilter(method="by_number", label="完整证件号码（按加密检索码精确查找）")

    class Meta:
        model = Person
        fields: list[str] = []

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The selector is scoped itself: hash lookups for numbers, never a pattern on clear text.
        return selectors.person_search(self.request.user, value)

    def by_number(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # A resident ID number with a wrong length, birth date or check character answers 400 saying so;
        # other documents (passports, permits) are looked up as typed.
        if value and value.strip()[:1].isdigit():
            try:
                validate_resident_id(value)
            except IdNumberError as exc:
                raise ValidationError({"id_number": exc.messages[0]}) from None
        person = selectors.person_find_by_id_number(self.request.user, value)
        return queryset.filter(pk=person.pk) if person is not None else queryset.none()


class DatedFilter(filters.FilterSet):
    as_of = filters.DateFilter(method="active_on", label="只列这一天有效的记录（YYYY-MM-DD）")

    def active_on(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(interval_active_q(value))


class EmploymentFilter(DatedFilter):
    person = IdFilter(field_name="person_id", label="职工编号")
    enterprise = filters.CharFilter(field_name="enterprise__credit_code", label="企业统一社会信用代码")

    class Meta:
        model = Employment
        fields: list[str] = []


class MembershipFilter(DatedFilter):
    person = IdFilter(field_name="person_id", label="职工编号")
    union = IdFilter(field_name="union_id", label="基层工会编号")
    member_number = filters.CharFilter(field_name="member_number", label="会员编号（精确）")

    class Meta:
        model = Membership
        fields: list[str] = []


class CardFilter(filters.FilterSet):
    card_number = filters.CharFilter(field_name="card_number", label="卡号（精确）")
    person = IdFilter(field_name="person_id", label="职工编号")
    status = filters.ChoiceFilter(field_name="status", choices=CardStatus.choices, label="状态")

    class Meta:
        model = MemberCard
        fields: list[str] = []


# --- persons ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="职工列表与查询",
        description="您管辖范围内（在本单位及下级单位任职或入会）的职工；证件号码和电话均脱敏。"
        "按证件号码查找请用 POST /persons/lookup/，号码不会出现在网址和访问日志中。",
    ),
    retrieve=extend_schema(
        summary="职工详情（含用工经历和会员关系）",
        responses={200: s.PersonDetailSerializer, 404: ERRORS[404]},
    ),
    create=_write_schema(s.PersonRegisterSerializer, s.EmploymentSerializer, "登记职工并开始用工", 201),
)
class PersonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = Person.objects.all()
    serializer_class = s.PersonSerializer
    create_serializer_class = s.PersonRegisterSerializer
    filterset_class = PersonFilter
    write_capability = "edit_registry"
    delete_refusal = "职工记录不能删除。"

    def get_serializer_class(self) -> type:
        if self.action == "retrieve":
            return s.PersonDetailSerializer
        if self.action == "lookup":
            return s.PersonLookupSerializer
        if self.action == "reveal":
            return s.RevealSerializer
        return super().get_serializer_class()

    def queryset_base(self) -> QuerySet[Person]:
        return Person.objects.order_by("name", "pk")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        employment = services.person_register(actor=request.user, **self.validated_input())
        employment = Employment.objects.select_related("person", "enterprise").get(pk=employment.pk)
        return Response(s.EmploymentSerializer(employment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="按完整证件号码查找职工",
        description="按加密检索码精确查找（不做模糊匹配）；不在管辖范围内的与不存在的一样答 404。",
        request=s.PersonLookupSerializer,
        responses={200: s.PersonDetailSerializer, **ERRORS},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def lookup(self, request: Request) -> Response:
        # A read sent as POST (the number stays out of URLs): any signed-in staff member may ask.
        serializer = s.PersonLookupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = selectors.person_find_by_id_number(request.user, serializer.validated_data["id_number"])
        if person is None:
            raise Http404
        return Response(s.PersonDetailSerializer(person, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="查看完整证件号码和电话",
        description="仅限有“查看完整证件号码和电话”权限的角色；每次查看都记入变更记录。",
        request=None,
        responses={200: s.RevealSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def reveal(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        person = self.get_object()
        number = services.person_reveal_id_number(actor=request.user, person=person)
        phone = (
            services.person_reveal_phone(actor=request.user, person=person) if person.phone_encrypted else ""
        )
        return Response({"id_number": number, "phone": phone})

    def get_permissions(self) -> list[Any]:
        if self.action == "lookup":
            return [IsAuthenticated()]
        return super().get_permissions()


# --- employments -----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="用工记录", description="您管辖范围内企业的用工记录；as_of 只列当日在职的。"),
    retrieve=extend_schema(summary="用工记录详情", responses={200: s.EmploymentSerializer, 404: ERRORS[404]}),
    create=_write_schema(s.EmploymentCreateSerializer, s.EmploymentSerializer, "开始用工（入职）", 201),
)
class EmploymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = Employment.objects.all()
    serializer_class = s.EmploymentSerializer
    create_serializer_class = s.EmploymentCreateSerializer
    filterset_class = EmploymentFilter
    write_capability = "edit_registry"
    delete_refusal = "用工记录不能删除；请填写离职日期。"

    def queryset_base(self) -> QuerySet[Employment]:
        return Employment.objects.select_related("person", "enterprise").order_by(
            "person_id", "valid_from", "pk"
        )

    def get_serializer_class(self) -> type:
        if self.action == "end":
            return s.EmploymentEndSerializer
        return super().get_serializer_class()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        employment = services.employment_start(actor=request.user, **self.validated_input())
        return self.render(employment, status_code=status.HTTP_201_CREATED)

    @_write_schema(s.EmploymentEndSerializer, s.EmploymentSerializer, "结束用工（离职）")
    @action(detail=True, methods=["post"], filter_backends=[])
    def end(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        employment = self.get_object()
        data = self.validated_input()
        employment = services.employment_end(
            actor=request.user, employment=employment, valid_to=data["valid_to"]
        )
        return self.render(employment)


# --- memberships -----------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="会员关系",
        description="您管辖范围内基层工会的会员关系；as_of 只列当日有效的（即当日会员名册）。",
    ),
    retrieve=extend_schema(summary="会员关系详情", responses={200: s.MembershipSerializer, 404: ERRORS[404]}),
    create=_write_schema(s.MembershipJoinSerializer, s.MembershipSerializer, "入会", 201),
)
class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = Membership.objects.all()
    serializer_class = s.MembershipSerializer
    create_serializer_class = s.MembershipJoinSerializer
    filterset_class = MembershipFilter
    write_capability = "edit_registry"
    delete_refusal = "会员关系不能删除；请办理离会或接转。"

    def queryset_base(self) -> QuerySet[Membership]:
        return Membership.objects.select_related("person", "union").order_by("person_id", "valid_from", "pk")

    def get_serializer_class(self) -> type:
        if self.action == "leave":
            return s.MembershipLeaveSerializer
        if self.action == "transfer":
            return s.MembershipTransferSerializer
        return super().get_serializer_class()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = services.membership_join(actor=request.user, **self.validated_input())
        return self.render(membership, status_code=status.HTTP_201_CREATED)

    @_write_schema(s.MembershipLeaveSerializer, s.MembershipSerializer, "离会")
    @action(detail=True, methods=["post"], filter_backends=[])
    def leave(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        membership = services.membership_leave(
            actor=request.user, membership=membership, **self.validated_input()
        )
        return self.render(membership)

    @_write_schema(
        s.MembershipTransferSerializer,
        s.MembershipSerializer,
        "会员关系接转",
        201,
        description="原会员关系在接转日期结束，转入工会的会员关系同日开始，一步完成；返回新的会员关系。",
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def transfer(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        following = services.membership_transfer(
            actor=request.user, membership=membership, **self.validated_input()
        )
        # The new membership may be in a union the caller sees; render it from the unscoped row it just made.
        following = Membership.objects.select_related("person", "union").get(pk=following.pk)
        return Response(s.MembershipSerializer(following).data, status=status.HTTP_201_CREATED)


# --- cards -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="会员服务卡", description="您管辖范围内基层工会发放的会员服务卡。"),
    retrieve=extend_schema(summary="会员服务卡详情", responses={200: s.CardSerializer, 404: ERRORS[404]}),
    create=_write_schema(s.CardIssueSerializer, s.CardSerializer, "发放会员服务卡", 201),
)
class CardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = MemberCard.objects.all()
    serializer_class = s.CardSerializer
    create_serializer_class = s.CardIssueSerializer
    filterset_class = CardFilter
    write_capability = "edit_registry"
    delete_refusal = "会员服务卡不能删除；请挂失或注销。"

    def queryset_base(self) -> QuerySet[MemberCard]:
        return MemberCard.objects.select_related("person", "union").order_by("-issued_on", "-pk")

    def get_serializer_class(self) -> type:
        if self.action in {"report_lost", "cancel"}:
            return s.CardChangeSerializer
        return super().get_serializer_class()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        card = services.card_issue(actor=request.user, **self.validated_input())
        return self.render(card, status_code=status.HTTP_201_CREATED)

    def _change(self, request: Request, service: Any) -> Response:
        card = self.get_object()
        data = self.validated_input(partial=True) if request.data else {}
        card = service(actor=request.user, card=card, on=data.get("on") or timezone.localdate())
        return self.render(card)

    @_write_schema(s.CardChangeSerializer, s.CardSerializer, "挂失（日期不填为今天）")
    @action(detail=True, methods=["post"], url_path="report-lost", filter_backends=[])
    def report_lost(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._change(request, services.card_report_lost)

    @_write_schema(s.CardChangeSerializer, s.CardSerializer, "注销（日期不填为今天）")
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._change(request, services.card_cancel)


def register(router: BaseRouter) -> None:
    router.register("persons", PersonViewSet, basename="person")
    router.register("employments", EmploymentViewSet, basename="employment")
    router.register("memberships", MembershipViewSet, basename="membership")
    router.register("cards", CardViewSet, basename="membercard")
