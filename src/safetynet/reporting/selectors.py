"""Reads of the reporting app for people: scoped to the user's subtree (404 outside it, as if absent)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from safetynet.core.scope import user_scope_path
from safetynet.orgs.models import OrgUnit
from safetynet.reporting import periods, rates
from safetynet.reporting.models import (
    PeriodKind,
    Report,
    ReportForm,
    WarningSignal,
)

# How many ended periods the 待报送 page looks back (a year of months, of quarters; two years).
FILING_WINDOW = {PeriodKind.MONTH: 12, PeriodKind.QUARTER: 4, PeriodKind.YEAR: 2}


def forms_for_overview() -> QuerySet[ReportForm]:
    return ReportForm.objects.order_by("-is_warning", "code")


def default_period(form: ReportForm, today: datetime.date) -> periods.Period:
    """The period a page shows first: the last one that has ended."""
    return periods.latest_ended(today, form.period_kind)


def reporting_for_user(
    user: Any,
    *,
    form: ReportForm,
    period: periods.Period,
    as_of: datetime.date,
    unit_code: str | None = None,
    unit_id: int | None = None,
) -> rates.Result:
    """``rates.compute`` for the unit asked for (by code on the period's last day, or id), or the user's own
    unit; a unit outside the user's scope is a 404 exactly like one that does not exist."""
    path = user_scope_path(user)
    if path is None:
        raise Http404("未找到该单位，或您无权查看。")
    if unit_code is None and unit_id is None and getattr(user, "org_unit_id", None):
        unit_id = user.org_unit_id
    try:
        result = rates.compute(form=form, period=period, as_of=as_of, unit_code=unit_code, unit_id=unit_id)
    except rates.UnitNotFound:
        raise Http404("未找到该单位，或您无权查看。") from None
    if not result.root.path.startswith(path):
        raise Http404("未找到该单位，或您无权查看。")
    return result


# --- 待报送 ---------------------------------------------------------------------------------------------


@dataclass
class FilingItem:
    form: ReportForm
    period: periods.Period
    due_date: datetime.date
    status: str  # "due" 待报 / "overdue" 逾期 / "done" 已报 / "late" 已报（逾期）
    first_at: datetime.datetime | None = None
    last_at: datetime.datetime | None = None
    last_report_id: int | None = None
    last_is_zero: bool = False
    reports: int = 0

    @property
    def received(self) -> bool:
        return self.first_at is not None


def _expected_periods(form: ReportForm, unit: OrgUnit, today: datetime.date) -> list[periods.Period]:
    """The recent ended periods the unit is expected to report for (form in use, unit open all of it)."""
    result = []
    period = periods.latest_ended(today, form.period_kind)
    for _ in range(FILING_WINDOW[form.period_kind]):
        opened = unit.valid_from is None or unit.valid_from <= period.start
        still_open = unit.valid_to is None or unit.valid_to > period.last_day
        if form.in_use_for(period) and opened and still_open:
            result.append(period)
        period = period.previous()
    return result


def filing_items(unit: OrgUnit, *, today: datetime.date) -> list[FilingItem]:
    """What the unit must file: every recent ended period of every form of its level, with its state (two
    queries: the forms, and the unit's reports of those periods)."""
    forms = list(ReportForm.objects.filter(level=unit.level).order_by("-is_warning", "code"))
    wanted: list[tuple[ReportForm, periods.Period]] = [
        (form, period) for form in forms for period in _expected_periods(form, unit, today)
    ]
    if not wanted:
        return []
    # A unit has a few reports per period at most: one query for all of them, first and last picked here.
    found: dict[tuple[int, str], list[tuple[int, datetime.datetime, bool]]] = {}
    for pk, form_id, code, submitted_at, is_zero in (
        Report.objects.filter(unit=unit, form__in=forms, period__in={p.code for _f, p in wanted})
        .order_by("submitted_at", "pk")
        .values_list("pk", "form_id", "period", "submitted_at", "is_zero")
    ):
        found.setdefault((form_id, code), []).append((pk, submitted_at, is_zero))
    items: list[FilingItem] = []
    for form, period in wanted:
        due = period.due_date(form.due_day)
        reports = found.get((form.pk, period.code))
        if not reports:
            items.append(FilingItem(form, period, due, "overdue" if today > due else "due"))
            continue
        first, last = reports[0], reports[-1]
        timely = first[1] < periods.end_of_day(due)
        items.append(
            FilingItem(
                form,
                period,
                due,
                "done" if timely else "late",
                first_at=first[1],
                last_at=last[1],
                last_report_id=last[0],
                last_is_zero=last[2],
                reports=len(reports),
            )
        )
    # Overdue before due, then what is done; newest period first within each.
    order = {"overdue": 0, "due": 1, "late": 2, "done": 2}
    items.sort(key=lambda i: (order[i.status], -i.period.start.toordinal(), i.form.code))
    return items


def report_history(report: Report) -> QuerySet[Report]:
    """Every report of the same form, period and unit, first first (the first decides timeliness)."""
    return (
        Report.objects.filter(form_id=report.form_id, period=report.period, unit_id=report.unit_id)
        .select_related("version", "submitted_by")
        .order_by("submitted_at", "pk")
    )


def reports_of(unit_ids: list[int], form: ReportForm, period: periods.Period) -> dict[int, Report]:
    """The latest report of each unit (for the overview and the concealment board)."""
    latest: dict[int, Report] = {}
    for report in Report.objects.filter(form=form, period=period.code, unit_id__in=unit_ids).order_by(
        "unit_id", "submitted_at"
    ):
        latest[report.unit_id] = report
    return latest


# --- warnings -----------------------------------------------------------------------------------------


def warning_list(
    user: Any,
    *,
    status: str = "",
    category: str = "",
    within: OrgUnit | None = None,
    text: str = "",
) -> QuerySet[WarningSignal]:
    queryset = WarningSignal.objects.visible_to(user).select_related("enterprise__org_unit", "case")
    if within is not None:
        queryset = queryset.filter(enterprise__org_unit__path__startswith=within.path)
    if status == "open":
        queryset = queryset.filter(status__in=("reported", "verified", "handling"))
    elif status:
        queryset = queryset.filter(status=status)
    if category:
        queryset = queryset.filter(category=category)
    if text:
        queryset = queryset.filter(
            Q(enterprise__name__icontains=text) | Q(enterprise__credit_code=text.upper())
        )
    return queryset.order_by("-reported_at", "-pk")


def data_version() -> int:
    """Changes whenever a record changes (every service, import and demo load writes an audit row): the cache
    keys of the reporting figures hold it, as the indicators' do, so a cached figure is never stale."""
    from safetynet.core.models import AuditEntry

    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# --- urgent incidents ---------------------------------------------------------------------------------


def incident_list(
    user: Any,
    *,
    within: OrgUnit | None = None,
    status: str = "",
    category: str = "",
    late: bool = False,
    text: str = "",
) -> QuerySet[Any]:
    """The incidents of the user's subtree (or of ``within``), newest report first."""
    from safetynet.reporting.models import Incident

    queryset = Incident.objects.visible_to(user).select_related("unit", "enterprise", "reporter_unit")
    if within is not None:
        queryset = queryset.within(within.path)
    if status == "open":
        queryset = queryset.exclude(status="closed")
    elif status:
        queryset = queryset.filter(status=status)
    if category:
        queryset = queryset.filter(category=category)
    if late:
        queryset = queryset.filter(late=True)
    if text:
        queryset = queryset.filter(Q(title__icontains=text) | Q(enterprise__name__icontains=text))
    return queryset.order_by("-reported_at", "-pk")


# --- the dashboard's reporting cards ------------------------------------------------------------------


@dataclass
class ReportingCard:
    """One warning form's figures for the dashboard: the latest ended period, as of the dashboard's day."""

    form: ReportForm
    period: periods.Period
    as_of: datetime.date
    due_date: datetime.date
    unit_id: int
    expected: int
    received: int
    timely: int
    zero: int
    report_rate: float | None
    report_timely_rate: float | None
    zero_report_rate: float | None
    flags: dict[str, int]

    @property
    def due_passed(self) -> bool:
        return self.as_of > self.due_date


CARD_CACHE_SECONDS = 24 * 3600


def reporting_cards(*, unit_id: int, day: datetime.date) -> list[ReportingCard]:
    """A card per warning form (预警报表) for the unit's subtree: report_rate, report_timely_rate and
    zero_report_rate of the latest period that has ended by ``day``, with the missing / late / concealed
    counts. ``rates.compute`` per form (a few grouped statements each), through the cache under the data
    version like the indicators, so the dashboard stays as fast as it was."""
    from django.core.cache import cache

    key = f"reporting-cards:{data_version()}:{unit_id}:{day.isoformat()}"
    cards = cache.get(key)
    if cards is not None:
        return cards
    cards = []
    shared: dict[Any, Any] = {}  # forms of one period read its hierarchy and signals once
    for form in ReportForm.objects.filter(is_warning=True).order_by("code"):
        period = periods.latest_ended(day, form.period_kind)
        if not form.in_use_for(period):
            continue
        try:
            result = rates.compute(
                form=form, period=period, as_of=day, unit_id=unit_id, moments=False, shared=shared
            )
        except rates.UnitNotFound:
            continue
        row = result.rows[0]
        cards.append(
            ReportingCard(
                form=form,
                period=period,
                as_of=day,
                due_date=result.due_date,
                unit_id=unit_id,
                expected=row.counts.expected,
                received=row.counts.received,
                timely=row.counts.timely,
                zero=row.counts.zero,
                report_rate=row.report_rate,
                report_timely_rate=row.report_timely_rate,
                zero_report_rate=row.zero_report_rate,
                flags={flag: sum(1 for r in result.reporters if flag in r.flags) for flag in rates.FLAGS},
            )
        )
    cache.set(key, cards, timeout=CARD_CACHE_SECONDS)
    return cards


def reporting_cards_for_user(user: Any, *, unit: OrgUnit, day: datetime.date) -> list[ReportingCard]:
    """The cards of a unit the user may see (the dashboard already checked it; checked again here)."""
    path = user_scope_path(user)
    if path is None or not unit.path.startswith(path):
        raise Http404("未找到该单位，或您无权查看。")
    return reporting_cards(unit_id=unit.pk, day=day)


# --- risk levels ---------------------------------------------------------------------------------------


MAX_PAGE = 100_000  # a page number in the URL is clamped: an offset the database cannot hold would be a 500


class SizedRows:
    """The rows of one page with the total count: what Django's Paginator needs, fetched once."""

    def __init__(self, count: int, offset: int, rows: list[Any]) -> None:
        self.count, self.offset, self.rows = count, offset, rows

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            start = (index.start or 0) - self.offset
            stop = (index.stop if index.stop is not None else self.count) - self.offset
            return self.rows[max(start, 0) : max(stop, 0)]
        return self.rows[index - self.offset]


@dataclass
class RiskEntry:
    enterprise: Any
    facts: Any


def risk_list_page(
    *,
    path: str,
    day: datetime.date,
    level: int | None,
    industry: str = "",
    page: int = 1,
    page_size: int = 50,
) -> tuple[dict[int, int], Any]:
    """The counts by level and a Django page of the enterprises at ``level`` (None: all), highest score first,
    each with its facts. Two statements for the ranking (one scores the subtree), one for the facts of the
    page, one for the enterprises' names."""
    from django.core.paginator import Paginator

    from safetynet.orgs.models import Enterprise
    from safetynet.reporting import risk

    rule = risk.current_rule()
    filters = risk.Filters(path=path, industry=industry)
    number = min(max(int(page or 1), 1), MAX_PAGE)
    result = risk.risk_page(
        rule=rule, day=day, filters=filters, level=level, limit=page_size, offset=(number - 1) * page_size
    )
    total = result.total if level is None else result.counts.get(level, 0)
    last = max((total + page_size - 1) // page_size, 1)
    if number > last:
        number = last
        result = risk.risk_page(
            rule=rule, day=day, filters=filters, level=level, limit=page_size, offset=(number - 1) * page_size
        )
    ids = [enterprise_id for enterprise_id, _score in result.rows]
    facts = {
        f.enterprise_id: f
        for f in risk.risk_facts(rule=rule, day=day, filters=risk.Filters(enterprise_ids=ids))
    }
    enterprises = Enterprise.objects.select_related("org_unit", "industry").in_bulk(ids)
    entries = [RiskEntry(enterprises[pk], facts[pk]) for pk in ids if pk in enterprises and pk in facts]
    paginator = Paginator(SizedRows(total, (number - 1) * page_size, entries), page_size)
    return result.counts, paginator.page(number)
