"""Load test of case intake over HTTP: POST /api/v1/cases/ at a constant rate under gunicorn and PostgreSQL.

Usage: .venv/bin/python bench/bench_intake_load.py [--rate 100] [--duration 60] [--workers 2]
       [--worker-class gthread] [--threads 4] [--database-url URL] [--fresh] [--scale small]

Needs locust in the virtual environment (`pip install locust`; gunicorn is a main dependency).

1. The database (default ``sn_casesperf_load`` on 127.0.0.1) is created, migrated and loaded with
   ``safetynet demo-data --scale SCALE`` when it has no org units (``--fresh`` drops it first). The server runs
   with production settings (SAFETYNET_DEBUG off, a secret key and a PII key of this bench, HTTPS as a reverse
   proxy would announce it with ``X-Forwarded-Proto``), never test_settings.
2. An operator account ``hotline_12351`` at the city (the 12351 hotline system) gets an API token; the calls
   name the registry's enterprises in turn, so cases land in every community and street of the city.
3. gunicorn serves ``safetynet.wsgi:application`` on 127.0.0.1 (default 2 gthread workers with 4 threads: a
   thread waiting for PostgreSQL's commit lets another one work, where a sync worker would sit idle).
4. locust (headless, FastHttpUser, RATE users each calling once a second on its own schedule, from a random
   point of the first second, so that calls arrive spread over each second, not together) posts the intake
   call as INTERFACES.md shows it for DURATION seconds. Any answer other than 201 is a failure.

Prints requests, failures, median / p95 / p99 / max, the rate reached, the CPU the gunicorn workers and the
PostgreSQL backends spent per request, the load average, and a Markdown row for bench/RESULTS.md.
Run it alone (`flock /tmp/bench.lock …`): the machine's two cores carry server, database and load tool.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Keys of this bench only (a production installation generates its own, see the README).
BENCH_SECRET_KEY = "bench-intake-load-secret-key-not-for-production-0123456789abcdefghijkl"
BENCH_PII_KEY = "YmVuY2gtaW50YWtlLWxvYWQtcGlpLWtleS0zMmJ5dGU="
API_USER = "hotline_12351"

LOCUSTFILE = """
import itertools, json, random, time
import gevent
from locust import task
from locust.contrib.fasthttp import FastHttpUser

SETTINGS = json.loads(open({settings!r}).read())
CODES = itertools.cycle(SETTINGS["codes"])
CATEGORIES = ["wage_arrears", "social_insurance", "labour_contract", "dismissal", "working_hours", "other"]
CHANNELS = ["hotline", "visit", "letter", "online", "referral"]


class Hotline(FastHttpUser):
    headers = {{
        "Authorization": "Token " + SETTINGS["token"],
        "X-Forwarded-Proto": "https",
        "Content-Type": "application/json",
    }}

    def on_start(self):
        # Each caller starts at a random point of the first second and then calls once a second on its own
        # schedule. Locust starts all users within a few milliseconds, and its constant_throughput counts each
        # user's period from that start (a delay in on_start included), so the users stay in step: 100 requests
        # arrived together once a second (seen: every start within 0.2 s of the second), a burst test rather
        # than 100 requests a second.
        self.next_call = time.monotonic() + random.random()
        gevent.sleep(self.next_call - time.monotonic())

    def wait_time(self):
        self.next_call += 1.0
        return max(0.0, self.next_call - time.monotonic())

    @task
    def intake(self):
        body = {{
            "channel": random.choice(CHANNELS),
            "enterprise": next(CODES),
            "category": random.choice(CATEGORIES),
            "workers_involved": random.choice([1, 1, 1, 2, 3, 12]),
            "claim_amount": "12000.00",
            "description": "拖欠三个月工资，多次催要未果，请求工会帮助协调。",
            "caller_phone": "139%08d" % random.randrange(10**8),
        }}
        with self.client.post(
            "/api/v1/cases/", data=json.dumps(body), headers=self.headers, name="POST /api/v1/cases/",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"{{response.status_code}} {{(response.text or '')[:200]}}")
"""


def children_cpu_seconds() -> float:
    """CPU (user + system) of this process's finished children: the locust run once it has been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def server_environment(database_url: str, home: Path, settings_module: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": settings_module,
            "SAFETYNET_DEBUG": "0",
            "SAFETYNET_SECRET_KEY": BENCH_SECRET_KEY,
            "SAFETYNET_PII_KEY": BENCH_PII_KEY,
            "SAFETYNET_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SAFETYNET_HOME": str(home),
            "SAFETYNET_LOG_LEVEL": "WARNING",
        }
    )
    return environment


