"""Programme indicators (see core/metrics.py): 工资集体协商建制率, 职代会 / 厂务公开建制率, 服务站覆盖率.

Each is over U(u,d), the eligible enterprises a union covers, so every denominator includes ``covered``.
"""

from __future__ import annotations

import datetime

from safetynet.core.metrics import ENTERPRISE, ChangeDays, Fact, Indicator, MetricsDeclaration
from safetynet.programmes.models import (
    WAGE_BARGAINING_KINDS,
    ContractCoverage,
    ServiceStation,
    SystemCoverage,
    SystemKind,
)
from safetynet.programmes.selectors import (
    contract_in_force_q,
    station_open_q,
    system_active_q,
)


def _on_enterprise_rows(enterprise_ref: str) -> None:
    # The selectors correlate on the enterprise's own primary key: these facts belong to the enterprise population.
    if enterprise_ref != "pk":
        raise ValueError("programme facts are facts about enterprises")


def wage_contract(day: datetime.date, enterprise_ref: str):
    _on_enterprise_rows(enterprise_ref)
    return contract_in_force_q(day, WAGE_BARGAINING_KINDS)


def congress(day: datetime.date, enterprise_ref: str):
    _on_enterprise_rows(enterprise_ref)
    return system_active_q(day, SystemKind.CONGRESS)


def openness(day: datetime.date, enterprise_ref: str):
    _on_enterprise_rows(enterprise_ref)
    return system_active_q(day, SystemKind.OPENNESS)


def station(day: datetime.date, enterprise_ref: str):
    _on_enterprise_rows(enterprise_ref)
    return station_open_q(day)


def _system_rates(system: str, label: str, order: int) -> list[Indicator]:
    return [
        Indicator(
            code=f"{system}_rate_{sector}",
            label=f"{label}（{sector_label}）",
            population=ENTERPRISE,
            numerator=("covered", sector, system),
            denominator=("covered", sector),
            order=order + i,
            description=f"{sector_label}已建会企业中建立{label.removesuffix('建制率')}的比例",
        )
        for i, (sector, sector_label) in enumerate((("public", "公有制"), ("nonpublic", "非公有制")))
    ]


DECLARATION = MetricsDeclaration(
    facts=[
        Fact("wage_contract", ENTERPRISE, wage_contract),
        Fact("congress", ENTERPRISE, congress),
        Fact("openness", ENTERPRISE, openness),
        Fact("station", ENTERPRISE, station),
    ],
    indicators=[
        Indicator(
            code="wage_bargaining_rate",
            label="工资集体协商建制率",
            population=ENTERPRISE,
            numerator=("covered", "wage_contract"),
            denominator=("covered",),
            order=50,
            description="已建会企业中有综合或工资专项集体合同在当日有效（生效日期 ≤ d ≤ 到期日期）的比例",
        ),
        *_system_rates("congress", "职代会建制率", 60),
        *_system_rates("openness", "厂务公开建制率", 70),
        Indicator(
            code="station_rate",
            label="服务站覆盖率",
            population=ENTERPRISE,
            numerator=("covered", "station"),
            denominator=("covered",),
            order=80,
            description="已建会企业中有当日开放的职工服务站的比例",
        ),
    ],
    change_days=[
        ChangeDays(
            ContractCoverage,
            "enterprise_id",
            days=("contract__effective_on",),
            days_after=("contract__expires_on",),
        ),
        ChangeDays(
            SystemCoverage,
            "enterprise_id",
            days=("valid_from", "valid_to", "system__established_on", "system__abolished_on"),
        ),
        ChangeDays(ServiceStation, "enterprise_id", days=("opened_on", "closed_on")),
    ],
)
