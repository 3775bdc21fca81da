"""Every write to the registry. One transaction each, with its audit rows inside it."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditAction, AuditEntry
from safetynet.core.normalize import chinese
from safetynet.core.scope import user_scope_path
from safetynet.core.services import audit_created, audit_diff, audit_record, audit_snapshot
from safetynet.orgs.models import (
    PATH_SEPARATOR,
    Enterprise,
    EnterpriseHeadcount,
    EnterpriseLocation,
    GrassrootsUnion,
    OrgLevel,
    OrgUnit,
    OrgUnitVersion,
    UnionCoverage,
)
from safetynet.orgs.validation import normalize_credit_code, validate_division_code

ORGUNIT_AUDIT_FIELDS = ("code", "name", "level", "parent", "valid_from", "valid_to")
ENTERPRISE_AUDIT_FIELDS = (
    "credit_code",
    "name",
    "org_unit",
    "ownership",
    "industry",
    "above_designated_size",
    "headcount",
    "migrant_headcount",
    "dispatched_headcount",
    "founded_on",
    "deregistered_on",
    "address",
    "contact_phone",
)
UNION_AUDIT_FIELDS = (
    "name",
    "union_type",
    "org_unit",
    "founded_on",
    "dissolved_on",
    "chair_name",
    "chair_directly_elected",
)


# The fields each edit form shows: a change to one of them (by anyone, an import included) is a conflict.
ORGUNIT_EDIT_FIELDS = ("code", "name")


def today() -> datetime.date:
    return timezone.localdate()


# --- optimistic locking ----------------------------------------------------------------------
#
# An edit form carries the version of the record it showed: the id of the last audit entry that changed one
# of the form's fields (every write of the registry writes one, imports included; member imports' counts
# and coverage changes name no such field, so they do not count). The update service compares it under the
# row lock; a different one means someone saved in between: the second save is refused, naming who and
# when, and nothing is overwritten.


def version_entries(instance: models.Model, fields: tuple[str, ...]) -> QuerySet[AuditEntry]:
    """The audit entries that changed any of ``fields`` of the record, newest first."""
    return (
        AuditEntry.objects.filter(entity=instance._meta.label_lower, object_id=str(instance.pk))
        .filter(changes__has_any_keys=list(fields))
        .select_related("actor")
        .order_by("-pk")
    )


def record_version(instance: models.Model, fields: tuple[str, ...]) -> int:
    """The version an edit form carries (0 for a record with no audited change yet)."""
    return version_entries(instance, fields).values_list("pk", flat=True).first() or 0


def change_author(entry: AuditEntry) -> tuple[str, str]:
    """(who, when) of an audit entry as a conflict message names them: "张三", "14:05" (today) or a date."""
    who = (entry.actor.full_name if entry.actor else "") or entry.actor_name or "系统"
    if entry.action == AuditAction.IMPORT or entry.note.startswith("导入"):
        who = f"{who}（通过导入）"
    moment = timezone.localtime(entry.at)
    when = f"{moment:%H:%M}" if moment.date() == timezone.localdate() else f"{moment:%Y-%m-%d %H:%M}"
    return who, when


def _check_version(instance: models.Model, version: int | None, fields: tuple[str, ...], label: str) -> None:
    """Call with the record locked (select_for_update). ``version`` None: no check (commands, API)."""
    if version is None:
        return
    latest = version_entries(instance, fields).first()
    if int(version) == (latest.pk if latest else 0):
        return
    if latest is None:  # a version from nowhere: the record cannot have been shown with it
        raise ServiceError(
            "conflict",
            f"该{label}的版本信息无效，您的修改未保存。请重新打开编辑页面后再修改。",
            field="version",
        )
    who, when = change_author(latest)
    raise ServiceError(
        "conflict",
        f"该{label}已被 {who} 于 {when} 修改，您的修改未保存。请查看最新内容后重新修改"
        "（您填写的内容仍保留在下方，其间的修改列在表单上方）。",
        field="version",
    )


# --- permission and scope guards -------------------------------------------------------------


def require_capability(actor: Any, capability: str) -> None:
    """Commands run as the system (actor None) may do anything; people only what their role allows."""
    if actor is not None and not actor.can(capability):
        raise NotAllowed()


def require_unit_in_scope(actor: Any, unit: OrgUnit, *, field: str = "org_unit") -> None:
    if actor is None:
        return
    path = user_scope_path(actor)
    if path is None or not unit.path.startswith(path):
        raise OutOfScope(f"单位“{unit.name}”不在您的管辖范围内。", field=field)


# --- org units -------------------------------------------------------------------------------


def _check_parent(*, level: int, parent: OrgUnit | None, on: datetime.date | None) -> None:
    if level == OrgLevel.CITY:
        if parent is not None:
            raise ServiceError("city_has_parent", "市级单位不能有上级单位。", field="parent")
        return
    if parent is None:
        raise ServiceError("parent_required", "除市级外，单位必须有上级单位。", field="parent")
    if parent.level != level - 1:
        raise ServiceError(
            "parent_level",
            f"上级单位“{parent.name}”是{chinese(parent.get_level_display())}，"
            f"{chinese(OrgLevel(level).label)}的上级应是{chinese(OrgLevel(level - 1).label)}。",
            field="parent",
        )
    if parent.valid_to is not None and (on is None or on >= parent.valid_to):
        raise ServiceError(
            "parent_closed", f"上级单位“{parent.name}”已于 {parent.valid_to} 停用。", field="parent"
        )


@transaction.atomic
def orgunit_create(
    *,
    actor: Any,
    code: str,
    name: str,
    level: int,
    parent: OrgUnit | None,
    valid_from: datetime.date | None = None,
    valid_to: datetime.date | None = None,
) -> OrgUnit:
    require_capability(actor, "edit_units")
    if parent is not None:
        require_unit_in_scope(actor, parent, field="parent")
    elif actor is not None and user_scope_path(actor) != "" and getattr(actor, "role", "") != "city_admin":
        raise NotAllowed("只有市级管理员可以建立市级单位。")
    try:
        validate_division_code(code, level)
    except ValidationError as exc:
        raise ServiceError("division_code", exc.messages[0], field="code") from None
    if valid_from and valid_to and valid_to <= valid_from:
        raise ServiceError("dates_order", "停用日期必须晚于启用日期。", field="valid_to")
    _check_parent(level=level, parent=parent, on=valid_from)
    if OrgUnit.objects.filter(code=code).exists():
        raise ServiceError("duplicate_code", f"区划代码“{code}”已存在。", field="code")
    unit = OrgUnit.objects.create(
        code=code, name=name, level=level, parent=parent, valid_from=valid_from, valid_to=valid_to
    )
    unit.path = f"{parent.path if parent else ''}{unit.pk}{PATH_SEPARATOR}"
    unit.save(update_fields=["path"])
    OrgUnitVersion.objects.create(
        unit=unit,
        code=code,
        name=name,
        level=level,
        parent=parent,
        path=unit.path,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    audit_created(actor=actor, instance=unit, fields=ORGUNIT_AUDIT_FIELDS, unit_path=unit.path)
    return unit


def _open_new_version(unit: OrgUnit, on: datetime.date) -> None:
    """Close the version current on ``on`` and open one from ``on`` with the unit's present state."""
    current = (
        OrgUnitVersion.objects.select_for_update()
        .filter(unit=unit, valid_to__isnull=True)
        .order_by("-valid_from")
        .first()
    )
    if current is not None and current.valid_from is not None and current.valid_from >= on:
        # The change takes effect the day the current version began: correct that version in place.
        current.code, current.name, current.parent, current.path = (
            unit.code,
            unit.name,
            unit.parent,
            unit.path,
        )
        current.valid_to = unit.valid_to
        current.save()
        return
    if current is not None:
        current.valid_to = on
        current.save(update_fields=["valid_to"])
    OrgUnitVersion.objects.create(
        unit=unit,
        code=unit.code,
        name=unit.name,
        level=unit.level,
        parent=unit.parent,
        path=unit.path,
        valid_from=on,
        valid_to=unit.valid_to,
    )


