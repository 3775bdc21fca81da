"""The harmonious-labour-relations index, set-based.

For a year Y the facts are read as of its last day (31 December; today while Y is the current year): one
grouped query per dimension over all enterprises at once (never one per enterprise), then the scores are
computed in memory and written with bulk inserts. Each score keeps the raw facts, so it can explain itself
with the year's model (see :func:`explain`).

Values of the dimensions (0–1, times the dimension's weight in points):
- labour_contracts: signed / active employments on the day (0 without recorded employees);
- union: 1 when a union covers the enterprise on the day; collective_contract: 1 with a contract in force;
- congress: ½ for a workers' congress, ½ for factory-affairs openness established on the day;
- wages / social_insurance: 1 without a 欠薪 / 欠保 warning (not dismissed) discovered in the year up to the day;
- safety: 1 without an urgent incident of category 安全生产事故 known in the year;
- disputes: cases received in the year (merged ones left out): 0 → 1, 1–2 → ½, 3 or more → 0;
- warnings: 1 without any other warning signal (not dismissed) in the year;
- survey: the survey score entered for the year / 100 (0 when none was entered).
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import zoneinfo
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from safetynet.harmony.models import Dimension, IndexModel, Score, Source, Survey
from safetynet.orgs.models import Enterprise, UnionCoverage, active_on_q

Progress = Callable[[str, int], None]
CHUNK = 900
BATCH = 5000


def as_of(year: int, today: datetime.date | None = None) -> datetime.date:
    """The day a year's facts are read: its last day, or today while it is the current year."""
    today = today or timezone.localdate()
    return today if year == today.year else datetime.date(year, 12, 31)


def _moments(year: int, day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime(year, 1, 1, tzinfo=zone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), tzinfo=zone)
    return start, end


def existing_enterprises(day: datetime.date) -> Any:
    """Enterprises operating on the day: founded on or before it, not deregistered on or before it."""
    return Enterprise.objects.filter(founded_on__lte=day).filter(
        Q(deregistered_on__isnull=True) | Q(deregistered_on__gt=day)
    )


def existence_problem(enterprise: Enterprise, year: int, today: datetime.date | None = None) -> str:
    """Why the enterprise cannot have an index for the year (Chinese), or ""."""
    day = as_of(year, today)
    if year > (today or timezone.localdate()).year:
        return f"{year} 年尚未到来，不能评价。"
    if enterprise.founded_on > day:
        return f"企业“{enterprise.name}”成立于 {enterprise.founded_on.isoformat()}，{year} 年末尚不存在，不能评价该年度。"
    if enterprise.deregistered_on is not None and enterprise.deregistered_on <= day:
        return (
            f"企业“{enterprise.name}”已于 {enterprise.deregistered_on.isoformat()} 注销，"
            f"{year} 年末已不存在，不能评价该年度。"
        )
    return ""


def _restrict(queryset: Any, ids: list[int] | None, field: str = "enterprise_id") -> Any:
    return queryset if ids is None else queryset.filter(**{f"{field}__in": ids})


