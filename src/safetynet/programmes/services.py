"""Every write to the establishment programmes. One transaction each, with its audit rows inside it.

Contract steps lock the contract row, ask the transition table (workflow.py) whether the step may follow
the current status, record a :class:`ContractStep` and an audit entry. All keyword-only, ``actor`` first;
actor None is the system (imports, the sweep, demo data).
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.files.base import File
from django.db import transaction

from safetynet.core.errors import ServiceError
from safetynet.core.models import AuditAction
from safetynet.core.services import audit_created, audit_diff, audit_record, audit_snapshot
from safetynet.core.workflow import transition_run
from safetynet.orgs.models import PATH_SEPARATOR, Enterprise, OrgUnit
from safetynet.orgs.services import require_capability, require_unit_in_scope, today
from safetynet.programmes import workflow
from safetynet.programmes.models import (
    AnkangCupEntry,
    CollectiveContract,
    CongressSession,
    CongressVote,
    ContractAction,
    ContractClause,
    ContractCoverage,
    ContractKind,
    ContractStatus,
    ContractStep,
    EnterpriseSystem,
    ProgrammeScope,
    SafetySupervisor,
    ServiceStation,
    StationFunction,
    StationType,
    SystemCoverage,
    SystemKind,
    TeamSafetyBuilding,
    VoteItemKind,
    WorkerDirector,
    WorkerDirectorRole,
)

# Programme records are registry work: the roles that keep enterprises and unions keep these too.
EDIT = "edit_registry"

CONTRACT_AUDIT_FIELDS = (
    "kind",
    "scope",
    "title",
    "org_unit",
    "status",
    "covered_employees",
    "offered_on",
    "signed_on",
    "filed_on",
    "deemed_effective_on",
    "effective_on",
    "expires_on",
    "wage_rise_percent",
    "clauses",
)
SYSTEM_AUDIT_FIELDS = ("system", "scope", "name", "org_unit", "established_on", "abolished_on")
STATION_AUDIT_FIELDS = (
    "name",
    "org_unit",
    "enterprise",
    "station_type",
    "functions",
    "opened_on",
    "closed_on",
    "staff_count",
)


# --- shared helpers --------------------------------------------------------------------------


def coverage_digest(enterprise_ids: Iterable[int]) -> str:
    """A short fixed-length fingerprint of a set of enterprises (order and duplicates don't matter)."""
    joined = ",".join(str(pk) for pk in sorted(set(enterprise_ids)))
    return hashlib.sha1(joined.encode(), usedforsecurity=False).hexdigest()


def common_unit_id(paths: Sequence[str]) -> int | None:
    """The id of the lowest unit whose subtree holds every path (their lowest common ancestor)."""
    split = [[part for part in path.split(PATH_SEPARATOR) if part] for path in paths]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return int(common[-1]) if common else None


def _handling_unit(enterprises: Sequence[Enterprise], org_unit: OrgUnit | None) -> OrgUnit:
    """The unit that handles a record covering ``enterprises``: given, or the enterprises' common unit."""
    if org_unit is None:
        pk = common_unit_id([e.org_unit.path for e in enterprises])
        if pk is None:
            raise ServiceError(
                "no_common_unit", "覆盖企业不属于同一个上级单位，请指定承办单位。", field="org_unit"
            )
        return OrgUnit.objects.get(pk=pk)
    for enterprise in enterprises:
        if not enterprise.org_unit.path.startswith(org_unit.path):
            raise ServiceError(
                "enterprise_outside_unit",
                f"覆盖企业“{enterprise.name}”不在“{org_unit.name}”辖区内，请选择其辖区内的企业或更高一级的承办单位。",
                field="enterprises",
            )
    return org_unit


def _scope_for(enterprises: Sequence[Enterprise], scope: str | None) -> str:
    if scope:
        if scope == ProgrammeScope.ENTERPRISE and len(enterprises) != 1:
            raise ServiceError(
                "scope_mismatch",
                "企业合同只能覆盖一家企业；覆盖多家企业请选择区域性或行业性。",
                field="scope",
            )
        return scope
    return ProgrammeScope.ENTERPRISE if len(enterprises) == 1 else ProgrammeScope.REGIONAL


def _require_enterprises(enterprises: Sequence[Enterprise]) -> list[Enterprise]:
    unique = list({e.pk: e for e in enterprises}.values())
    if not unique:
        raise ServiceError("no_enterprises", "请至少选择一家覆盖企业。", field="enterprises")
    return unique


def _clean_clauses(clauses: Iterable[str] | None) -> list[str]:
    if clauses is None:
        return []
    valid = set(ContractClause.values)
    unknown = [c for c in clauses if c not in valid]
    if unknown:
        raise ServiceError("unknown_clause", f"未知的合同条款：{'、'.join(unknown)}。", field="clauses")
    return [c for c in ContractClause.values if c in set(clauses)]


def _check_wage_rise(value: decimal.Decimal | float | str | None) -> decimal.Decimal | None:
    if value in (None, ""):
        return None
    try:
        rise = decimal.Decimal(str(value)).quantize(decimal.Decimal("0.01"))
    except decimal.InvalidOperation:
        raise ServiceError(
            "wage_rise", f"工资增幅“{value}”不是数字，请填写百分数，如 8.5。", field="wage_rise_percent"
        ) from None
    if not decimal.Decimal("-100") < rise < decimal.Decimal("1000"):
        raise ServiceError("wage_rise", "工资增幅应在 -100 至 1000（%）之间。", field="wage_rise_percent")
    return rise


# --- collective contracts: steps -------------------------------------------------------------


def _guard(actor: Any, contract: CollectiveContract) -> None:
    require_capability(actor, EDIT)
    require_unit_in_scope(actor, contract.org_unit)


def _step_note(action: str, on: datetime.date, comment: str) -> str:
    return f"{ContractAction(action).label}（{on}）" + (f"：{comment}" if comment else "")


def _save_step(
    *,
    actor: Any,
    contract: CollectiveContract,
    action: ContractAction,
    from_status: str,
    on: datetime.date,
    comment: str = "",
    attachment: File | None = None,
    data: dict[str, Any] | None = None,
) -> ContractStep:
    """The step's row in the contract's history (who, when, from which status to which, the document)."""
    step = ContractStep(
        contract=contract,
        action=action,
        from_status=from_status,
        to_status=contract.status,
        on=on,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=actor.get_username() if getattr(actor, "is_authenticated", False) else "系统",
        actor_unit_id=getattr(actor, "org_unit_id", None),
        comment=comment,
        data=data or {},
    )
    if attachment is not None:
        step.attachment.save(getattr(attachment, "name", "") or "attachment", attachment, save=False)
    step.save()
    return step


def _record_step(
    *,
    actor: Any,
    contract: CollectiveContract,
    action: ContractAction,
    from_status: str,
    on: datetime.date,
    comment: str = "",
    attachment: File | None = None,
    data: dict[str, Any] | None = None,
) -> ContractStep:
    """Save a contract that has just come into being, its first step row and its creation audit entry."""
    contract.save()
    step = _save_step(
        actor=actor,
        contract=contract,
        action=action,
        from_status=from_status,
        on=on,
        comment=comment,
        attachment=attachment,
        data=data,
    )
    after = audit_snapshot(contract, CONTRACT_AUDIT_FIELDS)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=contract,
        changes={k: [None, v] for k, v in after.items() if v},
        unit_path=contract.org_unit.path,
        note=_step_note(action, on, comment),
    )
    return step


