"""What the member registry API renders and accepts. Parsing only: every rule lives in the services.

ID numbers and phones are rendered masked, always; the clear values come only from the audited reveal
action. Related records (persons, unions) are resolved among those the caller sees, so an id outside the
caller's scope is refused like an unknown one.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from safetynet.core.api_base import (
    MAX_ID,
    OTHER_UNIT,
    NestedRecordListSerializer,
    NestedRecordSerializer,
    RecordSerializer,
)
from safetynet.members.models import (
    CardStatus,
    Employment,
    EmploymentType,
    Household,
    MemberCard,
    Membership,
    MembershipEndReason,
    Person,
)
from safetynet.members.services import card_qr_payload
from safetynet.members.validation import IdNumberError, IdType, validate_identity
from safetynet.orgs.models import GrassrootsUnion
from safetynet.orgs.serializers import enterprise_code_field


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID})
class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related record by id, looked up only among those the caller sees (an id past ``MAX_ID`` is simply
    not found: the database is never asked with a number its column cannot hold)."""

    default_error_messages = {
        "does_not_exist": "编号为 {pk_value} 的记录不存在或不在您的管辖范围内。",
        "incorrect_type": "应为记录编号（整数）。",
    }

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return super().get_queryset().visible_to(getattr(request, "user", None))


# --- rendering -------------------------------------------------------------------------------


class PersonSerializer(RecordSerializer):
    id_number = serializers.CharField(source="id_number_masked", read_only=True, help_text="证件号码（脱敏）")
    id_type_label = serializers.CharField(source="get_id_type_display", read_only=True, help_text="证件类型")
    phone = serializers.CharField(source="phone_masked", read_only=True, help_text="电话（脱敏）")
    sex_label = serializers.CharField(source="get_sex_display", read_only=True, help_text="性别")
    household_label = serializers.CharField(
        source="get_household_display", read_only=True, help_text="户籍类型"
    )
    is_migrant = serializers.BooleanField(read_only=True, help_text="农民工（农村户籍）")

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "id_type",
            "id_type_label",
            "id_number",
            "birth_date",
            "sex",
            "sex_label",
            "phone",
            "household",
            "household_label",
            "is_migrant",
        ]
        read_only_fields = fields


class EmploymentSerializer(RecordSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True, help_text="职工姓名")
    enterprise = serializers.CharField(
        source="enterprise.credit_code", read_only=True, help_text="企业统一社会信用代码"
    )
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True, help_text="企业名称")
    employment_type_label = serializers.CharField(
        source="get_employment_type_display", read_only=True, help_text="用工形式"
    )

    class Meta:
        model = Employment
        fields = [
            "id",
            "person",
            "person_name",
            "enterprise",
            "enterprise_name",
            "valid_from",
            "valid_to",
            "employment_type",
            "employment_type_label",
            "contract_signed",
        ]
        read_only_fields = fields


class MembershipSerializer(RecordSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True, help_text="职工姓名")
    union_name = serializers.CharField(source="union.name", read_only=True, help_text="基层工会名称")
    end_reason_label = serializers.CharField(
        source="get_end_reason_display", read_only=True, help_text="离会原因"
    )

    class Meta:
        model = Membership
        fields = [
            "id",
            "person",
            "person_name",
            "union",
            "union_name",
            "valid_from",
            "valid_to",
            "member_number",
            "end_reason",
            "end_reason_label",
        ]
        read_only_fields = fields


class PersonEmploymentSerializer(NestedRecordSerializer, EmploymentSerializer):
    """An employment in a person's timeline. One at an enterprise outside the caller's scope keeps its dates
    and kind but not the record's id nor the enterprise's code and name (docs/API.md)."""

    scope_model = Employment
    withheld = {"id": None, "enterprise": None, "enterprise_name": OTHER_UNIT}

    id = serializers.IntegerField(read_only=True, allow_null=True, help_text="用工记录编号")
    enterprise = serializers.CharField(
        source="enterprise.credit_code", read_only=True, allow_null=True, help_text="企业统一社会信用代码"
    )

    class Meta(EmploymentSerializer.Meta):
        fields = [*EmploymentSerializer.Meta.fields, "in_scope"]
        read_only_fields = fields
        list_serializer_class = NestedRecordListSerializer


class PersonMembershipSerializer(NestedRecordSerializer, MembershipSerializer):
    """A membership in a person's timeline. One in a union outside the caller's scope keeps its dates and
    end reason but not the record's id, the union's id and name, nor the member number (docs/API.md)."""

    scope_model = Membership
    withheld = {"id": None, "union": None, "union_name": OTHER_UNIT, "member_number": None}

    id = serializers.IntegerField(read_only=True, allow_null=True, help_text="会员关系编号")
    union = serializers.IntegerField(
        source="union_id", read_only=True, allow_null=True, help_text="基层工会编号"
    )
    member_number = serializers.CharField(read_only=True, allow_null=True, help_text="会员编号")

    class Meta(MembershipSerializer.Meta):
        fields = [*MembershipSerializer.Meta.fields, "in_scope"]
        read_only_fields = fields
        list_serializer_class = NestedRecordListSerializer


