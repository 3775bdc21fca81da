"""劳模工匠和劳动竞赛: every write (keyword-only, ``actor=`` first, one transaction, audit rows inside)."""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from safetynet.accounts.models import Capability
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditAction
from safetynet.core.normalize import clean_free_text, clean_text
from safetynet.core.scope import user_scope_path
from safetynet.core.services import audit_created, audit_diff, audit_record, audit_snapshot
from safetynet.exemplars.models import (
    Competition,
    CompetitionEntry,
    CompetitionKind,
    Honour,
    HonourKind,
    HonourLevel,
    OrganiserLevel,
    PioneerTeam,
    Studio,
)
from safetynet.orgs.models import Enterprise, OrgUnit
from safetynet.orgs.services import require_unit_in_scope

HONOUR_FIELDS = ("person", "kind", "level", "year", "enterprise", "title", "note")
TEAM_FIELDS = ("name", "enterprise", "level", "year", "members_count")
STUDIO_FIELDS = (
    "name",
    "leader",
    "enterprise",
    "level",
    "founded_on",
    "members_count",
    "patents",
    "savings",
    "results",
)
COMPETITION_FIELDS = ("name", "kind", "organiser_level", "org_unit", "starts_on", "ends_on", "description")
ENTRY_FIELDS = ("competition", "enterprise", "workers", "result", "award")
FIRST_AWARD_YEAR = 1950


def can_edit(user: Any) -> bool:
    return bool(
        user is not None and user.is_authenticated and user.is_active and user.can(Capability.EDIT_REGISTRY)
    )


def _require_edit(actor: Any) -> None:
    if actor is not None and not can_edit(actor):
        raise NotAllowed("您的角色不能维护劳模、工作室和竞赛信息（需要“维护企业和工会”权限）。")


def _require_scope(actor: Any, enterprise: Enterprise, field: str = "enterprise") -> None:
    if actor is None:
        return
    path = user_scope_path(actor)
    if path is None or not enterprise.org_unit.path.startswith(path):
        raise OutOfScope(f"企业“{enterprise.name}”不在您的管辖范围内。", field=field)


def _today(now: datetime.datetime | None) -> datetime.date:
    return timezone.localdate(now or timezone.now())


def check_award_year(year: Any, *, now: datetime.datetime | None = None, field: str = "year") -> int:
    try:
        number = int(year)
    except (TypeError, ValueError):
        raise ServiceError("invalid", "授予年度应为四位年份，如 2012。", field=field) from None
    this_year = _today(now).year
    if number > this_year:
        raise ServiceError(
            "future", f"授予年度（{number}）不能晚于今年（{this_year}），请核对年度。", field=field
        )
    if number < FIRST_AWARD_YEAR:
        raise ServiceError(
            "invalid", f"授予年度（{number}）过早，应在 {FIRST_AWARD_YEAR} 年以后。", field=field
        )
    return number


def _choice(value: str, choices: Any, label: str, field: str) -> str:
    if value not in choices.values:
        raise ServiceError(
            "invalid", f"{label}应为{'、'.join(str(c) for c in choices.labels)}之一。", field=field
        )
    return value


def _count(value: Any, label: str, field: str) -> int:
    try:
        number = int(value or 0)
    except (TypeError, ValueError):
        raise ServiceError("invalid", f"{label}应为不小于 0 的整数。", field=field) from None
    if number < 0 or number > 10_000_000:
        raise ServiceError("invalid", f"{label}应为 0–10000000 之间的整数。", field=field)
    return number


def _amount(value: Any, label: str, field: str) -> decimal.Decimal:
    try:
        amount = decimal.Decimal(str(value or 0)).quantize(decimal.Decimal("0.01"))
    except decimal.InvalidOperation:
        raise ServiceError("invalid", f"{label}应为数字，如 12.5。", field=field) from None
    if amount < 0 or amount >= decimal.Decimal("1e10"):
        raise ServiceError("invalid", f"{label}应为不小于 0 的数字。", field=field)
    return amount


def clean_honour(*, kind: str, level: str, year: Any, now: datetime.datetime | None = None) -> dict[str, Any]:
    return {
        "kind": _choice(kind, HonourKind, "荣誉类别", "kind"),
        "level": _choice(level, HonourLevel, "级别", "level"),
        "year": check_award_year(year, now=now),
    }