@transaction.atomic
def orgunit_update(
    *,
    actor: Any,
    unit: OrgUnit,
    name: str | None = None,
    code: str | None = None,
    effective_on: datetime.date | None = None,
    version: int | None = None,
) -> OrgUnit:
    """Rename a unit (or change its code, as when 普兰店市 became 普兰店区) from a day on, keeping history.

    ``version``: what :func:`record_version` gave the form (``ORGUNIT_EDIT_FIELDS``); see above."""
    require_capability(actor, "edit_units")
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    require_unit_in_scope(actor, unit)
    _check_version(unit, version, ORGUNIT_EDIT_FIELDS, "单位")
    on = effective_on or today()
    before = audit_snapshot(unit, ORGUNIT_AUDIT_FIELDS)
    if code is not None and code != unit.code:
        try:
            validate_division_code(code, unit.level)
        except ValidationError as exc:
            raise ServiceError("division_code", exc.messages[0], field="code") from None
        if OrgUnit.objects.filter(code=code).exclude(pk=unit.pk).exists():
            raise ServiceError("duplicate_code", f"区划代码“{code}”已存在。", field="code")
        unit.code = code
    if name is not None:
        unit.name = name
    changes = audit_diff(before, audit_snapshot(unit, ORGUNIT_AUDIT_FIELDS))
    if not changes:
        return unit
    unit.save()
    _open_new_version(unit, on)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=unit,
        changes=changes,
        unit_path=unit.path,
        note=f"自 {on} 起生效",
    )
    return unit


