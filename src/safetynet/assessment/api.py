"""目标考核 under /api/v1/assessment/: schemes with their items, live scores, the published ranking,
responsibility letters (sign), appeals (submit). Scoped like the pages: a unit sees its own scores."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from safetynet.accounts.models import Capability
from safetynet.assessment import selectors, services
from safetynet.assessment.models import Appeal, Item, Letter, Scheme
from safetynet.core.api_base import RecordSerializer, ScopedGenericViewSet, body_record, record_id
from safetynet.core.scope import get_for_user
from safetynet.orgs.models import OrgUnit


class ItemSerializer(RecordSerializer):
    class Meta:
        model = Item
        fields = ["id", "order", "name", "kind", "weight", "rule", "description"]


class SchemeSerializer(RecordSerializer):
    unit = serializers.CharField(source="org_unit.code", read_only=True)
    items = ItemSerializer(many=True, read_only=True)

    class Meta:
        model = Scheme
        fields = ["id", "year", "name", "unit", "status", "frozen_on", "appeal_until", "items"]


class ItemScoreSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    name = serializers.CharField()
    points = serializers.DecimalField(max_digits=6, decimal_places=2)
    explanation = serializers.CharField()
    links = serializers.ListField(child=serializers.DictField())


class UnitScoreSerializer(serializers.Serializer):
    unit = serializers.CharField()
    unit_name = serializers.CharField()
    rank = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=6, decimal_places=2)
    subtotal = serializers.DecimalField(max_digits=6, decimal_places=2)
    cap = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    items = ItemScoreSerializer(many=True)


def _unit_rows(sheet: Any, *, with_items: bool = True) -> list[dict[str, Any]]:
    return [
        {
            "unit": u.unit.code,
            "unit_name": u.unit.name,
            "rank": u.rank,
            "total": u.total,
            "subtotal": u.subtotal,
            "cap": u.cap,
            "items": [
                {
                    "item": s.item.pk,
                    "name": s.item.name,
                    "points": s.points,
                    "explanation": s.explanation,
                    "links": [{"label": link.label, "url": link.url} for link in s.links],
                }
                for s in u.item_list(sheet.items)
            ]
            if with_items
            else [],
        }
        for u in sheet.units
    ]


class SchemeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = Scheme.objects.all()
    serializer_class = SchemeSerializer

    def queryset_base(self) -> Any:
        return Scheme.objects.select_related("org_unit").prefetch_related("items").order_by("-year", "pk")

    @extend_schema(
        summary="实时得分（按日）",
        parameters=[OpenApiParameter("as_of", OpenApiTypes.DATE, description="数据截至日期，默认今天")],
        responses={200: UnitScoreSerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def scores(self, request: Request, pk: str, **kwargs: Any) -> Response:
        scheme = self.get_object()
        raw = request.query_params.get("as_of", "")
        try:
            day = datetime.date.fromisoformat(raw) if raw else timezone.localdate()
        except ValueError:
            raise ValidationError({"as_of": "日期应写成 YYYY-MM-DD。"}) from None
        board = selectors.score_board(request.user, scheme, day)
        return Response(UnitScoreSerializer(_unit_rows(board.sheet), many=True).data)

    @extend_schema(summary="已发布的排名（最终得分）", responses={200: UnitScoreSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def ranking(self, request: Request, pk: str, **kwargs: Any) -> Response:
        scheme = self.get_object()
        sheet = selectors.published_ranking(request.user, scheme)
        if sheet is None:
            raise Http404("通报尚未发布。")
        # Others' item scores stay with the levels above them: the ranking shows totals.
        see_all = selectors.can_see_all(request.user, scheme)
        return Response(UnitScoreSerializer(_unit_rows(sheet, with_items=see_all), many=True).data)


class LetterSerializer(RecordSerializer):
    unit = serializers.CharField(source="org_unit.code", read_only=True)
    unit_name = serializers.CharField(source="org_unit.name", read_only=True)
    year = serializers.IntegerField(source="scheme.year", read_only=True)
    targets = serializers.SerializerMethodField()

    class Meta:
        model = Letter
        fields = ["id", "scheme", "year", "unit", "unit_name", "status", "signed_on", "targets"]

    def get_targets(self, letter: Letter) -> list[dict[str, Any]]:
        return letter.signed_targets if letter.status == "signed" else services.letter_targets(letter)


class EmptySerializer(serializers.Serializer):
    pass


class LetterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = Letter.objects.all()
    serializer_class = LetterSerializer
    write_capability = Capability.RESPOND_ASSESSMENT

    def queryset_base(self) -> Any:
        return Letter.objects.select_related("scheme", "org_unit").order_by("-scheme__year", "org_unit__path")

    @extend_schema(summary="签订责任状", request=EmptySerializer, responses={200: LetterSerializer})
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str, **kwargs: Any) -> Response:
        letter = self.get_object()
        return self.render(services.letter_sign(actor=request.user, letter=letter))


class AppealSerializer(RecordSerializer):
    unit = serializers.CharField(source="org_unit.code", read_only=True)
    item_name = serializers.CharField(source="item.name", read_only=True)

    class Meta:
        model = Appeal
        fields = [
            "id",
            "scheme",
            "item",
            "item_name",
            "unit",
            "reason",
            "status",
            "submitted_at",
            "upheld",
            "new_points",
            "decision",
            "decided_at",
        ]


class AppealCreateSerializer(serializers.Serializer):
    item = record_id(help_text="考核项目 id")
    reason = serializers.CharField(max_length=2000)


class AppealViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = Appeal.objects.all()
    serializer_class = AppealSerializer
    create_serializer_class = AppealCreateSerializer
    write_capability = Capability.RESPOND_ASSESSMENT

    def queryset_base(self) -> Any:
        return Appeal.objects.select_related("item", "org_unit").order_by("-submitted_at", "-pk")

    @extend_schema(
        summary="提交申诉（本单位）", request=AppealCreateSerializer, responses={201: AppealSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated_input()
        item = Item.objects.select_related("scheme").filter(pk=data["item"]).first()
        if item is None:
            raise ValidationError({"item": "未找到该考核项目。"})
        body_record(
            lambda: selectors.scheme_for_user(request.user, item.scheme_id),
            field="item",
            message="未找到该考核项目。",
        )
        unit = get_for_user(OrgUnit, request.user, pk=request.user.org_unit_id)
        appeal = services.appeal_submit(actor=request.user, item=item, org_unit=unit, reason=data["reason"])
        return self.render(appeal, status_code=status.HTTP_201_CREATED)


def register(router: DefaultRouter) -> None:
    router.register("assessment/schemes", SchemeViewSet, basename="assessment-scheme")
    router.register("assessment/letters", LetterViewSet, basename="assessment-letter")
    router.register("assessment/appeals", AppealViewSet, basename="assessment-appeal")
