"""Reporting rates and flags (报送率、及时率、零申报率; 漏报、迟报、瞒报), exactly as INTERFACES.md defines them.

For form f, period p and day d the computation runs a fixed handful of statements, whatever the city's size:

1. the hierarchy as it stood on p's last day (the org unit versions active then);
2. Expected(f, p): the units at f's level open on every day of p (none when f is not in use for p);
3. one grouped statement over f's reports for p made on or before d: per unit the first report's time, the
   last one's, and the time of the last zero report (the report as of d is a zero report exactly when that
   is the last one's time: (form, period, unit, time) is unique);
4. for a warning form, when some reporter's report as of d is a zero report: the org units (as they stood on
   the day of each signal) of the enterprises concerned by a warning discovered in p and known by d, and by a
   case received in p by d — one statement each, distinct units only.

Each reporter's status is then rolled up along the paths of that hierarchy to every unit above it, as the
indicator engine rolls up its counts, so a unit's figures are exactly the sums of its reporters'.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    DateTimeField,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from safetynet.orgs.models import PATH_SEPARATOR, EnterpriseLocation, OrgUnit, OrgUnitVersion, active_on_q
from safetynet.reporting import periods
from safetynet.reporting.models import Report, ReportForm, WarningSignal

MISSING = "missing"
LATE = "late"
CONCEALED = "concealed"
FLAGS = (MISSING, LATE, CONCEALED)
FLAG_LABELS = {MISSING: "漏报", LATE: "迟报", CONCEALED: "瞒报"}
ROW_KEYS = (
    "unit",
    "form",
    "period",
    "as_of",
    "expected",
    "received",
    "timely",
    "zero",
    "concealed",
    "report_rate",
    "report_timely_rate",
    "zero_report_rate",
)


class UnitNotFound(LookupError):
    pass


@dataclass(frozen=True)
class UnitNode:
    unit_id: int
    code: str
    name: str
    level: int
    path: str
    parent_id: int | None


@dataclass
class Reporter:
    """One expected reporter as of d."""

    node: UnitNode
    received: bool = False
    first_at: datetime.datetime | None = None  # None also when computed without the moments (the cards)
    last_at: datetime.datetime | None = None
    is_zero: bool = False
    timely: bool = False
    concealed: bool = False

    @property
    def flags(self) -> list[str]:
        flags = []
        if not self.received:
            flags.append(MISSING)
        elif not self.timely:
            flags.append(LATE)
        if self.concealed:
            flags.append(CONCEALED)
        return flags

    @property
    def status(self) -> str:
        """For colours: done (已报, on time), late (已报, late), overdue or due (待报) — see ``Result``."""
        if self.received:
            return "done" if self.timely else "late"
        return "missing"


@dataclass
class Counts:
    expected: int = 0
    received: int = 0
    timely: int = 0
    zero: int = 0
    concealed: int = 0

    def add(self, reporter: Reporter) -> None:
        self.expected += 1
        if reporter.received:
            self.received += 1
            self.timely += reporter.timely
            self.zero += reporter.is_zero
            self.concealed += reporter.concealed


def rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


@dataclass
class Row:
    node: UnitNode
    counts: Counts

    @property
    def report_rate(self) -> float | None:
        return rate(self.counts.received, self.counts.expected)

    @property
    def report_timely_rate(self) -> float | None:
        return rate(self.counts.timely, self.counts.expected)

    @property
    def zero_report_rate(self) -> float | None:
        return rate(self.counts.zero, self.counts.received)


@dataclass
class Result:
    form: ReportForm
    period: periods.Period
    as_of: datetime.date
    nodes: list[UnitNode]
    rows: list[Row]
    reporters: list[Reporter]
    due_date: datetime.date
    in_use: bool
    by_id: dict[int, UnitNode] = field(default_factory=dict)

    @property
    def root(self) -> UnitNode:
        return self.nodes[0]

    def as_dicts(self) -> list[dict[str, Any]]:
        """The rows of ``safetynet reporting`` and GET /api/v1/reporting/ (INTERFACES.md), in path order."""
        return [
            {
                "unit": row.node.code,
                "form": self.form.code,
                "period": self.period.code,
                "as_of": self.as_of.isoformat(),
                "expected": row.counts.expected,
                "received": row.counts.received,
                "timely": row.counts.timely,
                "zero": row.counts.zero,
                "concealed": row.counts.concealed,
                "report_rate": row.report_rate,
                "report_timely_rate": row.report_timely_rate,
                "zero_report_rate": row.zero_report_rate,
            }
            for row in self.rows
        ]

    def flag_dicts(self) -> list[dict[str, str]]:
        """Every expected reporter in the subtree with a flag, one element per unit and flag."""
        return [
            {"unit": reporter.node.code, "flag": flag}
            for reporter in self.reporters
            for flag in reporter.flags
        ]

    def row_for(self, unit_id: int) -> Row | None:
        return next((row for row in self.rows if row.node.unit_id == unit_id), None)


def hierarchy_on(day: datetime.date) -> list[UnitNode]:
    """Every unit as it stood on ``day`` (its version active then), in path order."""
    rows = OrgUnitVersion.objects.filter(active_on_q(day)).values_list(
        "unit_id", "code", "name", "level", "path", "parent_id"
    )
    return sorted((UnitNode(*row) for row in rows), key=lambda n: n.path)


def subtree(
    nodes: list[UnitNode], unit_code: str | None = None, unit_id: int | None = None
) -> list[UnitNode]:
    """The unit (by its code on that day, or its id) and every unit below it; the whole tree without either."""
    if unit_code is None and unit_id is None:
        if not nodes:
            raise UnitNotFound("没有任何单位")
        return nodes
    root = next(
        (n for n in nodes if (n.code == unit_code if unit_code is not None else n.unit_id == unit_id)), None
    )
    if root is None:
        shown = unit_code if unit_code is not None else unit_id
        raise UnitNotFound(f"单位“{shown}”在该期末不存在")
    return [n for n in nodes if n.path.startswith(root.path)]


def expected_unit_ids(form: ReportForm, period: periods.Period) -> set[int]:
    """Expected(f, p): units at f's level open on every day of p; nobody when f is not in use for p."""
    if not form.in_use_for(period):
        return set()
    return set(
        OrgUnit.objects.filter(level=form.level)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=period.start))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=period.last_day))
        .values_list("pk", flat=True)
    )


