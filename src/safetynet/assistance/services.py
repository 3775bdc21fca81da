"""服务帮扶: every write. Keyword-only, ``actor=`` first (None = the system), one transaction each, audit rows
inside; refusals are ServiceError with a Chinese reason naming the field. Status changes go through
core.workflow.transition_run with the tables below.

Money: Decimal yuan with two places. The database has the last word on money: a payment row is unique per
(round, person) and per (round, household) among live payments (reversals and reversed payments excluded), and
a budget row refuses
``spent > amount``; paying locks the application row, then the budget rows of the unit and its ancestors in
path order (top-down, the same order everywhere, so two payments never deadlock), and moves ``spent`` with F().
"""

from __future__ import annotations

import datetime
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models import Exists, F, Max, Model, OuterRef, Q, Sum
from django.utils import timezone

from safetynet.accounts.models import Capability
from safetynet.assistance.models import (
    LIVE_APPLICATION_STATUSES,
    Application,
    ApplicationAction,
    ApplicationStatus,
    BaseKind,
    BatchAction,
    BatchJob,
    BatchJobStatus,
    BatchStatus,
    Budget,
    Cause,
    CloseReason,
    Decision,
    DiscountBase,
    Evidence,
    EvidenceKind,
    FileAction,
    FileReview,
    FileStatus,
    HardshipFile,
    HardshipLevel,
    HouseholdMember,
    IncomeThreshold,
    Instalment,
    Loan,
    LoanAction,
    LoanStatus,
    Objection,
    ObjectionStatus,
    Payment,
    PaymentBatch,
    PaymentKind,
    ProgrammeKind,
    Repayment,
    Round,
    RoundAction,
    RoundLevelRule,
    RoundStatus,
    SubmittedVia,
    Vote,
)
from safetynet.core.errors import ServiceError
from safetynet.core.models import AuditAction
from safetynet.core.scope import user_scope_path
from safetynet.core.services import (
    audit_build,
    audit_bulk,
    audit_created,
    audit_diff,
    audit_record,
    audit_snapshot,
)
from safetynet.core.workflow import Transition, TransitionTable, lock_row, transition_run
from safetynet.orgs.models import OrgLevel, OrgUnit
from safetynet.orgs.services import require_capability, require_unit_in_scope

RecordT = TypeVar("RecordT", bound=Model)
logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
MAX_MONEY = Decimal("9999999999.99")
EVIDENCE_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024

FILE_AUDIT_FIELDS = (
    "person",
    "org_unit",
    "household_size",
    "monthly_income",
    "income_per_head",
    "threshold",
    "causes",
    "level",
    "status",
    "opened_on",
    "closed_on",
    "close_reason",
    "close_note",
    "reviewed_on",
    "review_due_on",
)
ROUND_AUDIT_FIELDS = (
    "kind",
    "year",
    "title",
    "org_unit",
    "status",
    "window_opens",
    "window_closes",
    "standard_amount",
    "min_amount",
    "max_amount",
    "review_levels",
    "notice_days",
)
APPLICATION_AUDIT_FIELDS = (
    "status",
    "current_level",
    "amount",
    "decided_on",
    "notice_from",
    "notice_until",
    "closing_note",
)
LOAN_AUDIT_FIELDS = (
    "status",
    "principal",
    "granted_on",
    "instalment_count",
    "write_off_reason",
    "written_off_on",
)
BASE_AUDIT_FIELDS = ("name", "kind", "address", "phone", "discount", "valid_from", "valid_to", "org_unit")


# --- workflow tables -----------------------------------------------------------------------------

FILE_WORKFLOW = TransitionTable(
    subject="档案",
    statuses=FileStatus,
    actions=FileAction,
    transitions=[
        Transition("review", frozenset({FileStatus.OPEN, FileStatus.REVIEWED}), (FileStatus.REVIEWED,)),
        Transition("close", frozenset({FileStatus.OPEN, FileStatus.REVIEWED}), (FileStatus.CLOSED,)),
    ],
    already={"close": [FileStatus.CLOSED]},
)

S = ApplicationStatus
APPLICATION_WORKFLOW = TransitionTable(
    subject="申请",
    statuses=ApplicationStatus,
    actions=ApplicationAction,
    transitions=[
        Transition("approve", frozenset({S.IN_REVIEW}), (S.IN_REVIEW, S.APPROVED)),
        Transition("reject", frozenset({S.IN_REVIEW}), (S.IN_REVIEW, S.REJECTED)),
        Transition(
            "start_notice", frozenset({S.APPROVED}), (S.IN_NOTICE,), refusal="只有审核通过的申请才能公示"
        ),
        Transition("uphold_objection", frozenset({S.IN_NOTICE}), (S.REJECTED,)),
        Transition("end_notice", frozenset({S.IN_NOTICE}), (S.NOTICE_PASSED,)),
        Transition("pay", frozenset({S.NOTICE_PASSED}), (S.PAID,), refusal="只有公示期满的申请才能发放"),
        # A reversed payment (bank returned it, wrong account…) leaves the application awaiting payment again.
        Transition("reverse_payment", frozenset({S.PAID}), (S.NOTICE_PASSED,)),
        # Withdrawing before payment (also after a reversal) keeps a stopped application out of the next batch.
        Transition(
            "withdraw", frozenset({S.IN_REVIEW, S.APPROVED, S.IN_NOTICE, S.NOTICE_PASSED}), (S.WITHDRAWN,)
        ),
    ],
    already={
        "pay": [S.PAID],
        "withdraw": [S.WITHDRAWN],
        "start_notice": [S.IN_NOTICE, S.NOTICE_PASSED, S.PAID],
        "end_notice": [S.NOTICE_PASSED, S.PAID],
    },
)

ROUND_WORKFLOW = TransitionTable(
    subject="批次",
    statuses=RoundStatus,
    actions=RoundAction,
    transitions=[
        Transition("open", frozenset({RoundStatus.DRAFT}), (RoundStatus.OPEN,)),
        Transition("close", frozenset({RoundStatus.DRAFT, RoundStatus.OPEN}), (RoundStatus.CLOSED,)),
    ],
    already={"close": [RoundStatus.CLOSED], "open": [RoundStatus.OPEN]},
)

BATCH_WORKFLOW = TransitionTable(
    subject="发放批次",
    statuses=BatchStatus,
    actions=BatchAction,
    transitions=[Transition("mark_paid", frozenset({BatchStatus.PREPARED}), (BatchStatus.PAID,))],
    already={"mark_paid": [BatchStatus.PAID]},
)

LOAN_WORKFLOW = TransitionTable(
    subject="借款",
    statuses=LoanStatus,
    actions=LoanAction,
    transitions=[
        Transition("request_write_off", frozenset({LoanStatus.ACTIVE}), (LoanStatus.WRITE_OFF_REQUESTED,)),
        Transition(
            "approve_write_off", frozenset({LoanStatus.WRITE_OFF_REQUESTED}), (LoanStatus.WRITTEN_OFF,)
        ),
        Transition("reject_write_off", frozenset({LoanStatus.WRITE_OFF_REQUESTED}), (LoanStatus.ACTIVE,)),
        Transition(
            "settle", frozenset({LoanStatus.ACTIVE, LoanStatus.WRITE_OFF_REQUESTED}), (LoanStatus.REPAID,)
        ),
    ],
    already={"approve_write_off": [LoanStatus.WRITTEN_OFF], "settle": [LoanStatus.REPAID]},
)


# --- small helpers -------------------------------------------------------------------------------


def _path_of(instance: Any) -> str:
    return instance.org_unit.path


def ancestor_ids(unit: OrgUnit) -> list[int]:
    """The unit's own id and its ancestors', from the materialized path (city first)."""
    return [int(part) for part in unit.path.split("/") if part]


def money(value: object, *, field_name: str, label: str, allow_zero: bool = True) -> Decimal:
    """A Decimal amount in yuan with at most two places; never a float. Refuses negative numbers."""
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("，", ""))
    except (InvalidOperation, ValueError):
        raise ServiceError(
            "invalid_amount", f"{label}“{value}”不是有效的金额，请填写如 1234.56。", field=field_name
        ) from None
    if not amount.is_finite():
        raise ServiceError("invalid_amount", f"{label}“{value}”不是有效的金额。", field=field_name)
    if amount != amount.quantize(CENT):
        raise ServiceError(
            "invalid_amount", f"{label}最多精确到分（两位小数），“{value}”不行。", field=field_name
        )
    if amount < 0:
        raise ServiceError("negative_amount", f"{label}不能为负数（填写的是 {amount}）。", field=field_name)
    if amount == 0 and not allow_zero:
        raise ServiceError("zero_amount", f"{label}应大于 0。", field=field_name)
    if amount > MAX_MONEY:
        raise ServiceError("invalid_amount", f"{label}超出了可记录的范围。", field=field_name)
    return amount.quantize(CENT)


def _require(actor: Any, capability: str) -> None:
    require_capability(actor, capability)


def _actor_level(actor: Any) -> int | None:
    unit = getattr(actor, "org_unit", None)
    return unit.level if unit is not None else None


def _in_scope(actor: Any, path: str) -> bool:
    if actor is None:
        return True
    scope = user_scope_path(actor)
    return scope is not None and path.startswith(scope)


def _require_record_in_scope(actor: Any, path: str) -> None:
    if not _in_scope(actor, path):
        from safetynet.core.errors import OutOfScope

        raise OutOfScope()


def _lock_in_scope(
    instance: RecordT, actor: Any, *, version: int | None = None, related: Sequence[str] = ("org_unit",)
) -> RecordT:
    """``instance``'s row locked for this transaction (a stale ``version`` refused), and within the actor's
    scope: another unit's record is refused as if it did not exist."""
    row = lock_row(instance, version=version, related=related)
    _require_record_in_scope(actor, row.org_unit.path)
    return row


def _scoped_step(
    instance: RecordT,
    *,
    table: TransitionTable,
    action: str,
    actor: Any,
    audit_fields: Sequence[str],
    related: Sequence[str] = ("org_unit",),
    guard: Callable[[RecordT], None] | None = None,
    **options: Any,
) -> RecordT:
    """One workflow step (``transition_run``) on a record placed by its own unit: the fresh row must be within
    the actor's scope (else "not found"; the system, actor None, sees all), then ``guard`` checks what else
    the step needs. ``options`` go to ``transition_run`` as they are (version, apply, after, note…)."""

    def scoped_guard(row: RecordT) -> None:
        _require_record_in_scope(actor, row.org_unit.path)
        if guard is not None:
            guard(row)

    return transition_run(
        instance=instance,
        table=table,
        action=action,
        actor=actor,
        unit_path=_path_of,
        audit_fields=audit_fields,
        related=related,
        guard=scoped_guard,
        **options,
    )


