"""Assessment benchmark: live scores of the city's scheme for every district and item, live scores of a
district's own scheme for all its streets, and the city's bulletin PDF.

Run against a database holding the city demo (``safetynet demo-data --scale city``); best on a copy, since
the script makes what it measures when it is missing (the city's scheme for the demo year, published; a
scheme of the largest district for its streets; a freeze of the city's scheme for the bulletin):

    createdb -h 127.0.0.1 -U postgres -T sn_city sn_city_assess
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sn_city_assess .venv/bin/safetynet migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sn_city_assess .venv/bin/python bench/bench_assessment.py
    dropdb -h 127.0.0.1 -U postgres sn_city_assess

Bars (issue 15): live scores for all districts and all items, and for all streets of a district, under 2 s on
PostgreSQL; the city's bulletin PDF under 10 s. "Cold" is the first run with an empty cache (the indicator
engine's results are cached by data version). "First in process" includes loading the metrics registry and
WeasyPrint's fonts; "uncached" clears the cache before each repeat; "cached" repeats at once.
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
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from safetynet.assessment import bulletin, demo, scoring, services  # noqa: E402
from safetynet.assessment.models import Scheme, SchemeStatus  # noqa: E402
from safetynet.indicators.services import target_set  # noqa: E402
from safetynet.orgs.models import Enterprise, OrgUnit  # noqa: E402


def timed(func, repeat: int) -> tuple[float, float, float, object]:
    """(first run in this process, median with an empty cache each time, median with the cache warm, result)."""
    cache.clear()
    started = time.perf_counter()
    result = func()
    first = time.perf_counter() - started
    uncached, cached = [], []
    for _ in range(repeat):
        cache.clear()
        started = time.perf_counter()
        func()
        uncached.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = func()
        cached.append(time.perf_counter() - started)
    return first, statistics.median(uncached), statistics.median(cached), result


def city_scheme(city: OrgUnit, year: int) -> Scheme:
    scheme = Scheme.objects.filter(org_unit=city, year=year).first() or demo.build_city_scheme(city, year)
    if scheme.status == SchemeStatus.DRAFT:
        scheme = services.scheme_publish(actor=None, scheme=scheme)
    return scheme


def district_scheme(district: OrgUnit, year: int) -> Scheme:
    scheme = Scheme.objects.filter(org_unit=district, year=year).first()
    if scheme is None:
        scheme = services.scheme_create(actor=None, org_unit=district, year=year)
        for name, kind, weight, rule in demo.DEMO_ITEMS:
            services.item_add(actor=None, scheme=scheme, name=name, kind=kind, weight=weight, rule=rule)
    if scheme.status == SchemeStatus.DRAFT:
        metrics = [rule["metric"] for _, kind, _, rule in demo.DEMO_ITEMS if kind == "indicator"]
        for street in OrgUnit.objects.filter(parent=district):
            for metric in metrics:
                target_set(actor=None, indicator=metric, org_unit=street, year=year, value="0.85")
        scheme = services.scheme_publish(actor=None, scheme=scheme)
    return scheme


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--year", type=int, default=None, help="scheme year (default: this year)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    year = args.year or timezone.localdate().year
    day = min(timezone.localdate(), datetime.date(year, 12, 31))
    city = OrgUnit.objects.filter(parent__isnull=True).order_by("code").first()
    if city is None:
        print("no city in this database: load the demo first", file=sys.stderr)
        return 2
    districts = list(city.children.all())
    district = max(districts, key=lambda d: OrgUnit.objects.filter(parent=d).count())
    streets = OrgUnit.objects.filter(parent=district).count()
    print(
        f"# Assessment benchmark — {timezone.now():%Y-%m-%d %H:%M} UTC, {connection.vendor}, "
        f"{platform.node()}, Python {platform.python_version()}"
    )
    print(
        f"Data: {OrgUnit.objects.count():,} units ({len(districts)} districts; {district.name} with {streets} "
        f"streets), {Enterprise.objects.count():,} enterprises; scheme year {year}, as of {day}.\n"
    )
    scheme = city_scheme(city, year)
    own = district_scheme(district, year)
    items = scheme.items.count()
    rows = []
    first, uncached, cached, sheet = timed(lambda: scoring.compute_sheet(scheme, day), args.repeat)
    rows.append(
        (
            f"live scores, city scheme: {len(sheet.units)} districts × {items} items",
            first,
            uncached,
            cached,
            2.0,
        )
    )
    first, uncached, cached, sheet = timed(lambda: scoring.compute_sheet(own, day), args.repeat)
    rows.append(
        (
            f"live scores, {district.name}'s scheme: {len(sheet.units)} streets × {items} items",
            first,
            uncached,
            cached,
            2.0,
        )
    )
    if scheme.status == SchemeStatus.PUBLISHED:
        started = time.perf_counter()
        scheme = services.scheme_freeze(
            actor=None, scheme=scheme, day=day, appeal_until=timezone.localdate() + datetime.timedelta(days=7)
        )
        rows.append(
            ("freeze the city scheme (compute + store)", time.perf_counter() - started, None, None, None)
        )

    def pdf() -> bytes:
        return bulletin.pdf_bytes(bulletin.build(scheme))

    first, uncached, cached, data = timed(pdf, max(1, args.repeat - 1))
    rows.append((f"city bulletin PDF ({len(data) / 1024:.0f} KB)", first, uncached, cached, 10.0))
    print("| measurement | first in process (s) | uncached median (s) | cached median (s) | bar (s) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    failed = False

    def shown(value: float | None) -> str:
        return "" if value is None else f"{value:.2f}"

    for label, first, uncached, cached, bar in rows:
        ok = bar is None or (uncached if uncached is not None else first) < bar
        failed |= not ok
        print(
            f"| {label} | {first:.2f} | {shown(uncached)} | {shown(cached)} | "
            f"{'' if bar is None else f'< {bar:g}' + ('' if ok else ' ✗')} |"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
