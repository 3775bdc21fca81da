"""Live scores of a scheme as of any day: every assessed unit and every item in one pass.

A fixed handful of statements, whatever the number of units: the day's hierarchy; one run of the indicator
engine for every indicator the scheme names (the whole subtree at once); the targets of the year; one
grouped statement over the year's reports (first report per form, period and unit); one grouped statement
over the year's cases; the reviews and the veto findings of the scheme. Each figure is then attributed to the
assessed unit whose path its own unit lies under, and every item's points carry the arithmetic and the links
to the records behind them.
"""

from __future__ import annotations

import datetime
import decimal
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.urls import reverse
from django.utils import timezone

from safetynet.assessment import rules
from safetynet.assessment.models import FinalScore, Item, ItemKind, Review, Scheme, VetoFinding
from safetynet.indicators.engine import AS_OF, UnitNode, hierarchy_nodes
from safetynet.indicators.models import Target
from safetynet.indicators.registry import registry
from safetynet.indicators.selectors import compute_cached

D = decimal.Decimal


@dataclass
class Link:
    label: str
    url: str


@dataclass
class ItemScore:
    item: Item
    points: D
    explanation: str
    links: list[Link] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    vetoed: bool = False  # veto items: a finding holds against the unit


@dataclass
class UnitScore:
    unit: UnitNode
    items: dict[int, ItemScore] = field(default_factory=dict)
    subtotal: D = D(0)
    total: D = D(0)
    cap: D | None = None
    rank: int = 0

    def item_list(self, items: list[Item]) -> list[ItemScore]:
        return [self.items[item.pk] for item in items if item.pk in self.items]


@dataclass
class ScoreSheet:
    scheme: Scheme
    day: datetime.date
    items: list[Item]
    units: list[UnitScore]
    frozen: bool = False

    def unit(self, unit_id: int) -> UnitScore | None:
        return next((u for u in self.units if u.unit.unit_id == unit_id), None)


def assessed_units(scheme: Scheme, day: datetime.date, nodes: list[UnitNode] | None = None) -> list[UnitNode]:
    """The units directly below the scheme's unit as the hierarchy stood on ``day``."""
    nodes = nodes if nodes is not None else hierarchy_nodes(day, AS_OF)
    return [n for n in nodes if n.parent_id == scheme.org_unit_id]


def _owner(path: str, roots: dict[str, int]) -> int | None:
    """The assessed unit whose subtree contains ``path`` (paths are "1/5/27/": the second-level prefix)."""
    parts = path.split("/")
    for length in range(1, len(parts)):
        found = roots.get("/".join(parts[:length]) + "/")
        if found is not None:
            return found
    return None


def _url(name: str, **params: Any) -> str:
    return f"{reverse(name)}?{urlencode({k: v for k, v in params.items() if v is not None})}"


def _end_of_day(day: datetime.date) -> datetime.datetime:
    from safetynet.reporting.periods import end_of_day

    return end_of_day(day)


# --- the facts ----------------------------------------------------------------------------------------------


def _indicator_figures(
    scheme: Scheme, day: datetime.date, units: list[UnitNode], metrics: list[str], root_code: str
) -> tuple[dict[tuple[int, str], Any], dict[tuple[int, str], D]]:
    """(engine rows by (unit, metric), targets by (unit, metric)) for the assessed units."""
    if not metrics:
        return {}, {}
    known = [m for m in metrics if m in registry().indicators]
    wanted = {u.unit_id for u in units}
    rows = {}
    if known:
        for row in compute_cached(day=day, unit_code=root_code, indicator_codes=known):
            if row.unit_id in wanted:
                rows[(row.unit_id, row.indicator)] = row
    targets = {
        (t["org_unit_id"], t["indicator"]): t["value"]
        for t in Target.objects.filter(
            year=scheme.year, org_unit_id__in=wanted, indicator__in=metrics
        ).values("org_unit_id", "indicator", "value")
    }
    return rows, targets