def report_times(
    form: ReportForm, period: periods.Period, as_of: datetime.date, unit_ids: set[int] | None = None
) -> dict[int, tuple[datetime.datetime, datetime.datetime, bool]]:
    """(first, last, last is zero) of each unit's reports made on or before ``as_of``: one grouped statement."""
    reports = Report.objects.filter(
        form=form, period=period.code, submitted_at__lt=periods.end_of_day(as_of)
    ).order_by()
    if unit_ids is not None and len(unit_ids) < 500:
        reports = reports.filter(unit_id__in=unit_ids)
    grouped = reports.values("unit_id").annotate(
        first=Min("submitted_at"),
        last=Max("submitted_at"),
        last_zero=Max(Case(When(is_zero=True, then=F("submitted_at")), output_field=DateTimeField())),
    )
    return {
        unit_id: (first, last, last_zero == last)
        for unit_id, first, last, last_zero in grouped.values_list("unit_id", "first", "last", "last_zero")
    }


def report_statuses(
    form: ReportForm,
    period: periods.Period,
    as_of: datetime.date,
    due_end: datetime.datetime,
    unit_ids: set[int] | None = None,
) -> dict[int, tuple[bool, bool]]:
    """(timely, last is zero) of each unit that reported on or before ``as_of``: ``report_times`` with the
    comparisons made by the database, for callers that need only the counts (a city's ~13,000 moments cost
    more to turn into Python datetimes than the statement takes)."""
    reports = Report.objects.filter(
        form=form, period=period.code, submitted_at__lt=periods.end_of_day(as_of)
    ).order_by()
    if unit_ids is not None and len(unit_ids) < 500:
        reports = reports.filter(unit_id__in=unit_ids)
    grouped = (
        reports.values("unit_id")
        .annotate(
            first=Min("submitted_at"),
            last=Max("submitted_at"),
            last_zero=Max(Case(When(is_zero=True, then=F("submitted_at")), output_field=DateTimeField())),
        )
        .annotate(
            timely=Case(When(first__lt=due_end, then=Value(True)), default=Value(False)),
            zero=Case(When(last_zero=F("last"), then=Value(True)), default=Value(False)),
        )
    )
    # SQLite answers the comparisons as 1 and 0.
    return {
        unit_id: (bool(timely), bool(zero))
        for unit_id, timely, zero in grouped.values_list("unit_id", "timely", "zero")
    }


