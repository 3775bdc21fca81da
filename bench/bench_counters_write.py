"""What a correction of a past record costs with the indicator counters kept as dated steps (issue 18, point 1).

Against a database whose counters are built (`safetynet indicators --rebuild-counters`), for a few corrections
of past records: the writer's statement (with the triggers that note the enterprises it touches), then the
next answer for the whole city (which first takes the noted enterprises in), and whether that answer equals
the definitional engine's. Every correction is rolled back at the end, so the database is left as it was.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sn_counters .venv/bin/python bench/bench_counters_write.py
"""

from __future__ import annotations

import datetime
import os
import platform
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safetynet.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402

from safetynet.indicators.counters import counters_ready  # noqa: E402
from safetynet.indicators.engine import compute  # noqa: E402
from safetynet.indicators.models import CounterDirty  # noqa: E402
from safetynet.orgs.models import EnterpriseHeadcount, GrassrootsUnion  # noqa: E402
from safetynet.visits.models import Visit  # noqa: E402

DAY = datetime.date(2026, 12, 6)


def figures(rows):
    return {(r.unit, r.indicator): (r.numerator, r.denominator) for r in rows}


def measure(label: str, write) -> str:
    started = time.perf_counter()
    with transaction.atomic():
        changed = write()
    writer = time.perf_counter() - started
    noted = CounterDirty.objects.values("enterprise_id").distinct().count()
    started = time.perf_counter()
    answer = compute(day=DAY)
    reader = time.perf_counter() - started
    started = time.perf_counter()
    again = compute(day=DAY)
    warm = time.perf_counter() - started
    exact = figures(answer) == figures(compute(day=DAY, counters=False)) == figures(again)
    return (
        f"| {label} | {changed} | {noted} | {writer * 1000:.1f} ms | {reader:.3f} s | {warm:.3f} s | "
        f"{'yes' if exact else 'NO'} |"
    )


def main() -> None:
    if not counters_ready(DAY):
        raise SystemExit("counters not built: safetynet indicators --rebuild-counters")
    union = (
        GrassrootsUnion.objects.annotate(n=Count("coverages")).filter(n__gte=3).order_by("-n", "pk").first()
    )
    headcount = EnterpriseHeadcount.objects.filter(valid_to__isnull=True).order_by("pk").first()
    visit_enterprise = headcount.enterprise_id
    rows = []
    with transaction.atomic():
        rows.append(
            measure(
                f"union founded 400 days earlier ({union.n} enterprises covered)",
                lambda: GrassrootsUnion.objects.filter(pk=union.pk).update(
                    founded_on=union.founded_on - datetime.timedelta(days=400)
                ),
            )
        )
        rows.append(
            measure(
                "an enterprise's headcount corrected under the threshold",
                lambda: EnterpriseHeadcount.objects.filter(pk=headcount.pk).update(headcount=3),
            )
        )
        rows.append(
            measure(
                "a visit recorded for last month",
                lambda: (
                    Visit.objects.create(
                        enterprise_id=visit_enterprise,
                        visited_on=DAY - datetime.timedelta(days=30),
                        findings="走访",
                    )
                    and 1
                ),
            )
        )
        transaction.set_rollback(True)
    load = os.getloadavg()
    print(
        f"# {datetime.datetime.now():%Y-%m-%d %H:%M} · {connection.vendor} · {platform.machine()} "
        f"{os.cpu_count()} cores · as of {DAY} · load {load[0]:.1f}"
    )
    print(
        "| correction | rows written | enterprises noted | writer (statement + triggers) | next answer, all units | the one after | equal to the engine |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
