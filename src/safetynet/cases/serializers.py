"""What the cases API accepts and answers (INTERFACES.md, "Cases over HTTP")."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from safetynet.cases.deadlines import DEADLINE_STATE_LABELS, deadline_state
from safetynet.cases.models import (
    LEVEL_CODES,
    REFERRAL_OUTCOMES,
    Case,
    CaseKind,
    Category,
    Channel,
    Difficulty,
    Notification,
    OutcomeKind,
)
from safetynet.core.api_base import RecordSerializer, ScopedSlugRelatedField, bounded_integer, record_id
from safetynet.core.normalize import clean_code
from safetynet.orgs.models import Enterprise, OrgUnit


class CaseSerializer(RecordSerializer):
    level = serializers.SerializerMethodField(help_text="当前办理层级：community / street / district / city")
    unit = serializers.CharField(source="unit.code", read_only=True, help_text="当前办理单位的区划代码")
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    origin_unit = serializers.CharField(
        source="origin_unit.code", read_only=True, help_text="属地单位的区划代码"
    )
    enterprise = serializers.SerializerMethodField(help_text="企业统一社会信用代码（不在名录中时为 null）")
    enterprise_name = serializers.CharField(source="display_enterprise", read_only=True)
    caller_phone = serializers.CharField(
        source="caller_phone_masked", read_only=True, help_text="回访电话（脱敏）"
    )
    deadline = serializers.DateTimeField(
        read_only=True, help_text="当前层级办理期限（ISO 8601 时刻，自案件到达本级起算）"
    )
    deadline_state = serializers.SerializerMethodField(
        help_text="on_track 正常 / at_risk 临期 / breached 超期"
    )
    leader = serializers.SerializerMethodField(help_text="包案领导用户名")
    handler = serializers.SerializerMethodField(help_text="承办人用户名")
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    case_type = serializers.ChoiceField(
        source="kind",
        choices=CaseKind.choices,
        read_only=True,
        help_text="dispute 诉求/劳动争议，hazard 隐患举报",
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "case_type",
            "status",
            "status_label",
            "level",
            "unit",
            "unit_name",
            "origin_unit",
            "channel",
            "enterprise",
            "enterprise_name",
            "category",
            "workers_involved",
            "claim_amount",
            "description",
            "caller_phone",
            "anonymous",
            "collective",
            "major",
            "difficulty",
            "leader",
            "handler",
            "deadline",
            "deadline_state",
            "breached",
            "received_at",
            "closed_at",
            "outcome_kind",
            "version",
        ]
        read_only_fields = fields

    def get_fields(self) -> dict[str, serializers.Field]:
        # Built from the model once per class, then copied for each instance: building them anew (model
        # introspection, some thirty fields) cost twice the copy, on every intake answered.
        prototype = type(self).__dict__.get("_prototype_fields")
        if prototype is None:
            prototype = super().get_fields()
            type(self)._prototype_fields = prototype
        return copy.deepcopy(prototype)

    def get_level(self, case: Case) -> str:
        return LEVEL_CODES[case.level]

    def get_enterprise(self, case: Case) -> str | None:
        return case.enterprise.credit_code if case.enterprise_id else None

    @extend_schema_field(serializers.ChoiceField(choices=list(DEADLINE_STATE_LABELS), allow_null=True))
    def get_deadline_state(self, case: Case) -> str | None:
        return deadline_state(case.deadline, timezone.now()) if case.is_open else None

    def get_leader(self, case: Case) -> str | None:
        return case.leader.get_username() if case.leader_id else None

    def get_handler(self, case: Case) -> str | None:
        return case.handler.get_username() if case.handler_id else None


class CaseCreateSerializer(serializers.Serializer):
    # The workers' platform files its own appeals (through the portal): staff never register one under it.
    channel = serializers.ChoiceField(
        choices=[(value, label) for value, label in Channel.choices if value != Channel.PLATFORM],
        help_text="来源渠道",
    )
    enterprise = ScopedSlugRelatedField(
        slug_field="credit_code",
        # With its unit: intake routes the case from it.
        queryset=Enterprise.objects.select_related("org_unit"),
        normalize=clean_code,
        required=False,
        allow_null=True,
        help_text="企业统一社会信用代码（须在您的管辖范围内）",
    )
    enterprise_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    enterprise_address = serializers.CharField(required=False, allow_blank=True, max_length=200)
    unit = ScopedSlugRelatedField(
        slug_field="code",
        queryset=OrgUnit.objects.all(),
        normalize=clean_code,
        required=False,
        allow_null=True,
        help_text="企业不在名录中时的属地单位区划代码",
    )
    category = serializers.ChoiceField(choices=Category.choices, help_text="诉求类别")
    workers_involved = bounded_integer(min_value=1, default=1, help_text="涉及人数（10 人及以上为集体争议）")
    claim_amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, default=0)
    description = serializers.CharField(help_text="诉求内容")
    caller_phone = serializers.CharField(
        required=False, allow_blank=True, max_length=30, help_text="回访电话"
    )
    caller_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    anonymous = serializers.BooleanField(default=False)
    difficulty = serializers.ChoiceField(choices=Difficulty.choices, default=Difficulty.GENERAL)
    case_type = serializers.ChoiceField(choices=CaseKind.choices, default=CaseKind.DISPUTE, source="kind")
    major = serializers.BooleanField(default=False, help_text="重大案件（上市级看板）")


class VersionSerializer(serializers.Serializer):
    version = bounded_integer(min_value=1, help_text="您看到的案件版本号（乐观锁，过期时返回 409）")


class AcceptSerializer(VersionSerializer):
    difficulty = serializers.ChoiceField(choices=Difficulty.choices, required=False)


class NoteSerializer(VersionSerializer):
    note = serializers.CharField()


class ReasonSerializer(VersionSerializer):
    reason = serializers.CharField()


class OptionalReasonSerializer(VersionSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class InstructionsSerializer(VersionSerializer):
    instructions = serializers.CharField()


class ResolveSerializer(VersionSerializer):
    outcome = serializers.ChoiceField(
        source="kind",
        choices=[
            (k, OutcomeKind(k).label)
            for k in (OutcomeKind.MEDIATED, OutcomeKind.WITHDRAWN, OutcomeKind.OUT_OF_SCOPE)
        ],
        help_text="mediated 调解成功 / withdrawn 撤回 / out_of_scope 不属受理范围",
    )
    agreement = serializers.CharField(required=False, allow_blank=True, default="")
    amount_recovered = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, default=0)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReferSerializer(VersionSerializer):
    referral = serializers.ChoiceField(
        source="kind",
        choices=[(k, OutcomeKind(k).label) for k in REFERRAL_OUTCOMES],
        help_text="arbitration 劳动仲裁 / court 人民法院 / labour_inspection 劳动监察 / petition_office 信访部门",
    )
    referred_to = serializers.CharField(required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class LeaderSerializer(VersionSerializer):
    leader = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        help_text="包案领导用户名",
    )


class FollowUpSerializer(serializers.Serializer):
    satisfaction = serializers.IntegerField(min_value=1, max_value=5)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class RectificationSerializer(VersionSerializer):
    owner = serializers.CharField(max_length=100)
    deadline = serializers.DateTimeField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class VerifySerializer(VersionSerializer):
    passed = serializers.BooleanField()
    note = serializers.CharField()


class MergeSerializer(VersionSerializer):
    cases = serializers.ListField(child=record_id(), min_length=1, help_text="要并入的个案 id")


class QueueCountsSerializer(serializers.Serializer):
    all = serializers.IntegerField()
    new = serializers.IntegerField()
    due_soon = serializers.IntegerField()
    overdue = serializers.IntegerField()
    escalated = serializers.IntegerField()


def as_dict(serializer: serializers.Serializer) -> dict[str, Any]:
    return dict(serializer.validated_data)


class NotificationSerializer(RecordSerializer):
    case = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="相关案件的 id（没有时为 null）"
    )
    case_number = serializers.SerializerMethodField(help_text="相关案件的编号")

    class Meta:
        model = Notification
        fields = ["id", "text", "link", "case", "case_number", "created_at", "read"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_case_number(self, notification: Notification) -> str | None:
        return notification.case.number if notification.case_id else None


class NotificationReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=record_id(),
        required=False,
        allow_empty=False,
        help_text="要标为已读的通知 id；省略时把全部未读通知标为已读。",
    )


class NotificationReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="本次标为已读的条数")
    unread = serializers.IntegerField(help_text="剩余未读条数")


class NotificationCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField(help_text="未读条数")
