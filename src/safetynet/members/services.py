"""Every write to the member registry. One transaction each, with its audit rows inside it.

Audit rows name a person by the masked ID number only; the clear number never reaches the trail or logs.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditAction
from safetynet.core.scope import user_scope_path
from safetynet.core.services import audit_diff, audit_record, audit_snapshot
from safetynet.members import crypto
from safetynet.members.models import (
    CardStatus,
    Employment,
    EmploymentType,
    Household,
    MemberCard,
    Membership,
    MembershipEndReason,
    Person,
)
from safetynet.members.spans import employment_spans_rebuild
from safetynet.members.validation import (
    IdentityInfo,
    IdNumberError,
    IdType,
    clean_person_name,
    mask_id_number,
    mask_phone,
    normalize_phone,
    validate_identity,
)
from safetynet.orgs.models import Enterprise, GrassrootsUnion, UnionCoverage, active_on_q
from safetynet.orgs.services import require_capability, require_unit_in_scope

PERSON_AUDIT_FIELDS = (
    "name",
    "id_type",
    "id_number_masked",
    "birth_date",
    "sex",
    "phone_masked",
    "household",
)
EMPLOYMENT_AUDIT_FIELDS = ("enterprise", "valid_from", "valid_to", "employment_type", "contract_signed")
MEMBERSHIP_AUDIT_FIELDS = ("union", "valid_from", "valid_to", "member_number", "end_reason")
CARD_AUDIT_FIELDS = ("card_number", "union", "issued_on", "status", "status_changed_on")

# Until accounts.Capability has "view_personal_data", these roles may see unmasked personal data.
PERSONAL_DATA_ROLES = frozenset({"city_admin", "unit_admin"})
CARD_QR_SALT = "safetynet.members.card"


# --- permissions -----------------------------------------------------------------------------


def can_view_personal_data(user: Any) -> bool:
    """Whether the user may see ID numbers and phones unmasked (each view is audited)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    from safetynet.accounts.models import Capability

    if "view_personal_data" in Capability.values:
        return bool(user.can("view_personal_data"))
    if user.is_superuser and user.org_unit_id is None:
        return True
    return getattr(user, "role", "") in PERSONAL_DATA_ROLES


def _require_person_visible(actor: Any, person: Person) -> None:
    if actor is None:
        return
    if not Person.objects.visible_to(actor).filter(pk=person.pk).exists():
        raise OutOfScope("该职工不在您的管辖范围内。")


def person_unit_path(person: Person) -> str:
    """The org unit path the person's records sit under: their latest employment's, else membership's."""
    employment = (
        Employment.objects.filter(person=person)
        .select_related("enterprise__org_unit")
        .order_by("-valid_from")
        .first()
    )
    if employment is not None:
        return employment.enterprise.org_unit.path
    membership = (
        Membership.objects.filter(person=person)
        .select_related("union__org_unit")
        .order_by("-valid_from")
        .first()
    )
    return membership.union.org_unit.path if membership is not None else ""


def _who(person: Person) -> dict[str, Any]:
    """How audit rows name a person: never the clear number."""
    return {"职工": [None, f"{person.name}（{person.id_number_masked}）"]}


# --- persons ---------------------------------------------------------------------------------


def _checked_identity(id_type: str, id_number: object) -> IdentityInfo:
    try:
        return validate_identity(id_type, id_number)
    except IdNumberError as exc:
        raise ServiceError(exc.code or "id_number", exc.messages[0], field="id_number") from None


def _checked_phone(phone: object) -> str:
    try:
        return normalize_phone(phone)
    except ValidationError as exc:
        raise ServiceError("phone", exc.messages[0], field="phone") from None


def _set_identity(person: Person, info: IdentityInfo) -> None:
    person.id_type = info.id_type
    person.id_number_encrypted = crypto.encrypt(info.number)
    person.id_number_hash = crypto.lookup_hash(info.number)
    person.id_number_masked = mask_id_number(info.number)
    person.birth_date = info.birth_date
    person.sex = info.sex


def _set_phone(person: Person, phone: str) -> None:
    person.phone_encrypted = crypto.encrypt(phone)
    person.phone_hash = crypto.lookup_hash(phone)
    person.phone_masked = mask_phone(phone)


def _check_name(name: str) -> str:
    try:
        return clean_person_name(name)
    except ValidationError as exc:
        raise ServiceError(exc.code or "name", exc.messages[0], field="name") from None