def _transition(
    *,
    actor: Any,
    contract: CollectiveContract,
    action: ContractAction,
    on: datetime.date,
    comment: str = "",
    attachment: File | None = None,
    data: dict[str, Any] | None = None,
    target: str | None = None,
    prepare: Callable[[CollectiveContract], dict[str, Any]] | None = None,
    guard: Callable[[CollectiveContract], None] | None = None,
    **values: Any,
) -> CollectiveContract:
    """One step through :func:`core.workflow.transition_run`: lock, guard, check the table, apply ``values``,
    move to ``target`` (or the step's only target), then the ContractStep row and the audit entry.

    ``prepare`` runs on the locked row once the step is known to be in order: it checks what depends on the
    contract's current facts (dates) and returns further values to set. ``guard`` adds to the capability and
    scope checks what the locked row must satisfy before the table is asked (who may pre-review).
    """
    notes: list[str] = [comment] if comment else []

    def check_actor(locked: CollectiveContract) -> None:
        _guard(actor, locked)
        if guard is not None:
            guard(locked)

    def apply(locked: CollectiveContract, to_status: str) -> dict[str, Any]:
        prepared = dict(prepare(locked)) if prepare is not None else {}
        # "step_note" is not a field: it adds to the step's comment (e.g. that a filing was late).
        note = prepared.pop("step_note", "")
        if note:
            notes.append(note)
        return values | prepared

    def after(locked: CollectiveContract, from_status: str, to_status: str) -> None:
        _save_step(
            actor=actor,
            contract=locked,
            action=action,
            from_status=from_status,
            on=on,
            comment="；".join(notes),
            attachment=attachment,
            data=data,
        )

    return transition_run(
        instance=contract,
        table=workflow.TABLE,
        action=action,
        actor=actor,
        unit_path=lambda locked: locked.org_unit.path,
        audit_fields=CONTRACT_AUDIT_FIELDS,
        target=target,
        related=("org_unit",),
        guard=check_actor,
        apply=apply,
        after=after,
        note=lambda locked, from_status, to_status: _step_note(action, on, "；".join(notes)),
    )


def _set_coverage(
    contract: CollectiveContract, enterprises: Sequence[Enterprise], covered_employees: int | None
) -> None:
    ContractCoverage.objects.filter(contract=contract).delete()
    single = covered_employees if len(enterprises) == 1 else None
    ContractCoverage.objects.bulk_create(
        ContractCoverage(contract=contract, enterprise=e, covered_employees=single) for e in enterprises
    )
    contract.coverage_digest = coverage_digest(e.pk for e in enterprises)


