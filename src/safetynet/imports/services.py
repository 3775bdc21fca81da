"""Import jobs: create one from an upload (the file is kept, the run is queued after commit) and run it.

The run itself is ``core.importing.run_import`` with the uploader's scope and capabilities; this module adds
what the web needs around it: the stored file, a progress figure the page can poll, the counts, the first
errors and the error XLSX.
"""

from __future__ import annotations

import datetime
import logging
import tempfile
import time
from functools import partial
from pathlib import Path, PurePath
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, connections, transaction
from django.utils import timezone

from safetynet.core.errors import NotAllowed, ServiceError
from safetynet.core.importing import ImportResult, ImportUnusable, autodiscover, get_importer, known_kinds
from safetynet.core.services import audit_created
from safetynet.imports.models import ERRORS_SHOWN, STALLED_AFTER, ImportJob, ImportJobStatus

logger = logging.getLogger(__name__)

# A million-row roster as CSV is about 130 MB; a little room above that, and no more.
MAX_UPLOAD_MB: int = getattr(settings, "IMPORT_MAX_UPLOAD_MB", 200)
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
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
    if upload.size > MAX_UPLOAD_BYTES:
        return (
            f"文件“{name}”有 {upload.size / 1024 / 1024:.1f} MB，超过了 {MAX_UPLOAD_MB} MB 的上限。"
            "请把数据分成几个文件分别导入。"
        )
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if suffix == ".xlsx" and not head.startswith(b"PK\x03\x04"):
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            return (
                f"文件“{name}”实际上是旧版 Excel 97-2003（.xls）文件，请在 Excel 中“另存为”.xlsx 后再上传。"
            )
        return f"文件“{name}”的扩展名是 .xlsx，但内容不是 Excel 表格，请用 Excel 重新保存后再上传。"
    return None


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
    """Run a queued job to its end (done or failed). Runs only once: a job that left the queue is left alone."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJobStatus.QUEUED).update(
        status=ImportJobStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(), stage="读取"
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
        progress.close()


def _run(job: ImportJob, path: Path, progress: ProgressWriter) -> ImportResult:
    from safetynet.core.importing import run_import

    return run_import(
        job.kind,
        path,
        actor=job.actor,
        dry_run=job.dry_run,
        keep_valid=job.keep_valid,
        progress=progress,
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


STALLED_MESSAGE = (
    "后台导入任务中断了（超过 {minutes} 分钟没有进展，可能是服务重启）。导入在一个事务中写入，中断时不会留下"
    "一半的数据。请重新上传该文件。"
)


def import_job_fail_stalled(*, now: datetime.datetime) -> int:
    """Running jobs whose worker went silent (stopped, restarted) are marked failed; returns how many."""
    cutoff = now - STALLED_AFTER
    message = STALLED_MESSAGE.format(minutes=int(STALLED_AFTER.total_seconds() // 60))
    return ImportJob.objects.filter(status=ImportJobStatus.RUNNING, heartbeat_at__lt=cutoff).update(
        status=ImportJobStatus.FAILED, failure=message, finished_at=now
    )