class PersonDetailSerializer(PersonSerializer):
    """A person with the whole timeline: every employment and membership, dated.

    The person is visible when one of their employments or memberships is in the caller's scope; the others
    are listed too, without what identifies them (PersonEmploymentSerializer, PersonMembershipSerializer)."""

    employments = serializers.SerializerMethodField(help_text="用工经历（按入职日期）")
    memberships = serializers.SerializerMethodField(help_text="会员关系（按入会日期）")

    class Meta(PersonSerializer.Meta):
        fields = [*PersonSerializer.Meta.fields, "employments", "memberships"]
        read_only_fields = fields

    @extend_schema_field(PersonEmploymentSerializer(many=True))
    def get_employments(self, person: Person) -> list[dict[str, Any]]:
        rows = person.employments.select_related("person", "enterprise").order_by("valid_from", "pk")
        return PersonEmploymentSerializer(rows, many=True, context=self.context).data

    @extend_schema_field(PersonMembershipSerializer(many=True))
    def get_memberships(self, person: Person) -> list[dict[str, Any]]:
        rows = person.memberships.select_related("person", "union").order_by("valid_from", "pk")
        return PersonMembershipSerializer(rows, many=True, context=self.context).data


class CardSerializer(RecordSerializer):
    person_name = serializers.CharField(source="person.name", read_only=True, help_text="持卡人姓名")
    union_name = serializers.CharField(source="union.name", read_only=True, help_text="发卡工会名称")
    status_label = serializers.CharField(source="get_status_display", read_only=True, help_text="状态")
    qr_payload = serializers.SerializerMethodField(help_text="二维码内容：签名的卡号，不含个人信息")

    class Meta:
        model = MemberCard
        fields = [
            "id",
            "card_number",
            "person",
            "person_name",
            "union",
            "union_name",
            "issued_on",
            "status",
            "status_label",
            "status_changed_on",
            "qr_payload",
        ]
        read_only_fields = fields

    def get_qr_payload(self, card: MemberCard) -> str:
        return card_qr_payload(card)


class RevealSerializer(serializers.Serializer):
    id_number = serializers.CharField(help_text="完整证件号码（本次查看已记入变更记录）")
    phone = serializers.CharField(allow_blank=True, help_text="完整电话号码")


# --- input -----------------------------------------------------------------------------------


class PersonLookupSerializer(serializers.Serializer):
    id_number = serializers.CharField(
        max_length=40, label="证件号码", help_text="完整号码，按加密检索码精确查找"
    )
    id_type = serializers.ChoiceField(choices=IdType.choices, default=IdType.RESIDENT_ID, label="证件类型")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A malformed number is told what is wrong (length, birth date, check character), not "not found".
        try:
            validate_identity(attrs["id_type"], attrs["id_number"])
        except IdNumberError as exc:
            raise serializers.ValidationError({"id_number": exc.messages[0]}) from None
        return attrs


class PersonRegisterSerializer(serializers.Serializer):
    """Take on a worker: the person is found by document number or created, then the employment starts."""

    name = serializers.CharField(max_length=50, label="姓名")
    id_number = serializers.CharField(max_length=40, label="证件号码")
    id_type = serializers.ChoiceField(choices=IdType.choices, default=IdType.RESIDENT_ID, label="证件类型")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="", label="电话")
    household = serializers.ChoiceField(
        choices=Household.choices, required=False, allow_blank=True, default="", label="户籍类型"
    )
    enterprise = enterprise_code_field(label="企业统一社会信用代码")
    employed_from = serializers.DateField(label="入职日期")
    employment_type = serializers.ChoiceField(
        choices=EmploymentType.choices, required=False, allow_blank=True, default="", label="用工形式"
    )
    contract_signed = serializers.BooleanField(
        required=False, allow_null=True, default=None, label="已签劳动合同"
    )


class EmploymentCreateSerializer(serializers.Serializer):
    person = ScopedPrimaryKeyRelatedField(queryset=Person.objects.all(), label="职工编号")
    enterprise = enterprise_code_field(label="企业统一社会信用代码")
    valid_from = serializers.DateField(label="入职日期")
    valid_to = serializers.DateField(required=False, allow_null=True, default=None, label="离职日期")
    employment_type = serializers.ChoiceField(
        choices=EmploymentType.choices, required=False, allow_blank=True, default="", label="用工形式"
    )
    contract_signed = serializers.BooleanField(
        required=False, allow_null=True, default=None, label="已签劳动合同"
    )


class EmploymentEndSerializer(serializers.Serializer):
    valid_to = serializers.DateField(label="离职日期")


class MembershipJoinSerializer(serializers.Serializer):
    person = ScopedPrimaryKeyRelatedField(queryset=Person.objects.all(), label="职工编号")
    union = ScopedPrimaryKeyRelatedField(queryset=GrassrootsUnion.objects.all(), label="基层工会编号")
    valid_from = serializers.DateField(label="入会日期")
    member_number = serializers.CharField(
        max_length=30, required=False, allow_blank=True, default="", label="会员编号"
    )


class MembershipLeaveSerializer(serializers.Serializer):
    valid_to = serializers.DateField(label="离会日期")
    end_reason = serializers.ChoiceField(
        choices=[c for c in MembershipEndReason.choices if c[0] != MembershipEndReason.TRANSFERRED],
        default=MembershipEndReason.WITHDREW,
        label="离会原因",
    )


class MembershipTransferSerializer(serializers.Serializer):
    to_union = ScopedPrimaryKeyRelatedField(queryset=GrassrootsUnion.objects.all(), label="转入工会编号")
    on = serializers.DateField(label="接转日期")
    member_number = serializers.CharField(
        max_length=30, required=False, allow_null=True, default=None, label="新会员编号（不填则沿用）"
    )


class CardIssueSerializer(serializers.Serializer):
    person = ScopedPrimaryKeyRelatedField(queryset=Person.objects.all(), label="职工编号")
    issued_on = serializers.DateField(label="发卡日期")
    card_number = serializers.CharField(
        max_length=24, required=False, allow_blank=True, default="", label="卡号（不填则自动生成）"
    )


class CardChangeSerializer(serializers.Serializer):
    on = serializers.DateField(label="日期")


CARD_STATUS_CHOICES = CardStatus.choices