@transaction.atomic
def contract_offer(
    *,
    actor: Any,
    kind: str,
    enterprises: Sequence[Enterprise],
    offered_on: datetime.date | None = None,
    org_unit: OrgUnit | None = None,
    scope: str | None = None,
    title: str = "",
    covered_employees: int | None = None,
    comment: str = "",
    attachment: File | None = None,
    previous: CollectiveContract | None = None,
) -> CollectiveContract:
    """Record the union's offer to bargain (要约): the contract comes into being in status 已发出要约.

    One enterprise makes an enterprise contract handled at its unit; several make a regional one handled at
    their lowest common unit, unless ``org_unit`` / ``scope`` say otherwise.
    """
    require_capability(actor, EDIT)
    if kind not in ContractKind.values:
        raise ServiceError("contract_kind", f"未知的合同类型“{kind}”。", field="kind")
    enterprises = _require_enterprises(enterprises)
    unit = _handling_unit(enterprises, org_unit)
    require_unit_in_scope(actor, unit)
    for enterprise in enterprises:
        require_unit_in_scope(actor, enterprise.org_unit, field="enterprises")
    on = offered_on or today()
    contract_scope = _scope_for(enterprises, scope)
    if not title:
        # A readable default name for lists: 友好机械有限公司工资专项集体合同 / 青泥洼桥街道区域性综合集体合同.
        owner = enterprises[0].name if contract_scope == ProgrammeScope.ENTERPRISE else unit.name
        prefix = "" if contract_scope == ProgrammeScope.ENTERPRISE else ProgrammeScope(contract_scope).label
        title = f"{owner}{prefix}{ContractKind(kind).label}集体合同"
    contract = CollectiveContract(
        kind=kind,
        scope=contract_scope,
        org_unit=unit,
        title=title[:200],
        offered_on=on,
        covered_employees=covered_employees,
        status=ContractStatus.OFFERED,
        previous=previous,
    )
    contract.save()
    _set_coverage(contract, enterprises, covered_employees)
    _record_step(
        actor=actor,
        contract=contract,
        action=ContractAction.OFFER,
        from_status="",
        on=on,
        comment=comment or "覆盖企业：" + "、".join(e.name for e in enterprises),
        attachment=attachment,
    )
    return contract


@transaction.atomic
def contract_start_bargaining(
    *,
    actor: Any,
    contract: CollectiveContract,
    on: datetime.date | None = None,
    comment: str = "",
    attachment: File | None = None,
) -> CollectiveContract:
    """The employer answered the offer and bargaining (协商) began — or begins again after a return or a
    failed vote."""
    return _transition(
        actor=actor,
        contract=contract,
        action=ContractAction.START_BARGAINING,
        on=on or today(),
        comment=comment,
        attachment=attachment,
    )


@transaction.atomic
def contract_submit_draft(
    *,
    actor: Any,
    contract: CollectiveContract,
    on: datetime.date | None = None,
    clauses: Iterable[str] | None = None,
    wage_rise_percent: decimal.Decimal | float | str | None = None,
    covered_employees: int | None = None,
    title: str | None = None,
    comment: str = "",
    attachment: File | None = None,
) -> CollectiveContract:
    """Submit the agreed draft (草案) to the upper-level union for pre-review."""
    values: dict[str, Any] = {}
    if clauses is not None:
        values["clauses"] = _clean_clauses(clauses)
    if wage_rise_percent is not None:
        values["wage_rise_percent"] = _check_wage_rise(wage_rise_percent)
    if covered_employees is not None:
        values["covered_employees"] = covered_employees
    if title is not None:
        values["title"] = title
    return _transition(
        actor=actor,
        contract=contract,
        action=ContractAction.SUBMIT_DRAFT,
        on=on or today(),
        comment=comment,
        attachment=attachment,
        **values,
    )


def _require_upper_unit(actor: Any, contract: CollectiveContract) -> None:
    """Only staff of the unit directly above the handling unit pre-review (上级工会预审)."""
    if actor is None:
        return
    parent_id = contract.org_unit.parent_id
    if parent_id is None:
        # The city federation's own contracts are pre-reviewed above the system (the provincial federation);
        # its staff record the outcome.
        allowed = actor.org_unit_id == contract.org_unit_id
    else:
        allowed = actor.org_unit_id == parent_id
    if not allowed:
        upper = contract.org_unit.parent.name if parent_id else contract.org_unit.name
        raise ServiceError(
            "not_upper_unit",
            f"只有上级工会“{upper}”的工作人员才能预审“{contract.org_unit.name}”的合同草案。",
        )


@transaction.atomic
def contract_pre_review(
    *,
    actor: Any,
    contract: CollectiveContract,
    passed: bool,
    comments: str = "",
    on: datetime.date | None = None,
    attachment: File | None = None,
) -> CollectiveContract:
    """The upper-level union passes the draft or returns it with comments (预审通过 / 退回)."""
    comments = comments.strip()

    def upper_unit_only(locked: CollectiveContract) -> None:
        _require_upper_unit(actor, locked)
        if not passed and not comments:
            raise ServiceError("comments_required", "退回合同草案时请写明修改意见。", field="comments")

    return _transition(
        actor=actor,
        contract=contract,
        action=ContractAction.PASS_REVIEW if passed else ContractAction.RETURN_REVIEW,
        on=on or today(),
        comment=comments,
        attachment=attachment,
        data={"passed": passed},
        guard=upper_unit_only,
    )