def psql(database_url: str, sql: str, database: str = "postgres") -> str:
    url = urlparse(database_url)
    command = ["psql", "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432)]
    command += ["-U", url.username or "postgres", "-d", database, "-tAc", sql]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def prepare_database(database_url: str, environment: dict[str, str], scale: str, fresh: bool) -> None:
    name = urlparse(database_url).path.lstrip("/")
    if fresh:
        psql(database_url, f'DROP DATABASE IF EXISTS "{name}"')
    if not psql(database_url, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
        psql(database_url, f'CREATE DATABASE "{name}"')
    safetynet = str(BIN / "safetynet")
    subprocess.run([safetynet, "migrate", "-v0"], env=environment, check=True)
    subprocess.run([safetynet, "demo-data", "--scale", scale, "--if-empty"], env=environment, check=True)
    if psql(database_url, f"SELECT 1 FROM accounts_user WHERE username = '{API_USER}'", name) != "1":
        subprocess.run(
            [
                safetynet,
                "add-staff",
                API_USER,
                "--unit",
                "2102",
                "--role",
                "operator",
                "--full-name",
                "12351热线",
            ],
            env=environment,
            input="Sn-Bench-Load-2012\n",
            text=True,
            check=True,
        )


def token_and_codes(database_url: str) -> tuple[str, list[str]]:
    """The API user's token (created once) and the credit codes of every enterprise it sees."""
    name = urlparse(database_url).path.lstrip("/")
    user_id = psql(database_url, f"SELECT id FROM accounts_user WHERE username = '{API_USER}'", name)
    key = psql(database_url, f"SELECT key FROM authtoken_token WHERE user_id = {user_id}", name)
    if not key:
        key = os.urandom(20).hex()
        psql(
            database_url,
            f"INSERT INTO authtoken_token (key, user_id, created) VALUES ('{key}', {user_id}, now())",
            name,
        )
    codes = psql(database_url, "SELECT credit_code FROM orgs_enterprise ORDER BY id", name).split()
    return key, codes


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"bench_intake_load: gunicorn did not listen on port {port}")


def process_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes (Linux /proc), 0 for one that is gone."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def backend_pids(database_url: str) -> list[int]:
    name = urlparse(database_url).path.lstrip("/")
    rows = psql(
        database_url, f"SELECT pid FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )
    return [int(pid) for pid in rows.split()]


class BackendWatcher(threading.Thread):
    """Follows the CPU of every PostgreSQL backend of the database while the load runs (backends come and go:
    Django closes a connection after CONN_MAX_AGE seconds and opens a new one)."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        self.database_url = database_url
        self.start_cpu: dict[int, float] = {}
        self.last_cpu: dict[int, float] = {}
        self.stopping = threading.Event()

    def sample(self, *, initial: bool = False) -> None:
        for pid in backend_pids(self.database_url):
            cpu = process_cpu_seconds([pid])
            # A backend open before the run counts from now; one opened during it, from its start.
            self.start_cpu.setdefault(pid, cpu if initial else 0.0)
            self.last_cpu[pid] = cpu

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            self.sample()

    def stop(self) -> float:
        self.stopping.set()
        self.join()
        self.sample()
        return sum(cpu - self.start_cpu.get(pid, 0.0) for pid, cpu in self.last_cpu.items())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/sn_casesperf_load")
    parser.add_argument("--scale", default="small", choices=("small", "city"))
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the database first")
    parser.add_argument("--rate", type=int, default=100, help="requests per second (one locust user each)")
    parser.add_argument("--duration", type=int, default=60, help="seconds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread", choices=("gthread", "sync"))
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--settings",
        default="safetynet.settings",
        help="settings module of the server (to try a settings change; on PYTHONPATH)",
    )
    options = parser.parse_args()

    if shutil.which("locust", path=str(BIN)) is None:
        raise SystemExit(
            "bench_intake_load: locust is missing; install it with `.venv/bin/pip install locust`"
        )
    workdir = Path(tempfile.mkdtemp(prefix="safetynet-intake-load-"))
    (workdir / "var" / "static").mkdir(parents=True)
    environment = server_environment(options.database_url, workdir, options.settings)
    started = time.perf_counter()
    prepare_database(options.database_url, environment, options.scale, options.fresh)
    token, codes = token_and_codes(options.database_url)
    print(
        f"database ready in {time.perf_counter() - started:.1f} s: {len(codes):,} enterprises ({options.scale})"
    )
    settings_file = workdir / "locust-settings.json"
    settings_file.write_text(json.dumps({"token": token, "codes": codes}))
    locustfile = workdir / "locustfile.py"
    locustfile.write_text(LOCUSTFILE.format(settings=str(settings_file)))

    server_command = [
        str(BIN / "gunicorn"),
        "safetynet.wsgi:application",
        "--bind",
        f"127.0.0.1:{options.port}",
        "--workers",
        str(options.workers),
        "--worker-class",
        options.worker_class,
        "--log-level",
        "warning",
    ]
    if options.worker_class == "gthread":
        server_command += ["--threads", str(options.threads)]
    server = subprocess.Popen(server_command, env=environment, cwd=workdir, start_new_session=True)
    try:
        wait_for_port(options.port)
        # Warm-up (imports, URL resolver, first connections), not counted.
        warm = subprocess.run(
            [str(BIN / "locust"), "-f", str(locustfile), "--headless", "-u", "10", "-r", "10", "-t", "5s",
             "--host", f"http://127.0.0.1:{options.port}", "--only-summary", "--loglevel", "ERROR"],
            capture_output=True, text=True, cwd=workdir,
        )  # fmt: skip
        if warm.returncode not in (0, 1):
            raise SystemExit(f"bench_intake_load: locust warm-up failed:\n{warm.stderr[-2000:]}")
        # Listed after the warm-up: the master may fork its workers after it listens.
        workers = children_of(server.pid)
        if len(workers) != options.workers:
            print(f"bench_intake_load: {len(workers)} gunicorn workers found, {options.workers} expected")
        load_before = os.getloadavg()
        load_tool_cpu = children_cpu_seconds()
        server_cpu = process_cpu_seconds(workers)
        watcher = BackendWatcher(options.database_url)
        watcher.sample(initial=True)
        watcher.start()
        run = subprocess.run(
            [str(BIN / "locust"), "-f", str(locustfile), "--headless", "-u", str(options.rate),
             "-r", str(options.rate), "-t", f"{options.duration}s", "--host", f"http://127.0.0.1:{options.port}",
             "--csv", str(workdir / "run"), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10"],
            capture_output=True, text=True, cwd=workdir,
        )  # fmt: skip
        load_after = os.getloadavg()
        load_tool_cpu = children_cpu_seconds() - load_tool_cpu
        server_cpu = process_cpu_seconds(workers) - server_cpu
        database_cpu = watcher.stop()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    rows = list(csv.DictReader((workdir / "run_stats.csv").open()))
    total = next(row for row in rows if row["Name"] == "Aggregated")
    requests = int(total["Request Count"])
    failures = int(total["Failure Count"])
    median, p95, p99 = (float(total[key]) for key in ("50%", "95%", "99%"))
    maximum = float(total["Max Response Time"])
    rate = float(total["Requests/s"])
    if failures:
        print((workdir / "run_failures.csv").read_text()[:2000])
    if run.returncode not in (0, 1):
        print(run.stderr[-2000:])
    per_request = 1000 / max(requests, 1)
    server_label = f"gunicorn {options.workers}×{options.worker_class}" + (
        f" ({options.threads} threads)" if options.worker_class == "gthread" else ""
    )
    print(f"server: {server_label}; load tool: locust {options.rate} users × one call a second")
    print(f"requests {requests:,} in {options.duration} s ({rate:.1f}/s), failures {failures}")
    print(f"latency ms: median {median:.0f}, p95 {p95:.0f}, p99 {p99:.0f}, max {maximum:.0f}")
    print(
        f"CPU per request: gunicorn workers {server_cpu * per_request:.1f} ms, "
        f"PostgreSQL backends {database_cpu * per_request:.1f} ms"
    )
    print(
        f"load tool (locust) CPU: {load_tool_cpu:.1f} s in {options.duration} s "
        f"({load_tool_cpu / options.duration:.0%} of one core, {load_tool_cpu * per_request:.1f} ms per request)"
    )
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f}")
    verdict = "met" if failures == 0 and p99 < 150 and rate >= 0.97 * options.rate else "missed"
    print(
        f"| {datetime.date.today()} | PostgreSQL, {len(codes):,} enterprises | {server_label} | "
        f"{options.rate}/s × {options.duration} s | {requests:,} | {failures} | {median:.0f} ms | {p95:.0f} ms | "
        f"{p99:.0f} ms | {server_cpu * per_request:.1f} + {database_cpu * per_request:.1f} ms | "
        f"{load_before[0]:.1f} → {load_after[0]:.1f} | {verdict} |"
    )
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