def _check_household(household: str) -> str:
    if household and household not in Household.values:
        raise ServiceError("household", "户籍类型应为“城镇”或“农村”。", field="household")
    return household or ""


@transaction.atomic
def person_create(
    *,
    actor: Any,
    name: str,
    id_number: str,
    id_type: str = IdType.RESIDENT_ID,
    phone: str = "",
    household: str = "",
) -> Person:
    """Register a person. Usually called through :func:`person_register`, which also starts the employment
    that makes the person visible to the staff of that enterprise's unit."""
    require_capability(actor, "edit_registry")
    info = _checked_identity(id_type, id_number)
    person = Person(name=_check_name(name), household=_check_household(household))
    _set_identity(person, info)
    _set_phone(person, _checked_phone(phone))
    if Person.objects.filter(id_type=person.id_type, id_number_hash=person.id_number_hash).exists():
        raise ServiceError(
            "duplicate_person", f"证件号码 {person.id_number_masked} 已登记。", field="id_number"
        )
    person.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=person,
        changes={
            k: [None, v]
            for k, v in audit_snapshot(person, PERSON_AUDIT_FIELDS).items()
            if v not in (None, "")
        },
        unit_path=(user_scope_path(actor) or "") if actor is not None else "",
    )
    return person


@transaction.atomic
def person_update(*, actor: Any, person: Person, data: dict[str, Any]) -> Person:
    """Change name, phone, household or (a correction) the identity document of a person in scope."""
    require_capability(actor, "edit_registry")
    person = Person.objects.select_for_update().get(pk=person.pk)
    _require_person_visible(actor, person)
    allowed = {"name", "phone", "household", "id_number", "id_type"}
    unknown = set(data) - allowed
    if unknown:
        raise ServiceError("unknown_field", f"不能修改：{', '.join(sorted(unknown))}。")
    before = audit_snapshot(person, PERSON_AUDIT_FIELDS)
    before_hashes = (person.id_number_hash, person.phone_hash)
    if "name" in data:
        person.name = _check_name(data["name"])
    if "household" in data:
        person.household = _check_household(data["household"])
    if "phone" in data:
        phone = _checked_phone(data["phone"])
        if crypto.lookup_hash(phone) != person.phone_hash:
            _set_phone(person, phone)
    if "id_number" in data or "id_type" in data:
        info = _checked_identity(data.get("id_type", person.id_type), data.get("id_number", ""))
        if crypto.lookup_hash(info.number) != person.id_number_hash or info.id_type != person.id_type:
            _set_identity(person, info)
            clash = Person.objects.filter(id_type=person.id_type, id_number_hash=person.id_number_hash)
            if clash.exclude(pk=person.pk).exists():
                raise ServiceError(
                    "duplicate_person",
                    f"证件号码 {person.id_number_masked} 已登记为另一人。",
                    field="id_number",
                )
    changes = audit_diff(before, audit_snapshot(person, PERSON_AUDIT_FIELDS))
    # The masked form can stay the same while the number changes: record that it changed, not what to.
    if person.id_number_hash != before_hashes[0] and "id_number_masked" not in changes:
        changes["id_number_masked"] = [before["id_number_masked"], person.id_number_masked + "（号码已更正）"]
    if person.phone_hash != before_hashes[1] and "phone_masked" not in changes:
        changes["phone_masked"] = [before["phone_masked"], person.phone_masked + "（号码已更换）"]
    if not changes:
        return person
    person.save()
    if "household" in changes:
        employment_spans_rebuild(person_ids=[person.pk])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=person,
        changes=changes,
        unit_path=person_unit_path(person),
    )
    return person


def person_find_by_document(id_number: str, id_type: str = IdType.RESIDENT_ID) -> Person | None:
    """Unscoped: only for services that must not create a second record of someone registered elsewhere."""
    info = _checked_identity(id_type, id_number)
    return Person.objects.filter(id_type=info.id_type, id_number_hash=crypto.lookup_hash(info.number)).first()