def _check_vote_figures(
    *, total: int, attended: int, votes_for: int, votes_against: int, abstentions: int = 0
) -> None:
    if total <= 0:
        raise ServiceError("vote_total", "职工代表总数必须大于 0。", field="representatives_total")
    if attended > total:
        raise ServiceError(
            "vote_attended", f"出席代表数（{attended}）不能多于代表总数（{total}）。", field="attended"
        )
    if votes_for + votes_against + abstentions > attended:
        raise ServiceError(
            "vote_count",
            f"赞成、反对、弃权票合计（{votes_for + votes_against + abstentions}）不能多于出席代表数（{attended}）。",
            field="votes_for",
        )


@transaction.atomic
def contract_record_vote(
    *,
    actor: Any,
    contract: CollectiveContract,
    held_on: datetime.date,
    representatives_total: int | None = None,
    attended: int | None = None,
    votes_for: int,
    votes_against: int,
    abstentions: int = 0,
    session: CongressSession | None = None,
    comment: str = "",
    attachment: File | None = None,
) -> CollectiveContract:
    """Record the workers' congress vote on the draft (职代会审议).

    It passes only when at least two thirds of the representatives attend and more than half of all
    representatives vote for it; otherwise the contract is 职代会未通过 and may be bargained again or put to
    another vote. With ``session`` the figures of that congress session are used and the vote is also kept
    as one of the session's items.
    """
    if session is not None:
        covers = SystemCoverage.objects.filter(
            system_id=session.system_id, enterprise__contract_coverages__contract_id=contract.pk
        ).exists()
        if not covers:
            raise ServiceError(
                "session_unrelated", f"“{session}”所属的职代会不覆盖该合同的企业。", field="session"
            )
        representatives_total, attended, held_on = (
            session.representatives_total,
            session.attended,
            session.held_on,
        )
    if representatives_total is None or attended is None:
        raise ServiceError("vote_total", "请填写职工代表总数和出席代表数。", field="representatives_total")
    _check_vote_figures(
        total=representatives_total,
        attended=attended,
        votes_for=votes_for,
        votes_against=votes_against,
        abstentions=abstentions,
    )
    passed = workflow.vote_passes(total=representatives_total, attended=attended, votes_for=votes_for)
    reason = ""
    if not passed:
        reason = (
            f"出席代表 {attended} 人，未达到代表总数 {representatives_total} 人的三分之二"
            if 3 * attended < 2 * representatives_total
            else f"赞成票 {votes_for} 票，未超过全体代表 {representatives_total} 人的半数"
        )
    figures = {
        "held_on": held_on.isoformat(),
        "representatives_total": representatives_total,
        "attended": attended,
        "votes_for": votes_for,
        "votes_against": votes_against,
        "abstentions": abstentions,
        "passed": passed,
    }
    contract = _transition(
        actor=actor,
        contract=contract,
        action=ContractAction.RECORD_VOTE,
        on=held_on,
        target=ContractStatus.APPROVED if passed else ContractStatus.VOTE_FAILED,
        comment="；".join(part for part in (comment, reason) if part),
        attachment=attachment,
        data=figures,
        vote_held_on=held_on,
        representatives_total=representatives_total,
        representatives_attended=attended,
        votes_for=votes_for,
        votes_against=votes_against,
    )
    if session is not None:
        CongressVote.objects.create(
            session=session,
            item_kind=VoteItemKind.CONTRACT,
            title=str(contract),
            contract=contract,
            votes_for=votes_for,
            votes_against=votes_against,
            abstentions=abstentions,
            passed=passed,
        )
    return contract


@transaction.atomic
def contract_sign(
    *,
    actor: Any,
    contract: CollectiveContract,
    signed_on: datetime.date,
    effective_on: datetime.date,
    expires_on: datetime.date,
    wage_rise_percent: decimal.Decimal | float | str | None = None,
    covered_employees: int | None = None,
    comment: str = "",
    attachment: File | None = None,
) -> CollectiveContract:
    """Both sides sign (签订). The term runs from ``effective_on`` to ``expires_on``, both days included;
    filing is due within 10 days."""
    if expires_on < effective_on:
        raise ServiceError("term_order", "到期日期不能早于生效日期。", field="expires_on")

    def prepare(locked: CollectiveContract) -> dict[str, Any]:
        if locked.vote_held_on and signed_on < locked.vote_held_on:
            raise ServiceError(
                "signed_before_vote",
                f"签订日期不能早于职代会审议日期 {locked.vote_held_on}。",
                field="signed_on",
            )
        return {}

    values: dict[str, Any] = {
        "signed_on": signed_on,
        "effective_on": effective_on,
        "expires_on": expires_on,
        "filing_due_on": workflow.filing_due(signed_on),
    }
    if wage_rise_percent is not None:
        values["wage_rise_percent"] = _check_wage_rise(wage_rise_percent)
    if covered_employees is not None:
        values["covered_employees"] = covered_employees
    return _transition(
        actor=actor,
        contract=contract,
        action=ContractAction.SIGN,
        on=signed_on,
        comment=comment,
        attachment=attachment,
        prepare=prepare,
        **values,
    )