def _actor_user(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _actor_name(actor: Any) -> str:
    user = _actor_user(actor)
    if user is None:
        return "系统"
    return getattr(user, "full_name", "") or user.get_username()


# --- thresholds and files -------------------------------------------------------------------------


def threshold_for(org_unit: OrgUnit, year: int) -> Decimal | None:
    """The hardship threshold for the unit in that year: the nearest ancestor's (usually the district's)."""
    ids = ancestor_ids(org_unit)
    rows = IncomeThreshold.objects.filter(org_unit_id__in=ids, year=year).values_list(
        "org_unit_id", "monthly_per_head"
    )
    by_unit = dict(rows)
    for unit_id in reversed(ids):
        if unit_id in by_unit:
            return by_unit[unit_id]
    return None


@transaction.atomic
def threshold_set(*, actor: Any, org_unit: OrgUnit, year: int, monthly_per_head: object) -> IncomeThreshold:
    _require(actor, Capability.MANAGE_ASSISTANCE_FUNDS)
    require_unit_in_scope(actor, org_unit)
    amount = money(monthly_per_head, field_name="monthly_per_head", label="困难标准", allow_zero=False)
    if not 2000 <= int(year) <= 2100:
        raise ServiceError("invalid_year", f"年度“{year}”不正确。", field="year")
    threshold, created = IncomeThreshold.objects.update_or_create(
        org_unit=org_unit, year=year, defaults={"monthly_per_head": amount}
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        instance=threshold,
        changes={"monthly_per_head": [None, str(amount)]},
        unit_path=org_unit.path,
    )
    return threshold


def income_per_head(monthly_income: Decimal, household_size: int) -> Decimal:
    return (monthly_income / household_size).quantize(CENT, rounding=ROUND_HALF_UP)


def household_key_for(person: Any, household_register: str = "") -> str:
    """A household is identified by a hash, never a clear number: the 户口簿 number's if given, else the
    head's ID number hash (already a keyed hash in the registry)."""
    if household_register:
        from safetynet.members import crypto

        return crypto.lookup_hash("household:" + household_register.strip().upper())
    return person.id_number_hash


def clean_causes(causes: Iterable[str] | str) -> str:
    """Cause codes or Chinese labels (several allowed) as the stored "code,code" text."""
    if isinstance(causes, str):
        causes = [c for c in causes.replace("、", ",").replace("，", ",").replace(";", ",").split(",")]
    by_label = {str(label): value for value, label in Cause.choices}
    codes: list[str] = []
    for cause in causes:
        cause = cause.strip()
        if not cause:
            continue
        code = cause if cause in Cause.values else by_label.get(cause)
        if code is None:
            hint = "、".join(str(label) for label in Cause.labels)
            raise ServiceError(
                "invalid_cause", f"困难类型“{cause}”不在可选范围内，应为：{hint}。", field="causes"
            )
        if code not in codes:
            codes.append(code)
    if not codes:
        raise ServiceError("causes_required", "请至少选择一项困难类型。", field="causes")
    return ",".join(codes)


def check_household(household_size: object, monthly_income: object) -> tuple[int, Decimal]:
    try:
        size = int(household_size)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ServiceError(
            "invalid_household_size", f"家庭人口“{household_size}”应为整数。", field="household_size"
        ) from None
    if size < 1:
        raise ServiceError(
            "invalid_household_size", f"家庭人口应至少为 1 人（填写的是 {size}）。", field="household_size"
        )
    if size > 30:
        raise ServiceError(
            "invalid_household_size", f"家庭人口 {size} 人不合常理，请核对。", field="household_size"
        )
    income = money(monthly_income, field_name="monthly_income", label="家庭月收入")
    return size, income


def _check_file_unit(org_unit: OrgUnit) -> None:
    if org_unit.level < OrgLevel.DISTRICT:
        raise ServiceError(
            "invalid_unit", "困难档案应建在区市县、街道或社区，不能建在市级。", field="org_unit"
        )


def _one_year_later(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


@transaction.atomic
def hardship_file_open(
    *,
    actor: Any,
    person: Any,
    org_unit: OrgUnit,
    household_size: object,
    monthly_income: object,
    causes: Iterable[str] | str,
    opened_on: datetime.date,
    level: str = HardshipLevel.GENERAL,
    household_register: str = "",
    note: str = "",
    members: Sequence[dict[str, Any]] | None = None,
) -> HardshipFile:
    """Open a hardship file for a registered worker. A second open file for the person is refused."""
    _require(actor, Capability.HANDLE_ASSISTANCE)
    require_unit_in_scope(actor, org_unit)
    _check_file_unit(org_unit)
    if person is None or getattr(person, "pk", None) is None:
        raise ServiceError(
            "person_not_found", "该职工不在实名库中，请先在职工库登记后再建档。", field="person"
        )
    size, income = check_household(household_size, monthly_income)
    cause_text = clean_causes(causes)
    if level not in HardshipLevel.values:
        raise ServiceError("invalid_level", "困难程度应为“一般困难”或“特困”。", field="level")
    if opened_on is None:
        raise ServiceError("opened_on_required", "请填写建档日期。", field="opened_on")
    existing = (
        HardshipFile.objects.filter(person=person, closed_on__isnull=True).select_related("org_unit").first()
    )
    if existing is not None:
        raise ServiceError(
            "file_already_open",
            f"{person.name}已有在档的困难档案（{existing.org_unit.name}，{existing.opened_on} 建档），"
            "同一职工只能有一份在档档案。",
            field="person",
        )
    threshold = threshold_for(org_unit, opened_on.year)
    hardship_file = HardshipFile(
        person=person,
        org_unit=org_unit,
        household_key=household_key_for(person, household_register),
        household_size=size,
        monthly_income=income,
        income_per_head=income_per_head(income, size),
        threshold=threshold,
        causes=cause_text,
        level=level,
        opened_on=opened_on,
        review_due_on=_one_year_later(opened_on),
        note=note,
    )
    try:
        with transaction.atomic():
            hardship_file.save()
    except IntegrityError:
        raise ServiceError(
            "file_already_open",
            f"{person.name}已有在档的困难档案，同一职工只能有一份在档档案。",
            field="person",
        ) from None
    for member in members or ():
        HouseholdMember.objects.create(
            hardship_file=hardship_file,
            name=str(member.get("name", ""))[:50],
            relation=str(member.get("relation", ""))[:20],
            birth_year=member.get("birth_year"),
            note=str(member.get("note", ""))[:200],
        )
    audit_created(actor=actor, instance=hardship_file, fields=FILE_AUDIT_FIELDS, unit_path=org_unit.path)
    return hardship_file


@transaction.atomic
def hardship_file_open_for(
    *, actor: Any, name: str, id_number: str, org_unit: OrgUnit, **data: Any
) -> HardshipFile:
    """Open a file for the registered worker with this name and ID number (both must match the registry)."""
    from safetynet.members.services import person_find_by_document

    _require(actor, Capability.HANDLE_ASSISTANCE)
    try:
        person = person_find_by_document(id_number)
    except ServiceError as exc:
        raise ServiceError(exc.code, exc.message, field="id_number") from None
    if person is None:
        raise ServiceError(
            "person_not_found",
            "实名库中没有该身份证号的职工，请先在职工库登记后再建档。",
            field="id_number",
        )
    if person.name != (name or "").strip():
        raise ServiceError(
            "name_mismatch",
            f"姓名“{name}”与实名库中该身份证号的职工姓名不一致，请核对。",
            field="name",
        )
    return hardship_file_open(actor=actor, person=person, org_unit=org_unit, **data)


def hardship_file_review(
    *,
    actor: Any,
    hardship_file: HardshipFile,
    reviewed_on: datetime.date,
    household_size: object = None,
    monthly_income: object = None,
    note: str = "",
    version: int | None = None,
) -> HardshipFile:
    """The street's check or the yearly review: records the figures, next review due one year later."""
    _require(actor, Capability.REVIEW_ASSISTANCE)

    def guard(row: HardshipFile) -> None:
        if reviewed_on < row.opened_on:
            raise ServiceError(
                "review_before_open", f"审核日期不能早于建档日期（{row.opened_on}）。", field="reviewed_on"
            )

    def apply(row: HardshipFile, target: str) -> dict[str, Any]:
        size = row.household_size if household_size in (None, "") else household_size
        income = row.monthly_income if monthly_income in (None, "") else monthly_income
        size, income = check_household(size, income)
        return {
            "household_size": size,
            "monthly_income": income,
            "income_per_head": income_per_head(income, size),
            "threshold": threshold_for(row.org_unit, reviewed_on.year),
            "reviewed_on": reviewed_on,
            "review_due_on": _one_year_later(reviewed_on),
            "review_reminded_on": None,
        }

    def after(row: HardshipFile, from_status: str, to_status: str) -> None:
        FileReview.objects.create(
            hardship_file=row,
            reviewed_on=reviewed_on,
            reviewer=_actor_user(actor),
            reviewer_name=_actor_name(actor),
            monthly_income=row.monthly_income,
            household_size=row.household_size,
            note=note[:200],
        )

    return _scoped_step(
        hardship_file,
        table=FILE_WORKFLOW,
        action="review",
        actor=actor,
        audit_fields=FILE_AUDIT_FIELDS,
        version=version,
        guard=guard,
        apply=apply,
        after=after,
        note=note or "审核",
    )


def hardship_file_close(
    *,
    actor: Any,
    hardship_file: HardshipFile,
    closed_on: datetime.date,
    reason: str,
    note: str = "",
    version: int | None = None,
) -> HardshipFile:
    """脱困: the file closes on ``closed_on`` (open up to the day before) with its reason."""
    _require(actor, Capability.HANDLE_ASSISTANCE)
    if reason not in CloseReason.values:
        by_label = {str(label): value for value, label in CloseReason.choices}
        if reason in by_label:
            reason = by_label[reason]
        else:
            raise ServiceError("reason_required", "请选择脱困原因。", field="reason")

    def apply(row: HardshipFile, target: str) -> dict[str, Any]:
        if closed_on is None:
            raise ServiceError("closed_on_required", "请填写脱困日期。", field="closed_on")
        if closed_on < row.opened_on:
            raise ServiceError(
                "closed_before_opened",
                f"脱困日期（{closed_on}）不能早于建档日期（{row.opened_on}）。",
                field="closed_on",
            )
        return {"closed_on": closed_on, "close_reason": reason, "close_note": note[:200]}

    return _scoped_step(
        hardship_file,
        table=FILE_WORKFLOW,
        action="close",
        actor=actor,
        audit_fields=FILE_AUDIT_FIELDS,
        version=version,
        apply=apply,
        note="脱困销档",
    )


@transaction.atomic
def household_member_add(
    *,
    actor: Any,
    hardship_file: HardshipFile,
    name: str,
    relation: str,
    birth_year: int | None = None,
    note: str = "",
) -> HouseholdMember:
    _require(actor, Capability.HANDLE_ASSISTANCE)
    _require_record_in_scope(actor, hardship_file.org_unit.path)
    name = (name or "").strip()
    if not name:
        raise ServiceError("name_required", "请填写家庭成员姓名。", field="name")
    if not (relation or "").strip():
        raise ServiceError("relation_required", "请填写与职工的关系。", field="relation")
    member = HouseholdMember.objects.create(
        hardship_file=hardship_file,
        name=name[:50],
        relation=relation.strip()[:20],
        birth_year=birth_year,
        note=note,
    )
    audit_created(
        actor=actor,
        instance=member,
        fields=("name", "relation", "birth_year"),
        unit_path=hardship_file.org_unit.path,
    )
    return member


@transaction.atomic
def evidence_attach(
    *,
    actor: Any,
    upload: Any,
    kind: str,
    hardship_file: HardshipFile | None = None,
    application: Application | None = None,
) -> Evidence:
    """Attach a PDF or image (≤ 10 MB) to a file or an application; the type is checked by name and content."""
    _require(actor, Capability.HANDLE_ASSISTANCE)
    owner = hardship_file or application
    if owner is None:
        raise ServiceError("owner_required", "证明材料须属于一份档案或一份申请。", field="upload")
    _require_record_in_scope(actor, owner.org_unit.path)
    if kind not in EvidenceKind.values:
        raise ServiceError("invalid_kind", "请选择材料类型。", field="kind")
    if upload is None:
        raise ServiceError("upload_required", "请选择要上传的文件。", field="upload")
    name = os.path.basename(getattr(upload, "name", "") or "")
    extension = os.path.splitext(name)[1].lower()
    if extension not in EVIDENCE_TYPES:
        raise ServiceError(
            "invalid_type", f"文件“{name}”的类型不支持：只能上传 PDF、JPG 或 PNG。", field="upload"
        )
    size = int(getattr(upload, "size", 0) or 0)
    if size <= 0:
        raise ServiceError("empty_file", f"文件“{name}”是空的。", field="upload")
    if size > EVIDENCE_MAX_BYTES:
        raise ServiceError(
            "too_large", f"文件“{name}”有 {size / 1048576:.1f} MB，超过了 10 MB 的上限。", field="upload"
        )
    head = upload.read(8)
    upload.seek(0)
    signatures = {".pdf": (b"%PDF",), ".png": (b"\x89PNG",), ".jpg": (b"\xff\xd8",), ".jpeg": (b"\xff\xd8",)}
    if not head.startswith(signatures[extension]):
        raise ServiceError(
            "invalid_content", f"文件“{name}”的内容与扩展名不符，请上传真实的 PDF 或图片。", field="upload"
        )
    evidence = Evidence(
        org_unit=owner.org_unit,
        hardship_file=hardship_file,
        application=application,
        kind=kind,
        original_name=name[:200],
        content_type=EVIDENCE_TYPES[extension],
        size=size,
        uploaded_by=_actor_user(actor),
    )
    evidence.file.save(name, upload, save=False)
    evidence.save()
    audit_created(
        actor=actor,
        instance=evidence,
        fields=("kind", "original_name", "size"),
        unit_path=owner.org_unit.path,
    )
    return evidence


# --- rounds and budgets --------------------------------------------------------------------------


@transaction.atomic
def round_create(
    *,
    actor: Any,
    kind: str,
    year: int,
    title: str,
    org_unit: OrgUnit,
    window_opens: datetime.date,
    window_closes: datetime.date,
    standard_amount: object = None,
    min_amount: object = None,
    max_amount: object = None,
    budget: object = None,
    review_levels: Sequence[int] = (OrgLevel.STREET, OrgLevel.DISTRICT),
    level_rules: dict[int, tuple[int, int | None]] | None = None,
    notice_days: int = 5,
    require_open_file: bool = True,
    require_member: bool = False,
    require_below_threshold: bool = True,
    require_not_paid: bool = True,
) -> Round:
    """A round of a programme, with its own unit's budget (``budget``) and the review chain."""
    _require(actor, Capability.MANAGE_ASSISTANCE_FUNDS)
    require_unit_in_scope(actor, org_unit)
    if kind not in ProgrammeKind.values:
        raise ServiceError("invalid_kind", "请选择帮扶项目。", field="kind")
    title = (title or "").strip()
    if not title:
        raise ServiceError("title_required", "请填写批次名称。", field="title")
    if not window_opens or not window_closes:
        raise ServiceError("window_required", "请填写申请开始和截止日期。", field="window_closes")
    if window_closes < window_opens:
        raise ServiceError(
            "window_reversed",
            f"申请截止日期（{window_closes}）不能早于开始日期（{window_opens}）。",
            field="window_closes",
        )
    standard = (
        None
        if standard_amount in (None, "")
        else money(standard_amount, field_name="standard_amount", label="标准金额", allow_zero=False)
    )
    low = (
        None
        if min_amount in (None, "")
        else money(min_amount, field_name="min_amount", label="最低金额", allow_zero=False)
    )
    high = (
        None
        if max_amount in (None, "")
        else money(max_amount, field_name="max_amount", label="最高金额", allow_zero=False)
    )
    if standard is None and (low is None or high is None):
        raise ServiceError(
            "amount_required", "请填写标准金额，或同时填写最低和最高金额。", field="standard_amount"
        )
    if low is not None and high is not None and high < low:
        raise ServiceError(
            "range_reversed", f"最高金额（{high}）不能低于最低金额（{low}）。", field="max_amount"
        )
    levels = [int(level) for level in review_levels]
    if not levels:
        raise ServiceError("levels_required", "请至少选择一个审核层级。", field="review_levels")
    if any(level not in OrgLevel.values for level in levels) or len(set(levels)) != len(levels):
        raise ServiceError("invalid_levels", "审核层级不正确或重复。", field="review_levels")
    if levels != sorted(levels, reverse=True):
        raise ServiceError("invalid_levels", "审核应自下而上（如 街道 → 区 → 市）。", field="review_levels")
    if any(level < org_unit.level for level in levels):
        raise ServiceError("invalid_levels", "审核层级不能高于组织单位本身。", field="review_levels")
    if not 0 <= int(notice_days) <= 30:
        raise ServiceError("invalid_notice_days", "公示期应为 0–30 个工作日。", field="notice_days")
    round_ = Round.objects.create(
        kind=kind,
        year=year,
        title=title[:100],
        org_unit=org_unit,
        window_opens=window_opens,
        window_closes=window_closes,
        standard_amount=standard,
        min_amount=low,
        max_amount=high,
        require_open_file=require_open_file,
        require_member=require_member,
        require_below_threshold=require_below_threshold,
        require_not_paid=require_not_paid,
        review_levels=",".join(str(level) for level in levels),
        notice_days=int(notice_days),
    )
    for level, (required, panel) in (level_rules or {}).items():
        if int(level) not in levels:
            raise ServiceError(
                "invalid_rule", f"审核规则的层级“{level}”不在审核层级中。", field="level_rules"
            )
        if required < 1 or (panel is not None and panel < required):
            raise ServiceError(
                "invalid_rule",
                f"{OrgLevel(int(level)).label}审核：需同意人数应至少 1 人，且不超过评审人数。",
                field="level_rules",
            )
        RoundLevelRule.objects.create(
            round=round_, level=int(level), required_approvals=required, panel_size=panel
        )
    audit_created(actor=actor, instance=round_, fields=ROUND_AUDIT_FIELDS, unit_path=org_unit.path)
    if budget not in (None, ""):
        _budget_write(actor=actor, round_=round_, shares={org_unit: budget})
    return round_


@dataclass
class BudgetProblem:
    unit: OrgUnit
    message: str


def _budget_problems(
    round_: Round, amounts: dict[int, Decimal], spent: dict[int, Decimal]
) -> list[BudgetProblem]:
    """Children's shares must not add up to more than the parent's share; a share never below what is spent.

    "Parent" is the nearest ancestor unit that has a share in the round."""
    units = {u.pk: u for u in OrgUnit.objects.filter(pk__in=list(amounts))}
    problems: list[BudgetProblem] = []
    children_sum: dict[int, Decimal] = defaultdict(Decimal)
    children_names: dict[int, list[str]] = defaultdict(list)
    for unit_id, unit in units.items():
        if not unit.path.startswith(round_.org_unit.path):
            problems.append(
                BudgetProblem(unit, f"“{unit.name}”不在本批次组织单位“{round_.org_unit.name}”之下。")
            )
            continue
        parent_id = next((a for a in reversed(ancestor_ids(unit)[:-1]) if a in amounts), None)
        if parent_id is None:
            if unit_id != round_.org_unit_id:
                problems.append(
                    BudgetProblem(unit, f"“{unit.name}”的上级单位在本批次没有预算，请先分配上级单位的预算。")
                )
            continue
        children_sum[parent_id] += amounts[unit_id]
        children_names[parent_id].append(unit.name)
    for parent_id, total in children_sum.items():
        if total > amounts[parent_id]:
            parent = units[parent_id]
            problems.append(
                BudgetProblem(
                    parent,
                    f"“{parent.name}”超额分配：下级单位（{'、'.join(children_names[parent_id])}）预算合计 {total} 元，"
                    f"超过了“{parent.name}”的预算 {amounts[parent_id]} 元（多出 {total - amounts[parent_id]} 元）。",
                )
            )
    for unit_id, amount in amounts.items():
        if spent.get(unit_id, Decimal(0)) > amount:
            problems.append(
                BudgetProblem(
                    units[unit_id],
                    f"“{units[unit_id].name}”已发放 {spent[unit_id]} 元，预算不能调低到 {amount} 元。",
                )
            )
    return problems


def _budget_write(*, actor: Any, round_: Round, shares: dict[OrgUnit, object]) -> list[Budget]:
    cleaned: dict[OrgUnit, Decimal] = {}
    for unit, amount in shares.items():
        require_unit_in_scope(actor, unit)
        cleaned[unit] = money(amount, field_name="amount", label=f"“{unit.name}”的预算")
    # Lock the round's budget rows (path order) so two officers splitting at once are checked one after the other.
    existing = {
        b.org_unit_id: b
        for b in Budget.objects.select_for_update()
        .filter(round=round_)
        .select_related("org_unit")
        .order_by("org_unit__path")
    }
    amounts = {unit_id: b.amount for unit_id, b in existing.items()}
    spent = {unit_id: b.spent for unit_id, b in existing.items()}
    for unit, amount in cleaned.items():
        amounts[unit.pk] = amount
    problems = _budget_problems(round_, amounts, spent)
    if problems:
        raise ServiceError("budget_over_allocated", problems[0].message, field="amount")
    saved = []
    for unit, amount in cleaned.items():
        budget = existing.get(unit.pk)
        if budget is None:
            budget = Budget.objects.create(round=round_, org_unit=unit, amount=amount)
            audit_created(actor=actor, instance=budget, fields=("org_unit", "amount"), unit_path=unit.path)
        elif budget.amount != amount:
            before = budget.amount
            Budget.objects.filter(pk=budget.pk).update(amount=amount)
            budget.amount = amount
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                instance=budget,
                changes={"amount": [str(before), str(amount)]},
                unit_path=unit.path,
            )
        saved.append(budget)
    return saved


@transaction.atomic
def budget_set(*, actor: Any, round: Round, org_unit: OrgUnit, amount: object) -> Budget:
    """Set one unit's share of the round; the split is checked as a whole (names the unit over-allocating)."""
    _require(actor, Capability.MANAGE_ASSISTANCE_FUNDS)
    return _budget_write(actor=actor, round_=round, shares={org_unit: amount})[0]


@transaction.atomic
def budget_split(*, actor: Any, round: Round, shares: dict[OrgUnit, object]) -> list[Budget]:
    """Set many units' shares at once, checked together."""
    _require(actor, Capability.MANAGE_ASSISTANCE_FUNDS)
    return _budget_write(actor=actor, round_=round, shares=shares)


def round_close(*, actor: Any, round: Round, version: int | None = None) -> Round:
    """End a round: no more applications (payments of approved ones may still be made)."""
    _require(actor, Capability.MANAGE_ASSISTANCE_FUNDS)
    return transition_run(
        instance=round,
        table=ROUND_WORKFLOW,
        action="close",
        actor=actor,
        unit_path=_path_of,
        audit_fields=ROUND_AUDIT_FIELDS,
        version=version,
        related=("org_unit",),
        guard=lambda row: require_unit_in_scope(actor, row.org_unit),
    )


# --- applications --------------------------------------------------------------------------------


def _check_window(round_: Round, on: datetime.date) -> None:
    if round_.status != RoundStatus.OPEN:
        raise ServiceError(
            "round_not_open", f"批次“{round_.title}”{round_.get_status_display()}，不能申请。", field="round"
        )
    if not round_.window_opens <= on <= round_.window_closes:
        raise ServiceError(
            "outside_window",
            f"申请日期 {on} 不在批次“{round_.title}”的申请期（{round_.window_opens} 至 {round_.window_closes}）内。",
            field="round",
        )


def _amount_for(round_: Round, amount: object) -> Decimal:
    if round_.standard_amount is not None:
        if amount in (None, ""):
            return round_.standard_amount
        value = money(amount, field_name="amount", label="申请金额", allow_zero=False)
        if value != round_.standard_amount:
            raise ServiceError(
                "amount_not_standard",
                f"本批次按标准金额 {round_.standard_amount} 元发放，申请金额不能是 {value} 元。",
                field="amount",
            )
        return value
    if amount in (None, ""):
        raise ServiceError(
            "amount_required",
            f"请填写申请金额（{round_.min_amount}–{round_.max_amount} 元）。",
            field="amount",
        )
    value = money(amount, field_name="amount", label="申请金额", allow_zero=False)
    if not round_.min_amount <= value <= round_.max_amount:
        raise ServiceError(
            "amount_out_of_range",
            f"申请金额 {value} 元不在本批次的范围（{round_.min_amount}–{round_.max_amount} 元）内。",
            field="amount",
        )
    return value


def _covering_budgets(round_: Round, unit: OrgUnit, *, lock: bool) -> list[Budget]:
    """The budget rows of the unit and its ancestors in the round, top-down (the lock order)."""
    queryset = Budget.objects.filter(round=round_, org_unit_id__in=ancestor_ids(unit))
    if lock:
        queryset = queryset.select_for_update()
    return list(queryset.select_related("org_unit").order_by("org_unit__path"))


def _committed(round_: Round, budget_units: Iterable[OrgUnit]) -> dict[int, Decimal]:
    """Amounts of live applications (not yet paid) plus what is paid, under each budget unit (grouped)."""
    rows = (
        Application.objects.filter(round=round_, status__in=[str(s) for s in LIVE_APPLICATION_STATUSES])
        .exclude(status=ApplicationStatus.PAID)
        .values("org_unit__path")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    by_path = [(row["org_unit__path"], row["total"]) for row in rows]
    return {
        unit.pk: sum((total for path, total in by_path if path.startswith(unit.path)), Decimal(0))
        for unit in budget_units
    }


def _check_budget_room(round_: Round, budgets: list[Budget], extra: dict[int, Decimal]) -> None:
    """``extra`` = new amounts by budget unit; refuses naming the first unit whose share would be exceeded."""
    if not budgets:
        raise ServiceError(
            "no_budget", f"批次“{round_.title}”没有覆盖该单位的预算，请先分配预算。", field="amount"
        )
    committed = _committed(round_, [b.org_unit for b in budgets])
    for budget in budgets:
        need = committed[budget.org_unit_id] + budget.spent + extra.get(budget.org_unit_id, Decimal(0))
        if need > budget.amount:
            room = budget.amount - budget.spent - committed[budget.org_unit_id]
            raise ServiceError(
                "over_budget",
                f"超出预算：“{budget.org_unit.name}”本批次预算 {budget.amount} 元，已发放 {budget.spent} 元，"
                f"在审申请 {committed[budget.org_unit_id]} 元，只剩 {max(room, Decimal(0))} 元，"
                f"不足以再申请 {extra.get(budget.org_unit_id, Decimal(0))} 元。",
                field="amount",
            )


def file_eligibility_problems(
    round_: Round, hardship_file: HardshipFile | None, person: Any, on: datetime.date
) -> list[tuple[str, str, str]]:
    """(code, field, Chinese reason) for each eligibility rule the person fails; empty = eligible."""
    from safetynet.members.models import Membership, interval_active_q

    problems: list[tuple[str, str, str]] = []
    if round_.require_open_file or round_.require_below_threshold:
        if hardship_file is None or not hardship_file.is_open_on(on):
            problems.append(("no_open_file", "hardship_file", f"{person.name}在 {on} 没有在档的困难档案。"))
    if round_.require_below_threshold and hardship_file is not None:
        threshold = threshold_for(hardship_file.org_unit, round_.year)
        if threshold is None:
            problems.append(
                (
                    "no_threshold",
                    "hardship_file",
                    f"“{hardship_file.org_unit.name}”没有设置 {round_.year} 年的困难标准。",
                )
            )
        elif hardship_file.income_per_head >= threshold:
            problems.append(
                (
                    "above_threshold",
                    "hardship_file",
                    f"{person.name}家庭人均月收入 {hardship_file.income_per_head} 元，不低于 {round_.year} 年困难标准 {threshold} 元。",
                )
            )
    if round_.require_member and not Membership.objects.filter(interval_active_q(on), person=person).exists():
        problems.append(("not_member", "person", f"{person.name}在 {on} 不是工会会员。"))
    household = hardship_file.household_key if hardship_file is not None else person.id_number_hash
    if (
        round_.require_not_paid
        and Payment.objects.filter(
            Q(person=person) | Q(household_key=household),
            round=round_,
            kind=PaymentKind.PAYMENT,
            reversed_on__isnull=True,
        ).exists()
    ):
        problems.append(("already_paid", "person", f"{person.name}（或其家庭）在本批次已领取过。"))
    return problems


@transaction.atomic
def application_submit(
    *,
    actor: Any,
    round: Round,
    on: datetime.date,
    hardship_file: HardshipFile | None = None,
    person: Any = None,
    amount: object = None,
    student_name: str = "",
    school: str = "",
    reason: str = "",
    attachments: Sequence[tuple[str, Any]] | None = None,
) -> Application:
    """Apply for one person (their open file, usually). Checked: window, eligibility, amount, budget room.
    ``attachments`` are (EvidenceKind, upload) pairs saved in the same transaction; a 金秋助学 application
    must carry the admission letter (kind "admission")."""
    _require(actor, Capability.HANDLE_ASSISTANCE)
    round_ = round
    _check_window(round_, on)
    if hardship_file is not None:
        person = hardship_file.person
        unit = hardship_file.org_unit
    elif person is not None:
        from safetynet.members.services import person_unit_path

        path = person_unit_path(person)
        unit = OrgUnit.objects.filter(path=path).first() if path else None
        if unit is None:
            raise ServiceError(
                "no_unit", f"{person.name}没有所属单位，请先为其建立困难档案。", field="person"
            )
    else:
        raise ServiceError("person_required", "请选择困难档案或职工。", field="hardship_file")
    require_unit_in_scope(actor, unit, field="hardship_file")
    problems = file_eligibility_problems(round_, hardship_file, person, on)
    if problems:
        code, field_name, message = problems[0]
        raise ServiceError(code, message, field=field_name)
    if round_.kind == ProgrammeKind.STUDENT_AID and not (student_name or "").strip():
        raise ServiceError("student_required", "金秋助学申请请填写学生姓名。", field="student_name")
    if round_.kind == ProgrammeKind.STUDENT_AID and not any(
        kind == EvidenceKind.ADMISSION for kind, _upload in attachments or ()
    ):
        raise ServiceError(
            "admission_letter_required",
            "金秋助学申请须上传录取通知书（PDF 或图片）。",
            field="admission_letter",
        )
    value = _amount_for(round_, amount)
    budgets = _covering_budgets(round_, unit, lock=True)
    _check_budget_room(round_, budgets, {b.org_unit_id: value for b in budgets})
    if Application.objects.filter(
        round=round_, person=person, status__in=[str(s) for s in LIVE_APPLICATION_STATUSES]
    ).exists():
        raise ServiceError(
            "already_applied", f"{person.name}在本批次已有申请，不能重复申请。", field="person"
        )
    application = Application(
        round=round_,
        hardship_file=hardship_file,
        person=person,
        org_unit=unit,
        household_key=hardship_file.household_key if hardship_file is not None else person.id_number_hash,
        amount=value,
        current_level=round_.levels[0],
        submitted_on=on,
        student_name=(student_name or "").strip()[:50],
        school=(school or "").strip()[:100],
        reason=(reason or "").strip()[:300],
        submitted_by=_actor_user(actor),
    )
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        raise ServiceError(
            "already_applied", f"{person.name}在本批次已有申请，不能重复申请。", field="person"
        ) from None
    audit_created(actor=actor, instance=application, fields=APPLICATION_AUDIT_FIELDS, unit_path=unit.path)
    for kind, upload in attachments or ():
        try:
            evidence_attach(actor=actor, upload=upload, kind=kind, application=application)
        except ServiceError as exc:
            field_name = "admission_letter" if kind == EvidenceKind.ADMISSION else exc.field
            raise ServiceError(exc.code, exc.message, field=field_name) from None
    return application


def application_submit_by_worker(
    *,
    person: Any,
    round: Round,
    on: datetime.date,
    amount: object = None,
    student_name: str = "",
    school: str = "",
    reason: str = "",
    attachments: Sequence[tuple[str, Any]] | None = None,
) -> Application:
    """A worker's own application from the workers' platform (the system acts for the verified person): the
    same checks as :func:`application_submit`, filed at the unit of the person's open hardship file."""
    with transaction.atomic():
        application = _application_submit_for_worker(
            person=person,
            round=round,
            on=on,
            amount=amount,
            student_name=student_name,
            school=school,
            reason=reason,
            attachments=attachments,
        )
        # Marked in the same transaction, so an officer's page can say it came from the platform.
        Application.objects.filter(pk=application.pk).update(submitted_via=SubmittedVia.PLATFORM)
        application.submitted_via = SubmittedVia.PLATFORM
    return application


def _application_submit_for_worker(
    *,
    person: Any,
    round: Round,
    on: datetime.date,
    amount: object,
    student_name: str,
    school: str,
    reason: str,
    attachments: Sequence[tuple[str, Any]] | None,
) -> Application:
    hardship_file = (
        HardshipFile.objects.filter(person=person, closed_on__isnull=True)
        .select_related("org_unit", "person")
        .first()
    )
    if hardship_file is None and (round.require_open_file or round.require_below_threshold):
        raise ServiceError(
            "no_open_file",
            "您还没有在档的困难职工档案，请先到所在社区或街道工会建档。",
            field="hardship_file",
        )
    return application_submit(
        actor=None,
        round=round,
        on=on,
        hardship_file=hardship_file,
        person=None if hardship_file is not None else person,
        amount=amount,
        student_name=student_name,
        school=school,
        reason=reason,
        attachments=attachments,
    )


@dataclass
class BatchOutcome:
    created: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    application_ids: list[int] = field(default_factory=list)


# Applications written (and audited) per step of a batch; ``progress`` is told after each step.
BATCH_CHUNK = 500


def application_submit_batch(
    *,
    actor: Any,
    round: Round,
    unit: OrgUnit,
    on: datetime.date,
    progress: Callable[[str, int, int | None], None] | None = None,
    chunk_size: int | None = None,
) -> BatchOutcome:
    """Apply at once for every eligible open file of the unit's subtree: eligibility in a few grouped queries,
    bulk inserts of ``chunk_size`` (default BATCH_CHUNK) applications with their audit rows, each step told to
    ``progress(stage, done, total)``. All in one transaction: the whole batch is refused when it would exceed
    a unit's budget, and nothing is kept when any step fails."""
    from safetynet.assistance.selectors import eligible_files

    _require(actor, Capability.HANDLE_ASSISTANCE)
    require_unit_in_scope(actor, unit)
    round_ = round
    _check_window(round_, on)
    value = _amount_for(round_, None) if round_.standard_amount is not None else None
    if value is None:
        raise ServiceError(
            "batch_needs_standard", "本批次按范围核定金额，不能批量申请，请逐个填写金额。", field="round"
        )
    with transaction.atomic():
        if progress:
            progress("检查资格", 0, None)
        # Lock the budgets first (path order), then read: a concurrent batch waits here.
        _covering_budgets(round_, unit, lock=True)
        rows = list(
            eligible_files(round_, unit, on).values_list(
                "pk", "person_id", "org_unit_id", "household_key", "org_unit__path", "person__name"
            )
        )
        outcome = BatchOutcome()
        seen_households: set[str] = set()
        chosen = []
        for row in rows:
            if row[3] in seen_households:
                outcome.skipped["same_household"] = outcome.skipped.get("same_household", 0) + 1
                continue
            seen_households.add(row[3])
            chosen.append(row)
        if not chosen:
            return outcome
        # Budget room for every budget row covering any of the chosen units (grouped in Python from paths).
        budgets = list(
            Budget.objects.select_for_update()
            .filter(round=round_)
            .select_related("org_unit")
            .order_by("org_unit__path")
        )
        relevant = [
            b
            for b in budgets
            if unit.path.startswith(b.org_unit.path) or b.org_unit.path.startswith(unit.path)
        ]
        extra: dict[int, Decimal] = defaultdict(Decimal)
        for budget in relevant:
            count = sum(1 for row in chosen if row[4].startswith(budget.org_unit.path))
            extra[budget.org_unit_id] = value * count
        uncovered = [row for row in chosen if not any(row[4].startswith(b.org_unit.path) for b in relevant)]
        if uncovered or not relevant:
            raise ServiceError(
                "no_budget", f"批次“{round_.title}”没有覆盖该单位的预算，请先分配预算。", field="amount"
            )
        _check_budget_room(round_, [b for b in relevant if extra[b.org_unit_id]], extra)
        if progress:
            progress("写入申请", 0, len(chosen))
        first_level = round_.levels[0]
        submitter = _actor_user(actor)
        applications = [
            Application(
                round=round_,
                hardship_file_id=file_id,
                person_id=person_id,
                org_unit_id=unit_id,
                household_key=household,
                amount=value,
                status=ApplicationStatus.IN_REVIEW,
                current_level=first_level,
                submitted_on=on,
                submitted_by=submitter,
            )
            for file_id, person_id, unit_id, household, _path, _name in chosen
        ]
        # The audit rows name each application (its __str__ names the person): the names come with the
        # eligibility query, so no query per row.
        from safetynet.members.models import Person

        for application, row in zip(applications, chosen, strict=True):
            application.person = Person(pk=row[1], name=row[5])
        paths = {row[0]: row[4] for row in chosen}
        step = max(1, chunk_size or BATCH_CHUNK)
        created: list[Application] = []
        for start in range(0, len(applications), step):
            part = Application.objects.bulk_create(applications[start : start + step])
            audit_bulk(
                [
                    audit_build(
                        actor=actor,
                        action=AuditAction.CREATE,
                        instance=application,
                        changes={"status": [None, "审核中"], "amount": [None, str(value)]},
                        unit_path=paths[application.hardship_file_id],
                        note="批量申请",
                    )
                    for application in part
                ]
            )
            created.extend(part)
            if progress:
                progress("写入申请", len(created), len(chosen))
        outcome.created = len(created)
        outcome.application_ids = [a.pk for a in created if a.pk is not None]
        if progress:
            progress("完成", len(created), len(chosen))
        return outcome


SKIP_LABELS = {"same_household": "同一家庭已有档案在本次申请中"}


def application_batch_enqueue(*, actor: Any, round: Round, unit: OrgUnit, on: datetime.date) -> str:
    """Queue a batch application (``application_submit_batch``) as a background task; returns the id that
    ``tasks.application_batch_status`` answers. The window and scope are checked at once."""
    _require(actor, Capability.HANDLE_ASSISTANCE)
    require_unit_in_scope(actor, unit)
    _check_window(round, on)
    if round.standard_amount is None:
        raise ServiceError(
            "batch_needs_standard", "本批次按范围核定金额，不能批量申请，请逐个填写金额。", field="round"
        )
    job = BatchJob.objects.create(
        round=round, org_unit=unit, on=on, requested_by=_actor_user(actor), stage="排队中"
    )
    transaction.on_commit(lambda: _enqueue_batch(job.pk))
    return str(job.pk)


def _enqueue_batch(job_pk: int) -> None:
    from safetynet.assistance.tasks import run_application_batch

    run_application_batch.enqueue(job_pk)


class BatchProgress:
    """The ``progress`` callback of a background batch: writes ``stage``/``done``/``total`` on its BatchJob.

    The batch works in one transaction (all or nothing), so an UPDATE through its own connection would only be
    seen at the end. Inside that transaction, on PostgreSQL, a second connection writes the progress instead
    (committed at once, so the page's poll sees it); it skips a job row that is locked rather than wait, and
    a failure to write progress never breaks the batch. SQLite allows one writer at a time: there the page
    sees the figures written outside the transaction only (the same as core imports' jobs)."""

    def __init__(self, job_pk: int, *, using: str = DEFAULT_DB_ALIAS) -> None:
        self.job_pk = job_pk
        self.using = using
        self.depth = len(connections[using].atomic_blocks)
        self.side: Any = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        self.write(stage=stage[:40], done=done, total=total)

    def write(self, **values: Any) -> None:
        connection = connections[self.using]
        if len(connection.atomic_blocks) <= self.depth:
            BatchJob.objects.using(self.using).filter(pk=self.job_pk).update(**values)
            return
        if connection.vendor != "postgresql":
            return
        try:
            if self.side is None:
                self.side = type(connection)(connection.settings_dict, alias=connection.alias)
            quote = connection.ops.quote_name
            table = quote(BatchJob._meta.db_table)
            names = list(values)
            assignments = ", ".join(f"{quote(name)} = %s" for name in names)
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET {assignments} WHERE id IN "
                    f"(SELECT id FROM {table} WHERE id = %s FOR UPDATE SKIP LOCKED)",
                    [values[name] for name in names] + [self.job_pk],
                )
        except Exception:  # progress is a courtesy: never let it break the batch
            logger.warning("Could not write the progress of batch job %s", self.job_pk, exc_info=True)

    def close(self) -> None:
        if self.side is not None:
            try:
                self.side.close()
            except Exception:
                logger.warning(
                    "Could not close the progress connection of job %s", self.job_pk, exc_info=True
                )
            self.side = None


def application_batch_run(*, job_id: int) -> BatchJob | None:
    """Run a queued batch (the task). The batch is one transaction; its progress (stage, done of total) is
    written as it goes, outside that transaction (:class:`BatchProgress`)."""
    job = BatchJob.objects.select_related("round", "org_unit", "requested_by").filter(pk=job_id).first()
    if job is None or job.status != BatchJobStatus.QUEUED:
        return job
    BatchJob.objects.filter(pk=job.pk).update(status=BatchJobStatus.RUNNING, stage="检查资格")
    progress = BatchProgress(job.pk)
    try:
        outcome = application_submit_batch(
            actor=job.requested_by, round=job.round, unit=job.org_unit, on=job.on, progress=progress
        )
    except ServiceError as exc:
        BatchJob.objects.filter(pk=job.pk).update(
            status=BatchJobStatus.FAILED, stage="失败", message=exc.message, finished_at=timezone.now()
        )
    except Exception as exc:  # recorded so the page stops polling; the worker logs the error itself
        BatchJob.objects.filter(pk=job.pk).update(
            status=BatchJobStatus.FAILED,
            stage="失败",
            message=f"批量申请时发生系统错误（{type(exc).__name__}），未提交任何申请。请稍后重试，或联系系统管理员。",
            finished_at=timezone.now(),
        )
        raise
    else:
        skipped = "；".join(f"{SKIP_LABELS.get(k, k)} {v} 份" for k, v in outcome.skipped.items())
        BatchJob.objects.filter(pk=job.pk).update(
            status=BatchJobStatus.DONE,
            stage="完成",
            done=outcome.created,
            total=outcome.created,
            created=outcome.created,
            skipped=outcome.skipped,
            message=f"已为 {outcome.created} 份档案提交申请。" + (f"跳过：{skipped}。" if skipped else ""),
            finished_at=timezone.now(),
        )
    finally:
        progress.close()
    job.refresh_from_db()
    return job


def _level_rule(round_: Round, level: int) -> tuple[int, int | None]:
    rule = RoundLevelRule.objects.filter(round=round_, level=level).first()
    return (rule.required_approvals, rule.panel_size) if rule else (1, None)


def _next_level(round_: Round, level: int) -> int | None:
    levels = round_.levels
    index = levels.index(level)
    return levels[index + 1] if index + 1 < len(levels) else None


def _check_reviewer(actor: Any, application: Application) -> None:
    if actor is None:
        return
    level = _actor_level(actor)
    if level is None or not application.org_unit.path.startswith(actor.org_unit.path):
        from safetynet.core.errors import OutOfScope

        raise OutOfScope()
    if application.current_level is not None and level != application.current_level:
        raise ServiceError(
            "wrong_level",
            f"该申请当前由{OrgLevel(application.current_level).label}审核，您所在的单位是{OrgLevel(level).label}级。",
            field="decision",
        )


def _vote_moment(on: datetime.date | None) -> tuple[datetime.date, datetime.datetime]:
    """(day, moment) of a vote: now, or the given day (at noon local time when it is not today, so the stored
    moment falls on that day in any time zone setting). A day after today is refused."""
    now = timezone.now()
    today = timezone.localdate(now)
    if on is None or on == today:
        return today, now
    if on > today:
        raise ServiceError(
            "vote_in_future", f"审核日期 {on} 晚于今天（{today}），不能预先记录审核意见。", field="on"
        )
    return on, timezone.make_aware(datetime.datetime.combine(on, datetime.time(12, 0)))


def level_reached_on(application: Application, level: int) -> datetime.date:
    """The day the application came to ``level``: submitted there, or the day of the last vote at an earlier
    level of the chain (the vote that passed it on)."""
    last = (
        Vote.objects.filter(application=application)
        .exclude(level=level)
        .aggregate(last=Max("created_at"))["last"]
    )
    reached = application.submitted_on
    if last is not None:
        reached = max(reached, timezone.localdate(last))
    return reached


def application_vote(
    *,
    actor: Any,
    application: Application,
    decision: str,
    reason: str = "",
    version: int | None = None,
    on: datetime.date | None = None,
) -> Application:
    """One reviewer's vote at the application's current level (the ledger row is written in the same step).

    N of M: the level passes when N approvals are in (then the next level of the chain, or 审核通过 after the
    last); it fails on a rejection when no panel size is set, or when rejections make N unreachable.

    ``on``: the day the vote is recorded for (demo data, imports of paper reviews, tests); None = now. A day
    after today, or before the application reached its current level, is refused (field "on")."""
    _require(actor, Capability.REVIEW_ASSISTANCE)
    if decision not in Decision.values:
        raise ServiceError("invalid_decision", "请选择“同意”或“不同意”。", field="decision")
    reason = (reason or "").strip()
    if decision == Decision.REJECT and not reason:
        raise ServiceError("reason_required", "不同意时请填写理由。", field="reason")
    day, moment = _vote_moment(on)
    with transaction.atomic():
        row = lock_row(application, version=version, related=("org_unit", "round"))
        APPLICATION_WORKFLOW.check(row.status, decision)
        _check_reviewer(actor, row)
        level = row.current_level
        reached = level_reached_on(row, level)
        if day < reached:
            raise ServiceError(
                "vote_before_level",
                f"审核日期 {day} 早于该申请到达{OrgLevel(level).label}审核的日期（{reached}），"
                f"请填写 {reached} 或之后的日期。",
                field="on",
            )
        voter = _actor_user(actor)
        if voter is not None:
            if Vote.objects.filter(application=row, level=level, voter=voter).exists():
                raise ServiceError(
                    "already_voted", "您已在本级对该申请投过票，不能重复投票。", field="decision"
                )
            if row.submitted_by_id == voter.pk:
                raise ServiceError("own_application", "不能审核自己提交的申请。", field="decision")
        required, panel = _level_rule(row.round, level)
        counts = {
            d: Vote.objects.filter(application=row, level=level, decision=d).count() for d in Decision.values
        }
        counts[decision] = counts.get(decision, 0) + 1
        values: dict[str, Any] = {}
        if decision == Decision.APPROVE and counts[Decision.APPROVE] >= required:
            following = _next_level(row.round, level)
            if following is None:
                target = ApplicationStatus.APPROVED
                values = {"current_level": None, "decided_on": day}
            else:
                target = ApplicationStatus.IN_REVIEW
                values = {"current_level": following}
        elif decision == Decision.REJECT and (panel is None or counts[Decision.REJECT] > panel - required):
            target = ApplicationStatus.REJECTED
            values = {
                "current_level": None,
                "decided_on": day,
                "closing_note": reason[:300],
            }
        else:
            target = ApplicationStatus.IN_REVIEW

        def after(saved: Application, from_status: str, to_status: str) -> None:
            Vote.objects.create(
                application=saved,
                level=level,
                voter=voter,
                voter_name=_actor_name(actor),
                decision=decision,
                reason=reason[:300],
                created_at=moment,
            )

        return transition_run(
            instance=row,
            table=APPLICATION_WORKFLOW,
            action=decision,
            actor=actor,
            unit_path=_path_of,
            audit_fields=APPLICATION_AUDIT_FIELDS,
            target=target,
            related=("org_unit", "round"),
            apply=lambda r, t: values,
            after=after,
            note=f"{OrgLevel(level).label}审核：{Decision(decision).label}"
            + (f"（{reason}）" if reason else ""),
        )


def application_vote_many(
    *,
    actor: Any,
    applications: Iterable[Application],
    decision: str,
    reason: str = "",
    on: datetime.date | None = None,
) -> tuple[int, list[tuple[Application, str]]]:
    """The same vote on several applications (the review queue's 全部同意 / 全部不同意): each its own step;
    one refused does not stop the others. Returns (done, [(application, Chinese reason)])."""
    done = 0
    refused: list[tuple[Application, str]] = []
    for application in applications:
        try:
            application_vote(actor=actor, application=application, decision=decision, reason=reason, on=on)
        except ServiceError as exc:
            refused.append((application, exc.message))
        else:
            done += 1
    return done, refused


def application_withdraw(
    *, actor: Any, application: Application, reason: str, version: int | None = None
) -> Application:
    _require(actor, Capability.HANDLE_ASSISTANCE)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", "请填写撤回原因。", field="reason")
    return _scoped_step(
        application,
        table=APPLICATION_WORKFLOW,
        action="withdraw",
        actor=actor,
        audit_fields=APPLICATION_AUDIT_FIELDS,
        version=version,
        apply=lambda row, target: {"current_level": None, "closing_note": reason[:300]},
        note=f"撤回：{reason}",
    )


def notice_period(on: datetime.date, working_days: int) -> tuple[datetime.date, datetime.date]:
    """(first day, last day) of a public notice of ``working_days`` working days starting on ``on`` (or the
    next working day), by the Chinese calendar with its make-up working days."""
    from safetynet.cases.deadlines import add_working_days, is_working_day

    start = on if is_working_day(on) else add_working_days(on, 1)
    end = add_working_days(start, working_days - 1) if working_days > 0 else start
    return start, end


def application_notice_start(
    *, actor: Any, application: Application, on: datetime.date, version: int | None = None
) -> Application:
    _require(actor, Capability.REVIEW_ASSISTANCE)

    def apply(row: Application, target: str) -> dict[str, Any]:
        start, end = notice_period(on, row.round.notice_days)
        return {"notice_from": start, "notice_until": end}

    return _scoped_step(
        application,
        table=APPLICATION_WORKFLOW,
        action="start_notice",
        actor=actor,
        audit_fields=APPLICATION_AUDIT_FIELDS,
        version=version,
        related=("org_unit", "round"),
        apply=apply,
    )


def application_notice_start_many(*, actor: Any, round: Round, unit: OrgUnit, on: datetime.date) -> int:
    """Publish the unit subtree's approved list of the round: every approved application goes into notice."""
    _require(actor, Capability.REVIEW_ASSISTANCE)
    require_unit_in_scope(actor, unit)
    with transaction.atomic():
        ids = list(
            Application.objects.within(unit.path)
            .filter(round=round, status=ApplicationStatus.APPROVED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for pk in ids:
            application_notice_start(actor=actor, application=Application(pk=pk), on=on)
        return len(ids)


@transaction.atomic
def objection_record(
    *, actor: Any, application: Application, raised_on: datetime.date, content: str, raised_by: str = ""
) -> Objection:
    _require(actor, Capability.HANDLE_ASSISTANCE)
    row = _lock_in_scope(application, actor)
    if row.status != ApplicationStatus.IN_NOTICE:
        raise ServiceError("not_in_notice", "只有公示中的申请才能登记异议。", field="content")
    content = (content or "").strip()
    if not content:
        raise ServiceError("content_required", "请填写异议内容。", field="content")
    if raised_on < row.notice_from or raised_on > row.notice_until:
        raise ServiceError(
            "outside_notice",
            f"异议日期 {raised_on} 不在公示期（{row.notice_from} 至 {row.notice_until}）内。",
            field="raised_on",
        )
    objection = Objection.objects.create(
        application=row,
        raised_on=raised_on,
        raised_by=(raised_by or "").strip()[:100],
        content=content[:500],
        recorded_by=_actor_user(actor),
    )
    audit_created(
        actor=actor, instance=objection, fields=("raised_on", "content"), unit_path=row.org_unit.path
    )
    return objection


def objection_resolve(
    *, actor: Any, objection: Objection, upheld: bool, resolution: str, on: datetime.date
) -> Objection:
    """Resolve an objection; an upheld one rejects the application (its notice ends there)."""
    _require(actor, Capability.REVIEW_ASSISTANCE)
    resolution = (resolution or "").strip()
    if not resolution:
        raise ServiceError("resolution_required", "请填写处理意见。", field="resolution")
    with transaction.atomic():
        row = lock_row(objection, related=("application__org_unit",))
        _require_record_in_scope(actor, row.application.org_unit.path)
        if row.status != ObjectionStatus.OPEN:
            raise ServiceError("already_resolved", "该异议已处理。", field="resolution")
        row.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED
        row.resolution = resolution[:500]
        row.resolved_on = on
        row.resolved_by = _actor_user(actor)
        row.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=row,
            changes={"status": ["待处理", row.get_status_display()], "resolution": [None, row.resolution]},
            unit_path=row.application.org_unit.path,
        )
        if upheld:
            transition_run(
                instance=row.application,
                table=APPLICATION_WORKFLOW,
                action="uphold_objection",
                actor=actor,
                unit_path=_path_of,
                audit_fields=APPLICATION_AUDIT_FIELDS,
                related=("org_unit", "round"),
                apply=lambda r, t: {"closing_note": f"公示异议成立：{resolution}"[:300]},
            )
        return row


def application_notice_end(
    *, actor: Any, application: Application, on: datetime.date, version: int | None = None
) -> Application:
    """End the notice: only after its last day, and only with no open objection."""
    _require(actor, Capability.REVIEW_ASSISTANCE)

    def apply(row: Application, target: str) -> dict[str, Any]:
        if row.notice_until is None or on <= row.notice_until:
            raise ServiceError(
                "notice_not_over", f"公示期到 {row.notice_until} 为止，{on} 还不能结束公示。", field="action"
            )
        if Objection.objects.filter(application=row, status=ObjectionStatus.OPEN).exists():
            raise ServiceError("open_objection", "该申请还有未处理的公示异议，请先处理。", field="action")
        return {}

    return _scoped_step(
        application,
        table=APPLICATION_WORKFLOW,
        action="end_notice",
        actor=actor,
        audit_fields=APPLICATION_AUDIT_FIELDS,
        version=version,
        apply=apply,
    )


def application_notice_end_due(*, on: datetime.date) -> int:
    """The sweep: end every notice whose last day is before ``on`` and has no open objection."""
    ids = list(
        Application.objects.filter(status=ApplicationStatus.IN_NOTICE, notice_until__lt=on)
        .exclude(Exists(Objection.objects.filter(application=OuterRef("pk"), status=ObjectionStatus.OPEN)))
        .values_list("pk", flat=True)
    )
    for pk in ids:
        application_notice_end(actor=None, application=Application(pk=pk), on=on)
    return len(ids)


def application_actions(application: Application, user: Any) -> list[str]:
    """The actions this user may take on the application now (for buttons)."""
    allowed = APPLICATION_WORKFLOW.allowed(application.status)
    result = []
    for action in allowed:
        if action in ("approve", "reject"):
            if user.can(Capability.REVIEW_ASSISTANCE) and _actor_level(user) == application.current_level:
                result.append(action)
        elif action in ("start_notice", "end_notice", "uphold_objection"):
            if user.can(Capability.REVIEW_ASSISTANCE) and action != "uphold_objection":
                result.append(action)
        elif action == "pay":
            if user.can(Capability.MANAGE_ASSISTANCE_FUNDS):
                result.append(action)
        elif action == "withdraw" and user.can(Capability.HANDLE_ASSISTANCE):
            result.append(action)
    return result


# --- payments ------------------------------------------------------------------------------------


def _pay(
    *, actor: Any, application: Application, amount: Decimal, on: datetime.date, batch: PaymentBatch | None
) -> Payment:
    """Inside a transaction: lock the application, then the covering budget rows top-down; move the money."""
    row = _lock_in_scope(application, actor, related=("org_unit", "round"))
    APPLICATION_WORKFLOW.check(row.status, "pay")
    if amount != row.amount:
        raise ServiceError(
            "amount_mismatch",
            f"发放金额 {amount} 元与批准金额 {row.amount} 元不一致，不能发放。",
            field="amount",
        )
    budgets = _covering_budgets(row.round, row.org_unit, lock=True)
    if not budgets:
        raise ServiceError("no_budget", f"批次“{row.round.title}”没有覆盖该单位的预算。", field="amount")
    for budget in budgets:
        if budget.spent + amount > budget.amount:
            raise ServiceError(
                "over_budget",
                f"超出预算：“{budget.org_unit.name}”本批次预算 {budget.amount} 元，已发放 {budget.spent} 元，"
                f"余额不足以发放 {amount} 元。",
                field="amount",
            )
    try:
        with transaction.atomic():
            Budget.objects.filter(pk__in=[b.pk for b in budgets]).update(spent=F("spent") + amount)
            payment = Payment.objects.create(
                round=row.round,
                application=row,
                person_id=row.person_id,
                household_key=row.household_key,
                org_unit=row.org_unit,
                kind=PaymentKind.PAYMENT,
                amount=amount,
                batch=batch,
                created_on=on,
                paid_on=None if batch is not None else on,
                created_by=_actor_user(actor),
            )
    except IntegrityError:
        raise ServiceError(
            "already_paid", "该职工或其家庭在本批次已发放过，同一批次每人每户只能发放一次。", field="amount"
        ) from None
    payment.application = transition_run(
        instance=row,
        table=APPLICATION_WORKFLOW,
        action="pay",
        actor=actor,
        unit_path=_path_of,
        audit_fields=APPLICATION_AUDIT_FIELDS,
        related=("org_unit", "round"),
    )
    audit_created(
        actor=actor, instance=payment, fields=("amount", "created_on", "paid_on"), unit_path=row.org_unit.path
    )
    return payment


@transaction.atomic
def payment_create(
    *,
    actor: Any,
    application: Application,
    amount: object,
    on: datetime.date,
    batch: PaymentBatch | None = None,
) -> Payment:
    """Pay one application its approved amount (a different amount is refused)."""
    _require(actor, Capability.MANAGE_ASSISTANCE_FUNDS)
    value = money(amount, field_name="amount", label="发放金额", allow_zero=False)
    return _pay(actor=actor, application=application, amount=value, on=on, batch=batch)


@transaction.atomic
def payment_batch_create(*, actor: Any, round: Round, unit: OrgUnit, on: datetime.date) -> PaymentBatch:
    """A bank batch of every application of the unit subtree whose notice has passed; all or nothing."""
    _require(actor, Capability.MANAGE_ASSISTANCE_FUNDS)
    require_unit_in_scope(actor, unit)
    ids = list(
        Application.objects.within(unit.path)
        .filter(round=round, status=ApplicationStatus.NOTICE_PASSED)
        .order_by("pk")
        .values_list("pk", "amount")
    )
    if not ids:
        raise ServiceError("nothing_to_pay", "该单位没有公示期满、待发放的申请。", field="round")
    batch = PaymentBatch.objects.create(
        round=round, org_unit=unit, created_on=on, created_by=_actor_user(actor)
    )
    for pk, amount in ids:
        _pay(actor=actor, application=Application(pk=pk), amount=amount, on=on, batch=batch)
    audit_created(
        actor=actor, instance=batch, fields=("round", "org_unit", "created_on"), unit_path=unit.path
    )
    return batch


def payment_batch_mark_paid(
    *, actor: Any, batch: PaymentBatch, paid_on: datetime.date, version: int | None = None
) -> PaymentBatch:
    """The bank paid the batch: its payments get their paid date (counted from that day in the figures)."""
    _require(actor, Capability.MANAGE_ASSISTANCE_FUNDS)

    def apply(row: PaymentBatch, target: str) -> dict[str, Any]:
        if paid_on is None or paid_on < row.created_on:
            raise ServiceError(
                "paid_before_created", f"发放日期不能早于批次生成日期（{row.created_on}）。", field="paid_on"
            )
        return {"paid_on": paid_on}

    def after(row: PaymentBatch, source: str, target: str) -> None:
        Payment.objects.filter(batch=row, paid_on__isnull=True).update(paid_on=paid_on)

    return _scoped_step(
        batch,
        table=BATCH_WORKFLOW,
        action="mark_paid",
        actor=actor,
        audit_fields=("status", "paid_on"),
        version=version,
        apply=apply,
        after=after,
    )


@transaction.atomic
def payment_reverse(*, actor: Any, payment: Payment, reason: str, on: datetime.date) -> Payment:
    """Reverse a payment: a new negative row with the reason; the budget gets the money back; the payment row
    is marked reversed (so it no longer counts as the person's and household's payment in the round) and the
    application goes back to 公示期满, awaiting payment: it can be paid again, or withdrawn.

    Locks in the order paying uses (application, then the budgets top-down), with the payment row between."""
    _require(actor, Capability.MANAGE_ASSISTANCE_FUNDS)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", "请填写冲正原因。", field="reason")
    application_id = (
        payment.application_id
        if payment.application_id is not None
        else Payment.objects.filter(pk=payment.pk).values_list("application_id", flat=True).first()
    )
    if application_id is None:
        raise ServiceError("not_found", "该发放记录不存在或已被删除。")
    application = _lock_in_scope(Application(pk=application_id), actor, related=("org_unit", "round"))
    row = _lock_in_scope(payment, actor, related=("org_unit", "round"))
    if row.kind != PaymentKind.PAYMENT:
        raise ServiceError("not_a_payment", "冲正记录不能再冲正。", field="reason")
    if row.reversed_on is not None or Payment.objects.filter(reverses=row).exists():
        raise ServiceError("already_reversed", "该笔发放已冲正过。", field="reason")
    if on < row.created_on:
        raise ServiceError(
            "reverse_before_paid", f"冲正日期不能早于出账日期（{row.created_on}）。", field="on"
        )
    budgets = _covering_budgets(row.round, row.org_unit, lock=True)
    try:
        with transaction.atomic():
            Budget.objects.filter(pk__in=[b.pk for b in budgets]).update(spent=F("spent") - row.amount)
            reversal = Payment.objects.create(
                round=row.round,
                application=application,
                person_id=row.person_id,
                household_key=row.household_key,
                org_unit=row.org_unit,
                kind=PaymentKind.REVERSAL,
                amount=-row.amount,
                reverses=row,
                reason=reason[:300],
                created_on=on,
                paid_on=on,
                created_by=_actor_user(actor),
            )
            Payment.objects.filter(pk=row.pk).update(reversed_on=on)
    except IntegrityError:
        raise ServiceError("already_reversed", "该笔发放已冲正过。", field="reason") from None
    audit_created(
        actor=actor, instance=reversal, fields=("amount", "reason", "paid_on"), unit_path=row.org_unit.path
    )
    if application.status == ApplicationStatus.PAID:
        transition_run(
            instance=application,
            table=APPLICATION_WORKFLOW,
            action="reverse_payment",
            actor=actor,
            unit_path=_path_of,
            audit_fields=APPLICATION_AUDIT_FIELDS,
            related=("org_unit", "round"),
            note=f"发放已冲正（{reason[:100]}），待重新发放",
        )
    return reversal


# --- loans ---------------------------------------------------------------------------------------


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    import calendar

    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def instalment_schedule(
    principal: Decimal, count: int, first_due_on: datetime.date
) -> list[tuple[int, datetime.date, Decimal, Decimal]]:
    """(number, due_on, amount, cumulative): equal monthly amounts, the fen remainder on the last."""
    base = (principal / count).quantize(CENT, rounding=ROUND_DOWN)
    rows = []
    cumulative = Decimal(0)
    for number in range(1, count + 1):
        amount = base if number < count else principal - base * (count - 1)
        cumulative += amount
        rows.append((number, _add_months(first_due_on, number - 1), amount, cumulative))
    return rows


@transaction.atomic
def loan_grant(
    *,
    actor: Any,
    person: Any,
    org_unit: OrgUnit,
    principal: object,
    granted_on: datetime.date,
    instalment_count: int,
    first_due_on: datetime.date | None = None,
    hardship_file: HardshipFile | None = None,
    round: Round | None = None,
    purpose: str = "",
) -> Loan:
    _require(actor, Capability.MANAGE_ASSISTANCE_FUNDS)
    require_unit_in_scope(actor, org_unit)
    if person is None or getattr(person, "pk", None) is None:
        raise ServiceError("person_not_found", "该职工不在实名库中。", field="person")
    amount = money(principal, field_name="principal", label="借款金额", allow_zero=False)
    try:
        count = int(instalment_count)
    except (TypeError, ValueError):
        raise ServiceError("invalid_count", "期数应为整数。", field="instalment_count") from None
    if not 1 <= count <= 60:
        raise ServiceError(
            "invalid_count", f"期数应为 1–60 期（填写的是 {count}）。", field="instalment_count"
        )
    first = first_due_on or _add_months(granted_on, 1)
    if first <= granted_on:
        raise ServiceError("invalid_first_due", "首期还款日应晚于放款日期。", field="first_due_on")
    loan = Loan.objects.create(
        person=person,
        org_unit=org_unit,
        hardship_file=hardship_file,
        round=round,
        principal=amount,
        granted_on=granted_on,
        instalment_count=count,
        purpose=(purpose or "").strip()[:200],
    )
    Instalment.objects.bulk_create(
        [
            Instalment(loan=loan, number=n, due_on=due, amount=value, cumulative=total)
            for n, due, value, total in instalment_schedule(amount, count, first)
        ]
    )
    audit_created(actor=actor, instance=loan, fields=LOAN_AUDIT_FIELDS, unit_path=org_unit.path)
    return loan


def loan_repay(*, actor: Any, loan: Loan, amount: object, paid_on: datetime.date) -> Repayment:
    """A repayment (partial allowed); settles the loan when it reaches the principal."""
    _require(actor, Capability.HANDLE_ASSISTANCE)
    value = money(amount, field_name="amount", label="还款金额", allow_zero=False)
    with transaction.atomic():
        row = _lock_in_scope(loan, actor)
        if row.status not in (LoanStatus.ACTIVE, LoanStatus.WRITE_OFF_REQUESTED):
            raise ServiceError(
                "loan_closed", f"该借款{row.get_status_display()}，不能再还款。", field="amount"
            )
        if paid_on < row.granted_on:
            raise ServiceError(
                "repaid_before_granted", f"还款日期不能早于放款日期（{row.granted_on}）。", field="paid_on"
            )
        repaid = Repayment.objects.filter(loan=row).aggregate(total=Sum("amount"))["total"] or Decimal(0)
        balance = row.principal - repaid
        if value > balance:
            raise ServiceError(
                "over_repaid", f"还款金额 {value} 元超过了未还余额 {balance} 元。", field="amount"
            )
        repayment = Repayment.objects.create(
            loan=row, paid_on=paid_on, amount=value, recorded_by=_actor_user(actor)
        )
        audit_created(
            actor=actor, instance=repayment, fields=("paid_on", "amount"), unit_path=row.org_unit.path
        )
        if value == balance:
            transition_run(
                instance=row,
                table=LOAN_WORKFLOW,
                action="settle",
                actor=actor,
                unit_path=_path_of,
                audit_fields=LOAN_AUDIT_FIELDS,
                related=("org_unit",),
            )
        return repayment


def loan_write_off_request(*, actor: Any, loan: Loan, reason: str, version: int | None = None) -> Loan:
    _require(actor, Capability.HANDLE_ASSISTANCE)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", "请填写核销原因。", field="reason")
    return _scoped_step(
        loan,
        table=LOAN_WORKFLOW,
        action="request_write_off",
        actor=actor,
        audit_fields=LOAN_AUDIT_FIELDS,
        version=version,
        apply=lambda row, target: {"write_off_reason": reason[:300]},
    )


def loan_write_off_decide(
    *, actor: Any, loan: Loan, approve: bool, on: datetime.date, version: int | None = None
) -> Loan:
    """Approve (written off on ``on``) or reject (back to repaying) a write-off request. The requester may
    not approve their own request: funds staff decide."""
    _require(actor, Capability.MANAGE_ASSISTANCE_FUNDS)
    return _scoped_step(
        loan,
        table=LOAN_WORKFLOW,
        action="approve_write_off" if approve else "reject_write_off",
        actor=actor,
        audit_fields=LOAN_AUDIT_FIELDS,
        version=version,
        apply=lambda row, target: {"written_off_on": on} if approve else {"write_off_reason": ""},
    )


# --- discount bases ------------------------------------------------------------------------------


def _clean_base(data: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(data)
    for key, label in (("name", "名称"), ("address", "地址"), ("discount", "优惠内容")):
        value = (cleaned.get(key) or "").strip()
        if not value:
            raise ServiceError(f"{key}_required", f"请填写{label}。", field=key)
        cleaned[key] = value
    if cleaned.get("kind") not in BaseKind.values:
        by_label = {str(label): value for value, label in BaseKind.choices}
        if cleaned.get("kind") in by_label:
            cleaned["kind"] = by_label[cleaned["kind"]]
        else:
            raise ServiceError("invalid_kind", "类型应为 医院、药店、商店 或 其他。", field="kind")
    if not cleaned.get("valid_from"):
        raise ServiceError("valid_from_required", "请填写生效日期。", field="valid_from")
    if cleaned.get("valid_to") and cleaned["valid_to"] <= cleaned["valid_from"]:
        raise ServiceError(
            "dates_reversed",
            f"失效日期（{cleaned['valid_to']}）应晚于生效日期（{cleaned['valid_from']}）。",
            field="valid_to",
        )
    return cleaned


@transaction.atomic
def discount_base_create(
    *,
    actor: Any,
    org_unit: OrgUnit,
    name: str,
    kind: str,
    address: str,
    discount: str,
    valid_from: datetime.date,
    valid_to: datetime.date | None = None,
    phone: str = "",
) -> DiscountBase:
    _require(actor, Capability.HANDLE_ASSISTANCE)
    require_unit_in_scope(actor, org_unit)
    data = _clean_base(
        {
            "name": name,
            "kind": kind,
            "address": address,
            "discount": discount,
            "valid_from": valid_from,
            "valid_to": valid_to,
        }
    )
    base = DiscountBase.objects.create(org_unit=org_unit, phone=(phone or "").strip()[:30], **data)
    audit_created(actor=actor, instance=base, fields=BASE_AUDIT_FIELDS, unit_path=org_unit.path)
    return base


@transaction.atomic
def discount_base_update(
    *, actor: Any, base: DiscountBase, data: dict[str, Any], version: int | None = None
) -> DiscountBase:
    _require(actor, Capability.HANDLE_ASSISTANCE)
    row = _lock_in_scope(base, actor, version=version)
    editable = ("name", "kind", "address", "discount", "valid_from", "valid_to", "phone")
    merged = {key: data.get(key, getattr(row, key)) for key in editable}
    phone = (merged.pop("phone") or "").strip()[:30]
    cleaned = _clean_base(merged)
    before = audit_snapshot(row, BASE_AUDIT_FIELDS)
    for key, value in cleaned.items():
        setattr(row, key, value)
    row.phone = phone
    row.version += 1
    row.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=row,
        changes=audit_diff(before, audit_snapshot(row, BASE_AUDIT_FIELDS)),
        unit_path=row.org_unit.path,
    )
    return row
