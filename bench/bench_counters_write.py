"""What a correction of a past record costs with the indicator counters kept as dated steps (issue 18, point 1).

Against a database whose counters are built (`safetynet indicators --rebuild-counters`), for a few corrections
of past records: the writer's share — its statement or service call (with the triggers that note the
enterprises it touches), then the after-write refresh that takes them into the counters before the writer's
call returns (``counters_refresh_after_write``, the hook ``core.writes`` runs on commit) — then the next answer
for the whole city, and whether it equals the definitional engine's. A late roster of 5,000 rows for one
enterprise goes through `safetynet import members`: its import time, what keeping the counters adds to it, and
the refresh's own time. Since the eighth session an import leaves the refresh to a background task
(``core.writes``, ``background=True``): the import adds the enqueueing of that task (bar: 10 %), the worker then
takes 5,000 workers in, and a reader that comes first takes them in itself (the "next answer" column, which
then includes that refresh: the worst case).

Everything happens inside one transaction rolled back at the end, so the database is left as it was; the hook
therefore runs inside it, right after the write (the same work it does after a commit).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sn_city .venv/bin/python bench/bench_counters_write.py
Options: --roster-rows 5000

``--with-worker`` (COMMITS: run it against a copy, e.g. ``createdb -T sn_city sn_late``): the late roster imported
for real, outside any transaction, with ``safetynet db_worker`` running beside it — the import's wall time, how
long after the import the worker had taken the roster in (nothing left noted, the task finished), and the next
answer then, checked against the engine.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safetynet.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import django

django.setup()

from bench_members_import import GIVEN, HEADER, SURNAMES, id_number, row  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402

from safetynet.accounts.models import User  # noqa: E402
from safetynet.core.tasks import after_write_hooks_run  # noqa: E402
from safetynet.indicators.counters import counters_ready, counters_refresh_after_write  # noqa: E402
from safetynet.indicators.engine import compute  # noqa: E402
from safetynet.indicators.models import CounterDirty  # noqa: E402
from safetynet.orgs.models import Enterprise, EnterpriseHeadcount, GrassrootsUnion, UnionCoverage  # noqa: E402
from safetynet.orgs.services import union_update  # noqa: E402
from safetynet.visits.models import Visit  # noqa: E402

DAY = datetime.date(2026, 12, 6)


def figures(rows):
    return {(r.unit, r.indicator): (r.numerator, r.denominator) for r in rows}


def next_answer() -> tuple[float, bool]:
    """The next answer for the whole city (seconds) and whether it equals the definitional engine's."""
    started = time.perf_counter()
    answer = compute(day=DAY)
    seconds = time.perf_counter() - started
    return seconds, figures(answer) == figures(compute(day=DAY, counters=False))


def measure(label: str, write) -> str:
    """One correction: the write, the after-write refresh (the writer's share), then the next answer."""
    started = time.perf_counter()
    changed = write()
    statement = time.perf_counter() - started
    noted = CounterDirty.objects.values("enterprise_id").distinct().count()
    started = time.perf_counter()
    counters_refresh_after_write()
    refresh = time.perf_counter() - started
    left = CounterDirty.objects.exists()
    reader, exact = next_answer()
    return (
        f"| {label} | {changed} | {noted} | {statement * 1000:.1f} ms | {refresh * 1000:.1f} ms | "
        f"{(statement + refresh) * 1000:.1f} ms | {'yes' if left else 'no'} | {reader:.3f} s | "
        f"{'yes' if exact else 'NO'} |"
    )


def roster_file(
    path: Path, enterprise: Enterprise, joinable: datetime.date, rows: int, first: int = 9_000_000
) -> None:
    """``rows`` new workers of one enterprise (persons no one else names), 70 % of them joining its union."""
    rng = random.Random(7)
    hired_from = max(enterprise.founded_on, datetime.date(2005, 1, 1))
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            hired = hired_from + datetime.timedelta(days=rng.randint(0, (DAY - hired_from).days - 400))
            joined = None
            if rng.random() < 0.7:
                joined = max(hired, joinable) + datetime.timedelta(days=rng.randint(0, 100))
            writer.writerow(
                row(
                    name,
                    id_number(first + n),
                    f"139{n:08d}",
                    "城镇",
                    "劳动合同",
                    enterprise.credit_code,
                    hired,
                    None,
                    joined,
                    None,
                    "",
                )
            )


def roster_coverage() -> UnionCoverage:
    """The late roster's enterprise: the first one covered today by a union still there."""
    return (
        UnionCoverage.objects.filter(
            valid_to__isnull=True, union__dissolved_on__isnull=True, enterprise__deregistered_on__isnull=True
        )
        .select_related("enterprise", "union")
        .order_by("pk")
        .first()
    )