@transaction.atomic
def contract_file(
    *,
    actor: Any,
    contract: CollectiveContract,
    filed_on: datetime.date,
    comment: str = "",
    attachment: File | None = None,
) -> CollectiveContract:
    """The bureau received the contract for filing (报送人社部门备案) on ``filed_on``. Filing after the 10 days
    is accepted but marked late; without an objection within 15 days the contract is deemed effective."""

    def prepare(locked: CollectiveContract) -> dict[str, Any]:
        if locked.signed_on and filed_on < locked.signed_on:
            raise ServiceError(
                "filed_before_signing", f"备案日期不能早于签订日期 {locked.signed_on}。", field="filed_on"
            )
        late = locked.filing_due_on is not None and filed_on > locked.filing_due_on
        note = f"逾期备案（应于 {locked.filing_due_on} 前备案）" if late else ""
        return {"filed_late": late, "step_note": note}

    return _transition(
        actor=actor,
        contract=contract,
        action=ContractAction.FILE,
        on=filed_on,
        comment=comment,
        attachment=attachment,
        prepare=prepare,
        filed_on=filed_on,
        deemed_effective_on=workflow.deemed_effective(filed_on),
    )


@transaction.atomic
def contract_bureau_objection(
    *,
    actor: Any,
    contract: CollectiveContract,
    on: datetime.date,
    comment: str,
    attachment: File | None = None,
) -> CollectiveContract:
    """The bureau objected within its 15 days: the contract goes back to bargaining."""
    if not comment.strip():
        raise ServiceError("comments_required", "请写明人社部门的异议内容。", field="comment")

    def prepare(locked: CollectiveContract) -> dict[str, Any]:
        if locked.filed_on and on > workflow.objection_deadline(locked.filed_on):
            raise ServiceError(
                "objection_too_late",
                f"人社部门应在收到合同后十五日内（{workflow.objection_deadline(locked.filed_on)} 前）提出异议，"
                "逾期未提出的合同已视为生效。",
                field="on",
            )
        return {}

    return _transition(
        actor=actor,
        contract=contract,
        action=ContractAction.BUREAU_OBJECTION,
        on=on,
        comment=comment,
        attachment=attachment,
        prepare=prepare,
        filed_on=None,
        deemed_effective_on=None,
        filed_late=False,
    )


@transaction.atomic
def contract_take_effect(
    *,
    actor: Any,
    contract: CollectiveContract,
    on: datetime.date | None = None,
    comment: str = "",
    attachment: File | None = None,
) -> CollectiveContract:
    """The contract is in force (生效): the bureau confirmed it, or raised no objection in time."""
    return _transition(
        actor=actor,
        contract=contract,
        action=ContractAction.TAKE_EFFECT,
        on=on or today(),
        comment=comment,
        attachment=attachment,
    )


@transaction.atomic
def contract_expire(
    *, actor: Any, contract: CollectiveContract, on: datetime.date | None = None
) -> CollectiveContract:
    on = on or today()

    def prepare(locked: CollectiveContract) -> dict[str, Any]:
        if locked.expires_on is not None and on <= locked.expires_on:
            raise ServiceError(
                "not_expired", f"合同到 {locked.expires_on} 仍在有效期内，不能登记到期。", field="on"
            )
        return {}

    return _transition(actor=actor, contract=contract, action=ContractAction.EXPIRE, on=on, prepare=prepare)


@transaction.atomic
def contract_renew(
    *,
    actor: Any,
    contract: CollectiveContract,
    offered_on: datetime.date | None = None,
    comment: str = "",
    attachment: File | None = None,
) -> CollectiveContract:
    """Start the next term (续订): the old contract is marked renewed and a new one starts with an offer,
    covering the same enterprises. Returns the new contract."""
    on = offered_on or today()
    old = _transition(actor=actor, contract=contract, action=ContractAction.RENEW, on=on, comment=comment)
    enterprises = list(Enterprise.objects.filter(contract_coverages__contract=old).select_related("org_unit"))
    return contract_offer(
        actor=actor,
        kind=old.kind,
        enterprises=enterprises,
        offered_on=on,
        org_unit=old.org_unit,
        scope=old.scope,
        title=old.title,
        covered_employees=old.covered_employees,
        comment=comment or f"续订{old}",
        attachment=attachment,
        previous=old,
    )


@transaction.atomic
def contract_withdraw(
    *, actor: Any, contract: CollectiveContract, on: datetime.date | None = None, comment: str
) -> CollectiveContract:
    """Bargaining ended without a contract (终止协商)."""
    if not comment.strip():
        raise ServiceError("comments_required", "请写明终止协商的原因。", field="comment")
    return _transition(
        actor=actor, contract=contract, action=ContractAction.WITHDRAW, on=on or today(), comment=comment
    )


