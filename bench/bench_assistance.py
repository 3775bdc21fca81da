"""Assistance benchmark: the batch application for every open hardship file of one district in one action.

Run against a database holding the city demo with the assistance demo (``safetynet demo-data --scale city``
builds about 2,000 hardship files per district):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sn_demo .venv/bin/python bench/bench_assistance.py

A fresh round with a budget for the district is opened, then the background job's path runs (enqueue, then the
job itself, as `safetynet db_worker` would): eligibility in grouped queries, one bulk insert, audit rows in bulk.
Everything runs inside a transaction that is rolled back, so the database is left as it was. Bar (issue 14):
under 10 s for 2,000 files. It prints a Markdown row to paste into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safetynet.test_settings")
os.environ.setdefault("SAFETYNET_SSL_REDIRECT", "0")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402

from safetynet.assistance import services  # noqa: E402
from safetynet.assistance.models import Application, HardshipFile, open_on_q  # noqa: E402
from safetynet.orgs.models import OrgLevel, OrgUnit  # noqa: E402


class Rollback(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--district", help="district code (default: the one with the most open files)")
    parser.add_argument("--day", default="2013-12-10", help="the day the applications are made")
    args = parser.parse_args()
    day = datetime.date.fromisoformat(args.day)

    open_files = HardshipFile.objects.filter(open_on_q(day))
    if args.district:
        district = OrgUnit.objects.get(code=args.district)
    else:
        counts = {
            unit.pk: open_files.within(unit.path).count()
            for unit in OrgUnit.objects.filter(level=OrgLevel.DISTRICT)
        }
        if not counts or not max(counts.values()):
            print("没有困难职工档案：先运行 safetynet demo-data --scale city。", file=sys.stderr)
            return 2
        district = OrgUnit.objects.get(pk=max(counts, key=counts.__getitem__))
    files = open_files.within(district.path).count()
    city = OrgUnit.objects.get(level=OrgLevel.CITY)

    figures: dict[str, float] = {}
    try:
        with transaction.atomic():
            round_ = services.round_create(
                actor=None,
                kind="winter_relief",
                year=day.year,
                title=f"{day.year} 年“送温暖”基准测试",
                org_unit=city,
                window_opens=day - datetime.timedelta(days=5),
                window_closes=day + datetime.timedelta(days=30),
                standard_amount="500.00",
                budget=str(files * 500 + 100000),
                review_levels=(OrgLevel.STREET, OrgLevel.DISTRICT),
                require_member=False,
                require_below_threshold=False,
            )
            services.budget_set(actor=None, round=round_, org_unit=district, amount=str(files * 500 + 50000))
            started = time.perf_counter()
            cpu = time.process_time()
            job_id = services.application_batch_enqueue(actor=None, round=round_, unit=district, on=day)
            job = services.application_batch_run(job_id=int(job_id))
            figures["wall"] = time.perf_counter() - started
            figures["cpu"] = time.process_time() - cpu
            created = Application.objects.filter(round=round_).count()
            statuses = dict(
                Application.objects.filter(round=round_).values_list("status").annotate(n=Count("pk"))
            )
            print(f"job: {job.status if job else '?'} {job.message if job else ''}", file=sys.stderr)
            raise Rollback
    except Rollback:
        pass

    load = os.getloadavg()[0]
    print(
        f"| {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC | {connection.vendor} | {district.name} ({district.code}) | {files:,} open files "
        f"| {created:,} applications ({statuses}) | {figures['wall']:.2f} s | {figures['cpu']:.2f} s "
        f"| load {load:.1f} | {platform.machine()} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
