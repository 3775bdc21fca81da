"""Hypothesis strategies for random histories of workers, shared by the indicator tests."""

from __future__ import annotations

from hypothesis import strategies as st


def person_strategy(days: int) -> st.SearchStrategy:
    """A worker at one of three enterprises: household, employment form, an employment [begin, begin + length)
    and maybe a membership, within ``days`` days of the tests' start (a length of None: still open)."""
    interval = st.tuples(st.integers(0, days), st.one_of(st.none(), st.integers(1, days)))
    return st.fixed_dictionaries(
        {
            "enterprise": st.integers(0, 2),
            "rural": st.booleans(),
            "dispatched": st.booleans(),
            "employment": interval,
            "membership": st.one_of(st.none(), interval),
        }
    )