@dataclass
class ReportFlags:
    """Late and missing reporters of one form and period below one assessed unit."""

    form_id: int
    form_code: str
    period: str
    late: int = 0
    missing: int = 0


def report_flags(
    year: int, day: datetime.date, nodes: list[UnitNode], roots: dict[str, int]
) -> dict[int, list[ReportFlags]]:
    """Late and missing reports of the year's periods due by ``day``, per assessed unit.

    Set-based: the forms; one grouped statement counting, per form, period and assessed unit, the reporters
    that reported by ``day`` and those that did so by the due date (each expected reporter's path tells its
    assessed unit); the expected reporters are counted from the units' open dates."""
    from safetynet.orgs.models import OrgUnit
    from safetynet.reporting import periods
    from safetynet.reporting.models import Report, ReportForm

    due: list[tuple[Any, Any]] = []
    for form in ReportForm.objects.all():
        period = periods.Period(form.period_kind, year, 1)
        while period.year == year:
            if form.in_use_for(period) and period.due_date(form.due_day) < day:
                due.append((form, period))
            period = period.next()
    found: dict[int, list[ReportFlags]] = defaultdict(list)
    if not due or not roots:
        return found
    owner_of = {n.unit_id: _owner(n.path, roots) for n in nodes}
    owner_of = {unit: owner for unit, owner in owner_of.items() if owner is not None}
    owner_case = Case(
        *[When(unit__path__startswith=path, then=Value(unit_id)) for path, unit_id in roots.items()],
        default=Value(None),
        output_field=IntegerField(),
    )
    timely = Q()
    for form, period in due:
        timely |= Q(
            form_id=form.pk,
            period=period.code,
            submitted_at__lt=periods.end_of_day(period.due_date(form.due_day)),
        )
    levels = {form.level for form, _ in due}
    expected_units = [
        (pk, level, valid_from, valid_to, owner_of[pk])
        for pk, level, valid_from, valid_to in OrgUnit.objects.filter(level__in=levels).values_list(
            "pk", "level", "valid_from", "valid_to"
        )
        if pk in owner_of
    ]
    counted = (
        Report.objects.filter(
            form_id__in={form.pk for form, _ in due},
            period__in={p.code for _, p in due},
            submitted_at__lt=_end_of_day(day),
        )
        .order_by()
        .annotate(owner=owner_case)
        .filter(owner__isnull=False)
        .values("form_id", "period", "owner")
        .annotate(
            received=Count("unit_id", distinct=True), timely=Count("unit_id", distinct=True, filter=timely)
        )
    )
    counts = {(r["form_id"], r["period"], r["owner"]): (r["received"], r["timely"]) for r in counted}
    for form, period in due:
        expected: dict[int, int] = defaultdict(int)
        for _pk, level, valid_from, valid_to, owner in expected_units:
            if level != form.level:
                continue
            if (valid_from and valid_from > period.start) or (valid_to and valid_to <= period.last_day):
                continue
            expected[owner] += 1
        for owner, number in expected.items():
            received, on_time = counts.get((form.pk, period.code, owner), (0, 0))
            # Reports of units not expected (closed since, another level) are refused when filed; the counts
            # are still bounded by the expected number.
            received = min(received, number)
            on_time = min(on_time, received)
            if received - on_time or number - received:
                found[owner].append(
                    ReportFlags(
                        form.pk, form.code, period.code, late=received - on_time, missing=number - received
                    )
                )
    return found


