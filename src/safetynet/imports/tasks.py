"""The background task of an import job (run by ``safetynet db_worker``; the tests use the immediate backend)."""

from __future__ import annotations

from django_tasks import task

from safetynet.imports.services import import_job_run


@task()
def run_import_job(job_id: int) -> dict[str, object]:
    job = import_job_run(job_id=job_id)
    if job is None:
        return {"job": job_id, "status": "skipped"}
    return {"job": job.pk, "status": job.status, "rejected": job.rejected}
