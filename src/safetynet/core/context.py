"""Who is acting and from where, for the audit rows that services write.

The middleware sets it per request; commands set it for their run. Services read it, so their
signatures carry the actor explicitly and the address implicitly.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_address: contextvars.ContextVar[str | None] = contextvars.ContextVar("safetynet_address", default=None)


def current_address() -> str | None:
    return _address.get()


@contextmanager
def acting_from(address: str | None) -> Iterator[None]:
    token = _address.set(address)
    try:
        yield
    finally:
        _address.reset(token)
