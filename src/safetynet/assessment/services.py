"""目标考核: every write. Keyword-only, ``actor=`` first (None: the system), one transaction, audit rows.

Who may do what: the level running a scheme (its unit, or a level above it) with ``Capability.ASSESS``
builds, publishes, reviews, freezes, decides appeals and publishes the bulletin; the assessed unit itself
with ``Capability.RESPOND_ASSESSMENT`` signs its letter, uploads evidence and appeals.
"""

from __future__ import annotations

import datetime
import decimal
import os
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from safetynet.accounts.models import Capability
from safetynet.assessment import rules
from safetynet.assessment.models import (
    Appeal,
    AppealAction,
    AppealStatus,
    Evidence,
    FinalScore,
    Item,
    ItemKind,
    Letter,
    LetterStatus,
    Review,
    Scheme,
    SchemeAction,
    SchemeStatus,
    VetoFinding,
)
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditAction
from safetynet.core.scope import user_scope_path
from safetynet.core.services import audit_created, audit_diff, audit_record, audit_snapshot
from safetynet.core.workflow import Transition, TransitionTable, transition_run
from safetynet.orgs.models import OrgLevel, OrgUnit, active_on_q

D = decimal.Decimal

SCHEME_TABLE = TransitionTable(
    subject="考核方案",
    statuses=SchemeStatus,
    actions=SchemeAction,
    transitions=[
        Transition(SchemeAction.PUBLISH, frozenset({SchemeStatus.DRAFT}), (SchemeStatus.PUBLISHED,)),
        Transition(
            SchemeAction.FREEZE,
            frozenset({SchemeStatus.PUBLISHED}),
            (SchemeStatus.FROZEN,),
            refusal="方案发布后才能冻结得分",
        ),
        Transition(
            SchemeAction.PUBLISH_BULLETIN,
            frozenset({SchemeStatus.FROZEN}),
            (SchemeStatus.BULLETIN,),
            refusal="得分冻结后才能发布通报",
        ),
    ],
    already={
        SchemeAction.PUBLISH: {SchemeStatus.PUBLISHED, SchemeStatus.FROZEN, SchemeStatus.BULLETIN},
        SchemeAction.FREEZE: {SchemeStatus.FROZEN, SchemeStatus.BULLETIN},
        SchemeAction.PUBLISH_BULLETIN: {SchemeStatus.BULLETIN},
    },
)

APPEAL_TABLE = TransitionTable(
    subject="申诉",
    statuses=AppealStatus,
    actions=AppealAction,
    transitions=[
        Transition(AppealAction.DECIDE, frozenset({AppealStatus.SUBMITTED}), (AppealStatus.DECIDED,))
    ],
    already={AppealAction.DECIDE: {AppealStatus.DECIDED}},
)

EVIDENCE_TYPES = {"application/pdf": "PDF", "image/png": "PNG 图片", "image/jpeg": "JPEG 图片"}
DEFAULT_EVIDENCE_MAX_BYTES = 10 * 1024 * 1024


def evidence_max_bytes() -> int:
    return int(getattr(settings, "ASSESSMENT_EVIDENCE_MAX_BYTES", DEFAULT_EVIDENCE_MAX_BYTES))


# --- who may ----------------------------------------------------------------------------------------------


def can_run(actor: Any, scheme_unit: OrgUnit) -> bool:
    """The unit running the scheme, or a level above it, with the capability to assess."""
    if actor is None:
        return True
    path = user_scope_path(actor)
    return path is not None and scheme_unit.path.startswith(path) and actor.can(Capability.ASSESS)


def can_respond(actor: Any, unit: OrgUnit) -> bool:
    """The assessed unit itself, with the capability to respond."""
    if actor is None:
        return True
    return actor.org_unit_id == unit.pk and actor.can(Capability.RESPOND_ASSESSMENT)


def _require_run(actor: Any, scheme_unit: OrgUnit) -> None:
    path = user_scope_path(actor) if actor is not None else ""
    if path is None or not scheme_unit.path.startswith(path):
        raise OutOfScope()
    if not can_run(actor, scheme_unit):
        raise NotAllowed("只有组织考核的单位才能进行此操作。")


