"""Query parameters of the programme lists on the API: parsed here, filtered by the selectors.

A unit is named by its code and resolved within the caller's scope: a unit outside it answers 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters

from safetynet.orgs.filters import SelectorFilterSet
from safetynet.programmes import selectors
from safetynet.programmes.models import (
    CollectiveContract,
    ContractKind,
    ContractStatus,
    EnterpriseSystem,
    ServiceStation,
    StationType,
    SystemKind,
)

UNIT_LABEL = "区划代码：这个单位及其以下所有单位（不在管辖范围内时 404）"


class ContractFilter(SelectorFilterSet):
    q = filters.CharFilter(field_name="title", label="合同名称包含的文字，或覆盖企业的统一社会信用代码")
    unit = filters.CharFilter(field_name="org_unit__code", label=UNIT_LABEL)
    kind = filters.ChoiceFilter(field_name="kind", choices=ContractKind.choices, label="合同类型")
    status = filters.ChoiceFilter(field_name="status", choices=ContractStatus.choices, label="状态")
    expiring = filters.BooleanFilter(field_name="expires_on", label="true：今天起 60 天内到期的合同")
    overdue = filters.BooleanFilter(field_name="filing_due_on", label="true：签订后逾期未备案的合同")

    class Meta:
        model = CollectiveContract
        fields: list[str] = []

    def select(self, user: Any, values: dict[str, Any]) -> QuerySet:
        today = timezone.localdate()
        return selectors.contract_list(
            user,
            within=self.scoped_unit(values["unit"]) if "unit" in values else None,
            kind=values.get("kind"),
            status=values.get("status"),
            q=values.get("q", "").strip(),
            expiring_on=today if values.get("expiring") else None,
            overdue_on=today if values.get("overdue") else None,
        ).prefetch_related("coverages__enterprise")


class SystemFilter(SelectorFilterSet):
    unit = filters.CharFilter(field_name="org_unit__code", label=UNIT_LABEL)
    system = filters.ChoiceFilter(field_name="system", choices=SystemKind.choices, label="制度")

    class Meta:
        model = EnterpriseSystem
        fields: list[str] = []

    def select(self, user: Any, values: dict[str, Any]) -> QuerySet:
        return selectors.system_list(
            user,
            within=self.scoped_unit(values["unit"]) if "unit" in values else None,
            system=values.get("system", ""),
        ).prefetch_related("coverages__enterprise")


class StationFilter(SelectorFilterSet):
    unit = filters.CharFilter(field_name="org_unit__code", label=UNIT_LABEL)
    station_type = filters.ChoiceFilter(field_name="station_type", choices=StationType.choices, label="类型")
    open = filters.BooleanFilter(field_name="closed_on", label="true：只列今天运行中的服务站")

    class Meta:
        model = ServiceStation
        fields: list[str] = []

    def select(self, user: Any, values: dict[str, Any]) -> QuerySet:
        return selectors.station_list(
            user,
            within=self.scoped_unit(values["unit"]) if "unit" in values else None,
            station_type=values.get("station_type", ""),
            open_on=timezone.localdate() if values.get("open") else None,
        )
