"""What the registry API renders and accepts. Parsing only: every rule lives in the services.

Related records are named by their codes (unit code, credit code) and resolved among those the caller
sees, so a code outside the caller's scope is refused like an unknown one.
"""

from __future__ import annotations

from rest_framework import serializers

from safetynet.core.api_base import (
    OTHER_UNIT,
    NestedRecordListSerializer,
    NestedRecordSerializer,
    RecordSerializer,
    ScopedSlugRelatedField,
)
from safetynet.core.normalize import clean_code
from safetynet.orgs.models import (
    Enterprise,
    GrassrootsUnion,
    Industry,
    OrgLevel,
    OrgUnit,
    Ownership,
    UnionCoverage,
    UnionType,
)

UNIT_NOT_FOUND = "单位代码“{value}”不存在或不在您的管辖范围内。"
ENTERPRISE_NOT_FOUND = "统一社会信用代码“{value}”的企业不存在或不在您的管辖范围内。"


def unit_code_field(**kwargs: object) -> ScopedSlugRelatedField:
    return ScopedSlugRelatedField(
        slug_field="code",
        queryset=OrgUnit.objects.all(),
        normalize=clean_code,
        error_messages={"does_not_exist": UNIT_NOT_FOUND},
        **kwargs,
    )


def enterprise_code_field(**kwargs: object) -> ScopedSlugRelatedField:
    return ScopedSlugRelatedField(
        slug_field="credit_code",
        queryset=Enterprise.objects.all(),
        normalize=clean_code,
        error_messages={"does_not_exist": ENTERPRISE_NOT_FOUND},
        **kwargs,
    )


# --- org units -------------------------------------------------------------------------------


class OrgUnitSerializer(RecordSerializer):
    level_label = serializers.CharField(source="get_level_display", read_only=True, help_text="层级名称")
    parent = serializers.CharField(
        source="parent.code", read_only=True, allow_null=True, help_text="上级单位区划代码"
    )
    parent_name = serializers.CharField(
        source="parent.name", read_only=True, allow_null=True, help_text="上级单位名称"
    )
    is_open = serializers.BooleanField(read_only=True, help_text="今天是否在用（未停用）")

    class Meta:
        model = OrgUnit
        fields = [
            "id",
            "code",
            "name",
            "level",
            "level_label",
            "parent",
            "parent_name",
            "valid_from",
            "valid_to",
            "is_open",
        ]
        read_only_fields = fields


class OrgUnitCreateSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=12, label="区划代码", help_text="市 4 或 6 位，区市县 6 位，乡镇街道 9 位，村社区 12 位"
    )
    name = serializers.CharField(max_length=100, label="名称")
    level = serializers.ChoiceField(
        choices=OrgLevel.choices, label="层级", help_text="1 市，2 区市县，3 乡镇街道，4 村社区"
    )
    parent = unit_code_field(
        allow_null=True, required=False, default=None, label="上级单位区划代码", help_text="市级单位不填"
    )
    valid_from = serializers.DateField(required=False, allow_null=True, label="启用日期")
    valid_to = serializers.DateField(required=False, allow_null=True, label="停用日期")


class OrgUnitUpdateSerializer(serializers.Serializer):
    """Renaming or recoding a unit from a day on; moving and closing it are separate operations."""

    code = serializers.CharField(max_length=12, label="区划代码")
    name = serializers.CharField(max_length=100, label="名称")
    effective_on = serializers.DateField(
        required=False,
        allow_null=True,
        write_only=True,
        label="生效日期",
        help_text="不填为今天；此前的统计仍用旧名称和代码",
    )


# --- enterprises -----------------------------------------------------------------------------


class EnterpriseSerializer(RecordSerializer):
    org_unit = serializers.CharField(source="org_unit.code", read_only=True, help_text="所属区划代码")
    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True, help_text="所属区划名称")
    ownership_label = serializers.CharField(
        source="get_ownership_display", read_only=True, help_text="经济类型名称"
    )
    industry = serializers.CharField(
        source="industry_id", read_only=True, allow_null=True, help_text="行业门类代码"
    )
    is_public = serializers.BooleanField(read_only=True, help_text="是否公有制（国有、集体、事业单位、机关）")
    is_covered = serializers.BooleanField(read_only=True, help_text="今天是否有存续的工会覆盖")

    class Meta:
        model = Enterprise
        fields = [
            "id",
            "credit_code",
            "name",
            "org_unit",
            "org_unit_name",
            "ownership",
            "ownership_label",
            "is_public",
            "industry",
            "above_designated_size",
            "headcount",
            "migrant_headcount",
            "dispatched_headcount",
            "founded_on",
            "deregistered_on",
            "address",
            "contact_phone",
            "is_covered",
        ]
        read_only_fields = fields


