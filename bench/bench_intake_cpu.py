"""Where the server's CPU goes on one case intake: POST /api/v1/cases/ in process, without HTTP or a load tool.

Usage: .venv/bin/python bench/bench_intake_cpu.py [--database-url URL] [--requests 2000] [--warm-up 200]
       [--profile] [--profile-requests 500] [--top 40] [--show-sql] [--ready]

1. The database (default ``sn_intake`` on 127.0.0.1) is prepared as bench_intake_load.py prepares its own:
   migrated, the demo loaded when empty (``--scale``), the hotline operator ``hotline_12351`` at the city with
   an API token. ``--ready`` skips that when the database is ready.
2. Django runs with production settings (``safetynet.settings``, SAFETYNET_DEBUG off, the bench's secret and
   PII keys, HTTPS as the reverse proxy announces it with ``X-Forwarded-Proto``), and each request goes
   through the WSGI application exactly as gunicorn hands it over: every middleware, DRF's token
   authentication, the view, the service, the rendering, ``request_finished``. The bodies are the ones
   bench_intake_load.py sends (INTERFACES.md, "Cases over HTTP"), naming the registry's enterprises in turn.
3. Measured over ``--requests`` calls after ``--warm-up`` calls: this process's CPU (``time.process_time``)
   per call, the PostgreSQL backend's CPU per call (``/proc/<backend pid>/stat``, user + system; the backend
   of a connection opened during the run counts from its start), wall time per call (median, p99), and the
   SQL statements per call (counted with ``connection.execute_wrapper`` in a separate pass; BEGIN, COMMIT and
   the connection health check's ``SELECT 1`` go past Django's cursor wrapper and are listed apart).
4. ``--profile``: a further ``--profile-requests`` calls under cProfile timed by the process's CPU clock (time
   spent waiting for PostgreSQL is left out), the top functions by own time and by cumulative time
   (profiling slows every call; its figures are not the CPU figures above).

Run it on a quiet machine (``flock /tmp/bench.lock …``): the figures are CPU per call, less sensitive to
other work than latencies, but two cores shared with tests still blur them by a few per cent.
"""

from __future__ import annotations

import argparse
import atexit
import cProfile
import datetime
import io
import json
import os
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_intake_load import (
    API_USER,
    prepare_database,
    process_cpu_seconds,
    server_environment,
    token_and_codes,
)

CATEGORIES = ["wage_arrears", "social_insurance", "labour_contract", "dismissal", "working_hours", "other"]
CHANNELS = ["hotline", "visit", "letter", "online", "referral"]
PATH = "/api/v1/cases/"


class Caller:
    """Builds the WSGI environ gunicorn would hand over for one intake, and calls the application."""

    def __init__(self, application, token: str, codes: list[str], seed: int = 2012) -> None:
        self.application = application
        self.token = token
        self.codes = codes
        self.next_code = 0
        self.random = random.Random(seed)
        self.status = ""

    def body(self) -> bytes:
        code = self.codes[self.next_code % len(self.codes)]
        self.next_code += 1
        pick = self.random.choice
        return json.dumps(
            {
                "channel": pick(CHANNELS),
                "enterprise": code,
                "category": pick(CATEGORIES),
                "workers_involved": pick([1, 1, 1, 2, 3, 12]),
                "claim_amount": "12000.00",
                "description": "拖欠三个月工资，多次催要未果，请求工会帮助协调。",
                "caller_phone": f"139{self.random.randrange(10**8):08d}",
            }
        ).encode()

    def environ(self, body: bytes) -> dict:
        return {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": PATH,
            "QUERY_STRING": "",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8765",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8765",
            "HTTP_AUTHORIZATION": "Token " + self.token,
            "HTTP_X_FORWARDED_PROTO": "https",
            "HTTP_USER_AGENT": "bench_intake_cpu",
            "HTTP_ACCEPT": "*/*",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }

    def start_response(self, status: str, headers: list, exc_info=None) -> None:
        self.status = status

    def call(self, environ: dict) -> bytes:
        result = self.application(environ, self.start_response)
        try:
            content = b"".join(result)
        finally:
            result.close()  # request_finished, as gunicorn does
        if not self.status.startswith("201"):
            raise SystemExit(f"bench_intake_cpu: {self.status} {content[:500].decode(errors='replace')}")
        return content


