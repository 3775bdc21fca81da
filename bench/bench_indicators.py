"""Indicator engine benchmark: all indicators for every org unit for one day, against a floor of hand-written
SQL (one statement per indicator, same numbers), a 12-month trend, and the dashboard page.

Run against a database holding the demo city (``safetynet demo-data --scale city``):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sn_demo .venv/bin/python bench/bench_indicators.py --day 2012-12-31

It checks that the engine's numbers equal the floor's for every unit and indicator, then prints a Markdown
table to paste into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import statistics
import sys
import time

# Production settings with static files from the apps (no collectstatic needed for the page timing).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safetynet.test_settings")
os.environ.setdefault("SAFETYNET_SSL_REDIRECT", "0")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from safetynet.indicators.engine import compute, compute_table  # noqa: E402
from safetynet.indicators.selectors import indicator_series_for_user  # noqa: E402

ACTIVE = (
    "({t}.valid_from IS NULL OR {t}.valid_from <= %(d)s) AND ({t}.valid_to IS NULL OR {t}.valid_to > %(d)s)"
)
PUBLIC = "('state', 'collective', 'institution', 'organ')"

# E(u,d) with its unit on d: the shared first lines of every enterprise statement.
ELIGIBLE = f"""
  FROM orgs_enterprise e
  JOIN orgs_enterpriseheadcount h ON h.enterprise_id = e.id AND {ACTIVE.format(t="h")} AND h.headcount >= %(min)s
  JOIN orgs_enterpriselocation l ON l.enterprise_id = e.id AND {ACTIVE.format(t="l")}
  WHERE e.founded_on <= %(d)s AND (e.deregistered_on IS NULL OR e.deregistered_on > %(d)s)
"""
COVERED = f"""EXISTS (SELECT 1 FROM orgs_unioncoverage c JOIN orgs_grassrootsunion g ON g.id = c.union_id
  WHERE c.enterprise_id = e.id AND {ACTIVE.format(t="c")} AND g.founded_on <= %(d)s
  AND (g.dissolved_on IS NULL OR g.dissolved_on > %(d)s))"""
WAGE = """EXISTS (SELECT 1 FROM programmes_contractcoverage cc JOIN programmes_collectivecontract k ON k.id = cc.contract_id
  WHERE cc.enterprise_id = e.id AND k.kind IN ('comprehensive', 'wage')
  AND k.status IN ('signed', 'filed', 'in_force', 'expired', 'renewed')
  AND k.effective_on <= %(d)s AND k.expires_on >= %(d)s)"""
SYSTEM = f"""EXISTS (SELECT 1 FROM programmes_systemcoverage sc JOIN programmes_enterprisesystem s ON s.id = sc.system_id
  WHERE sc.enterprise_id = e.id AND s.system = '{{kind}}' AND {ACTIVE.format(t="sc")} AND s.established_on <= %(d)s
  AND (s.abolished_on IS NULL OR s.abolished_on > %(d)s))"""
STATION = """EXISTS (SELECT 1 FROM programmes_servicestation st WHERE st.enterprise_id = e.id
  AND st.opened_on <= %(d)s AND (st.closed_on IS NULL OR st.closed_on > %(d)s))"""
MEMBER = """EXISTS (SELECT 1 FROM members_membership m WHERE m.person_id = em.person_id AND m.valid_from <= %(d)s
  AND (m.valid_to IS NULL OR m.valid_to > %(d)s))"""

# Roll the per-unit counts up to every unit (as of d) whose path the unit's path starts with.
ROLLUP = f"""
SELECT a.unit_id, SUM(p.num), SUM(p.den)
  FROM per_unit p
  JOIN orgs_orgunitversion v ON v.unit_id = p.unit_id AND {ACTIVE.format(t="v")}
  JOIN orgs_orgunitversion a ON {ACTIVE.format(t="a")} AND v.path LIKE a.path || '%%'
 GROUP BY a.unit_id
"""


def enterprise_statement(denominator: str, numerator: str) -> str:
    return f"""
WITH per_unit AS (
  SELECT l.org_unit_id AS unit_id,
         SUM(CASE WHEN {numerator} THEN 1 ELSE 0 END) AS num, COUNT(*) AS den
  {ELIGIBLE} AND {denominator}
  GROUP BY l.org_unit_id)
{ROLLUP}"""


def employment_statement(denominator: str, numerator: str) -> str:
    return f"""
