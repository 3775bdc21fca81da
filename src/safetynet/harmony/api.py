"""和谐劳动关系评价 under /api/v1/harmony/."""

from __future__ import annotations

from typing import Any

from django_filters import rest_framework as filters
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from safetynet.accounts.models import Capability
from safetynet.core.api_base import (
    RecordSerializer,
    ScopedGenericViewSet,
    ScopedSlugRelatedField,
    ServiceCreateMixin,
    record_id,
    valid_body,
)
from safetynet.harmony import scoring, services
from safetynet.harmony.models import Designation, DesignationAction, Score, Survey
from safetynet.orgs.models import Enterprise


class ScoreSerializer(RecordSerializer):
    enterprise = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    dimensions = serializers.SerializerMethodField(
        help_text="逐维度说明：维度、依据的事实、权重、得分率、得分"
    )

    class Meta:
        model = Score
        fields = ["id", "year", "enterprise", "enterprise_name", "total", "dimensions", "computed_at"]
        read_only_fields = fields

    def get_dimensions(self, score: Score) -> list[dict[str, Any]]:
        return [
            {
                "label": r["label"],
                "source": r["source"],
                "fact": r["fact"],
                "weight": str(r["weight"]),
                "value": round(r["value"], 4),
                "points": str(r["points"]),
            }
            for r in scoring.explain(score, score.model.dimensions.all())
        ]


class ScoreFilter(filters.FilterSet):
    year = filters.NumberFilter(field_name="year", label="年度")

    class Meta:
        model = Score
        fields = ["year"]


class ScoreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """和谐指数（按分数从高到低），每条附逐维度说明。"""

    queryset = Score.objects.all()
    serializer_class = ScoreSerializer
    filterset_class = ScoreFilter

    def queryset_base(self) -> Any:
        return (
            Score.objects.select_related("enterprise", "model")
            .prefetch_related("model__dimensions")
            .order_by("-total", "enterprise_id")
        )


class SurveySerializer(RecordSerializer):
    enterprise = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)

    class Meta:
        model = Survey
        fields = ["id", "enterprise", "year", "score", "note"]
        read_only_fields = fields


class SurveyInputSerializer(serializers.Serializer):
    enterprise = ScopedSlugRelatedField(
        slug_field="credit_code",
        queryset=Enterprise.objects.select_related("org_unit"),
        normalize=lambda v: str(v).strip().upper(),
        help_text="企业统一社会信用代码",
    )
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    score = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class SurveyViewSet(
    ServiceCreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet
):
    """调查项目得分（0–100）；同一企业同一年度再次提交即更正。"""

    queryset = Survey.objects.all()
    serializer_class = SurveySerializer
    create_serializer_class = SurveyInputSerializer
    write_capability = Capability.EDIT_REGISTRY

    def queryset_base(self) -> Any:
        return Survey.objects.select_related("enterprise")

    def create_record(self, data: dict[str, Any]) -> Survey:
        return services.survey_save(actor=self.request.user, **data)


class DesignationSerializer(RecordSerializer):
    enterprise = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)

    class Meta:
        model = Designation
        fields = [
            "id",
            "enterprise",
            "enterprise_name",
            "year",
            "level",
            "score",
            "valid_from_year",
            "valid_to_year",
            "status",
            "reason",
            "decided_at",
            "version",
        ]
        read_only_fields = fields


class DecideSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=DesignationAction.choices)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    version = record_id(required=False)


class DesignationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """和谐企业命名：依据指数提名，区总工会单位管理员批准或不予批准。"""

    queryset = Designation.objects.all()
    serializer_class = DesignationSerializer
    write_capability = Capability.EDIT_UNITS

    def queryset_base(self) -> Any:
        return Designation.objects.select_related("enterprise__org_unit")

    @action(detail=True, methods=["post"], serializer_class=DecideSerializer)
    def decide(self, request: Request, pk: Any = None, **kwargs: Any) -> Response:
        designation = self.get_object()
        designation = services.designation_decide(
            actor=request.user, designation=designation, **valid_body(DecideSerializer, request)
        )
        return self.render(designation)


def register(router: DefaultRouter) -> None:
    router.register("harmony/scores", ScoreViewSet, basename="harmony-score")
    router.register("harmony/surveys", SurveyViewSet, basename="harmony-survey")
    router.register("harmony/designations", DesignationViewSet, basename="harmony-designation")
