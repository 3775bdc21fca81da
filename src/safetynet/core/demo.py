"""Demo data beyond the registry: every app that has ``safetynet.<app>.demo.extend_demo(*, seed, scale)`` adds
its part (members, programmes, cases…) to the demo city once the registry is loaded. Found by discovery so
that the registry's command need not import the apps built on it."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable

from django.apps import apps


def demo_extensions(name: str = "extend_demo") -> list[tuple[str, Callable[..., dict[str, int]]]]:
    """Every app's ``demo.<name>`` in INSTALLED_APPS order."""
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("safetynet.") or config.name == "safetynet.core":
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
            continue
        extend = getattr(module, name, None)
        if extend is not None:
            found.append((config.verbose_name, extend))
    return found


def extend_demo(*, seed: int, scale: str, progress: Callable[[str], None] | None = None) -> dict[str, float]:
    """Run every app's demo extension in INSTALLED_APPS order; returns seconds per app."""
    timings: dict[str, float] = {}
    for label, extend in demo_extensions():
        started = time.perf_counter()
        counts = extend(seed=seed, scale=scale)
        timings[str(label)] = time.perf_counter() - started
        if progress is not None:
            summary = "，".join(f"{name} {count:,}" for name, count in (counts or {}).items())
            progress(f"{label}：{summary or '完成'}（{timings[str(label)]:.1f} 秒）")
    return timings


def analyze_database() -> None:
    """Fresh planner statistics for every table after the load: PostgreSQL's autovacuum would get there
    later, SQLite never does (without them its planner joined the city's enterprise statement the wrong
    way round and took minutes). SQLite analyses from a sample, which takes seconds."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit = 1000")
        cursor.execute("ANALYZE")


def finish_demo(*, scale: str, progress: Callable[[str], None] | None = None) -> None:
    """Every app's ``demo.finish_demo()``, after all extensions and fresh statistics (derived data built from
    the whole demo, such as the indicator counters)."""
    for label, finish in demo_extensions("finish_demo"):
        started = time.perf_counter()
        counts = finish(scale=scale)
        if progress is not None:
            summary = "，".join(f"{name} {count:,}" for name, count in (counts or {}).items())
            progress(f"{label}：{summary or '完成'}（{time.perf_counter() - started:.1f} 秒）")
