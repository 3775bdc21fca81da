"""Setting targets (责任分解): a unit sets targets for the units directly below it; the city for itself too."""

from __future__ import annotations

import decimal
from typing import Any

from django.db import transaction

from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditAction
from safetynet.core.scope import user_scope_path
from safetynet.core.services import audit_record
from safetynet.indicators.models import Target
from safetynet.indicators.registry import registry
from safetynet.orgs.models import OrgUnit


def can_set_target(actor: Any, unit: OrgUnit) -> bool:
    if actor is None:
        return True
    path = user_scope_path(actor)
    if path is None or not actor.can("edit_units"):
        return False
    if unit.parent_id is None:
        return path == "" or (actor.org_unit_id == unit.pk and actor.role == "city_admin")
    return path == "" or actor.org_unit_id == unit.parent_id


@transaction.atomic
def target_set(
    *, actor: Any, indicator: str, org_unit: OrgUnit, year: int, value: decimal.Decimal | float | str
) -> Target:
    if indicator not in registry().indicators:
        raise ServiceError("unknown_indicator", f"未知指标“{indicator}”。", field="indicator")
    path = user_scope_path(actor) if actor is not None else ""
    if path is None or not org_unit.path.startswith(path):
        raise OutOfScope()
    if not can_set_target(actor, org_unit):
        raise NotAllowed("目标由上一级单位分解下达：您只能为直接下级单位设定目标。")
    try:
        value = decimal.Decimal(str(value)).quantize(decimal.Decimal("0.0001"))
    except decimal.InvalidOperation:
        raise ServiceError("target_value", f"目标值“{value}”不是数字。", field="value") from None
    if not (0 <= value <= 1):
        raise ServiceError("target_range", "目标值应在 0 到 1 之间（例如 0.9 表示 90%）。", field="value")
    if not (2000 <= year <= 2100):
        raise ServiceError("target_year", f"年度“{year}”不合理。", field="year")
    target = (
        Target.objects.select_for_update().filter(indicator=indicator, org_unit=org_unit, year=year).first()
    )
    before = str(target.value) if target else None
    if target is None:
        target = Target(indicator=indicator, org_unit=org_unit, year=year)
    target.value = value
    target.set_by = actor if actor is not None and actor.is_authenticated else None
    target.save()
    if before != str(value):
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE if before else AuditAction.CREATE,
            instance=target,
            changes={"value": [before, str(value)]},
            unit_path=org_unit.path,
            note=f"{year} 年 {registry().indicators[indicator].label}",
        )
    return target