@transaction.atomic
def honour_create(
    *,
    actor: Any,
    person: Any,
    kind: str,
    level: str,
    year: Any,
    enterprise: Enterprise,
    title: str = "",
    note: str = "",
    now: datetime.datetime | None = None,
) -> Honour:
    """Record a 劳动模范 / 五一劳动奖章 holder (a registered worker) at an enterprise in the actor's scope."""
    _require_edit(actor)
    _require_scope(actor, enterprise)
    if person is None:
        raise ServiceError("required", "请填写获得者的身份证号（须已在会员管理中登记）。", field="person")
    data = clean_honour(kind=kind, level=level, year=year, now=now)
    if Honour.objects.filter(person=person, **data).exists():
        raise ServiceError("duplicate", f"{person.name}的{data['year']}年该项荣誉已登记。", field="year")
    honour = Honour.objects.create(
        person=person,
        enterprise=enterprise,
        org_unit=enterprise.org_unit,
        title=clean_text(title)[:100],
        note=clean_free_text(note),
        **data,
    )
    audit_created(actor=actor, instance=honour, fields=HONOUR_FIELDS, unit_path=enterprise.org_unit.path)
    return honour


@transaction.atomic
def pioneer_create(
    *,
    actor: Any,
    name: str,
    enterprise: Enterprise,
    level: str,
    year: Any,
    members_count: Any = 0,
    now: datetime.datetime | None = None,
) -> PioneerTeam:
    """Record a 工人先锋号 team."""
    _require_edit(actor)
    _require_scope(actor, enterprise)
    name = clean_text(name)
    if not name:
        raise ServiceError("required", "请填写班组名称。", field="name")
    level = _choice(level, HonourLevel, "级别", "level")
    year = check_award_year(year, now=now)
    if PioneerTeam.objects.filter(enterprise=enterprise, name=name, level=level, year=year).exists():
        raise ServiceError("duplicate", f"“{name}”{year}年的工人先锋号已登记。", field="name")
    team = PioneerTeam.objects.create(
        name=name[:100],
        enterprise=enterprise,
        org_unit=enterprise.org_unit,
        level=level,
        year=year,
        members_count=_count(members_count, "班组人数", "members_count"),
    )
    audit_created(actor=actor, instance=team, fields=TEAM_FIELDS, unit_path=enterprise.org_unit.path)
    return team


def _check_founded(
    founded_on: datetime.date | None, enterprise: Enterprise, now: datetime.datetime | None
) -> None:
    if founded_on is None:
        raise ServiceError("required", "请填写成立日期。", field="founded_on")
    if founded_on > _today(now):
        raise ServiceError("future", "成立日期不能晚于今天。", field="founded_on")
    if founded_on < enterprise.founded_on:
        raise ServiceError(
            "not_existing",
            f"成立日期（{founded_on.isoformat()}）早于企业成立日期（{enterprise.founded_on.isoformat()}）。",
            field="founded_on",
        )


@transaction.atomic
def studio_create(
    *,
    actor: Any,
    name: str,
    leader: Any,
    enterprise: Enterprise,
    founded_on: datetime.date | None,
    level: str = HonourLevel.CITY,
    members: Iterable[Any] = (),
    members_count: Any = None,
    patents: Any = 0,
    savings: Any = 0,
    results: str = "",
    now: datetime.datetime | None = None,
) -> Studio:
    """Record a 劳模创新工作室 with its leader, members and results."""
    _require_edit(actor)
    _require_scope(actor, enterprise)
    name = clean_text(name)
    if not name:
        raise ServiceError("required", "请填写工作室名称。", field="name")
    if leader is None:
        raise ServiceError("required", "请填写领办人的身份证号（须已在会员管理中登记）。", field="leader")
    _check_founded(founded_on, enterprise, now)
    members = list(members)
    if Studio.objects.filter(enterprise=enterprise, name=name).exists():
        raise ServiceError("duplicate", f"该企业已有名为“{name}”的工作室。", field="name")
    studio = Studio.objects.create(
        name=name[:100],
        leader=leader,
        enterprise=enterprise,
        org_unit=enterprise.org_unit,
        level=_choice(level, HonourLevel, "命名级别", "level"),
        founded_on=founded_on,
        members_count=_count(
            members_count if members_count not in (None, "") else len(members), "成员人数", "members_count"
        ),
        patents=_count(patents, "专利数", "patents"),
        savings=_amount(savings, "创效（万元）", "savings"),
        results=clean_free_text(results),
    )
    if members:
        studio.members.set(members)
    audit_created(actor=actor, instance=studio, fields=STUDIO_FIELDS, unit_path=enterprise.org_unit.path)
    return studio


