"""Deadlines of a level: rules, calendar and working days, and the state against the deadline.

Working days follow the Chinese calendar of the ``holidays`` package: public holidays are days off, and the
weekend days the State Council turns into working days (调休, ``weekend_workdays``) count as working days.
A deadline of N days runs from the moment the case reached the level: N calendar days later to the minute,
or the N-th working day after that day at the same time of day (local time, Asia/Shanghai).
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

import holidays
from django.conf import settings
from django.db import connection
from django.utils import timezone

from safetynet.cases.models import DayKind, DeadlineRule
from safetynet.core.statements import statement_cursor

DEFAULT_DAYS = 15
DEFAULT_AT_RISK_HOURS = 48


@functools.lru_cache(maxsize=1)
def china_calendar() -> holidays.HolidayBase:
    # One instance grows its years on demand (holidays expands lazily), so it is kept for the process.
    return holidays.country_holidays("CN")


def is_working_day(day: datetime.date) -> bool:
    return china_calendar().is_working_day(day)


def add_working_days(day: datetime.date, count: int) -> datetime.date:
    """The ``count``-th working day after ``day`` (``day`` itself never counts)."""
    current = day
    remaining = count
    while remaining > 0:
        current += datetime.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


@dataclass(frozen=True)
class Period:
    days: int
    day_kind: str

    def deadline_from(self, start: datetime.datetime) -> datetime.datetime:
        if self.day_kind == DayKind.WORKING:
            local = timezone.localtime(start)
            end_day = add_working_days(local.date(), self.days)
            naive = datetime.datetime.combine(end_day, local.time().replace(tzinfo=None))
            return timezone.make_aware(naive, local.tzinfo)
        return start + datetime.timedelta(days=self.days)


@functools.cache
def rules_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(DeadlineRule._meta.get_field(name).column)
        for name in ("level", "category", "difficulty", "days", "day_kind")
    )
    return f"SELECT {columns} FROM {quote(DeadlineRule._meta.db_table)}"


class DeadlineRules:
    """Every rule loaded once (a small table), so a sweep computes thousands of deadlines without a query."""

    def __init__(self) -> None:
        # A plain statement rather than the ORM's values_list: case intake reads the rules on every call, and
        # compiling the query cost three times the CPU of running it.
        with statement_cursor() as cursor:
            cursor.execute(rules_sql())
            rows = cursor.fetchall()
        self.rules = {
            (level, category, difficulty): Period(days, day_kind)
            for level, category, difficulty, days, day_kind in rows
        }

    def period(self, level: int, category: str, difficulty: str) -> Period:
        for key in (
            (level, category, difficulty),
            (level, category, ""),
            (level, "", difficulty),
            (level, "", ""),
        ):
            if key in self.rules:
                return self.rules[key]
        return Period(DEFAULT_DAYS, DayKind.CALENDAR)

    def deadline(
        self, *, level: int, category: str, difficulty: str, start: datetime.datetime
    ) -> datetime.datetime:
        return self.period(level, category, difficulty).deadline_from(start)


def at_risk_hours() -> int:
    return int(getattr(settings, "SAFETYNET_CASE_AT_RISK_HOURS", DEFAULT_AT_RISK_HOURS))


def head_reminder_hours() -> int:
    """The level's head is reminded this many hours before the deadline (after the handler)."""
    return int(getattr(settings, "SAFETYNET_CASE_HEAD_REMINDER_HOURS", max(at_risk_hours() // 2, 1)))


ON_TRACK = "on_track"
AT_RISK = "at_risk"
BREACHED = "breached"
DEADLINE_STATE_LABELS = {ON_TRACK: "正常", AT_RISK: "临期", BREACHED: "超期"}


def deadline_state(deadline: datetime.datetime, now: datetime.datetime) -> str:
    if deadline < now:
        return BREACHED
    if deadline - now <= datetime.timedelta(hours=at_risk_hours()):
        return AT_RISK
    return ON_TRACK
