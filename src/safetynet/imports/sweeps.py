"""Import jobs whose background worker died mid-run are marked interrupted, so nobody waits for them forever."""

from __future__ import annotations

import datetime

from safetynet.core.sweep import sweep_job
from safetynet.imports.services import import_job_interrupt_dead


@sweep_job("imports_stalled")
def interrupt_dead_imports(now: datetime.datetime) -> str:
    count = import_job_interrupt_dead(now=now)
    return f"中断的导入任务：{count} 个已标记为中断"
