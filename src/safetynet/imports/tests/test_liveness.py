"""A job whose worker died is marked interrupted (by the sweep and by its page), and can be run again.

The worker here is a real process (``sleep``) killed with SIGKILL; tests/test_faults.py kills a real
``safetynet db_worker`` in the middle of a roster import.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from safetynet.core.importing import ImportUnusable, run_import
from safetynet.imports import services
from safetynet.imports.models import ImportJob, ImportJobStatus
from safetynet.imports.services import import_job_create, process_identity, worker_state
from safetynet.imports.tests.test_jobs import enterprises_csv, good_rows
from safetynet.orgs.models import Enterprise

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/self/stat"), reason="process checks read /proc (Linux)"
)


def queued_job(officer) -> ImportJob:
    return import_job_create(
        actor=officer,
        kind="enterprises",
        upload=SimpleUploadedFile("企业.csv", enterprises_csv(*good_rows(3))),
    )


def running_as(
    job: ImportJob, pid: int | None = None, *, key: str | None = None, beat_ago: float = 0
) -> None:
    host, pid, own_key = process_identity(pid)
    beat = timezone.now() - datetime.timedelta(minutes=beat_ago)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJobStatus.RUNNING,
        started_at=beat,
        heartbeat_at=beat,
        worker_host=host,
        worker_pid=pid,
        worker_key=own_key if key is None else key,
    )
    job.refresh_from_db()


def sweep(now: datetime.datetime | None = None) -> list[tuple[str, str]]:
    from safetynet.core.sweep import run_sweep

    return run_sweep(now or timezone.now())


@pytest.fixture
def killed_process():
    """A real process to stand for the worker (``sleep``); the test kills it."""
    process = subprocess.Popen(["sleep", "60"])
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_killed_worker_is_seen_at_once_and_the_job_page_says_so(client, officer, killed_process):
    job = queued_job(officer)
    running_as(job, killed_process.pid)
    assert worker_state(job) == "alive"
    killed_process.send_signal(signal.SIGKILL)
    # Not reaped yet: a zombie is dead too.
    deadline = time.monotonic() + 5
    while worker_state(job) != "gone" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert worker_state(job) == "gone"
    killed_process.wait()
    assert worker_state(job) == "gone"

    client.force_login(officer)
    page = client.get(reverse("imports:job_detail", args=[job.pk])).content.decode()
    job.refresh_from_db()
    assert job.status == ImportJobStatus.FAILED and job.finished_at
    assert f"工作进程 {killed_process.pid} 已被终止" in job.failure and "未写入任何数据" in job.failure
    assert job.failure in page and "hx-trigger" not in page
    assert reverse("imports:job_retry", args=[job.pk]) in page and "重新导入" in page
    # The sweep finds nothing left to do.
    assert "0 个" in dict(sweep())["imports_stalled"]


def test_a_live_worker_is_never_interrupted_however_long_it_is_silent(officer):
    # SQLite keeps the heartbeat out while an import saves: a process visibly alive is left alone.
    job = queued_job(officer)
    running_as(job, beat_ago=600)
    assert worker_state(job) == "alive"
    assert "0 个" in dict(sweep())["imports_stalled"]
    job.refresh_from_db()
    assert job.status == ImportJobStatus.RUNNING


def test_a_worker_elsewhere_is_judged_by_its_heartbeat(officer, settings):
    settings.IMPORT_STALLED_MINUTES = 5
    job = queued_job(officer)
    elsewhere = "another-boot-id/pid:[4026531836]/123456"
    running_as(job, 4242, key=elsewhere, beat_ago=4)
    assert worker_state(job) == "unknown"
    assert "0 个" in dict(sweep())["imports_stalled"]

    # `safetynet sweep --now` two minutes later: the beat is six minutes old.
    later = timezone.now() + datetime.timedelta(minutes=2)
    call_command("sweep", now=later.isoformat())
    job.refresh_from_db()
    assert job.status == ImportJobStatus.FAILED
    assert "超过 5 分钟没有响应" in job.failure and "未写入任何数据" in job.failure
    assert job.finished_at == later


def test_a_job_whose_save_had_committed_is_done_not_failed(officer, killed_process):
    job = queued_job(officer)
    running_as(job, killed_process.pid)
    ImportJob.objects.filter(pk=job.pk).update(saved=True)
    job.refresh_from_db()
    killed_process.kill()
    killed_process.wait()
    assert "1 个" in dict(sweep())["imports_stalled"]
    job.refresh_from_db()
    assert job.status == ImportJobStatus.DONE and job.saved
    assert "数据已全部写入数据库" in job.summary and not job.failure


def test_a_save_is_undone_when_the_job_was_declared_interrupted_meanwhile(officer, tmp_path):
    job = queued_job(officer)
    running_as(job)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJobStatus.FAILED)
    path = tmp_path / "e.csv"
    path.write_bytes(enterprises_csv(*good_rows(2)))
    with pytest.raises(ImportUnusable, match="本次保存已撤销"):
        run_import(
            "enterprises",
            path,
            actor=officer,
            before_commit=lambda: services._confirm_still_running(job.pk),
        )
    assert not Enterprise.objects.filter(name__startswith="导入企业").exists()


def test_a_running_import_confirms_and_marks_saved_in_its_transaction(officer):
    job = queued_job(officer)
    assert services.import_job_run(job_id=job.pk).status == ImportJobStatus.DONE
    job.refresh_from_db()
    host, pid, key = process_identity()
    assert (job.worker_host, job.worker_pid, job.worker_key) == (host, pid, key) and key
    assert job.saved


def test_retry_runs_the_stored_file_again(client, officer, django_capture_on_commit_callbacks):
    job = queued_job(officer)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJobStatus.FAILED, failure="中断")
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:job_retry", args=[job.pk]))
    again = ImportJob.objects.exclude(pk=job.pk).get()
    assert response.status_code == 302 and response.url == reverse("imports:job_detail", args=[again.pk])
    assert again.status == ImportJobStatus.DONE and again.created == 3
    assert (again.original_name, again.kind, again.actor) == ("企业.csv", "enterprises", officer)
    assert Enterprise.objects.filter(name__startswith="导入企业").count() == 3
    # A job still running cannot be run again.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJobStatus.RUNNING)
    response = client.post(reverse("imports:job_retry", args=[job.pk]), follow=True)
    assert "该导入尚未结束" in response.content.decode()


def test_a_viewer_cannot_retry(client, city, make_staff, officer):
    job = queued_job(officer)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJobStatus.FAILED)
    client.force_login(make_staff("zs_viewer", city.zhongshan, "viewer"))
    assert client.post(reverse("imports:job_retry", args=[job.pk])).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_beats_while_the_job_runs(officer, monkeypatch):
    monkeypatch.setattr(services, "HEARTBEAT_SECONDS", 0.05)
    job = queued_job(officer)
    running_as(job, beat_ago=60)
    before = job.heartbeat_at
    heartbeat = services.Heartbeat(job.pk)
    heartbeat.start()
    try:
        deadline = time.monotonic() + 10
        while ImportJob.objects.get(pk=job.pk).heartbeat_at == before and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        heartbeat.stop()
    assert ImportJob.objects.get(pk=job.pk).heartbeat_at > before
    assert not any(t.name == f"import-heartbeat-{job.pk}" for t in threading.enumerate())