@transaction.atomic
def orgunit_move(
    *, actor: Any, unit: OrgUnit, new_parent: OrgUnit, effective_on: datetime.date | None = None
) -> OrgUnit:
    """Move a unit and everything below it under another parent, from a day on.

    Paths of the whole subtree are rewritten in one UPDATE; each moved unit gets a new version.
    """
    require_capability(actor, "edit_units")
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    require_unit_in_scope(actor, unit)
    require_unit_in_scope(actor, new_parent, field="parent")
    on = effective_on or today()
    if new_parent.path.startswith(unit.path):
        raise ServiceError("move_into_itself", "不能把单位移到它自己或它的下级单位之下。", field="parent")
    _check_parent(level=unit.level, parent=new_parent, on=on)
    if new_parent.pk == unit.parent_id:
        return unit
    before = audit_snapshot(unit, ORGUNIT_AUDIT_FIELDS)
    old_prefix = unit.path
    new_prefix = f"{new_parent.path}{unit.pk}{PATH_SEPARATOR}"
    subtree = OrgUnit.objects.filter(path__startswith=old_prefix)
    subtree.update(path=Concat(Value(new_prefix), Substr("path", len(old_prefix) + 1)))
    OrgUnit.objects.filter(pk=unit.pk).update(parent=new_parent)
    unit.refresh_from_db()
    # New versions for the whole subtree, set-based: close the open ones, then copy the units as they are now.
    moved_ids = list(OrgUnit.objects.filter(path__startswith=new_prefix).values_list("pk", flat=True))
    OrgUnitVersion.objects.filter(unit_id__in=moved_ids, valid_to__isnull=True, valid_from__gte=on).delete()
    OrgUnitVersion.objects.filter(unit_id__in=moved_ids, valid_to__isnull=True).update(valid_to=on)
    OrgUnitVersion.objects.bulk_create(
        OrgUnitVersion(
            unit_id=u.pk,
            code=u.code,
            name=u.name,
            level=u.level,
            parent_id=u.parent_id,
            path=u.path,
            valid_from=on,
            valid_to=u.valid_to,
        )
        for u in OrgUnit.objects.filter(pk__in=moved_ids).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=on)
        )
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=unit,
        changes=audit_diff(before, audit_snapshot(unit, ORGUNIT_AUDIT_FIELDS)),
        unit_path=unit.path,
        note=f"调整隶属关系，自 {on} 起生效",
    )
    return unit


