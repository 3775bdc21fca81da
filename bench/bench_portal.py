"""The workers' platform with 100,000 worker accounts: server time of every worker page, p50 / p99.

Run against a copy of the city demo (never the demo itself), migrated:

    createdb -h 127.0.0.1 -U postgres -T sn_city sn_city_portal
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sn_city_portal .venv/bin/safetynet migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sn_city_portal .venv/bin/python bench/bench_portal.py

The accounts are made set-based (one INSERT … SELECT over registry persons, verified, each at the unit of
their latest employment; 5 notifications each); a sample of them also gets a join application, an e-card
holder's account, appeals filed through the platform's service. Each page is then requested with Django's
test client (the whole middleware stack and template rendering, no network) for ``--sample`` accounts, and
the server time per request is reported per page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safetynet.settings")
os.environ.setdefault("SAFETYNET_DEBUG", "0")
# Production settings, served over plain HTTP by the test client (no TLS redirect, no secure-only cookie).
os.environ.setdefault("SAFETYNET_SSL_REDIRECT", "0")
os.environ.setdefault("SAFETYNET_SECURE_COOKIES", "0")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from safetynet.portal import services  # noqa: E402
from safetynet.portal.auth import SESSION_ACCOUNT, SESSION_VERSION  # noqa: E402
from safetynet.portal.models import WorkerAccount  # noqa: E402

PAGES = [
    "/worker/",
    "/worker/card/",
    "/worker/join/",
    "/worker/appeals/",
    "/worker/appeals/new/",
    "/worker/appeals/{case}/",
    "/worker/notices/",
    "/worker/notifications/",
    "/worker/me/",
    "/worker/discounts/",
    "/worker/applications/",
    "/worker/verify/",
]


def create_accounts(count: int) -> float:
    """``count`` verified accounts over registry persons without one, in one statement."""
    started = time.perf_counter()
    password = make_password("Bench-Portal-2026")
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO portal_workeraccount
              (mobile_hash, mobile_encrypted, mobile_masked, password, person_id, verified_at, org_unit_id,
               enterprise_id, consent_version, consent_at, is_active, session_version, created_at)
            SELECT 'bench:' || p.id, '', '138****' || lpad((p.id %% 10000)::text, 4, '0'), %s, p.id, %s,
                   e.org_unit_id, e.id, %s, %s, true, 1, %s
            FROM (SELECT id FROM members_person p0
                  WHERE NOT EXISTS (SELECT 1 FROM portal_workeraccount w WHERE w.person_id = p0.id)
                  ORDER BY id LIMIT %s) p
            LEFT JOIN LATERAL (
              SELECT en.id, en.org_unit_id FROM members_employment em JOIN orgs_enterprise en ON en.id = em.enterprise_id
              WHERE em.person_id = p.id ORDER BY em.valid_from DESC LIMIT 1) e ON true
            """,
            [password, now, services.PRIVACY_NOTICE_VERSION, now, now, count],
        )
        cursor.execute(
            """
            INSERT INTO portal_workernotification (account_id, text, link, created_at, read)
            SELECT w.id, '您的诉求已登记（测试通知 ' || g || '）', '/worker/appeals/', %s - g * interval '1 day', g > 2
            FROM portal_workeraccount w CROSS JOIN generate_series(1, 5) g
            WHERE w.mobile_hash LIKE 'bench:%%'
            """,
            [now],
        )
        cursor.execute("ANALYZE portal_workeraccount")
        cursor.execute("ANALYZE portal_workernotification")
    return time.perf_counter() - started


def sample_accounts(size: int) -> list[WorkerAccount]:
    """Half card holders (the fullest pages), half any bench account."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT w.id FROM portal_workeraccount w JOIN members_membercard c ON c.person_id = w.person_id
               AND c.status = 'active' WHERE w.mobile_hash LIKE 'bench:%%' ORDER BY w.id LIMIT %s""",
            [size // 2],
        )
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT id FROM portal_workeraccount WHERE mobile_hash LIKE 'bench:%%' ORDER BY random() LIMIT %s",
            [size - len(ids)],
        )
        ids += [row[0] for row in cursor.fetchall()]
    return list(WorkerAccount.objects.filter(pk__in=ids).select_related("person", "enterprise"))


