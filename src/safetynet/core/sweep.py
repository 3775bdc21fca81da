"""Periodic work, run by `safetynet sweep [--now T]` from cron or a systemd timer.

Apps declare their jobs in a ``sweeps`` module with ``@sweep_job("name")``; a job receives the moment
to act for and returns a one-line summary. Jobs must be idempotent: running the sweep twice for the
same moment does nothing the second time.
"""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Callable

from django.apps import apps

SweepJob = Callable[[datetime.datetime], str]
_jobs: dict[str, SweepJob] = {}


def sweep_job(name: str) -> Callable[[SweepJob], SweepJob]:
    def register(func: SweepJob) -> SweepJob:
        _jobs[name] = func
        return func

    return register


def discover_jobs() -> dict[str, SweepJob]:
    for config in apps.get_app_configs():
        if config.name.startswith("safetynet."):
            try:
                importlib.import_module(f"{config.name}.sweeps")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.sweeps":
                    raise
    return dict(sorted(_jobs.items()))


def run_sweep(now: datetime.datetime) -> list[tuple[str, str]]:
    return [(name, job(now)) for name, job in discover_jobs().items()]