@transaction.atomic
def orgunit_close(*, actor: Any, unit: OrgUnit, closed_on: datetime.date) -> OrgUnit:
    """Close a unit from a day on. Refused while open units, enterprises or unions still sit under it."""
    require_capability(actor, "edit_units")
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    require_unit_in_scope(actor, unit)
    if unit.valid_from and closed_on <= unit.valid_from:
        raise ServiceError("dates_order", "停用日期必须晚于启用日期。", field="valid_to")
    open_children = unit.children.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=closed_on)).count()
    if open_children:
        raise ServiceError(
            "has_children", f"该单位下还有 {open_children} 个未停用的下级单位，请先调整或停用。"
        )
    operating = Enterprise.objects.filter(org_unit=unit).operating_on(closed_on).count()
    if operating:
        raise ServiceError(
            "has_enterprises", f"该单位下还有 {operating} 家未注销的企业，请先把它们划转到其他单位。"
        )
    before = audit_snapshot(unit, ORGUNIT_AUDIT_FIELDS)
    unit.valid_to = closed_on
    unit.save(update_fields=["valid_to"])
    OrgUnitVersion.objects.filter(unit=unit).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=closed_on)
    ).update(valid_to=closed_on)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=unit,
        changes=audit_diff(before, audit_snapshot(unit, ORGUNIT_AUDIT_FIELDS)),
        unit_path=unit.path,
        note="停用",
    )
    return unit


# --- enterprises -----------------------------------------------------------------------------


def _check_enterprise(data: dict[str, Any], *, unit_changed: bool = True) -> None:
    unit: OrgUnit = data["org_unit"]
    if unit_changed and unit.valid_to is not None and unit.valid_to <= today():
        raise ServiceError(
            "unit_closed", f"所属区划“{unit.name}”已于 {unit.valid_to} 停用。", field="org_unit"
        )
    if data.get("deregistered_on") and data["deregistered_on"] < data["founded_on"]:
        raise ServiceError("dates_order", "注销日期不能早于成立日期。", field="deregistered_on")
    for part in ("migrant_headcount", "dispatched_headcount"):
        if (data.get(part) or 0) > data["headcount"]:
            label = chinese(Enterprise._meta.get_field(part).verbose_name)
            raise ServiceError("headcount_parts", f"{label}不能多于职工人数。", field=part)


@transaction.atomic
def enterprise_create(*, actor: Any, **data: Any) -> Enterprise:
    require_capability(actor, "edit_registry")
    require_unit_in_scope(actor, data["org_unit"])
    try:
        data["credit_code"] = normalize_credit_code(data["credit_code"])
    except ValidationError as exc:
        raise ServiceError("credit_code", exc.messages[0], field="credit_code") from None
    if Enterprise.objects.filter(credit_code=data["credit_code"]).exists():
        raise ServiceError(
            "duplicate_credit_code", f"统一社会信用代码“{data['credit_code']}”已登记。", field="credit_code"
        )
    _check_enterprise(data)
    enterprise = Enterprise.objects.create(**data)
    EnterpriseLocation.objects.create(enterprise=enterprise, org_unit=enterprise.org_unit, valid_from=None)
    EnterpriseHeadcount.objects.create(
        enterprise=enterprise,
        valid_from=None,
        headcount=enterprise.headcount,
        migrant_headcount=enterprise.migrant_headcount,
        dispatched_headcount=enterprise.dispatched_headcount,
    )
    audit_created(
        actor=actor, instance=enterprise, fields=ENTERPRISE_AUDIT_FIELDS, unit_path=enterprise.org_unit.path
    )
    return enterprise


