"""和谐劳动关系评价: every write (keyword-only, ``actor=`` first, one transaction, audit rows inside).

Who may do what:
- the index model of a year: a city-level administrator (the user's unit is the city, and the role has
  ``edit_units``), like the reporting forms;
- survey items and proposals of 和谐企业: ``edit_registry`` inside the user's scope;
- computing the whole city's index: the same city-level administrator; one enterprise: ``edit_registry``;
- approving or rejecting a designation: a unit administrator of the district (the user's unit is a
  district-level unit above the enterprise, and the role has ``edit_units``).
"""

from __future__ import annotations

import decimal
import time
from collections.abc import Mapping
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from safetynet.accounts.models import Capability
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditAction
from safetynet.core.normalize import clean_free_text, clean_text
from safetynet.core.scope import user_scope_path
from safetynet.core.services import audit_created, audit_diff, audit_record, audit_snapshot
from safetynet.core.workflow import Transition, TransitionTable, transition_run
from safetynet.harmony import scoring
from safetynet.harmony.models import (
    Designation,
    DesignationAction,
    DesignationLevel,
    DesignationStatus,
    Dimension,
    IndexModel,
    Run,
    RunStatus,
    Score,
    Source,
    Survey,
)
from safetynet.orgs.models import Enterprise, OrgLevel, OrgUnit

HUNDRED = decimal.Decimal("100")
MODEL_FIELDS = (
    "year",
    "name",
    "city_level_min",
    "district_level_min",
    "city_valid_years",
    "district_valid_years",
)
SURVEY_FIELDS = ("enterprise", "year", "score", "note")
DESIGNATION_FIELDS = (
    "enterprise",
    "year",
    "level",
    "score",
    "valid_from_year",
    "valid_to_year",
    "status",
    "reason",
)

DEFAULT_WEIGHTS: dict[str, int] = {
    Source.LABOUR_CONTRACTS: 15,
    Source.UNION: 10,
    Source.COLLECTIVE_CONTRACT: 10,
    Source.CONGRESS: 10,
    Source.WAGES: 15,
    Source.SOCIAL_INSURANCE: 10,
    Source.SAFETY: 10,
    Source.DISPUTES: 5,
    Source.WARNINGS: 5,
    Source.SURVEY: 10,
}

DESIGNATION_TABLE = TransitionTable(
    subject="和谐企业命名",
    statuses=DesignationStatus,
    actions=DesignationAction,
    transitions=[
        Transition(
            DesignationAction.APPROVE, frozenset({DesignationStatus.PROPOSED}), (DesignationStatus.APPROVED,)
        ),
        Transition(
            DesignationAction.REJECT, frozenset({DesignationStatus.PROPOSED}), (DesignationStatus.REJECTED,)
        ),
    ],
    already={
        DesignationAction.APPROVE: [DesignationStatus.APPROVED],
        DesignationAction.REJECT: [DesignationStatus.REJECTED],
    },
)


# --- who may act ----------------------------------------------------------------------------------------


