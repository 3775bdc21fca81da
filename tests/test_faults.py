"""Faults survived, nothing lost (issue 11, point 7): each fault is made for real, not described.

1. The background worker killed (SIGKILL) in the middle of a roster import: nothing half-written, the job
   marked interrupted with a Chinese reason, a re-run imports everything.
2. PostgreSQL stopped while the web server runs: requests get the Chinese 503 page, and succeed again once
   the database is back, without restarting the application.
3. Two officers saving the same record: the second is told, nothing is overwritten silently.
4. A 300 MB roster, a zip bomb and a "billion laughs" XLSX: refused at once, with the reason, in bounded
   memory.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from safetynet.imports.models import ImportJob, ImportJobStatus
from safetynet.imports.services import import_job_create
from safetynet.imports.tests.rosters import write_roster
from safetynet.members.models import Employment, Membership, Person

SAFETYNET = [sys.executable, "-m", "safetynet.cli"]
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def wait_for(condition, *, timeout: float, every: float = 0.1, what: str = ""):
    """Poll ``condition`` until it returns something true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"gave up after {timeout:.0f} s waiting for {what}")


def database_url() -> str:
    """The URL of the database this test runs against (pytest-django's test database)."""
    config = connection.settings_dict
    user = quote(config["USER"] or "", safe="")
    password = f":{quote(config['PASSWORD'], safe='')}" if config["PASSWORD"] else ""
    host = config["HOST"] or "127.0.0.1"
    port = config["PORT"] or "5432"
    return f"postgres://{user}{password}@{host}:{port}/{config['NAME']}"


