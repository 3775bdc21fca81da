"""Time `safetynet demo-data` at both scales on the current database and print rows and seconds.

Usage: .venv/bin/python bench/bench_demo.py [--scales small city] [--seed 2012] [--reset]

Runs on DATABASE_URL (or the embedded SQLite under SAFETYNET_HOME). The database is migrated, then for each
scale the registry tables (and everything referencing them) are emptied and the demo city is loaded. A database
that already holds org units is only emptied with --reset: use a scratch database, e.g.
  SAFETYNET_HOME=/tmp/demo-sqlite .venv/bin/python bench/bench_demo.py
  createdb -h 127.0.0.1 -U postgres sn_demo
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/sn_demo .venv/bin/python bench/bench_demo.py --reset
Wall seconds depend on what else runs on the machine; the process CPU seconds (this process only, not the
PostgreSQL server) and the load average are printed beside them.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time


def empty_registry() -> None:
    """Empty the org units, users and audit trail and every table that references them (TRUNCATE … CASCADE)."""
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from safetynet.accounts.models import User
    from safetynet.core.models import AuditEntry
    from safetynet.orgs.models import OrgUnit

    tables = [OrgUnit._meta.db_table, User._meta.db_table, AuditEntry._meta.db_table]
    statements = connection.ops.sql_flush(no_style(), tables, allow_cascade=True)
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA defer_foreign_keys = ON")
            for statement in statements:
                cursor.execute(statement)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["small", "city"], choices=["small", "city"])
    parser.add_argument("--seed", type=int, default=2012)
    parser.add_argument("--reset", action="store_true", help="empty a database that already holds org units")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safetynet.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from safetynet.orgs.demo import demo_load
    from safetynet.orgs.models import OrgUnit

    call_command("migrate", verbosity=0)
    settings = connection.settings_dict
    database = f"{connection.vendor} {settings['NAME']}"
    if OrgUnit.objects.exists() and not args.reset:
        print(f"{database} already holds org units; add --reset to empty it (scratch databases only).")
        return 2
    print(f"database: {database}; date: {datetime.date.today()}; load average: {os.getloadavg()[0]:.1f}")
    for scale in args.scales:
        empty_registry()
        wall, cpu = time.perf_counter(), time.process_time()
        result = demo_load(scale=scale, seed=args.seed)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        total = sum(result.counts.values())
        rows = ", ".join(f"{label} {count:,}" for label, count in result.counts.items())
        print(
            f"{scale:>5}: {total:,} rows in {wall:.1f} s wall, {cpu:.1f} s CPU "
            f"({total / wall:,.0f} rows/s; load average now {os.getloadavg()[0]:.1f}) — {rows}"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