def _active(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def can_configure(user: Any) -> bool:
    """The index model is one for the whole city: only an administrator of the city itself changes it."""
    if not _active(user):
        return False
    if user.is_superuser and user.org_unit_id is None:
        return True
    return bool(user.can(Capability.EDIT_UNITS) and user.org_unit_id and user.org_unit.parent_id is None)


def can_edit(user: Any) -> bool:
    return _active(user) and user.can(Capability.EDIT_REGISTRY)


def can_decide(user: Any) -> bool:
    """A unit administrator of a district-level union approves the designations of its enterprises."""
    return bool(
        _active(user)
        and user.can(Capability.EDIT_UNITS)
        and user.org_unit_id
        and user.org_unit.level == OrgLevel.DISTRICT
    )


def _city_path(actor: Any) -> str:
    if actor is not None and getattr(actor, "org_unit", None) is not None:
        return actor.org_unit.path
    root = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    return root.path if root else ""


def _require_scope(actor: Any, enterprise: Enterprise) -> None:
    if actor is None:
        return
    path = user_scope_path(actor)
    if path is None or not enterprise.org_unit.path.startswith(path):
        raise OutOfScope(f"企业“{enterprise.name}”不在您的管辖范围内。", field="enterprise")


def _year(value: Any, *, field: str = "year") -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise ServiceError("invalid", "年度应为四位年份，如 2012。", field=field) from None
    if not 2000 <= year <= timezone.localdate().year + 1:
        raise ServiceError("invalid", f"年度（{year}）应在 2000 年至明年之间。", field=field)
    return year


# --- the model of a year --------------------------------------------------------------------------------


def clean_weights(
    weights: Mapping[str, Any], labels: Mapping[str, str] | None = None
) -> list[tuple[str, str, decimal.Decimal]]:
    """(source, label, weight) of the dimensions with a weight above 0; the weights must sum to 100 %."""
    rows = []
    total = decimal.Decimal("0")
    for source in Source.values:
        raw = weights.get(source, 0)
        try:
            weight = decimal.Decimal(str(raw if raw not in (None, "") else 0)).quantize(
                decimal.Decimal("0.01")
            )
        except decimal.InvalidOperation:
            raise ServiceError(
                "invalid", f"“{Source(source).label}”的权重应为数字（百分比），如 15。", field=source
            ) from None
        if weight < 0 or weight > HUNDRED:
            raise ServiceError("invalid", f"“{Source(source).label}”的权重应在 0–100 之间。", field=source)
        if weight > 0:
            label = clean_text((labels or {}).get(source, "")) or str(Source(source).label)
            rows.append((source, label[:50], weight))
            total += weight
    if total != HUNDRED:
        raise ServiceError(
            "weights_total",
            f"各维度权重之和应为 100%，现为 {total.normalize():f}%，"
            + (
                f"请再减少 {(total - HUNDRED).normalize():f}%。"
                if total > HUNDRED
                else f"还差 {(HUNDRED - total).normalize():f}%。"
            ),
            field="weights",
        )
    return rows


@transaction.atomic
def indexmodel_save(
    *,
    actor: Any,
    year: Any,
    weights: Mapping[str, Any],
    labels: Mapping[str, str] | None = None,
    name: str = "和谐劳动关系指数",
    city_level_min: Any = 90,
    district_level_min: Any = 80,
    city_valid_years: Any = 3,
    district_valid_years: Any = 2,
) -> IndexModel:
    """Create or replace the model of a year. A past year whose scores were computed keeps its model."""
    if actor is not None and not can_configure(actor):
        raise NotAllowed("和谐指数模型全市统一，只有市级管理员可以设置。")
    year = _year(year)
    rows = clean_weights(weights, labels)
    try:
        city_min = decimal.Decimal(str(city_level_min))
        district_min = decimal.Decimal(str(district_level_min))
        city_years, district_years = int(city_valid_years), int(district_valid_years)
    except (decimal.InvalidOperation, TypeError, ValueError):
        raise ServiceError(
            "invalid", "命名分数线应为 0–100 的数字，有效年数应为 1–10 的整数。", field="city_level_min"
        ) from None
    if not (0 <= district_min <= city_min <= HUNDRED):
        raise ServiceError("invalid", "分数线应满足 0 ≤ 区级 ≤ 市级 ≤ 100。", field="district_level_min")
    if not (1 <= district_years <= 10 and 1 <= city_years <= 10):
        raise ServiceError("invalid", "命名有效年数应为 1–10 年。", field="city_valid_years")
    model = IndexModel.objects.select_for_update().filter(year=year).first()
    if model is not None and year < timezone.localdate().year and Score.objects.filter(year=year).exists():
        raise ServiceError(
            "frozen",
            f"{year} 年的指数已按该年模型计算，模型不能再修改（历年得分保持按当年模型计算）；请设置今年或以后年度的模型。",
            field="year",
        )
    fields = {
        "name": clean_text(name)[:100] or "和谐劳动关系指数",
        "city_level_min": city_min,
        "district_level_min": district_min,
        "city_valid_years": city_years,
        "district_valid_years": district_years,
    }
    if model is None:
        model = IndexModel.objects.create(year=year, **fields)
        before: dict[str, Any] = {}
    else:
        before = {
            **audit_snapshot(model, MODEL_FIELDS),
            "weights": {d.source: str(d.weight) for d in model.dimensions.all()},
        }
        for key, value in fields.items():
            setattr(model, key, value)
        model.save()
        model.dimensions.all().delete()
    Dimension.objects.bulk_create(
        [
            Dimension(model=model, source=s, label=label, weight=w, order=i)
            for i, (s, label, w) in enumerate(rows)
        ]
    )
    after = {**audit_snapshot(model, MODEL_FIELDS), "weights": {s: str(w) for s, _, w in rows}}
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if not before else AuditAction.UPDATE,
        instance=model,
        changes=audit_diff(before, after),
        unit_path=_city_path(actor),
    )
    return model


def model_for(year: int) -> IndexModel | None:
    return IndexModel.objects.filter(year=year).prefetch_related("dimensions").first()


# --- survey items ------------------------------------------------------------------------------------------


