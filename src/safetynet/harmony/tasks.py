"""和谐劳动关系评价: background work (run by ``safetynet db_worker``; tests use the immediate backend)."""

from __future__ import annotations

from django_tasks import task

from safetynet.harmony.services import run_execute


@task()
def compute_index(run_id: int) -> dict[str, object]:
    run = run_execute(run_id=run_id)
    return {"run": run.pk, "status": run.status, "scored": run.scored, "seconds": run.seconds}
