"""Reporting benchmark: `safetynet reporting` for the whole city for one period, filing a report, the enterprise
risk list for the city, the reported headcounts against the roster, and the dashboard's reporting cards.

Run against a database holding the city demo (``safetynet demo-data --scale city``: two years of monthly reports
for every street and community, 20,000 warnings):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sn_demo .venv/bin/python bench/bench_reporting.py

It prints a Markdown table to paste into bench/RESULTS.md. Bars (issue 13): the city for one period at most
0.3 s on PostgreSQL; filing a report answers in under 200 ms; the risk list for the city at most 1 s. The
filing requests run inside a transaction that is rolled back, so the database is left as it was. The risk list
and the headcount comparison are timed uncached (their statements), then as pages (the headcounts page reads
the cache the first request filled).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safetynet.test_settings")
os.environ.setdefault("SAFETYNET_SSL_REDIRECT", "0")

import django

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from safetynet.accounts.models import User  # noqa: E402
from safetynet.orgs.models import Enterprise, OrgLevel, OrgUnit  # noqa: E402
from safetynet.reporting import headcounts, periods, rates, risk, selectors  # noqa: E402
from safetynet.reporting.models import Incident, Report, ReportForm, RiskLevel, WarningSignal  # noqa: E402


def timed(func, repeat: int) -> tuple[float, float, object]:
    """(first run, median of the warm runs, result)."""
    started = time.perf_counter()
    result = func()
    first = time.perf_counter() - started
    warm = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = func()
        warm.append(time.perf_counter() - started)
    return first, statistics.median(warm) if warm else first, result


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--form", default="YJ01")
    parser.add_argument("--period", help="default: the last period whose due date has passed")
    parser.add_argument("--as-of", help="default: today")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    form = ReportForm.objects.filter(code=args.form).first()
    if form is None:
        sys.exit(f"no form {args.form}: load the demo first (safetynet demo-data --scale city)")
    today = timezone.localdate()
    day = datetime.date.fromisoformat(args.as_of) if args.as_of else today
    if args.period:
        period = form.parse_period(args.period)
    else:
        period = periods.latest_ended(today, form.period_kind)
        if period.due_date(form.due_day) >= today:
            period = period.previous()

    city_first, city_warm, result = timed(
        lambda: rates.compute(form=form, period=period, as_of=day), args.repeat
    )
    city = result.rows[0].counts

    # Filing: a zero report through the page by an officer of the reporting unit (the city's administrator
    # when the demo has no account there), for a unit that has not reported this period yet if there is one.
    pending = [r for r in result.reporters if not r.received] or result.reporters
    unit_pk = pending[0].node.unit_id
    filer = (
        User.objects.filter(role="operator", org_unit_id=unit_pk, is_active=True).first()
        or User.objects.filter(role="city_admin", is_active=True).first()
    )
    client = Client()
    client.force_login(filer)
    timings = []
    page_timings = []
    for _ in range(args.repeat + 1):
        try:
            with transaction.atomic():
                started = time.perf_counter()
                response = client.post(
                    "/reporting/zero/", {"form": form.pk, "period": period.code, "unit": unit_pk}
                )
                timings.append(time.perf_counter() - started)
                if (
                    response.status_code != 302
                    or not Report.objects.filter(
                        form=form, period=period.code, unit_id=unit_pk, submitted_by=filer
                    ).exists()
                ):
                    sys.exit(f"filing failed: {response.status_code}")
                raise Rollback
        except Rollback:
            pass
        started = time.perf_counter()
        status = client.get("/reporting/", {"unit": unit_pk}).status_code
        page_timings.append(time.perf_counter() - started)
        assert status == 200
    admin = User.objects.filter(role="city_admin").first()
    overview = Client()
    overview.force_login(admin)
    overview_first, overview_warm, _ = timed(
        lambda: overview.get("/reporting/overview/", {"form": form.pk, "period": period.code}).status_code,
        args.repeat,
    )

    # The risk list: one statement scores every enterprise of the city (counts by level and the first page of
    # the red ones), one reads the facts of that page; then the page as the city's administrator sees it.
    rule = risk.current_rule()
    risk_first, risk_warm, risk_page = timed(
        lambda: selectors.risk_list_page(path="", day=today, level=int(RiskLevel.RED), page=1, page_size=50),
        args.repeat,
    )
    risk_counts = risk_page[0]
    risk_request_first, risk_request_warm, _ = timed(
        lambda: overview.get("/reporting/risk/", {"level": "all"}).status_code, args.repeat
    )
    risk_statement_first, risk_statement_warm, _ = timed(
        lambda: risk.risk_page(rule=rule, day=today, filters=risk.Filters(), level=None, limit=50, offset=0),
        args.repeat,
    )

    # Reported headcounts against the roster: the city and its first district, uncached; then the page twice
    # (the first request computes and fills the cache, the next ones read it).
    district = OrgUnit.objects.filter(level=OrgLevel.DISTRICT).order_by("code").first()
    hc_city_first, hc_city_warm, comparison = timed(
        lambda: headcounts.compute(day=today), max(args.repeat // 2, 1)
    )
    hc_district_first, hc_district_warm, _ = timed(
        lambda: headcounts.compute(day=today, path=district.path), max(args.repeat // 2, 1)
    )
    cache.clear()
    hc_page_first, hc_page_warm, _ = timed(
        lambda: overview.get("/reporting/headcounts/").status_code, args.repeat
    )

    # The dashboard's reporting cards for the city, uncached, then cached.
    city_unit = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    cache.clear()
    cards_started = time.perf_counter()
    cards = selectors.reporting_cards(unit_id=city_unit.pk, day=today)
    cards_first = time.perf_counter() - cards_started
    cards_started = time.perf_counter()
    selectors.reporting_cards(unit_id=city_unit.pk, day=today)
    cards_warm = time.perf_counter() - cards_started

    reports = Report.objects.count()
    warnings = WarningSignal.objects.count()
    print(f"# {datetime.date.today()} · {connection.vendor} · {platform.machine()} {os.cpu_count()} cores")
    print(
        f"data: {len(result.nodes)} units, {reports:,} reports, {warnings:,} warnings; form {form.code}, "
        f"period {period.code}, as of {day}: expected {city.expected}, received {city.received}, "
        f"timely {city.timely}, zero {city.zero}, concealed {city.concealed}"
    )
    print("| measure | first run | warm (median) | bar |")
    print("| --- | --- | --- | --- |")
    print(f"| `reporting`, whole city, one period | {city_first:.3f} s | {city_warm:.3f} s | ≤ 0.3 s |")
    print(
        f"| filing a zero report (POST /reporting/zero/) | {timings[0] * 1000:.0f} ms | "
        f"{statistics.median(timings[1:]) * 1000:.0f} ms | < 200 ms |"
    )
    print(
        f"| 待报送 page (GET /reporting/) | {page_timings[0] * 1000:.0f} ms | "
        f"{statistics.median(page_timings[1:]) * 1000:.0f} ms | |"
    )
    print(f"| overview page, whole city | {overview_first:.3f} s | {overview_warm:.3f} s | |")
    print(
        f"| risk list, whole city: counts by level + first page of 红 with facts | {risk_first:.3f} s | "
        f"{risk_warm:.3f} s | ≤ 1 s |"
    )
    print(
        f"| — its scoring statement alone (all levels) | {risk_statement_first:.3f} s | {risk_statement_warm:.3f} s | |"
    )
    print(
        f"| risk list page (GET /reporting/risk/?level=all), whole city | {risk_request_first:.3f} s | "
        f"{risk_request_warm:.3f} s | |"
    )
    print(f"| headcounts vs roster, whole city (uncached) | {hc_city_first:.3f} s | {hc_city_warm:.3f} s | |")
    print(
        f"| headcounts vs roster, one district {district.code} (uncached) | {hc_district_first:.3f} s | "
        f"{hc_district_warm:.3f} s | |"
    )
    print(
        f"| headcounts page, whole city (first computes, then cached) | {hc_page_first:.3f} s | "
        f"{hc_page_warm:.3f} s | |"
    )
    print(
        f"| dashboard reporting cards, city ({len(cards)} warning forms) | {cards_first:.3f} s | {cards_warm:.3f} s | |"
    )
    print(
        f"risk levels on {today}: "
        + ", ".join(
            f"{RiskLevel(level).label} {count:,}"
            for level, count in sorted(risk_counts.items(), reverse=True)
        )
        + f" of {Enterprise.objects.count():,} enterprises; {Incident.objects.count():,} incidents; headcounts: "
        f"{comparison.compared:,} compared, {comparison.differing:,} differ ({comparison.counts})"
    )


if __name__ == "__main__":
    main()