@transaction.atomic
def survey_save(*, actor: Any, enterprise: Enterprise, year: Any, score: Any, note: str = "") -> Survey:
    """Enter (or correct) the survey score (0–100) of an enterprise for a year it existed in."""
    if actor is not None and not can_edit(actor):
        raise NotAllowed("您的角色不能录入调查项目（需要“维护企业和工会”权限）。")
    _require_scope(actor, enterprise)
    year = _year(year)
    problem = scoring.existence_problem(enterprise, year)
    if problem:
        raise ServiceError("not_existing", problem, field="year")
    try:
        value = decimal.Decimal(str(score)).quantize(decimal.Decimal("0.01"))
    except (decimal.InvalidOperation, TypeError):
        raise ServiceError("invalid", "调查得分应为 0–100 的数字。", field="score") from None
    if not 0 <= value <= HUNDRED:
        raise ServiceError("invalid", f"调查得分（{value}）应在 0–100 之间。", field="score")
    survey = Survey.objects.select_for_update().filter(enterprise=enterprise, year=year).first()
    who = actor if _active(actor) else None
    if survey is None:
        survey = Survey.objects.create(
            enterprise=enterprise, year=year, score=value, note=clean_free_text(note), entered_by=who
        )
        audit_created(actor=actor, instance=survey, fields=SURVEY_FIELDS, unit_path=enterprise.org_unit.path)
        return survey
    before = audit_snapshot(survey, SURVEY_FIELDS)
    survey.score, survey.note, survey.entered_by = value, clean_free_text(note), who
    survey.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=survey,
        changes=audit_diff(before, audit_snapshot(survey, SURVEY_FIELDS)),
        unit_path=enterprise.org_unit.path,
    )
    return survey


# --- computing -------------------------------------------------------------------------------------------


def _require_model(year: int) -> IndexModel:
    model = model_for(year)
    if model is None:
        raise ServiceError(
            "no_model", f"{year} 年的和谐指数模型尚未设置，请市级管理员先设置维度和权重。", field="year"
        )
    return model


@transaction.atomic
def score_compute_enterprise(*, actor: Any, enterprise: Enterprise, year: Any) -> Score:
    """Compute one enterprise's index for a year it existed in (the same set-based code, for one id)."""
    if actor is not None and not can_edit(actor):
        raise NotAllowed("您的角色不能计算和谐指数。")
    _require_scope(actor, enterprise)
    year = _year(year)
    problem = scoring.existence_problem(enterprise, year)
    if problem:
        raise ServiceError("not_existing", problem, field="year")
    model = _require_model(year)
    scoring.compute_year(year=year, model=model, enterprise_ids=[enterprise.pk])
    score = Score.objects.get(year=year, enterprise=enterprise)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=score,
        changes={"total": [None, str(score.total)]},
        unit_path=enterprise.org_unit.path,
        note="计算和谐指数",
    )
    return score


@transaction.atomic
def run_start(*, actor: Any, year: Any) -> Run:
    """Queue the computation of the whole city's index for a year (a background task with a progress bar)."""
    if actor is not None and not can_configure(actor):
        raise NotAllowed("全市和谐指数只能由市级管理员发起计算。")
    year = _year(year)
    if year > timezone.localdate().year:
        raise ServiceError("invalid", f"{year} 年尚未到来，不能计算。", field="year")
    _require_model(year)
    if Run.objects.filter(year=year, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).exists():
        raise ServiceError("busy", f"{year} 年的和谐指数正在计算，请等待完成。", field="year")
    unit = (
        actor.org_unit
        if actor is not None and actor.org_unit_id
        else OrgUnit.objects.filter(parent__isnull=True).first()
    )
    run = Run.objects.create(
        year=year, org_unit=unit, actor=actor if _active(actor) else None, stage="排队中"
    )
    audit_created(actor=actor, instance=run, fields=("year",), unit_path=unit.path if unit else "")
    transaction.on_commit(partial(_enqueue, run.pk))
    return run


def _enqueue(run_pk: int) -> None:
    from safetynet.harmony.tasks import compute_index

    compute_index.enqueue(run_pk)


def run_execute(*, run_id: int) -> Run:
    """The background work of a run: progress is written as it goes (outside the saving transaction)."""
    run = Run.objects.get(pk=run_id)
    if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return run
    Run.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, stage="开始", percent=1)
    started = time.monotonic()

    def progress(stage: str, percent: int) -> None:
        Run.objects.filter(pk=run.pk).update(stage=stage[:30], percent=min(percent, 99))

    try:
        count = scoring.compute_year(year=run.year, model=_require_model(run.year), progress=progress)
    except Exception as exc:  # the run records why; the page shows it
        Run.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    seconds = round(time.monotonic() - started, 2)
    Run.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE,
        stage="完成",
        percent=100,
        scored=count,
        seconds=seconds,
        finished_at=timezone.now(),
    )
    run.refresh_from_db()
    _warm_ranking(run)
    audit_record(
        actor=run.actor,
        action=AuditAction.UPDATE,
        instance=run,
        changes={"status": [RunStatus.QUEUED, RunStatus.DONE], "scored": [0, count]},
        unit_path=run.org_unit.path,
        note=f"计算 {run.year} 年和谐指数 {count} 家，用时 {seconds} 秒",
    )
    return run


