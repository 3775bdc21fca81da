"""Time `safetynet import enterprises` on a big file: dry run, real import, and a re-import that changes nothing.

Usage: .venv/bin/python bench/bench_import.py [--rows 200000] [--database-url sqlite:////tmp/bench.sqlite3]

Without --database-url a fresh SQLite file in a temporary directory is used (and migrated). The file has a
city, 10 districts, 100 streets and 1,000 communities, and ROWS enterprises with valid credit codes.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path


def write_units(path: Path) -> list[str]:
    communities = []
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["区划代码", "名称", "上级区划代码", "层级"])
        writer.writerow(["2102", "大连市", "", "市"])
        for d in range(1, 11):
            district = f"2102{d:02d}"
            writer.writerow([district, f"区{d}", "2102", "区市县"])
            for s in range(1, 11):
                street = f"{district}{s:03d}"
                writer.writerow([street, f"区{d}街道{s}", district, "乡镇街道"])
                for c in range(1, 11):
                    community = f"{street}{c:03d}"
                    writer.writerow([community, f"区{d}街道{s}社区{c}", street, "村社区"])
                    communities.append(community)
    return communities


def write_enterprises(path: Path, rows: int, communities: list[str]) -> None:
    from safetynet.orgs.tests.factories import make_credit_code

    rng = random.Random(7)
    ownerships = ["国有", "集体", "私营", "私营", "私营", "外资", "港澳台", "个体"]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "统一社会信用代码",
                "企业名称",
                "所属区划代码",
                "经济类型",
                "行业门类",
                "规模以上",
                "职工人数",
                "农民工人数",
                "劳务派遣人数",
                "成立日期",
                "注销日期",
            ]
        )
        for n in range(1, rows + 1):
            headcount = rng.randint(1, 500)
            writer.writerow(
                [
                    make_credit_code(n, region="2102" + f"{n % 10 + 1:02d}"),
                    f"基准企业{n}有限公司",
                    rng.choice(communities),
                    rng.choice(ownerships),
                    rng.choice("ABCDEFGHIJKLMNOPQRST"),
                    rng.choice(["是", "否"]),
                    headcount,
                    rng.randint(0, headcount),
                    rng.randint(0, headcount // 10),
                    f"{rng.randint(1990, 2011)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    "",
                ]
            )


def timed(label: str, function, *args, **kwargs):
    start, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    # CPU time too: on a shared machine the wall clock says more about the neighbours than about us.
    print(f"{label:<36} {elapsed:7.1f} s wall {cpu:7.1f} s cpu   {result.summary()}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--database-url", default="")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="safetynet-bench-"))
    os.environ["DATABASE_URL"] = options.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safetynet.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from safetynet.core.importing import run_import
    from safetynet.core.models import AuditEntry
    from safetynet.orgs.models import Enterprise

    call_command("migrate", verbosity=0)
    units_file, enterprises_file = workdir / "units.csv", workdir / "enterprises.csv"
    communities = write_units(units_file)
    start = time.perf_counter()
    write_enterprises(enterprises_file, options.rows, communities)
    size = enterprises_file.stat().st_size / 1e6
    print(
        f"database: {connection.vendor} ({os.environ['DATABASE_URL']}), load average {os.getloadavg()[0]:.1f}"
    )
    print(f"file: {options.rows} enterprises, {size:.1f} MB, written in {time.perf_counter() - start:.1f} s")

    timed("units (1,111 rows)", run_import, "units", units_file)
    timed("enterprises --dry-run", run_import, "enterprises", enterprises_file, dry_run=True)
    timed("enterprises (all new)", run_import, "enterprises", enterprises_file)
    timed("enterprises again (all unchanged)", run_import, "enterprises", enterprises_file)
    print(f"enterprises in database: {Enterprise.objects.count()}, audit rows: {AuditEntry.objects.count()}")


if __name__ == "__main__":
    main()
