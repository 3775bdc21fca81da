"""COPY's text format against its binary format for the indicator counters' unit runs (issue 18: a late roster's
refresh writes ~9,700 of them; ``core.importing.copy_rows`` writes binary).

Writes the same synthetic rows (the unit runs' shape: two short codes, a bigint unit, two days, 60 bytes of
packed counts) into ``indicators_unitcounts`` each way, alternating, each round rolled back. Text: the rows
turned into COPY's text in Python, as the counters wrote them before; binary: ``copy_rows``. Any migrated
PostgreSQL database will do (the table's indexes are part of the cost, so a big one is closer to the city).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sn_city .venv/bin/python bench/bench_copy_formats.py
Options: --rows 9780 --rounds 5
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safetynet.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

from safetynet.core.importing import copy_rows  # noqa: E402
from safetynet.indicators.models import UnitCounts  # noqa: E402

FIELDS = ("hierarchy", "population", "unit_id", "valid_from", "valid_to", "counts")


def synthetic_rows(count: int) -> list[tuple]:
    rng = random.Random(18)
    first = datetime.date(2012, 1, 1)
    rows = []
    for _ in range(count):
        start = first + datetime.timedelta(days=rng.randint(0, 5000))
        end = None if rng.random() < 0.01 else start + datetime.timedelta(days=rng.randint(1, 30))
        rows.append(("street", "enterprise", rng.randint(1, 3000), start, end, rng.randbytes(60)))
    return rows


def text_value(value: object) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def write_text(rows: list[tuple]) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(UnitCounts._meta.get_field(name).column) for name in FIELDS)
    statement = f"COPY {quote(UnitCounts._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.write("\n".join("\t".join(text_value(v) for v in row) for row in rows) + "\n")


def write_binary(rows: list[tuple]) -> None:
    copy_rows(UnitCounts, FIELDS, rows)


def timed(write, rows: list[tuple]) -> float:
    with transaction.atomic():
        started = time.perf_counter()
        write(rows)
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=9780)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("COPY is PostgreSQL's: set DATABASE_URL to a PostgreSQL database.")
    rows = synthetic_rows(args.rows)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {UnitCounts._meta.db_table}")
        existing = cursor.fetchone()[0]
    print(
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
        f"load {os.getloadavg()[0]:.1f}; {args.rows:,} rows into a table of {existing:,}"
    )
    times: dict[str, list[float]] = {"text": [], "binary": []}
    for _ in range(args.rounds):
        times["text"].append(timed(write_text, rows))
        times["binary"].append(timed(write_binary, rows))
    for name, values in times.items():
        print(
            f"  {name:6}: median {statistics.median(values) * 1000:.1f} ms "
            f"({', '.join(f'{v * 1000:.1f}' for v in values)})"
        )


if __name__ == "__main__":
    main()
