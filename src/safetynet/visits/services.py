"""走访企业职工: every write. A visit's finding becomes a warning (reporting) and/or a case (cases) in the
same transaction, through those apps' own services, and the visit keeps the links."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from safetynet.accounts.models import Capability
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditAction
from safetynet.core.normalize import clean_free_text, clean_text
from safetynet.core.scope import user_scope_path
from safetynet.core.services import audit_created, audit_diff, audit_record, audit_snapshot
from safetynet.orgs.models import Enterprise
from safetynet.visits.models import CHECKLIST, Visit

VISIT_AUDIT_FIELDS = (
    "officer_name",
    "visited_on",
    "enterprise",
    "worker_name",
    "checklist",
    "findings",
    "warning",
    "case",
)
EARLIEST_VISIT = datetime.date(2000, 1, 1)

# What a finding becomes as a case when it was not raised as a warning first (cases.models.Category).
CASE_CATEGORY_BY_WARNING = {"wage_arrears": "wage_arrears", "social_insurance": "social_insurance"}


def can_record_visits(user: Any) -> bool:
    return bool(
        user is not None and user.is_authenticated and user.is_active and user.can(Capability.RECORD_VISITS)
    )


def _require_scope(actor: Any, enterprise: Enterprise) -> None:
    path = user_scope_path(actor)
    if path is None or not enterprise.org_unit.path.startswith(path):
        raise OutOfScope(
            f"企业“{enterprise.name}”不在您的管辖范围内，不能登记对它的走访；请由其所在地区的工会登记。",
            field="enterprise",
        )


def clean_checklist(items: Iterable[str]) -> list[str]:
    codes = []
    for item in items:
        code = clean_text(item)
        if not code:
            continue
        if code not in CHECKLIST:
            raise ServiceError("invalid", f"走访事项“{code}”不在六必清、八必访清单中。", field="checklist")
        if code not in codes:
            codes.append(code)
    return codes


@transaction.atomic
def visit_create(
    *,
    actor: Any,
    enterprise: Enterprise,
    visited_on: datetime.date | None,
    worker_name: str = "",
    person: Any = None,
    checklist: Iterable[str] = (),
    findings: str = "",
    warning_category: str = "",
    case_category: str = "",
    caller_phone: str = "",
    now: datetime.datetime | None = None,
) -> Visit:
    """Log a visit. With ``warning_category`` the finding is registered as a warning signal; with
    ``case_category`` it opens a case; with both, the warning is verified and turned into the case (so the
    warning, the case and the visit all point to each other). All or nothing."""
    if not can_record_visits(actor):
        raise NotAllowed("您的角色不能登记走访（需要“登记走访”权限）。")
    _require_scope(actor, enterprise)
    now = now or timezone.now()
    today = timezone.localdate(now)
    if visited_on is None:
        raise ServiceError("required", "请填写走访日期。", field="visited_on")
    if visited_on > today:
        raise ServiceError(
            "future", f"走访日期（{visited_on.isoformat()}）不能晚于今天。", field="visited_on"
        )
    if visited_on < EARLIEST_VISIT:
        raise ServiceError("invalid", "走访日期过早，请核对（应在 2000 年以后）。", field="visited_on")
    if visited_on < enterprise.founded_on:
        raise ServiceError(
            "not_existing",
            f"走访日期（{visited_on.isoformat()}）早于企业成立日期（{enterprise.founded_on.isoformat()}）。",
            field="visited_on",
        )
    findings = clean_free_text(findings)
    if len(findings) > 5000:
        raise ServiceError("invalid", "发现的问题最多 5000 字。", field="findings")
    if (warning_category or case_category) and not findings:
        raise ServiceError("required", "登记预警或转为诉求案件前，请先写明走访发现的问题。", field="findings")
    visit = Visit.objects.create(
        officer=actor,
        officer_name=(getattr(actor, "full_name", "") or actor.get_username())[:50],
        visited_on=visited_on,
        enterprise=enterprise,
        worker_name=clean_text(worker_name)[:50],
        person=person,
        checklist=clean_checklist(checklist),
        findings=findings,
    )
    audit_created(actor=actor, instance=visit, fields=VISIT_AUDIT_FIELDS, unit_path=enterprise.org_unit.path)
    if warning_category or case_category:
        visit = visit_escalate(
            actor=actor,
            visit=visit,
            warning_category=warning_category,
            case_category=case_category,
            caller_phone=caller_phone,
            now=now,
        )
    return visit


@transaction.atomic
def visit_escalate(
    *,
    actor: Any,
    visit: Visit,
    warning_category: str = "",
    case_category: str = "",
    caller_phone: str = "",
    now: datetime.datetime | None = None,
) -> Visit:
    """Raise a warning and/or open a case from a visit's finding (one step), and link them to the visit."""
    from safetynet.cases.services import case_intake
    from safetynet.reporting.services import warning_create, warning_create_case, warning_transition

    if not can_record_visits(actor):
        raise NotAllowed("您的角色不能登记走访（需要“登记走访”权限）。")
    visit = Visit.objects.select_for_update().select_related("enterprise__org_unit").get(pk=visit.pk)
    _require_scope(actor, visit.enterprise)
    if not warning_category and not case_category:
        raise ServiceError("required", "请选择预警类别或诉求类别。", field="warning_category")
    if warning_category and visit.warning_id:
        raise ServiceError("has_warning", "该走访已登记过预警，不能重复登记。", field="warning_category")
    if case_category and visit.case_id:
        raise ServiceError("has_case", "该走访已转为诉求案件，不能重复转办。", field="case_category")
    if not visit.findings:
        raise ServiceError("required", "该走访没有记录发现的问题，不能登记预警或转办。", field="findings")
    now = now or timezone.now()
    before = audit_snapshot(visit, ("warning", "case"))
    description = f"走访发现（{visit.visited_on.isoformat()}，{visit.officer_name}）：{visit.findings}"
    if warning_category:
        warning = warning_create(
            actor=actor,
            enterprise=visit.enterprise,
            category=warning_category,
            discovered_on=visit.visited_on,
            reported_at=now,
            description=description,
            now=now,
        )
        visit.warning = warning
        if case_category:
            # The warning is verified on the spot (the cadre saw it) and referred as a case: the reporting
            # service links warning ↔ case, this one links both to the visit.
            warning = warning_transition(actor=actor, warning=warning, action="verify", now=now)
            case = warning_create_case(actor=actor, warning=warning, now=now)
            visit.case = case
    elif (
        case_category
        and visit.warning is not None
        and visit.warning.case_id is None
        and (visit.warning.status in ("reported", "verified", "handling"))
    ):
        # A warning raised earlier from this visit: refer that warning, so it shows the case too.
        warning = visit.warning
        if warning.status == "reported":
            warning = warning_transition(actor=actor, warning=warning, action="verify", now=now)
        visit.case = warning_create_case(actor=actor, warning=warning, now=now)
    elif case_category:
        visit.case = case_intake(
            actor=actor,
            channel="referral",
            category=case_category,
            description=description,
            enterprise=visit.enterprise,
            caller_phone=caller_phone,
            caller_name=visit.worker_name,
            now=now,
        )
    visit.save(update_fields=["warning", "case"])
    if visit.warning is not None:
        visit.warning.refresh_from_db()  # the reporting services moved and linked it after we took it
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=visit,
        changes=audit_diff(before, audit_snapshot(visit, ("warning", "case"))),
        unit_path=visit.enterprise.org_unit.path,
        note="走访发现转预警/诉求",
    )
    return visit