def collect_facts(
    year: int, day: datetime.date, ids: list[int] | None, progress: Progress
) -> dict[str, dict[int, Any]]:
    """Every dimension's facts, one grouped query each: source → {enterprise id → fact}."""
    from safetynet.cases.models import Case, CaseStatus
    from safetynet.members.models import Employment
    from safetynet.programmes.models import (
        ContractCoverage,
        SystemCoverage,
        SystemKind,
        contract_in_force_condition,
    )
    from safetynet.reporting.models import Incident, WarningCategory, WarningSignal, WarningStatus

    start, end = _moments(year, day)
    facts: dict[str, dict[int, Any]] = {}
    steps = 9

    def step(n: int, name: str) -> None:
        progress(name, 5 + int(70 * n / steps))

    step(0, "劳动合同")
    employments = _restrict(
        Employment.objects.filter(valid_from__lte=day).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day)),
        ids,
    )
    facts[Source.LABOUR_CONTRACTS] = {
        row["enterprise_id"]: (row["signed"], row["total"])
        for row in employments.order_by()
        .values("enterprise_id")
        .annotate(total=Count("pk"), signed=Count("pk", filter=Q(contract_signed=True)))
    }
    step(1, "建会")
    covered = _restrict(
        UnionCoverage.objects.filter(active_on_q(day), union__founded_on__lte=day).filter(
            Q(union__dissolved_on__isnull=True) | Q(union__dissolved_on__gt=day)
        ),
        ids,
    )
    facts[Source.UNION] = {
        pk: 1 for pk in covered.order_by().values_list("enterprise_id", flat=True).distinct()
    }
    step(2, "集体合同")
    contracts = _restrict(
        ContractCoverage.objects.filter(contract_in_force_condition(day, "contract__")), ids
    )
    facts[Source.COLLECTIVE_CONTRACT] = {
        pk: 1 for pk in contracts.order_by().values_list("enterprise_id", flat=True).distinct()
    }
    step(3, "职代会和厂务公开")
    systems = _restrict(
        SystemCoverage.objects.filter(active_on_q(day), system__established_on__lte=day).filter(
            Q(system__abolished_on__isnull=True) | Q(system__abolished_on__gt=day)
        ),
        ids,
    )
    congress: dict[int, tuple[int, int]] = {}
    for pk, system in systems.order_by().values_list("enterprise_id", "system__system").distinct():
        had = congress.get(pk, (0, 0))
        congress[pk] = (1, had[1]) if system == SystemKind.CONGRESS else (had[0], 1)
    facts[Source.CONGRESS] = congress
    step(4, "预警信息")
    warnings = _restrict(
        WarningSignal.objects.filter(
            discovered_on__gte=datetime.date(year, 1, 1), discovered_on__lte=day
        ).exclude(status=WarningStatus.DISMISSED),
        ids,
    )
    wages: dict[int, int] = {}
    insurance: dict[int, int] = {}
    others: dict[int, int] = {}
    for pk, category, n in (
        warnings.order_by().values_list("enterprise_id", "category").annotate(n=Count("pk"))
    ):
        target = (
            wages
            if category == WarningCategory.WAGE_ARREARS
            else insurance
            if category == WarningCategory.SOCIAL_INSURANCE
            else others
        )
        target[pk] = target.get(pk, 0) + n
    facts[Source.WAGES], facts[Source.SOCIAL_INSURANCE], facts[Source.WARNINGS] = wages, insurance, others
    step(5, "安全生产事故")
    incidents = _restrict(
        Incident.objects.filter(
            category="safety_accident", enterprise__isnull=False, known_at__gte=start, known_at__lt=end
        ),
        ids,
    )
    facts[Source.SAFETY] = dict(incidents.order_by().values_list("enterprise_id").annotate(n=Count("pk")))
    step(6, "劳动争议和诉求")
    cases = _restrict(
        Case.objects.filter(enterprise__isnull=False, received_at__gte=start, received_at__lt=end).exclude(
            status=CaseStatus.MERGED
        ),
        ids,
    )
    facts[Source.DISPUTES] = dict(cases.order_by().values_list("enterprise_id").annotate(n=Count("pk")))
    step(7, "调查项目")
    surveys = _restrict(Survey.objects.filter(year=year), ids)
    facts[Source.SURVEY] = {pk: float(score) for pk, score in surveys.values_list("enterprise_id", "score")}
    step(8, "汇总")
    return facts


def value_of(source: str, fact: Any) -> float:
    """The dimension's value (0–1) from its fact (None: nothing recorded for the enterprise)."""
    if source == Source.LABOUR_CONTRACTS:
        return fact[0] / fact[1] if fact and fact[1] else 0.0
    if source in (Source.UNION, Source.COLLECTIVE_CONTRACT):
        return 1.0 if fact else 0.0
    if source == Source.CONGRESS:
        return (fact[0] + fact[1]) / 2 if fact else 0.0
    if source in (Source.WAGES, Source.SOCIAL_INSURANCE, Source.SAFETY, Source.WARNINGS):
        return 0.0 if fact else 1.0
    if source == Source.DISPUTES:
        n = fact or 0
        return 1.0 if n == 0 else 0.5 if n <= 2 else 0.0
    if source == Source.SURVEY:
        return fact / 100 if fact is not None else 0.0
    raise ValueError(source)


def _hundredths(weight: decimal.Decimal) -> int:
    return int((weight * 100).to_integral_value())


def points_cents(weight_cents: int, value: float) -> int:
    """Points in hundredths: weight × value rounded half up to 0.01 (integers, so 200,000 scores stay fast
    and exact; the epsilon absorbs binary noise such as 500 × 0.88 = 440.00000000000006)."""
    return math.floor(weight_cents * value + 0.5 + 1e-9)


def points_of(weight: decimal.Decimal, value: float) -> decimal.Decimal:
    return decimal.Decimal(points_cents(_hundredths(weight), value)).scaleb(-2)


def score_of(dimensions: list[Dimension], enterprise_facts: dict[str, Any]) -> decimal.Decimal:
    cents = sum(
        points_cents(_hundredths(d.weight), value_of(d.source, enterprise_facts.get(d.source)))
        for d in dimensions
    )
    return decimal.Decimal(cents).scaleb(-2)