@transaction.atomic
def person_register(
    *,
    actor: Any,
    name: str,
    id_number: str,
    enterprise: Enterprise,
    employed_from: datetime.date,
    id_type: str = IdType.RESIDENT_ID,
    phone: str = "",
    household: str = "",
    employment_type: str = "",
    contract_signed: bool | None = None,
) -> Employment:
    """Take on a worker at an enterprise: the person is found by document number (wherever they were
    registered, without showing anything of them) or created, then the employment starts."""
    require_capability(actor, "edit_registry")
    require_unit_in_scope(actor, enterprise.org_unit, field="enterprise")
    person = person_find_by_document(id_number, id_type)
    if person is None:
        person = person_create(
            actor=actor, name=name, id_number=id_number, id_type=id_type, phone=phone, household=household
        )
    elif _check_name(name) != person.name:
        raise ServiceError(
            "name_mismatch",
            f"证件号码 {person.id_number_masked} 已登记，但姓名与登记的不一致，请核对。",
            field="name",
        )
    return employment_start(
        actor=actor,
        person=person,
        enterprise=enterprise,
        valid_from=employed_from,
        employment_type=employment_type,
        contract_signed=contract_signed,
    )


def person_reveal_id_number(*, actor: Any, person: Person) -> str:
    """The clear ID number for a permitted role, written to the audit trail (查看个人信息)."""
    return _reveal(actor=actor, person=person, field="id_number")


def person_reveal_phone(*, actor: Any, person: Person) -> str:
    return _reveal(actor=actor, person=person, field="phone")


@transaction.atomic
def _reveal(*, actor: Any, person: Person, field: str) -> str:
    if not can_view_personal_data(actor):
        raise NotAllowed("您的角色无权查看完整的个人信息。")
    _require_person_visible(actor, person)
    token = person.id_number_encrypted if field == "id_number" else person.phone_encrypted
    label = "证件号码" if field == "id_number" else "电话"
    audit_record(
        actor=actor,
        action=AuditAction.VIEW_PERSONAL,
        instance=person,
        changes={},
        unit_path=person_unit_path(person),
        note=f"查看完整{label}",
    )
    return crypto.decrypt(token)


# --- employments -----------------------------------------------------------------------------


def _overlap_q(valid_from: datetime.date, valid_to: datetime.date | None) -> Q:
    """Records whose [from, to) meets [valid_from, valid_to)."""
    q = Q(valid_to__isnull=True) | Q(valid_to__gt=valid_from)
    if valid_to is not None:
        q &= Q(valid_from__lt=valid_to)
    return q


def _check_period(
    valid_from: datetime.date, valid_to: datetime.date | None, *, what: str, to_field: str
) -> None:
    if valid_to is not None and valid_to < valid_from:
        raise ServiceError("dates_order", f"{what}结束日期不能早于开始日期。", field=to_field)


@transaction.atomic
def employment_start(
    *,
    actor: Any,
    person: Person,
    enterprise: Enterprise,
    valid_from: datetime.date,
    valid_to: datetime.date | None = None,
    employment_type: str = "",
    contract_signed: bool | None = None,
) -> Employment:
    require_capability(actor, "edit_registry")
    require_unit_in_scope(actor, enterprise.org_unit, field="enterprise")
    # Locking the person serialises the overlap checks of concurrent writes about the same worker.
    person = Person.objects.select_for_update().get(pk=person.pk)
    _check_period(valid_from, valid_to, what="用工", to_field="valid_to")
    if employment_type and employment_type not in EmploymentType.values:
        raise ServiceError(
            "employment_type", "用工形式应为劳动合同、劳务派遣或非全日制。", field="employment_type"
        )
    if valid_from < enterprise.founded_on:
        raise ServiceError(
            "before_founding", f"入职日期早于企业成立日期 {enterprise.founded_on}。", field="valid_from"
        )
    if enterprise.deregistered_on is not None and valid_from >= enterprise.deregistered_on:
        raise ServiceError(
            "after_deregistration", f"企业已于 {enterprise.deregistered_on} 注销。", field="valid_from"
        )
    clash = Employment.objects.filter(person=person, enterprise=enterprise).filter(
        _overlap_q(valid_from, valid_to)
    )
    if clash.exists():
        other = clash.first()
        raise ServiceError(
            "employment_overlap",
            f"{person.name}在“{enterprise.name}”已有 {other.valid_from} 起的用工记录，与这段时间重叠。",
            field="valid_from",
        )
    if contract_signed is None:
        contract_signed = employment_type == EmploymentType.LABOUR_CONTRACT
    employment = Employment.objects.create(
        person=person,
        enterprise=enterprise,
        valid_from=valid_from,
        valid_to=valid_to,
        employment_type=employment_type,
        contract_signed=contract_signed,
    )
    employment_spans_rebuild(person_ids=[person.pk])
    changes = _who(person) | {
        k: [None, v]
        for k, v in audit_snapshot(employment, EMPLOYMENT_AUDIT_FIELDS).items()
        if v not in (None, "")
    }
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=employment,
        changes=changes,
        unit_path=enterprise.org_unit.path,
    )
    return employment


