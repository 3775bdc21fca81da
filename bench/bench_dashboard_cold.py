"""The first dashboard after login, cold: a fresh server process (as `make demo` runs it: debug off, static
files from whitenoise), one login, then the home page (which leads to the dashboard), the trend the page asks
for, and every script and style the page links — the time a leader waits the first time.

Run against a database holding the demo city (small by default), e.g. the one `make demo` made:

    SAFETYNET_HOME=. .venv/bin/python bench/bench_dashboard_cold.py --user city_admin --runs 3

Each run starts a new server process (nothing cached in it) and prints the figures of that first view.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin

import requests

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Safetynet-2012"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise SystemExit(f"the server at {url} did not answer within {seconds} s")


def one_run(user: str) -> dict[str, float]:
    port = free_port()
    env = {
        **os.environ,
        "SAFETYNET_DEBUG": "0",
        "SAFETYNET_SSL_REDIRECT": "0",
        "SAFETYNET_SECURE_COOKIES": "0",
        "SAFETYNET_HSTS_SECONDS": "0",
    }
    safetynet = str(Path(sys.executable).with_name("safetynet"))
    subprocess.run([safetynet, "collectstatic", "--noinput", "-v0"], env=env, check=True)
    server = subprocess.Popen(
        [safetynet, "runserver", "--noreload", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/healthz")
        session = requests.Session()
        login = session.get(base + "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        answer = session.post(
            base + "/accounts/login/",
            data={"csrfmiddlewaretoken": token, "username": user, "password": PASSWORD},
            headers={"Referer": base + "/accounts/login/"},
            allow_redirects=False,
        )
        if answer.status_code != 302:
            raise SystemExit(f"login as {user} failed ({answer.status_code})")
        started = time.perf_counter()
        page = session.get(base + "/")
        page_seconds = time.perf_counter() - started
        if page.status_code != 200 or "chart-trend" not in page.text:
            raise SystemExit(f"the home page did not lead to the dashboard ({page.status_code} {page.url})")
        data = re.search(
            r'<script id="dashboard-data" type="application/json">(.*?)</script>', page.text, re.S
        )
        trend_started = time.perf_counter()
        if data:
            # The request dashboard.js makes for the trend chart.
            chart = json.loads(data.group(1))
            params = {
                "unit": chart["unit"]["code"],
                "start": chart["start"],
                "end": chart["as_of"],
                "interval": "month",
                "hierarchy": chart["hierarchy"],
            }
            trend = session.get(urljoin(base, chart["series_url"]), params=params)
            if trend.status_code != 200:
                raise SystemExit(f"the trend answered {trend.status_code}")
        trend_seconds = time.perf_counter() - trend_started
        assets_started = time.perf_counter()
        for path in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
            session.get(base + path)
        assets_seconds = time.perf_counter() - assets_started
        return {
            "page": page_seconds,
            "trend": trend_seconds,
            "assets": assets_seconds,
            "total": page_seconds + trend_seconds + assets_seconds,
        }
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user", default="city_admin")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    figures = [one_run(options.user) for _ in range(options.runs)]
    database = os.environ.get("DATABASE_URL", "").split("://")[0] or "sqlite"
    load = os.getloadavg()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')} {database} user={options.user} runs={options.runs} "
        f"machine={platform.machine()} cores={os.cpu_count()} load={load[0]:.1f}/{load[1]:.1f}"
    )
    print("| first view after login | median | worst |")
    print("| --- | --- | --- |")
    for key, label in (
        ("page", "home → dashboard page (server)"),
        ("trend", "the 12-month trend the page asks for"),
        ("assets", "scripts and styles"),
        ("total", "all of it"),
    ):
        values = [f[key] for f in figures]
        print(f"| {label} | {statistics.median(values):.2f} s | {max(values):.2f} s |")


if __name__ == "__main__":
    main()
