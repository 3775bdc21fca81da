"""Import jobs: create one from an upload (the file is kept, the run is queued after commit) and run it.

The run itself is ``core.importing.run_import`` with the uploader's scope and capabilities; this module adds
what the web needs around it: the stored file, a progress figure the page can poll, the counts, the first
errors and the error XLSX.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
import tempfile
import threading
import time
from functools import partial
from pathlib import Path, PurePath
from typing import Any

from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, connections, transaction
from django.utils import timezone

from safetynet.core.errors import NotAllowed, ServiceError
from safetynet.core.importing import (
    ImportResult,
    ImportUnusable,
    autodiscover,
    get_importer,
    known_kinds,
    max_file_bytes,
    size_problem,
    xlsx_problem,
)
from safetynet.core.services import audit_created
from safetynet.imports.models import ERRORS_SHOWN, ImportJob, ImportJobStatus, stalled_after

logger = logging.getLogger(__name__)

ALLOWED_EXTENSIONS = (".csv", ".xlsx")
JOB_AUDIT_FIELDS = ("kind_label", "original_name", "size", "dry_run", "keep_valid")
# The progress row is written at most this often (seconds), so a fast import is not slowed by it.
PROGRESS_INTERVAL = 1.0


def importable_kinds(user: Any) -> dict[str, str]:
    """Kind → Chinese label, for the kinds this user's role may import."""
    autodiscover()
    allowed: dict[str, str] = {}
    for kind, label in known_kinds().items():
        importer = get_importer(kind)
        if all(user.can(capability) for capability in ("import", *importer.capabilities)):
            allowed[kind] = label
    return allowed


def upload_problem(upload: UploadedFile | None) -> str | None:
    """What is wrong with an uploaded file before it is even stored (Chinese), or None."""
    if upload is None:
        return "请选择要上传的文件。"
    name = upload.name or ""
    suffix = PurePath(name).suffix.lower()
    if suffix == ".xls":
        return (
            f"文件“{name}”是旧版 Excel 97-2003（.xls）文件，请在 Excel 中“另存为”Excel 工作簿（.xlsx）"
            "或 CSV UTF-8 后再上传。"
        )
    if suffix not in ALLOWED_EXTENSIONS:
        return f"文件“{name}”不是 CSV 或 XLSX 文件，只能上传扩展名为 .csv 或 .xlsx 的文件。"
    if not upload.size:
        return f"文件“{name}”是空的（0 字节），请检查是否选错了文件。"
    problem = size_problem(name, upload.size)
    if problem:
        return problem
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if suffix == ".xlsx" and not head.startswith(b"PK\x03\x04"):
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            return (
                f"文件“{name}”实际上是旧版 Excel 97-2003（.xls）文件，请在 Excel 中“另存为”.xlsx 后再上传。"
            )
        return f"文件“{name}”的扩展名是 .xlsx，但内容不是 Excel 表格，请用 Excel 重新保存后再上传。"
    if head.startswith(b"PK\x03\x04"):
        # The zip's directory and the head of each part now; the run unpacks all of it before parsing.
        return xlsx_problem(upload, name, thorough=False)
    return None


def max_upload_mb() -> int:
    return max_file_bytes() // (1024 * 1024)


def import_job_create(
    *, actor: Any, kind: str, upload: UploadedFile, dry_run: bool = False, keep_valid: bool = False
) -> ImportJob:
    """Store the upload as a job of the actor's unit; the background run starts once this commits."""
    autodiscover()
    if kind not in known_kinds():
        listed = "、".join(known_kinds().values())
        raise ServiceError("unknown_kind", f"请选择导入类型（{listed}）。", field="kind")
    importer = get_importer(kind)
    missing = [c for c in ("import", *importer.capabilities) if not actor.can(c)]
    if missing:
        raise NotAllowed(f"您的角色无权导入{importer.label}。")
    if actor.org_unit_id is None and not actor.is_superuser:
        raise NotAllowed("您的账号没有所属单位，不能导入。")
    problem = upload_problem(upload)
    if problem:
        raise ServiceError("bad_file", problem, field="upload")
    with transaction.atomic():
        job = ImportJob(
            kind=kind,
            kind_label=importer.label,
            original_name=(upload.name or "")[:255],
            size=upload.size or 0,
            actor=actor,
            org_unit_id=actor.org_unit_id,
            dry_run=dry_run,
            keep_valid=keep_valid,
        )
        job.source.save(upload.name or f"upload{PurePath(upload.name or '').suffix}", upload, save=False)
        job.save()
        audit_created(
            actor=actor,
            instance=job,
            fields=JOB_AUDIT_FIELDS,
            unit_path=actor.org_unit.path if actor.org_unit_id else "",
        )
        transaction.on_commit(partial(_enqueue, job.pk))
    return job


