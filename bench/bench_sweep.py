"""Time `safetynet sweep` (the cases escalation) over many open cases of which a fraction is overdue.

Usage: .venv/bin/python bench/bench_sweep.py [--cases 1000000] [--overdue 50000] [--database-url URL]

Without --database-url a fresh SQLite file in a temporary directory is used. The database is migrated, a city
with 10 districts, 100 streets and 1,000 communities is built, and CASES open cases are generated set-based
(one INSERT … SELECT over generate_series on PostgreSQL, bulk_create batches on SQLite) at the communities,
OVERDUE of them with a deadline before T. Then `run_sweep(T)` is timed twice: the first run hands every
overdue case one level up; the second, at the same T, must find nothing to do.
Use a database of your own: the cases table is emptied first.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

CATEGORIES = [
    "wage_arrears",
    "social_insurance",
    "labour_contract",
    "dismissal",
    "working_hours",
    "work_injury",
    "safety",
    "other",
]


def build_units() -> list[int]:
    """City › 10 districts › 100 streets › 1,000 communities in four bulk inserts; returns community ids."""
    from safetynet.orgs.models import OrgLevel, OrgUnit

    existing = list(
        OrgUnit.objects.filter(level=OrgLevel.COMMUNITY, code__startswith="2102").values_list("pk", flat=True)
    )
    if len(existing) >= 1000:
        return existing[:1000]

    def bulk(rows: list[OrgUnit]) -> list[OrgUnit]:
        created = OrgUnit.objects.bulk_create(rows)
        for unit in created:
            unit.path = (unit.parent.path if unit.parent else "") + f"{unit.pk}/"
        OrgUnit.objects.bulk_update(created, ["path"], batch_size=500)
        return created

    (city,) = bulk([OrgUnit(code="2102", name="大连市", level=OrgLevel.CITY)])
    districts = bulk(
        [
            OrgUnit(code=f"2102{d:02d}", name=f"区{d}", level=OrgLevel.DISTRICT, parent=city)
            for d in range(1, 11)
        ]
    )
    streets = bulk(
        [
            OrgUnit(code=f"{d.code}{s:03d}", name=f"{d.name}街道{s}", level=OrgLevel.STREET, parent=d)
            for d in districts
            for s in range(1, 11)
        ]
    )
    communities = bulk(
        [
            OrgUnit(code=f"{s.code}{c:03d}", name=f"{s.name}社区{c}", level=OrgLevel.COMMUNITY, parent=s)
            for s in streets
            for c in range(1, 11)
        ]
    )
    return [c.pk for c in communities]


def generate_cases(
    total: int, overdue: int, communities: list[int], moment: datetime.datetime, layout: str = "spread"
) -> None:
    from django.db import connection

    from safetynet.cases.models import Case, CaseStep, Escalation, Notification
    from safetynet.core.models import AuditEntry

    # Plain SQL deletes: the ORM's delete() would load every case to collect its cascade. On PostgreSQL a
    # TRUNCATE (with every table referring to cases), so a re-run starts from a table of the same size rather
    # than one that grew by the dead rows of the last run.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE entity = 'cases.case'")
        if connection.vendor == "postgresql":
            tables = ", ".join(model._meta.db_table for model in (Case, CaseStep, Escalation, Notification))
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        else:
            for model in (Notification, Escalation, CaseStep):
                cursor.execute(f"DELETE FROM {model._meta.db_table}")
            cursor.execute(f"DELETE FROM {Case._meta.db_table}")
    # "spread": every k-th case is overdue, so the overdue rows sit on nearly every page of the table (the
    # worst case for the UPDATE); "oldest": the first cases registered are the overdue ones, as in life.
    every = max(total // max(overdue, 1), 1) if layout == "spread" else 1
    late = moment - datetime.timedelta(hours=1)
    fine = moment + datetime.timedelta(days=10)
    since = moment - datetime.timedelta(days=16)
    if connection.vendor == "postgresql":
        values = {
            "number": "'B-' || g",
            "kind": "'dispute'",
            "channel": "'hotline'",
            "caller_person_id": "NULL",
            "caller_name": "''",
            "anonymous": "false",
            "caller_phone_encrypted": "''",
            "caller_phone_hash": "''",
            "caller_phone_masked": "''",
            "enterprise_id": "NULL",
            "enterprise_name": "'基准企业'",
            "enterprise_address": "''",
            "category": "(%(categories)s::text[])[g %% 8 + 1]",
            "claim_amount": "0",
            "workers_involved": "1",
            "description": "'基准案件'",
            "difficulty": "'general'",
            "collective": "false",
            "major": "false",
            "leader_id": "NULL",
            "handler_id": "NULL",
            "status": "'new'",
            "level": "4",
            "unit_id": "(%(units)s::bigint[])[g %% %(unit_count)s + 1]",
            "origin_unit_id": "(%(units)s::bigint[])[g %% %(unit_count)s + 1]",
            "received_at": "%(since)s",
            "level_since": "%(since)s",
            "arrival": "'intake'",
            "deadline": "CASE WHEN g %% %(every)s = 0 AND g / %(every)s <= %(overdue)s THEN %(late)s ELSE %(fine)s END",
            "breached": "false",
            "reminder_stage": "0",
            "accepted_at": "NULL",
            "closed_at": "NULL",
            "outcome_kind": "''",
            "closed_on_time": "NULL",
            "merged_into_id": "NULL",
            "rectification_owner": "''",
            "rectification_deadline": "NULL",
            "verified_at": "NULL",
            "verified_by_id": "NULL",
            "created_by_id": "NULL",
            "version": "1",
        }
        columns = [f.column for f in Case._meta.concrete_fields if f.column != "id"]
        missing = set(columns) - set(values)
        if missing:
            raise SystemExit(f"bench_sweep: no generated value for {sorted(missing)}")
        sql = (
            f"INSERT INTO {Case._meta.db_table} ({', '.join(columns)}) "
            f"SELECT {', '.join(values[c] for c in columns)} FROM generate_series(1, %(total)s) AS g"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                {
                    "categories": CATEGORIES,
                    "units": communities,
                    "unit_count": len(communities),
                    "since": since,
                    "late": late,
                    "fine": fine,
                    "every": every,
                    "overdue": overdue,
                    "total": total,
                },
            )
        # A long-lived table is vacuumed: hint bits and the visibility map are set, as in production. Then a
        # checkpoint, so every run pays what a sweep pays in production (every 15 minutes, checkpoints every
        # 5): the first change of each page after a checkpoint writes the whole page to the WAL.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {Case._meta.db_table}")
            cursor.execute(f"VACUUM ANALYZE {AuditEntry._meta.db_table}")
            try:
                cursor.execute("CHECKPOINT")
            except Exception:  # Not a superuser: the run then starts wherever the last checkpoint left it.
                print("bench_sweep: CHECKPOINT refused (not a superuser); figures vary more")
        return
    batch: list[Case] = []
    for g in range(1, total + 1):
        unit = communities[g % len(communities)]
        is_late = g % every == 0 and g // every <= overdue
        batch.append(
            Case(
                number=f"B-{g}",
                channel="hotline",
                enterprise_name="基准企业",
                category=CATEGORIES[g % 8],
                description="基准案件",
                level=4,
                unit_id=unit,
                origin_unit_id=unit,
                received_at=since,
                level_since=since,
                deadline=late if is_late else fine,
            )
        )
        if len(batch) == 20_000:
            Case.objects.bulk_create(batch, batch_size=2000)
            batch = []
    Case.objects.bulk_create(batch, batch_size=2000)


def wal_statistics(connection: object) -> tuple[int, int] | None:
    """(bytes, full-page images) written to PostgreSQL's WAL so far (pg_stat_wal, PostgreSQL 14+)."""
    if connection.vendor != "postgresql":  # type: ignore[attr-defined]
        return None
    with connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute("SELECT wal_bytes::bigint, wal_fpi FROM pg_stat_wal")
        return cursor.fetchone()


