"""Time `safetynet import members` on a 1,000,000-row roster against a database that holds the `city` demo.

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/sn_import_bench .venv/bin/python bench/bench_members_import.py
  SAFETYNET_HOME=/tmp/import-sqlite .venv/bin/python bench/bench_members_import.py
Options: --rows 1000000 --file /tmp/members-1m.csv (kept and reused when it exists) --seed 1
         --again (import the same file a second time: every row is then matched and unchanged)
         --again-only (only the second import, into a database that already holds the file)
         --dry-run (only check)
         --phases (one import in this process with wall, CPU and database CPU per phase: the profile)

Into an empty database (a new federation's first load: only the registry, no persons, members tables never
analysed), as measured on 2026-12-07:
  createdb -h 127.0.0.1 -U postgres sn_import_empty
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/sn_import_empty .venv/bin/safetynet migrate
  pg_dump -h 127.0.0.1 -U postgres --data-only --disable-triggers -t orgs_orgunit -t orgs_orgunitversion \
    -t orgs_enterprise -t orgs_enterpriselocation -t orgs_enterpriseheadcount -t orgs_grassrootsunion \
    -t orgs_unioncoverage sn_city | psql -h 127.0.0.1 -U postgres sn_import_empty
  psql ... -c "ANALYZE orgs_orgunit, orgs_enterprise, orgs_grassrootsunion, orgs_unioncoverage"
then run this script with --file pointing at the file written from the full demo (the registries are equal).

The file is written streaming and deterministically from the enterprises and unions in the database: every
row names a registered enterprise, hires after it was founded (and before any deregistration), and a row
with 入会日期 names an enterprise covered on that day by a union that is not dissolved, so every row is
valid. About one person in six changes job: their rows follow each other (the first ends on the day the
second begins, with the membership transferred the same day). The import runs in a subprocess, so its wall
time and peak memory (RSS, from wait4) are its own; a Markdown row for bench/RESULTS.md is printed last.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = [
    "姓名",
    "身份证号",
    "手机号",
    "户籍类型",
    "用工形式",
    "企业统一社会信用代码",
    "入职日期",
    "离职日期",
    "入会日期",
    "离会日期",
    "会员编号",
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红海燕玉梅晓东雪梅鹏飞宇欣怡子涵浩然"
# Real GB/T 2260 county codes from outside Dalian (workers from elsewhere in Liaoning and other provinces):
# the demo's persons have Dalian codes, so no row of the file names a stored person under another name,
# which would reject the row and, without --keep-valid, leave the whole import unsaved.
ADDRESSES = ("210102", "210302", "211002", "370102", "410102", "230102", "220102", "341202")
BIRTH_DAYS = 40 * 365
# Person i → a unique (address, birth day, sequence) by a multiplicative bijection of the code space.
SPACE = len(ADDRESSES) * BIRTH_DAYS * 1000
SCATTER = 2_654_435_761
LAST_DAY = datetime.date(2025, 6, 30)
WEIGHTS_ODD = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safetynet.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def check_character(body: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(body, WEIGHTS_ODD, strict=True))
    return "10X98765432"[total % 11]


def id_number(person: int) -> str:
    code = (person * SCATTER) % SPACE
    address, rest = divmod(code, BIRTH_DAYS * 1000)
    day, sequence = divmod(rest, 1000)
    born = datetime.date(1962, 1, 1) + datetime.timedelta(days=day)
    body = f"{ADDRESSES[address]}{born:%Y%m%d}{sequence:03d}"
    return body + check_character(body)


def load_targets() -> tuple[list[tuple[str, datetime.date, datetime.date]], list[tuple[str, datetime.date]]]:
    """Enterprises covered now: (credit code, first day one may join there, first day one may be hired);
    and every other open enterprise: (credit code, founded on)."""
    from django.db.models import Q

    from safetynet.orgs.models import Enterprise, UnionCoverage

    covered: dict[str, tuple[datetime.date, datetime.date]] = {}
    for code, founded, coverage_from, union_founded in (
        UnionCoverage.objects.order_by("enterprise_id", "union_id")
        .filter(
            valid_to__isnull=True,
            union__dissolved_on__isnull=True,
            enterprise__deregistered_on__isnull=True,
        )
        .values_list("enterprise__credit_code", "enterprise__founded_on", "valid_from", "union__founded_on")
    ):
        # From this day every coverage of the enterprise that began before is open, so a join is covered.
        joinable = max(d for d in (founded, coverage_from, union_founded) if d is not None)
        if code not in covered or joinable < covered[code][0]:
            covered[code] = (joinable, founded)
    others = [
        (code, founded)
        for code, founded in Enterprise.objects.order_by("pk")
        .filter(Q(deregistered_on__isnull=True))
        .values_list("credit_code", "founded_on")
        if code not in covered
    ]
    targets = sorted((code, joinable, founded) for code, (joinable, founded) in covered.items())
    return [t for t in targets if t[1] < LAST_DAY - datetime.timedelta(days=400)], others


def write_file(path: Path, rows: int, seed: int) -> None:
    covered, others = load_targets()
    if not covered:
        sys.exit(
            "The database has no enterprise covered by a union: load the demo first (demo-data --scale city)."
        )
    rng = random.Random(seed)
    person = 0
    written = 0
    temporary = path.with_suffix(".part")
    with temporary.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)

        def when(low: datetime.date, high: datetime.date) -> datetime.date:
            span = (high - low).days
            return low + datetime.timedelta(days=rng.randint(0, max(span, 0)))

        while written < rows:
            person += 1
            number = id_number(person)
            name = (
                rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
            )
            phone = (
                f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}" if rng.random() < 0.85 else ""
            )
            household = "农村" if rng.random() < 0.35 else "城镇"
            jobs = 2 if rng.random() < 0.17 and written + 2 <= rows else 1
            member = rng.random() < 0.7
            kind = rng.choices(("劳动合同", "劳务派遣", "非全日制"), (86, 10, 4))[0]
            if member:
                first = rng.choice(covered)
                start = max(first[1], first[2])
                hired = when(start, LAST_DAY - datetime.timedelta(days=400))
                joined = when(hired, min(hired + datetime.timedelta(days=200), LAST_DAY))
            else:
                code, founded = (
                    rng.choice(others) if others and rng.random() < 0.7 else rng.choice(covered)[::2]
                )
                first = (code, founded, founded)
                hired = when(founded, LAST_DAY - datetime.timedelta(days=400))
                joined = None
            member_number = f"HY{person:08d}" if member and rng.random() < 0.3 else ""
            if jobs == 1:
                left = when(hired + datetime.timedelta(days=30), LAST_DAY) if rng.random() < 0.1 else None
                quit_ = left if joined and left and joined < left else None
                if joined and left and joined >= left:
                    joined = None
                    member_number = ""
                writer.writerow(
                    row(
                        name,
                        number,
                        phone,
                        household,
                        kind,
                        first[0],
                        hired,
                        left,
                        joined,
                        quit_,
                        member_number,
                    )
                )
                written += 1
                continue
            # A job change: the second enterprise is joinable from the day the first job ends.
            second = rng.choice(covered)
            change = when(max(hired + datetime.timedelta(days=60), second[1], second[2]), LAST_DAY)
            if change <= hired or (joined and change <= joined):
                change = None
            if change is None or change >= LAST_DAY:
                writer.writerow(
                    row(
                        name,
                        number,
                        phone,
                        household,
                        kind,
                        first[0],
                        hired,
                        None,
                        joined,
                        None,
                        member_number,
                    )
                )
                written += 1
                continue
            writer.writerow(
                row(
                    name,
                    number,
                    phone,
                    household,
                    kind,
                    first[0],
                    hired,
                    change,
                    joined,
                    change if joined else None,
                    member_number,
                )
            )
            writer.writerow(
                row(
                    name,
                    number,
                    phone,
                    household,
                    "劳动合同",
                    second[0],
                    change,
                    None,
                    change if joined else None,
                    None,
                    member_number,
                )
            )
            written += 2
    temporary.replace(path)


def row(name, number, phone, household, kind, code, hired, left, joined, quit_, member_number) -> list[str]:
    return [
        name,
        number,
        phone,
        household,
        kind,
        code,
        hired.isoformat(),
        left.isoformat() if left else "",
        joined.isoformat() if joined else "",
        quit_.isoformat() if quit_ else "",
        member_number,
    ]


class ServerTime:
    """CPU seconds that PostgreSQL's backends serving the import spent (read from /proc while they live):
    the database server's own share of the work, which neither the import's CPU time nor, on a busy
    machine, its wall time shows. Nothing on SQLite or where /proc is not readable."""

    def __init__(self) -> None:
        from django.db import connection

        self.enabled = connection.vendor == "postgresql" and Path("/proc/self/stat").exists()
        self.seconds: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> ServerTime:
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.enabled:
            self._thread.join()

    @property
    def total(self) -> float | None:
        return sum(self.seconds.values()) if self.enabled else None

    def _poll(self) -> None:
        from django.db import connection

        tick = os.sysconf("SC_CLK_TCK")
        with connection.cursor() as cursor:
            while not self._stop.wait(0.5):
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
                for (pid,) in cursor.fetchall():
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    self.seconds[pid] = (int(fields[11]) + int(fields[12])) / tick
        connection.close()


def run(file: Path, *extra: str) -> tuple[float, float, float, int, str, float | None]:
    """Wall seconds, CPU seconds (user + system), peak RSS in MB, exit code, the last line of output of
    one import and the database server's CPU seconds (see ServerTime). On a shared machine the CPU times
    say more about the import than the wall clock."""
    command = [str(ROOT / ".venv" / "bin" / "safetynet"), "import", "members", str(file), *extra]
    start = time.perf_counter()
    with ServerTime() as server:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Read before waiting, so a long error list cannot fill the pipe and stall the child.
        stdout, stderr = process.stdout.read(), process.stderr.read()
        _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = stderr.strip().splitlines()
    if errors:
        print("\n".join(errors[:10]), file=sys.stderr)
    lines = stdout.strip().splitlines()
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, process.returncode, lines[-1] if lines else "", server.total


def phases(file: Path) -> None:
    """One import in this process, with wall, Python CPU and database-backend CPU per phase of the importer
    (its methods wrapped with timers). Python CPU is the whole process, the writer thread included; on
    SQLite the database works inside it, so there is no database column."""
    import resource

    from django.db import connection

    from safetynet.core.importing import run_import
    from safetynet.members import bulk, importers
    from safetynet.members.importers import MemberImporter

    connection.ensure_connection()
    postgres = connection.vendor == "postgresql"
    backend = None
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
    tick = os.sysconf("SC_CLK_TCK")

    def database_cpu() -> float:
        if backend is None:
            return 0.0
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    def process_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    totals: dict[str, list[float]] = {}

    def wrap(owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args: object, **kwargs: object) -> object:
            wall, cpu, database = time.perf_counter(), process_cpu(), database_cpu()
            try:
                return original(*args, **kwargs)
            finally:
                total = totals.setdefault(label, [0.0, 0.0, 0.0, 0])
                total[0] += time.perf_counter() - wall
                total[1] += process_cpu() - cpu
                total[2] += database_cpu() - database
                total[3] += 1

        setattr(owner, name, timed)

    wrap(MemberImporter, "_keep", "pass 1: digests and arrays (_keep)")
    wrap(MemberImporter, "check_batch", "pass 1: enterprises and unions (check_batch)")
    wrap(MemberImporter, "_load_people", "lookups of stored persons (_load_people)")
    wrap(MemberImporter, "finish_check", "checks across rows and stored persons (finish_check)")
    wrap(MemberImporter, "_start_saving", "pass 2: ids reserved, transfers (_start_saving)")
    wrap(MemberImporter, "_create_people", "pass 2: persons encrypted and handed over (_create_people)")
    wrap(MemberImporter, "save_batch", "pass 2: writing, main thread (save_batch)")
    wrap(bulk, "write_rows", "write_rows (SQLite: every table; PostgreSQL: audit)")
    wrap(bulk.BackgroundWriter, "wait", "waiting for the writer thread")
    wrap(importers, "employment_spans_rebuild", "span rebuild in SQL (stored persons)")
    wrap(MemberImporter, "_audit", "audit rows")
    wrap(importers, "analyze_tables", "ANALYZE")
    wrap(MemberImporter, "finish_save", "finish_save")
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    wall, cpu, database = time.perf_counter(), process_cpu(), database_cpu()
    result = run_import("members", file)
    wall, cpu, database = time.perf_counter() - wall, process_cpu() - cpu, database_cpu() - database
    print(
        f"created {result.created:,}, updated {result.updated:,}, unchanged {result.unchanged:,}, "
        f"errors {len(result.errors):,}; load {load} → {'/'.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print("| phase (nested calls are counted in both) | wall s | Python CPU s | database CPU s | calls |")
    print("|---|---:|---:|---:|---:|")
    for label, (seconds, python, backend_seconds, calls) in totals.items():
        print(f"| {label} | {seconds:.1f} | {python:.1f} | {backend_seconds:.1f} | {calls:.0f} |")
    print(f"| whole import | {wall:.1f} | {cpu:.1f} | {database:.1f} | |")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--again", action="store_true", help="import the file a second time (all unchanged)")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--write-only", action="store_true", help="only write the file")
    parser.add_argument(
        "--phases",
        action="store_true",
        help="one import in this process, with the time of each phase of the importer (a profile)",
    )
    parser.add_argument(
        "--again-only",
        action="store_true",
        help="only the second import (the database already holds the file, from an earlier run)",
    )
    options = parser.parse_args()
    setup_django()
    from django.db import connection

    from safetynet.members.models import Person
    from safetynet.orgs.models import Enterprise

    file = options.file or Path(f"/tmp/members-{options.rows}-seed{options.seed}.csv")
    if not file.exists():
        start = time.perf_counter()
        write_file(file, options.rows, options.seed)
        print(f"wrote {file} ({file.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - start:.0f} s")
    if options.write_only:
        return
    if options.phases:
        phases(file)
        return
    database = connection.vendor
    enterprises, persons = Enterprise.objects.count(), Person.objects.count()
    connection.close()
    # The last run's file may still be in the page cache or not: read it once so every run starts alike.
    with file.open("rb") as handle:
        while handle.read(1 << 24):
            pass
    runs = [("dry run" if options.dry_run else "import", ["--dry-run"] if options.dry_run else [])]
    if options.again or options.again_only:
        runs.append(("again (unchanged)", []))
    if options.again_only:
        runs = runs[1:]
    print(
        "| date | database | rows | run | seconds | import CPU s | database CPU s | peak MB | exit "
        "| load avg before (1/5/15 min) | load avg after | before |"
    )
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---|---|---|")
    for label, extra in runs:
        load = "/".join(f"{x:.1f}" for x in os.getloadavg())
        seconds, cpu, peak, code, summary, server = run(file, *extra)
        after = "/".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"| {datetime.date.today()} | {database} | {options.rows:,} | {label} | {seconds:.1f} | {cpu:.1f} "
            f"| {'–' if server is None else f'{server:.1f}'} | {peak:.0f} "
            f"| {code} | {load} | {after} | {enterprises:,} enterprises, {persons:,} persons |",
            flush=True,
        )
        print(f"<!-- {summary} -->", flush=True)


if __name__ == "__main__":
    main()