def describe(source: str, fact: Any) -> str:
    """The fact in words, for the explanation."""
    if source == Source.LABOUR_CONTRACTS:
        return f"年末在职 {fact[1]} 人，已签劳动合同 {fact[0]} 人" if fact and fact[1] else "无在职职工记录"
    if source == Source.UNION:
        return "已被基层工会覆盖" if fact else "未建会"
    if source == Source.COLLECTIVE_CONTRACT:
        return "有有效的集体合同" if fact else "无有效的集体合同"
    if source == Source.CONGRESS:
        fact = fact or [0, 0]
        return f"职代会{'已建立' if fact[0] else '未建立'}，厂务公开{'已建立' if fact[1] else '未建立'}"
    if source == Source.WAGES:
        return f"当年欠薪预警 {fact} 条" if fact else "当年无欠薪预警"
    if source == Source.SOCIAL_INSURANCE:
        return f"当年欠保预警 {fact} 条" if fact else "当年无欠保预警"
    if source == Source.SAFETY:
        return f"当年安全生产事故 {fact} 起" if fact else "当年无安全生产事故"
    if source == Source.DISPUTES:
        return f"当年诉求案件 {fact} 件" if fact else "当年无诉求案件"
    if source == Source.WARNINGS:
        return f"当年其他预警 {fact} 条" if fact else "当年无其他预警"
    if source == Source.SURVEY:
        return f"调查得分 {fact:g}" if fact is not None else "未录入调查，本项不得分"
    return ""


def explain(score: Score, dimensions: Iterable[Dimension]) -> list[dict[str, Any]]:
    rows = []
    for d in dimensions:
        fact = score.facts.get(d.source)
        value = value_of(d.source, fact)
        rows.append(
            {
                "label": d.label,
                "source": d.source,
                "weight": d.weight,
                "fact": describe(d.source, fact),
                "value": value,
                "points": points_of(d.weight, value),
            }
        )
    return rows


def compute_year(
    *,
    year: int,
    model: IndexModel,
    enterprise_ids: list[int] | None = None,
    progress: Progress | None = None,
    today: datetime.date | None = None,
) -> int:
    """(Re)compute the scores of the year for every enterprise existing on its as-of day (or only those of
    ``enterprise_ids``). Returns how many scores were written."""
    progress = progress or (lambda stage, percent: None)
    day = as_of(year, today)
    enterprises = existing_enterprises(day)
    if enterprise_ids is not None:
        enterprises = enterprises.filter(pk__in=enterprise_ids)
    rows = list(enterprises.order_by().values_list("pk", "org_unit_id", "industry_id"))
    progress("读取企业", 5)
    facts = collect_facts(year, day, None if enterprise_ids is None else [r[0] for r in rows], progress)
    dimensions = [(d.source, _hundredths(d.weight), facts[d.source]) for d in model.dimensions.all()]
    now = timezone.now()
    progress("计算", 78)
    # Many enterprises share the same facts: each distinct (source, fact) is valued once.
    points: dict[tuple[str, Any], int] = {}
    scores = []
    for pk, unit_id, industry_id in rows:
        cents = 0
        own: dict[str, Any] = {}
        for source, weight_cents, by_enterprise in dimensions:
            fact = by_enterprise.get(pk)
            if fact is not None:
                own[source] = fact
            key = (source, fact)
            value = points.get(key)
            if value is None:
                value = points[key] = points_cents(weight_cents, value_of(source, fact))
            cents += value
        scores.append((pk, unit_id, industry_id, cents, own))
    progress("保存", 85)
    with transaction.atomic():
        old = Score.objects.filter(year=year)
        if enterprise_ids is not None:
            old = old.filter(enterprise_id__in=enterprise_ids)
        old.delete()  # no signals, no cascades: one DELETE statement
        if connection.vendor == "postgresql":
            _copy_scores(scores, year=year, model_id=model.pk, now=now)
        else:
            Score.objects.bulk_create(
                [
                    Score(
                        enterprise_id=pk,
                        org_unit_id=unit_id,
                        industry_id=industry_id,
                        year=year,
                        model=model,
                        total=decimal.Decimal(cents).scaleb(-2),
                        facts=own,
                        computed_at=now,
                    )
                    for pk, unit_id, industry_id, cents, own in scores
                ],
                batch_size=BATCH,
            )
        IndexModel.objects.filter(year=year).update(scores_changed_at=timezone.now())
    if connection.vendor == "postgresql" and enterprise_ids is None:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Score._meta.db_table}")  # fresh statistics for the ranking's plans
    progress("完成", 100)
    return len(scores)


def _copy_scores(
    scores: list[tuple[int, int, str | None, int, dict[str, Any]]],
    *,
    year: int,
    model_id: int,
    now: datetime.datetime,
) -> None:
    """PostgreSQL's COPY in its text format, written in large blocks: 200,000 rows in a few seconds where
    INSERTs (or psycopg's row-by-row adaptation) took half a minute. The values are numbers, codes and JSON
    of numbers and ASCII keys: nothing that needs escaping (no tab, newline or backslash)."""
    table = Score._meta.db_table
    columns = "enterprise_id, org_unit_id, industry_id, year, model_id, total, facts, computed_at"
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    moment = now.isoformat()
    null = "\\N"
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for start in range(0, len(scores), BATCH):
                lines = [
                    f"{pk}\t{unit_id}\t{industry_id or null}\t{year}\t{model_id}\t{cents // 100}.{cents % 100:02d}"
                    f"\t{dumps(own)}\t{moment}\n"
                    for pk, unit_id, industry_id, cents, own in scores[start : start + BATCH]
                ]
                copy.write("".join(lines))
