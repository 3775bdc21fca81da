"""Sending SMS codes: a small interface; the class in ``settings.PORTAL_SMS_GATEWAY`` (dotted path) sends.

The default writes to the console (development: no real gateway is reachable). A real gateway is a class
with ``send(mobile, text)`` named in that setting; a failure raises, and the service tells the worker to retry.
"""

from __future__ import annotations

import sys
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_GATEWAY = "safetynet.portal.sms.ConsoleSmsGateway"


class SmsGateway(Protocol):
    def send(self, mobile: str, text: str) -> None: ...


class ConsoleSmsGateway:
    """Development gateway: prints the message instead of sending it."""

    def send(self, mobile: str, text: str) -> None:
        sys.stdout.write(f"[短信] {mobile}: {text}\n")


class MemorySmsGateway:
    """Test gateway: keeps the messages in ``outbox`` (mobile, text)."""

    outbox: list[tuple[str, str]] = []

    def send(self, mobile: str, text: str) -> None:
        MemorySmsGateway.outbox.append((mobile, text))


def gateway() -> SmsGateway:
    return import_string(getattr(settings, "PORTAL_SMS_GATEWAY", DEFAULT_GATEWAY))()
