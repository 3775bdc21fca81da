"""Report periods (报告期): a month "2012-05", a quarter "2012Q2" or a year "2012", in Beijing time.

A period runs from its first day up to the first day of the next (INTERFACES.md). Its due date is day
``due_day`` of the month after it; a report is timely when first made on or before that date, the whole day
in Beijing time, so the moment that matters is the start of the next day there.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from safetynet.core.normalize import clean_text

BEIJING = ZoneInfo("Asia/Shanghai")

MONTH = "month"
QUARTER = "quarter"
YEAR = "year"
KIND_LABELS = {MONTH: "月", QUARTER: "季", YEAR: "年"}
KIND_NAMES = {MONTH: "月报", QUARTER: "季报", YEAR: "年报"}
KIND_EXAMPLES = {MONTH: "2012-05", QUARTER: "2012Q2", YEAR: "2012"}
QUARTER_NAMES = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}

_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(份)?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
)
_QUARTER_PATTERNS = (
    re.compile(r"^(\d{4})-?Q([1-4])$"),
    re.compile(r"^(\d{4})年第?([1-4一二三四])季度?$"),
)
_YEAR_PATTERNS = (re.compile(r"^(\d{4})年?(度)?$"),)
_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}
FORMATS_HINT = "月报写成 2012-05，季报写成 2012Q2，年报写成 2012"


@dataclass(frozen=True, order=True)
class Period:
    """One period of a kind: ``number`` is the month (1–12), the quarter (1–4), or 1 for a year."""

    kind: str
    year: int
    number: int = 1

    @property
    def code(self) -> str:
        if self.kind == MONTH:
            return f"{self.year:04d}-{self.number:02d}"
        if self.kind == QUARTER:
            return f"{self.year:04d}Q{self.number}"
        return f"{self.year:04d}"

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return f"{self.year}年{self.number}月"
        if self.kind == QUARTER:
            return f"{self.year}年{QUARTER_NAMES[self.number]}"
        return f"{self.year}年度"

    @property
    def start(self) -> datetime.date:
        if self.kind == MONTH:
            return datetime.date(self.year, self.number, 1)
        if self.kind == QUARTER:
            return datetime.date(self.year, 3 * self.number - 2, 1)
        return datetime.date(self.year, 1, 1)

    @property
    def end(self) -> datetime.date:
        """The first day of the next period (the period is [start, end))."""
        return self.next().start

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)

    def next(self) -> Period:
        limit = {MONTH: 12, QUARTER: 4, YEAR: 1}[self.kind]
        if self.number < limit:
            return Period(self.kind, self.year, self.number + 1)
        return Period(self.kind, self.year + 1, 1)

    def previous(self) -> Period:
        if self.number > 1:
            return Period(self.kind, self.year, self.number - 1)
        return Period(self.kind, self.year - 1, {MONTH: 12, QUARTER: 4, YEAR: 1}[self.kind])

    def due_date(self, due_day: int) -> datetime.date:
        """Day ``due_day`` of the month after the period."""
        end = self.end
        return datetime.date(end.year, end.month, due_day)

    def __str__(self) -> str:
        return self.code


def moment(day: datetime.date) -> datetime.datetime:
    """The first instant of ``day`` in Beijing time."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=BEIJING)


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The first instant after ``day`` in Beijing time: something made "on or before day" is before it."""
    return moment(day + datetime.timedelta(days=1))


def beijing_date(instant: datetime.datetime) -> datetime.date:
    return instant.astimezone(BEIJING).date()


def parse_period(value: object) -> Period:
    """A period from what people or files write; raises ValueError with a Chinese reason."""
    text = clean_text(value).replace(" ", "").upper()
    if not text:
        raise ValueError(f"报告期不能为空（{FORMATS_HINT}）")
    for pattern in _MONTH_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month = int(match.group(1)), int(match.group(2))
            if not 1 <= month <= 12:
                raise ValueError(f"“{text}”不是有效的报告期：月份应为 1–12")
            return _checked(Period(MONTH, year, month), text)
    for pattern in _QUARTER_PATTERNS:
        match = pattern.match(text)
        if match:
            number = match.group(2)
            quarter = _CHINESE_DIGITS.get(number) or int(number)
            return _checked(Period(QUARTER, int(match.group(1)), quarter), text)
    for pattern in _YEAR_PATTERNS:
        match = pattern.match(text)
        if match:
            return _checked(Period(YEAR, int(match.group(1)), 1), text)
    raise ValueError(f"“{text}”不是可识别的报告期，{FORMATS_HINT}")


def _checked(period: Period, text: str) -> Period:
    if not 1900 <= period.year <= 2999:
        raise ValueError(f"“{text}”的年份不对")
    return period


def parse_period_of_kind(value: object, kind: str) -> Period:
    """A period that must be of ``kind`` (the form's 报送周期); the wrong kind is refused, naming the right one."""
    period = parse_period(value)
    if period.kind != kind:
        raise ValueError(
            f"“{period.code}”是{KIND_NAMES[period.kind]}的报告期，该报表按{KIND_LABELS[kind]}报送，"
            f"报告期应写成 {KIND_EXAMPLES[kind]} 这样"
        )
    return period


def period_containing(day: datetime.date, kind: str) -> Period:
    if kind == MONTH:
        return Period(MONTH, day.year, day.month)
    if kind == QUARTER:
        return Period(QUARTER, day.year, (day.month - 1) // 3 + 1)
    return Period(YEAR, day.year, 1)


def latest_ended(day: datetime.date, kind: str) -> Period:
    """The last period that has ended by ``day`` (its end is on or before it)."""
    return period_containing(day, kind).previous()
