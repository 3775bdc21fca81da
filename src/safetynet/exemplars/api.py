"""劳模工匠和劳动竞赛 under /api/v1/exemplars/."""

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
from safetynet.core.errors import ServiceError
from safetynet.exemplars import services
from safetynet.exemplars.models import (
    Competition,
    CompetitionEntry,
    Honour,
    HonourKind,
    HonourLevel,
    PioneerTeam,
    Studio,
)
from safetynet.members.selectors import person_find_by_id_number
from safetynet.orgs.models import Enterprise


def _enterprise_field(**kwargs: Any) -> ScopedSlugRelatedField:
    return ScopedSlugRelatedField(
        slug_field="credit_code",
        queryset=Enterprise.objects.select_related("org_unit"),
        normalize=lambda v: str(v).strip().upper(),
        help_text="企业统一社会信用代码",
        **kwargs,
    )


class HonourSerializer(RecordSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True)
    enterprise = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)

    class Meta:
        model = Honour
        fields = [
            "id",
            "person_name",
            "kind",
            "level",
            "year",
            "enterprise",
            "enterprise_name",
            "title",
            "note",
        ]
        read_only_fields = fields


class HonourCreateSerializer(serializers.Serializer):
    id_number = serializers.CharField(max_length=30, help_text="获得者身份证号（须已登记）")
    kind = serializers.ChoiceField(choices=HonourKind.choices)
    level = serializers.ChoiceField(choices=HonourLevel.choices)
    year = serializers.IntegerField(min_value=1900, max_value=2999)
    enterprise = _enterprise_field()
    title = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class HonourViewSet(
    ServiceCreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet
):
    """劳动模范和五一劳动奖章获得者。"""

    queryset = Honour.objects.all()
    serializer_class = HonourSerializer
    create_serializer_class = HonourCreateSerializer
    write_capability = Capability.EDIT_REGISTRY

    def queryset_base(self) -> Any:
        return Honour.objects.select_related("person", "enterprise")

    def create_record(self, data: dict[str, Any]) -> Honour:
        person = person_find_by_id_number(self.request.user, data.pop("id_number"))
        if person is None:
            raise ServiceError(
                "not_found", "没有找到该身份证号的职工（或不在您的管辖范围内）。", field="id_number"
            )
        return services.honour_create(actor=self.request.user, person=person, **data)


class TeamSerializer(RecordSerializer):
    enterprise = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)

    class Meta:
        model = PioneerTeam
        fields = ["id", "name", "enterprise", "level", "year", "members_count"]
        read_only_fields = fields


class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """工人先锋号。"""

    queryset = PioneerTeam.objects.all()
    serializer_class = TeamSerializer

    def queryset_base(self) -> Any:
        return PioneerTeam.objects.select_related("enterprise")


class StudioSerializer(RecordSerializer):
    leader_name = serializers.CharField(source="leader.name", read_only=True)
    enterprise = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)

    class Meta:
        model = Studio
        fields = [
            "id",
            "name",
            "leader_name",
            "enterprise",
            "level",
            "founded_on",
            "members_count",
            "patents",
            "savings",
            "results",
        ]
        read_only_fields = fields


class StudioViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """劳模创新工作室。"""

    queryset = Studio.objects.all()
    serializer_class = StudioSerializer

    def queryset_base(self) -> Any:
        return Studio.objects.select_related("leader", "enterprise")


class CompetitionSerializer(RecordSerializer):
    organiser = serializers.CharField(source="org_unit.code", read_only=True)

    class Meta:
        model = Competition
        fields = ["id", "name", "kind", "organiser_level", "organiser", "starts_on", "ends_on", "description"]
        read_only_fields = fields


class CompetitionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """劳动和技能竞赛（本级及上级主办的）。"""

    queryset = Competition.objects.all()
    serializer_class = CompetitionSerializer

    def queryset_base(self) -> Any:
        return Competition.objects.select_related("org_unit")


class EntrySerializer(RecordSerializer):
    enterprise = serializers.SlugRelatedField(slug_field="credit_code", read_only=True)

    class Meta:
        model = CompetitionEntry
        fields = ["id", "competition", "enterprise", "workers", "result", "award"]
        read_only_fields = fields


class EntryCreateSerializer(serializers.Serializer):
    competition = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    enterprise = _enterprise_field()
    workers = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, default=0)
    result = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    award = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EntryViewSet(
    ServiceCreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet
):
    """参赛企业、成绩和获奖；登记同一企业两次即更新。"""

    queryset = CompetitionEntry.objects.all()
    serializer_class = EntrySerializer
    create_serializer_class = EntryCreateSerializer
    write_capability = Capability.EDIT_REGISTRY

    def queryset_base(self) -> Any:
        return CompetitionEntry.objects.select_related("enterprise")

    def create_record(self, data: dict[str, Any]) -> CompetitionEntry:
        competition = (
            Competition.objects.visible_to(self.request.user).filter(pk=data.pop("competition")).first()
        )
        if competition is None:
            raise ServiceError("not_found", "竞赛不存在或不在您的管辖范围内。", field="competition")
        return services.competition_entry_add(actor=self.request.user, competition=competition, **data)


def register(router: DefaultRouter) -> None:
    router.register("exemplars/honours", HonourViewSet, basename="exemplar-honour")
    router.register("exemplars/teams", TeamViewSet, basename="exemplar-team")
    router.register("exemplars/studios", StudioViewSet, basename="exemplar-studio")
    router.register("exemplars/competitions", CompetitionViewSet, basename="exemplar-competition")
    router.register("exemplars/entries", EntryViewSet, basename="exemplar-entry")
