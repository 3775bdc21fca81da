"""What the programmes API renders and accepts. Parsing only: every rule lives in the services.

Units and enterprises are named by their codes and resolved among those the caller sees. Each workflow step
has its own small input, whose field names are the keywords of its service.

A contract, a system or a station shows the enterprises it covers; one outside the caller's scope (moved to
another district since) is shown without its code and name (docs/API.md, "Records outside your scope").
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from safetynet.core.api_base import (
    OTHER_UNIT,
    NestedRecordListSerializer,
    RecordSerializer,
    ScopeCheck,
    bounded_integer,
    scope_check,
)
from safetynet.orgs.models import Enterprise
from safetynet.orgs.serializers import enterprise_code_field, unit_code_field
from safetynet.programmes import workflow
from safetynet.programmes.models import (
    CollectiveContract,
    CongressSession,
    CongressVote,
    ContractAction,
    ContractClause,
    ContractKind,
    ContractStep,
    EnterpriseSystem,
    ProgrammeScope,
    ServiceStation,
    StationFunction,
    StationType,
    SystemKind,
)

# --- contracts: what is rendered -------------------------------------------------------------


class CoveredEnterprisesMixin:
    """``enterprises``: the covered enterprises' credit codes, null for one outside the caller's scope. The
    list serializer asks once per page which of them the caller sees."""

    context: dict[str, Any]

    def prime_scope(self, check: ScopeCheck, rows: list[Any]) -> None:
        check.prime(Enterprise, [c.enterprise_id for row in rows for c in row.coverages.all()])

    @extend_schema_field(serializers.ListField(child=serializers.CharField(allow_null=True)))
    def get_enterprises(self, record: Any) -> list[str | None]:
        check = scope_check(self.context)
        coverages = list(record.coverages.all())
        check.prime(Enterprise, [c.enterprise_id for c in coverages])
        return [
            c.enterprise.credit_code if check.sees(Enterprise, c.enterprise_id) else None for c in coverages
        ]


class ContractSerializer(CoveredEnterprisesMixin, RecordSerializer):
    name = serializers.CharField(source="__str__", read_only=True, help_text="合同名称")
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    scope_label = serializers.CharField(source="get_scope_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    org_unit = serializers.CharField(source="org_unit.code", read_only=True, help_text="承办单位区划代码")
    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True)
    enterprises = serializers.SerializerMethodField(
        help_text="覆盖企业的统一社会信用代码（不在您管辖范围内的为 null）"
    )
    next_actions = serializers.SerializerMethodField(help_text="当前状态下可以办理的步骤（动作代码）")

    class Meta:
        model = CollectiveContract
        fields = [
            "id",
            "name",
            "kind",
            "kind_label",
            "scope",
            "scope_label",
            "status",
            "status_label",
            "org_unit",
            "org_unit_name",
            "enterprises",
            "covered_employees",
            "offered_on",
            "signed_on",
            "filing_due_on",
            "filed_on",
            "filed_late",
            "deemed_effective_on",
            "effective_on",
            "expires_on",
            "wage_rise_percent",
            "clauses",
            "vote_held_on",
            "representatives_total",
            "representatives_attended",
            "votes_for",
            "votes_against",
            "previous",
            "next_actions",
        ]
        read_only_fields = fields
        list_serializer_class = NestedRecordListSerializer

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ContractAction.choices)))
    def get_next_actions(self, contract: CollectiveContract) -> list[str]:
        return [str(action) for action in workflow.allowed_actions(contract.status)]


class ContractStepSerializer(RecordSerializer):
    # Plain strings: the codes are those of ContractSerializer.status and next_actions (one enum each in the schema).
    action = serializers.CharField(read_only=True, help_text="步骤代码（同 next_actions）")
    from_status = serializers.CharField(read_only=True, help_text="原状态代码（同合同 status）")
    to_status = serializers.CharField(read_only=True, help_text="新状态代码（同合同 status）")
    action_label = serializers.CharField(source="get_action_display", read_only=True)
    actor_unit = serializers.CharField(source="actor_unit.code", read_only=True, allow_null=True)
    has_attachment = serializers.SerializerMethodField()

    class Meta:
        model = ContractStep
        fields = [
            "id",
            "action",
            "action_label",
            "from_status",
            "to_status",
            "on",
            "actor_name",
            "actor_unit",
            "comment",
            "has_attachment",
            "data",
            "at",
        ]
        read_only_fields = fields

    def get_has_attachment(self, step: ContractStep) -> bool:
        return bool(step.attachment)


# --- contracts: what is accepted -------------------------------------------------------------


def _attachment() -> serializers.FileField:
    return serializers.FileField(
        required=False, allow_null=True, label="附件", help_text="该步骤的文件（可选）"
    )


def _comment(label: str = "说明") -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, default="", label=label)


class ContractOfferSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ContractKind.choices, label="合同类型")
    enterprises = enterprise_code_field(many=True, label="覆盖企业", help_text="统一社会信用代码列表")
    scope = serializers.ChoiceField(
        choices=ProgrammeScope.choices,
        required=False,
        label="合同范围",
        help_text="默认：一家企业为企业合同，多家为区域性",
    )
    org_unit = unit_code_field(required=False, allow_null=True, label="承办单位区划代码")
    offered_on = serializers.DateField(required=False, label="要约日期", help_text="默认今天")
    title = serializers.CharField(required=False, allow_blank=True, max_length=200, label="合同名称")
    covered_employees = bounded_integer(required=False, allow_null=True, label="覆盖职工人数")
    comment = _comment()
    attachment = _attachment()


class StepInputSerializer(serializers.Serializer):
    on = serializers.DateField(required=False, label="日期", help_text="默认今天")
    comment = _comment()
    attachment = _attachment()


class DraftInputSerializer(StepInputSerializer):
    clauses = serializers.ListField(
        child=serializers.ChoiceField(choices=ContractClause.choices), required=False, label="主要条款"
    )
    wage_rise_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True, label="工资增幅（%）"
    )
    covered_employees = bounded_integer(required=False, allow_null=True, label="覆盖职工人数")


class PreReviewInputSerializer(serializers.Serializer):
    passed = serializers.BooleanField(label="预审通过", help_text="false 为退回修改（须写明意见）")
    comments = _comment("预审意见")
    on = serializers.DateField(required=False, label="预审日期", help_text="默认今天")
    attachment = _attachment()


class VoteInputSerializer(serializers.Serializer):
    held_on = serializers.DateField(label="职代会召开日期")
    representatives_total = bounded_integer(min_value=1, label="职工代表总数")
    attended = bounded_integer(label="出席代表数")
    votes_for = bounded_integer(label="赞成票")
    votes_against = bounded_integer(label="反对票")
    abstentions = bounded_integer(required=False, default=0, label="弃权票")
    comment = _comment()
    attachment = _attachment()


class SignInputSerializer(serializers.Serializer):
    signed_on = serializers.DateField(label="签订日期")
    effective_on = serializers.DateField(label="生效日期（期限起）")
    expires_on = serializers.DateField(label="到期日期（期限止，当天有效）")
    wage_rise_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True, label="工资增幅（%）"
    )
    covered_employees = bounded_integer(required=False, allow_null=True, label="覆盖职工人数")
    comment = _comment()
    attachment = _attachment()


class FileInputSerializer(serializers.Serializer):
    filed_on = serializers.DateField(label="人社部门收到日期")
    comment = _comment()
    attachment = _attachment()


class ObjectionInputSerializer(serializers.Serializer):
    on = serializers.DateField(label="异议日期")
    comment = serializers.CharField(label="异议内容")
    attachment = _attachment()


class ExpireInputSerializer(serializers.Serializer):
    on = serializers.DateField(required=False, label="到期登记日期", help_text="默认今天")


class RenewInputSerializer(serializers.Serializer):
    offered_on = serializers.DateField(required=False, label="新一期要约日期", help_text="默认今天")
    comment = _comment()
    attachment = _attachment()


class WithdrawInputSerializer(serializers.Serializer):
    on = serializers.DateField(required=False, label="终止日期", help_text="默认今天")
    comment = serializers.CharField(label="终止原因")


# --- workers' congress and openness ----------------------------------------------------------


class CongressVoteSerializer(RecordSerializer):
    item_kind_label = serializers.CharField(source="get_item_kind_display", read_only=True)

    class Meta:
        model = CongressVote
        fields = [
            "id",
            "item_kind",
            "item_kind_label",
            "title",
            "contract",
            "votes_for",
            "votes_against",
            "abstentions",
            "passed",
        ]
        read_only_fields = fields


class CongressSessionSerializer(RecordSerializer):
    quorate = serializers.BooleanField(read_only=True, help_text="出席代表是否达到三分之二")
    votes = CongressVoteSerializer(many=True, read_only=True)

    class Meta:
        model = CongressSession
        fields = ["id", "title", "held_on", "representatives_total", "attended", "quorate", "votes"]
        read_only_fields = fields


class SystemSerializer(CoveredEnterprisesMixin, RecordSerializer):
    name = serializers.CharField(source="__str__", read_only=True)
    system_label = serializers.CharField(source="get_system_display", read_only=True)
    scope_label = serializers.CharField(source="get_scope_display", read_only=True)
    org_unit = serializers.CharField(source="org_unit.code", read_only=True)
    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True)
    enterprises = serializers.SerializerMethodField(
        help_text="覆盖企业的统一社会信用代码（不在您管辖范围内的为 null）"
    )
    sessions = CongressSessionSerializer(many=True, read_only=True)

    class Meta:
        model = EnterpriseSystem
        fields = [
            "id",
            "name",
            "system",
            "system_label",
            "scope",
            "scope_label",
            "org_unit",
            "org_unit_name",
            "enterprises",
            "established_on",
            "abolished_on",
            "sessions",
        ]
        read_only_fields = fields
        list_serializer_class = NestedRecordListSerializer


class SystemCreateSerializer(serializers.Serializer):
    system = serializers.ChoiceField(choices=SystemKind.choices, label="制度")
    enterprises = enterprise_code_field(many=True, label="覆盖企业", help_text="统一社会信用代码列表")
    established_on = serializers.DateField(label="建立日期")
    abolished_on = serializers.DateField(required=False, allow_null=True, label="撤销日期")
    org_unit = unit_code_field(required=False, allow_null=True, label="所属区划代码")
    scope = serializers.ChoiceField(choices=ProgrammeScope.choices, required=False, label="范围")
    name = serializers.CharField(required=False, allow_blank=True, max_length=200, label="名称")


# --- service stations ------------------------------------------------------------------------


class StationSerializer(RecordSerializer):
    station_type_label = serializers.CharField(source="get_station_type_display", read_only=True)
    org_unit = serializers.CharField(source="org_unit.code", read_only=True)
    org_unit_name = serializers.CharField(source="org_unit.name", read_only=True)
    enterprise = serializers.CharField(source="enterprise.credit_code", read_only=True, allow_null=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True, allow_null=True)

    class Meta:
        model = ServiceStation
        fields = [
            "id",
            "name",
            "station_type",
            "station_type_label",
            "org_unit",
            "org_unit_name",
            "enterprise",
            "enterprise_name",
            "functions",
            "opened_on",
            "closed_on",
            "staff_count",
        ]
        read_only_fields = fields
        list_serializer_class = NestedRecordListSerializer

    def prime_scope(self, check: ScopeCheck, rows: list[ServiceStation]) -> None:
        check.prime(Enterprise, [row.enterprise_id for row in rows])

    def to_representation(self, station: ServiceStation) -> dict[str, Any]:
        data = super().to_representation(station)
        # The enterprise of a station outside the caller's scope (moved since) is withheld (docs/API.md).
        if station.enterprise_id and not scope_check(self.context).sees(Enterprise, station.enterprise_id):
            data.update(enterprise=None, enterprise_name=OTHER_UNIT)
        return data


class StationWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, label="名称")
    station_type = serializers.ChoiceField(choices=StationType.choices, label="类型")
    org_unit = unit_code_field(
        required=False, allow_null=True, label="所在区划代码", help_text="默认为企业所在区划"
    )
    enterprise = enterprise_code_field(required=False, allow_null=True, label="所在企业统一社会信用代码")
    functions = serializers.ListField(
        child=serializers.ChoiceField(choices=StationFunction.choices), required=False, label="服务功能"
    )
    opened_on = serializers.DateField(label="启用日期")
    closed_on = serializers.DateField(required=False, allow_null=True, label="撤销日期")
    staff_count = bounded_integer(required=False, label="工作人员数")