@transaction.atomic
def employment_end(*, actor: Any, employment: Employment, valid_to: datetime.date) -> Employment:
    require_capability(actor, "edit_registry")
    employment = (
        Employment.objects.select_for_update()
        .select_related("person", "enterprise__org_unit")
        .get(pk=employment.pk)
    )
    require_unit_in_scope(actor, employment.enterprise.org_unit, field="enterprise")
    _check_period(employment.valid_from, valid_to, what="用工", to_field="valid_to")
    if employment.valid_to is not None and employment.valid_to <= valid_to:
        raise ServiceError("already_ended", f"该用工记录已于 {employment.valid_to} 结束。", field="valid_to")
    before = audit_snapshot(employment, EMPLOYMENT_AUDIT_FIELDS)
    employment.valid_to = valid_to
    employment.save(update_fields=["valid_to"])
    employment_spans_rebuild(person_ids=[employment.person_id])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=employment,
        changes=_who(employment.person)
        | audit_diff(before, audit_snapshot(employment, EMPLOYMENT_AUDIT_FIELDS)),
        unit_path=employment.enterprise.org_unit.path,
        note="离职",
    )
    return employment


# --- memberships -----------------------------------------------------------------------------


def union_covers_employment_q(union: GrassrootsUnion, day: datetime.date) -> Q:
    """Employments active on ``day`` at an enterprise the union covers that day."""
    covered = UnionCoverage.objects.filter(union=union).filter(active_on_q(day)).values("enterprise_id")
    return Q(enterprise_id__in=covered, valid_from__lte=day) & (
        Q(valid_to__isnull=True) | Q(valid_to__gt=day)
    )


def _check_join(
    person: Person, union: GrassrootsUnion, day: datetime.date, *, exclude: int | None = None
) -> None:
    if day < union.founded_on or (union.dissolved_on is not None and day >= union.dissolved_on):
        raise ServiceError(
            "union_inactive",
            f"“{union.name}”在 {day} 不存续（成立 {union.founded_on}"
            f"{'，撤销 ' + str(union.dissolved_on) if union.dissolved_on else ''}）。",
            field="union",
        )
    if not Employment.objects.filter(person=person).filter(union_covers_employment_q(union, day)).exists():
        raise ServiceError(
            "not_covered",
            f"{person.name}在 {day} 没有在“{union.name}”覆盖的企业任职，不能加入该工会。",
            field="union",
        )
    clash = Membership.objects.filter(person=person).filter(_overlap_q(day, None))
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    other = clash.select_related("union").first()
    if other is not None:
        raise ServiceError(
            "membership_overlap",
            f"{person.name}已是“{other.union.name}”的会员（{other.valid_from} 起"
            f"{'至 ' + str(other.valid_to) if other.valid_to else ''}），会员关系不能重叠；"
            "转入新工会请办理会员关系接转。",
            field="valid_from",
        )


@transaction.atomic
def membership_join(
    *,
    actor: Any,
    person: Person,
    union: GrassrootsUnion,
    valid_from: datetime.date,
    member_number: str = "",
) -> Membership:
    """A person joins a union that covers their enterprise on that day; open-ended, no overlap allowed."""
    require_capability(actor, "edit_registry")
    require_unit_in_scope(actor, union.org_unit, field="union")
    person = Person.objects.select_for_update().get(pk=person.pk)
    _check_join(person, union, valid_from)
    membership = Membership.objects.create(
        person=person, union=union, valid_from=valid_from, member_number=(member_number or "").strip()
    )
    employment_spans_rebuild(person_ids=[person.pk])
    changes = _who(person) | {
        k: [None, v]
        for k, v in audit_snapshot(membership, MEMBERSHIP_AUDIT_FIELDS).items()
        if v not in (None, "")
    }
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=membership,
        changes=changes,
        unit_path=union.org_unit.path,
        note="入会",
    )
    return membership


