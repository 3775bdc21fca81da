"""Background work of the ground app (Django Tasks, run by ``safetynet db_worker``)."""

from __future__ import annotations

from django_tasks import task

from safetynet.core.writes import run_hooks


@task()
def after_write_hooks_run() -> None:
    """The after-write hooks of a write that left them to the background (an import; ``core.writes``)."""
    run_hooks()