def case_ratios(
    year: int, day: datetime.date, nodes: list[UnitNode], roots: dict[str, int]
) -> dict[int, list[int]]:
    """[closed on time, closed] per assessed unit: the year's cases closed by ``day``, at their origin unit."""
    from safetynet.cases.models import Case, CaseStatus

    start = timezone.make_aware(datetime.datetime(year, 1, 1))
    end = _end_of_day(day)
    paths = {n.unit_id: n.path for n in nodes}
    grouped = (
        Case.objects.filter(
            received_at__gte=start, received_at__lt=end, status=CaseStatus.CLOSED, closed_at__lt=end
        )
        .order_by()
        .values("origin_unit_id")
        .annotate(closed=Count("pk"), on_time=Count("pk", filter=Q(closed_on_time=True)))
    )
    found: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in grouped:
        path = paths.get(row["origin_unit_id"])
        owner = _owner(path, roots) if path else None
        if owner is not None:
            found[owner][0] += row["on_time"]
            found[owner][1] += row["closed"]
    return found


def assistance_budget_ratios(
    year: int, day: datetime.date, units: list[UnitNode]
) -> dict[int, tuple[decimal.Decimal, decimal.Decimal]]:
    """(paid, budget) per assessed unit: net payments made by ``day`` in the year's assistance rounds under the
    unit ÷ the unit's own budget shares in them (two grouped queries, in assistance.selectors.budget_used)."""
    from safetynet.assistance.selectors import budget_used
    from safetynet.orgs.models import OrgUnit

    as_of = min(day, datetime.date(year, 12, 31))
    if as_of.year != year:  # scored before the year began: nothing paid yet
        return {}
    found = OrgUnit.objects.filter(pk__in=[n.unit_id for n in units])
    return {used.unit.pk: (used.paid, used.budget) for used in budget_used(list(found), as_of)}


# --- the sheet ------------------------------------------------------------------------------------------


def compute_sheet(scheme: Scheme, day: datetime.date, unit_ids: set[int] | None = None) -> ScoreSheet:
    """Every assessed unit (or those of ``unit_ids``) and every item, as of ``day``."""
    items = list(scheme.items.all())
    nodes = hierarchy_nodes(day, AS_OF)
    root = next((n for n in nodes if n.unit_id == scheme.org_unit_id), None)
    units = [n for n in nodes if n.parent_id == scheme.org_unit_id]
    if unit_ids is not None:
        units = [n for n in units if n.unit_id in unit_ids]
    roots = {n.path: n.unit_id for n in units}
    kinds = {item.kind for item in items}
    metrics = sorted({item.rule.get("metric") for item in items if item.kind == ItemKind.INDICATOR})
    rows, targets = _indicator_figures(scheme, day, units, metrics, root.code) if root and units else ({}, {})
    flags = report_flags(scheme.year, day, nodes, roots) if ItemKind.DEDUCTION in kinds and units else {}
    ratio_sources = {item.rule.get("source") for item in items if item.kind == ItemKind.RATIO}
    ratios = (
        case_ratios(scheme.year, day, nodes, roots)
        if "cases_closed_on_time" in ratio_sources and units
        else {}
    )
    budgets = (
        assistance_budget_ratios(scheme.year, day, units) if "assistance_budget_used" in ratio_sources else {}
    )
    # Reviews and veto findings judge the year's work, mostly after it ends: as of the year's last day (or
    # later) all of them count; before it, those made by the day.
    judged = day if day < datetime.date(scheme.year, 12, 31) else datetime.date.max
    reviews: dict[tuple[int, int], Review] = {}
    for review in Review.objects.filter(item__scheme=scheme, reviewed_on__lte=judged).order_by(
        "reviewed_on", "pk"
    ):
        reviews[(review.item_id, review.org_unit_id)] = review  # the latest one counts
    vetoes: dict[tuple[int, int], list[VetoFinding]] = defaultdict(list)
    for finding in VetoFinding.objects.filter(item__scheme=scheme, found_on__lte=judged):
        vetoes[(finding.item_id, finding.org_unit_id)].append(finding)

    sheet = ScoreSheet(scheme=scheme, day=day, items=items, units=[])
    for node in units:
        unit_score = UnitScore(unit=node)
        for item in items:
            weight = item.weight
            if item.kind == ItemKind.INDICATOR:
                score = _score_indicator(item, node, day, rows, targets)
            elif item.kind == ItemKind.DEDUCTION:
                score = _score_deduction(item, node, day, flags.get(node.unit_id, []))
            elif item.kind == ItemKind.RATIO:
                if item.rule.get("source") == "assistance_budget_used":
                    score = _score_budget(item, node, day, budgets.get(node.unit_id), scheme.year)
                else:
                    score = _score_ratio(item, node, day, ratios.get(node.unit_id, [0, 0]), scheme.year)
            elif item.kind == ItemKind.MANUAL:
                review = reviews.get((item.pk, node.unit_id))
                if review is None:
                    score = ItemScore(item, rules.points(0), "尚未评分（待审核材料）")
                else:
                    score = ItemScore(
                        item,
                        rules.points(min(review.points, weight)),
                        f"{review.reviewed_on:%Y-%m-%d} 评分：{review.reason}",
                    )
                score.links.append(
                    Link("材料与评分", reverse("assessment:unit_score", args=[scheme.pk, node.unit_id]))
                )
            else:  # veto
                found = vetoes.get((item.pk, node.unit_id), [])
                cap = D(item.rule.get("cap", "60"))
                if found:
                    score = ItemScore(
                        item,
                        rules.points(0),
                        "；".join(f"{f.found_on:%Y-%m-%d} {f.reason}" for f in found)
                        + f"（总分不超过 {cap}）",
                        vetoed=True,
                    )
                    unit_score.cap = cap if unit_score.cap is None else min(cap, unit_score.cap)
                else:
                    score = ItemScore(item, rules.points(0), "未触发")
            unit_score.items[item.pk] = score
        unit_score.subtotal = rules.points(sum((s.points for s in unit_score.items.values()), D(0)))
        unit_score.total = (
            min(unit_score.subtotal, unit_score.cap) if unit_score.cap is not None else unit_score.subtotal
        )
        sheet.units.append(unit_score)
    rank_units(sheet.units)
    return sheet