def _require_respond(actor: Any, unit: OrgUnit) -> None:
    path = user_scope_path(actor) if actor is not None else ""
    if path is None or not unit.path.startswith(path):
        raise OutOfScope()
    if not can_respond(actor, unit):
        raise NotAllowed("只有被考核单位本级才能进行此操作。")


def _user(actor: Any) -> Any:
    return actor if actor is not None and actor.is_authenticated else None


def _today() -> datetime.date:
    return timezone.localdate()


# --- schemes and items ----------------------------------------------------------------------------------


def _known_metrics() -> dict[str, str]:
    from safetynet.indicators.registry import registry

    return {code: spec.label for code, spec in registry().indicators.items()}


def _check_year(year: Any) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ServiceError("year_invalid", f"年度“{year}”不是数字。", field="year") from None
    if not 2000 <= year <= 2100:
        raise ServiceError("year_invalid", f"年度“{year}”不合理。", field="year")
    return year


@transaction.atomic
def scheme_create(*, actor: Any, org_unit: OrgUnit, year: int, name: str = "") -> Scheme:
    """A draft scheme of ``org_unit`` (the city for its districts, a district for its streets)."""
    _require_run(actor, org_unit)
    year = _check_year(year)
    if org_unit.level not in (OrgLevel.CITY, OrgLevel.DISTRICT):
        raise ServiceError(
            "scheme_level", "考核方案由市总工会（考核各区市县）或区市县总工会（考核街道）制定。"
        )
    if Scheme.objects.filter(org_unit=org_unit, year=year).exists():
        raise ServiceError("scheme_exists", f"{org_unit.name} {year} 年的考核方案已存在。", field="year")
    name = (name or "").strip() or f"{org_unit.name}{year}年度目标考核方案"
    scheme = Scheme.objects.create(org_unit=org_unit, year=year, name=name[:100])
    audit_created(actor=actor, instance=scheme, fields=["year", "name"], unit_path=org_unit.path)
    return scheme


@transaction.atomic
def scheme_copy(*, actor: Any, source: Scheme, year: int | None = None) -> Scheme:
    """A new draft for the following year (or ``year``) with the same items and rules as ``source``."""
    year = _check_year(year if year is not None else source.year + 1)
    name = source.name.replace(str(source.year), str(year)) if str(source.year) in source.name else ""
    scheme = scheme_create(actor=actor, org_unit=source.org_unit, year=year, name=name)
    Item.objects.bulk_create(
        [
            Item(
                scheme=scheme,
                order=item.order,
                name=item.name,
                kind=item.kind,
                weight=item.weight,
                rule=item.rule,
                description=item.description,
            )
            for item in source.items.all()
        ]
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=scheme,
        changes={"copied_from": [None, source.pk]},
        unit_path=scheme.org_unit.path,
        note=f"复制 {source.year} 年方案",
    )
    return scheme


def _require_draft(scheme: Scheme) -> None:
    if scheme.status != SchemeStatus.DRAFT:
        raise ServiceError("scheme_not_draft", "方案已发布，考核项目不能再修改。")


def _clean_weight(kind: str, weight: Any) -> D:
    if kind == ItemKind.VETO:
        return D(0)
    try:
        value = rules.points(weight)
    except (decimal.InvalidOperation, ValueError):
        raise ServiceError("weight_invalid", f"分值“{weight}”不是数字。", field="weight") from None
    if not (D(0) < value <= rules.TOTAL_POINTS):
        raise ServiceError("weight_invalid", "分值应大于 0，且不超过 100。", field="weight")
    return value


@transaction.atomic
def item_add(
    *,
    actor: Any,
    scheme: Scheme,
    name: str,
    kind: str,
    weight: Any,
    rule: dict[str, Any] | None = None,
    description: str = "",
) -> Item:
    _require_run(actor, scheme.org_unit)
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    _require_draft(scheme)
    name = (name or "").strip()
    if not name:
        raise ServiceError("required", "请填写考核项目名称。", field="name")
    if kind not in ItemKind.values:
        raise ServiceError("rule_kind", f"未知计分方式“{kind}”。", field="kind")
    value = _clean_weight(kind, weight)
    cleaned = rules.clean_rule(kind, value, rule or {}, _known_metrics())
    order = (scheme.items.order_by("-order").values_list("order", flat=True).first() or 0) + 1
    item = Item.objects.create(
        scheme=scheme,
        order=order,
        name=name[:100],
        kind=kind,
        weight=value,
        rule=cleaned,
        description=(description or "").strip()[:300],
    )
    audit_created(
        actor=actor, instance=item, fields=["name", "kind", "weight", "rule"], unit_path=scheme.org_unit.path
    )
    return item


