"""服务帮扶: background work. A batch application of a whole district runs here (``safetynet db_worker``);
the page polls :func:`application_batch_status`."""

from __future__ import annotations

from django_tasks import task

from safetynet.assistance.models import BatchJob


@task()
def run_application_batch(job_id: int) -> dict[str, object]:
    from safetynet.assistance.services import application_batch_run

    job = application_batch_run(job_id=job_id)
    return {"job": job_id, "status": job.status if job else "missing", "created": job.created if job else 0}


def application_batch_status(task_id: str | int) -> BatchJob | None:
    """The batch job (status, stage, done, total, percent, created, skipped, message, finished) or None."""
    try:
        return BatchJob.objects.select_related("round", "org_unit").get(pk=int(task_id))
    except (BatchJob.DoesNotExist, ValueError, TypeError):
        return None
