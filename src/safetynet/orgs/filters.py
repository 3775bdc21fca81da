"""Query parameters of the registry lists on the API.

Each FilterSet parses and validates the query string (and documents it in the schema); the filtering itself
is the app's selector, called once with the cleaned values. The selector starts from ``visible_to(user)``,
and a unit named by code is resolved within the caller's scope: a unit outside it answers 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters

from safetynet.core.scope import get_for_user
from safetynet.orgs.models import (
    Enterprise,
    GrassrootsUnion,
    Industry,
    OrgLevel,
    OrgUnit,
    Ownership,
    UnionType,
)
from safetynet.orgs.selectors import ENTERPRISE_SORTS, UNION_SORTS, enterprise_list, orgunit_list, union_list


def _choices(keys: Any) -> list[tuple[str, str]]:
    return [(key, key) for key in keys]


class SelectorFilterSet(filters.FilterSet):
    """Hands the cleaned parameters to ``select(user, values)`` instead of filtering field by field."""

    def scoped_unit(self, code: str) -> OrgUnit:
        return get_for_user(OrgUnit.objects.all(), self.request.user, code=code.strip())

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        values = {key: value for key, value in self.form.cleaned_data.items() if value not in (None, "")}
        return self.select(self.request.user, values)

    def select(self, user: Any, values: dict[str, Any]) -> QuerySet:
        raise NotImplementedError


class OrgUnitFilter(SelectorFilterSet):
    q = filters.CharFilter(field_name="name", label="名称包含的文字，或区划代码的开头")
    level = filters.TypedChoiceFilter(
        field_name="level",
        choices=OrgLevel.choices,
        coerce=int,
        label="层级：1 市，2 区市县，3 乡镇街道，4 村社区",
    )
    parent = filters.CharFilter(
        field_name="parent__code", label="上级单位的区划代码：只列它的直接下级（不在管辖范围内时 404）"
    )
    unit = filters.CharFilter(
        field_name="path", label="区划代码：这个单位及其以下所有单位（不在管辖范围内时 404）"
    )

    class Meta:
        model = OrgUnit
        fields: list[str] = []

    def select(self, user: Any, values: dict[str, Any]) -> QuerySet:
        within = self.scoped_unit(values["unit"]) if "unit" in values else None
        units = orgunit_list(user, within=within, q=values.get("q", ""), level=values.get("level"))
        if "parent" in values:
            units = units.filter(parent=self.scoped_unit(values["parent"]))
        return units


class EnterpriseFilter(SelectorFilterSet):
    q = filters.CharFilter(field_name="name", label="企业名称包含的文字，或统一社会信用代码的开头")
    unit = filters.CharFilter(
        field_name="org_unit__code", label="区划代码：这个单位及其以下所有单位的企业（不在管辖范围内时 404）"
    )
    ownership = filters.ChoiceFilter(field_name="ownership", choices=Ownership.choices, label="经济类型")
    sector = filters.ChoiceFilter(
        field_name="ownership",
        choices=[("public", "公有制"), ("nonpublic", "非公有制")],
        label="公有制（国有、集体、事业单位、机关）或非公有制",
    )
    industry = filters.ModelChoiceFilter(
        field_name="industry", queryset=Industry.objects.all(), label="行业门类代码 A–T"
    )
    above_designated_size = filters.BooleanFilter(field_name="above_designated_size", label="规模以上")
    has_union = filters.BooleanFilter(field_name="has_union", label="今天是否有工会覆盖")
    eligible = filters.BooleanFilter(
        field_name="headcount",
        label="true：只列职工人数达到建会标准（ELIGIBLE_MIN_HEADCOUNT，默认 25 人）的企业",
    )
    status = filters.ChoiceFilter(
        field_name="deregistered_on",
        choices=[("operating", "存续"), ("deregistered", "已注销")],
        label="存续或已注销",
    )
    sort = filters.ChoiceFilter(
        field_name="name",
        choices=_choices(ENTERPRISE_SORTS),
        label="排序：name、code、headcount、founded、unit，前加 - 为倒序",
    )

    class Meta:
        model = Enterprise
        fields: list[str] = []

    def select(self, user: Any, values: dict[str, Any]) -> QuerySet:
        return enterprise_list(
            user,
            unit=self.scoped_unit(values["unit"]) if "unit" in values else None,
            q=values.get("q", "").strip(),
            ownership=values.get("ownership", ""),
            sector=values.get("sector", ""),
            industry=values["industry"].code if "industry" in values else "",
            above_designated_size=values.get("above_designated_size"),
            has_union=values.get("has_union"),
            eligible_only=bool(values.get("eligible")),
            status=values.get("status", ""),
            sort=values.get("sort", ""),
        )


class UnionFilter(SelectorFilterSet):
    q = filters.CharFilter(field_name="name", label="工会名称或主席姓名包含的文字")
    unit = filters.CharFilter(
        field_name="org_unit__code", label="区划代码：这个单位及其以下所有单位的工会（不在管辖范围内时 404）"
    )
    type = filters.ChoiceFilter(field_name="union_type", choices=UnionType.choices, label="工会类型")
    status = filters.ChoiceFilter(
        field_name="dissolved_on", choices=[("active", "存续"), ("dissolved", "已撤销")], label="存续或已撤销"
    )
    sort = filters.ChoiceFilter(
        field_name="name",
        choices=_choices(UNION_SORTS),
        label="排序：name、founded、unit、enterprises，前加 - 为倒序",
    )

    class Meta:
        model = GrassrootsUnion
        fields: list[str] = []

    def select(self, user: Any, values: dict[str, Any]) -> QuerySet:
        return union_list(
            user,
            unit=self.scoped_unit(values["unit"]) if "unit" in values else None,
            q=values.get("q", "").strip(),
            union_type=values.get("type", ""),
            status=values.get("status", ""),
            sort=values.get("sort", ""),
        )