class EnterpriseWriteSerializer(RecordSerializer):
    # Longer than 18 so that codes typed with spaces or full-width characters reach the service's check.
    credit_code = serializers.CharField(max_length=40, label="统一社会信用代码")
    org_unit = unit_code_field(label="所属区划代码")
    ownership = serializers.ChoiceField(choices=Ownership.choices, label="经济类型")
    industry = serializers.PrimaryKeyRelatedField(
        queryset=Industry.objects.all(), allow_null=True, required=False, label="行业门类代码（A–T）"
    )
    effective_on = serializers.DateField(
        required=False,
        allow_null=True,
        write_only=True,
        label="生效日期",
        help_text="修改时：新的所属区划或职工人数自哪天起生效（不填为今天）",
    )

    class Meta:
        model = Enterprise
        fields = [
            "credit_code",
            "name",
            "org_unit",
            "ownership",
            "industry",
            "above_designated_size",
            "headcount",
            "migrant_headcount",
            "dispatched_headcount",
            "founded_on",
            "deregistered_on",
            "address",
            "contact_phone",
            "effective_on",
        ]
        validators: list = []


# --- grassroots unions -----------------------------------------------------------------------


class UnionSerializer(RecordSerializer):
    union_type_label = serializers.CharField(
        source="get_union_type_display", read_only=True, help_text="工会类型名称"
    )
    org_unit = serializers.CharField(source="org_unit.code", read_only=True, help_text="所属区划代码")
    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True, help_text="所属区划名称")
    is_active = serializers.BooleanField(read_only=True, help_text="今天是否存续")
    covered_count = serializers.IntegerField(read_only=True, help_text="今天覆盖的企业数")

    class Meta:
        model = GrassrootsUnion
        fields = [
            "id",
            "name",
            "union_type",
            "union_type_label",
            "org_unit",
            "org_unit_name",
            "founded_on",
            "dissolved_on",
            "chair_name",
            "chair_directly_elected",
            "is_active",
            "covered_count",
        ]
        read_only_fields = fields


class UnionUpdateSerializer(RecordSerializer):
    union_type = serializers.ChoiceField(choices=UnionType.choices, label="工会类型")
    org_unit = unit_code_field(label="所属区划代码")

    class Meta:
        model = GrassrootsUnion
        fields = [
            "name",
            "union_type",
            "org_unit",
            "founded_on",
            "dissolved_on",
            "chair_name",
            "chair_directly_elected",
        ]
        validators: list = []


class UnionCreateSerializer(UnionUpdateSerializer):
    enterprises = enterprise_code_field(
        many=True, required=False, label="覆盖企业", help_text="统一社会信用代码列表；自成立之日起覆盖"
    )

    class Meta(UnionUpdateSerializer.Meta):
        fields = [*UnionUpdateSerializer.Meta.fields, "enterprises"]


class CoverageSerializer(NestedRecordSerializer, RecordSerializer):
    """An enterprise the union covers. An enterprise outside the caller's scope (a union of the district
    covering one in another) is shown without its code and name (docs/API.md)."""

    scope_model = Enterprise
    scope_key = "enterprise_id"
    withheld = {"enterprise": None, "enterprise_credit_code": None, "enterprise_name": OTHER_UNIT}

    enterprise = serializers.IntegerField(
        source="enterprise_id", read_only=True, allow_null=True, help_text="企业编号"
    )
    enterprise_credit_code = serializers.CharField(
        source="enterprise.credit_code", read_only=True, allow_null=True
    )
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)

    class Meta:
        model = UnionCoverage
        fields = [
            "id",
            "enterprise",
            "enterprise_credit_code",
            "enterprise_name",
            "in_scope",
            "valid_from",
            "valid_to",
        ]
        read_only_fields = fields
        list_serializer_class = NestedRecordListSerializer


class CoverageCreateSerializer(serializers.Serializer):
    enterprise = enterprise_code_field(label="企业统一社会信用代码")
    valid_from = serializers.DateField(label="覆盖起始日期")
    valid_to = serializers.DateField(required=False, allow_null=True, label="覆盖终止日期")
