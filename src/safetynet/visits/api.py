"""走访企业职工 under /api/v1/visits/."""

from __future__ import annotations

from typing import Any

from rest_framework import mixins, serializers
from rest_framework.routers import DefaultRouter

from safetynet.accounts.models import Capability
from safetynet.core.api_base import (
    RecordSerializer,
    ScopedGenericViewSet,
    ScopedSlugRelatedField,
    ServiceCreateMixin,
)
from safetynet.orgs.models import Enterprise
from safetynet.visits import services
from safetynet.visits.models import CHECKLIST, Visit


class VisitSerializer(RecordSerializer):
    enterprise = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    case_number = serializers.CharField(source="case.number", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Visit
        fields = [
            "id",
            "visited_on",
            "officer_name",
            "enterprise",
            "enterprise_name",
            "worker_name",
            "checklist",
            "findings",
            "warning",
            "case",
            "case_number",
            "created_at",
        ]
        read_only_fields = fields


class VisitCreateSerializer(serializers.Serializer):
    enterprise = ScopedSlugRelatedField(
        slug_field="credit_code",
        queryset=Enterprise.objects.select_related("org_unit"),
        normalize=lambda v: str(v).strip().upper(),
        help_text="企业统一社会信用代码",
    )
    visited_on = serializers.DateField()
    worker_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    checklist = serializers.ListField(
        child=serializers.ChoiceField(choices=list(CHECKLIST.items())), required=False, default=list
    )
    findings = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    warning_category = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    case_category = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    caller_phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")


class VisitViewSet(
    ServiceCreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet
):
    """走访记录：列表、详情、登记（可同时登记预警、转为诉求案件）。"""

    queryset = Visit.objects.all()
    serializer_class = VisitSerializer
    create_serializer_class = VisitCreateSerializer
    write_capability = Capability.RECORD_VISITS

    def queryset_base(self) -> Any:
        return Visit.objects.select_related("enterprise", "case")

    def create_record(self, data: dict[str, Any]) -> Visit:
        return services.visit_create(actor=self.request.user, **data)


def register(router: DefaultRouter) -> None:
    router.register("visits", VisitViewSet, basename="visit")
