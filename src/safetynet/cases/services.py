"""Every write to a case. Keyword-only, one transaction each, a timeline step and an audit row inside it.

Optimistic locking: a caller passes the ``version`` of the case it showed the user; the service locks the
row (``select_for_update``) and refuses with the code ``conflict`` when someone changed it in between, so
the second of two people editing at once learns it and loses nothing of what the first did. ``version``
None skips the check (system calls, and additive records such as a follow-up).

Who may act: staff whose role handles cases (see :func:`can_handle_cases`) at the unit the case is at now.
An upper level first pulls the case up (``case_pull_up``); a follow-up or a reopening may be recorded by any
handler who sees the case (a hotline at the city calls workers back).
"""

from __future__ import annotations

import datetime
import decimal
import functools
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, transaction
from django.db.models import Field, Model
from django.utils import timezone

from safetynet.accounts.models import Capability
from safetynet.cases import workflow
from safetynet.cases.deadlines import DeadlineRules
from safetynet.cases.models import (
    COLLECTIVE_MIN_WORKERS,
    LEVEL_LABELS,
    REFERRAL_OUTCOMES,
    REOPEN_WINDOW_DAYS,
    Case,
    CaseAttachment,
    CaseKind,
    CaseNumberCounter,
    CaseStatus,
    CaseStep,
    Category,
    Channel,
    DayKind,
    DeadlineRule,
    Difficulty,
    Escalation,
    EscalationReason,
    FollowUp,
    LegalAid,
    Notification,
    Outcome,
    OutcomeKind,
    StepAction,
)
from safetynet.cases.notifications import email_on_commit, notify, sms_on_commit
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditAction, AuditEntry
from safetynet.core.normalize import clean_free_text
from safetynet.core.scope import user_scope_path
from safetynet.core.services import (
    audit_created,
    audit_created_build,
    audit_diff,
    audit_record,
    audit_snapshot,
)
from safetynet.core.statements import database, statement_cursor
from safetynet.core.workflow import transition_run
from safetynet.orgs.models import PATH_SEPARATOR, Enterprise, OrgLevel, OrgUnit

CONFLICT_MESSAGE = "该案件已被他人修改，请刷新后再操作"
HEAD_ROLES = ("unit_admin",)
HANDLER_ROLES = ("operator", "unit_admin")


