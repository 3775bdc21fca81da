"""Rate limits of the workers' platform: fixed-window counters in the Django cache (Redis in production).

django-axes guards the staff login (it counts failures of ``authenticate()`` against accounts.User); worker
accounts do not go through Django's authentication backends, so their limits are these counters: per mobile
number (hashed, never in clear) and per client address, for SMS codes (registration and password reset
share them), registration, login, password reset and real-name matching.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from safetynet.core.errors import ServiceError


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    seconds: int


SMS_PER_NUMBER_MINUTE = Limit("sms_number_1m", 1, 60)
SMS_PER_NUMBER_HOUR = Limit("sms_number_1h", 5, 3600)
SMS_PER_ADDRESS_HOUR = Limit("sms_address_1h", 20, 3600)
REGISTER_PER_ADDRESS_HOUR = Limit("register_address_1h", 10, 3600)
LOGIN_FAILURES_PER_NUMBER = Limit("login_number_15m", 5, 900)
LOGIN_FAILURES_PER_ADDRESS = Limit("login_address_15m", 20, 900)
VERIFY_FAILURES_PER_ACCOUNT = Limit("verify_account_1d", 5, 86400)
# Wrong or stale codes on the password-reset page, per address (each code also dies after 5 wrong tries).
RESET_FAILURES_PER_ADDRESS = Limit("reset_address_1h", 20, 3600)

WAIT_TEXT = {60: "1 分钟", 900: "15 分钟", 3600: "1 小时", 86400: "24 小时"}


def _key(limit: Limit, subject: str) -> str:
    return f"portal:rl:{limit.name}:{subject}"


def exceeded(limit: Limit, subject: str | None) -> bool:
    if not subject:
        return False
    return int(cache.get(_key(limit, subject), 0)) >= limit.count


def hit(limit: Limit, subject: str | None) -> None:
    if not subject:
        return
    key = _key(limit, subject)
    if cache.add(key, 1, limit.seconds):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, limit.seconds)


def reset(limit: Limit, subject: str | None) -> None:
    if subject:
        cache.delete(_key(limit, subject))


def refuse_if_exceeded(limit: Limit, subject: str | None, what: str, *, field: str | None = None) -> None:
    if exceeded(limit, subject):
        raise ServiceError(
            "rate_limited",
            f"{what}过于频繁，请 {WAIT_TEXT.get(limit.seconds, '稍后')}后再试。",
            field=field,
        )
