"""The reporting part of the scope walk (tests/test_scope_walk.py): a zero report of the 中山区 street above the
walk's enterprise and a warning about that enterprise, for every model a reporting URL names."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Model

from safetynet.reporting import periods, services
from safetynet.reporting.models import Incident, Report, ReportForm, WarningSignal


def scope_walk_records(enterprise: Any) -> tuple[dict[type[Model], Model], list[str]]:
    street = enterprise.org_unit.parent if enterprise.org_unit.level == 4 else enterprise.org_unit
    form = ReportForm.objects.filter(code="WALKYJ").first() or services.reportform_create(
        actor=None,
        code="WALKYJ",
        name="走查预警月报",
        period_kind="month",
        level=street.level,
        due_day=5,
        is_warning=True,
        enabled_from=datetime.date(2012, 1, 1),
    )
    report = services.report_submit(
        actor=None,
        form=form,
        unit=street,
        period="2012-05",
        is_zero=True,
        content="中山走查零申报内容",
        submitted_at=datetime.datetime(2012, 6, 2, 9, 0, tzinfo=periods.BEIJING),
    )
    warning = services.warning_create(
        actor=None,
        enterprise=enterprise,
        category="wage_arrears",
        discovered_on=datetime.date(2012, 5, 20),
        reported_at=datetime.datetime(2012, 5, 21, 10, 0, tzinfo=periods.BEIJING),
        description="中山走查预警说明",
    )
    incident = services.incident_file(
        actor=None,
        enterprise=enterprise,
        category="collective_sign",
        title="中山走查突发事件",
        known_at=datetime.datetime(2012, 5, 21, 9, 0, tzinfo=periods.BEIJING),
        reported_at=datetime.datetime(2012, 5, 21, 10, 0, tzinfo=periods.BEIJING),
        description="中山走查事件经过",
    )
    records: dict[type[Model], Model] = {Report: report, WarningSignal: warning, Incident: incident}
    return records, ["中山走查零申报内容", "中山走查预警说明", "中山走查突发事件", "中山走查事件经过"]