WITH unionised AS (SELECT e.id AS enterprise_id, l.org_unit_id AS unit_id {ELIGIBLE} AND {COVERED}),
per_unit AS (
  SELECT u.unit_id, SUM(CASE WHEN {numerator} THEN 1 ELSE 0 END) AS num, COUNT(*) AS den
    FROM members_employment em
    JOIN unionised u ON u.enterprise_id = em.enterprise_id
    JOIN members_person pe ON pe.id = em.person_id
   WHERE em.valid_from <= %(d)s AND (em.valid_to IS NULL OR em.valid_to > %(d)s) AND {denominator}
   GROUP BY u.unit_id)
{ROLLUP}"""


FLOOR = {
    "union_rate": enterprise_statement("1 = 1", COVERED),
    "membership_rate": employment_statement("1 = 1", MEMBER),
    "migrant_membership_rate": employment_statement("pe.household = 'rural'", MEMBER),
    "dispatched_membership_rate": employment_statement("em.employment_type = 'dispatched'", MEMBER),
    "wage_bargaining_rate": enterprise_statement(COVERED, WAGE),
    "congress_rate_public": enterprise_statement(
        f"{COVERED} AND e.ownership IN {PUBLIC}", SYSTEM.format(kind="congress")
    ),
    "congress_rate_nonpublic": enterprise_statement(
        f"{COVERED} AND e.ownership NOT IN {PUBLIC}", SYSTEM.format(kind="congress")
    ),
    "openness_rate_public": enterprise_statement(
        f"{COVERED} AND e.ownership IN {PUBLIC}", SYSTEM.format(kind="openness")
    ),
    "openness_rate_nonpublic": enterprise_statement(
        f"{COVERED} AND e.ownership NOT IN {PUBLIC}", SYSTEM.format(kind="openness")
    ),
    "station_rate": enterprise_statement(COVERED, STATION),
}


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


def run_floor(day: datetime.date) -> dict[tuple[int, str], tuple[int, int]]:
    params = {"d": day, "min": settings.ELIGIBLE_MIN_HEADCOUNT}
    figures: dict[tuple[int, str], tuple[int, int]] = {}
    with connection.cursor() as cursor:
        for code, sql in FLOOR.items():
            cursor.execute(sql, params)
            for unit_id, numerator, denominator in cursor.fetchall():
                figures[(unit_id, code)] = (int(numerator or 0), int(denominator or 0))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--day", default="2012-12-31")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-page", action="store_true")
    # The floor takes minutes on SQLite at city scale (an EXISTS per employment); the engine's figures are then
    # not compared (the same comparison runs at every size on PostgreSQL and on the small city on SQLite).
    parser.add_argument("--skip-floor", action="store_true")
    args = parser.parse_args()
    day = datetime.date.fromisoformat(args.day)
    vendor = connection.vendor

    from safetynet.indicators.counters import counters_ready

    # The definitional engine, then the counters kept as dated steps (when built: `safetynet indicators
    # --rebuild-counters`), whose every figure must equal the engine's.
    engine_first, engine_warm, reference = timed(lambda: compute(day=day, counters=False), args.repeat)
    rows = reference
    with_counters = counters_ready(day)
    if with_counters:
        # The answer as a table of figures (what the dashboard reads), then as row objects (what the API lists).
        table_first, table_warm, _ = timed(lambda: compute_table(day=day), args.repeat)
        counters_first, counters_warm, rows = timed(lambda: compute(day=day), args.repeat)
        expected = {(r.unit, r.indicator): (r.numerator, r.denominator) for r in reference}
        answered = {(r.unit, r.indicator): (r.numerator, r.denominator) for r in rows}
        if expected != answered:
            wrong = [k for k in expected.keys() | answered.keys() if expected.get(k) != answered.get(k)]
            print(f"MISMATCH counters vs engine in {len(wrong)} figures, e.g. {wrong[:5]}", file=sys.stderr)
            sys.exit(1)
    if args.skip_floor:
        floor_first = floor_warm = float("nan")
        floor = {(r.unit_id, r.indicator): (r.numerator, r.denominator) for r in rows}
    else:
        floor_first, floor_warm, floor = timed(lambda: run_floor(day), args.repeat)
    # The floor writes out the registry's first indicators by hand; the others are held to the engine above.
    mismatches = [
        (r.unit, r.indicator, (r.numerator, r.denominator), floor.get((r.unit_id, r.indicator), (0, 0)))
        for r in rows
        if r.indicator in FLOOR
        and (r.numerator, r.denominator) != floor.get((r.unit_id, r.indicator), (0, 0))
    ]
    if mismatches:
        print(
            f"MISMATCH engine vs floor in {len(mismatches)} figures, e.g. {mismatches[:5]}", file=sys.stderr
        )
        sys.exit(1)

    indicator_count = len({r.indicator for r in rows})
    units = len({r.unit for r in rows})
    figure_count = len(rows)
    checked = sum(1 for r in rows if r.indicator in FLOOR)
    # The comparisons above keep hundreds of thousands of objects alive; Python's collector would walk them
    # again and again during the timings below, which a server process does not carry. Let them go.
    del reference, rows, floor
    if with_counters:
        del expected, answered
    gc.collect()

    from safetynet.accounts.models import User

    admin = User.objects.filter(role="city_admin").order_by("pk").first()
    start = datetime.date(day.year, 1, 1)

    def trend() -> object:
        cache.clear()  # measure the computation, not the cache
        return indicator_series_for_user(admin, start=start, end=day, interval="month")

    def measured(
        use_counters: bool,
    ) -> tuple[tuple[float, float, object], tuple[float, float, object] | None]:
        settings.INDICATOR_COUNTERS = use_counters
        trend_times = timed(trend, 1 if not use_counters else args.repeat)
        page_times = None
        if not args.skip_page and admin is not None:
            client = Client()
            client.force_login(admin)

            def dashboard() -> int:
                cache.clear()
                return client.get("/indicators/", {"as_of": day.isoformat()}).status_code

            page_times = timed(dashboard, args.repeat)
        return trend_times, page_times

    (trend_first, trend_warm, _), page = measured(False)
    if with_counters:
        (counters_trend_first, counters_trend_warm, _), counters_page = measured(True)

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM orgs_enterprise")
        enterprises = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM members_employment")
        employments = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM members_membership")
        memberships = cursor.fetchone()[0]
    print(f"# {datetime.date.today()} · {vendor} · {platform.machine()} {os.cpu_count()} cores · day {day}")
    print(
        f"data: {units} units, {enterprises:,} enterprises, {employments:,} employments, {memberships:,} memberships"
    )
    print("| measure | first run | warm (median) |")
    print("| --- | --- | --- |")
    print(
        f"| engine, all {indicator_count} indicators × {units} units | {engine_first:.2f} s | {engine_warm:.2f} s |"
    )
    print(
        f"| floor, hand-written SQL, one statement per indicator | {floor_first:.2f} s | {floor_warm:.2f} s |"
    )
    print(f"| engine / floor (warm) | | {engine_warm / floor_warm:.2f} |")
    print(
        f"| 12-month trend, city and its districts (13 days, uncached) | {trend_first:.2f} s | {trend_warm:.2f} s |"
    )
    if page:
        print(f"| dashboard page (city, server side, uncached) | {page[0]:.2f} s | {page[1]:.2f} s |")
    if with_counters:
        print(
            f"| counters, all {indicator_count} indicators × {units} units, as a table of figures "
            f"| {table_first:.3f} s | {table_warm:.3f} s |"
        )
        print(
            f"| counters, the same as {figure_count:,} row objects | {counters_first:.3f} s | {counters_warm:.3f} s |"
        )
        print(
            f"| counters, 12-month trend (13 days, uncached) | {counters_trend_first:.3f} s "
            f"| {counters_trend_warm:.3f} s |"
        )
        if counters_page:
            print(
                f"| counters, dashboard page (uncached) | {counters_page[0]:.3f} s | {counters_page[1]:.3f} s |"
            )
        print(f"counters' figures equal the engine's for all {figure_count} unit × indicator figures")
    if args.skip_floor:
        print("floor skipped (--skip-floor): the engine's figures were not compared")
    else:
        print(
            f"the answer's numbers equal the floor's for all {checked} unit × indicator figures it writes out"
        )


if __name__ == "__main__":
    main()