def _location_on(day_expression: Any) -> Subquery:
    """The org unit an enterprise belonged to on a day given by an expression of the outer row."""
    return Subquery(
        EnterpriseLocation.objects.filter(enterprise_id=OuterRef("enterprise_id"))
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day_expression))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day_expression))
        # The model's default ordering (by the enterprise's unit path and name) joined two tables per signal;
        # for one enterprise it comes down to this.
        .order_by(F("valid_from").asc(nulls_first=True))
        .values("org_unit_id")[:1]
    )


def warning_signals(period: periods.Period, as_of: datetime.date) -> Any:
    """Warnings discovered in p and reported on or before d, each with its enterprise's unit on 发现日期."""
    return (
        WarningSignal.objects.filter(
            discovered_on__gte=period.start,
            discovered_on__lt=period.end,
            reported_at__lt=periods.end_of_day(as_of),
        )
        .order_by()
        .annotate(
            signal_unit=Coalesce(
                _location_on(OuterRef("discovered_on")),
                F("enterprise__org_unit_id"),
                output_field=BigIntegerField(),
            )
        )
    )


def case_signals(period: periods.Period, as_of: datetime.date) -> Any:
    """Cases received in p and on or before d about an enterprise, each with its unit on the intake day."""
    from safetynet.cases.models import Case

    until = min(periods.moment(period.end), periods.end_of_day(as_of))
    return (
        Case.objects.filter(
            enterprise__isnull=False, received_at__gte=periods.moment(period.start), received_at__lt=until
        )
        .order_by()
        .annotate(intake_day=TruncDate("received_at", tzinfo=periods.BEIJING))
        .annotate(
            signal_unit=Coalesce(
                _location_on(OuterRef("intake_day")),
                F("enterprise__org_unit_id"),
                output_field=BigIntegerField(),
            )
        )
    )


def signal_unit_ids(period: periods.Period, as_of: datetime.date) -> set[int]:
    """The units (on each signal's day) of the enterprises a warning or a case of p, known by d, concerns."""
    units = set(warning_signals(period, as_of).values_list("signal_unit", flat=True).distinct())
    units |= set(case_signals(period, as_of).values_list("signal_unit", flat=True).distinct())
    units.discard(None)
    return units


def _shared(shared: dict[Any, Any], key: tuple[Any, ...], compute: Any) -> Any:
    if key not in shared:
        shared[key] = compute()
    return shared[key]


def _ancestors(node: UnitNode, by_id: dict[int, UnitNode]) -> list[int]:
    return [int(part) for part in node.path.split(PATH_SEPARATOR) if part and int(part) in by_id]


