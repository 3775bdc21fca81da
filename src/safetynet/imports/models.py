"""Import jobs: one uploaded file of one kind, run in the background, with its progress and result."""

from __future__ import annotations

import datetime
import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils import timezone

from safetynet.core.scope import ScopedQuerySet

# The first rejected rows kept on the job for the result page; all of them are in the error file.
ERRORS_SHOWN = 50


def stalled_after() -> datetime.timedelta:
    """How long a running job may go without a heartbeat before its worker is taken for gone (a setting).

    The worker beats every 30 seconds from a thread of its own, whatever the import is doing; only SQLite,
    which lets one writer at a time, keeps the beat out while the import saves (see services).
    """
    return datetime.timedelta(minutes=int(getattr(settings, "IMPORT_STALLED_MINUTES", 5)))


def _upload_path(job: ImportJob, filename: str) -> str:
    # A neutral stored name: the person's file name (kept in ``original_name``) may hold anything.
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"imports/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}{suffix}"


def _error_file_path(job: ImportJob, filename: str) -> str:
    return f"imports/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}-errors.xlsx"


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "正在导入"
    DONE = "done", "已完成"
    FAILED = "failed", "未能导入"


class ImportJobQuerySet(ScopedQuerySet):
    pass


class ImportJob(models.Model):
    # Jobs belong to the unit of the person who uploaded them: the unit and everything above see them.
    SCOPE_PATH = "org_unit__path"

    kind = models.CharField("导入类型", max_length=30)
    kind_label = models.CharField("类型名称", max_length=50)
    source = models.FileField("上传的文件", upload_to=_upload_path, max_length=200)
    original_name = models.CharField("原文件名", max_length=255)
    size = models.BigIntegerField("文件大小（字节）", default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_jobs",
    )
    org_unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name="所属单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="import_jobs",
    )
    dry_run = models.BooleanField("仅校验不写入", default=False)
    keep_valid = models.BooleanField("保留有效行", default=False)

    status = models.CharField(
        "状态", max_length=10, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED
    )
    task_id = models.CharField("后台任务编号", max_length=64, blank=True)
    stage = models.CharField("当前步骤", max_length=20, blank=True)
    rows_done = models.PositiveIntegerField("已处理行数", default=0)
    rows_total = models.PositiveIntegerField("总行数（估计）", null=True, blank=True)
    percent = models.PositiveSmallIntegerField("进度（%）", default=0)

    rows = models.PositiveIntegerField("数据行数", default=0)
    created = models.PositiveIntegerField("新增", default=0)
    updated = models.PositiveIntegerField("更新", default=0)
    unchanged = models.PositiveIntegerField("未变", default=0)
    rejected = models.PositiveIntegerField("有错误的行", default=0)
    error_count = models.PositiveIntegerField("错误条数", default=0)
    saved = models.BooleanField("已写入数据库", default=False)
    summary = models.TextField("结果摘要", blank=True)
    notes = models.JSONField("提示", default=list, blank=True)
    errors = models.JSONField("前若干条错误", default=list, blank=True)
    error_file = models.FileField("错误行文件", upload_to=_error_file_path, max_length=200, blank=True)
    failure = models.TextField("失败原因", blank=True)

    created_at = models.DateTimeField("上传时间", default=timezone.now)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField("最近进展时间", null=True, blank=True)
    # The process that runs the job: the sweep and the job page tell from these whether it still lives.
    worker_host = models.CharField("后台进程所在主机", max_length=100, blank=True)
    worker_pid = models.PositiveIntegerField("后台进程号", null=True, blank=True)
    worker_key = models.CharField("后台进程标识", max_length=120, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = "导入任务"
        verbose_name_plural = "导入任务"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["org_unit", "-created_at"], name="imports_job_unit_created")]

    def __str__(self) -> str:
        return f"{self.kind_label}导入 #{self.pk}（{self.original_name}）"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportJobStatus.DONE, ImportJobStatus.FAILED)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def outcome_badge(self) -> str:
        """The badge colour of the list and the result: green all good, amber rows rejected, red failed."""
        if self.status == ImportJobStatus.FAILED:
            return "badge-red"
        if self.status != ImportJobStatus.DONE:
            return "badge-blue"
        if self.rejected:
            return "badge-amber"
        return "badge-green"