def rank_units(units: list[UnitScore]) -> None:
    """Highest total first; equal totals share a rank (1, 2, 2, 4)."""
    units.sort(key=lambda u: (-u.total, u.unit.code))
    previous, rank = None, 0
    for index, unit_score in enumerate(units, start=1):
        if unit_score.total != previous:
            rank, previous = index, unit_score.total
        unit_score.rank = rank


def _score_indicator(item: Item, node: UnitNode, day: datetime.date, rows: dict, targets: dict) -> ItemScore:
    metric = item.rule.get("metric", "")
    row = rows.get((node.unit_id, metric))
    target = targets.get((node.unit_id, metric))
    label = registry().indicators[metric].label if metric in registry().indicators else metric
    links = [
        Link(
            f"{label}明细",
            _url(
                "indicators:records", indicator=metric, unit=node.unit_id, as_of=day.isoformat(), part="gap"
            ),
        )
    ]
    if row is None:
        return ItemScore(item, rules.points(0), f"指标“{label}”暂无数据", links)
    if target is None:
        return ItemScore(item, rules.points(0), f"未设定 {item.scheme.year} 年“{label}”目标", links)
    value, how = rules.indicator_points(item.rule, item.weight, row.rate, D(str(target)))
    rate_text = "—" if row.rate is None else f"{row.rate * 100:.1f}%"
    explanation = (
        f"{label} {row.numerator}/{row.denominator} = {rate_text}，目标 {D(str(target)) * 100:.1f}%；{how}"
    )
    figures = {
        "numerator": row.numerator,
        "denominator": row.denominator,
        "rate": row.rate,
        "target": str(target),
    }
    return ItemScore(item, value, explanation, links, figures)