# --- workers' congress and factory-affairs openness ------------------------------------------


@transaction.atomic
def system_create(
    *,
    actor: Any,
    system: str,
    enterprises: Sequence[Enterprise],
    established_on: datetime.date,
    abolished_on: datetime.date | None = None,
    org_unit: OrgUnit | None = None,
    scope: str | None = None,
    name: str = "",
    imported: bool = False,
) -> EnterpriseSystem:
    """Establish a workers' congress or factory-affairs openness for one enterprise or several."""
    require_capability(actor, EDIT)
    if system not in SystemKind.values:
        raise ServiceError("system_kind", f"未知的制度“{system}”，应为职代会或厂务公开。", field="system")
    enterprises = _require_enterprises(enterprises)
    unit = _handling_unit(enterprises, org_unit)
    require_unit_in_scope(actor, unit)
    if abolished_on is not None and abolished_on <= established_on:
        raise ServiceError("dates_order", "撤销日期必须晚于建立日期。", field="abolished_on")
    record = EnterpriseSystem.objects.create(
        system=system,
        scope=_scope_for(enterprises, scope),
        org_unit=unit,
        established_on=established_on,
        abolished_on=abolished_on,
        imported=imported,
        name=name
        or f"{enterprises[0].name if len(enterprises) == 1 else unit.name}{SystemKind(system).label}",
    )
    SystemCoverage.objects.bulk_create(SystemCoverage(system=record, enterprise=e) for e in enterprises)
    audit_created(
        actor=actor,
        instance=record,
        fields=SYSTEM_AUDIT_FIELDS,
        unit_path=unit.path,
        note="覆盖企业：" + "、".join(e.name for e in enterprises),
    )
    return record


@transaction.atomic
def system_update(*, actor: Any, record: EnterpriseSystem, data: dict[str, Any]) -> EnterpriseSystem:
    """Change a system's name or dates (abolish it by setting ``abolished_on``)."""
    require_capability(actor, EDIT)
    record = EnterpriseSystem.objects.select_for_update().select_related("org_unit").get(pk=record.pk)
    require_unit_in_scope(actor, record.org_unit)
    unknown = set(data) - {"name", "established_on", "abolished_on"}
    if unknown:
        raise ValueError(f"system_update cannot change {sorted(unknown)}")
    before = audit_snapshot(record, SYSTEM_AUDIT_FIELDS)
    for key, value in data.items():
        setattr(record, key, value)
    if record.abolished_on is not None and record.abolished_on <= record.established_on:
        raise ServiceError("dates_order", "撤销日期必须晚于建立日期。", field="abolished_on")
    changes = audit_diff(before, audit_snapshot(record, SYSTEM_AUDIT_FIELDS))
    if changes:
        record.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=record,
            changes=changes,
            unit_path=record.org_unit.path,
        )
    return record


@transaction.atomic
def congress_session_create(
    *,
    actor: Any,
    system: EnterpriseSystem,
    held_on: datetime.date,
    representatives_total: int,
    attended: int,
    title: str = "",
) -> CongressSession:
    require_capability(actor, EDIT)
    require_unit_in_scope(actor, system.org_unit)
    if system.system != SystemKind.CONGRESS:
        raise ServiceError("not_congress", "只有职代会制度才能登记会议。", field="system")
    if not system.active_on(held_on):
        raise ServiceError("system_inactive", f"{held_on} 该职代会制度尚未建立或已撤销。", field="held_on")
    if representatives_total <= 0:
        raise ServiceError("vote_total", "职工代表总数必须大于 0。", field="representatives_total")
    if attended > representatives_total:
        raise ServiceError(
            "vote_attended",
            f"出席代表数（{attended}）不能多于代表总数（{representatives_total}）。",
            field="attended",
        )
    session = CongressSession.objects.create(
        system=system,
        held_on=held_on,
        title=title,
        representatives_total=representatives_total,
        attended=attended,
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=system,
        changes={"会议": [None, f"{session}：代表 {representatives_total} 人，出席 {attended} 人"]},
        unit_path=system.org_unit.path,
    )
    return session


@transaction.atomic
def congress_vote_record(
    *,
    actor: Any,
    session: CongressSession,
    item_kind: str,
    title: str,
    votes_for: int,
    votes_against: int,
    abstentions: int = 0,
) -> CongressVote:
    """An item put to the vote at a session (票决). It passes under the same rule as contracts."""
    require_capability(actor, EDIT)
    system = session.system
    require_unit_in_scope(actor, system.org_unit)
    if item_kind not in VoteItemKind.values:
        raise ServiceError("item_kind", f"未知的表决事项类型“{item_kind}”。", field="item_kind")
    _check_vote_figures(
        total=session.representatives_total,
        attended=session.attended,
        votes_for=votes_for,
        votes_against=votes_against,
        abstentions=abstentions,
    )
    vote = CongressVote.objects.create(
        session=session,
        item_kind=item_kind,
        title=title,
        votes_for=votes_for,
        votes_against=votes_against,
        abstentions=abstentions,
        passed=workflow.vote_passes(
            total=session.representatives_total, attended=session.attended, votes_for=votes_for
        ),
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=system,
        changes={"表决事项": [None, f"{session}：{vote}"]},
        unit_path=system.org_unit.path,
    )
    return vote


