"""Import jobs whose background worker stopped mid-run are failed, so nobody waits for them forever."""

from __future__ import annotations

import datetime

from safetynet.core.sweep import sweep_job
from safetynet.imports.services import import_job_fail_stalled


@sweep_job("imports_stalled")
def fail_stalled_imports(now: datetime.datetime) -> str:
    count = import_job_fail_stalled(now=now)
    return f"中断的导入任务：{count} 个标记为未能导入"