class BackendCpu:
    """The CPU of the PostgreSQL backends serving Django's connection, sampled after each call (a backend
    whose connection closed, CONN_MAX_AGE, keeps its last sample)."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.start: dict[int, float] = {}
        self.last: dict[int, float] = {}

    def pid(self) -> int | None:
        raw = self.connection.connection
        return raw.info.backend_pid if raw is not None else None

    def sample(self, *, initial: bool = False) -> None:
        pid = self.pid()
        if pid is None:
            return
        cpu = process_cpu_seconds([pid])
        self.start.setdefault(pid, cpu if initial else 0.0)
        self.last[pid] = cpu

    def total(self) -> float:
        return sum(cpu - self.start[pid] for pid, cpu in self.last.items())


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def count_statements(caller: Caller, connection, calls: int) -> tuple[float, list[str]]:
    """Statements per call through Django's cursor, averaged over ``calls`` (and the SQL of the last one)."""
    seen: list[str] = []

    def counter(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    counts: list[int] = []
    with connection.execute_wrapper(counter):
        for _ in range(calls):
            seen.clear()
            caller.call(caller.environ(caller.body()))
            counts.append(len(seen))
    return statistics.mean(counts), list(seen)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/sn_intake")
    parser.add_argument("--scale", default="small", choices=("small", "city"))
    parser.add_argument("--ready", action="store_true", help="the database is ready: skip migrate etc.")
    parser.add_argument("--requests", type=int, default=2000, help="timed calls")
    parser.add_argument("--warm-up", type=int, default=200, help="calls before timing (not counted)")
    parser.add_argument("--profile", action="store_true", help="then run calls under cProfile")
    parser.add_argument("--profile-requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=40, help="functions listed per profile table")
    parser.add_argument("--show-sql", action="store_true", help="print the statements of one call")
    options = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="safetynet-intake-cpu-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    (home / "var" / "static").mkdir(parents=True)
    environment = server_environment(options.database_url, home, "safetynet.settings")
    if not options.ready:
        prepare_database(options.database_url, environment, options.scale, fresh=False)
    token, codes = token_and_codes(options.database_url)
    os.environ.update(environment)

    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    from django.conf import settings
    from django.db import connection

    if settings.DEBUG:
        raise SystemExit("bench_intake_cpu: DEBUG is on; the figures would not be production's")
    caller = Caller(application, token, codes)

    for _ in range(options.warm_up):
        caller.call(caller.environ(caller.body()))
    statements, sql = count_statements(caller, connection, 50)

    # The timed pass: bodies and environs are built before each call's clock starts.
    backend = BackendCpu(connection)
    backend.sample(initial=True)
    cpu_each: list[float] = []
    wall_each: list[float] = []
    load_before = os.getloadavg()
    wall_started = time.perf_counter()
    for _ in range(options.requests):
        environ = caller.environ(caller.body())
        cpu = time.process_time()
        wall = time.perf_counter()
        caller.call(environ)
        wall_each.append(time.perf_counter() - wall)
        cpu_each.append(time.process_time() - cpu)
        backend.sample()
    wall_total = time.perf_counter() - wall_started
    load_after = os.getloadavg()
    database_cpu = backend.total()

    count = options.requests
    app_ms = 1000 * sum(cpu_each) / count
    database_ms = 1000 * database_cpu / count
    name = urlparse(options.database_url).path.lstrip("/")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{stamp}; database {name} ({options.scale} demo, {len(codes):,} enterprises); user {API_USER}")
    print(f"calls {count:,} after {options.warm_up} warm-up, {count / wall_total:.1f} calls/s in one thread")
    print(
        f"SQL statements per call through Django: {statements:.2f} (+ BEGIN, COMMIT, health-check SELECT 1)"
    )
    print(
        f"CPU per call: Django process {app_ms:.2f} ms (median {1000 * statistics.median(cpu_each):.2f}), "
        f"PostgreSQL backend {database_ms:.2f} ms, together {app_ms + database_ms:.2f} ms"
    )
    print(
        f"wall per call: median {1000 * statistics.median(wall_each):.2f} ms, "
        f"p99 {1000 * percentile(wall_each, 0.99):.2f} ms"
    )
    print(
        f"backends seen: {len(backend.last)}; load average before {load_before[0]:.2f}, after {load_after[0]:.2f}"
    )
    print(
        "| when | database | calls | statements | Django CPU | PostgreSQL CPU | together | wall median | load |"
    )
    print(
        f"| {stamp} | PostgreSQL {name}, demo {options.scale} | {count:,} | {statements:.2f} | {app_ms:.2f} ms | "
        f"{database_ms:.2f} ms | {app_ms + database_ms:.2f} ms | {1000 * statistics.median(wall_each):.2f} ms | "
        f"{load_before[0]:.2f} → {load_after[0]:.2f} |"
    )
    if options.show_sql:
        print("\nstatements of one call:")
        for number, statement in enumerate(sql, 1):
            print(f"{number:2}. {statement[:400]}")

    if options.profile:
        # Timed by this process's CPU clock: waiting for PostgreSQL is not what we are after here.
        profile = cProfile.Profile(time.process_time)
        bodies = [caller.body() for _ in range(options.profile_requests)]
        profile.enable()
        for body in bodies:
            caller.call(caller.environ(body))
        profile.disable()
        for order in ("tottime", "cumulative"):
            stream = io.StringIO()
            stats = pstats.Stats(profile, stream=stream)
            stats.sort_stats(order).print_stats(options.top)
            print(f"\n--- cProfile, {options.profile_requests} calls, by {order} ---")
            print(stream.getvalue().split("\n", 6)[-1])


if __name__ == "__main__":
    main()