def _close_and_open(
    model: type, *, enterprise: Enterprise, on: datetime.date, values: dict[str, Any]
) -> None:
    """End the open dated row of ``model`` on ``on`` and open a new one with ``values``."""
    current = model.objects.select_for_update().filter(enterprise=enterprise, valid_to__isnull=True).first()
    if current is not None and current.valid_from is not None and current.valid_from >= on:
        for key, value in values.items():
            setattr(current, key, value)
        current.save()
        return
    if current is not None:
        current.valid_to = on
        current.save(update_fields=["valid_to"])
    model.objects.create(enterprise=enterprise, valid_from=on, **values)


@transaction.atomic
def enterprise_update(
    *,
    actor: Any,
    enterprise: Enterprise,
    data: dict[str, Any],
    effective_on: datetime.date | None = None,
    version: int | None = None,
) -> Enterprise:
    """Change an enterprise. A new org unit or headcount applies from ``effective_on`` (default today), so
    numbers for earlier days keep the old values. ``version``: see :func:`record_version`."""
    require_capability(actor, "edit_registry")
    enterprise = Enterprise.objects.select_for_update().select_related("org_unit").get(pk=enterprise.pk)
    require_unit_in_scope(actor, enterprise.org_unit)
    _check_version(enterprise, version, ENTERPRISE_AUDIT_FIELDS, "企业")
    if "org_unit" in data:
        require_unit_in_scope(actor, data["org_unit"])
    if "credit_code" in data:
        try:
            data["credit_code"] = normalize_credit_code(data["credit_code"])
        except ValidationError as exc:
            raise ServiceError("credit_code", exc.messages[0], field="credit_code") from None
        if Enterprise.objects.filter(credit_code=data["credit_code"]).exclude(pk=enterprise.pk).exists():
            raise ServiceError(
                "duplicate_credit_code",
                f"统一社会信用代码“{data['credit_code']}”已登记。",
                field="credit_code",
            )
    on = effective_on or today()
    before = audit_snapshot(enterprise, ENTERPRISE_AUDIT_FIELDS)
    old_unit_id = enterprise.org_unit_id
    old_counts = (enterprise.headcount, enterprise.migrant_headcount, enterprise.dispatched_headcount)
    for key, value in data.items():
        setattr(enterprise, key, value)
    merged = {
        f: getattr(enterprise, f)
        for f in (
            "org_unit",
            "founded_on",
            "deregistered_on",
            "headcount",
            "migrant_headcount",
            "dispatched_headcount",
        )
    }
    _check_enterprise(merged, unit_changed=enterprise.org_unit_id != old_unit_id)
    changes = audit_diff(before, audit_snapshot(enterprise, ENTERPRISE_AUDIT_FIELDS))
    if not changes:
        return enterprise
    enterprise.save()
    if enterprise.org_unit_id != old_unit_id:
        _close_and_open(
            EnterpriseLocation, enterprise=enterprise, on=on, values={"org_unit": enterprise.org_unit}
        )
    new_counts = (enterprise.headcount, enterprise.migrant_headcount, enterprise.dispatched_headcount)
    if new_counts != old_counts:
        _close_and_open(
            EnterpriseHeadcount,
            enterprise=enterprise,
            on=on,
            values=dict(
                zip(("headcount", "migrant_headcount", "dispatched_headcount"), new_counts, strict=True)
            ),
        )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=enterprise,
        changes=changes,
        unit_path=enterprise.org_unit.path,
        note=f"所属区划或人数自 {on} 起生效" if {"org_unit", "headcount"} & changes.keys() else "",
    )
    return enterprise


# --- grassroots unions -----------------------------------------------------------------------


def _check_union(data: dict[str, Any]) -> None:
    if data.get("dissolved_on") and data["dissolved_on"] <= data["founded_on"]:
        raise ServiceError(
            "dates_order", "撤销日期必须晚于成立日期（工会不能在成立之前撤销）。", field="dissolved_on"
        )