def compute(
    *,
    form: ReportForm,
    period: periods.Period,
    as_of: datetime.date,
    unit_code: str | None = None,
    unit_id: int | None = None,
    moments: bool = True,
    shared: dict[Any, Any] | None = None,
) -> Result:
    """Rates and flags of ``form`` for ``period`` as of ``as_of``, for the unit and every unit below it. Without
    ``moments`` the reporters carry no report times (the counts and flags are the same). ``shared``: a dict the
    caller passes to several computations in a row (the dashboard's forms of one period), which then read the
    hierarchy of a day and the signals of a period once."""
    if period.kind != form.period_kind:
        raise ValueError(f"报告期“{period.code}”与报表“{form.code}”的报送周期不符")
    shared = {} if shared is None else shared
    all_nodes = _shared(shared, ("hierarchy", period.last_day), lambda: hierarchy_on(period.last_day))
    nodes = subtree(all_nodes, unit_code, unit_id)
    by_id = {n.unit_id: n for n in nodes}
    expected = expected_unit_ids(form, period) & set(by_id)
    due_end = periods.end_of_day(period.due_date(form.due_day))
    times = report_times(form, period, as_of, expected) if moments else {}
    statuses = {} if moments else report_statuses(form, period, as_of, due_end, expected)
    reporters: list[Reporter] = []
    for node in nodes:
        if node.unit_id not in expected:
            continue
        reporter = Reporter(node)
        found = times.get(node.unit_id)
        if found is not None:
            reporter.first_at, reporter.last_at, reporter.is_zero = found
            reporter.received, reporter.timely = True, reporter.first_at < due_end
        status = statuses.get(node.unit_id)
        if status is not None:
            reporter.received = True
            reporter.timely, reporter.is_zero = status
        reporters.append(reporter)
    candidates = [r for r in reporters if r.received and r.is_zero]
    if form.is_warning and candidates:
        full_by_id = {n.unit_id: n for n in all_nodes}
        flagged: set[int] = set()
        signals = _shared(shared, ("signals", period.code, as_of), lambda: signal_unit_ids(period, as_of))
        for unit in signals:
            node = full_by_id.get(unit)
            if node is not None:
                flagged.update(int(part) for part in node.path.split(PATH_SEPARATOR) if part)
        for reporter in candidates:
            reporter.concealed = reporter.node.unit_id in flagged
    counts: dict[int, Counts] = {n.unit_id: Counts() for n in nodes}
    for reporter in reporters:
        for ancestor in _ancestors(reporter.node, by_id):
            counts[ancestor].add(reporter)
    return Result(
        form=form,
        period=period,
        as_of=as_of,
        nodes=nodes,
        rows=[Row(n, counts[n.unit_id]) for n in nodes],
        reporters=reporters,
        due_date=period.due_date(form.due_day),
        in_use=form.in_use_for(period),
        by_id=by_id,
    )


@dataclass
class Signal:
    """A warning or a case behind a concealment flag, for the board."""

    kind: str  # "warning" or "case"
    pk: int
    label: str
    enterprise: str
    day: datetime.date
    known_at: datetime.datetime
    unit_id: int


def signals_for(result: Result) -> dict[int, list[Signal]]:
    """For each concealed reporter of ``result``: the warnings and cases that flag it (their own rows)."""
    concealed = {r.node.unit_id: r for r in result.reporters if r.concealed}
    if not concealed:
        return {}
    full_by_id = {n.unit_id: n for n in hierarchy_on(result.period.last_day)}
    found: dict[int, list[Signal]] = {pk: [] for pk in concealed}
    warnings = warning_signals(result.period, result.as_of).select_related("enterprise")
    cases = case_signals(result.period, result.as_of).select_related("enterprise")
    rows: list[Signal] = [
        Signal(
            "warning",
            w.pk,
            w.get_category_display(),
            w.enterprise.name,
            w.discovered_on,
            w.reported_at,
            w.signal_unit,
        )
        for w in warnings
    ] + [
        Signal("case", c.pk, c.number, c.enterprise.name, c.intake_day, c.received_at, c.signal_unit)
        for c in cases
    ]
    for signal in rows:
        node = full_by_id.get(signal.unit_id)
        if node is None:
            continue
        for part in node.path.split(PATH_SEPARATOR):
            if part and int(part) in found:
                found[int(part)].append(signal)
    return found