ITEM_AUDIT_FIELDS = ("name", "kind", "weight", "rule", "description")


@transaction.atomic
def item_update(
    *,
    actor: Any,
    item: Item,
    name: str,
    kind: str,
    weight: Any,
    rule: dict[str, Any] | None = None,
    description: str = "",
) -> Item:
    """Change an item of a draft scheme, checked as ``item_add`` checks a new one (the weights summing to 100
    and the targets are checked at publish). The scheme row is locked first, so a publish running at the same
    time either sees the change or refuses it; one audit row holds what changed (none if nothing did)."""
    scheme = Scheme.objects.select_for_update().select_related("org_unit").get(pk=item.scheme_id)
    _require_run(actor, scheme.org_unit)
    _require_draft(scheme)
    row = Item.objects.select_for_update().filter(pk=item.pk, scheme=scheme).first()
    if row is None:
        raise ServiceError("item_missing", "该考核项目已被删除，请刷新页面后再试。")
    name = (name or "").strip()
    if not name:
        raise ServiceError("required", "请填写考核项目名称。", field="name")
    if kind not in ItemKind.values:
        raise ServiceError("rule_kind", f"未知计分方式“{kind}”。", field="kind")
    value = _clean_weight(kind, weight)
    cleaned = rules.clean_rule(kind, value, rule or {}, _known_metrics())
    before = audit_snapshot(row, ITEM_AUDIT_FIELDS)
    row.name = name[:100]
    row.kind = kind
    row.weight = value
    row.rule = cleaned
    row.description = (description or "").strip()[:300]
    after = audit_snapshot(row, ITEM_AUDIT_FIELDS)
    changes = audit_diff(before, after)
    if changes:
        row.save(update_fields=list(ITEM_AUDIT_FIELDS))
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=row,
            changes=changes,
            unit_path=scheme.org_unit.path,
        )
    return row


@transaction.atomic
def item_move(*, actor: Any, item: Item, position: int) -> Item:
    """Put an item of a draft scheme at ``position`` (1 = first) and number the items 1, 2, 3… again."""
    scheme = Scheme.objects.select_for_update().select_related("org_unit").get(pk=item.scheme_id)
    _require_run(actor, scheme.org_unit)
    _require_draft(scheme)
    items = list(Item.objects.select_for_update().filter(scheme=scheme).order_by("order", "pk"))
    row = next((i for i in items if i.pk == item.pk), None)
    if row is None:
        raise ServiceError("item_missing", "该考核项目已被删除，请刷新页面后再试。")
    try:
        position = int(position)
    except (TypeError, ValueError):
        raise ServiceError("position_invalid", f"序号“{position}”不是数字。", field="order") from None
    old_position = items.index(row) + 1
    position = min(max(position, 1), len(items))
    if position == old_position:
        return row
    items.remove(row)
    items.insert(position - 1, row)
    changed = []
    for number, each in enumerate(items, start=1):
        if each.order != number:
            each.order = number
            changed.append(each)
    Item.objects.bulk_update(changed, ["order"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=row,
        changes={"order": [old_position, position]},
        unit_path=scheme.org_unit.path,
    )
    return row


@transaction.atomic
def item_delete(*, actor: Any, item: Item) -> None:
    scheme = _scheme_of(item)
    _require_run(actor, scheme.org_unit)
    _require_draft(Scheme.objects.select_for_update().get(pk=scheme.pk))
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        instance=item,
        changes={"name": [item.name, None], "weight": [str(item.weight), None]},
        unit_path=scheme.org_unit.path,
    )
    item.delete()


