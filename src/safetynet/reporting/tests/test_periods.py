"""Periods: parsing what people write, the wrong kind refused, bounds and due dates in Beijing time."""

from __future__ import annotations

import datetime

import pytest

from safetynet.reporting import periods
from safetynet.reporting.periods import Period, parse_period, parse_period_of_kind

D = datetime.date


@pytest.mark.parametrize(
    "text, code",
    [
        ("2012-05", "2012-05"),
        ("2012-5", "2012-05"),
        ("２０１２－０５", "2012-05"),
        ("2012年5月", "2012-05"),
        ("201205", "2012-05"),
        ("2012Q2", "2012Q2"),
        ("2012q2", "2012Q2"),
        ("2012年第二季度", "2012Q2"),
        ("2012", "2012"),
        ("2012年", "2012"),
    ],
)
def test_parse(text, code):
    assert parse_period(text).code == code


@pytest.mark.parametrize("text", ["", "2012-13", "2012Q5", "12-05", "二〇一二年", "2012-05-01"])
def test_parse_refuses(text):
    with pytest.raises(ValueError):
        parse_period(text)


def test_wrong_kind_names_the_right_form():
    with pytest.raises(ValueError) as error:
        parse_period_of_kind("2012Q2", "month")
    assert "按月报送" in str(error.value) and "2012-05" in str(error.value)
    assert parse_period_of_kind("2012-05", "month").code == "2012-05"


def test_bounds_and_due_dates():
    may = Period("month", 2012, 5)
    assert (may.start, may.end, may.last_day) == (D(2012, 5, 1), D(2012, 6, 1), D(2012, 5, 31))
    assert may.due_date(5) == D(2012, 6, 5)
    december = Period("month", 2012, 12)
    assert december.end == D(2013, 1, 1) and december.due_date(28) == D(2013, 1, 28)
    q4 = Period("quarter", 2012, 4)
    assert (q4.start, q4.end, q4.due_date(15)) == (D(2012, 10, 1), D(2013, 1, 1), D(2013, 1, 15))
    year = Period("year", 2012)
    assert (year.start, year.end, year.due_date(31 - 3)) == (D(2012, 1, 1), D(2013, 1, 1), D(2013, 1, 28))
    assert Period("quarter", 2012, 1).previous() == Period("quarter", 2011, 4)
    assert periods.latest_ended(D(2012, 6, 3), "month") == may
    assert periods.latest_ended(D(2012, 7, 1), "quarter") == Period("quarter", 2012, 2)


def test_the_due_day_lasts_until_midnight_beijing_time():
    end = periods.end_of_day(D(2012, 6, 5))
    assert end == datetime.datetime(2012, 6, 6, tzinfo=periods.BEIJING)
    assert end.astimezone(datetime.UTC) == datetime.datetime(2012, 6, 5, 16, 0, tzinfo=datetime.UTC)
