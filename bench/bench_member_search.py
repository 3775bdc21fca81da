"""Person search benchmark: the 职工查询 page for a common surname, as officers of a district, a street, a
community and the city ask it, with and without filters.

Run against a database holding the demo city (``safetynet demo-data --scale city``), migrated:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sn_city .venv/bin/python bench/bench_member_search.py

Each search is the whole page (view, selector, the page's 50 persons with their 会籍 and employer, template,
menu), called in process with the staff user attached (no session or audit row is written). The first run
of each search is timed in a fresh process (new connection, templates not yet compiled: "cold"); then
``--runs`` warm runs in one process give the median. It prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

# Production settings with static files from the apps (no collectstatic needed for the page).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safetynet.test_settings")
os.environ.setdefault("SAFETYNET_SSL_REDIRECT", "0")

import django

django.setup()

from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from safetynet.accounts.models import User  # noqa: E402
from safetynet.members import selectors  # noqa: E402
from safetynet.members.forms import PersonSearchForm  # noqa: E402
from safetynet.members.views import PersonSearchView  # noqa: E402
from safetynet.orgs.models import Enterprise, OrgUnit  # noqa: E402

# Production keeps connections (conn_max_age=60); the test settings close them after every request.
connection.settings_dict["CONN_MAX_AGE"] = 60


@dataclass
class Search:
    who: str  # username of the demo's staff
    label: str
    params: dict[str, str] = field(default_factory=dict)


def searches() -> list[Search]:
    zhongshan = OrgUnit.objects.get(code="210202")
    street = OrgUnit.objects.filter(parent=zhongshan).order_by("code").first()
    big = (
        Enterprise.objects.filter(org_unit__path__startswith=zhongshan.path)
        .order_by("-headcount", "pk")
        .first()
    )
    officer = "zhongshan_officer"
    return [
        # The page without a search: what any first request of a process costs (templates, menu, imports).
        Search(officer, "空白查询页（不查询）", {}),
        Search(officer, "中山区 · 王", {"q": "王"}),
        Search(officer, "中山区 · 王秀", {"q": "王秀"}),
        Search(officer, "中山区 · 王东", {"q": "王东"}),
        Search(officer, "中山区 · 王 · 在会", {"q": "王", "member": "1"}),
        Search(officer, "中山区 · 王 · 未入会", {"q": "王", "member": "0"}),
        Search(officer, "中山区 · 王东 · 在职 · 农村", {"q": "王东", "employed": "1", "household": "rural"}),
        Search(officer, "中山区 · 王东 · 不在职", {"q": "王东", "employed": "0"}),
        Search(officer, f"中山区 · 王秀 · 单位 {street.name}", {"q": "王秀", "unit": str(street.pk)}),
        Search(
            officer,
            f"中山区 · 王 · 企业（信用代码，{big.headcount:,} 人）",
            {"q": "王", "enterprise": big.credit_code},
        ),
        Search("gaoxin_admin", "高新园区 · 王", {"q": "王"}),
        Search("gaoxin_admin", "高新园区 · 王东", {"q": "王东"}),
        Search("zhongshan_street_officer", "街道 · 王", {"q": "王"}),
        Search("zhongshan_street_officer", "街道 · 王东", {"q": "王东"}),
        Search("zhongshan_chair", "社区 · 王", {"q": "王"}),
        Search("zhongshan_chair", "社区 · 王东", {"q": "王东"}),
        Search("city_admin", "全市 · 王", {"q": "王"}),
        Search("city_admin", "全市 · 王东", {"q": "王东"}),
        Search("city_admin", "全市 · 王 · 在会", {"q": "王", "member": "1"}),
    ]


def run_once(search: Search, *, report: bool = True) -> tuple[float, str, int]:
    """Seconds for the whole page, the plan the selector chose, and the persons it counted."""
    request = RequestFactory().get("/members/persons/", search.params)
    started = time.perf_counter()
    # As a real request does: the user (and, in a fresh process, the connection) first.
    user = User.objects.select_related("org_unit").get(username=search.who)
    request.user = user
    request.session = SessionStore()
    response = PersonSearchView.as_view()(request)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    page = response.content.decode()
    assert "/members/persons/" in page
    if not report:
        return elapsed, "", 0
    # The selector again, untimed, only to report the plan and the count shown.
    form = PersonSearchForm(dict(search.params), user=user)
    assert form.is_valid(), form.errors
    result = selectors.person_search_page(user, form.criteria())
    return elapsed, result.plan, result.count + (1 if result.more else 0)


def cold(index: int, *, page_first: bool = False) -> float:
    """The first run of search ``index`` in a fresh process; with ``page_first``, after the empty search page
    was shown once (templates compiled, connection open): the search's own first run on a new connection."""
    output = subprocess.run(
        [sys.executable, __file__, "--only", str(index), *(["--page-first"] if page_first else [])],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    ).stdout
    return json.loads(output.strip().splitlines()[-1])["seconds"]