def is_company_form(enterprise: Enterprise) -> bool:
    """Companies (有限责任公司 / 股份有限公司) carry 公司 at the end of their registered name."""
    return enterprise.name.strip().endswith("公司")


@transaction.atomic
def worker_director_create(
    *,
    actor: Any,
    enterprise: Enterprise,
    person_name: str,
    role: str,
    valid_from: datetime.date,
    valid_to: datetime.date | None = None,
) -> WorkerDirector:
    """Record a worker director or supervisor. Enterprises not named as companies are accepted but flagged."""
    require_capability(actor, EDIT)
    require_unit_in_scope(actor, enterprise.org_unit, field="enterprise")
    if role not in WorkerDirectorRole.values:
        raise ServiceError("director_role", f"未知的职务“{role}”，应为职工董事或职工监事。", field="role")
    if not person_name.strip():
        raise ServiceError("name_required", "请填写姓名。", field="person_name")
    if valid_to is not None and valid_to <= valid_from:
        raise ServiceError("dates_order", "任职终止日期必须晚于起始日期。", field="valid_to")
    director = WorkerDirector.objects.create(
        enterprise=enterprise,
        person_name=person_name.strip(),
        role=role,
        valid_from=valid_from,
        valid_to=valid_to,
        needs_check=not is_company_form(enterprise),
    )
    audit_created(
        actor=actor,
        instance=director,
        fields=("enterprise", "person_name", "role", "valid_from", "valid_to", "needs_check"),
        unit_path=enterprise.org_unit.path,
    )
    return director


@transaction.atomic
def worker_director_end(*, actor: Any, director: WorkerDirector, valid_to: datetime.date) -> WorkerDirector:
    require_capability(actor, EDIT)
    director = (
        WorkerDirector.objects.select_for_update().select_related("enterprise__org_unit").get(pk=director.pk)
    )
    require_unit_in_scope(actor, director.enterprise.org_unit)
    if valid_to <= director.valid_from:
        raise ServiceError("dates_order", "任职终止日期必须晚于起始日期。", field="valid_to")
    old = director.valid_to
    director.valid_to = valid_to
    director.save(update_fields=["valid_to"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=director,
        changes={"valid_to": [old and old.isoformat(), valid_to.isoformat()]},
        unit_path=director.enterprise.org_unit.path,
    )
    return director


# --- service stations ------------------------------------------------------------------------


def _check_station(data: dict[str, Any]) -> None:
    if data["station_type"] not in StationType.values:
        raise ServiceError(
            "station_type", f"未知的服务站类型“{data['station_type']}”。", field="station_type"
        )
    functions = data.get("functions") or []
    unknown = [f for f in functions if f not in StationFunction.values]
    if unknown:
        raise ServiceError("station_function", f"未知的服务功能：{'、'.join(unknown)}。", field="functions")
    data["functions"] = [f for f in StationFunction.values if f in set(functions)]
    if data.get("closed_on") and data["closed_on"] <= data["opened_on"]:
        raise ServiceError("dates_order", "撤销日期必须晚于启用日期。", field="closed_on")
    enterprise: Enterprise | None = data.get("enterprise")
    unit: OrgUnit = data["org_unit"]
    if enterprise is not None and not enterprise.org_unit.path.startswith(unit.path):
        raise ServiceError(
            "enterprise_outside_unit", f"企业“{enterprise.name}”不在“{unit.name}”辖区内。", field="enterprise"
        )


@transaction.atomic
def station_create(
    *,
    actor: Any,
    name: str,
    station_type: str,
    opened_on: datetime.date,
    org_unit: OrgUnit | None = None,
    enterprise: Enterprise | None = None,
    functions: Sequence[str] = (),
    closed_on: datetime.date | None = None,
    staff_count: int = 0,
) -> ServiceStation:
    """A service station at an enterprise (its unit by default) or at a community (no enterprise)."""
    require_capability(actor, EDIT)
    if org_unit is None:
        if enterprise is None:
            raise ServiceError("unit_required", "请选择服务站所在的区划或企业。", field="org_unit")
        org_unit = enterprise.org_unit
    require_unit_in_scope(actor, org_unit)
    data: dict[str, Any] = {
        "name": name.strip(),
        "org_unit": org_unit,
        "enterprise": enterprise,
        "station_type": station_type,
        "functions": list(functions),
        "opened_on": opened_on,
        "closed_on": closed_on,
        "staff_count": staff_count,
    }
    if not data["name"]:
        raise ServiceError("name_required", "请填写服务站名称。", field="name")
    _check_station(data)
    station = ServiceStation.objects.create(**data)
    audit_created(actor=actor, instance=station, fields=STATION_AUDIT_FIELDS, unit_path=org_unit.path)
    return station


@transaction.atomic
def station_update(*, actor: Any, station: ServiceStation, data: dict[str, Any]) -> ServiceStation:
    require_capability(actor, EDIT)
    station = (
        ServiceStation.objects.select_for_update(of=("self",))
        .select_related("org_unit", "enterprise__org_unit")
        .get(pk=station.pk)
    )
    require_unit_in_scope(actor, station.org_unit)
    if "org_unit" in data:
        require_unit_in_scope(actor, data["org_unit"])
    before = audit_snapshot(station, STATION_AUDIT_FIELDS)
    merged = {f: getattr(station, f) for f in STATION_AUDIT_FIELDS} | data
    _check_station(merged)
    for key in data:
        setattr(station, key, merged[key])
    changes = audit_diff(before, audit_snapshot(station, STATION_AUDIT_FIELDS))
    if changes:
        station.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=station,
            changes=changes,
            unit_path=station.org_unit.path,
        )
    return station