@transaction.atomic
def union_create(*, actor: Any, enterprises: list[Enterprise] | None = None, **data: Any) -> GrassrootsUnion:
    """Found a union. The listed enterprises are covered from its founding day until it is dissolved."""
    require_capability(actor, "edit_registry")
    require_unit_in_scope(actor, data["org_unit"])
    _check_union(data)
    if GrassrootsUnion.objects.filter(org_unit=data["org_unit"], name=data["name"]).exists():
        raise ServiceError(
            "duplicate_union", f"“{data['org_unit'].name}”下已有名为“{data['name']}”的工会。", field="name"
        )
    union = GrassrootsUnion.objects.create(**data)
    for enterprise in enterprises or []:
        require_unit_in_scope(actor, enterprise.org_unit, field="enterprises")
    UnionCoverage.objects.bulk_create(
        UnionCoverage(union=union, enterprise=e, valid_from=union.founded_on, valid_to=union.dissolved_on)
        for e in enterprises or []
    )
    audit_created(
        actor=actor,
        instance=union,
        fields=UNION_AUDIT_FIELDS,
        unit_path=union.org_unit.path,
        note=("覆盖企业：" + "、".join(e.name for e in enterprises)) if enterprises else "",
    )
    return union


def _check_union_dates_against_coverage(
    union: GrassrootsUnion, *, old_founded: Any, changes: dict[str, Any]
) -> None:
    """A corrected founding or dissolution date must leave every coverage inside the union's life: refused
    with the coverage named, rather than failing on the database's date check."""
    coverages = UnionCoverage.objects.filter(union=union).select_related("enterprise")
    founded = union.founded_on
    if "founded_on" in changes and founded is not None:
        old_day = datetime.date.fromisoformat(old_founded) if isinstance(old_founded, str) else old_founded
        for coverage in coverages:
            start = founded if coverage.valid_from == old_day else coverage.valid_from
            if start is not None and start < founded:
                raise ServiceError(
                    "coverage_before_founding",
                    f"对“{coverage.enterprise.name}”的覆盖自 {coverage.valid_from} 起，早于新的成立日期 {founded}："
                    "请先调整该覆盖关系，或核对成立日期。",
                    field="founded_on",
                )
            if coverage.valid_to is not None and start is not None and coverage.valid_to <= start:
                raise ServiceError(
                    "coverage_ends_before_founding",
                    f"对“{coverage.enterprise.name}”的覆盖已于 {coverage.valid_to} 终止，不晚于新的成立日期 {founded}："
                    "请先调整或删除该覆盖关系，或核对成立日期。",
                    field="founded_on",
                )
    if "dissolved_on" in changes and union.dissolved_on is not None:
        late = coverages.filter(valid_from__gte=union.dissolved_on).first()
        if late is not None:
            raise ServiceError(
                "coverage_after_dissolution",
                f"对“{late.enterprise.name}”的覆盖自 {late.valid_from} 起，不早于撤销日期 {union.dissolved_on}："
                "请先调整该覆盖关系，或核对撤销日期。",
                field="dissolved_on",
            )