def subprocess_env(**extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SAFETYNET_", "DATABASE_URL"))}
    environment.update(
        DJANGO_SETTINGS_MODULE="safetynet.test_settings",
        SAFETYNET_PII_KEY=os.environ["SAFETYNET_PII_KEY"],
        PYTHONUNBUFFERED="1",
    )
    environment.update(extra)
    return environment


def requires_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: a second process must reach the test database (run with DATABASE_URL)")


# --- 1. the worker killed in the middle of an import ------------------------------------------

ROSTER_ROWS = 30_000  # the import saves in batches of 20,000: killed after the first, before the end


@pytest.fixture
def roster_world(transactional_db, city, make_staff, settings, tmp_path):
    """An enterprise covered by a union, an officer of its district, uploads kept under ``tmp_path``."""
    from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = DATABASE_TASKS
    enterprise = EnterpriseFactory(
        credit_code=make_credit_code(701),
        name="大连故障测试机械有限公司",
        org_unit=city.community_a,
        founded_on=datetime.date(2000, 1, 1),
    )
    UnionFactory(
        name="大连故障测试机械有限公司工会",
        org_unit=city.community_a,
        founded_on=datetime.date(2006, 1, 1),
        enterprises=[enterprise],
    )
    officer = make_staff("fault_officer", city.zhongshan, "operator")
    return enterprise, officer


def start_worker(tmp_path: Path, name: str) -> subprocess.Popen:
    return spawn(
        [*SAFETYNET, "db_worker", "--no-startup-delay", "--interval", "0.2", "--no-reload"],
        tmp_path / f"{name}.log",
        env=subprocess_env(
            DATABASE_URL=database_url(),
            SAFETYNET_HOME=str(tmp_path),
            SAFETYNET_MEDIA_ROOT=str(tmp_path / "media"),
        ),
    )


def spawn(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    """A background process writing to ``log`` (kept for when a test fails)."""
    with log.open("w") as output:
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def open_write_transactions() -> int:
    """Other sessions on this database inside a transaction that has written something."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
        )
        return cursor.fetchone()[0]


def test_a_worker_killed_mid_import_leaves_nothing_and_a_rerun_imports_everything(
    roster_world, client, tmp_path
):
    requires_postgresql()
    enterprise, officer = roster_world
    path = write_roster(tmp_path / "会员名册.csv", enterprise, ROSTER_ROWS)
    upload = SimpleUploadedFile("会员名册.csv", path.read_bytes(), content_type="text/csv")
    job = import_job_create(actor=officer, kind="members", upload=upload)  # what the upload page calls

    worker = start_worker(tmp_path, "worker-1")
    try:

        def saving_midway() -> ImportJob | None:
            job.refresh_from_db()
            assert job.status in (ImportJobStatus.QUEUED, ImportJobStatus.RUNNING), job.failure or job.summary
            return job if job.stage == "保存" and 0 < job.rows_done < ROSTER_ROWS else None

        wait_for(saving_midway, timeout=180, every=0.05, what="the import to be saving")
        # Mid-way: the worker's transaction has written rows that nobody else can see yet.
        assert open_write_transactions() >= 1
        assert (job.worker_pid, job.worker_host) == (worker.pid, socket.gethostname())
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        stop(worker)

    # PostgreSQL rolls the dead session's transaction back: not one row of it remains.
    wait_for(lambda: open_write_transactions() == 0, timeout=30, what="the killed session to end")
    assert (Person.objects.count(), Employment.objects.count(), Membership.objects.count()) == (0, 0, 0)

    # The sweep (cron) marks it interrupted; ten minutes on, as a sweep would run later.
    later = timezone.now() + datetime.timedelta(minutes=10)
    call_command("sweep", now=later.isoformat())
    job.refresh_from_db()
    assert job.status == ImportJobStatus.FAILED and not job.saved
    assert f"工作进程 {worker.pid} 已被终止" in job.failure and "数据库未写入任何数据" in job.failure

    client.force_login(officer)
    page = client.get(reverse("imports:job_detail", args=[job.pk])).content.decode()
    assert job.failure in page and "重新导入" in page

    # Run again (the stored file, no new upload) with a new worker: everything is imported.
    response = client.post(reverse("imports:job_retry", args=[job.pk]))
    again = ImportJob.objects.exclude(pk=job.pk).get()
    assert response.url == reverse("imports:job_detail", args=[again.pk])
    worker = start_worker(tmp_path, "worker-2")
    try:

        def finished() -> bool:
            again.refresh_from_db()
            return again.is_finished

        wait_for(finished, timeout=300, every=0.2, what="the second run to finish")
    finally:
        stop(worker)
    assert again.status == ImportJobStatus.DONE, again.failure
    assert (again.rows, again.created, again.rejected) == (ROSTER_ROWS, ROSTER_ROWS, 0)
    assert Person.objects.count() == ROSTER_ROWS
    assert Employment.objects.filter(enterprise=enterprise).count() == ROSTER_ROWS
    assert Membership.objects.count() == ROSTER_ROWS


class SqliteFile:
    """The test's SQLite database copied to a file that a worker process can open; read it with plain sqlite3."""

    def __init__(self, home: Path) -> None:
        import sqlite3

        self.path = home / "var" / "safetynet.sqlite3"  # where settings put it for SAFETYNET_HOME=home
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection.ensure_connection()
        target = sqlite3.connect(self.path)
        connection.connection.backup(target)  # the in-memory test database, committed rows and all
        target.close()

    def query(self, sql: str, *args: object) -> tuple:
        import sqlite3

        with sqlite3.connect(self.path, timeout=10) as database:
            return database.execute(sql, args).fetchone()

    def writing(self) -> bool:
        """Whether another process holds SQLite's one write lock (BEGIN IMMEDIATE cannot start)."""
        import sqlite3

        database = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        try:
            database.execute("BEGIN IMMEDIATE")
            database.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            database.close()

    def writing_for(self, seconds: float) -> bool:
        """Whether the write lock stays held for ``seconds`` (the import's save, not a progress update)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.writing():
                return False
            time.sleep(0.05)
        return True

    def counts(self) -> tuple[int, int, int]:
        return tuple(
            self.query(f"SELECT count(*) FROM members_{table}")[0]
            for table in ("person", "employment", "membership")
        )


def test_on_sqlite_a_worker_killed_mid_save_leaves_nothing_and_a_rerun_imports_everything(
    roster_world, tmp_path
):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite run covers this; the PostgreSQL run has its own test above")
    enterprise, officer = roster_world
    path = write_roster(tmp_path / "会员名册.csv", enterprise, ROSTER_ROWS)
    upload = SimpleUploadedFile("会员名册.csv", path.read_bytes(), content_type="text/csv")
    job = import_job_create(actor=officer, kind="members", upload=upload)
    home = tmp_path / "home"
    database = SqliteFile(home)
    environment = subprocess_env(SAFETYNET_HOME=str(home), SAFETYNET_MEDIA_ROOT=str(tmp_path / "media"))

    def worker(name: str) -> subprocess.Popen:
        return spawn(
            [*SAFETYNET, "db_worker", "--no-startup-delay", "--interval", "0.2", "--no-reload"],
            tmp_path / f"{name}.log",
            env=environment,
        )

    def job_row(pk: int) -> tuple:
        return database.query(
            "SELECT status, stage, percent, failure, rows FROM imports_importjob WHERE id = ?", pk
        )

    first = worker("worker-1")
    try:
        # SQLite lets one writer at a time, so the page shows no progress while the import saves; the
        # save is seen as the write lock held for a while once the rows are checked.
        def saving() -> bool:
            status, stage, percent, failure, _ = job_row(job.pk)
            assert status in ("queued", "running"), failure
            return percent >= 85 and database.writing_for(0.3)

        wait_for(saving, timeout=180, every=0.05, what="the import to be saving")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)

    assert not database.writing()
    assert database.counts() == (0, 0, 0)
    later = (timezone.now() + datetime.timedelta(minutes=10)).isoformat()
    swept = subprocess.run(
        [*SAFETYNET, "sweep", "--now", later], env=environment, capture_output=True, text=True, timeout=120
    )
    assert "中断的导入任务：1 个已标记为中断" in swept.stdout, swept.stdout + swept.stderr
    status, _, _, failure, _ = job_row(job.pk)
    assert status == "failed" and f"工作进程 {first.pid} 已被终止" in failure and "未写入任何数据" in failure

    retried = subprocess.run(
        [
            *SAFETYNET,
            "shell",
            "-c",
            "from safetynet.imports.models import ImportJob; from safetynet.imports.services import "
            f"import_job_retry; job = ImportJob.objects.get(pk={job.pk}); "
            "print(import_job_retry(actor=job.actor, job=job).pk)",
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    again = int(retried.stdout.strip().splitlines()[-1])
    second = worker("worker-2")
    try:
        wait_for(lambda: job_row(again)[0] in ("done", "failed"), timeout=300, every=0.2, what="the re-run")
    finally:
        stop(second)
    status, _, _, failure, rows = job_row(again)
    assert (status, rows) == ("done", ROSTER_ROWS), failure
    assert database.counts() == (ROSTER_ROWS, ROSTER_ROWS, ROSTER_ROWS)


# --- 2. PostgreSQL stopped while the web server runs ------------------------------------------------
#
# The machine's PostgreSQL is shared: this test runs a private cluster of its own (initdb as the postgres
# user, a free port), loads the test database's schema into it, and runs the web server (gunicorn, the
# production settings: DEBUG off, persistent connections) against it.

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateCluster:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/safetynet"

    def run(self, program: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / program), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.folder / "server.log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def private_postgresql(db):
    requires_postgresql()
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None or os.geteuid() != 0:
        pytest.skip("needs PostgreSQL 15's programs and root (to run them as the postgres user)")
    folder = Path(tempfile.mkdtemp(prefix="sn_faults_pg_", dir="/tmp"))  # reachable by postgres
    shutil.chown(folder, "postgres")
    cluster = PrivateCluster(folder)
    cluster.run("initdb", "-D", str(cluster.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
    cluster.start()
    try:
        cluster.run("createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "safetynet")
        # The test database's schema and seed rows (pytest-django migrated it): seconds, not a migrate.
        config = connection.settings_dict
        dump = subprocess.Popen(
            [str(PG_BIN / "pg_dump"), "--no-owner", "--no-privileges", "-d", database_url()],
            stdout=subprocess.PIPE,
            env={**os.environ, "PGPASSWORD": config["PASSWORD"] or ""},
        )
        subprocess.run(
            [str(PG_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", cluster.url],
            stdin=dump.stdout,
            stdout=subprocess.DEVNULL,
            check=True,
            timeout=120,
        )
        assert dump.wait(timeout=60) == 0
        yield cluster
    finally:
        try:
            cluster.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(folder, ignore_errors=True)


class Browser:
    """Just enough of a browser: cookies, the login form's CSRF token, the status and text of a page."""

    def __init__(self, base: str) -> None:
        from http.cookiejar import CookieJar
        from urllib.request import HTTPCookieProcessor, build_opener

        self.base = base
        self.cookies = CookieJar()
        self.opener = build_opener(HTTPCookieProcessor(self.cookies))

    def get(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        from urllib.error import HTTPError
        from urllib.parse import urlencode

        body = urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=30) as response:
                return response.status, response.read().decode()
        except HTTPError as error:
            return error.code, error.read().decode()

    def answers(self, path: str) -> int | None:
        """The status of a page, or None while nothing listens yet."""
        try:
            return self.get(path)[0]
        except OSError:
            return None

    def login(self, username: str, password: str) -> None:
        import re

        status, page = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, page = self.get(
            "/accounts/login/", {"csrfmiddlewaretoken": token, "username": username, "password": password}
        )
        assert status == 200 and "退出" in page, page[:500]


def test_pages_survive_a_postgresql_restart_without_restarting_the_application(private_postgresql, tmp_path):
    cluster = private_postgresql
    # Production settings, but static files from the apps' folders (no collectstatic for a test).
    (cluster.folder / "fault_settings.py").write_text(
        "from safetynet.settings import *  # noqa: F403\n"
        "from safetynet.settings import STORAGES\n"
        "STORAGES = {**STORAGES, 'staticfiles': "
        "{'BACKEND': 'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n"
        "WHITENOISE_USE_FINDERS = True\n"
    )
    environment = subprocess_env(
        DJANGO_SETTINGS_MODULE="fault_settings",
        PYTHONPATH=os.pathsep.join([str(cluster.folder), *sys.path]),
        DATABASE_URL=cluster.url,
        SAFETYNET_HOME=str(tmp_path),
        SAFETYNET_DEBUG="0",
        SAFETYNET_SSL_REDIRECT="0",
        SAFETYNET_SECURE_COOKIES="0",
        SAFETYNET_SECRET_KEY="fault-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        SAFETYNET_ALLOWED_HOSTS="127.0.0.1",
    )

    def safetynet(*args: str, stdin: str = "") -> None:
        result = subprocess.run(
            [*SAFETYNET, *args], input=stdin, env=environment, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stdout + result.stderr

    safetynet(
        "shell",
        "-c",
        "from safetynet.orgs.services import orgunit_create; "
        "orgunit_create(actor=None, code='2102', name='大连市', level=1, parent=None)",
    )
    password = "Outage-Test-2012-x"
    safetynet("add-staff", "outage_admin", "--unit", "2102", "--role", "city_admin", stdin=password + "\n")

    web_port = free_port()
    server = spawn(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "safetynet.wsgi:application",
            "-b",
            f"127.0.0.1:{web_port}",
            "-w",
            "1",
        ],
        tmp_path / "gunicorn.log",
        env=environment,
    )
    try:
        browser = Browser(f"http://127.0.0.1:{web_port}")
        wait_for(lambda: browser.answers("/healthz") == 200, timeout=60, what="the web server")
        browser.login("outage_admin", password)
        status, page = browser.get("/orgs/")
        assert status == 200 and "大连市" in page

        cluster.stop()
        status, page = browser.get("/orgs/")
        assert status == 503 and "数据库暂时无法连接，请稍后重试" in page and "<html" in page
        status, api = browser.get("/api/v1/units/")
        assert status == 503 and '"code": "database_unavailable"' in api
        assert browser.get("/healthz")[0] == 503

        cluster.start()
        status, page = browser.get("/orgs/")
        assert status == 200 and "大连市" in page  # same server process, same session

        # Restarted between two requests: the persistent connection is dead, the next page still works.
        cluster.stop()
        cluster.start()
        status, page = browser.get("/orgs/")
        assert status == 200 and "大连市" in page
        assert server.poll() is None
    finally:
        stop(server)


def test_a_database_error_anywhere_inside_becomes_the_chinese_503(rf, settings):
    """Without a database to stop: the middleware's decision, on both databases (the real outage above)."""
    from django.core.handlers.exception import convert_exception_to_response
    from django.db import InterfaceError, OperationalError

    from safetynet.core.middleware import DatabaseUnavailableMiddleware

    names = settings.MIDDLEWARE
    assert names.index("safetynet.core.middleware.DatabaseUnavailableMiddleware") < names.index(
        "django.contrib.sessions.middleware.SessionMiddleware"
    )
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]

    def failing(error: Exception):
        def view(request):
            raise error

        # What Django wraps each layer in: the exception becomes a 500 response where it happens.
        return DatabaseUnavailableMiddleware(convert_exception_to_response(view))

    for error in (
        OperationalError("server closed the connection"),
        InterfaceError("connection already closed"),
    ):
        response = failing(error)(rf.get("/orgs/"))
        assert response.status_code == 503 and response["Retry-After"] == "30"
        assert "数据库暂时无法连接，请稍后重试" in response.content.decode()
    response = failing(OperationalError("down"))(rf.get("/api/v1/units/"))
    assert response.status_code == 503 and json.loads(response.content)["code"] == "database_unavailable"
    # Other errors keep the usual error page; so does DEBUG (the technical page).
    assert failing(ValueError("bug"))(rf.get("/orgs/")).status_code == 500
    settings.DEBUG = True
    assert failing(OperationalError("down"))(rf.get("/orgs/")).status_code == 500


# --- 4. files too big, zip bombs, billion laughs ---------------------------------------------------


def refused_by_the_command(path: Path, kind: str = "members") -> tuple[str, float, int]:
    """`safetynet import KIND PATH`: (its message on stderr, seconds taken, peak bytes allocated)."""

    errors = io.StringIO()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(SystemExit) as exit_info:
            call_command("import", kind, str(path), stderr=errors, stdout=io.StringIO())
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert exit_info.value.code == 2
    return errors.getvalue(), seconds, peak


MB = 1024 * 1024
# Refused before reading: no more than a couple of seconds, and a few megabytes however big the file.
QUICK_SECONDS = 3.0
BOUNDED_PEAK = 16 * MB


def test_a_300_mb_roster_is_refused_at_once(db, tmp_path):
    path = tmp_path / "全市会员名册.csv"
    with path.open("wb") as handle:
        handle.write("姓名,身份证号\n".encode())
        handle.truncate(300 * MB)  # sparse: the size is real, the disk is spared
    message, seconds, peak = refused_by_the_command(path)
    assert "文件“全市会员名册.csv”有 300.0 MB，超过了导入文件 200 MB 的上限，未读取" in message
    assert "分成几个文件" in message
    assert seconds < QUICK_SECONDS and peak < BOUNDED_PEAK
    # An administrator may allow more for one run; the file is then read (and found to be no roster).
    errors = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("import", "members", str(path), "--max-mb", "400", stderr=errors)
    assert exit_info.value.code == 2 and "上限" not in errors.getvalue()


def zip_bomb(path: Path, *, unpacked_mb: int, declared_bytes: int | None = None) -> Path:
    """An XLSX-looking zip whose sheet is ``unpacked_mb`` of zeros (a thousand to one). ``declared_bytes``:
    its headers claim that size instead (the lying kind, which only unpacking reveals)."""
    import struct
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            zeros = bytes(MB)
            for _ in range(unpacked_mb):
                member.write(zeros)
    if declared_bytes is not None:
        data = bytearray(path.read_bytes())
        name = b"xl/worksheets/sheet1.xml"
        local = data.rindex(b"PK\x03\x04", 0, data.index(name) + 1)
        struct.pack_into("<I", data, local + 22, declared_bytes)  # local header: uncompressed size
        central = data.rindex(b"PK\x01\x02")
        struct.pack_into("<I", data, central + 24, declared_bytes)  # central directory: the same
        path.write_bytes(bytes(data))
    return path


def test_a_zip_bomb_is_refused_at_once(db, tmp_path):
    honest = zip_bomb(tmp_path / "名册.xlsx", unpacked_mb=128)
    assert honest.stat().st_size < 1 * MB
    message, seconds, peak = refused_by_the_command(honest)
    assert "“xl/worksheets/sheet1.xml”由 0.1 MB 解压为 128.0 MB（压缩比" in message
    assert "拒绝读取" in message and "另存为" in message
    assert seconds < QUICK_SECONDS and peak < BOUNDED_PEAK


def test_a_zip_bomb_that_lies_about_its_size_is_caught_while_unpacking(db, tmp_path):
    liar = zip_bomb(tmp_path / "名册.xlsx", unpacked_mb=128, declared_bytes=4096)
    message, seconds, peak = refused_by_the_command(liar)
    assert "“xl/worksheets/sheet1.xml”解压出的内容多于它声明的 0.0 MB" in message
    assert seconds < QUICK_SECONDS and peak < BOUNDED_PEAK


BILLION_LAUGHS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<!DOCTYPE worksheet [\n  <!ENTITY lol "lol">\n'
    + "".join(
        f'  <!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">\n' for n in range(1, 10)
    )
    + "]>\n"
)


def billion_laughs(path: Path, *, padding: int = 0) -> Path:
    """A real XLSX (openpyxl) whose sheet XML declares nine levels of entities (10⁹ "lol"s) and uses them.
    ``padding``: bytes of XML comment before the declaration."""
    import zipfile

    from openpyxl import Workbook

    plain = path.with_suffix(".plain.xlsx")
    workbook = Workbook()
    workbook.active.append(["姓名", "身份证号"])
    workbook.active.append(["&lol9;", "x"])
    workbook.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = data.decode()
                if body.startswith("<?xml"):
                    body = body.split("?>", 1)[1]
                comment = f"<!--{' ' * padding}-->\n" if padding else ""
                body = body.replace("&amp;lol9;", "&lol9;")
                data = (BILLION_LAUGHS.replace("<!DOCTYPE", comment + "<!DOCTYPE") + body).encode()
            target.writestr(info.filename, data)
    plain.unlink()
    return path


def test_a_billion_laughs_xlsx_is_refused_before_any_parser_sees_it(db, tmp_path):
    path = billion_laughs(tmp_path / "名册.xlsx")
    message, seconds, peak = refused_by_the_command(path)
    assert "“xl/worksheets/sheet1.xml”含有 XML 文档类型声明（DOCTYPE/ENTITY" in message
    assert seconds < QUICK_SECONDS and peak < BOUNDED_PEAK


def test_the_upload_page_refuses_them_before_a_job_is_made(client, city, make_staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(make_staff("fault_uploader", city.zhongshan, "operator"))
    for path, reason in (
        (billion_laughs(tmp_path / "laughs.xlsx"), "含有 XML 文档类型声明"),
        (zip_bomb(tmp_path / "bomb.xlsx", unpacked_mb=64), "压缩比"),
    ):
        with path.open("rb") as handle:
            started = time.perf_counter()
            response = client.post(reverse("imports:job_create"), {"kind": "members", "upload": handle})
        assert response.status_code == 200 and reason in response.content.decode()
        assert time.perf_counter() - started < QUICK_SECONDS
    assert not ImportJob.objects.exists()


def test_a_declaration_hidden_past_the_head_is_caught_by_the_run(
    city, make_staff, settings, tmp_path, django_capture_on_commit_callbacks
):
    # The page looks at the head of each part only (it answers at once); the run unpacks everything.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    officer = make_staff("fault_uploader", city.zhongshan, "operator")
    path = billion_laughs(tmp_path / "名册.xlsx", padding=200_000)
    with django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(
            actor=officer, kind="members", upload=SimpleUploadedFile("名册.xlsx", path.read_bytes())
        )
    job.refresh_from_db()
    assert job.status == ImportJobStatus.FAILED and "含有 XML 文档类型声明" in job.failure
    assert not Person.objects.exists()


# --- 3. two officers saving the same record ------------------------------------------------------


def form_values(page: str) -> dict[str, str]:
    """name → value of the inputs, selected options and text areas of a page (enough for these forms)."""
    import re
    from html import unescape

    values: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) == "checkbox":
            if "checked" in tag:
                values[name.group(1)] = "on"
            continue
        values[name.group(1)] = unescape(value.group(1)) if value else ""
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', options)
        values[name] = unescape(chosen.group(1)) if chosen else ""
    values.pop("csrfmiddlewaretoken", None)
    return values


@pytest.fixture
def two_officers(city, make_staff):
    from django.test import Client

    from safetynet.orgs.services import enterprise_create
    from safetynet.orgs.tests.factories import make_credit_code

    first = make_staff("zhang_san", city.zhongshan, "operator")
    second = make_staff("li_si", city.zhongshan, "operator")
    type(first).objects.filter(pk=first.pk).update(full_name="张三")
    type(second).objects.filter(pk=second.pk).update(full_name="李四")
    enterprise = enterprise_create(
        actor=None,
        credit_code=make_credit_code(702),
        name="大连并发测试有限公司",
        org_unit=city.community_a,
        ownership="private",
        headcount=120,
        founded_on=datetime.date(2005, 5, 1),
        address="中山路 1 号",
    )
    browsers = []
    for user in (first, second):
        browser = Client()
        browser.force_login(user)
        browsers.append(browser)
    return enterprise, browsers


def test_the_second_of_two_officers_is_told_and_nothing_is_overwritten(two_officers):
    from safetynet.orgs.models import Enterprise

    enterprise, (zhang, li) = two_officers
    url = reverse("orgs:enterprise_edit", args=[enterprise.pk])
    zhang_form = form_values(zhang.get(url).content.decode())
    li_form = form_values(li.get(url).content.decode())
    assert zhang_form["version"] == li_form["version"] != ""

    # 张三 corrects the address and saves first.
    assert zhang.post(url, {**zhang_form, "address": "中山路 8 号"}).status_code == 302
    # 李四, working from the page as it was, changes the headcount and the address differently.
    response = li.post(url, {**li_form, "headcount": "150", "address": "中山路 9 号"})
    page = response.content.decode()
    assert response.status_code == 409
    assert "该企业已被 张三 于" in page and "修改，您的修改未保存" in page
    assert "张三 于" in page and "已将“地址”改为“中山路 8 号”，与您填写的不同" in page
    enterprise.refresh_from_db()
    assert (enterprise.address, enterprise.headcount) == ("中山路 8 号", 120)  # 张三's save stands
    # What 李四 typed is still in the form, and 张三's change is listed above it.
    again = form_values(page)
    assert (again["headcount"], again["address"]) == ("150", "中山路 9 号")
    assert "data-conflict" in page and "中山路 8 号" in page
    assert again["version"] != li_form["version"]

    # 李四 keeps 张三's address and saves: both changes are in.
    assert li.post(url, {**again, "address": "中山路 8 号"}).status_code == 302
    enterprise = Enterprise.objects.get(pk=enterprise.pk)
    assert (enterprise.address, enterprise.headcount) == ("中山路 8 号", 150)


def test_a_field_only_the_first_officer_changed_is_taken_over_not_reverted(two_officers):
    from safetynet.orgs.models import Enterprise

    enterprise, (zhang, li) = two_officers
    url = reverse("orgs:enterprise_edit", args=[enterprise.pk])
    zhang_form = form_values(zhang.get(url).content.decode())
    li_form = form_values(li.get(url).content.decode())
    assert zhang.post(url, {**zhang_form, "name": "大连并发测试股份有限公司"}).status_code == 302
    response = li.post(url, {**li_form, "headcount": "150"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "您未改动的“企业名称”已换成对方保存的内容" in page
    again = form_values(page)
    assert (again["name"], again["headcount"]) == ("大连并发测试股份有限公司", "150")
    assert li.post(url, again).status_code == 302
    enterprise = Enterprise.objects.get(pk=enterprise.pk)
    assert (enterprise.name, enterprise.headcount) == ("大连并发测试股份有限公司", 150)


def test_unions_and_units_are_guarded_the_same_way(two_officers, city, make_staff):
    from django.test import Client

    from safetynet.orgs.services import orgunit_update, union_create, union_update

    enterprise, (zhang, li) = two_officers
    union = union_create(
        actor=None,
        name="大连并发测试有限公司工会",
        union_type="single",
        org_unit=city.community_a,
        founded_on=datetime.date(2006, 1, 1),
        enterprises=[enterprise],
    )
    url = reverse("orgs:union_edit", args=[union.pk])
    li_form = form_values(li.get(url).content.decode())
    union_update(actor=None, union=union, data={"chair_name": "王五"})  # e.g. an import, meanwhile
    response = li.post(url, {**li_form, "chair_name": "赵六"})
    assert response.status_code == 409 and "该工会已被 系统 于" in response.content.decode()
    union.refresh_from_db()
    assert union.chair_name == "王五"

    admins = [make_staff(name, city.city, "city_admin") for name in ("city_a", "city_b")]
    browsers = [Client() for _ in admins]
    for browser, admin in zip(browsers, admins, strict=True):
        browser.force_login(admin)
    url = reverse("orgs:unit_edit", args=[city.street_a.pk])
    first, second = (form_values(b.get(url).content.decode()) for b in browsers)
    assert browsers[0].post(url, {**first, "name": "青泥洼桥新街道"}).status_code == 302
    response = browsers[1].post(url, {**second, "code": "210202002"})
    assert response.status_code == 409 and "该单位已被 city_a 于" in response.content.decode()
    city.street_a.refresh_from_db()
    assert (city.street_a.name, city.street_a.code) == ("青泥洼桥新街道", "210202001")
    # A command or the API (no version given) is not checked.
    orgunit_update(actor=None, unit=city.street_a, name="青泥洼桥街道")


@pytest.mark.browser
def test_two_officers_in_two_browsers(live_server, transactional_db, city, make_staff, monkeypatch, tmp_path):
    from safetynet.orgs.models import Enterprise
    from safetynet.orgs.services import enterprise_create
    from safetynet.orgs.tests.factories import make_credit_code

    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's event loop in this thread
    for username, full_name in (("zhang_san", "张三"), ("li_si", "李四")):
        user = make_staff(username, city.zhongshan, "operator")
        type(user).objects.filter(pk=user.pk).update(full_name=full_name)
    enterprise = enterprise_create(
        actor=None,
        credit_code=make_credit_code(703),
        name="大连双人编辑有限公司",
        org_unit=city.community_a,
        ownership="private",
        headcount=120,
        founded_on=datetime.date(2005, 5, 1),
        address="中山路 1 号",
    )
    edit_url = f"{live_server.url}{reverse('orgs:enterprise_edit', args=[enterprise.pk])}"
    from conftest import CHROMIUM_ARGS

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        pages = {}
        for username in ("zhang_san", "li_si"):
            page = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN").new_page()
            page.set_default_timeout(20_000)
            page.goto(f"{live_server.url}/accounts/login/?next={quote(edit_url[len(live_server.url) :])}")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", "Safetynet-test-1")
            page.locator("form button[type=submit]").click()
            sync_api.expect(page.locator("input[name=address]")).to_have_value("中山路 1 号")
            pages[username] = page
        zhang, li = pages["zhang_san"], pages["li_si"]

        zhang.fill("input[name=address]", "中山路 8 号")
        zhang.locator("form[data-guard-unsaved] button[type=submit]").click()
        sync_api.expect(zhang.locator(".messages")).to_contain_text("企业信息已保存")

        li.fill("input[name=headcount]", "150")
        li.fill("input[name=address]", "中山路 9 号")
        li.locator("form[data-guard-unsaved] button[type=submit]").click()
        sync_api.expect(li.locator(".messages .message-error").first).to_contain_text("该企业已被 张三 于")
        sync_api.expect(li.locator("input[name=headcount]")).to_have_value("150")
        sync_api.expect(li.locator("input[name=address]")).to_have_value("中山路 9 号")
        sync_api.expect(li.locator("[data-conflict]")).to_contain_text("中山路 8 号")
        li.screenshot(path=str(tmp_path / "conflict.png"), full_page=True)
        assert Enterprise.objects.values_list("address", "headcount").get(pk=enterprise.pk) == (
            "中山路 8 号",
            120,
        )

        li.fill("input[name=address]", "中山路 8 号")
        li.locator("form[data-guard-unsaved] button[type=submit]").click()
        sync_api.expect(li.locator(".messages")).to_contain_text("企业信息已保存")
        browser.close()
    assert Enterprise.objects.values_list("address", "headcount").get(pk=enterprise.pk) == (
        "中山路 8 号",
        150,
    )
