"""The indicator counters take in every change the triggers noted, however many (a reader takes in at most
``REFRESH_LIMIT`` enterprises; after a big import the engine answers until this has run)."""

from __future__ import annotations

import datetime

from safetynet.core.sweep import sweep_job
from safetynet.indicators.counters import counters_refresh


@sweep_job("indicator_counters")
def refresh_indicator_counters(now: datetime.datetime) -> str:
    taken = counters_refresh(limit=None)
    return f"指标计数器：{taken or 0:,} 家企业的变化已计入"
