"""Backups that restore: ``safetynet backup FILE`` and ``safetynet restore FILE``.

A backup is one ZIP file holding ``manifest.json`` (format, app version, database vendor, the applied
migrations, samples for the restore checks) and the database itself:

- PostgreSQL: ``database.pgdump``, made by ``pg_dump --format=custom`` (an administrator can still restore it by
  hand: ``unzip -p FILE database.pgdump > db.pgdump; pg_restore ...``);
- SQLite: ``database.sqlite3``, a consistent copy made through SQLite's online backup API while the app runs.

A backup is written to a hidden file next to the target and renamed when complete, so a failed backup never
leaves a file that looks like one. A restore checks everything it can before it changes anything (the ZIP's
checksums, the manifest, the vendor, the schema not newer than this code, the checks apps register, and for
SQLite ``PRAGMA integrity_check`` on the extracted copy), then replaces the database in one step: an atomic
rename for SQLite, one transaction for PostgreSQL (``pg_restore`` piped into ``psql``; COMMIT is sent only
after ``pg_restore`` succeeded, so any failure leaves the old data).

Apps add checks in a ``backup_checks`` module with ``@backup_check(name, sample_sql=...)``: the query's first
value is stored in the manifest at backup time, and the check is asked about it (and, for SQLite, about the
value read again from the extracted copy) before the restore changes anything. The members app uses this to
verify that the current SAFETYNET_PII_KEY decrypts the backup's personal data; core never imports it.

Errors carry a Chinese message. ``BackupUnusable`` (exit 2): the file, the arguments or the target cannot be
used, nothing was changed. ``BackupError`` (exit 1): the environment failed (a tool missing, pg_dump failed).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.core.cache import caches
from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

FORMAT = "safetynet-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PAYLOADS = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
VENDOR_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
_CHUNK = 1 << 20
_MANIFEST_LIMIT = 10 << 20
_PG_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_LOCK_WAIT_SECONDS = 120


class BackupError(Exception):
    """The environment failed: a tool is missing or failed. Exit code 1."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BackupUnusable(BackupError):
    """The file, the arguments or the target cannot be used; nothing was changed. Exit code 2."""

    exit_code = 2


# --- checks apps register ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupCheck:
    name: str
    # One value (first column of the first row) read from the backed-up database; "" when there is none.
    sample_sql: str
    # The problem with a sample, in Chinese, or None when it is fine.
    verify: Callable[[str], str | None]


_checks: dict[str, BackupCheck] = {}


def backup_check(name: str, *, sample_sql: str) -> Callable[[Callable[[str], str | None]], Any]:
    def register(func: Callable[[str], str | None]) -> Callable[[str], str | None]:
        _checks[name] = BackupCheck(name=name, sample_sql=sample_sql, verify=func)
        return func

    return register


def discover_checks() -> dict[str, BackupCheck]:
    for config in apps.get_app_configs():
        if config.name.startswith("safetynet."):
            try:
                importlib.import_module(f"{config.name}.backup_checks")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.backup_checks":
                    raise
    return dict(sorted(_checks.items()))


def check_problems(samples: dict[str, str]) -> list[str]:
    problems = []
    for name, check in discover_checks().items():
        sample = samples.get(name, "")
        if sample:
            problem = check.verify(sample)
            if problem:
                problems.append(problem)
    return problems


# --- the manifest -----------------------------------------------------------------------------------------


@dataclass
class Manifest:
    vendor: str
    database: str
    server_version: str
    migrations: dict[str, list[str]]
    samples: dict[str, str] = field(default_factory=dict)
    tool_version: str = ""
    app_version: str = ""
    created_at: str = ""
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def applied(self) -> set[tuple[str, str]]:
        return {(app, name) for app, names in self.migrations.items() for name in names}


def app_version() -> str:
    try:
        return metadata.version("safetynet")
    except metadata.PackageNotFoundError:
        return "unknown"


