"""Work that follows every committed write, paid by the writer.

An app registers a hook with ``after_write_register`` in its ``AppConfig.ready`` (indicators: bring the
counters up to date with what the write changed, so that the next reader does not pay for it). Every service
writes its audit rows in its own transaction (``core.services``); writing them schedules the hooks with
``after_write_schedule``, to run once that transaction has committed, in the writer's own request, command or
task. A rolled-back write runs nothing. A failing hook is logged and does not undo the write (the data is
committed; the hooks' own upkeep must recover, as the counters do at the next answer).

An import schedules them with ``background=True``: they then run in a background task (``core.tasks``) once the
import has committed, so the officer's import does not wait for the upkeep of thousands of rows (a late roster
of 5,000 workers: ~0.3 s of counters on a 0.7 s import). Whatever the worker has not taken in yet, the next
reader takes in itself (the counters' triggers noted it), so every answer is still exact.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

AfterWrite = Callable[[], None]
_hooks: dict[str, AfterWrite] = {}


def after_write_register(name: str, hook: AfterWrite) -> None:
    """Run ``hook`` after every committed write (registering the same name again replaces it)."""
    _hooks[name] = hook


def after_write_schedule(*, using: str | None = None, background: bool = False) -> None:
    """Run the registered hooks once the current transaction commits (at once outside a transaction); with
    ``background``, in a background task enqueued then."""
    if not _hooks:
        return
    connection = transaction.get_connection(using)
    # Once per transaction: a service writing N audit rows must not refresh N times after its commit. The
    # pending list drops callbacks of a savepoint rolled back, so a later write in the outer block schedules
    # again. Hooks run in the writer's own call cover a background run too. (Both callbacks catch their errors
    # themselves, hence no robust=True.)
    callback = _enqueue_hooks if background else run_hooks
    if connection.in_atomic_block and any(
        func is run_hooks or func is callback for _, func, _ in connection.run_on_commit
    ):
        return
    transaction.on_commit(callback, using=using)


def _enqueue_hooks() -> None:
    from safetynet.core.tasks import after_write_hooks_run

    try:
        after_write_hooks_run.enqueue()
    except Exception:
        # The import has committed; the next reader takes in what the hooks would have done.
        logger.exception("after-write hooks could not be enqueued")


def run_hooks() -> None:
    """Every registered hook, each one's failure logged (the write they follow has committed)."""
    for name, hook in list(_hooks.items()):
        try:
            hook()
        except Exception:
            # The write has committed: a hook's failure must not turn it into an error page.
            logger.exception("after-write hook %s failed", name)