@transaction.atomic
def membership_leave(
    *,
    actor: Any,
    membership: Membership,
    valid_to: datetime.date,
    end_reason: str = MembershipEndReason.WITHDREW,
) -> Membership:
    require_capability(actor, "edit_registry")
    membership = (
        Membership.objects.select_for_update()
        .select_related("person", "union__org_unit")
        .get(pk=membership.pk)
    )
    require_unit_in_scope(actor, membership.union.org_unit, field="union")
    if end_reason not in MembershipEndReason.values:
        raise ServiceError("end_reason", "离会原因不在可选范围内。", field="end_reason")
    if membership.valid_to is not None:
        raise ServiceError("already_ended", f"该会员关系已于 {membership.valid_to} 结束。", field="valid_to")
    _check_period(membership.valid_from, valid_to, what="会员关系", to_field="valid_to")
    before = audit_snapshot(membership, MEMBERSHIP_AUDIT_FIELDS)
    membership.valid_to = valid_to
    membership.end_reason = end_reason
    membership.save(update_fields=["valid_to", "end_reason"])
    employment_spans_rebuild(person_ids=[membership.person_id])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=membership,
        changes=_who(membership.person)
        | audit_diff(before, audit_snapshot(membership, MEMBERSHIP_AUDIT_FIELDS)),
        unit_path=membership.union.org_unit.path,
        note="离会",
    )
    return membership


@transaction.atomic
def membership_transfer(
    *,
    actor: Any,
    membership: Membership,
    to_union: GrassrootsUnion,
    on: datetime.date,
    member_number: str | None = None,
) -> Membership:
    """会员关系接转: the membership ends on ``on`` and the next one, in ``to_union``, begins the same day.

    Done by the receiving side: ``to_union`` must be in the actor's scope, and the person must work on
    ``on`` at an enterprise it covers. Either both records change or neither does. The member number
    travels with the member unless a new one is given.
    """
    require_capability(actor, "edit_registry")
    require_unit_in_scope(actor, to_union.org_unit, field="to_union")
    membership = (
        Membership.objects.select_for_update()
        .select_related("person", "union__org_unit")
        .get(pk=membership.pk)
    )
    person = Person.objects.select_for_update().get(pk=membership.person_id)
    if membership.union_id == to_union.pk:
        raise ServiceError("same_union", "转入工会与原工会相同。", field="to_union")
    if not membership.is_active_on(on):
        raise ServiceError(
            "not_active",
            f"该会员关系在 {on} 不在有效期内（{membership.valid_from} 起"
            f"{'至 ' + str(membership.valid_to) if membership.valid_to else ''}）。",
            field="on",
        )
    if membership.valid_to is not None:
        raise ServiceError("already_ended", f"该会员关系已于 {membership.valid_to} 结束。", field="on")
    _check_join(person, to_union, on, exclude=membership.pk)
    before = audit_snapshot(membership, MEMBERSHIP_AUDIT_FIELDS)
    membership.valid_to = on
    membership.end_reason = MembershipEndReason.TRANSFERRED
    membership.save(update_fields=["valid_to", "end_reason"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=membership,
        changes=_who(person) | audit_diff(before, audit_snapshot(membership, MEMBERSHIP_AUDIT_FIELDS)),
        unit_path=membership.union.org_unit.path,
        note=f"会员关系转出至“{to_union.name}”",
    )
    number = membership.member_number if member_number is None else member_number.strip()
    following = Membership.objects.create(person=person, union=to_union, valid_from=on, member_number=number)
    employment_spans_rebuild(person_ids=[person.pk])
    changes = _who(person) | {
        k: [None, v]
        for k, v in audit_snapshot(following, MEMBERSHIP_AUDIT_FIELDS).items()
        if v not in (None, "")
    }
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=following,
        changes=changes,
        unit_path=to_union.org_unit.path,
        note=f"会员关系自“{membership.union.name}”转入",
    )
    return following


# --- member service cards --------------------------------------------------------------------


def _luhn_check_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def new_card_number() -> str:
    """16 digits: 15 random, then a Luhn check digit so a mistyped number is caught at the counter."""
    body = "".join(secrets.choice("0123456789") for _ in range(15))
    return body + _luhn_check_digit(body)


def card_qr_payload(card: MemberCard) -> str:
    """What the card's QR code holds: the card number signed with SECRET_KEY, nothing personal."""
    return signing.Signer(salt=CARD_QR_SALT).sign_object({"card": card.card_number})


def card_from_qr_payload(payload: str) -> MemberCard:
    """The card a scanned QR code names; raises ServiceError for a forged or damaged code."""
    try:
        data = signing.Signer(salt=CARD_QR_SALT).unsign_object(payload)
    except signing.BadSignature:
        raise ServiceError("bad_qr", "二维码无效：不是本系统签发的会员服务卡。") from None
    card = MemberCard.objects.filter(card_number=data.get("card")).select_related("person", "union").first()
    if card is None:
        raise ServiceError("unknown_card", "二维码对应的会员服务卡不存在。")
    return card


