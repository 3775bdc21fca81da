"""网络工会（职工服务平台）: every write.

A worker acts for themselves, never as staff: the registry, case and card services are called with
``actor=None`` (the system) only for what the worker may do to their own records, with the worker named in
the audit note; decisions about others' records (a join approval) are taken by a staff actor with its
capability and scope checked by the members services.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from safetynet.assistance import selectors as assistance_selectors
from safetynet.assistance import services as assistance_services
from safetynet.assistance.models import Application, EvidenceKind, HardshipFile, Round, RoundStatus
from safetynet.cases import services as case_services
from safetynet.cases.models import OPEN_STATUSES, Case, CaseStatus, Category, Channel
from safetynet.cases.notifications import notify as notify_staff
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditAction
from safetynet.core.normalize import clean_free_text
from safetynet.core.services import audit_created, audit_record
from safetynet.core.workflow import Transition, TransitionTable, transition_run
from safetynet.members import crypto
from safetynet.members import services as member_services
from safetynet.members.models import CardStatus, Employment, MemberCard, Membership, Person
from safetynet.members.validation import IdNumberError, clean_person_name, mask_phone, normalize_phone
from safetynet.orgs.models import Enterprise, GrassrootsUnion, OrgUnit, UnionCoverage, active_on_q
from safetynet.portal import ratelimit
from safetynet.portal.models import (
    AppealMessage,
    AppealRating,
    JoinAction,
    JoinApplication,
    JoinStatus,
    Notice,
    SmsCode,
    SmsPurpose,
    WorkerAccount,
    WorkerNotification,
)
from safetynet.portal.sms import gateway

logger = logging.getLogger(__name__)

PRIVACY_NOTICE_VERSION = "2026-12"
SMS_CODE_MINUTES = 10
SMS_CODE_MAX_ATTEMPTS = 5
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
# Extension → the bytes such a file starts with (a renamed program is refused).
ATTACHMENT_TYPES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
}
# One answer for "no such person", "wrong name" and "already linked": a stranger learns nothing.
NO_MATCH_MESSAGE = (
    "未能核验您的身份：姓名与证件号码未能与职工登记信息匹配。请核对后重试；"
    "如确认无误，可能是单位尚未为您登记，请联系所在企业工会或社区工会。"
)
LOGIN_FAILED_MESSAGE = "手机号或密码不正确。"
# The one answer to a password-reset request, registered number or not (no account enumeration).
RESET_SENT_MESSAGE = f"如果该手机号已注册，验证码已发送，{SMS_CODE_MINUTES} 分钟内有效。"
RESET_DONE_MESSAGE = "密码已重置，其他设备上的登录已全部退出。请用新密码登录。"
WORKER_NOTE = "职工本人（网络工会）"

JOIN_TABLE = TransitionTable(
    subject="入会申请",
    statuses=JoinStatus,
    actions=JoinAction,
    transitions=[
        Transition(JoinAction.APPROVE, frozenset({JoinStatus.PENDING}), (JoinStatus.APPROVED,)),
        Transition(JoinAction.REJECT, frozenset({JoinStatus.PENDING}), (JoinStatus.REJECTED,)),
        Transition(JoinAction.WITHDRAW, frozenset({JoinStatus.PENDING}), (JoinStatus.WITHDRAWN,)),
    ],
    already={
        JoinAction.APPROVE: {JoinStatus.APPROVED},
        JoinAction.REJECT: {JoinStatus.REJECTED},
        JoinAction.WITHDRAW: {JoinStatus.WITHDRAWN},
    },
)


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


def _mobile(value: object) -> str:
    """A mainland mobile number (11 digits starting with 1), else a Chinese message."""
    try:
        number = normalize_phone(value)
    except ValidationError as exc:
        raise ServiceError("mobile", exc.messages[0], field="mobile") from None
    if len(number) != 11 or not number.startswith("1"):
        raise ServiceError("mobile", "请输入 11 位手机号码，如 13812345678。", field="mobile")
    return number


def mobile_hash(value: str) -> str:
    return crypto.lookup_hash(value)


# --- notifications ------------------------------------------------------------------------------


def worker_notify(
    account: WorkerAccount, text: str, *, link: str = "", now: datetime.datetime | None = None
) -> None:
    WorkerNotification.objects.create(account=account, text=text[:300], link=link[:200], created_at=_now(now))


def worker_notify_person(
    person: Person, text: str, *, link: str = "", now: datetime.datetime | None = None
) -> None:
    """Notify the worker account of a registry person, if they have one (for other apps' decisions)."""
    account = WorkerAccount.objects.filter(person=person, is_active=True).first()
    if account is not None:
        worker_notify(account, text, link=link, now=now)


def worker_notifications_mark_read(*, account: WorkerAccount) -> int:
    return WorkerNotification.objects.filter(account=account, read=False).update(read=True)


# --- SMS codes, registration, login -------------------------------------------------------------


def _sms_limits_check(digest: str, address: str | None) -> None:
    ratelimit.refuse_if_exceeded(ratelimit.SMS_PER_NUMBER_MINUTE, digest, "获取验证码", field="mobile")
    ratelimit.refuse_if_exceeded(ratelimit.SMS_PER_NUMBER_HOUR, digest, "获取验证码", field="mobile")
    ratelimit.refuse_if_exceeded(ratelimit.SMS_PER_ADDRESS_HOUR, address, "获取验证码", field="mobile")


def _sms_limits_hit(digest: str, address: str | None) -> None:
    for limit, subject in (
        (ratelimit.SMS_PER_NUMBER_MINUTE, digest),
        (ratelimit.SMS_PER_NUMBER_HOUR, digest),
        (ratelimit.SMS_PER_ADDRESS_HOUR, address),
    ):
        ratelimit.hit(limit, subject)


def _sms_code_issue(*, digest: str, purpose: str, now: datetime.datetime) -> str:
    """A new 6-digit code for the number and purpose (stored hashed); earlier unused ones die with it.
    Called inside the caller's transaction."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    SmsCode.objects.filter(mobile_hash=digest, purpose=purpose, used_at__isnull=True).update(used_at=now)
    SmsCode.objects.create(
        mobile_hash=digest,
        purpose=purpose,
        code_hash=make_password(code),
        created_at=now,
        expires_at=now + datetime.timedelta(minutes=SMS_CODE_MINUTES),
    )
    return code


def _sms_code_text(code: str) -> str:
    return f"【职工服务平台】验证码 {code}，{SMS_CODE_MINUTES} 分钟内有效。请勿告诉他人。"


def sms_code_send(
    *,
    mobile: str,
    purpose: str = SmsPurpose.REGISTER,
    address: str | None = None,
    now: datetime.datetime | None = None,
) -> None:
    """Send a 6-digit code; limited per number (1 a minute, 5 an hour) and per address (20 an hour).

    For registration the answer is the same whether or not the number already has an account (the code is
    simply not usable for a second account), so the form does not tell who is registered. A password-reset
    code goes through :func:`worker_password_reset_request`, which sends only to a registered number."""
    number = _mobile(mobile)
    digest = mobile_hash(number)
    _sms_limits_check(digest, address)
    now = _now(now)
    with transaction.atomic():
        code = _sms_code_issue(digest=digest, purpose=purpose, now=now)
    _sms_limits_hit(digest, address)
    try:
        gateway().send(number, _sms_code_text(code))
    except Exception:
        raise ServiceError("sms_failed", "短信发送失败，请稍后重试。", field="mobile") from None


def _sms_code_use(*, digest: str, purpose: str, code: str, now: datetime.datetime) -> int:
    """Check the latest code of the number (its id when right); wrong codes count against it, five and it is
    gone. The caller marks it used in its own transaction.

    The count of a wrong attempt is committed before the refusal is raised (in its own transaction), so a
    caller's rollback cannot give the attempt back."""
    refusal: ServiceError | None = None
    with transaction.atomic():
        row = (
            SmsCode.objects.select_for_update()
            .filter(mobile_hash=digest, purpose=purpose, used_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        if row is None:
            refusal = ServiceError("sms_code", "请先获取短信验证码。", field="code")
        elif row.expires_at <= now:
            refusal = ServiceError("sms_expired", "短信验证码已过期，请重新获取。", field="code")
        elif row.attempts >= SMS_CODE_MAX_ATTEMPTS:
            refusal = ServiceError("sms_attempts", "验证码错误次数过多，请重新获取验证码。", field="code")
        elif not check_password((code or "").strip(), row.code_hash):
            row.attempts += 1
            row.save(update_fields=["attempts"])
            left = SMS_CODE_MAX_ATTEMPTS - row.attempts
            refusal = ServiceError(
                "sms_code",
                f"短信验证码不正确，还可尝试 {left} 次。"
                if left
                else "验证码错误次数过多，请重新获取验证码。",
                field="code",
            )
    if refusal is not None or row is None:
        raise refusal or ServiceError("sms_code", "请先获取短信验证码。", field="code")
    return row.pk


def _check_password(password: str) -> None:
    try:
        validate_password(password or "")
    except ValidationError as exc:
        raise ServiceError("password", " ".join(exc.messages), field="password") from None


def worker_register(
    *,
    mobile: str,
    code: str,
    password: str,
    consent: bool,
    address: str | None = None,
    now: datetime.datetime | None = None,
) -> WorkerAccount:
    """Open an account: a valid SMS code, a password that passes the rules, consent to the privacy notice."""
    number = _mobile(mobile)
    ratelimit.refuse_if_exceeded(ratelimit.REGISTER_PER_ADDRESS_HOUR, address, "注册")
    if not consent:
        raise ServiceError("consent", "请阅读并同意《个人信息保护告知书》后再注册。", field="consent")
    _check_password(password)
    now = _now(now)
    digest = mobile_hash(number)
    _sms_code_use(digest=digest, purpose=SmsPurpose.REGISTER, code=code, now=now)
    try:
        with transaction.atomic():
            if WorkerAccount.objects.filter(mobile_hash=digest).exists():
                raise IntegrityError
            account = WorkerAccount.objects.create(
                mobile_hash=digest,
                mobile_encrypted=crypto.encrypt(number),
                mobile_masked=mask_phone(number),
                password=make_password(password),
                consent_version=PRIVACY_NOTICE_VERSION,
                consent_at=now,
                created_at=now,
            )
            SmsCode.objects.filter(
                mobile_hash=digest, purpose=SmsPurpose.REGISTER, used_at__isnull=True
            ).update(used_at=now)
            audit_created(
                actor=None,
                instance=account,
                fields=["mobile_masked", "consent_version", "consent_at"],
                note=f"{WORKER_NOTE}注册",
            )
    except IntegrityError:
        raise ServiceError(
            "mobile_taken", "该手机号已注册，请直接登录；忘记密码可在登录页点“忘记密码”重置。", field="mobile"
        ) from None
    ratelimit.hit(ratelimit.REGISTER_PER_ADDRESS_HOUR, address)
    return account


def worker_authenticate(
    *, mobile: str, password: str, address: str | None = None, now: datetime.datetime | None = None
) -> WorkerAccount:
    """The account for a mobile number and password; 5 failures per number or 20 per address lock 15 minutes."""
    try:
        number = _mobile(mobile)
    except ServiceError:
        raise ServiceError("login", LOGIN_FAILED_MESSAGE, field="mobile") from None
    digest = mobile_hash(number)
    ratelimit.refuse_if_exceeded(ratelimit.LOGIN_FAILURES_PER_NUMBER, digest, "登录失败次数过多，登录")
    ratelimit.refuse_if_exceeded(ratelimit.LOGIN_FAILURES_PER_ADDRESS, address, "登录失败次数过多，登录")
    account = WorkerAccount.objects.filter(mobile_hash=digest, is_active=True).first()
    # A password is checked even without an account, so the answer takes as long either way.
    valid = check_password(password or "", account.password if account else make_password(None))
    if account is None or not valid:
        ratelimit.hit(ratelimit.LOGIN_FAILURES_PER_NUMBER, digest)
        ratelimit.hit(ratelimit.LOGIN_FAILURES_PER_ADDRESS, address)
        raise ServiceError("login", LOGIN_FAILED_MESSAGE, field="password")
    ratelimit.reset(ratelimit.LOGIN_FAILURES_PER_NUMBER, digest)
    WorkerAccount.objects.filter(pk=account.pk).update(last_login_at=_now(now))
    return account


def worker_password_reset_request(
    *, mobile: str, address: str | None = None, now: datetime.datetime | None = None
) -> str:
    """Send a password-reset code to a registered number; the normalized number is returned.

    The limits are those of the registration code (the same counters: per number 1 a minute and 5 an hour,
    per address 20 an hour), and everything a caller can observe is the same whether or not the number has
    an account: the answer, the counters, and a code row — for an unregistered number a code that is never
    sent, so the second page answers a wrong code alike too ("还可尝试 n 次"). Only accounts of this platform
    are looked at (staff accounts are ``accounts.User`` and have no mobile login)."""
    number = _mobile(mobile)
    digest = mobile_hash(number)
    _sms_limits_check(digest, address)
    now = _now(now)
    with transaction.atomic():
        account = WorkerAccount.objects.filter(mobile_hash=digest, is_active=True).first()
        code = _sms_code_issue(digest=digest, purpose=SmsPurpose.RESET, now=now)
        if account is not None:
            audit_record(
                actor=None,
                action=AuditAction.UPDATE,
                instance=account,
                changes={},
                unit_path=account.org_unit.path if account.org_unit_id else "",
                note=f"{WORKER_NOTE}申请重置密码，验证码已发往 {account.mobile_masked}",
            )
    _sms_limits_hit(digest, address)
    if account is not None:
        try:
            gateway().send(number, _sms_code_text(code))
        except Exception:
            # Telling the caller would tell that the number is registered: logged for the operators; the
            # worker asks again after a minute.
            logger.exception("password-reset SMS to %s failed", account.mobile_masked)
    return number


def worker_password_reset(
    *,
    mobile: str,
    code: str,
    password: str,
    password_again: str,
    address: str | None = None,
    now: datetime.datetime | None = None,
) -> WorkerAccount:
    """Set a new password with the reset code sent to the number; every session and API token of the account
    ends (``session_version``), the worker is notified in the platform and by SMS.

    The code is single-use, lives ``SMS_CODE_MINUTES`` and dies after ``SMS_CODE_MAX_ATTEMPTS`` wrong tries;
    wrong codes also count per address (``RESET_FAILURES_PER_ADDRESS``). The password rules are checked
    first, so a typo in the password costs no attempt of the code."""
    number = _mobile(mobile)
    digest = mobile_hash(number)
    ratelimit.refuse_if_exceeded(
        ratelimit.RESET_FAILURES_PER_ADDRESS, address, "验证码错误次数过多，重置密码", field="code"
    )
    _check_password(password)
    if password != password_again:
        raise ServiceError("password_again", "两次输入的新密码不一致，请重新输入。", field="password_again")
    now = _now(now)
    try:
        code_id = _sms_code_use(digest=digest, purpose=SmsPurpose.RESET, code=code, now=now)
    except ServiceError:
        ratelimit.hit(ratelimit.RESET_FAILURES_PER_ADDRESS, address)
        raise
    with transaction.atomic():
        # Single use: the row is taken here, so a second request with the same code finds it used.
        taken = SmsCode.objects.filter(pk=code_id, used_at__isnull=True).update(used_at=now)
        account = (
            WorkerAccount.objects.select_for_update(of=("self",))
            .filter(mobile_hash=digest, is_active=True)
            .select_related("org_unit")
            .first()
        )
        if not taken or account is None:
            # A code used meanwhile, or the never-sent code of an unregistered number guessed right.
            raise ServiceError("sms_code", "短信验证码已失效，请重新获取。", field="code")
        old_version = account.session_version
        account.password = make_password(password)
        account.session_version = old_version + 1
        account.save(update_fields=["password", "session_version"])
        audit_record(
            actor=None,
            action=AuditAction.UPDATE,
            instance=account,
            changes={"密码": ["******", "已重置"], "会话版本": [old_version, account.session_version]},
            unit_path=account.org_unit.path if account.org_unit_id else "",
            note=f"{WORKER_NOTE}用短信验证码重置密码，其他登录已全部退出",
        )
        worker_notify(
            account,
            f"您的登录密码已于 {timezone.localtime(now):%Y-%m-%d %H:%M} 用短信验证码重置，其他设备上的登录已全部"
            "退出。如非本人操作，请立即联系工会。",
            now=now,
        )
    # A worker locked out by wrong passwords may sign in with the new one at once.
    ratelimit.reset(ratelimit.LOGIN_FAILURES_PER_NUMBER, digest)
    try:
        gateway().send(number, "【职工服务平台】您的登录密码已重置。如非本人操作，请立即联系工会。")
    except Exception:
        logger.exception("password-reset notice SMS to %s failed", account.mobile_masked)
    return account


@transaction.atomic
def worker_consent_withdraw(*, account: WorkerAccount, now: datetime.datetime | None = None) -> WorkerAccount:
    """PIPL withdrawal: the account closes, its mobile number and registry link are erased, pending join
    applications are withdrawn. Appeals already filed stay with the union (they are its case records)."""
    now = _now(now)
    account = WorkerAccount.objects.select_for_update().get(pk=account.pk)
    for application in JoinApplication.objects.filter(account=account, status=JoinStatus.PENDING):
        join_withdraw(account=account, application=application)
    account.consent_withdrawn_at = now
    account.is_active = False
    account.session_version += 1
    account.mobile_hash = f"withdrawn:{account.pk}"
    account.mobile_encrypted = ""
    account.mobile_masked = "已注销"
    account.person = None
    account.password = make_password(None)
    account.save()
    audit_record(
        actor=None,
        action=AuditAction.UPDATE,
        instance=account,
        changes={"consent_withdrawn_at": [None, now.isoformat()]},
        note=f"{WORKER_NOTE}撤回个人信息处理同意并注销账号",
    )
    return account


# --- real-name matching -------------------------------------------------------------------------


def person_employment(person: Person, day: datetime.date) -> Employment | None:
    """The person's latest employment active on ``day`` (where the metrics count their account)."""
    return (
        Employment.objects.filter(person=person, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
        .select_related("enterprise__org_unit")
        .order_by("-valid_from")
        .first()
    )


def worker_verify_identity(
    *, account: WorkerAccount, name: str, id_number: str, now: datetime.datetime | None = None
) -> WorkerAccount:
    """Link the account to the registry person with this ID number and name.

    An ID number that fails its check is refused with the checker's message (it is about what was typed,
    not about anyone). Any other failure — nobody with that number, another name, a person already linked to
    another account — gives one and the same message; five failures a day end the attempts."""
    if account.person_id is not None:
        raise ServiceError("already_verified", "您已完成实名认证。")
    try:
        clean_name = clean_person_name(name)
    except ValidationError as exc:
        raise ServiceError("name", exc.messages[0], field="name") from None
    subject = str(account.pk)
    ratelimit.refuse_if_exceeded(ratelimit.VERIFY_FAILURES_PER_ACCOUNT, subject, "实名认证失败次数过多，认证")
    try:
        person = member_services.person_find_by_document(id_number)
    except ServiceError as exc:
        raise ServiceError(exc.code, exc.message, field="id_number") from None
    except IdNumberError as exc:  # pragma: no cover - person_find_by_document converts these
        raise ServiceError("id_number", exc.messages[0], field="id_number") from None
    now = _now(now)
    linked_elsewhere = (
        person is not None and WorkerAccount.objects.filter(person=person).exclude(pk=account.pk).exists()
    )
    if person is None or person.name != clean_name or linked_elsewhere:
        ratelimit.hit(ratelimit.VERIFY_FAILURES_PER_ACCOUNT, subject)
        raise ServiceError("no_match", NO_MATCH_MESSAGE, field="id_number")
    with transaction.atomic():
        locked = WorkerAccount.objects.select_for_update().get(pk=account.pk)
        locked.person = person
        locked.verified_at = now
        employment = person_employment(person, timezone.localdate(now))
        locked.enterprise = employment.enterprise if employment else None
        locked.org_unit = employment.enterprise.org_unit if employment else None
        try:
            with transaction.atomic():
                locked.save(update_fields=["person", "verified_at", "org_unit", "enterprise"])
        except IntegrityError:
            raise ServiceError("no_match", NO_MATCH_MESSAGE, field="id_number") from None
        audit_record(
            actor=None,
            action=AuditAction.UPDATE,
            instance=locked,
            changes={"职工": [None, f"{person.name}（{person.id_number_masked}）"]},
            unit_path=locked.org_unit.path if locked.org_unit else "",
            note=f"{WORKER_NOTE}实名认证",
        )
    ratelimit.reset(ratelimit.VERIFY_FAILURES_PER_ACCOUNT, subject)
    return locked


def _require_verified(account: WorkerAccount) -> Person:
    if account.person_id is None:
        raise ServiceError("not_verified", "请先完成实名认证。")
    return account.person


# --- joining the union --------------------------------------------------------------------------


def joinable_employments(person: Person, day: datetime.date) -> list[tuple[Employment, GrassrootsUnion]]:
    """The person's employments today at an enterprise a union covers today, with that union."""
    employments = list(
        Employment.objects.filter(person=person, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
        .select_related("enterprise")
    )
    if not employments:
        return []
    coverages = (
        UnionCoverage.objects.filter(enterprise_id__in=[e.enterprise_id for e in employments])
        .filter(active_on_q(day))
        .filter(union__founded_on__lte=day)
        .filter(Q(union__dissolved_on__isnull=True) | Q(union__dissolved_on__gt=day))
        .select_related("union")
    )
    union_of = {c.enterprise_id: c.union for c in coverages}
    return [(e, union_of[e.enterprise_id]) for e in employments if e.enterprise_id in union_of]


def current_membership(person: Person, day: datetime.date) -> Membership | None:
    return (
        Membership.objects.filter(person=person, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
        .select_related("union")
        .first()
    )


def join_apply(
    *, account: WorkerAccount, enterprise_id: int | str, now: datetime.datetime | None = None
) -> JoinApplication:
    """Apply to join the union covering one of the worker's own enterprises; one pending application at a time."""
    person = _require_verified(account)
    now = _now(now)
    day = timezone.localdate(now)
    if current_membership(person, day) is not None:
        raise ServiceError("already_member", "您已是工会会员，无需再申请入会；可在“我的会员卡”查看。")
    options = {str(e.enterprise_id): (e, u) for e, u in joinable_employments(person, day)}
    chosen = options.get(str(enterprise_id))
    if chosen is None:
        raise ServiceError(
            "no_union",
            "请选择您任职的、已建立工会的企业。如所在企业尚未建会，请联系社区工会。",
            field="enterprise",
        )
    employment, union = chosen
    if JoinApplication.objects.filter(person=person, status=JoinStatus.PENDING).exists():
        raise ServiceError(
            "pending_exists",
            "您已有一份入会申请正在审批中，请等待结果；如需更改，请先撤回该申请。",
            field="enterprise",
        )
    try:
        with transaction.atomic():
            application = JoinApplication.objects.create(
                account=account, person=person, union=union, enterprise=employment.enterprise, created_at=now
            )
            audit_created(
                actor=None,
                instance=application,
                fields=["union", "enterprise", "status"],
                unit_path=union.org_unit.path,
                note=f"{WORKER_NOTE}申请入会",
            )
    except IntegrityError:
        raise ServiceError(
            "pending_exists",
            "您已有一份入会申请正在审批中，请等待结果；如需更改，请先撤回该申请。",
            field="enterprise",
        ) from None
    staff = _staff_for_union(union)
    notify_staff(
        staff, f"新的入会申请：{person.name}（{employment.enterprise.name}）", link="/portal/join/", now=now
    )
    return application


def _staff_for_union(union: GrassrootsUnion) -> list[Any]:
    from safetynet.accounts.models import User

    return list(
        User.objects.filter(is_active=True, org_unit=union.org_unit, role__in=("chair", "unit_admin"))
    )


def join_decide(
    *,
    actor: Any,
    application: JoinApplication,
    action: str,
    reason: str = "",
    version: int | None = None,
    now: datetime.datetime | None = None,
) -> JoinApplication:
    """The chair approves (the membership starts today through members.membership_join, and an e-card is
    issued through members.card_issue) or rejects with a reason."""
    if action not in (JoinAction.APPROVE, JoinAction.REJECT):
        raise ServiceError("invalid_action", "只能批准或不批准。", field="action")
    if actor is None or not actor.can("edit_registry"):
        raise NotAllowed("您的角色不能审批入会申请。")
    now = _now(now)
    reason = clean_free_text(reason)[:200]
    if action == JoinAction.REJECT and not reason:
        raise ServiceError("required", "不批准时请填写理由，职工会看到这条理由。", field="reason")

    def guard(row: JoinApplication) -> None:
        if not JoinApplication.objects.visible_to(actor).filter(pk=row.pk).exists():
            raise OutOfScope("该申请不在您的管辖范围内。")

    def apply(row: JoinApplication, target: str) -> dict[str, Any]:
        values: dict[str, Any] = {"decided_at": now, "decided_by": actor, "reason": reason}
        if target == JoinStatus.APPROVED:
            day = timezone.localdate(now)
            membership = member_services.membership_join(
                actor=actor, person=row.person, union=row.union, valid_from=day
            )
            if not MemberCard.objects.filter(person=row.person, status=CardStatus.ACTIVE).exists():
                member_services.card_issue(actor=actor, person=row.person, issued_on=day)
            values["membership"] = membership
        return values

    def after(row: JoinApplication, before: str, target: str) -> None:
        if target == JoinStatus.APPROVED:
            text = f"您加入“{row.union.name}”的申请已批准，欢迎入会！电子会员卡已可使用。"
            link = "/worker/card/"
        else:
            text = f"您加入“{row.union.name}”的申请未获批准：{reason}"
            link = "/worker/join/"
        worker_notify(row.account, text, link=link, now=now)

    return transition_run(
        instance=application,
        table=JOIN_TABLE,
        action=action,
        actor=actor,
        unit_path=lambda row: row.union.org_unit.path,
        audit_fields=("status", "reason"),
        version=version,
        related=("union__org_unit", "person", "account"),
        guard=guard,
        apply=apply,
        after=after,
    )


def join_withdraw(*, account: WorkerAccount, application: JoinApplication) -> JoinApplication:
    if application.account_id != account.pk:
        raise ServiceError("not_found", "该申请不存在。")
    return transition_run(
        instance=application,
        table=JOIN_TABLE,
        action=JoinAction.WITHDRAW,
        actor=None,
        unit_path=lambda row: row.union.org_unit.path,
        audit_fields=("status",),
        related=("union__org_unit",),
        note=f"{WORKER_NOTE}撤回入会申请",
    )


# --- appeals ------------------------------------------------------------------------------------


def check_attachments(files: Iterable[UploadedFile]) -> list[UploadedFile]:
    """PDF, JPG or PNG, at most 5 MB each, at most 5 files; content must match the extension."""
    checked = []
    for upload in files:
        name = upload.name or ""
        extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
        if extension not in ATTACHMENT_TYPES:
            raise ServiceError(
                "file_type", f"文件“{name}”的类型不支持：请上传 PDF、JPG 或 PNG 文件。", field="files"
            )
        if upload.size > ATTACHMENT_MAX_BYTES:
            raise ServiceError("file_size", f"文件“{name}”超过 5 MB，请压缩后再上传。", field="files")
        head = upload.read(16)
        upload.seek(0)
        if not head.startswith(ATTACHMENT_TYPES[extension]):
            raise ServiceError(
                "file_type",
                f"文件“{name}”的内容不是 {extension[1:].upper()} 格式，请重新选择。",
                field="files",
            )
        checked.append(upload)
    if len(checked) > 5:
        raise ServiceError("file_count", "一次最多上传 5 个文件。", field="files")
    return checked


def appeal_file(
    *,
    account: WorkerAccount,
    category: str,
    description: str,
    enterprise_id: int | str | None = None,
    enterprise_name: str = "",
    enterprise_address: str = "",
    unit: OrgUnit | None = None,
    files: Iterable[UploadedFile] = (),
    now: datetime.datetime | None = None,
) -> Case:
    """File an appeal through cases.case_intake (channel 网络工会); name and phone come from the account."""
    person = _require_verified(account)
    if not clean_free_text(description):
        raise ServiceError(
            "required", "请填写诉求内容：发生了什么、涉及哪些人、希望如何解决。", field="description"
        )
    if category not in Category.values:
        raise ServiceError("invalid", "请选择诉求类别。", field="category")
    uploads = check_attachments(files)
    enterprise = None
    if enterprise_id:
        enterprise = (
            Enterprise.objects.filter(pk__in=Employment.objects.filter(person=person).values("enterprise_id"))
            .filter(pk=enterprise_id)
            .select_related("org_unit")
            .first()
        )
        if enterprise is None:
            raise ServiceError(
                "enterprise", "请从列表中选择您任职的企业，或选择“其他企业”并填写名称。", field="enterprise"
            )
    elif not (enterprise_name or "").strip():
        raise ServiceError("enterprise", "请选择涉及的企业，或填写企业名称和地址。", field="enterprise_name")
    elif unit is None:
        raise ServiceError("unit", "请选择企业所在的区（市、县）。", field="unit")
    case = case_services.case_intake(
        actor=None,
        channel=Channel.PLATFORM,
        category=category,
        description=description,
        enterprise=enterprise,
        enterprise_name=enterprise_name,
        enterprise_address=enterprise_address,
        unit=unit,
        caller_phone=crypto.decrypt(account.mobile_encrypted),
        caller_name=person.name,
        caller_person=person,
        attachments=uploads,
        now=now,
    )
    worker_notify(
        account,
        f"您的诉求已登记，编号 {case.number}，由{case.unit.name}办理。",
        link=f"/worker/appeals/{case.pk}/",
        now=now,
    )
    return case


def own_case(account: WorkerAccount, case_id: int | str) -> Case:
    """The worker's own appeal, else ServiceError not_found (views answer 404)."""
    case = None
    if account.person_id is not None:
        case = (
            Case.objects.filter(pk=case_id, caller_person_id=account.person_id).select_related("unit").first()
        )
    if case is None:
        raise ServiceError("not_found", "该诉求不存在。")
    return case


@transaction.atomic
def appeal_message_add(
    *, account: WorkerAccount, case: Case, text: str, now: datetime.datetime | None = None
) -> AppealMessage:
    case = own_case(account, case.pk)
    text = clean_free_text(text)
    if not text:
        raise ServiceError("required", "请填写留言内容。", field="text")
    if len(text) > 2000:
        raise ServiceError("too_long", "留言不超过 2000 字。", field="text")
    now = _now(now)
    message = AppealMessage.objects.create(case=case, account=account, text=text, created_at=now)
    audit_created(
        actor=None,
        instance=message,
        fields=["case"],
        unit_path=case.origin_unit.path,
        note=f"{WORKER_NOTE}留言",
    )
    recipients = (
        [case.handler]
        if case.handler_id
        else case_services._users_at([case.unit_id], ("operator", "unit_admin"))
    )
    notify_staff(
        recipients, f"诉求 {case.number} 有职工新留言", case=case, link=case_services.case_link(case), now=now
    )
    return message


def appeal_attach(*, account: WorkerAccount, case: Case, files: Iterable[UploadedFile]) -> int:
    case = own_case(account, case.pk)
    uploads = check_attachments(files)
    if not uploads:
        raise ServiceError("required", "请选择要上传的文件。", field="files")
    if case.status not in OPEN_STATUSES:
        raise ServiceError(
            "closed", "该诉求已办结，不能再上传材料；如有新情况请留言或重新提交诉求。", field="files"
        )
    return len(case_services.case_attach(actor=None, case=case, files=uploads))


@transaction.atomic
def appeal_rate(
    *,
    account: WorkerAccount,
    case: Case,
    score: int | str,
    comment: str = "",
    now: datetime.datetime | None = None,
) -> AppealRating:
    case = own_case(account, case.pk)
    if case.status != CaseStatus.CLOSED:
        raise ServiceError("not_closed", "诉求办结后才能评价。", field="score")
    try:
        value = int(score)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise ServiceError("score", "请选择 1 至 5 星。", field="score")
    if AppealRating.objects.filter(case=case).exists():
        raise ServiceError("already_rated", "您已评价过该诉求。", field="score")
    rating = AppealRating.objects.create(
        case=case, account=account, score=value, comment=clean_free_text(comment)[:300], created_at=_now(now)
    )
    audit_created(
        actor=None,
        instance=rating,
        fields=["case", "score"],
        unit_path=case.origin_unit.path,
        note=f"{WORKER_NOTE}评价",
    )
    return rating


# --- notices ------------------------------------------------------------------------------------


@transaction.atomic
def notice_publish(
    *, actor: Any, org_unit: OrgUnit, title: str, body: str, now: datetime.datetime | None = None
) -> Notice:
    from safetynet.orgs.services import require_capability, require_unit_in_scope

    require_capability(actor, "edit_registry")
    require_unit_in_scope(actor, org_unit, field="org_unit")
    title = clean_free_text(title)
    body = clean_free_text(body)
    if not title:
        raise ServiceError("required", "请填写通知标题。", field="title")
    if len(title) > 100:
        raise ServiceError("too_long", "标题不超过 100 字。", field="title")
    if not body:
        raise ServiceError("required", "请填写通知内容。", field="body")
    notice = Notice.objects.create(
        org_unit=org_unit, title=title, body=body, published_at=_now(now), published_by=actor
    )
    audit_created(actor=actor, instance=notice, fields=["title", "org_unit"], unit_path=org_unit.path)
    return notice


# --- assistance -----------------------------------------------------------------------------------


def assistance_apply(
    *,
    account: WorkerAccount,
    round_id: object,
    on: datetime.date,
    amount: object = None,
    student_name: str = "",
    school: str = "",
    reason: str = "",
    admission_letter: UploadedFile | None = None,
    now: datetime.datetime | None = None,
) -> Application:
    """The worker applies for assistance in an open round, through the assistance service (same checks as an
    officer's application: window, eligibility, amount, budget; 金秋助学 needs the admission letter)."""
    person = _require_verified(account)
    round_ = (
        Round.objects.filter(pk=int(str(round_id)), status=RoundStatus.OPEN).first()
        if str(round_id or "").isdigit()
        else None
    )
    if round_ is None:
        raise ServiceError("round", "请从列表中选择正在受理申请的帮扶批次。", field="round")
    open_here = assistance_selectors.rounds_open_for(person, on).filter(pk=round_.pk).exists()
    if (
        not open_here
        and round_.window_opens <= on <= round_.window_closes
        and HardshipFile.objects.filter(person=person, closed_on__isnull=True).exists()
    ):
        raise ServiceError(
            "round_elsewhere", f"“{round_.title}”不面向您所在的单位，请从列表中选择帮扶批次。", field="round"
        )
    # Otherwise (no open file, outside the window) the assistance service refuses in its own words.
    application = assistance_services.application_submit_by_worker(
        person=person,
        round=round_,
        on=on,
        amount=amount if amount not in ("", None) else None,
        student_name=student_name,
        school=school,
        reason=reason,
        attachments=[(EvidenceKind.ADMISSION, admission_letter)] if admission_letter is not None else None,
    )
    worker_notify(
        account,
        f"您申请的“{round_.title}”已提交，正在由{application.org_unit.name}审核。",
        link="/worker/applications/",
        now=now,
    )
    return application