def _grouped(pairs: set[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for app, name in sorted(pairs):
        grouped.setdefault(app, []).append(name)
    return grouped


def migrations_on_disk() -> set[tuple[str, str]]:
    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def _newer_schema_problem(applied: set[tuple[str, str]], manifest: Manifest) -> str | None:
    unknown = sorted(applied - migrations_on_disk())
    if not unknown:
        return None
    listed = "、".join(f"{app}.{name}" for app, name in unknown[:3]) + (" 等" if len(unknown) > 3 else "")
    return (
        f"这份备份来自较新的 safetynet（{manifest.app_version or '版本不明'}），其中有本程序不认识的数据库迁移："
        f"{listed}。请先把 safetynet 升级到该版本或更新的版本，再恢复。"
    )


def pending_migrations(applied: set[tuple[str, str]]) -> list[str]:
    """Migrations this code has and the backup had not applied: `safetynet migrate` brings it up to date."""
    return [f"{app}.{name}" for app, name in sorted(migrations_on_disk() - applied)]


def _connect(connection: BaseDatabaseWrapper) -> None:
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        name = connection.settings_dict.get("NAME")
        raise BackupError(
            f"无法连接数据库“{name}”（{str(exc).strip()}）。请检查 DATABASE_URL、数据库服务是否在运行，"
            f"以及数据库是否已创建（PostgreSQL：createdb -O 用户名 {name}）。"
        ) from None


# --- checking paths -----------------------------------------------------------------------------------------


def _target_path(raw: str, *, force: bool) -> Path:
    if not raw or not raw.strip():
        raise BackupUnusable(
            "没有给出备份文件名。用法：safetynet backup /var/backups/safetynet/safetynet-20240101.backup"
        )
    path = Path(raw).expanduser().absolute()
    if path.is_dir():
        raise BackupUnusable(
            f"“{path}”是一个目录。请给出备份文件的名字，例如 {path / 'safetynet-YYYYMMDD.backup'}。"
        )
    if not path.parent.is_dir():
        raise BackupUnusable(
            f"目录“{path.parent}”不存在。请先创建它（mkdir -p {path.parent}），或把备份写到已有的目录。"
        )
    if not os.access(path.parent, os.W_OK):
        raise BackupUnusable(f"没有写入目录“{path.parent}”的权限。请换一个目录，或以有权限的用户运行。")
    if path.exists() and not force:
        raise BackupUnusable(
            f"文件“{path}”已存在。为免覆盖以前的备份，请换一个文件名（例如带上日期），或加 --force 覆盖它。"
        )
    return path


@contextlib.contextmanager
def _written_atomically(target: Path) -> Iterator[Path]:
    """A hidden file next to ``target``, renamed onto it only when the block finishes without an error."""
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        yield partial
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
        _fsync_directory(target.parent)
    finally:
        partial.unlink(missing_ok=True)


def _private_file(path: Path) -> IO[bytes]:
    """A new file only its owner reads: a backup holds password hashes and encrypted personal data."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


# --- backing up ---------------------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    manifest: Manifest
    size: int
    seconds: float


def backup(raw_target: str, *, force: bool = False, alias: str = "default") -> BackupResult:
    """Write a backup of the database to ``raw_target``; raise BackupUnusable/BackupError with a message."""
    started = time.monotonic()
    target = _target_path(raw_target, force=force)
    connection = connections[alias]
    vendor = connection.vendor
    if vendor not in PAYLOADS:
        raise BackupUnusable(f"不支持备份 {vendor} 数据库；safetynet 只支持 PostgreSQL 和 SQLite。")
    checks = discover_checks()
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.work-", dir=target.parent))
    try:
        payload = work / PAYLOADS[vendor]
        if vendor == "sqlite":
            manifest = _sqlite_backup(connection, payload, checks)
        else:
            manifest = _postgresql_backup(connection, payload, checks)
        manifest.app_version = app_version()
        manifest.created_at = timezone.now().isoformat(timespec="seconds")
        with _written_atomically(target) as partial, _private_file(partial) as handle:
            archive = zipfile.ZipFile(handle, "w", allowZip64=True)
            archive.writestr(MANIFEST, manifest.to_json(), compress_type=zipfile.ZIP_DEFLATED)
            # A custom-format dump is compressed already; an SQLite file shrinks to a quarter or less.
            method = zipfile.ZIP_DEFLATED if vendor == "sqlite" else zipfile.ZIP_STORED
            archive.write(payload, PAYLOADS[vendor], compress_type=method, compresslevel=6)
            archive.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupResult(target, manifest, target.stat().st_size, time.monotonic() - started)


def _sqlite_backup(
    connection: BaseDatabaseWrapper, payload: Path, checks: dict[str, BackupCheck]
) -> Manifest:
    _connect(connection)
    deadline = time.monotonic() + _LOCK_WAIT_SECONDS

    def progress(status: int, remaining: int, total: int) -> None:
        # SQLite retries a locked database for ever; give up with a message instead.
        if status in (_SQLITE_BUSY, _SQLITE_LOCKED) and (
            connection.in_atomic_block or time.monotonic() > deadline
        ):
            raise BackupError(
                "数据库一直被其他写入锁住，无法制作一致的备份。请稍后重试（例如避开大批量导入的时间）。"
            )

    copy = sqlite3.connect(payload)
    try:
        # One step (pages=-1): the copy is one consistent read; in WAL mode writers are not blocked meanwhile.
        connection.connection.backup(copy, progress=progress)
        # The copy stands alone: no -wal/-shm files beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
    applied, samples = _inspect_sqlite(payload, checks, where="刚制作的备份")
    return Manifest(
        vendor="sqlite",
        database=Path(str(connection.settings_dict["NAME"])).name,
        server_version=sqlite3.sqlite_version,
        migrations=_grouped(applied),
        samples=samples,
        tool_version=f"sqlite3 {sqlite3.sqlite_version}",
    )


def _inspect_sqlite(
    path: Path, checks: dict[str, BackupCheck], *, where: str
) -> tuple[set[tuple[str, str]], dict[str, str]]:
    """Integrity, our migrations table and the check samples of an SQLite file; BackupUnusable if broken."""
    corrupt = f"{where}中的数据库已损坏（{{detail}}）。请换用另一份备份（例如前一天的）。"
    try:
        database = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupUnusable(corrupt.format(detail=exc)) from None
    try:
        try:
            result = [row[0] for row in database.execute("PRAGMA integrity_check")]
        except sqlite3.DatabaseError as exc:
            raise BackupUnusable(corrupt.format(detail=exc)) from None
        if result != ["ok"]:
            raise BackupUnusable(corrupt.format(detail="；".join(result[:3])))
        try:
            applied = {
                (app, name) for app, name in database.execute("SELECT app, name FROM django_migrations")
            }
        except sqlite3.DatabaseError:
            applied = set()
        if not any(app == "core" for app, _ in applied):
            raise BackupUnusable(
                f"{where}中的数据库不是 safetynet 的数据库（没有 safetynet 的迁移记录 django_migrations）。"
            )
        samples = {}
        for name, check in checks.items():
            try:
                row = database.execute(check.sample_sql).fetchone()
            except sqlite3.DatabaseError:
                row = None
            samples[name] = str(row[0]) if row and row[0] is not None else ""
        return applied, samples
    finally:
        database.close()


def _postgresql_backup(
    connection: BaseDatabaseWrapper, payload: Path, checks: dict[str, BackupCheck]
) -> Manifest:
    _connect(connection)
    server_major = connection.pg_version // 10000
    pg_dump = _pg_tool("pg_dump", server_major)
    _run(
        [pg_dump.path, "--format=custom", "--no-password", f"--file={payload}"],
        env=_pg_env(connection.settings_dict),
        what="pg_dump",
    )
    pg_restore = _pg_tool("pg_restore", server_major)
    # Reading the table of contents back proves the dump is a complete archive.
    _run([pg_restore.path, "--list", str(payload)], env=_pg_env(connection.settings_dict), what="pg_restore")
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        applied = set(cursor.fetchall())
    return Manifest(
        vendor="postgresql",
        database=str(connection.settings_dict["NAME"]),
        server_version=str(connection.pg_version),
        migrations=_grouped(applied),
        samples=_postgresql_samples(connection, checks),
        tool_version=pg_dump.version_text,
    )


def _postgresql_samples(connection: BaseDatabaseWrapper, checks: dict[str, BackupCheck]) -> dict[str, str]:
    samples = {}
    for name, check in checks.items():
        try:
            # A savepoint: a check whose table is missing must not break the connection's transaction.
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(check.sample_sql)
                row = cursor.fetchone()
        except DatabaseError:
            row = None
        samples[name] = str(row[0]) if row and row[0] is not None else ""
    return samples


# --- PostgreSQL client tools --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tool:
    path: str
    major: int
    version_text: str


def _pg_tool(name: str, needed_major: int) -> _Tool:
    package = f"postgresql-client-{needed_major}"
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"找不到 {name}（PostgreSQL 客户端工具）。请安装与数据库服务器同一主版本的客户端，"
            f"例如 Debian/Ubuntu：sudo apt-get install {package}；然后重试。"
        )
    try:
        text = subprocess.run(
            [path, "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise BackupError(f"{name} 无法运行（{exc}）。请检查安装（{package}）。") from None
    match = re.search(r"(\d+)(?:\.\d+)?", text)
    major = int(match.group(1)) if match else 0
    if major < needed_major:
        raise BackupError(
            f"{name} 的版本（{text}）低于数据库服务器的主版本 {needed_major}，不能处理它的数据。"
            f"请安装 {package}（或更新的版本）后重试。"
        )
    return _Tool(path=path, major=major, version_text=text)


def _pg_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    """Connection parameters for the client tools; the password travels in the environment, never argv."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    values = {
        "PGDATABASE": settings_dict.get("NAME"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
    }
    options = settings_dict.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("passfile", "PGPASSFILE"),
        ("service", "PGSERVICE"),
    ):
        values[variable] = options.get(option)
    env.update({k: str(v) for k, v in values.items() if v not in (None, "")})
    env.setdefault("PGCONNECT_TIMEOUT", "15")
    return env


def _run(command: list[str], *, env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()[-2000:]
        raise BackupError(f"{what} 失败（退出码 {result.returncode}）：{detail}")


# --- opening a backup ---------------------------------------------------------------------------------------


@dataclass
class OpenedBackup:
    path: Path
    manifest: Manifest
    archive: zipfile.ZipFile

    @property
    def payload(self) -> str:
        return PAYLOADS[self.manifest.vendor]

    def extract_payload(self, destination: IO[bytes]) -> None:
        """Copy the database out; a checksum mismatch (a damaged file) raises BackupUnusable."""
        try:
            with self.archive.open(self.payload) as source:
                shutil.copyfileobj(source, destination, _CHUNK)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise BackupUnusable(_damaged(self.path, exc)) from None
        destination.flush()
        os.fsync(destination.fileno())


def _damaged(path: Path, detail: object) -> str:
    return (
        f"备份文件“{path}”不完整或已损坏（{detail}），可能在复制或传输时被截断。"
        "请换用另一份备份（例如前一天的），并检查备份的复制过程。数据库未作任何修改。"
    )


def open_backup(raw: str, *, vendor: str) -> OpenedBackup:
    """Check everything about the file that can be checked without reading it all."""
    if not raw or not raw.strip():
        raise BackupUnusable("没有给出备份文件。用法：safetynet restore /var/backups/safetynet/XXX.backup")
    path = Path(raw).expanduser().absolute()
    if not path.exists():
        raise BackupUnusable(f"找不到备份文件“{path}”。请检查路径和文件名（ls -l {path.parent}）。")
    if path.is_dir():
        raise BackupUnusable(f"“{path}”是一个目录，不是备份文件。请给出由 safetynet backup 制作的文件。")
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise BackupUnusable(f"无法读取备份文件“{path}”（{exc.strerror}）。请检查文件权限。") from None
    not_ours = f"“{path}”不是 safetynet backup 制作的备份文件"
    if not head:
        raise BackupUnusable(f"备份文件“{path}”是空文件（可能是备份中途失败留下的）。请换用另一份备份。")
    if head.startswith(b"PGDMP"):
        raise BackupUnusable(
            f"{not_ours}，而是 pg_dump 直接导出的文件。请用 safetynet backup 制作的备份；"
            "只有这个文件时，可由数据库管理员用 pg_restore 手工恢复。"
        )
    if head.startswith(b"SQLite format 3\x00"):
        raise BackupUnusable(
            f"{not_ours}，而是一个 SQLite 数据库文件本身。请用 safetynet backup 制作的备份。"
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        if head.startswith(b"PK"):
            raise BackupUnusable(_damaged(path, exc)) from None
        raise BackupUnusable(f"{not_ours}。请检查文件名，换用正确的备份文件。") from None
    try:
        manifest = _read_manifest(archive, path, not_ours)
        _check_manifest(manifest, path, vendor, archive)
    except BaseException:
        archive.close()
        raise
    return OpenedBackup(path=path, manifest=manifest, archive=archive)


def _read_manifest(archive: zipfile.ZipFile, path: Path, not_ours: str) -> Manifest:
    try:
        info = archive.getinfo(MANIFEST)
    except KeyError:
        raise BackupUnusable(f"{not_ours}（其中没有 {MANIFEST}）。请换用正确的备份文件。") from None
    if info.file_size > _MANIFEST_LIMIT:
        raise BackupUnusable(f"{not_ours}（{MANIFEST} 异常）。")
    try:
        data = json.loads(archive.read(MANIFEST).decode("utf-8"))
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise BackupUnusable(_damaged(path, exc)) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BackupUnusable(f"{not_ours}（{MANIFEST} 不是有效的 JSON）。") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupUnusable(f"{not_ours}（{MANIFEST} 不是 safetynet 的备份清单）。")
    try:
        manifest = Manifest.from_dict(data)
        if not isinstance(manifest.migrations, dict) or not isinstance(manifest.samples, dict):
            raise TypeError
    except TypeError:
        raise BackupUnusable(f"备份文件“{path}”的清单不完整，无法恢复。请换用另一份备份。") from None
    return manifest


def _check_manifest(manifest: Manifest, path: Path, vendor: str, archive: zipfile.ZipFile) -> None:
    if not isinstance(manifest.format_version, int) or manifest.format_version > FORMAT_VERSION:
        raise BackupUnusable(
            f"备份文件“{path}”的格式（第 {manifest.format_version} 版）由较新的 safetynet "
            f"（{manifest.app_version}）制作。请先升级 safetynet 再恢复。"
        )
    if manifest.vendor not in PAYLOADS:
        raise BackupUnusable(f"备份文件“{path}”的数据库类型“{manifest.vendor}”无法识别。")
    if manifest.vendor != vendor:
        here = VENDOR_NAMES.get(vendor, vendor)
        there = VENDOR_NAMES[manifest.vendor]
        how = (
            "请在 DATABASE_URL 指向 PostgreSQL 的环境中恢复它"
            if manifest.vendor == "postgresql"
            else "请在使用内置 SQLite 的环境（DATABASE_URL 为空或 sqlite:///…）中恢复它"
        )
        raise BackupUnusable(
            f"备份文件“{path}”是 {there} 数据库的备份，而当前安装使用 {here}。{how}；"
            f"不同数据库之间不能直接恢复。数据库未作任何修改。"
        )
    if PAYLOADS[manifest.vendor] not in archive.namelist():
        raise BackupUnusable(_damaged(path, f"缺少 {PAYLOADS[manifest.vendor]}"))
    problem = _newer_schema_problem(manifest.applied(), manifest)
    if problem:
        raise BackupUnusable(problem)


# --- restoring ----------------------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: Manifest
    target: str
    pending: list[str]
    warnings: list[str]
    seconds: float


def restore(
    raw: str, *, replace: bool = False, ignore_checks: bool = False, alias: str = "default"
) -> RestoreResult:
    """Replace the configured database with the backup's, all or nothing; refuse a non-empty database
    unless ``replace``."""
    started = time.monotonic()
    connection = connections[alias]
    opened = open_backup(raw, vendor=connection.vendor)
    with contextlib.closing(opened.archive):
        problems = check_problems(opened.manifest.samples)
        if problems and not ignore_checks:
            raise BackupUnusable(_refused_by_checks(problems))
        if connection.vendor == "sqlite":
            applied, warnings = _sqlite_restore(
                opened, connection, replace=replace, ignore_checks=ignore_checks
            )
        else:
            applied, warnings = _postgresql_restore(opened, connection, replace=replace)
    warnings += _clear_cache()
    return RestoreResult(
        manifest=opened.manifest,
        target=str(connection.settings_dict["NAME"]),
        pending=pending_migrations(applied),
        warnings=(problems if ignore_checks else []) + warnings,
        seconds=time.monotonic() - started,
    )


def _clear_cache() -> list[str]:
    """Cached pages and indicator results describe the database before the restore."""
    try:
        caches["default"].clear()
    except Exception as exc:  # the restore itself succeeded: say what to do instead
        return [f"缓存未能清空（{exc}），请重启 Redis 或手工清空缓存，以免显示恢复前的数据。"]
    return []


def _refused_by_checks(problems: list[str]) -> str:
    return (
        "；".join(problems)
        + " 数据库未作任何修改。确需照样恢复时加 --ignore-checks（之后须配置正确的密钥）。"
    )


def _sqlite_path(connection: BaseDatabaseWrapper) -> Path:
    name = str(connection.settings_dict["NAME"])
    if connection.is_in_memory_db():
        raise BackupUnusable(
            "当前配置的 SQLite 数据库在内存中，不能恢复到它。请让 DATABASE_URL 指向数据库文件后再恢复。"
        )
    return Path(name).absolute()


def _sqlite_tables(path: Path) -> int:
    if not path.exists() or path.stat().st_size == 0:
        return 0
    try:
        database = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=10)
        try:
            return database.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchone()[0]
        finally:
            database.close()
    except sqlite3.DatabaseError as exc:
        raise BackupUnusable(
            f"当前数据库文件“{path}”无法读取（{exc}）。如要用备份替换它，请先把它移走（mv {path} {path}.broken）。"
        ) from None


def _not_empty(where: str, tables: int) -> str:
    return (
        f"数据库 {where} 中已有数据（{tables} 张表）。恢复只写入空数据库；若要用备份替换其中的全部数据，"
        "请先停止网站和后台任务进程，用 safetynet backup 备份现状，再加 --replace 重新运行。数据库未作任何修改。"
    )


def _sqlite_restore(
    opened: OpenedBackup, connection: BaseDatabaseWrapper, *, replace: bool, ignore_checks: bool
) -> tuple[set[tuple[str, str]], list[str]]:
    target = _sqlite_path(connection)
    if not target.parent.is_dir() or not os.access(target.parent, os.W_OK):
        raise BackupUnusable(
            f"数据库所在目录“{target.parent}”不存在或不可写。请检查 SAFETYNET_HOME 或 DATABASE_URL。"
        )
    tables = _sqlite_tables(target)
    if tables and not replace:
        raise BackupUnusable(_not_empty(f"“{target}”", tables))
    handle = tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.restore-", delete=False)
    extracted = Path(handle.name)
    try:
        with handle:
            opened.extract_payload(handle)
        checks = discover_checks()
        applied, samples = _inspect_sqlite(extracted, checks, where=f"备份文件“{opened.path}”")
        problem = _newer_schema_problem(applied, opened.manifest)
        if problem:
            raise BackupUnusable(problem)
        problems = check_problems(samples)
        if problems and not ignore_checks:
            raise BackupUnusable(_refused_by_checks(problems))
        _copy_ownership(target, extracted)
        connections.close_all()
        _take_over(target)
        os.replace(extracted, target)
        _fsync_directory(target.parent)
    finally:
        extracted.unlink(missing_ok=True)
    return applied, []


def _copy_ownership(target: Path, extracted: Path) -> None:
    """The new file gets the old one's mode and owner (the web server may run as another user)."""
    if not target.exists():
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(extracted, 0o666 & ~umask)
        return
    status = target.stat()
    os.chmod(extracted, stat.S_IMODE(status.st_mode))
    with contextlib.suppress(OSError):
        os.chown(extracted, status.st_uid, status.st_gid)


def _take_over(target: Path) -> None:
    """Leave the old file in rollback-journal mode with no -wal/-shm beside it, or refuse while it is in use:
    a WAL file left behind would be replayed into the new database and corrupt it."""
    if not target.exists():
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        return
    try:
        database = sqlite3.connect(target, timeout=5)
        try:
            mode = database.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        finally:
            database.close()
    except sqlite3.DatabaseError:
        mode = ""
    if str(mode).lower() != "delete" or Path(f"{target}-wal").exists():
        raise BackupUnusable(
            f"数据库“{target}”正被其他进程使用。请先停止网站（gunicorn）和后台任务（worker）进程，再恢复。"
            "数据库未作任何修改。"
        )


def _postgresql_restore(
    opened: OpenedBackup, connection: BaseDatabaseWrapper, *, replace: bool
) -> tuple[set[tuple[str, str]], list[str]]:
    _connect(connection)
    server_major = connection.pg_version // 10000
    needed = max(server_major, _major(opened.manifest.tool_version))
    pg_restore = _pg_tool("pg_restore", needed)
    psql = _pg_tool("psql", server_major)
    relations, schemas = _postgresql_contents(connection)
    tables = sum(1 for kind, _, _ in relations if kind in ("r", "p"))
    if (relations or schemas) and not replace:
        raise BackupUnusable(_not_empty(f"“{connection.settings_dict['NAME']}”", tables or len(relations)))
    env = _pg_env(connection.settings_dict)
    with tempfile.TemporaryDirectory(prefix="safetynet-restore-") as work:
        dump = Path(work) / opened.payload
        with open(dump, "wb") as handle:
            opened.extract_payload(handle)
        listing = subprocess.run(
            [pg_restore.path, "--list", str(dump)], env=env, capture_output=True, text=True
        )
        if listing.returncode != 0:
            raise BackupUnusable(_damaged(opened.path, listing.stderr.strip()[-500:]))
        connections.close_all()
        _pipe_restore(
            pg_restore.path,
            psql.path,
            dump,
            env,
            _drop_statements(connection, relations, schemas),
            backup_path=opened.path,
        )
    # The planner has no statistics for the new tables until they are analysed.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT app, name FROM django_migrations")
        applied = set(cursor.fetchall())
    # The manifest's samples were checked before; these are the restored data's own (a warning at most now).
    return applied, check_problems(_postgresql_samples(connection, discover_checks()))


def _major(version_text: str) -> int:
    match = re.search(r"(\d+)(?:\.\d+)?", version_text or "")
    return int(match.group(1)) if match and "pg_dump" in (version_text or "") else 0


def _postgresql_contents(connection: BaseDatabaseWrapper) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The relations (kind, schema, name) in the database's own schemas, and the schemas besides public."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relkind, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
              AND n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%'
            ORDER BY 1, 2, 3
            """,
            [list(_PG_SYSTEM_SCHEMAS)],
        )
        relations = [(kind, schema, name) for kind, schema, name in cursor.fetchall()]
        # Functions of our own (a migration's trigger function): the dump creates them again. Kind "F", the
        # name with its argument types; functions of extensions are left to their extension.
        cursor.execute(
            """
            SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public'
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
            ORDER BY 2, 3
            """
        )
        quote = connection.ops.quote_name
        relations += [("F", schema, f"{quote(name)}({args})") for schema, name, args in cursor.fetchall()]
        cursor.execute(
            """
            SELECT nspname FROM pg_namespace
            WHERE nspname <> ALL(%s) AND nspname <> 'public'
              AND nspname NOT LIKE 'pg_toast%%' AND nspname NOT LIKE 'pg_temp%%'
            ORDER BY 1
            """,
            [list(_PG_SYSTEM_SCHEMAS)],
        )
        schemas = [row[0] for row in cursor.fetchall()]
    return relations, schemas


def _drop_statements(
    connection: BaseDatabaseWrapper, relations: list[tuple[str, str, str]], schemas: list[str]
) -> str:
    """Everything the database holds goes, inside the restore's transaction, so it ends exactly as the backup."""
    quote = connection.ops.quote_name
    keyword = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW"}
    lines = [f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE;" for schema in schemas]
    # Tables first (CASCADE takes their views, constraints and owned sequences), then what is left.
    for kinds, word in ((("r", "p", "f"), None), (("v", "m"), None), (("S",), "SEQUENCE")):
        for kind, schema, name in relations:
            if kind in kinds and schema == "public":
                lines.append(f"DROP {word or keyword[kind]} IF EXISTS {quote(schema)}.{quote(name)} CASCADE;")
    lines += [
        f"DROP FUNCTION IF EXISTS {quote(s)}.{name} CASCADE;" for kind, s, name in relations if kind == "F"
    ]
    return "\n".join(lines)


def _pipe_restore(
    pg_restore: str, psql: str, dump: Path, env: dict[str, str], drops: str, *, backup_path: Path
) -> None:
    """``pg_restore -f - | psql`` in one transaction that is committed only when pg_restore succeeded."""
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        client = subprocess.Popen(
            [psql, "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", "-f", "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=env,
        )
        reader = subprocess.Popen(
            [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--file=-", str(dump)],
            stdout=subprocess.PIPE,
            stderr=restore_errors,
            env=env,
        )
        assert client.stdin is not None and reader.stdout is not None
        sent_all = False
        try:
            # Other sessions still holding the tables make the restore fail instead of waiting for ever.
            client.stdin.write(
                f"BEGIN;\nSET lock_timeout = '15s';\nSET client_min_messages = warning;\n{drops}\n".encode()
            )
            shutil.copyfileobj(reader.stdout, client.stdin, _CHUNK)
            sent_all = True
        except BrokenPipeError:
            # psql stopped (an error, ON_ERROR_STOP): nobody reads pg_restore's output any more.
            reader.kill()
        reader.stdout.close()
        reader_code = reader.wait()
        if sent_all and reader_code == 0:
            with contextlib.suppress(BrokenPipeError):
                client.stdin.write(b"COMMIT;\n")
        # Without COMMIT, psql ends and the server rolls the transaction back.
        with contextlib.suppress(BrokenPipeError):
            client.stdin.close()
        client_code = client.wait()
        if reader_code != 0 or client_code != 0 or not sent_all:
            restore_errors.seek(0)
            psql_errors.seek(0)
            detail = (restore_errors.read() + psql_errors.read()).decode("utf-8", "replace").strip()[-2000:]
            if reader_code != 0 and re.search(r"pg_restore: error: (could not read|unexpected end)", detail):
                raise BackupUnusable(_damaged(backup_path, detail.splitlines()[0]))
            if "lock timeout" in detail:
                raise BackupUnusable(
                    "数据库正被其他进程使用。请先停止网站（gunicorn）和后台任务（worker）进程，再恢复。"
                    "数据库未作任何修改。"
                )
            raise BackupError(f"恢复失败，数据库保持恢复前的状态。详情：{detail}")