def _enqueue(job_pk: int) -> None:
    from safetynet.imports.tasks import run_import_job

    result = run_import_job.enqueue(job_pk)
    # The immediate backend (tests) has already run the job by now; only the id is left to keep.
    ImportJob.objects.filter(pk=job_pk).update(task_id=str(result.id)[:64])


# --- running ------------------------------------------------------------------------------------


def estimate_rows(path: Path) -> int | None:
    """About how many data rows the file has, cheaply: lines of a CSV, the declared size of an XLSX sheet."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
            if head.startswith(b"PK\x03\x04"):
                if xlsx_problem(path, path.name, thorough=False):
                    return None  # the run refuses the file, with the reason
                from openpyxl import load_workbook

                workbook = load_workbook(path, read_only=True)
                try:
                    rows = workbook.worksheets[0].max_row
                finally:
                    workbook.close()
                return max(rows - 1, 0) if rows else None
            handle.seek(0)
            lines = 0
            last = b""
            while chunk := handle.read(1 << 20):
                lines += chunk.count(b"\n")
                last = chunk
            if last and not last.endswith(b"\n"):
                lines += 1
            return max(lines - 1, 0)
    except Exception:  # an estimate only: the run reports the real problem with the file
        return None


# Each stage of a run owns a slice of the bar: reading (and checking each row) is most of the work.
_STAGE_SPANS = {"读取": (0, 70), "核对": (70, 85), "保存": (85, 99)}
_OTHER_SPAN = (70, 99)


class ProgressWriter:
    """The ``progress`` callback of a run: a cheap UPDATE of the job, at most once a second per stage.

    While the importer saves, it is inside its own transaction: an UPDATE through the same connection
    would only be seen at the end. On PostgreSQL a second connection writes it instead; SQLite allows one
    writer at a time, so there the page shows the last figure until the save is done.
    """

    def __init__(self, job: ImportJob) -> None:
        self.job_pk = job.pk
        self.estimate = job.rows_total
        self.depth = len(connection.atomic_blocks)
        self.stage = ""
        self.percent = 0
        self.last_write = 0.0
        self.side: Any = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished_stage = total is not None and done >= total
        if stage == self.stage and now - self.last_write < PROGRESS_INTERVAL and not finished_stage:
            return
        self.stage = stage
        self.last_write = now
        start, end = _STAGE_SPANS.get(stage, _OTHER_SPAN)
        whole = total if total else self.estimate
        if whole:
            fraction = min(done / whole, 1.0 if total else 0.99)
            percent = start + int((end - start) * fraction)
        else:
            percent = start
        self.percent = max(self.percent, percent)
        self.write(stage=stage, rows_done=done, rows_total=whole, percent=self.percent)

    def write(self, **values: Any) -> None:
        values["heartbeat_at"] = timezone.now()
        if len(connection.atomic_blocks) <= self.depth:
            ImportJob.objects.filter(pk=self.job_pk).update(**values)
            return
        if connection.vendor == "sqlite":
            return
        try:
            if self.side is None:
                wrapper = connections[connection.alias]  # the wrapper itself, not the proxy
                self.side = type(wrapper)(wrapper.settings_dict, alias=wrapper.alias)
            table = connection.ops.quote_name(ImportJob._meta.db_table)
            names = list(values)
            assignments = ", ".join(f"{connection.ops.quote_name(n)} = %s" for n in names)
            with self.side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET {assignments} WHERE id = %s",
                    [values[n] for n in names] + [self.job_pk],
                )
        except Exception:  # progress is a courtesy: never let it break the import
            logger.warning("Could not write the progress of import job %s", self.job_pk, exc_info=True)

    def close(self) -> None:
        if self.side is not None:
            try:
                self.side.close()
            except Exception:
                logger.warning(
                    "Could not close the progress connection of job %s", self.job_pk, exc_info=True
                )
            self.side = None


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job to its end (done or failed). Runs only once: a job that left the queue is left alone.

    The job records which process runs it and a heartbeat from a thread of its own, so that a worker
    killed mid-run is noticed (:func:`import_job_interrupt_dead`); the import saves in one transaction,
    which first confirms that the job is still this run's (see :func:`_confirm_still_running`).
    """
    host, pid, key = process_identity()
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJobStatus.QUEUED).update(
        status=ImportJobStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        stage="读取",
        worker_host=host,
        worker_pid=pid,
        worker_key=key,
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("actor__org_unit").get(pk=job_id)
    if job.actor is None:
        return _fail(job, "上传此文件的人员账号已被删除，导入未执行。请重新上传。")
    path = Path(job.source.path)
    job.rows_total = estimate_rows(path)
    ImportJob.objects.filter(pk=job.pk).update(rows_total=job.rows_total)
    progress = ProgressWriter(job)
    heartbeat = Heartbeat(job.pk)
    heartbeat.start()
    try:
        result = _run(job, path, progress)
        progress.close()
        return _finish(job, result, progress)
    except ImportUnusable as exc:
        return _fail(job, exc.message)
    except Exception as exc:
        _fail(
            job, f"导入时发生系统错误（{type(exc).__name__}），数据库未作修改。请稍后重试，或联系系统管理员。"
        )
        raise
    finally:
        heartbeat.stop()
        progress.close()


ABANDONED_MESSAGE = (
    "该导入在保存时已被标记为中断（后台任务长时间没有响应），为避免与重新提交的导入重复，本次保存已撤销，"
    "数据库未作修改。请点击“重新导入”再次提交。"
)


def _confirm_still_running(job_pk: int) -> None:
    """Inside the import's transaction, just before it commits: the job row is updated (and so locked)
    with ``saved`` — it commits with the data or not at all. A job the sweep has meanwhile declared
    interrupted is not this run's any more: the save is undone."""
    confirmed = ImportJob.objects.filter(pk=job_pk, status=ImportJobStatus.RUNNING).update(
        saved=True, heartbeat_at=timezone.now()
    )
    if not confirmed:
        raise ImportUnusable(ABANDONED_MESSAGE)


def _run(job: ImportJob, path: Path, progress: ProgressWriter) -> ImportResult:
    from safetynet.core.importing import run_import

    return run_import(
        job.kind,
        path,
        actor=job.actor,
        dry_run=job.dry_run,
        keep_valid=job.keep_valid,
        progress=progress,
        before_commit=partial(_confirm_still_running, job.pk),
    )


def _finish(job: ImportJob, result: ImportResult, progress: ProgressWriter) -> ImportJob:
    if result.errors:
        progress.write(stage="生成错误文件", percent=99)
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "errors.xlsx"
            result.write_error_file(target)
            with target.open("rb") as handle:
                job.error_file.save("errors.xlsx", File(handle), save=False)
    job.rows = result.rows
    job.created = result.created
    job.updated = result.updated
    job.unchanged = result.unchanged
    job.rejected = result.rejected
    job.error_count = len(result.errors)
    job.saved = result.saved
    job.summary = _web_summary(result)
    job.notes = list(result.notes)
    job.errors = [
        {"row": e.row, "column": e.column, "message": e.message} for e in result.errors[:ERRORS_SHOWN]
    ]
    job.status = ImportJobStatus.DONE
    job.stage = ""
    job.percent = 100
    job.rows_done = result.rows
    job.finished_at = job.heartbeat_at = timezone.now()
    job.save()
    return job


def _web_summary(result: ImportResult) -> str:
    # The command's summary mentions its --keep-valid switch; on the page the option has a Chinese name.
    return result.summary().replace("加 --keep-valid 只导入正确的行", "勾选“保留有效行”只导入正确的行")


def _fail(job: ImportJob, message: str) -> ImportJob:
    job.status = ImportJobStatus.FAILED
    job.failure = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "failure", "finished_at"])
    return job