def give_records(accounts: list[WorkerAccount]) -> dict[int, int]:
    """An appeal each (through the service), and a join application where the worker may apply."""
    cases = {}
    day = timezone.localdate()
    with override_settings(PORTAL_SMS_GATEWAY="safetynet.portal.sms.MemorySmsGateway"):
        for account in accounts:
            # The bench accounts carry no mobile number; the appeal's call-back number is a test one.
            from safetynet.members import crypto

            account.mobile_encrypted = crypto.encrypt("13800138000")
            if account.enterprise_id is None:
                continue
            case = services.appeal_file(
                account=account,
                category="wage_arrears",
                description="压测：拖欠工资",
                enterprise_id=account.enterprise_id,
            )
            cases[account.pk] = case.pk
            if services.current_membership(account.person, day) is None and services.joinable_employments(
                account.person, day
            ):
                try:
                    services.join_apply(account=account, enterprise_id=account.enterprise_id)
                except Exception:  # a bench account that cannot apply just has no application
                    pass
    return cases


def client_for(account: WorkerAccount) -> Client:
    client = Client()
    session = client.session
    session[SESSION_ACCOUNT] = account.pk
    session[SESSION_VERSION] = account.session_version
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    existing = WorkerAccount.objects.filter(mobile_hash__startswith="bench:").count()
    if existing < args.accounts:
        seconds = create_accounts(args.accounts - existing)
        print(f"created {args.accounts - existing:,} accounts (+5 notifications each) in {seconds:.1f} s")
    print(f"worker accounts: {WorkerAccount.objects.count():,}")
    accounts = sample_accounts(args.sample)
    cases = give_records(accounts)
    # Static file names without a collectstatic manifest (the pages link one CSS file; its serving is not timed).
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        run(accounts, cases, args.rounds)


def run(accounts: list[WorkerAccount], cases: dict[int, int], rounds: int) -> None:
    timings: dict[str, list[float]] = {page: [] for page in PAGES}
    # The Django process's own CPU time per request (excludes time spent waiting for a core or for PostgreSQL):
    # on a shared, loaded machine the wall time above also counts other processes' turns.
    cpu: dict[str, list[float]] = {page: [] for page in PAGES}
    queries: dict[str, int] = {}
    clients = {account.pk: client_for(account) for account in accounts}
    for round_number in range(rounds + 1):
        for account in accounts:
            client = clients[account.pk]
            for page in PAGES:
                if "{case}" in page:
                    if account.pk not in cases:
                        continue
                    url = page.format(case=cases[account.pk])
                else:
                    url = page
                started = time.perf_counter()
                started_cpu = time.thread_time()
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
                cpu_ms = (time.thread_time() - started_cpu) * 1000
                queries[page] = max(queries.get(page, 0), len(captured.captured_queries))
                assert response.status_code in (200, 302), (url, response.status_code)
                if round_number:  # the first round warms the connection and template caches
                    timings[page].append(elapsed)
                    cpu[page].append(cpu_ms)
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    header = f"{'page':28} {'n':>4} {'queries':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'cpu p50':>7} {'cpu p99':>7}"
    print(header)
    worst = 0.0
    for page, values in timings.items():
        values.sort()
        cpu_values = sorted(cpu[page])
        p99 = percentile(values, 0.99)
        worst = max(worst, p99)
        print(
            f"{page:28} {len(values):4d} {queries.get(page, 0):7d} {statistics.median(values):7.1f} {p99:7.1f} "
            f"{values[-1]:7.1f} {statistics.median(cpu_values):7.1f} {percentile(cpu_values, 0.99):7.1f}"
        )
    print(f"worst p99 (wall): {worst:.1f} ms ({'under' if worst < 200 else 'OVER'} 200 ms)")


def percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(len(values) * fraction))]


if __name__ == "__main__":
    main()
