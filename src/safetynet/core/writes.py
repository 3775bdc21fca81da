"""Work that follows every committed write, paid by the writer.

An app registers a hook with ``after_write_register`` in its ``AppConfig.ready`` (indicators: bring the
counters up to date with what the write changed, so that the next reader does not pay for it). Every service
writes its audit rows in its own transaction (``core.services``); writing them schedules the hooks with
``after_write_schedule``, to run once that transaction has committed, in the writer's own request, command or
task. A rolled-back write runs nothing. A failing hook is logged and does not undo the write (the data is
committed; the hooks' own upkeep must recover, as the counters do at the next answer).
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


def after_write_schedule(*, using: str | None = None) -> None:
    """Run the registered hooks once the current transaction commits (at once outside a transaction)."""
    if not _hooks:
        return
    connection = transaction.get_connection(using)
    # Once per transaction: a service writing N audit rows must not refresh N times after its commit. The
    # pending list drops callbacks of a savepoint rolled back, so a later write in the outer block schedules
    # again. (_run_hooks catches every hook's error itself, hence no robust=True.)
    if connection.in_atomic_block and any(func is _run_hooks for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_run_hooks, using=using)


def _run_hooks() -> None:
    for name, hook in list(_hooks.items()):
        try:
            hook()
        except Exception:
            # The write has committed: a hook's failure must not turn it into an error page.
            logger.exception("after-write hook %s failed", name)