def publish_problems(scheme: Scheme, day: datetime.date | None = None) -> list[str]:
    """Why the scheme cannot be published yet (empty: it can): weights, then every missing target."""
    from safetynet.indicators.models import Target

    problems = []
    items = list(scheme.items.all())
    if not items:
        return ["方案还没有考核项目。"]
    total = sum((item.weight for item in items if item.kind != ItemKind.VETO), D(0))
    if total != rules.TOTAL_POINTS:
        parts = " + ".join(f"{item.name} {item.weight}" for item in items if item.kind != ItemKind.VETO)
        problems.append(f"各项分值合计应为 100 分，现为 {total} 分（{parts}）。")
    metrics = {item.rule.get("metric") for item in items if item.kind == ItemKind.INDICATOR}
    if metrics:
        labels = _known_metrics()
        units = list(
            OrgUnit.objects.filter(parent=scheme.org_unit)
            .filter(active_on_q(day or _today()))
            .order_by("code")
        )
        have = set(
            Target.objects.filter(year=scheme.year, org_unit__in=units, indicator__in=metrics).values_list(
                "org_unit_id", "indicator"
            )
        )
        for unit in units:
            for metric in sorted(metrics):
                if (unit.pk, metric) not in have:
                    problems.append(
                        f"{unit.name}缺少 {scheme.year} 年“{labels.get(metric, metric)}”目标，"
                        "请先在“目标分解”中设定。"
                    )
    return problems


def _unit_path(row: Any) -> str:
    return row.org_unit.path


def scheme_publish(*, actor: Any, scheme: Scheme, version: int | None = None) -> Scheme:
    """Publish: weights sum to 100, every assessed unit has a target for every indicator item; then each
    assessed unit gets its responsibility letter to sign."""
    _require_run(actor, scheme.org_unit)

    def apply(row: Scheme, target: str) -> dict[str, Any]:
        problems = publish_problems(row)
        if problems:
            raise ServiceError("scheme_incomplete", "方案不能发布：" + "".join(problems[:20]))
        return {"published_at": timezone.now()}

    def after(row: Scheme, before: str, target: str) -> None:
        units = OrgUnit.objects.filter(parent=row.org_unit).filter(active_on_q(_today()))
        Letter.objects.bulk_create(
            [Letter(scheme=row, org_unit=unit) for unit in units], ignore_conflicts=True
        )

    return transition_run(
        instance=scheme,
        table=SCHEME_TABLE,
        action=SchemeAction.PUBLISH,
        actor=actor,
        unit_path=_unit_path,
        related=("org_unit",),
        version=version,
        apply=apply,
        after=after,
    )


# --- letters ------------------------------------------------------------------------------------------


def letter_targets(letter: Letter) -> list[dict[str, Any]]:
    """The unit's targets of the year for the scheme's indicator items (live; signed letters keep theirs)."""
    from safetynet.indicators.models import Target

    labels = _known_metrics()
    metrics = [
        item.rule.get("metric") for item in letter.scheme.items.all() if item.kind == ItemKind.INDICATOR
    ]
    values = dict(
        Target.objects.filter(
            year=letter.scheme.year, org_unit=letter.org_unit, indicator__in=metrics
        ).values_list("indicator", "value")
    )
    return [
        {
            "indicator": m,
            "label": labels.get(m, m),
            "value": str(values[m]) if m in values else None,
            "shown": f"{float(values[m]) * 100:.1f} %" if m in values else None,
        }
        for m in metrics
    ]


@transaction.atomic
def letter_sign(*, actor: Any, letter: Letter, on: datetime.date | None = None) -> Letter:
    """The assessed unit signs its letter in the system: the targets are kept as they stand now."""
    _require_respond(actor, letter.org_unit)
    letter = Letter.objects.select_for_update().select_related("scheme", "org_unit").get(pk=letter.pk)
    if letter.status == LetterStatus.SIGNED:
        raise ServiceError("letter_signed", f"该责任状已于 {letter.signed_on:%Y-%m-%d} 签订，不能重复签订。")
    if letter.scheme.status == SchemeStatus.DRAFT:
        raise ServiceError("scheme_not_published", "考核方案尚未发布。")
    targets = letter_targets(letter)
    missing = [t["label"] for t in targets if t["value"] is None]
    if missing:
        raise ServiceError(
            "letter_targets", f"责任状缺少目标：{'、'.join(missing)}，请联系上级单位设定后再签订。"
        )
    letter.status = LetterStatus.SIGNED
    letter.signed_on = on or _today()
    letter.signed_by = _user(actor)
    letter.signed_targets = targets
    letter.version += 1
    letter.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=letter,
        changes={"status": ["待签订", "已签订"], "signed_on": [None, letter.signed_on.isoformat()]},
        unit_path=letter.org_unit.path,
        note="签订目标责任状",
    )
    return letter