def server_cpu_seconds(connection: object) -> float | None:
    """CPU used so far by the PostgreSQL server process of this connection (a local server, Linux /proc)."""
    if connection.vendor != "postgresql":  # type: ignore[attr-defined]
        return None
    with connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--overdue", type=int, default=50_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--layout", choices=("spread", "oldest"), default="spread")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="safetynet-bench-"))
    os.environ["DATABASE_URL"] = options.database_url or os.environ.get(
        "DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safetynet.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from safetynet.cases.models import Case, Escalation
    from safetynet.core.sweep import run_sweep

    call_command("migrate", verbosity=0)
    moment = timezone.make_aware(datetime.datetime(2012, 10, 8, 9, 0))
    communities = build_units()
    start = time.perf_counter()
    generate_cases(options.cases, options.overdue, communities, moment, options.layout)
    print(
        f"database: {connection.vendor} ({os.environ['DATABASE_URL']}), load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"generated {Case.objects.count():,} open cases ({options.layout}) in {time.perf_counter() - start:.1f} s"
    )
    for label in ("sweep (first run)", "sweep (again, same T)"):
        wal_before = wal_statistics(connection)
        server_before = server_cpu_seconds(connection)
        start, cpu = time.perf_counter(), time.process_time()
        results = run_sweep(moment)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        summary = dict(results).get("cases-escalation", "")
        wal = wal_statistics(connection)
        server_after = server_cpu_seconds(connection)
        if server_before is not None and server_after is not None:
            summary += f"   PostgreSQL CPU {server_after - server_before:.2f} s"
        written = (
            f"   WAL {(wal[0] - wal_before[0]) / 2**20:,.0f} MB, {wal[1] - wal_before[1]:,} full-page images"
            if wal and wal_before
            else ""
        )
        print(
            f"{label:<24} {elapsed:6.2f} s wall {cpu:6.2f} s cpu   {summary}{written}   "
            f"load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    print(
        f"escalation rows: {Escalation.objects.count():,}; still overdue below the city: "
        f"{Case.objects.overdue_at(moment).filter(level__gt=1).count():,}"
    )


if __name__ == "__main__":
    main()