def _score_deduction(item: Item, node: UnitNode, day: datetime.date, flags: list[ReportFlags]) -> ItemScore:
    late = sum(f.late for f in flags)
    missing = sum(f.missing for f in flags)
    per_late, per_missing = D(item.rule.get("late", "2")), D(item.rule.get("missing", "5"))
    off = per_late * late + per_missing * missing
    value = rules.points(max(D(0), item.weight - off))
    explanation = f"迟报 {late} 次 × {per_late} + 漏报 {missing} 次 × {per_missing} = 扣 {off}" + (
        f"（以本项分值 {item.weight} 为限）" if off > item.weight else ""
    )
    links = []
    for flag in flags:
        for kind, count, label in (("late", flag.late, "迟报"), ("missing", flag.missing, "漏报")):
            if count:
                links.append(
                    Link(
                        f"{flag.form_code} {flag.period} {label} {count} 家",
                        _url(
                            "reporting:overview",
                            form=flag.form_id,
                            period=flag.period,
                            unit=node.unit_id,
                            as_of=day.isoformat(),
                            flag=kind,
                        ),
                    )
                )
    return ItemScore(item, value, explanation, links, {"late": late, "missing": missing})


def _score_ratio(item: Item, node: UnitNode, day: datetime.date, counts: list[int], year: int) -> ItemScore:
    on_time, closed = counts
    links = [
        Link(
            "已办结案件",
            _url(
                "indicators:records",
                indicator="case_on_time_rate",
                unit=node.unit_id,
                as_of=day.isoformat(),
                part="denominator",
            ),
        )
    ]
    if closed == 0:
        return ItemScore(
            item,
            rules.points(item.weight),
            f"{year} 年尚无办结案件，不扣分",
            links,
            {"on_time": 0, "closed": 0},
        )
    value = rules.points(item.weight * D(on_time) / D(closed))
    explanation = f"按期办结 {on_time} 件 ÷ 办结 {closed} 件 × {item.weight}"
    return ItemScore(item, value, explanation, links, {"on_time": on_time, "closed": closed})


def _score_budget(
    item: Item,
    node: UnitNode,
    day: datetime.date,
    figures: tuple[decimal.Decimal, decimal.Decimal] | None,
    year: int,
) -> ItemScore:
    paid, budget = figures or (D(0), D(0))
    links = [Link("帮扶资金发放", _url("assistance:payment_list", unit=node.unit_id))]
    if not budget:
        return ItemScore(
            item, rules.points(0), f"{year} 年未分配帮扶预算，不得分", links, {"paid": "0", "budget": "0"}
        )
    share = min(D(paid) / D(budget), D(1))
    value = rules.points(item.weight * share)
    explanation = f"已发放 {paid:,.2f} 元 ÷ 预算 {budget:,.2f} 元 × {item.weight}"
    return ItemScore(item, value, explanation, links, {"paid": str(paid), "budget": str(budget)})


def final_sheet(scheme: Scheme) -> ScoreSheet:
    """The frozen figures (after appeal decisions) as a sheet, ranked the same way."""
    items = list(scheme.items.all())
    by_item = {item.pk: item for item in items}
    units: dict[int, UnitScore] = {}
    nodes = {n.unit_id: n for n in hierarchy_nodes(scheme.frozen_on, AS_OF)} if scheme.frozen_on else {}
    for row in FinalScore.objects.filter(scheme=scheme).select_related("org_unit"):
        node = nodes.get(row.org_unit_id) or UnitNode(
            row.org_unit_id,
            row.org_unit.code,
            row.org_unit.name,
            row.org_unit.level,
            row.org_unit.path,
            row.org_unit.parent_id,
        )
        unit_score = units.setdefault(row.org_unit_id, UnitScore(unit=node))
        if row.item_id is None:
            unit_score.total = row.points
            unit_score.cap = row.cap
        else:
            unit_score.items[row.item_id] = ItemScore(by_item[row.item_id], row.points, row.explanation)
    for unit_score in units.values():
        unit_score.subtotal = rules.points(sum((s.points for s in unit_score.items.values()), D(0)))
    sheet = ScoreSheet(
        scheme=scheme, day=scheme.frozen_on, items=items, units=list(units.values()), frozen=True
    )
    rank_units(sheet.units)
    return sheet