# --- manual items, vetoes -------------------------------------------------------------------------------


def _scheme_of(item: Item) -> Scheme:
    """The item's scheme as it stands now (the caller's copy may predate a transition)."""
    return Scheme.objects.select_related("org_unit").get(pk=item.scheme_id)


def _assessed(scheme: Scheme, unit: OrgUnit) -> None:
    if unit.parent_id != scheme.org_unit_id:
        raise ServiceError("unit_not_assessed", f"{unit.name}不是本方案的考核对象。", field="org_unit")


def sniff_type(head: bytes) -> str | None:
    """The content type from the file's first bytes (never from its name or the browser's word)."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None


@transaction.atomic
def evidence_upload(
    *, actor: Any, item: Item, org_unit: OrgUnit, file: UploadedFile, note: str = ""
) -> Evidence:
    _require_respond(actor, org_unit)
    scheme = _scheme_of(item)
    _assessed(scheme, org_unit)
    if item.kind != ItemKind.MANUAL:
        raise ServiceError("not_manual", f"“{item.name}”由系统自动计分，不需要上传材料。", field="item")
    if scheme.status != SchemeStatus.PUBLISHED:
        raise ServiceError("scheme_closed", "方案未发布或得分已冻结，不能再上传材料。")
    limit = evidence_max_bytes()
    name = os.path.basename(file.name or "材料")[:200]
    if file.size > limit:
        raise ServiceError(
            "evidence_too_large",
            f"文件“{name}”大小为 {file.size / 1024 / 1024:.1f} MB，超过上限 {limit / 1024 / 1024:.0f} MB，"
            "请压缩或拆分后上传。",
            field="file",
        )
    file.seek(0)
    content_type = sniff_type(file.read(16))
    file.seek(0)
    if content_type is None:
        raise ServiceError(
            "evidence_type",
            f"文件“{name}”不是 PDF、PNG 或 JPEG 文件（按文件内容判断），请转换格式后上传。",
            field="file",
        )
    evidence = Evidence(
        item=item,
        org_unit=org_unit,
        name=name,
        content_type=content_type,
        size=file.size,
        note=(note or "").strip()[:300],
        uploaded_at=timezone.now(),
        uploaded_by=_user(actor),
    )
    evidence.file.save(name, file, save=False)
    evidence.save()
    audit_created(
        actor=actor,
        instance=evidence,
        fields=["name", "content_type", "size", "note"],
        unit_path=org_unit.path,
    )
    return evidence


@transaction.atomic
def review_record(
    *, actor: Any, item: Item, org_unit: OrgUnit, points: Any, reason: str, on: datetime.date | None = None
) -> Review:
    """The reviewer's points for a manual item, with the reason (the latest review counts)."""
    scheme = _scheme_of(item)
    _require_run(actor, scheme.org_unit)
    _assessed(scheme, org_unit)
    if item.kind != ItemKind.MANUAL:
        raise ServiceError("not_manual", f"“{item.name}”由系统自动计分。", field="item")
    if scheme.status != SchemeStatus.PUBLISHED:
        raise ServiceError("scheme_closed", "方案未发布或得分已冻结，不能再评分。")
    try:
        value = rules.points(points)
    except (decimal.InvalidOperation, ValueError):
        raise ServiceError("points_invalid", f"得分“{points}”不是数字。", field="points") from None
    if not (0 <= value <= item.weight):
        raise ServiceError("points_invalid", f"得分应在 0 到本项分值 {item.weight} 之间。", field="points")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("required", "请填写评分理由。", field="reason")
    before = Review.objects.filter(item=item, org_unit=org_unit).order_by("-reviewed_on", "-pk").first()
    review = Review.objects.create(
        item=item,
        org_unit=org_unit,
        points=value,
        reason=reason[:500],
        reviewed_on=on or _today(),
        reviewed_by=_user(actor),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=review,
        changes={"points": [str(before.points) if before else None, str(value)], "reason": [None, reason]},
        unit_path=org_unit.path,
        note=f"评分：{item.name}",
    )
    return review