# --- workers that died ------------------------------------------------------------------------
#
# A worker killed mid-run (kill -9, out of memory, a restart) leaves its job "running". The import saves in
# one transaction, so the database holds nothing of it; what is left is to tell the person. The job records
# its process (host, pid, and a key that makes the pid comparable: the kernel boot, the pid namespace and
# the process's start time) and a heartbeat every HEARTBEAT_SECONDS. The sweep and the job page then call a
# running job interrupted when
# - its process is visibly gone (same machine and namespace: no such pid, a zombie, or a newer process
#   with the same pid) — at once; or
# - its process cannot be checked from here (another machine or container) and its heartbeat is older
#   than IMPORT_STALLED_MINUTES.
# A process that is visibly alive is never interrupted: on SQLite the heartbeat cannot be written while
# the import saves (one writer at a time), however long that takes.

HEARTBEAT_SECONDS = 30.0

INTERRUPTED_GONE = (
    "后台任务在导入过程中中断（{host} 上的工作进程 {pid} 已被终止），数据库未写入任何数据。"
    "请点击“重新导入”再次提交（无需重新上传文件）。"
)
INTERRUPTED_SILENT = (
    "后台任务在导入过程中中断（工作进程自 {since} 起超过 {minutes} 分钟没有响应，可能已被终止或服务器已重启），"
    "数据库未写入任何数据。请点击“重新导入”再次提交（无需重新上传文件）。"
)
INTERRUPTED_AFTER_SAVING = (
    "数据已全部写入数据库，但后台任务随后中断，未能生成结果统计（新增、更新条数和错误行文件）。无需重新导入；"
    "如需核对，请在相关名录或变更记录中查看。"
)