# --- safety ----------------------------------------------------------------------------------


def _check_year(year: int) -> None:
    if not 1990 <= year <= today().year + 1:
        raise ServiceError("year", f"年度“{year}”不合理。", field="year")


@transaction.atomic
def ankang_entry_record(
    *, actor: Any, enterprise: Enterprise, year: int, workers_taking_part: int
) -> AnkangCupEntry:
    """Record (or correct) an enterprise's Ankang Cup participation in a year."""
    require_capability(actor, EDIT)
    require_unit_in_scope(actor, enterprise.org_unit, field="enterprise")
    _check_year(year)
    if workers_taking_part < 0:
        raise ServiceError("workers", "参赛职工人数不能为负数。", field="workers_taking_part")
    return _yearly_record_set(
        actor=actor,
        model=AnkangCupEntry,
        enterprise=enterprise,
        year=year,
        field="workers_taking_part",
        value=workers_taking_part,
    )


@transaction.atomic
def team_safety_record(*, actor: Any, enterprise: Enterprise, year: int, built: bool) -> TeamSafetyBuilding:
    require_capability(actor, EDIT)
    require_unit_in_scope(actor, enterprise.org_unit, field="enterprise")
    _check_year(year)
    return _yearly_record_set(
        actor=actor, model=TeamSafetyBuilding, enterprise=enterprise, year=year, field="built", value=built
    )


def _yearly_record_set(
    *, actor: Any, model: type, enterprise: Enterprise, year: int, field: str, value: Any
) -> Any:
    """Create or correct the one row of ``model`` for an enterprise and year (the row is locked); audit a change."""
    record = model.objects.select_for_update().filter(enterprise=enterprise, year=year).first()
    old = getattr(record, field) if record else None
    if record is None:
        record = model.objects.create(enterprise=enterprise, year=year, **{field: value})
    elif old != value:
        setattr(record, field, value)
        record.save(update_fields=[field])
    else:
        return record
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if old is None else AuditAction.UPDATE,
        instance=record,
        changes={field: [old, value]},
        unit_path=enterprise.org_unit.path,
    )
    return record


@transaction.atomic
def safety_supervisor_create(
    *,
    actor: Any,
    enterprise: Enterprise,
    name: str,
    valid_from: datetime.date,
    trained_on: datetime.date | None = None,
    valid_to: datetime.date | None = None,
) -> SafetySupervisor:
    require_capability(actor, EDIT)
    require_unit_in_scope(actor, enterprise.org_unit, field="enterprise")
    if not name.strip():
        raise ServiceError("name_required", "请填写姓名。", field="name")
    if valid_to is not None and valid_to <= valid_from:
        raise ServiceError("dates_order", "任职终止日期必须晚于起始日期。", field="valid_to")
    supervisor = SafetySupervisor.objects.create(
        enterprise=enterprise,
        name=name.strip(),
        trained_on=trained_on,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    audit_created(
        actor=actor,
        instance=supervisor,
        fields=("enterprise", "name", "trained_on", "valid_from", "valid_to"),
        unit_path=enterprise.org_unit.path,
    )
    return supervisor


@transaction.atomic
def safety_supervisor_update(
    *, actor: Any, supervisor: SafetySupervisor, data: dict[str, Any]
) -> SafetySupervisor:
    """Record training or the end of an appointment."""
    require_capability(actor, EDIT)
    supervisor = (
        SafetySupervisor.objects.select_for_update()
        .select_related("enterprise__org_unit")
        .get(pk=supervisor.pk)
    )
    require_unit_in_scope(actor, supervisor.enterprise.org_unit)
    fields = ("name", "trained_on", "valid_from", "valid_to")
    unknown = set(data) - set(fields)
    if unknown:
        raise ValueError(f"safety_supervisor_update cannot change {sorted(unknown)}")
    before = audit_snapshot(supervisor, fields)
    for key, value in data.items():
        setattr(supervisor, key, value)
    if supervisor.valid_to is not None and supervisor.valid_to <= supervisor.valid_from:
        raise ServiceError("dates_order", "任职终止日期必须晚于起始日期。", field="valid_to")
    changes = audit_diff(before, audit_snapshot(supervisor, fields))
    if changes:
        supervisor.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=supervisor,
            changes=changes,
            unit_path=supervisor.enterprise.org_unit.path,
        )
    return supervisor