@transaction.atomic
def veto_record(
    *, actor: Any, item: Item, org_unit: OrgUnit, found_on: datetime.date, reason: str
) -> VetoFinding:
    scheme = _scheme_of(item)
    _require_run(actor, scheme.org_unit)
    _assessed(scheme, org_unit)
    if item.kind != ItemKind.VETO:
        raise ServiceError("not_veto", f"“{item.name}”不是否决项目。", field="item")
    if scheme.status != SchemeStatus.PUBLISHED:
        raise ServiceError("scheme_closed", "方案未发布或得分已冻结。")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("required", "请填写否决事由。", field="reason")
    finding = VetoFinding.objects.create(
        item=item, org_unit=org_unit, found_on=found_on, reason=reason[:500], recorded_by=_user(actor)
    )
    audit_created(actor=actor, instance=finding, fields=["found_on", "reason"], unit_path=org_unit.path)
    return finding


# --- freeze, appeals, bulletin ----------------------------------------------------------------------------


def scheme_freeze(
    *,
    actor: Any,
    scheme: Scheme,
    day: datetime.date,
    appeal_until: datetime.date,
    version: int | None = None,
) -> Scheme:
    """Store every unit's figures as of ``day``; units may appeal an item until ``appeal_until``."""
    from safetynet.assessment.scoring import compute_sheet

    _require_run(actor, scheme.org_unit)
    if appeal_until < _today():
        raise ServiceError("appeal_window", "申诉截止日不能早于今天。", field="appeal_until")

    def apply(row: Scheme, target: str) -> dict[str, Any]:
        return {"frozen_on": day, "frozen_at": timezone.now(), "appeal_until": appeal_until}

    def after(row: Scheme, before: str, target: str) -> None:
        sheet = compute_sheet(row, day)
        finals = []
        for unit_score in sheet.units:
            for score in unit_score.items.values():
                finals.append(
                    FinalScore(
                        scheme=row,
                        org_unit_id=unit_score.unit.unit_id,
                        item=score.item,
                        points=score.points,
                        frozen_points=score.points,
                        explanation=score.explanation,
                    )
                )
            finals.append(
                FinalScore(
                    scheme=row,
                    org_unit_id=unit_score.unit.unit_id,
                    item=None,
                    points=unit_score.total,
                    frozen_points=unit_score.total,
                    cap=unit_score.cap,
                    explanation=f"小计 {unit_score.subtotal}"
                    + (f"，否决上限 {unit_score.cap}" if unit_score.cap is not None else ""),
                )
            )
        FinalScore.objects.bulk_create(finals)

    return transition_run(
        instance=scheme,
        table=SCHEME_TABLE,
        action=SchemeAction.FREEZE,
        actor=actor,
        unit_path=_unit_path,
        related=("org_unit",),
        version=version,
        audit_fields=["frozen_on", "appeal_until"],
        apply=apply,
        after=after,
    )


@transaction.atomic
def appeal_submit(
    *, actor: Any, item: Item, org_unit: OrgUnit, reason: str, now: datetime.datetime | None = None
) -> Appeal:
    scheme = _scheme_of(item)
    _require_respond(actor, org_unit)
    _assessed(scheme, org_unit)
    now = now or timezone.now()
    if scheme.status != SchemeStatus.FROZEN or scheme.appeal_until is None:
        raise ServiceError("appeal_not_open", "得分冻结后、通报发布前才能申诉。")
    if timezone.localdate(now) > scheme.appeal_until:
        raise ServiceError(
            "appeal_window_closed",
            f"申诉期已于 {scheme.appeal_until:%Y-%m-%d} 截止，不能再提交申诉。",
        )
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("required", "请写明申诉理由。", field="reason")
    if Appeal.objects.filter(item=item, org_unit=org_unit, status=AppealStatus.SUBMITTED).exists():
        raise ServiceError("appeal_pending", f"“{item.name}”已有待裁决的申诉。", field="item")
    appeal = Appeal.objects.create(
        scheme=scheme,
        item=item,
        org_unit=org_unit,
        reason=reason,
        submitted_at=now,
        submitted_by=_user(actor),
    )
    audit_created(actor=actor, instance=appeal, fields=["reason"], unit_path=org_unit.path, note="提交申诉")
    return appeal