def _warm_ranking(run: Run) -> None:
    """Fill the city's ranking summary (count, by unit, by industry) right after the run, so the first look
    at the new ranking does not pay for reading every score of the year."""
    from safetynet.harmony import selectors

    if run.actor is None or run.actor.org_unit_id is None:
        return
    top = run.actor.org_unit
    children = list(OrgUnit.objects.filter(parent=top).order_by("code"))
    try:
        selectors.summary(run.actor, year=run.year, unit=None, units=children)
    except Exception:  # a courtesy: the page computes it itself when missing
        return


# --- 和谐企业 ---------------------------------------------------------------------------------------------


def proposed_level(model: IndexModel, total: decimal.Decimal) -> str:
    if total >= model.city_level_min:
        return DesignationLevel.CITY
    if total >= model.district_level_min:
        return DesignationLevel.DISTRICT
    return ""


@transaction.atomic
def designation_propose(*, actor: Any, year: Any, unit: OrgUnit | None = None) -> int:
    """Propose 和谐企业 for every enterprise in scope whose score of the year reaches a level's minimum and
    that has no designation for that year yet; level and validity years follow the year's model."""
    if actor is not None and not can_edit(actor):
        raise NotAllowed("您的角色不能提名和谐企业。")
    year = _year(year)
    model = _require_model(year)
    scores = Score.objects.filter(year=year, total__gte=model.district_level_min)
    scores = scores.visible_to(actor) if actor is not None else scores
    if unit is not None:
        scores = scores.within(unit.path)
    scores = scores.exclude(enterprise__harmony_designations__year=year).select_related(
        "enterprise__org_unit"
    )
    who = actor if _active(actor) else None
    created = []
    for score in scores:
        level = proposed_level(model, score.total)
        years = model.city_valid_years if level == DesignationLevel.CITY else model.district_valid_years
        created.append(
            Designation(
                enterprise=score.enterprise,
                year=year,
                level=level,
                score=score.total,
                valid_from_year=year + 1,
                valid_to_year=year + years,
                proposed_by=who,
            )
        )
    Designation.objects.bulk_create(created, batch_size=2000)
    from safetynet.core.services import audit_build, audit_bulk

    audit_bulk(
        [
            audit_build(
                actor=actor,
                action=AuditAction.CREATE,
                instance=d,
                changes={
                    k: [None, v]
                    for k, v in audit_snapshot(d, DESIGNATION_FIELDS).items()
                    if v not in (None, "")
                },
                unit_path=d.enterprise.org_unit.path,
                note="依据和谐指数提名",
            )
            for d in created
        ]
    )
    return len(created)


def designation_decide(
    *, actor: Any, designation: Designation, action: str, reason: str = "", version: int | None = None
) -> Designation:
    """Approve or reject a proposed 和谐企业 (the district's unit administrator)."""
    reason = clean_free_text(reason)

    def guard(row: Designation) -> None:
        if actor is None:
            return
        if not can_decide(actor):
            raise NotAllowed("和谐企业由区市县总工会的单位管理员审批。")
        _require_scope(actor, row.enterprise)

    def apply(row: Designation, target: str) -> dict[str, Any]:
        if action == DesignationAction.REJECT and not reason:
            raise ServiceError("required", "不予批准时请填写审批意见。", field="reason")
        return {
            "reason": reason,
            "decided_by": actor if _active(actor) else None,
            "decided_at": timezone.now(),
        }

    return transition_run(
        instance=designation,
        table=DESIGNATION_TABLE,
        action=action,
        actor=actor,
        unit_path=lambda row: row.enterprise.org_unit.path,
        audit_fields=("reason",),
        version=version,
        related=("enterprise__org_unit",),
        guard=guard,
        apply=apply,
    )


def designation_current(enterprise: Enterprise, year: int | None = None) -> Designation | None:
    """The approved designation in force in ``year`` (default: this year)."""
    year = year or timezone.localdate().year
    return (
        Designation.objects.filter(
            enterprise=enterprise,
            status=DesignationStatus.APPROVED,
            valid_from_year__lte=year,
            valid_to_year__gte=year,
        )
        .order_by("-year")
        .first()
    )
