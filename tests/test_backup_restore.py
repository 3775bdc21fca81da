"""Backups that restore: a database with registry, members and audit rows is backed up, restored into a fresh
database through the command line, and every indicator, every audit row and every decrypted ID number is
found identical. Runs on the database the suite runs on (SQLite, or PostgreSQL through pg_dump/pg_restore).

Bad input (a missing, empty, truncated, foreign or newer-schema file) ends with exit code 2 and a Chinese
message, and leaves the database as it was.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection, connections
from django.db.utils import load_backend

from safetynet.core.backup import MANIFEST, PAYLOADS
from safetynet.core.context import acting_from
from safetynet.core.models import AuditEntry
from safetynet.indicators.engine import compute
from safetynet.members import services as member_services
from safetynet.members.crypto import decrypt
from safetynet.members.models import Person
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs import services as org_services
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory

DAYS = [datetime.date(2011, 6, 30), datetime.date(2012, 12, 31)]
ALIAS = "restored"


def requires_pg_tools() -> None:
    if connection.vendor == "postgresql":
        missing = [tool for tool in ("pg_dump", "pg_restore", "psql") if shutil.which(tool) is None]
        if missing:
            pytest.skip(
                f"PostgreSQL client tools missing: {', '.join(missing)} (apt-get install postgresql-client)"
            )


def build_registry(city: Any, make_staff: Any) -> list[str]:
    """Enterprises, a union, workers with employment and membership, and audit rows by a person from an
    address. Returns the ID numbers registered."""
    officer = make_staff("backup_officer", city.city, "city_admin")
    covered = [
        EnterpriseFactory(org_unit=city.street_a, headcount=120),
        EnterpriseFactory(org_unit=city.street_b, headcount=60, migrant_headcount=10),
    ]
    EnterpriseFactory(org_unit=city.community_a, headcount=40)
    union = UnionFactory(org_unit=city.street_a, enterprises=covered, founded_on=datetime.date(2006, 1, 1))
    numbers = []
    with acting_from("192.0.2.7"):
        org_services.orgunit_update(actor=officer, unit=city.xigang, name="西岗区（新）")
        for n in range(1, 9):
            number = make_id_number(n)
            numbers.append(number)
            person = member_services.person_create(
                actor=officer, name=f"备份职工{n}", id_number=number, phone=f"1390411{n:04d}"
            )
            member_services.employment_start(
                actor=officer,
                person=person,
                enterprise=covered[n % 2],
                valid_from=datetime.date(2010, 1, 1),
            )
            if n % 3:
                member_services.membership_join(
                    actor=officer, person=person, union=union, valid_from=datetime.date(2011, 1, 1)
                )
    return numbers


def indicator_records(rows: list[Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.as_dict(with_group=False).items() if k != "unit_id"} for row in rows]


def run_cli(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The console script in a child process, on the database at ``database_url``."""
    environment = {**os.environ, "DATABASE_URL": database_url, **env}
    return subprocess.run(
        [sys.executable, "-m", "safetynet.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def postgres_url(name: str) -> str:
    s = connection.settings_dict
    credentials = quote(s["USER"] or "", safe="") + (
        f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else ""
    )
    return f"postgres://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(DATABASE_URL, database name) of a new, empty database of the suite's vendor; dropped afterwards."""
    if connection.vendor == "sqlite":
        path = tmp_path / "restored.sqlite3"
        yield f"sqlite:///{path}", str(path)
        return
    import psycopg

    name = f"{connection.settings_dict['NAME']}_restored"[:63]
    s = connection.settings_dict
    admin = {
        "dbname": "postgres",
        "user": s["USER"],
        "password": s["PASSWORD"] or None,
        "host": s["HOST"] or None,
        "port": s["PORT"] or None,
    }
    with psycopg.connect(**admin, autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url(name), name
    finally:
        with psycopg.connect(**admin, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def open_alias(name: str) -> Any:
    """A second connection, to the restored database, for ``.using(ALIAS)``. It is set on the handler
    without entering DATABASES (so the test case's guard takes it for a connection made at run time)."""
    backend = load_backend(connection.settings_dict["ENGINE"])
    connections[ALIAS] = backend.DatabaseWrapper({**connection.settings_dict, "NAME": name}, ALIAS)
    return connections[ALIAS]


def close_alias() -> None:
    if hasattr(connections._connections, ALIAS):
        connections[ALIAS].close()
        del connections[ALIAS]


def table_count(name: str) -> int:
    try:
        return len(open_alias(name).introspection.table_names())
    finally:
        close_alias()


@pytest.mark.django_db(transaction=True)
def test_backup_restores_every_indicator_audit_row_and_id_number(
    city: Any, make_staff: Any, tmp_path: Path, fresh_database: tuple[str, str]
) -> None:
    requires_pg_tools()
    numbers = build_registry(city, make_staff)
    expected_indicators = {day: indicator_records(compute(day=day)) for day in DAYS}
    assert any(r["numerator"] for r in expected_indicators[DAYS[-1]]), "the data must move some indicator"
    expected_audit = list(AuditEntry.objects.order_by("pk").values())
    assert any(
        row["address"] == "192.0.2.7" and row["actor_name"] == "backup_officer" for row in expected_audit
    )
    expected_people = [
        (pk, decrypt(token))
        for pk, token in Person.objects.order_by("pk").values_list("pk", "id_number_encrypted")
    ]
    assert sorted(number for _, number in expected_people) == sorted(numbers)

    backup_file = tmp_path / "nightly.backup"
    out = io.StringIO()
    call_command("backup", str(backup_file), stdout=out)
    assert "已把" in out.getvalue() and backup_file.exists()
    assert oct(backup_file.stat().st_mode & 0o777) == "0o600"
    with zipfile.ZipFile(backup_file) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        assert sorted(archive.namelist()) == sorted([MANIFEST, PAYLOADS[connection.vendor]])
    assert manifest["vendor"] == connection.vendor
    assert manifest["migrations"]["core"], "the applied migrations are recorded"
    assert manifest["samples"]["personal_data_key"].startswith("gAAAA")

    # --force writes over an older backup (through a new file renamed onto it).
    code, _, err = run_command("backup", str(backup_file), "--force")
    assert code == 0, err
    with zipfile.ZipFile(backup_file) as archive:
        assert json.loads(archive.read(MANIFEST))["created_at"] >= manifest["created_at"]

    url, name = fresh_database

    # Another key: refused before anything changes, saying why in Chinese.
    other_key = Fernet.generate_key().decode()
    refused = run_cli("restore", str(backup_file), database_url=url, SAFETYNET_PII_KEY=other_key)
    assert refused.returncode == 2, refused.stderr
    assert "备份中的个人信息无法用当前 SAFETYNET_PII_KEY 解密" in refused.stderr
    assert table_count(name) == 0

    # A damaged copy (bytes changed in the middle: the checksum no longer matches) is refused too.
    damaged = tmp_path / "damaged.backup"
    data = bytearray(backup_file.read_bytes())
    middle = len(data) // 2
    # Inverted, not zeroed: zeroing bytes that were already zero (free pages) would change nothing.
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    damaged.write_bytes(bytes(data))
    refused = run_cli("restore", str(damaged), database_url=url)
    assert refused.returncode == 2, refused.stderr
    assert "不完整或已损坏" in refused.stderr
    assert table_count(name) == 0

    restored = run_cli("restore", str(backup_file), database_url=url)
    assert restored.returncode == 0, restored.stderr
    assert "已从" in restored.stdout

    for day in DAYS:
        printed = run_cli("indicators", "--as-of", day.isoformat(), "--skip-checks", database_url=url)
        assert printed.returncode == 0, printed.stderr
        assert json.loads(printed.stdout) == expected_indicators[day]
    try:
        open_alias(name)
        assert list(AuditEntry.objects.using(ALIAS).order_by("pk").values()) == expected_audit
        people = Person.objects.using(ALIAS).order_by("pk").values_list("pk", "id_number_encrypted")
        assert [(pk, decrypt(token)) for pk, token in people] == expected_people
    finally:
        close_alias()

    # The restored database is no longer empty: only --replace writes over it, and then it is the backup again.
    again = run_cli("restore", str(backup_file), database_url=url)
    assert again.returncode == 2
    assert "已有数据" in again.stderr and "--replace" in again.stderr
    replaced = run_cli("restore", str(backup_file), "--replace", database_url=url)
    assert replaced.returncode == 0, replaced.stderr
    try:
        open_alias(name)
        assert AuditEntry.objects.using(ALIAS).count() == len(expected_audit)
        assert Person.objects.using(ALIAS).count() == len(expected_people)
    finally:
        close_alias()


# --- bad input ------------------------------------------------------------------------------------------------


def fingerprint() -> dict[str, int]:
    """Rows per table: the database is unchanged when this is."""
    with connection.cursor() as cursor:
        counts = {}
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def run_command(name: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def module_backup(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Path:
    """A backup of the migrated test database, made once, outside any test's transaction."""
    path = tmp_path_factory.mktemp("backups") / "real.backup"
    with django_db_blocker.unblock():
        requires_pg_tools()
        code, _, err = run_command("backup", str(path))
    assert code == 0, err
    return path


@pytest.fixture
def real_backup(module_backup: Path, tmp_path: Path) -> Path:
    path = tmp_path / module_backup.name
    shutil.copyfile(module_backup, path)
    return path


def rewritten(source: Path, target: Path, **manifest_changes: Any) -> Path:
    with zipfile.ZipFile(source) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        payload_name = PAYLOADS[manifest["vendor"]]
        payload = archive.read(payload_name)
    manifest.update(manifest_changes)
    vendor = manifest["vendor"]
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr(MANIFEST, json.dumps(manifest))
        archive.writestr(PAYLOADS.get(vendor, payload_name), payload)
    return target


def other_vendor() -> str:
    return "sqlite" if connection.vendor == "postgresql" else "postgresql"


BAD_FILES = {
    "missing": ("找不到备份文件", lambda real, tmp: tmp / "no-such.backup"),
    "empty": ("空文件", lambda real, tmp: _write(tmp / "empty.backup", b"")),
    "text": (
        "不是 safetynet backup 制作的备份文件",
        lambda real, tmp: _write(tmp / "notes.txt", "备份".encode()),
    ),
    "truncated": (
        "不完整或已损坏",
        lambda real, tmp: _write(tmp / "cut.backup", real.read_bytes()[: real.stat().st_size // 2]),
    ),
    "raw pg_dump": (
        "pg_dump 直接导出的文件",
        lambda real, tmp: _write(tmp / "db.dump", b"PGDMP\x01\x0f\x00" * 8),
    ),
    "raw sqlite": (
        "SQLite 数据库文件本身",
        lambda real, tmp: _write(tmp / "db.sqlite3", b"SQLite format 3\x00" * 4),
    ),
    "zip without manifest": (
        "没有 manifest.json",
        lambda real, tmp: _zip(tmp / "other.zip", {"a.txt": b"x"}),
    ),
    "other vendor": (
        "不同数据库之间不能直接恢复",
        lambda real, tmp: rewritten(real, tmp / "other.backup", vendor=other_vendor()),
    ),
    "newer schema": (
        "较新的 safetynet",
        lambda real, tmp: rewritten(
            real,
            tmp / "newer.backup",
            migrations={
                **json.loads(zipfile.ZipFile(real).read(MANIFEST))["migrations"],
                "core": ["9999_future"],
            },
            app_version="9.0.0",
        ),
    ),
    "newer format": (
        "请先升级 safetynet",
        lambda real, tmp: rewritten(real, tmp / "f.backup", format_version=99),
    ),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_restore_refuses_unusable_files_with_exit_2_and_changes_nothing(
    case: str, real_backup: Path, tmp_path: Path
) -> None:
    message, make = BAD_FILES[case]
    path = make(real_backup, tmp_path)
    before = fingerprint()
    code, _, err = run_command("restore", str(path), "--replace")
    assert code == 2, err
    assert message in err
    assert fingerprint() == before


@pytest.mark.django_db
def test_backup_refuses_unusable_targets_with_exit_2(real_backup: Path, tmp_path: Path) -> None:
    original = real_backup.read_bytes()
    for target, message in [
        ("", "没有给出备份文件名"),
        (str(tmp_path), "是一个目录"),
        (str(tmp_path / "no-dir" / "x.backup"), "不存在"),
        (str(real_backup), "已存在"),
    ]:
        code, _, err = run_command("backup", target)
        assert code == 2, (target, err)
        assert message in err
    assert real_backup.read_bytes() == original
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no partial file is left behind"


@pytest.mark.django_db
def test_backup_without_pg_dump_says_which_package_to_install(
    city: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite backups need no external tool")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    code, _, err = run_command("backup", str(tmp_path / "x.backup"))
    assert code == 1
    major = connection.pg_version // 10000
    assert "找不到 pg_dump" in err and f"postgresql-client-{major}" in err
    assert not (tmp_path / "x.backup").exists()