def appeal_decide(
    *,
    actor: Any,
    appeal: Appeal,
    upheld: bool,
    decision: str,
    new_points: Any = None,
    version: int | None = None,
) -> Appeal:
    """Decide an appeal; an upheld one replaces the item's final points (and moves the unit's total)."""
    _require_run(actor, appeal.scheme.org_unit)
    decision = (decision or "").strip()
    if not decision:
        raise ServiceError("required", "请写明裁决理由。", field="decision")
    value = None
    if upheld:
        try:
            value = rules.points(new_points)
        except (decimal.InvalidOperation, ValueError, TypeError):
            raise ServiceError(
                "points_invalid", "申诉成立时请填写调整后的得分。", field="new_points"
            ) from None
        if not (0 <= value <= appeal.item.weight):
            raise ServiceError(
                "points_invalid",
                f"调整后得分应在 0 到本项分值 {appeal.item.weight} 之间。",
                field="new_points",
            )

    def apply(row: Appeal, target: str) -> dict[str, Any]:
        if row.scheme.status != SchemeStatus.FROZEN:
            raise ServiceError("scheme_closed", "通报已发布，不能再裁决申诉。")
        return {
            "upheld": upheld,
            "new_points": value,
            "decision": decision,
            "decided_at": timezone.now(),
            "decided_by": _user(actor),
        }

    def after(row: Appeal, before: str, target: str) -> None:
        if not upheld:
            return
        final = FinalScore.objects.select_for_update().get(
            scheme=row.scheme, org_unit=row.org_unit, item=row.item
        )
        total = FinalScore.objects.select_for_update().get(
            scheme=row.scheme, org_unit=row.org_unit, item=None
        )
        final.points = value
        final.explanation = f"申诉成立，调整为 {value}：{decision}（冻结时 {final.frozen_points}）"
        final.save()
        subtotal = sum(
            (
                f.points
                for f in FinalScore.objects.filter(
                    scheme=row.scheme, org_unit=row.org_unit, item__isnull=False
                )
            ),
            D(0),
        )
        total.points = min(subtotal, total.cap) if total.cap is not None else subtotal
        total.save()

    return transition_run(
        instance=appeal,
        table=APPEAL_TABLE,
        action=AppealAction.DECIDE,
        actor=actor,
        unit_path=_unit_path,
        related=("scheme", "item", "org_unit"),
        version=version,
        audit_fields=["upheld", "new_points", "decision"],
        apply=apply,
        after=after,
    )


@transaction.atomic
def bulletin_update(*, actor: Any, scheme: Scheme, commendation: str, criticism: str) -> Scheme:
    _require_run(actor, scheme.org_unit)
    scheme = Scheme.objects.select_for_update().select_related("org_unit").get(pk=scheme.pk)
    if scheme.status != SchemeStatus.FROZEN:
        raise ServiceError("scheme_not_frozen", "得分冻结后、通报发布前才能编辑通报。")
    changes = {}
    for name, value in (("commendation", commendation), ("criticism", criticism)):
        value = (value or "").strip()
        if getattr(scheme, name) != value:
            changes[name] = [getattr(scheme, name), value]
            setattr(scheme, name, value)
    if changes:
        scheme.version += 1
        scheme.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=scheme,
            changes=changes,
            unit_path=scheme.org_unit.path,
            note="编辑通报",
        )
    return scheme


def scheme_publish_bulletin(*, actor: Any, scheme: Scheme, version: int | None = None) -> Scheme:
    _require_run(actor, scheme.org_unit)

    def apply(row: Scheme, target: str) -> dict[str, Any]:
        pending = row.appeals.filter(status=AppealStatus.SUBMITTED).count()
        if pending:
            raise ServiceError("appeals_pending", f"还有 {pending} 件申诉未裁决，裁决后才能发布通报。")
        return {"bulletin_published_at": timezone.now()}

    return transition_run(
        instance=scheme,
        table=SCHEME_TABLE,
        action=SchemeAction.PUBLISH_BULLETIN,
        actor=actor,
        unit_path=_unit_path,
        related=("org_unit",),
        version=version,
        apply=apply,
    )