def can_handle_cases(user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser and user.org_unit_id is None:
        return True
    return user.can("handle_cases")


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


def _actor_name(actor: Any) -> str:
    if actor is None:
        return "系统"
    return getattr(actor, "full_name", "") or actor.get_username()


def _require_handler(actor: Any) -> None:
    if actor is not None and not can_handle_cases(actor):
        raise NotAllowed("您的角色不能办理诉求案件（查看人员只能查看）。")


def _require_visible(actor: Any, case: Case) -> None:
    if actor is not None and not Case.objects.visible_to(actor).filter(pk=case.pk).exists():
        raise OutOfScope("该案件不在您的管辖范围内。")


def _require_at_unit(actor: Any, case: Case) -> None:
    """The actor works at the unit handling the case now (a superuser without a unit may always act)."""
    _require_handler(actor)
    if actor is None or (actor.is_superuser and actor.org_unit_id is None):
        return
    _require_visible(actor, case)
    if actor.org_unit_id != case.unit_id:
        raise ServiceError(
            "not_at_level",
            f"该案件目前由{case.unit.name}（{LEVEL_LABELS[case.level]}）办理，您所在单位不能进行此操作；"
            "上级单位可先“提级办理”。",
        )


def _lock(case: Case, version: int | None) -> Case:
    """The case row locked for this transaction; a stale ``version`` is a conflict."""
    try:
        locked = Case.objects.select_for_update().select_related("unit", "origin_unit").get(pk=case.pk)
    except Case.DoesNotExist:
        raise ServiceError("not_found", "该案件不存在。") from None
    if version is not None and int(version) != locked.version:
        raise ServiceError("conflict", CONFLICT_MESSAGE, field="version")
    return locked


def _require_step(case: Case, action: str) -> None:
    """The workflow table (cases/workflow.py) allows ``action`` in the case's status, or says why not."""
    workflow.TABLE.check(case.status, action)


def _run(
    case: Case,
    *,
    actor: Any,
    action: str,
    version: int | None,
    guard: Callable[[Case], None],
    apply: Callable[[Case, str], dict[str, Any] | None],
    after: Callable[[Case, str, str], None],
    note: str | Callable[[Case, str, str], str],
    extra: Callable[[Case], dict[str, Any]] | None = None,
    target: str | None = None,
    audit_fields: tuple[str, ...] = (),
) -> Case:
    """One status-changing step through :func:`core.workflow.transition_run`: the row locked (a stale
    ``version`` is a conflict), ``guard`` (who may act), the table, ``apply``, the next version, ``after`` (the
    timeline step), and one audit row with the status change and ``extra`` (the reason, the outcome)."""
    return transition_run(
        instance=case,
        table=workflow.TABLE,
        action=action,
        actor=actor,
        unit_path=lambda row: row.origin_unit.path,
        audit_fields=audit_fields,
        version=version,
        target=target,
        related=("unit", "origin_unit"),
        guard=guard,
        apply=apply,
        after=after,
        note=note,
        audit_extra=(lambda row, from_status, to_status: extra(row)) if extra is not None else None,
        conflict=CONFLICT_MESSAGE,
        not_found="该案件不存在。",
    )


def _step(
    case: Case,
    *,
    actor: Any,
    action: str,
    at: datetime.datetime,
    from_unit: OrgUnit | None = None,
    to_unit: OrgUnit | None = None,
    reason: str = "",
    note: str = "",
) -> CaseStep:
    step = _step_build(
        case,
        actor=actor,
        action=action,
        at=at,
        from_unit=from_unit,
        to_unit=to_unit,
        reason=reason,
        note=note,
    )
    step.save(force_insert=True)
    return step


def _step_build(
    case: Case,
    *,
    actor: Any,
    action: str,
    at: datetime.datetime,
    from_unit: OrgUnit | None = None,
    to_unit: OrgUnit | None = None,
    reason: str = "",
    note: str = "",
) -> CaseStep:
    return CaseStep(
        case=case,
        at=at,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=_actor_name(actor),
        action=action,
        from_level=from_unit.level if from_unit else None,
        from_unit=from_unit,
        to_level=to_unit.level if to_unit else None,
        to_unit=to_unit,
        reason=reason[:200],
        note=note,
    )


def _save(case: Case, *, actor: Any, action_label: str, changes: dict[str, Any], fields: list[str]) -> None:
    """Save the changed fields with the next version, and write the audit row."""
    case.version += 1
    case.save(update_fields=[*fields, "version"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=case,
        changes=changes,
        unit_path=case.origin_unit.path,
        note=action_label,
    )


def _users_at(unit_ids: Iterable[int], roles: Iterable[str]) -> list[Any]:
    return list(
        get_user_model().objects.filter(org_unit_id__in=list(unit_ids), role__in=list(roles), is_active=True)
    )


def case_link(case: Case) -> str:
    return f"/cases/{case.pk}/"


def _move_to(
    case: Case, unit: OrgUnit, *, now: datetime.datetime, arrival: str, rules: DeadlineRules | None = None
) -> None:
    """The case reaches ``unit``: its level, a fresh deadline from now, nobody handling or reminded yet."""
    rules = rules or DeadlineRules()
    case.unit = unit
    case.level = unit.level
    case.level_since = now
    case.deadline = rules.deadline(
        level=unit.level, category=case.category, difficulty=case.difficulty, start=now
    )
    case.status = CaseStatus.NEW
    case.handler = None
    case.reminder_stage = 0
    case.breached = False
    case.arrival = arrival


MOVE_FIELDS = [
    "unit",
    "level",
    "level_since",
    "deadline",
    "status",
    "handler",
    "reminder_stage",
    "breached",
    "arrival",
]


# --- routing ------------------------------------------------------------------------------------------


def district_of(unit: OrgUnit) -> OrgUnit:
    """The district-level unit above (or at) ``unit``; the city itself for a unit directly under it."""
    if unit.level <= OrgLevel.DISTRICT:
        return unit
    ancestors = list(unit.ancestors())
    for ancestor in reversed(ancestors):
        if ancestor.level == OrgLevel.DISTRICT:
            return ancestor
    return ancestors[-1] if ancestors else unit


def route_unit(unit: OrgUnit, *, collective: bool) -> OrgUnit:
    """Where a new case starts: the enterprise's own unit (its community, or its street when it sits directly
    under one); a collective case at the enterprise's district."""
    return district_of(unit) if collective else unit


def next_case_number(*, unit_code: str, year: int) -> str:
    """``<unit code>-<year>-<sequence>``: the counter row is updated in place, so concurrent intakes queue."""
    quote = connection.ops.quote_name
    # One statement (UPDATE … RETURNING) rather than an update and a read: intake runs at 100 calls a second.
    increment = (
        f"UPDATE {quote(CaseNumberCounter._meta.db_table)} SET {quote('last')} = {quote('last')} + 1"
        f" WHERE {quote('unit_code')} = %s AND {quote('year')} = %s RETURNING {quote('last')}"
    )
    for _ in range(3):
        with statement_cursor() as cursor:
            cursor.execute(increment, [unit_code, year])
            row = cursor.fetchone()
        if row is None:
            try:
                with transaction.atomic():
                    CaseNumberCounter.objects.create(unit_code=unit_code, year=year, last=1)
            except IntegrityError:
                continue
            row = (1,)
        return f"{unit_code}-{year}-{row[0]:06d}"
    raise ServiceError("busy", "案件编号生成繁忙，请稍后重试。")


def _normalize_caller_phone(value: str) -> str:
    from safetynet.members.validation import normalize_phone

    try:
        return normalize_phone(value)
    except ValidationError as exc:
        raise ServiceError("invalid", exc.messages[0], field="caller_phone") from None


# A case ends with a follow-up call (回访), so whoever contacts us leaves a number to call back — an anonymous
# caller too (the intake form's hint: 匿名来电也须留回访电话). Only a signed letter (answered by post) and a
# referral (answered to the agency that sent it) may come without one.
PHONE_OPTIONAL_CHANNELS = frozenset({Channel.LETTER, Channel.REFERRAL})


def _require_caller_phone(*, channel: str, anonymous: bool, phone: str) -> None:
    if phone:
        return
    if anonymous:
        raise ServiceError(
            "required",
            "匿名来电须留回访电话（手机号或带区号的固定电话），否则办结后无法回访。",
            field="caller_phone",
        )
    if channel not in PHONE_OPTIONAL_CHANNELS:
        raise ServiceError(
            "required",
            f"请填写回访电话（手机号或带区号的固定电话）：{Channel(channel).label}诉求须留回访电话，"
            "以便办结后回访；只有署名的来信和转办案件可以不留。",
            field="caller_phone",
        )


def _encrypt_phone(case: Case, phone: str) -> None:
    from safetynet.members import crypto
    from safetynet.members.validation import mask_phone

    case.caller_phone_encrypted = crypto.encrypt(phone)
    case.caller_phone_hash = crypto.lookup_hash(phone)
    case.caller_phone_masked = mask_phone(phone)


def caller_phone(case: Case) -> str:
    """The call-back number in clear (only for a permitted view, which audits the reading)."""
    from safetynet.members import crypto

    return crypto.decrypt(case.caller_phone_encrypted)


def phone_lookup_hash(phone: str) -> str:
    from safetynet.members import crypto

    try:
        normalized = _normalize_caller_phone(phone)
    except ServiceError:
        return ""
    return crypto.lookup_hash(normalized)


# --- intake -------------------------------------------------------------------------------------------


# On PostgreSQL, an intake without attachments or related cases writes its rows in two statements (see
# _IntakeStatements); False writes them through the ORM, as on SQLite (the tests compare the two).
WRITE_INTAKE_AT_ONCE = True

# The choices intake checks, as sets made once (``TextChoices.values`` builds a list on every call).
INTAKE_CHOICES: dict[type, frozenset[str]] = {
    choices: frozenset(choices.values) for choices in (Channel, Category, Difficulty, CaseKind)
}

CREATE_AUDIT_FIELDS = [
    "number",
    "kind",
    "channel",
    "enterprise",
    "enterprise_name",
    "category",
    "claim_amount",
    "workers_involved",
    "collective",
    "status",
    "level",
    "unit",
    "deadline",
    "caller_phone_masked",
]


@transaction.atomic
def case_intake(
    *,
    actor: Any,
    channel: str,
    category: str,
    description: str,
    enterprise: Enterprise | None = None,
    enterprise_name: str = "",
    enterprise_address: str = "",
    unit: OrgUnit | None = None,
    workers_involved: int = 1,
    claim_amount: decimal.Decimal | int | str = 0,
    caller_phone: str = "",
    caller_name: str = "",
    caller_person: Any = None,
    anonymous: bool = False,
    difficulty: str = Difficulty.GENERAL,
    kind: str = CaseKind.DISPUTE,
    major: bool = False,
    attachments: Iterable[UploadedFile] = (),
    related_cases: Iterable[Case] = (),
    now: datetime.datetime | None = None,
    require_callback: bool = True,
) -> Case:
    """Register a call, visit, letter, online appeal or referral; it lands where the routing rule says.

    A call-back number is required (see ``PHONE_OPTIONAL_CHANNELS``); ``require_callback=False`` is only for
    a case the system makes out of others (并案), whose callers' numbers stay on the merged cases.

    ``related_cases`` (a repeat call about the same matter) are named in the intake step and in their own
    timelines, so whoever handles either sees the other."""
    _require_handler(actor)
    now = _now(now)
    if channel not in INTAKE_CHOICES[Channel]:
        raise ServiceError("invalid", "来源渠道不对。", field="channel")
    if category not in INTAKE_CHOICES[Category]:
        raise ServiceError("invalid", "诉求类别不对。", field="category")
    if difficulty not in INTAKE_CHOICES[Difficulty]:
        raise ServiceError("invalid", "难易程度不对。", field="difficulty")
    if kind not in INTAKE_CHOICES[CaseKind]:
        raise ServiceError("invalid", "案件类型不对。", field="kind")
    description = clean_free_text(description)
    if not description:
        raise ServiceError("required", "请填写诉求内容。", field="description")
    if workers_involved is None or int(workers_involved) < 1:
        raise ServiceError("invalid", "涉及人数至少为 1。", field="workers_involved")
    try:
        amount = decimal.Decimal(str(claim_amount or 0))
    except decimal.InvalidOperation:
        raise ServiceError("invalid", "涉及金额应为数字（元），如 12000.00。", field="claim_amount") from None
    if amount < 0:
        raise ServiceError("invalid", "涉及金额不能为负数。", field="claim_amount")
    phone = _normalize_caller_phone(caller_phone) if caller_phone else ""
    if require_callback:
        _require_caller_phone(channel=channel, anonymous=anonymous, phone=phone)
        # 网络工会 is like 网上 except that the worker files it themselves: name and phone come from their
        # verified account, so an officer cannot register a call or a visit under this channel.
        if channel == Channel.PLATFORM and caller_person is None:
            raise ServiceError(
                "invalid",
                "“网络工会”渠道的诉求由职工在网络工会自行提交；登记来电、来访、来信请选择对应的来源渠道。",
                field="channel",
            )
    if enterprise is not None:
        origin = enterprise.org_unit
        # Enterprise.objects.visible_to(actor)'s prefix rule, applied to the unit the API already loaded
        # with the enterprise (no second query per call).
        scope = user_scope_path(actor) if actor is not None else ""
        if scope is None or not origin.path.startswith(scope):
            raise OutOfScope("该企业不在您的管辖范围内。", field="enterprise")
    else:
        if not (enterprise_name or "").strip():
            raise ServiceError(
                "required", "请选择涉及企业，或在不知道信用代码时填写企业名称和地址。", field="enterprise"
            )
        origin = unit or (actor.org_unit if actor is not None else None)
        if origin is None:
            raise ServiceError("required", "企业不在名录中时，请选择属地单位。", field="unit")
        if actor is not None and not OrgUnit.objects.visible_to(actor).filter(pk=origin.pk).exists():
            raise OutOfScope("该单位不在您的管辖范围内。", field="unit")
    related = list(related_cases)
    for other in related:
        _require_visible(actor, other)
    collective = int(workers_involved) >= COLLECTIVE_MIN_WORKERS
    start = route_unit(origin, collective=collective)
    case = Case(
        number=next_case_number(unit_code=origin.code, year=timezone.localtime(now).year),
        kind=kind,
        channel=channel,
        caller_person=caller_person,
        caller_name="" if anonymous else (caller_name or "").strip(),
        anonymous=anonymous,
        enterprise=enterprise,
        enterprise_name=enterprise.name if enterprise else enterprise_name.strip(),
        enterprise_address=(enterprise.address if enterprise else enterprise_address).strip(),
        category=category,
        claim_amount=amount,
        workers_involved=int(workers_involved),
        description=description,
        difficulty=difficulty,
        collective=collective,
        major=major,
        origin_unit=origin,
        received_at=now,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    _encrypt_phone(case, phone)
    _move_to(case, start, now=now, arrival=StepAction.INTAKE)
    intake_note = (
        f"{case.get_channel_display()}登记"
        + ("；集体争议，直接由区级办理并上市级看板" if collective else "")
        + (f"；关联案件：{'、'.join(c.number for c in related)}" if related else "")
    )
    # Who is told: the handlers where the case starts and, for the city board, the city's heads.
    notices = [
        ([start.pk], HANDLER_ROLES, f"新诉求案件 {case.number}（{case.get_category_display()}）待受理")
    ]
    if case.on_city_board:
        notices.append(
            (
                [int(part) for part in start.path.split(PATH_SEPARATOR) if part][:1],
                ("city_admin", "unit_admin"),
                f"集体争议 {case.number}：{case.display_enterprise}，{case.workers_involved} 人，已上市级看板",
            )
        )
    if WRITE_INTAKE_AT_ONCE and connection.vendor == "postgresql" and not attachments and not related:
        # The same rows as below, in two statements instead of five and a user query (see _IntakeStatements).
        statements = _intake_statements(len(notices))
        statements.insert_case(case)
        statements.record(
            case,
            step=_step_build(
                case, actor=actor, action=StepAction.INTAKE, at=now, to_unit=start, note=intake_note
            ),
            audit=audit_created_build(
                actor=actor, instance=case, fields=CREATE_AUDIT_FIELDS, unit_path=origin.path
            ),
            notices=notices,
            now=now,
        )
        return case
    case.save()
    for upload in attachments:
        CaseAttachment.objects.create(
            case=case, file=upload, name=upload.name[:200], uploaded_at=now, uploaded_by=case.created_by
        )
    _step(case, actor=actor, action=StepAction.INTAKE, at=now, to_unit=start, note=intake_note)
    for other in related:
        _step(
            other,
            actor=actor,
            action=StepAction.INTAKE,
            at=now,
            reason="重复来电",
            note=f"关联新案件 {case.number}",
        )
    audit_created(actor=actor, instance=case, fields=CREATE_AUDIT_FIELDS, unit_path=origin.path)
    for unit_ids, roles, text in notices:
        notify(_users_at(unit_ids, roles), text, case=case, link=case_link(case), now=now)
    return case


def _insert_fields(model: type[Model]) -> list[Field]:
    """The columns Django's own INSERT writes: every concrete field but the automatic id."""
    meta = model._meta
    return [
        f
        for f in meta.local_concrete_fields
        if f is not meta.auto_field and not getattr(f, "generated", False)
    ]


class _InsertPart:
    """One table's INSERT: every column but the id, each a parameter taken from an instance and prepared as
    Django's INSERT prepares it (``pre_save``, ``get_db_prep_save``), unless ``computed`` gives it an SQL
    expression over the rows the INSERT selects from."""

    def __init__(self, model: type[Model], computed: dict[str, str] | None = None) -> None:
        self.computed = computed or {}
        self.fields = _insert_fields(model)
        quote = connection.ops.quote_name
        self.table = quote(model._meta.db_table)
        self.columns = ", ".join(quote(field.column) for field in self.fields)
        self.expressions = ", ".join(self.computed.get(field.name, "%s") for field in self.fields)
        self.into = f"INSERT INTO {self.table} ({self.columns})"

    def params(self, instance: Model) -> list[Any]:
        db = database()
        return [
            field.get_db_prep_save(field.pre_save(instance, True), db)
            for field in self.fields
            if field.name not in self.computed
        ]


class _IntakeStatements:
    """What the ORM path of case_intake writes, in two PostgreSQL statements written once per process (and
    number of notices): the case (INSERT … RETURNING id), then its first timeline step, its audit row and one
    notification per recipient, the recipients chosen inside the statement (data-modifying CTEs), which
    answers their email addresses. Through the ORM these were five statements and a user query, and compiling
    them took most of an intake's CPU. Both run through ``statement_cursor``: PostgreSQL prepares them once per
    connection. (Two, not one: psycopg keeps its parsing of a statement only up to 50 parameters, and the case
    alone has 42 columns.)"""

    def __init__(self, notices: int) -> None:
        quote = connection.ops.quote_name
        user_model = get_user_model()
        self.case = _InsertPart(Case)
        self.step = _InsertPart(CaseStep)
        self.audit = _InsertPart(AuditEntry)
        self.notice = _InsertPart(Notification, {"recipient": "r.id", "text": "r.text"})
        self.insert_case_sql = (
            f"{self.case.into} VALUES ({self.case.expressions}) RETURNING {quote(Case._meta.pk.column)}"
        )
        user = {
            name: quote(user_model._meta.get_field(name).column)
            for name in ("id", "email", "username", "org_unit", "role", "is_active")
        }
        recipients = " UNION ALL ".join(
            f"SELECT u.{user['id']} AS id, u.{user['email']} AS email, u.{user['username']} AS username,"
            f" {index} AS notice, CAST(%s AS TEXT) AS text FROM {quote(user_model._meta.db_table)} u"
            f" WHERE u.{user['org_unit']} = ANY(%s) AND u.{user['role']} = ANY(%s) AND u.{user['is_active']}"
            for index in range(notices)
        )
        self.record_sql = (
            f"WITH s AS ({self.step.into} VALUES ({self.step.expressions})),"
            f" a AS ({self.audit.into} VALUES ({self.audit.expressions})),"
            f" r AS ({recipients}),"
            f" n AS ({self.notice.into} SELECT {self.notice.expressions} FROM r ORDER BY r.notice, r.username)"
            " SELECT r.notice, r.email FROM r WHERE r.email <> '' ORDER BY r.notice, r.username"
        )

    def insert_case(self, case: Case) -> None:
        with statement_cursor() as cursor:
            cursor.execute(self.insert_case_sql, self.case.params(case))
            case.pk = cursor.fetchone()[0]
        case._state.adding = False
        case._state.db = DEFAULT_DB_ALIAS

    def record(
        self,
        case: Case,
        *,
        step: CaseStep,
        audit: AuditEntry,
        notices: list[tuple[list[int], tuple[str, ...], str]],
        now: datetime.datetime,
    ) -> None:
        """The step, the audit row and the notices of the saved ``case``. ``notices``: (unit ids, roles, text)
        — one notification to each active user with one of the roles at one of the units, in the order of the
        ORM's user list (by username), and its email copy on commit, as ``notify`` does."""
        params = self.step.params(step) + self.audit.params(audit)
        for unit_ids, roles, text in notices:
            params += [text[:300], list(unit_ids), list(roles)]
        link = case_link(case)
        params += self.notice.params(Notification(link=link, case=case, created_at=now))
        with statement_cursor() as cursor:
            cursor.execute(self.record_sql, params)
            rows = cursor.fetchall()
        for index, (_units, _roles, text) in enumerate(notices):
            email_on_commit(text, link, [email for notice, email in rows if notice == index])


@functools.cache
def _intake_statements(notices: int) -> _IntakeStatements:
    return _IntakeStatements(notices)


# --- handling at a level ------------------------------------------------------------------------------


@transaction.atomic
def case_accept(
    *,
    actor: Any,
    case: Case,
    version: int | None,
    difficulty: str | None = None,
    now: datetime.datetime | None = None,
) -> Case:
    """The level takes the case on; a collective case needs its leader in charge (领导包案) first."""
    now = _now(now)

    def apply(row: Case, to_status: str) -> dict[str, Any]:
        if row.collective and row.leader_id is None:
            raise ServiceError("leader_required", "集体争议须先指定包案领导，才能受理。", field="leader")
        values: dict[str, Any] = {
            "handler": actor if actor is not None and actor.is_authenticated else None,
            "accepted_at": row.accepted_at or now,
        }
        if difficulty and difficulty != row.difficulty:
            if difficulty not in Difficulty.values:
                raise ServiceError("invalid", "难易程度不对。", field="difficulty")
            values["difficulty"] = difficulty
            # The level's time follows its class (疑难 / 特别复杂 may have longer), still from arrival.
            values["deadline"] = DeadlineRules().deadline(
                level=row.level, category=row.category, difficulty=difficulty, start=row.level_since
            )
        return values

    return _run(
        case,
        actor=actor,
        action=StepAction.ACCEPT,
        version=version,
        guard=lambda row: _require_at_unit(actor, row),
        apply=apply,
        after=lambda row, from_status, to_status: _step(row, actor=actor, action=StepAction.ACCEPT, at=now),
        note="受理",
        audit_fields=("difficulty",),
    )


@transaction.atomic
def case_record_mediation_attempt(
    *, actor: Any, case: Case, version: int | None, note: str, now: datetime.datetime | None = None
) -> Case:
    now = _now(now)
    case = _lock(case, version)
    _require_at_unit(actor, case)
    _require_step(case, StepAction.MEDIATION_ATTEMPT)
    if not (note or "").strip():
        raise ServiceError("required", "请填写调解情况（时间、参加人、双方意见）。", field="note")
    _step(case, actor=actor, action=StepAction.MEDIATION_ATTEMPT, at=now, note=note.strip())
    _save(
        case,
        actor=actor,
        action_label="记录调解",
        changes={"mediation": [None, note.strip()[:200]]},
        fields=[],
    )
    return case


def _close(
    case: Case,
    *,
    actor: Any,
    kind: str,
    now: datetime.datetime,
    version: int | None,
    guard: Callable[[Case], None],
    check: Callable[[Case], None] = lambda row: None,
    agreement: str = "",
    amount_recovered: decimal.Decimal | int | str = 0,
    referred_to: str = "",
    note: str = "",
    action: str,
    steps: tuple[tuple[str, str, str], ...] = (),
    values: dict[str, Any] | None = None,
) -> Outcome:
    """Close the case at its level with an outcome (through the table's ``action``: 办结, 转出, 核查).

    ``check`` runs on the locked row once the table allowed the step (the step's own conditions); ``steps``
    are (action, reason, note) timeline entries written before the closing one (a passed verification)."""
    outcomes: list[Outcome] = []

    def apply(row: Case, to_status: str) -> dict[str, Any]:
        check(row)
        try:
            amount = decimal.Decimal(str(amount_recovered or 0))
        except decimal.InvalidOperation:
            raise ServiceError("invalid", "挽回金额应为数字（元）。", field="amount_recovered") from None
        if amount < 0:
            raise ServiceError("invalid", "挽回金额不能为负数。", field="amount_recovered")
        on_time = now <= row.deadline
        outcomes.append(
            Outcome.objects.create(
                case=row,
                kind=kind,
                agreement=agreement.strip(),
                amount_recovered=amount,
                referred_to=referred_to.strip(),
                note=note.strip(),
                decided_at=now,
                decided_by=actor if actor is not None and actor.is_authenticated else None,
                level=row.level,
                unit=row.unit,
                on_time=on_time,
            )
        )
        return {"closed_at": now, "outcome_kind": kind, "closed_on_time": on_time, **(values or {})}

    def after(row: Case, from_status: str, to_status: str) -> None:
        for step_action, reason, step_note in steps:
            _step(row, actor=actor, action=step_action, at=now, reason=reason, note=step_note)
        closing = StepAction.RESOLVE if action == StepAction.VERIFY else action
        _step(
            row, actor=actor, action=closing, at=now, reason=OutcomeKind(kind).label, note=note or agreement
        )

    closed = _run(
        case,
        actor=actor,
        action=action,
        version=version,
        target=CaseStatus.CLOSED,
        guard=guard,
        apply=apply,
        after=after,
        note=OutcomeKind(kind).label,
        extra=lambda row: {"outcome": [None, OutcomeKind(kind).label]},
    )
    phone = caller_phone(closed)
    if phone:
        sms_on_commit(phone, f"【12351】您反映的诉求（{closed.number}）已办结：{OutcomeKind(kind).label}。")
    return outcomes[0]


@transaction.atomic
def case_resolve(
    *,
    actor: Any,
    case: Case,
    version: int | None,
    kind: str,
    agreement: str = "",
    amount_recovered: decimal.Decimal | int | str = 0,
    note: str = "",
    now: datetime.datetime | None = None,
) -> Outcome:
    """Close the case at this level: mediated (with the agreement), withdrawn, or out of scope."""
    now = _now(now)

    def check(row: Case) -> None:
        if row.kind == CaseKind.HAZARD:
            raise ServiceError(
                "hazard_needs_verification",
                "隐患举报须在整改并经核查通过后才能办结，请先“责令整改”再“核查”。",
            )
        if kind in REFERRAL_OUTCOMES:
            raise ServiceError("use_refer_out", "转出其他机构请使用“转出”。", field="kind")
        if kind not in (OutcomeKind.MEDIATED, OutcomeKind.WITHDRAWN, OutcomeKind.OUT_OF_SCOPE):
            raise ServiceError("invalid", "办理结果不对。", field="kind")
        if kind == OutcomeKind.MEDIATED:
            if row.status == CaseStatus.NEW:
                raise ServiceError("not_accepted", f"案件{row.number}尚未受理，请先受理。")
            if not (agreement or "").strip():
                raise ServiceError("required", "调解成功须填写调解协议内容。", field="agreement")

    return _close(
        case,
        actor=actor,
        kind=kind,
        now=now,
        version=version,
        guard=lambda row: _require_at_unit(actor, row),
        check=check,
        agreement=agreement or "",
        amount_recovered=amount_recovered,
        note=note or "",
        action=StepAction.RESOLVE,
    )


@transaction.atomic
def case_refer_out(
    *,
    actor: Any,
    case: Case,
    version: int | None,
    kind: str,
    referred_to: str = "",
    note: str = "",
    now: datetime.datetime | None = None,
) -> Outcome:
    """Refer to arbitration, a court, labour inspection or the petition office; the case closes here."""
    now = _now(now)

    def check(row: Case) -> None:
        if kind not in REFERRAL_OUTCOMES:
            raise ServiceError(
                "invalid", "转出去向应为劳动仲裁、人民法院、劳动监察或信访部门。", field="kind"
            )

    return _close(
        case,
        actor=actor,
        kind=kind,
        now=now,
        version=version,
        guard=lambda row: _require_at_unit(actor, row),
        check=check,
        referred_to=referred_to or (OutcomeKind(kind).label if kind in OutcomeKind.values else ""),
        note=note or "",
        action=StepAction.REFER_OUT,
    )


def _escalate(
    case: Case,
    *,
    actor: Any,
    version: int | None,
    guard: Callable[[Case], None],
    destination: Callable[[Case], OrgUnit],
    reason: str,
    note: str,
    now: datetime.datetime,
    action: str,
) -> Case:
    """Move the case up to ``destination(row)`` (hand-up, pull-up), recording the escalation and its step."""
    moved: list[tuple[OrgUnit, OrgUnit]] = []

    def apply(row: Case, to_status: str) -> None:
        from_unit, to_unit = row.unit, destination(row)
        moved.append((from_unit, to_unit))
        Escalation.objects.create(
            case=row,
            at=now,
            reason=reason,
            from_level=from_unit.level,
            from_unit=from_unit,
            to_level=to_unit.level,
            to_unit=to_unit,
            actor=actor if actor is not None and actor.is_authenticated else None,
            note=note,
        )
        _move_to(row, to_unit, now=now, arrival=action)

    def after(row: Case, from_status: str, to_status: str) -> None:
        from_unit, to_unit = moved[0]
        _step(
            row,
            actor=actor,
            action=action,
            at=now,
            from_unit=from_unit,
            to_unit=to_unit,
            reason=EscalationReason(reason).label,
            note=note,
        )

    case = _run(
        case,
        actor=actor,
        action=action,
        version=version,
        guard=guard,
        apply=apply,
        after=after,
        note=StepAction(action).label,
        extra=lambda row: {"unit": [moved[0][0].name, moved[0][1].name], "reason": [None, note[:200]]},
    )
    from_unit, to_unit = moved[0]
    notify(
        _users_at([to_unit.pk], HANDLER_ROLES),
        f"案件 {case.number} 已由{from_unit.name}{StepAction(action).label}至本单位，请受理",
        case=case,
        link=case_link(case),
        now=now,
    )
    return case


@transaction.atomic
def case_hand_up(
    *, actor: Any, case: Case, version: int | None, reason: str, now: datetime.datetime | None = None
) -> Case:
    """This level could not resolve it: the case goes one level up with its whole file."""
    now = _now(now)

    def upward(row: Case) -> OrgUnit:
        if not (reason or "").strip():
            raise ServiceError("required", "请写明上交原因（如调解不成的情况）。", field="reason")
        if row.unit.parent_id is None:
            raise ServiceError("at_top", "市级是最高层级，不能再上交；请办结或转出。")
        return row.unit.parent

    return _escalate(
        case,
        actor=actor,
        version=version,
        guard=lambda row: _require_at_unit(actor, row),
        destination=upward,
        reason=EscalationReason.FAILED,
        note=(reason or "").strip(),
        now=now,
        action=StepAction.HAND_UP,
    )


@transaction.atomic
def case_pull_up(
    *, actor: Any, case: Case, version: int | None, reason: str = "", now: datetime.datetime | None = None
) -> Case:
    """An upper level takes the case over (提级办理): it moves to the actor's unit."""
    now = _now(now)

    def guard(row: Case) -> None:
        _require_handler(actor)
        _require_visible(actor, row)

    def to_actor_unit(row: Case) -> OrgUnit:
        target = getattr(actor, "org_unit", None)
        if target is None or not row.unit.path.startswith(target.path) or target.pk == row.unit_id:
            raise ServiceError("not_above", "只有当前办理单位的上级单位才能提级办理。")
        return target

    return _escalate(
        case,
        actor=actor,
        version=version,
        guard=guard,
        destination=to_actor_unit,
        reason=EscalationReason.PULLED_UP,
        note=(reason or "").strip(),
        now=now,
        action=StepAction.PULL_UP,
    )


@transaction.atomic
def case_send_down(
    *, actor: Any, case: Case, version: int | None, instructions: str, now: datetime.datetime | None = None
) -> Case:
    """Send the case one level back down, towards where it started, with instructions (交办)."""
    now = _now(now)
    text = (instructions or "").strip()
    moved: list[tuple[OrgUnit, OrgUnit]] = []

    def apply(row: Case, to_status: str) -> None:
        if not text:
            raise ServiceError("required", "请写明交办意见。", field="instructions")
        chain = [int(part) for part in row.origin_unit.path.split(PATH_SEPARATOR) if part]
        if row.unit_id not in chain or chain[-1] == row.unit_id:
            raise ServiceError("at_bottom", "案件已在属地最基层单位，不能再交办下级。")
        target = OrgUnit.objects.get(pk=chain[chain.index(row.unit_id) + 1])
        if row.collective and target.level > OrgLevel.DISTRICT:
            raise ServiceError("collective_level", "集体争议须由区级及以上单位办理，不能交办街道或社区。")
        moved.append((row.unit, target))
        _move_to(row, target, now=now, arrival=StepAction.SEND_DOWN)

    def after(row: Case, from_status: str, to_status: str) -> None:
        from_unit, target = moved[0]
        _step(
            row,
            actor=actor,
            action=StepAction.SEND_DOWN,
            at=now,
            from_unit=from_unit,
            to_unit=target,
            note=text,
        )

    case = _run(
        case,
        actor=actor,
        action=StepAction.SEND_DOWN,
        version=version,
        guard=lambda row: _require_at_unit(actor, row),
        apply=apply,
        after=after,
        note="交办下级",
        extra=lambda row: {"unit": [moved[0][0].name, moved[0][1].name], "instructions": [None, text[:200]]},
    )
    from_unit, target = moved[0]
    notify(
        _users_at([target.pk], HANDLER_ROLES),
        f"{from_unit.name}交办案件 {case.number}：{text[:80]}",
        case=case,
        link=case_link(case),
        now=now,
    )
    return case


@transaction.atomic
def case_assign_leader(
    *, actor: Any, case: Case, version: int | None, leader: Any, now: datetime.datetime | None = None
) -> Case:
    """领导包案: a named leader at the handling unit or above answers for the case."""
    now = _now(now)
    case = _lock(case, version)
    _require_at_unit(actor, case)
    _require_step(case, StepAction.ASSIGN_LEADER)
    leader_unit = getattr(leader, "org_unit", None)
    if (
        leader is None
        or not leader.is_active
        or leader_unit is None
        or not case.unit.path.startswith(leader_unit.path)
    ):
        raise ServiceError("invalid", "包案领导须是本级或上级单位的在职人员。", field="leader")
    before = str(case.leader) if case.leader_id else None
    case.leader = leader
    _step(case, actor=actor, action=StepAction.ASSIGN_LEADER, at=now, note=f"包案领导：{leader}")
    _save(
        case,
        actor=actor,
        action_label="领导包案",
        changes={"leader": [before, str(leader)]},
        fields=["leader"],
    )
    notify([leader], f"您已被指定为案件 {case.number} 的包案领导", case=case, link=case_link(case), now=now)
    return case


def _require_merge_step(case: Case, *, field: str = "cases") -> None:
    """Merging asks the table like any step; the refusal names the case, as several are merged at once."""
    try:
        _require_step(case, StepAction.MERGE)
    except ServiceError as error:
        raise ServiceError(error.code, f"案件{case.number}：{error.message}", field=field) from None


@transaction.atomic
def case_merge_into_collective(
    *,
    actor: Any,
    cases: list[Case],
    collective: Case | None = None,
    versions: dict[int, int] | None = None,
    now: datetime.datetime | None = None,
) -> Case:
    """Link individual cases of one enterprise and category into a collective case (a new one when none is
    given: its workers are the sum, at least 10). The merged cases close as 已并案 and point to it."""
    now = _now(now)
    _require_handler(actor)
    versions = versions or {}
    ids = sorted({c.pk for c in cases} | ({collective.pk} if collective else set()))
    # Lock in id order, so two merges over overlapping cases never deadlock.
    locked = {
        c.pk: c
        for c in Case.objects.select_for_update()
        .select_related("unit", "origin_unit")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    for pk, version in versions.items():
        if pk in locked and int(version) != locked[pk].version:
            raise ServiceError("conflict", CONFLICT_MESSAGE, field="version")
    members = [locked[c.pk] for c in cases if collective is None or c.pk != collective.pk]
    if not members:
        raise ServiceError("required", "请选择要并案的个案。", field="cases")
    for member in members:
        _require_visible(actor, member)
        _require_merge_step(member)
        if member.collective:
            raise ServiceError("invalid", f"案件{member.number}本身是集体争议，不能并入。", field="cases")
    first = members[0]
    if (
        any(m.enterprise_id != first.enterprise_id or m.category != first.category for m in members)
        or first.enterprise_id is None
    ):
        raise ServiceError("invalid", "只能合并同一企业、同一类别的案件。", field="cases")
    if collective is not None:
        target = locked[collective.pk]
        _require_visible(actor, target)
        _require_merge_step(target, field="collective")
        if not target.collective:
            raise ServiceError("invalid", f"案件{target.number}不是集体争议。", field="collective")
        if target.enterprise_id != first.enterprise_id or target.category != first.category:
            raise ServiceError("invalid", "集体争议与个案须是同一企业、同一类别。", field="collective")
    else:
        workers = sum(m.workers_involved for m in members)
        if workers < COLLECTIVE_MIN_WORKERS:
            raise ServiceError(
                "not_collective",
                f"合并后涉及 {workers} 人，不足 {COLLECTIVE_MIN_WORKERS} 人，不构成集体争议。",
            )
        target = case_intake(
            actor=actor,
            channel=first.channel,
            category=first.category,
            description="并案：" + "；".join(f"{m.number} {m.description[:40]}" for m in members),
            enterprise=first.enterprise,
            workers_involved=workers,
            claim_amount=sum((m.claim_amount for m in members), decimal.Decimal(0)),
            difficulty=first.difficulty,
            now=now,
            require_callback=False,
        )
    for member in members:
        before = member.get_status_display()
        member.status = workflow.TABLE.target(member.status, StepAction.MERGE)
        member.merged_into = target
        member.closed_at = now
        _step(member, actor=actor, action=StepAction.MERGE, at=now, note=f"并入集体争议 {target.number}")
        _save(
            member,
            actor=actor,
            action_label="并案",
            changes={"status": [before, CaseStatus.MERGED.label], "merged_into": [None, target.number]},
            fields=["status", "merged_into", "closed_at"],
        )
    _step(
        target,
        actor=actor,
        action=StepAction.MERGE,
        at=now,
        note="并入个案：" + "、".join(m.number for m in members),
    )
    return target


@transaction.atomic
def case_record_legal_aid(
    *,
    actor: Any,
    case: Case,
    lawyer: str,
    hours: decimal.Decimal | int | str,
    given_on: datetime.date,
    law_firm: str = "",
    note: str = "",
    version: int | None = None,
    now: datetime.datetime | None = None,
) -> LegalAid:
    now = _now(now)
    case = _lock(case, version)
    _require_handler(actor)
    _require_visible(actor, case)
    _require_step(case, StepAction.LEGAL_AID)
    if not (lawyer or "").strip():
        raise ServiceError("required", "请填写提供法律援助的律师。", field="lawyer")
    try:
        amount = decimal.Decimal(str(hours))
    except decimal.InvalidOperation:
        raise ServiceError("invalid", "服务时长应为数字（小时）。", field="hours") from None
    if amount <= 0:
        raise ServiceError("invalid", "服务时长应大于 0。", field="hours")
    aid = LegalAid.objects.create(
        case=case,
        lawyer=lawyer.strip(),
        law_firm=(law_firm or "").strip(),
        hours=amount,
        given_on=given_on,
        note=(note or "").strip(),
        recorded_by=actor if actor is not None and actor.is_authenticated else None,
    )
    _step(
        case,
        actor=actor,
        action=StepAction.LEGAL_AID,
        at=now,
        note=f"{aid.lawyer} {aid.law_firm} {amount} 小时",
    )
    _save(
        case,
        actor=actor,
        action_label="法律援助",
        changes={"legal_aid": [None, f"{aid.lawyer} {amount}h"]},
        fields=[],
    )
    return aid


@transaction.atomic
def case_record_follow_up(
    *,
    actor: Any,
    case: Case,
    satisfaction: int,
    note: str = "",
    version: int | None = None,
    now: datetime.datetime | None = None,
) -> FollowUp:
    """回访: the worker was called back after the outcome; satisfaction from 1 (very unhappy) to 5."""
    now = _now(now)
    case = _lock(case, version)
    _require_handler(actor)
    _require_visible(actor, case)
    _require_step(case, StepAction.FOLLOW_UP)
    try:
        score = int(satisfaction)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ServiceError("invalid", "满意度应为 1 到 5 的整数（5 为非常满意）。", field="satisfaction")
    follow_up = FollowUp.objects.create(
        case=case,
        at=now,
        by=actor if actor is not None and actor.is_authenticated else None,
        satisfaction=score,
        note=(note or "").strip(),
    )
    _step(
        case, actor=actor, action=StepAction.FOLLOW_UP, at=now, reason=f"满意度 {score}", note=follow_up.note
    )
    _save(case, actor=actor, action_label="回访", changes={"satisfaction": [None, score]}, fields=[])
    return follow_up


@transaction.atomic
def case_reopen(
    *, actor: Any, case: Case, version: int | None, reason: str, now: datetime.datetime | None = None
) -> Case:
    """The agreement was not honoured: reopen within 30 days of the outcome, at the level that decided it."""
    now = _now(now)
    text = (reason or "").strip()
    units: list[OrgUnit] = []

    def guard(row: Case) -> None:
        _require_handler(actor)
        _require_visible(actor, row)

    def apply(row: Case, to_status: str) -> dict[str, Any]:
        if not text:
            raise ServiceError("required", "请写明重新办理的原因（如协议未履行）。", field="reason")
        outcome = row.outcomes.order_by("-decided_at", "-pk").first()
        decided_at = outcome.decided_at if outcome else row.closed_at
        if decided_at is None or now - decided_at > datetime.timedelta(days=REOPEN_WINDOW_DAYS):
            raise ServiceError(
                "reopen_window_passed",
                f"办结已超过 {REOPEN_WINDOW_DAYS} 天，不能重新办理；请作为新诉求登记并关联原案件。",
            )
        unit = outcome.unit if outcome else row.unit
        units.append(unit)
        _move_to(row, unit, now=now, arrival=StepAction.REOPEN)
        return {"closed_at": None, "outcome_kind": "", "closed_on_time": None}

    case = _run(
        case,
        actor=actor,
        action=StepAction.REOPEN,
        version=version,
        guard=guard,
        apply=apply,
        after=lambda row, from_status, to_status: _step(
            row, actor=actor, action=StepAction.REOPEN, at=now, to_unit=units[0], reason=text
        ),
        note="重新办理",
        extra=lambda row: {"reason": [None, text[:200]]},
    )
    notify(
        _users_at([units[0].pk], HANDLER_ROLES),
        f"案件 {case.number} 重新办理：{text[:80]}",
        case=case,
        link=case_link(case),
        now=now,
    )
    return case


@transaction.atomic
def case_attach(
    *, actor: Any, case: Case, files: Iterable[UploadedFile], now: datetime.datetime | None = None
) -> list[CaseAttachment]:
    now = _now(now)
    case = _lock(case, None)
    _require_handler(actor)
    _require_visible(actor, case)
    _require_step(case, StepAction.ATTACH)
    rows = [
        CaseAttachment.objects.create(
            case=case,
            file=upload,
            name=upload.name[:200],
            uploaded_at=now,
            uploaded_by=actor if actor is not None and actor.is_authenticated else None,
        )
        for upload in files
    ]
    if rows:
        _step(case, actor=actor, action=StepAction.ATTACH, at=now, note="、".join(r.name for r in rows))
        _save(
            case, actor=actor, action_label="上传附件", changes={"attachments": [None, len(rows)]}, fields=[]
        )
    return rows


# --- hazard reports -----------------------------------------------------------------------------------


@transaction.atomic
def hazard_assign_rectification(
    *,
    actor: Any,
    case: Case,
    version: int | None,
    owner: str,
    deadline: datetime.datetime,
    note: str = "",
    now: datetime.datetime | None = None,
) -> Case:
    """A person at the enterprise is made responsible for rectifying by a deadline. The level's time becomes
    that deadline, so an overdue rectification is handed up by the sweep like any overdue case."""
    now = _now(now)
    responsible = (owner or "").strip()

    def apply(row: Case, to_status: str) -> dict[str, Any]:
        if row.kind != CaseKind.HAZARD:
            raise ServiceError("not_hazard", "只有隐患举报需要责令整改。")
        if not responsible:
            raise ServiceError("required", "请填写企业的整改责任人。", field="owner")
        if deadline is None or deadline <= now:
            raise ServiceError("invalid", "整改期限应晚于现在。", field="deadline")
        return {
            "rectification_owner": responsible,
            "rectification_deadline": deadline,
            "deadline": deadline,
            "reminder_stage": 0,
            "handler": row.handler or (actor if actor is not None and actor.is_authenticated else None),
            "accepted_at": row.accepted_at or now,
        }

    def after(row: Case, from_status: str, to_status: str) -> None:
        _step(
            row,
            actor=actor,
            action=StepAction.RECTIFICATION,
            at=now,
            note=f"整改责任人：{responsible}；期限：{timezone.localtime(deadline):%Y-%m-%d %H:%M}"
            + (f"；{note.strip()}" if note else ""),
        )

    return _run(
        case,
        actor=actor,
        action=StepAction.RECTIFICATION,
        version=version,
        guard=lambda row: _require_at_unit(actor, row),
        apply=apply,
        after=after,
        note="责令整改",
        audit_fields=("rectification_owner", "rectification_deadline"),
    )


@transaction.atomic
def hazard_verify(
    *,
    actor: Any,
    case: Case,
    version: int | None,
    passed: bool,
    note: str = "",
    now: datetime.datetime | None = None,
) -> Case:
    """A labour-protection supervisor or officer checks the fix: passed closes the report, failed sends it
    back to rectification (a new owner or deadline is then set)."""
    now = _now(now)
    text = (note or "").strip()

    def guard(row: Case) -> None:
        _require_handler(actor)
        _require_visible(actor, row)
        if row.kind != CaseKind.HAZARD:
            raise ServiceError("not_rectifying", "只有正在整改的隐患举报才能核查。")

    def check(row: Case) -> None:
        actor_unit = getattr(actor, "org_unit", None)
        if actor is not None and actor_unit is not None and not row.unit.path.startswith(actor_unit.path):
            raise ServiceError("not_at_level", "核查须由当前办理单位或其上级单位的人员进行。")
        if not text:
            raise ServiceError("required", "请填写核查情况（现场检查结果、核查人）。", field="note")

    verified = {
        "verified_by": actor if actor is not None and actor.is_authenticated else None,
        "verified_at": now,
    }
    if passed:
        outcome = _close(
            case,
            actor=actor,
            kind=OutcomeKind.RECTIFIED,
            now=now,
            version=version,
            guard=guard,
            check=check,
            note=text,
            action=StepAction.VERIFY,
            steps=((StepAction.VERIFY, "核查通过", text),),
            values=verified,
        )
        return outcome.case

    def apply(row: Case, to_status: str) -> dict[str, Any]:
        check(row)
        return verified

    return _run(
        case,
        actor=actor,
        action=StepAction.VERIFY,
        version=version,
        target=CaseStatus.IN_PROGRESS,
        guard=guard,
        apply=apply,
        after=lambda row, from_status, to_status: _step(
            row, actor=actor, action=StepAction.VERIFY, at=now, reason="核查未通过", note=text
        ),
        note="整改核查未通过",
    )


# --- in-app notifications (the signed-in user's own inbox) --------------------------------------------


@transaction.atomic
def notification_mark_read(*, actor: Any, notification_ids: Iterable[int | str] | None = None) -> int:
    """Mark the actor's notifications read: the named ones, or every unread one when none are named.

    A notification belongs to its recipient alone: naming one of somebody else's (or one that does not exist)
    refuses the whole call as "not found" (404), so nobody learns what others were told. Returns how many
    changed. No audit row: a read mark is the person's own inbox state, not a change others rely on.
    """
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAllowed("请先登录。")
    own = Notification.objects.filter(recipient=actor)
    if notification_ids is None:
        return own.filter(read=False).update(read=True)
    try:
        wanted = {int(value) for value in notification_ids}
    except (TypeError, ValueError):
        raise OutOfScope("未找到该通知，或不是发给您的。", field="notification") from None
    if not wanted:
        raise ServiceError("required", "请选择要标为已读的通知。", field="notification")
    found = set(own.filter(pk__in=wanted).values_list("pk", flat=True))
    if found != wanted:
        raise OutOfScope("未找到该通知，或不是发给您的。", field="notification")
    return own.filter(pk__in=wanted, read=False).update(read=True)


# --- deadline rules (办理期限规则) ---------------------------------------------------------------------

MAX_RULE_DAYS = 365
RULE_AUDIT_FIELDS = ["level", "category", "difficulty", "days", "day_kind"]


def can_edit_deadline_rules(user: Any) -> bool:
    """Rules are one table for the whole city, so only an administrator of the city itself changes them.

    The capability is ``edit_units`` (维护区域单位): how long each of the four levels has is part of running
    the four-level structure, and it is held by administrators only (city and unit admins), never by
    operators, who handle cases under the rules (``handle_cases``) but should not set their own deadlines.
    A district's unit admin has it too, hence the city-level condition.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser and user.org_unit_id is None:
        return True
    return bool(user.can(Capability.EDIT_UNITS) and user.org_unit_id and user.org_unit.parent_id is None)


def _require_rule_editor(actor: Any) -> None:
    if actor is not None and not can_edit_deadline_rules(actor):
        raise NotAllowed("只有市级管理员可以设置办理期限规则。")


def _rules_audit_path(actor: Any) -> str:
    """The audit rows go to the city (the rules apply to every unit under it)."""
    unit = getattr(actor, "org_unit", None) if actor is not None else None
    if unit is None:
        unit = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    return unit.path if unit is not None else ""


def _clean_rule(
    *, level: Any, category: str, difficulty: str, days: Any, day_kind: str, exclude_pk: int | None = None
) -> dict[str, Any]:
    try:
        level = int(level)
    except (TypeError, ValueError):
        level = None
    if level not in LEVEL_LABELS:
        raise ServiceError("invalid", "请选择层级：社区级、街道级、区级或市级。", field="level")
    category = category or ""
    if category and category not in Category.values:
        raise ServiceError("invalid", "诉求类别不对，请从列表中选择（留空表示全部类别）。", field="category")
    difficulty = difficulty or ""
    if difficulty and difficulty not in Difficulty.values:
        raise ServiceError("invalid", "难易程度不对，请从列表中选择（留空表示全部）。", field="difficulty")
    if day_kind not in DayKind.values:
        raise ServiceError("invalid", "计算方式应为自然日或工作日。", field="day_kind")
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise ServiceError("invalid", "期限天数应为整数，如 15。", field="days") from None
    if not 1 <= days <= MAX_RULE_DAYS:
        raise ServiceError(
            "invalid", f"期限天数应在 1 到 {MAX_RULE_DAYS} 之间（收到 {days}）。", field="days"
        )
    clash = DeadlineRule.objects.filter(level=level, category=category, difficulty=difficulty)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        scope = "、".join(
            [
                LEVEL_LABELS[level],
                Category(category).label if category else "全部类别",
                Difficulty(difficulty).label if difficulty else "全部难易程度",
            ]
        )
        raise ServiceError(
            "duplicate", f"已有一条“{scope}”的规则，请编辑那一条，不要重复新增。", field="category"
        )
    return {
        "level": level,
        "category": category,
        "difficulty": difficulty,
        "days": days,
        "day_kind": day_kind,
    }


def _locked_rule(rule: DeadlineRule) -> DeadlineRule:
    try:
        return DeadlineRule.objects.select_for_update().get(pk=rule.pk)
    except DeadlineRule.DoesNotExist:
        raise ServiceError("not_found", "该期限规则已被删除。") from None


@transaction.atomic
def deadline_rule_create(
    *,
    actor: Any,
    level: int,
    days: int,
    category: str = "",
    difficulty: str = "",
    day_kind: str = DayKind.CALENDAR,
) -> DeadlineRule:
    """A new rule. It applies to the deadlines set from now on (a case keeps the deadline it has)."""
    _require_rule_editor(actor)
    values = _clean_rule(level=level, category=category, difficulty=difficulty, days=days, day_kind=day_kind)
    rule = DeadlineRule.objects.create(**values)
    audit_created(
        actor=actor,
        instance=rule,
        fields=RULE_AUDIT_FIELDS,
        unit_path=_rules_audit_path(actor),
        note="新增期限规则",
    )
    return rule


@transaction.atomic
def deadline_rule_update(
    *,
    actor: Any,
    rule: DeadlineRule,
    level: int,
    days: int,
    category: str = "",
    difficulty: str = "",
    day_kind: str = DayKind.CALENDAR,
) -> DeadlineRule:
    _require_rule_editor(actor)
    rule = _locked_rule(rule)
    values = _clean_rule(
        level=level,
        category=category,
        difficulty=difficulty,
        days=days,
        day_kind=day_kind,
        exclude_pk=rule.pk,
    )
    before = audit_snapshot(rule, RULE_AUDIT_FIELDS)
    for name, value in values.items():
        setattr(rule, name, value)
    changes = audit_diff(before, audit_snapshot(rule, RULE_AUDIT_FIELDS))
    if changes:
        rule.save(update_fields=RULE_AUDIT_FIELDS)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=rule,
            changes=changes,
            unit_path=_rules_audit_path(actor),
            note="修改期限规则",
        )
    return rule


@transaction.atomic
def deadline_rule_delete(*, actor: Any, rule: DeadlineRule) -> None:
    """Remove a rule: the cases it matched fall back to the next rule (or to 15 calendar days)."""
    _require_rule_editor(actor)
    rule = _locked_rule(rule)
    before = audit_snapshot(rule, RULE_AUDIT_FIELDS)
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        instance=rule,
        changes={name: [value, None] for name, value in before.items() if value not in (None, "")},
        unit_path=_rules_audit_path(actor),
        note="删除期限规则",
    )
    rule.delete()