def sizes() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM members_person), (SELECT count(*) FROM members_employment),"
            " (SELECT count(*) FROM members_membership), (SELECT count(*) FROM orgs_enterprise)"
        )
        persons, employments, memberships, enterprises = cursor.fetchone()
    return f"{persons:,} persons, {employments:,} employments, {memberships:,} memberships, {enterprises:,} enterprises"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="warm runs per search (median reported)")
    parser.add_argument("--only", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--page-first", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-cold", action="store_true", help="skip the first runs in fresh processes")
    args = parser.parse_args()
    plan = searches()
    if args.only is not None:
        connection.close()  # the page opens its own connection, as the first request of a process does
        if args.page_first:
            run_once(Search(plan[args.only].who, "empty page"), report=False)
        seconds, _, _ = run_once(plan[args.only])
        print(json.dumps({"seconds": seconds}))
        return
    load_before = os.getloadavg()
    version = (
        connection.cursor().connection.info.parameter_status("server_version")
        if connection.vendor == "postgresql"
        else ""
    )
    print(f"database: {connection.vendor} {version}")
    print(f"data: {sizes()}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; load average {load_before[0]:.2f}")
    run_once(plan[0], report=False)  # this process's own first request (templates), not counted
    rows = []
    for index, search in enumerate(plan):
        first = None if args.no_cold else cold(index)
        fresh = None if args.no_cold else cold(index, page_first=True)
        timings = []
        chosen, counted = "", 0
        for _ in range(args.runs):
            seconds, chosen, counted = run_once(search)
            timings.append(seconds)
        rows.append((search, first, fresh, statistics.median(timings), max(timings), chosen, counted))
        print(f"  {search.label}: median {statistics.median(timings) * 1000:.0f} ms", file=sys.stderr)
    load_after = os.getloadavg()
    print()
    print(
        "| search (user) | plan | persons counted | first request of a new process |"
        " first run on a new connection | warm median | warm max |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")

    def ms(seconds: float | None) -> str:
        return "—" if seconds is None else f"{seconds * 1000:,.0f} ms"

    for search, first, fresh, median, worst, chosen, counted in rows:
        shown = f"{selectors.SEARCH_CAP}+" if counted > selectors.SEARCH_CAP else str(counted)
        print(
            f"| {search.label} ({search.who}) | {chosen} | {shown} | {ms(first)} | {ms(fresh)} | {ms(median)} |"
            f" {ms(worst)} |"
        )
    print()
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; {args.runs} warm runs each")
    print()
    plans()


def plans(runs: int = 5) -> None:
    """The selector alone with each way of testing the scope forced: why the choice goes as it does."""
    print("| selector alone, 王 (user) | chosen | auto | probe forced | hash forced |")
    print("| --- | --- | --- | --- | --- |")
    for username in ("zhongshan_officer", "gaoxin_admin", "zhongshan_street_officer", "zhongshan_chair"):
        user = User.objects.select_related("org_unit").get(username=username)
        criteria = selectors.PersonSearchCriteria(q="王")
        cells, chosen = [], ""
        for plan in ("", "probe", "hash"):
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                result = selectors.person_search_page(user, criteria, plan=plan)
                timings.append(time.perf_counter() - started)
            chosen = chosen or result.plan
            cells.append(f"{statistics.median(timings) * 1000:,.0f} ms")
        print(f"| {user.org_unit.name} ({username}) | {chosen} | {' | '.join(cells)} |")
    print(f"\nmedian of {runs}; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