@transaction.atomic
def studio_update_results(
    *, actor: Any, studio: Studio, patents: Any, savings: Any, results: str = "", members_count: Any = None
) -> Studio:
    """Update a studio's results (patents, savings in 万元, what it achieved)."""
    _require_edit(actor)
    studio = Studio.objects.select_for_update().select_related("enterprise__org_unit").get(pk=studio.pk)
    _require_scope(actor, studio.enterprise)
    before = audit_snapshot(studio, STUDIO_FIELDS)
    studio.patents = _count(patents, "专利数", "patents")
    studio.savings = _amount(savings, "创效（万元）", "savings")
    studio.results = clean_free_text(results)
    if members_count not in (None, ""):
        studio.members_count = _count(members_count, "成员人数", "members_count")
    studio.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=studio,
        changes=audit_diff(before, audit_snapshot(studio, STUDIO_FIELDS)),
        unit_path=studio.enterprise.org_unit.path,
    )
    return studio


@transaction.atomic
def competition_create(
    *,
    actor: Any,
    name: str,
    kind: str,
    organiser_level: str,
    unit: OrgUnit,
    starts_on: datetime.date | None,
    ends_on: datetime.date | None,
    description: str = "",
) -> Competition:
    """Record a labour or skill competition organised by ``unit`` (in the actor's scope)."""
    _require_edit(actor)
    require_unit_in_scope(actor, unit, field="unit")
    name = clean_text(name)
    if not name:
        raise ServiceError("required", "请填写竞赛名称。", field="name")
    if starts_on is None or ends_on is None:
        raise ServiceError("required", "请填写竞赛的开始和结束日期。", field="starts_on")
    if ends_on < starts_on:
        raise ServiceError("invalid", "结束日期不能早于开始日期。", field="ends_on")
    competition = Competition.objects.create(
        name=name[:150],
        kind=_choice(kind, CompetitionKind, "竞赛类别", "kind"),
        organiser_level=_choice(organiser_level, OrganiserLevel, "主办级别", "organiser_level"),
        org_unit=unit,
        starts_on=starts_on,
        ends_on=ends_on,
        description=clean_free_text(description),
    )
    audit_created(actor=actor, instance=competition, fields=COMPETITION_FIELDS, unit_path=unit.path)
    return competition


@transaction.atomic
def competition_entry_add(
    *,
    actor: Any,
    competition: Competition,
    enterprise: Enterprise,
    workers: Any = 0,
    result: str = "",
    award: str = "",
) -> CompetitionEntry:
    """An enterprise (in the actor's scope) takes part in a competition the actor can see; adding it again
    updates its workers, result and award."""
    _require_edit(actor)
    _require_scope(actor, enterprise)
    if actor is not None and not Competition.objects.visible_to(actor).filter(pk=competition.pk).exists():
        raise OutOfScope("该竞赛不在您的管辖范围内。", field="competition")
    if enterprise.founded_on > competition.ends_on:
        raise ServiceError(
            "not_existing", f"企业“{enterprise.name}”成立于竞赛结束之后，不能参赛。", field="enterprise"
        )
    values = {
        "workers": _count(workers, "参赛职工人数", "workers"),
        "result": clean_text(result)[:200],
        "award": clean_text(award)[:200],
    }
    entry = CompetitionEntry.objects.filter(competition=competition, enterprise=enterprise).first()
    if entry is None:
        try:
            with transaction.atomic():
                entry = CompetitionEntry.objects.create(
                    competition=competition, enterprise=enterprise, **values
                )
        except IntegrityError:
            raise ServiceError(
                "conflict", "该企业刚被他人登记参赛，请刷新后再试。", field="enterprise"
            ) from None
        audit_created(actor=actor, instance=entry, fields=ENTRY_FIELDS, unit_path=enterprise.org_unit.path)
        return entry
    before = audit_snapshot(entry, ENTRY_FIELDS)
    for key, value in values.items():
        setattr(entry, key, value)
    entry.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=entry,
        changes=audit_diff(before, audit_snapshot(entry, ENTRY_FIELDS)),
        unit_path=enterprise.org_unit.path,
    )
    return entry
