"""What the cases API accepts and answers (INTERFACES.md, "Cases over HTTP")."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.encoding import smart_str
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
from safetynet.cases.selectors import enterprise_with_unit
from safetynet.core.api_base import RecordSerializer, ScopedSlugRelatedField, bounded_integer, record_id
from safetynet.core.normalize import clean_code
from safetynet.core.scope import user_scope_path
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
        # introspection, some thirty fields) cost twice the copy. Only the schema and the tests ask for them
        # now: the answer is built by to_representation below.
        prototype = type(self).__dict__.get("_prototype_fields")
        if prototype is None:
            prototype = super().get_fields()
            type(self)._prototype_fields = prototype
        return copy.deepcopy(prototype)

    def to_representation(self, case: Case) -> dict[str, Any]:
        """The answer DRF's field-by-field rendering of the fields above gives, built directly (the tests in
        test_intake_lean_path.py hold the two equal, field by field): copying and running thirty field objects
        per case cost about 1.5 ms of CPU on every intake, and 75 ms on a page of 50 cases."""
        return case_representation(case)

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


# Field objects used only for their rendering (no state is kept between calls): an instant in the current
# time zone in ISO 8601, an amount as a string with two decimals, as the serializer's own fields render them.
INSTANT = serializers.DateTimeField(read_only=True)
AMOUNT = serializers.DecimalField(
    max_digits=Case._meta.get_field("claim_amount").max_digits,
    decimal_places=Case._meta.get_field("claim_amount").decimal_places,
    read_only=True,
)


def instant(value: Any) -> str | None:
    return None if value is None else INSTANT.to_representation(value)


def case_representation(case: Case) -> dict[str, Any]:
    """A case as CaseSerializer answers it (same keys in the same order, same values)."""
    return {
        "id": case.pk,
        "number": case.number,
        "case_type": case.kind,
        "status": case.status,
        "status_label": case.get_status_display(),
        "level": LEVEL_CODES[case.level],
        "unit": case.unit.code,
        "unit_name": case.unit.name,
        "origin_unit": case.origin_unit.code,
        "channel": case.channel,
        "enterprise": case.enterprise.credit_code if case.enterprise_id else None,
        "enterprise_name": case.display_enterprise,
        "category": case.category,
        "workers_involved": case.workers_involved,
        "claim_amount": None if case.claim_amount is None else AMOUNT.to_representation(case.claim_amount),
        "description": case.description,
        "caller_phone": case.caller_phone_masked,
        "anonymous": case.anonymous,
        "collective": case.collective,
        "major": case.major,
        "difficulty": case.difficulty,
        "leader": case.leader.get_username() if case.leader_id else None,
        "handler": case.handler.get_username() if case.handler_id else None,
        "deadline": instant(case.deadline),
        "deadline_state": deadline_state(case.deadline, timezone.now()) if case.is_open else None,
        "breached": case.breached,
        "received_at": instant(case.received_at),
        "closed_at": instant(case.closed_at),
        "outcome_kind": case.outcome_kind,
        "version": case.version,
    }


class EnterpriseCodeField(ScopedSlugRelatedField):
    """The enterprise named by its credit code, with its org unit, among those the caller sees: one statement
    written once per process (selectors.enterprise_with_unit) and the scope's prefix rule applied to the unit
    it brings, as ``Enterprise.objects.visible_to`` would apply it. The hotline posts a hundred calls a second;
    compiling the ORM's join and scope filter cost about 0.8 ms of CPU on each."""

    def to_internal_value(self, data: Any) -> Any:
        if self.normalize is not None:
            data = self.normalize(data)
        if not isinstance(data, str | int) or any(ord(c) < 32 for c in str(data)):
            self.fail("invalid")
        request = self.context.get("request")
        scope = user_scope_path(getattr(request, "user", None))
        enterprise = enterprise_with_unit(str(data)) if scope is not None else None
        if enterprise is None or not enterprise.org_unit.path.startswith(scope):
            self.fail("does_not_exist", slug_name=self.slug_field, value=smart_str(data))
        return enterprise


class ShallowFieldsMixin:
    """A serializer whose fields are plain values (no nested serializer or list): the declared fields are
    built once per class and each instance gets shallow copies, bound to it. DRF deep-copies every field
    (its arguments, choices and validators) for each instance: 0.7 ms of CPU per intake. A shallow copy
    shares only what no field changes after its construction (choices, validators, the base queryset)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        prototype = type(self).__dict__.get("_prototype_fields")
        if prototype is None:
            prototype = super().get_fields()  # type: ignore[misc]
            type(self)._prototype_fields = prototype
        fields = {}
        for name, field in prototype.items():
            # copy.copy, without its generic reduce protocol (half the cost of these copies).
            clone = object.__new__(type(field))
            clone.__dict__.update(field.__dict__)
            fields[name] = clone
        return fields


class CaseCreateSerializer(ShallowFieldsMixin, serializers.Serializer):
    # The workers' platform files its own appeals (through the portal): staff never register one under it.
    channel = serializers.ChoiceField(
        choices=[(value, label) for value, label in Channel.choices if value != Channel.PLATFORM],
        help_text="来源渠道",
    )
    enterprise = EnterpriseCodeField(
        slug_field="credit_code",
        # With its unit: intake routes the case from it. (The queryset names the model for the schema.)
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