@transaction.atomic
def card_issue(
    *,
    actor: Any,
    person: Person,
    issued_on: datetime.date,
    card_number: str = "",
) -> MemberCard:
    """Issue a card to a member; the issuing union is the one they belong to on ``issued_on``."""
    require_capability(actor, "edit_registry")
    person = Person.objects.select_for_update().get(pk=person.pk)
    membership = (
        Membership.objects.filter(person=person, valid_from__lte=issued_on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=issued_on))
        .select_related("union__org_unit")
        .first()
    )
    if membership is None:
        raise ServiceError("not_member", f"{person.name}在 {issued_on} 不是工会会员，不能发放会员服务卡。")
    require_unit_in_scope(actor, membership.union.org_unit, field="union")
    if MemberCard.objects.filter(person=person, status=CardStatus.ACTIVE).exists():
        raise ServiceError("card_exists", f"{person.name}已有一张正常使用的会员服务卡，请先挂失或注销。")
    number = "".join((card_number or "").split())
    if number:
        if not number.isdigit() or not 8 <= len(number) <= 20:
            raise ServiceError("card_number", "卡号应为 8 至 20 位数字。", field="card_number")
        if MemberCard.objects.filter(card_number=number).exists():
            raise ServiceError("duplicate_card", f"卡号“{number}”已被使用。", field="card_number")
    card = None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                card = MemberCard.objects.create(
                    person=person,
                    union=membership.union,
                    card_number=number or new_card_number(),
                    issued_on=issued_on,
                )
            break
        except IntegrityError:
            if number:
                raise ServiceError(
                    "duplicate_card", f"卡号“{number}”已被使用。", field="card_number"
                ) from None
    if card is None:
        raise ServiceError("card_number", "未能生成不重复的卡号，请重试。")
    changes = _who(person) | {
        k: [None, v] for k, v in audit_snapshot(card, CARD_AUDIT_FIELDS).items() if v not in (None, "")
    }
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=card,
        changes=changes,
        unit_path=membership.union.org_unit.path,
        note="发放会员服务卡",
    )
    return card


def _card_change(*, actor: Any, card: MemberCard, status: str, on: datetime.date, note: str) -> MemberCard:
    require_capability(actor, "edit_registry")
    card = MemberCard.objects.select_for_update().select_related("person", "union__org_unit").get(pk=card.pk)
    require_unit_in_scope(actor, card.union.org_unit, field="union")
    if card.status == CardStatus.CANCELLED:
        raise ServiceError("card_cancelled", f"卡号“{card.card_number}”已注销。")
    if card.status == status:
        raise ServiceError("card_status", f"卡号“{card.card_number}”已是“{card.get_status_display()}”状态。")
    if on < card.issued_on:
        raise ServiceError("dates_order", f"日期不能早于发卡日期 {card.issued_on}。", field="on")
    before = audit_snapshot(card, CARD_AUDIT_FIELDS)
    card.status = status
    card.status_changed_on = on
    card.save(update_fields=["status", "status_changed_on"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=card,
        changes=_who(card.person) | audit_diff(before, audit_snapshot(card, CARD_AUDIT_FIELDS)),
        unit_path=card.union.org_unit.path,
        note=note,
    )
    return card


@transaction.atomic
def card_report_lost(*, actor: Any, card: MemberCard, on: datetime.date) -> MemberCard:
    return _card_change(actor=actor, card=card, status=CardStatus.LOST, on=on, note="挂失")


@transaction.atomic
def card_cancel(*, actor: Any, card: MemberCard, on: datetime.date) -> MemberCard:
    return _card_change(actor=actor, card=card, status=CardStatus.CANCELLED, on=on, note="注销")


# --- exports ---------------------------------------------------------------------------------


@transaction.atomic
def personal_data_export_record(*, actor: Any, instance: Any, rows: int, what: str) -> None:
    """An export with clear ID numbers and phones: only for permitted roles, and written to the trail
    (one row per export, naming what was exported and how many persons; never the numbers)."""
    if not can_view_personal_data(actor):
        raise NotAllowed("您的角色无权导出完整的个人信息。")
    unit = getattr(instance, "org_unit", None)
    audit_record(
        actor=actor,
        action=AuditAction.VIEW_PERSONAL,
        instance=instance,
        changes={},
        unit_path=unit.path if unit is not None else "",
        note=f"导出{what}（含完整证件号码和电话，{rows} 人）",
    )