def _machine() -> str:
    """This kernel boot and pid namespace: process ids are comparable only within them ("" off Linux)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    return f"{boot}/{namespace}"


def _process_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks) of a process from /proc/<pid>/stat (proc(5)); None when none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = text.rpartition(")")[2].split()  # after the command name, which may hold spaces
    if len(fields) < 20:
        return None
    return fields[0], fields[19]


def process_identity(pid: int | None = None) -> tuple[str, int, str]:
    """(host name, pid, key) of this process (or of process ``pid`` here), as a job records its worker."""
    pid = os.getpid() if pid is None else pid
    machine = _machine()
    stat = _process_stat(pid) if machine else None
    key = f"{machine}/{stat[1]}" if stat else ""
    return socket.gethostname()[:100], pid, key[:120]


def worker_state(job: ImportJob) -> str:
    """``gone``, ``alive`` or ``unknown`` (another machine or container, or no /proc to look in)."""
    machine, _, started = job.worker_key.rpartition("/")
    if not machine or job.worker_pid is None or machine != _machine():
        return "unknown"
    stat = _process_stat(job.worker_pid)
    if stat is None or stat[0] in ("Z", "X") or stat[1] != started:
        return "gone"
    return "alive"


class Heartbeat:
    """Marks the running job alive every ``HEARTBEAT_SECONDS``, from a thread with its own connection, so
    the beat goes on while the import is busy in one long step."""

    def __init__(self, job_pk: int) -> None:
        self.job_pk = job_pk
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"import-heartbeat-{job_pk}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                try:
                    ImportJob.objects.filter(pk=self.job_pk, status=ImportJobStatus.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception:  # SQLite while the import saves: "database is locked"; next time then
                    logger.debug("Heartbeat of import job %s not written", self.job_pk, exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only


def _interrupt_if_dead(job: ImportJob, now: datetime.datetime) -> bool:
    """Mark a running job whose worker is dead (see above) as interrupted; whether it was."""
    state = worker_state(job)
    if state == "alive":
        return False
    jobs = ImportJob.objects.filter(pk=job.pk, status=ImportJobStatus.RUNNING)
    if state == "gone":
        message = INTERRUPTED_GONE.format(host=job.worker_host or "—", pid=job.worker_pid)
    else:
        last = job.heartbeat_at or job.started_at
        if last is None or last >= now - stalled_after():
            return False
        # Only if no beat came meanwhile.
        jobs = jobs.filter(heartbeat_at=job.heartbeat_at)
        since = timezone.localtime(last).strftime("%Y-%m-%d %H:%M:%S")
        message = INTERRUPTED_SILENT.format(since=since, minutes=int(stalled_after().total_seconds() // 60))
    if job.saved:
        # The save had committed (``saved`` is written in its transaction): only the counts are missing.
        changed = jobs.update(
            status=ImportJobStatus.DONE,
            summary=INTERRUPTED_AFTER_SAVING,
            finished_at=now,
            stage="",
            percent=100,
        )
    else:
        changed = jobs.update(status=ImportJobStatus.FAILED, failure=message, finished_at=now)
    if changed:
        logger.warning("Import job %s interrupted: %s", job.pk, message)
    return bool(changed)


def import_job_interrupt_dead(*, now: datetime.datetime) -> int:
    """Every running job whose worker is dead is marked interrupted (failed, or done when its save had
    committed); returns how many. Run by ``safetynet sweep``; idempotent."""
    return sum(
        _interrupt_if_dead(job, now) for job in ImportJob.objects.filter(status=ImportJobStatus.RUNNING)
    )


def import_job_refresh(*, job: ImportJob, now: datetime.datetime | None = None) -> ImportJob:
    """The job as the page shows it: a running job whose worker is dead is marked so first."""
    if job.status == ImportJobStatus.RUNNING and _interrupt_if_dead(job, now or timezone.now()):
        job.refresh_from_db()
    return job


def import_job_retry(*, actor: Any, job: ImportJob) -> ImportJob:
    """Run a finished job's stored file again (same kind and options) as a new job of the actor."""
    if not job.is_finished:
        raise ServiceError("not_finished", "该导入尚未结束，不能重新导入。请等它结束后再试。")
    try:
        handle = job.source.open("rb")
    except (FileNotFoundError, ValueError):
        raise ServiceError("source_missing", "原上传文件已不在服务器上，请重新上传该文件。") from None
    with handle:
        upload = File(handle, name=job.original_name)
        return import_job_create(
            actor=actor, kind=job.kind, upload=upload, dry_run=job.dry_run, keep_valid=job.keep_valid
        )
