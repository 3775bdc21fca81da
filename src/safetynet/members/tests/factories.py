"""Test data for the member registry, built through the services."""

from __future__ import annotations

import datetime

from safetynet.members.validation import check_character


def make_id_number(
    n: int = 1, *, address: str = "210202", born: datetime.date = datetime.date(1980, 3, 15)
) -> str:
    """A valid resident ID number; ``n`` (1–999) is the sequence code (odd: male, even: female)."""
    body = f"{address}{born:%Y%m%d}{n % 1000:03d}"
    return body + check_character(body)
