"""The sums of a record population packed by the database (``_packed_sums``) equal ``pack`` of the same sums, on
both databases, and sums that cannot be packed are refused as ``pack`` refuses them."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from safetynet.core.metrics import Indicator
from safetynet.indicators.engine import FIELD_BITS, _packed_sums, pack, packed_from_digits


def _indicators(count: int) -> list[Indicator]:
    """``count`` indicators, each summing two quantity columns: q<2i> above, q<2i+1> below."""
    return [
        Indicator(
            code=f"i{i}",
            label=f"i{i}",
            population="test",
            numerator=(),
            denominator=(),
            numerator_sum=f"q{2 * i}",
            denominator_sum=f"q{2 * i + 1}",
        )
        for i in range(count)
    ]


def _packed_in_database(rows: list[list[int]], count: int) -> str:
    q = connection.ops.quote_name
    selects = [
        "SELECT " + ", ".join(f"{value} AS {q(f'fact_q{k}')}" for k, value in enumerate(row)) for row in rows
    ]
    sql = f"SELECT {_packed_sums(_indicators(count), 't')} FROM ({' UNION ALL '.join(selects)}) t"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


@pytest.mark.django_db
@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda count: st.lists(
            st.lists(st.integers(0, 2**40), min_size=2 * count, max_size=2 * count), min_size=1, max_size=4
        )
    )
)
def test_the_database_packs_the_sums_as_pack_does(rows):
    count = len(rows[0]) // 2
    sums = [sum(column) for column in zip(*rows, strict=True)]
    assert packed_from_digits(_packed_in_database(rows, count), 2 * count) == pack(sums)


@pytest.mark.django_db
def test_no_indicator_packs_to_zero():
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_packed_sums([], 't')} FROM (SELECT 1 AS {q('fact_x')}) t")
        assert packed_from_digits(cursor.fetchone()[0], 0) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("row", [[2**FIELD_BITS, 1], [1, 2**FIELD_BITS + 5], [-1, 3]])
def test_sums_that_cannot_be_packed_are_refused(row):
    with pytest.raises(OverflowError):
        pack(row)
    with pytest.raises(OverflowError):
        packed_from_digits(_packed_in_database([row], 1), 2)
