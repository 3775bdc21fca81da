"""Harmony benchmark (issue 17): the harmonious-labour-relations index of every enterprise of the city demo for
one year, and the ranking page.

Run on a copy of the city demo (the script writes that year's model, the scores and a run row):

    createdb -h 127.0.0.1 -U postgres -T sn_city sn_city_harmony
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sn_city_harmony .venv/bin/safetynet migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sn_city_harmony .venv/bin/python bench/bench_harmony.py
    dropdb -h 127.0.0.1 -U postgres sn_city_harmony

Bars: the index for all ~200,000 enterprises for one year under 30 s (set-based: one grouped query per
dimension, bulk writes), run as the background task does it (``run_execute`` with its progress rows); the
ranking page (city and a district, first page, with the by-unit and by-industry panels) under 1 s.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safetynet.test_settings")
os.environ.setdefault("SAFETYNET_SSL_REDIRECT", "0")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from safetynet.accounts.models import User  # noqa: E402
from safetynet.harmony import services  # noqa: E402
from safetynet.harmony.models import IndexModel, Run, Score  # noqa: E402
from safetynet.orgs.models import Enterprise, OrgLevel, OrgUnit  # noqa: E402


def staff(username: str, unit: OrgUnit, role: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(
            username=username, password="Bench-harmony-1", org_unit=unit, role=role
        )
    return user


def timed_get(client: Client, url: str, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return times[0], times[1:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--year", type=int, default=timezone.localdate().year - 1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    year = args.year
    city = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
    district = OrgUnit.objects.filter(level=OrgLevel.DISTRICT).order_by("code").first()
    print(
        f"# bench_harmony {datetime.datetime.now().isoformat(timespec='seconds')} on {connection.vendor}, "
        f"{platform.node()}, python {platform.python_version()}"
    )
    print(f"enterprises: {Enterprise.objects.count():,}; year {year}")
    if not IndexModel.objects.filter(year=year).exists():
        services.indexmodel_save(actor=None, year=year, weights=services.DEFAULT_WEIGHTS)
    admin = staff("bench_harmony_city", city, "city_admin")
    Run.objects.filter(year=year, status__in=("queued", "running")).update(status="failed")
    run = Run.objects.create(year=year, org_unit=city, actor=admin)
    started = time.perf_counter()
    run = services.run_execute(run_id=run.pk)
    total = time.perf_counter() - started
    print(
        f"index computed: {run.scored:,} enterprises in {total:.2f} s (run row: {run.seconds} s, status {run.status})"
    )
    assert Score.objects.filter(year=year).count() == run.scored
    # Again, replacing the year's scores (the yearly recomputation).
    run2 = Run.objects.create(year=year, org_unit=city, actor=admin)
    started = time.perf_counter()
    run2 = services.run_execute(run_id=run2.pk)
    print(f"recomputed (replacing): {run2.scored:,} in {time.perf_counter() - started:.2f} s")

    client = Client()
    client.force_login(admin)
    for label, url in (
        ("ranking, city", f"{reverse('harmony:index_list')}?year={year}"),
        ("ranking, city, page 100", f"{reverse('harmony:index_list')}?year={year}&page=100"),
        ("ranking, district", f"{reverse('harmony:index_list')}?year={year}&unit={district.pk}"),
        ("ranking, city, industry C", f"{reverse('harmony:index_list')}?year={year}&industry=C"),
    ):
        first, rest = timed_get(client, url, args.repeats)
        print(f"{label}: first {first * 1000:.0f} ms, median {statistics.median(rest) * 1000:.0f} ms")
    district_user = staff("bench_harmony_district", district, "operator")
    client.force_login(district_user)
    first, rest = timed_get(client, f"{reverse('harmony:index_list')}?year={year}", args.repeats)
    print(
        f"ranking as a district operator: first {first * 1000:.0f} ms, median {statistics.median(rest) * 1000:.0f} ms"
    )
    score = Score.objects.filter(year=year).order_by("-total").first()
    client.force_login(admin)
    first, rest = timed_get(client, reverse("harmony:score_detail", args=[score.pk]), args.repeats)
    print(
        f"score explanation page: first {first * 1000:.0f} ms, median {statistics.median(rest) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