def with_worker(rows: int, first: int) -> None:
    """The late roster committed, the refresh left to a real ``db_worker`` process."""
    import subprocess

    from django_tasks_db.models import DBTaskResult

    coverage = roster_coverage()
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "safetynet"), "db_worker"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3)  # the worker up and polling (every second, its default)
        before = DBTaskResult.objects.filter(task_path=after_write_hooks_run.module_path).count()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "roster.csv"
            joinable = max(coverage.valid_from, coverage.union.founded_on)
            roster_file(path, coverage.enterprise, joinable, rows, first)
            started = time.perf_counter()
            call_command("import", "members", str(path), verbosity=0)
            imported = time.perf_counter() - started
        done_at = None
        while time.perf_counter() - started < 120:
            finished = DBTaskResult.objects.filter(
                task_path=after_write_hooks_run.module_path, status="SUCCESSFUL"
            ).count()
            if finished > before and not CounterDirty.objects.exists():
                done_at = time.perf_counter()
                break
            time.sleep(0.01)
    finally:
        worker.terminate()
        worker.wait()
    taken = f"{(done_at - started - imported) * 1000:.0f} ms after the import" if done_at else "not in 120 s"
    reader, exact = next_answer()
    print(
        f"# {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC · {connection.vendor} · committed, "
        f"db_worker beside · load {os.getloadavg()[0]:.1f}"
    )
    print("| roster | import (committed) | taken in by the worker | next answer | equal to the engine |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| {rows:,} new workers of one enterprise | {imported:.2f} s | {taken} | {reader:.3f} s | "
        f"{'yes' if exact else 'NO'} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--roster-rows", type=int, default=5_000)
    parser.add_argument("--with-worker", action="store_true")
    # Each committed run needs persons no earlier run imported: the first ID sequence number of the roster.
    parser.add_argument("--first-id", type=int, default=9_000_000)
    options = parser.parse_args()
    if not counters_ready(DAY):
        raise SystemExit("counters not built: safetynet indicators --rebuild-counters")
    if options.with_worker:
        with_worker(options.roster_rows, options.first_id)
        return
    admin = User.objects.filter(role="city_admin", is_active=True).order_by("pk").first()
    union = (
        GrassrootsUnion.objects.annotate(n=Count("coverages"))
        .filter(n__gte=3, dissolved_on__isnull=True)
        .order_by("-n", "pk")
        .first()
    )
    headcount = EnterpriseHeadcount.objects.filter(valid_to__isnull=True).order_by("pk").first()
    visit_enterprise = headcount.enterprise_id
    coverage = roster_coverage()
    # The service moves the coverages that began with the union along with its founding date: records changed.
    moved = UnionCoverage.objects.filter(union=union, valid_from=union.founded_on).count()
    rows = []
    roster = ""
    with transaction.atomic():
        rows.append(
            measure(
                f"a union's founding date corrected 400 days earlier (service `union_update`; {union.n} "
                "enterprises covered)",
                lambda: (
                    union_update(
                        actor=admin,
                        union=union,
                        data={"founded_on": union.founded_on - datetime.timedelta(days=400)},
                    )
                    and 1 + moved
                ),
            )
        )
        rows.append(
            measure(
                "an enterprise's headcount corrected under the threshold (statement)",
                lambda: EnterpriseHeadcount.objects.filter(pk=headcount.pk).update(headcount=3),
            )
        )
        rows.append(
            measure(
                "a visit recorded for last month (statement)",
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
        if options.roster_rows:
            joinable = max(coverage.valid_from, coverage.union.founded_on)
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "roster.csv"
                roster_file(path, coverage.enterprise, joinable, options.roster_rows)
                started = time.perf_counter()
                call_command("import", "members", str(path), verbosity=0)
                imported = time.perf_counter() - started
            noted = CounterDirty.objects.values("enterprise_id").distinct().count()
            # The import's own share: what its commit runs (``core.writes._enqueue_hooks``), one task row.
            started = time.perf_counter()
            after_write_hooks_run.enqueue()
            enqueued = time.perf_counter() - started
            with transaction.atomic():
                # The refresh as the worker runs it; undone, so the reader below pays it instead (worst case).
                started = time.perf_counter()
                counters_refresh_after_write()
                refresh = time.perf_counter() - started
                transaction.set_rollback(True)
            reader, exact = next_answer()
            roster = (
                f"| late roster of {options.roster_rows:,} new workers of one enterprise "
                f"(`safetynet import members`) | {imported:.2f} s | {noted} | {enqueued * 1000:.1f} ms | "
                f"{enqueued / imported * 100:.1f} % | {refresh * 1000:.1f} ms | {reader:.3f} s | "
                f"{'yes' if exact else 'NO'} |"
            )
        transaction.set_rollback(True)
    load = os.getloadavg()
    print(
        f"# {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC · {connection.vendor} · {platform.machine()} "
        f"{os.cpu_count()} cores · as of {DAY} · load {load[0]:.1f}"
    )
    print(
        "| correction | records changed | enterprises noted | write | after-write refresh | writer in all | "
        "left for the reader | next answer, all units | equal to the engine |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for line in rows:
        print(line)
    if roster:
        print()
        print(
            "| roster | import | enterprises noted | import's own upkeep (enqueue) | share of the import | "
            "refresh in the worker | next answer (taking the refresh in itself) | equal to the engine |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        print(roster)


if __name__ == "__main__":
    main()