@transaction.atomic
def union_update(
    *, actor: Any, union: GrassrootsUnion, data: dict[str, Any], version: int | None = None
) -> GrassrootsUnion:
    """Change a union's own fields (coverage has its own services). ``version``: see :func:`record_version`."""
    require_capability(actor, "edit_registry")
    union = GrassrootsUnion.objects.select_for_update().select_related("org_unit").get(pk=union.pk)
    require_unit_in_scope(actor, union.org_unit)
    _check_version(union, version, UNION_AUDIT_FIELDS, "工会")
    if "org_unit" in data:
        require_unit_in_scope(actor, data["org_unit"])
    before = audit_snapshot(union, UNION_AUDIT_FIELDS)
    for key, value in data.items():
        setattr(union, key, value)
    _check_union({"founded_on": union.founded_on, "dissolved_on": union.dissolved_on})
    if GrassrootsUnion.objects.filter(org_unit=union.org_unit, name=union.name).exclude(pk=union.pk).exists():
        raise ServiceError(
            "duplicate_union", f"“{union.org_unit.name}”下已有名为“{union.name}”的工会。", field="name"
        )
    changes = audit_diff(before, audit_snapshot(union, UNION_AUDIT_FIELDS))
    if not changes:
        return union
    _check_union_dates_against_coverage(union, old_founded=before["founded_on"], changes=changes)
    union.save()
    if "founded_on" in changes:
        # Coverage that began with the union (its founding day) follows a corrected founding date.
        old_founded = before["founded_on"]
        UnionCoverage.objects.filter(union=union, valid_from=old_founded).update(valid_from=union.founded_on)
    if "dissolved_on" in changes and union.dissolved_on is not None:
        # Dissolution ends every coverage still open then.
        UnionCoverage.objects.filter(union=union).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=union.dissolved_on)
        ).update(valid_to=union.dissolved_on)
    audit_record(
        actor=actor, action=AuditAction.UPDATE, instance=union, changes=changes, unit_path=union.org_unit.path
    )
    return union


@transaction.atomic
def union_cover_enterprise(
    *,
    actor: Any,
    union: GrassrootsUnion,
    enterprise: Enterprise,
    valid_from: datetime.date,
    valid_to: datetime.date | None = None,
) -> UnionCoverage:
    """Start covering an enterprise (a joint or regional union taking in another member enterprise)."""
    require_capability(actor, "edit_registry")
    union = GrassrootsUnion.objects.select_for_update().select_related("org_unit").get(pk=union.pk)
    require_unit_in_scope(actor, union.org_unit)
    require_unit_in_scope(actor, enterprise.org_unit, field="enterprise")
    if valid_from < union.founded_on:
        raise ServiceError(
            "before_founding", f"覆盖起始日期不能早于工会成立日期 {union.founded_on}。", field="valid_from"
        )
    if union.dissolved_on and valid_from >= union.dissolved_on:
        raise ServiceError("after_dissolution", f"工会已于 {union.dissolved_on} 撤销。", field="valid_from")
    if valid_to is not None and valid_to <= valid_from:
        raise ServiceError("dates_order", "覆盖终止日期必须晚于起始日期。", field="valid_to")
    overlapping = UnionCoverage.objects.filter(union=union, enterprise=enterprise).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=valid_from)
    )
    if valid_to is not None:
        overlapping = overlapping.filter(Q(valid_from__isnull=True) | Q(valid_from__lt=valid_to))
    if overlapping.exists():
        raise ServiceError(
            "coverage_overlap", f"“{union.name}”在这段时间已覆盖“{enterprise.name}”。", field="enterprise"
        )
    coverage = UnionCoverage.objects.create(
        union=union, enterprise=enterprise, valid_from=valid_from, valid_to=valid_to or union.dissolved_on
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=union,
        changes={"覆盖企业": [None, f"{enterprise.name}（自 {valid_from}）"]},
        unit_path=union.org_unit.path,
    )
    return coverage


@transaction.atomic
def union_end_coverage(*, actor: Any, coverage: UnionCoverage, valid_to: datetime.date) -> UnionCoverage:
    require_capability(actor, "edit_registry")
    coverage = (
        UnionCoverage.objects.select_for_update()
        .select_related("union__org_unit", "enterprise")
        .get(pk=coverage.pk)
    )
    require_unit_in_scope(actor, coverage.union.org_unit)
    if coverage.valid_from and valid_to <= coverage.valid_from:
        raise ServiceError("dates_order", "覆盖终止日期必须晚于起始日期。", field="valid_to")
    old = coverage.valid_to
    coverage.valid_to = valid_to
    coverage.save(update_fields=["valid_to"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=coverage.union,
        changes={
            "覆盖企业": [
                f"{coverage.enterprise.name}（至 {old or '今'}）",
                f"{coverage.enterprise.name}（至 {valid_to}）",
            ]
        },
        unit_path=coverage.union.org_unit.path,
    )
    return coverage
