"""Telling people: in-app notifications, email through Django's email backend, SMS through a small interface.

Everything is sent after the transaction commits (``transaction.on_commit``), so a refused or rolled-back
action never sends anything. The SMS backend is a dotted path in ``settings.SAFETYNET_SMS_BACKEND`` (a
class with ``send(phone, text)``); the default writes to the console, since no real gateway is reachable.
"""

from __future__ import annotations

import datetime
import logging
import sys
from collections.abc import Iterable
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from safetynet.cases.models import Case, Notification

logger = logging.getLogger(__name__)

DEFAULT_SMS_BACKEND = "safetynet.cases.notifications.ConsoleSmsBackend"


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class ConsoleSmsBackend:
    """Development backend: prints the message instead of sending it."""

    def send(self, phone: str, text: str) -> None:
        sys.stdout.write(f"[短信] {phone}: {text}\n")


class MemorySmsBackend:
    """Test backend: keeps the messages in ``outbox``."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        MemorySmsBackend.outbox.append((phone, text))


def send_sms(phone: str, text: str) -> None:
    """Send one SMS now through the configured backend (callers inside a transaction use ``sms_on_commit``)."""
    if not phone:
        return
    backend_class = import_string(getattr(settings, "SAFETYNET_SMS_BACKEND", DEFAULT_SMS_BACKEND))
    try:
        backend_class().send(phone, text)
    except Exception:  # A gateway failure must not undo the case work that already committed.
        logger.exception("SMS to %s failed", phone[-4:])


def sms_on_commit(phone: str, text: str) -> None:
    transaction.on_commit(lambda: send_sms(phone, text))


def notify(
    recipients: Iterable[Any],
    text: str,
    *,
    case: Case | None = None,
    link: str = "",
    now: datetime.datetime | None = None,
    email: bool = True,
) -> list[Notification]:
    """One in-app notification per recipient (bulk), and an email to those with an address, on commit."""
    moment = now or timezone.now()
    unique = {user.pk: user for user in recipients if user is not None and user.is_active}
    rows = Notification.objects.bulk_create(
        Notification(recipient=user, text=text[:300], link=link, case=case, created_at=moment)
        for user in unique.values()
    )
    if email:
        email_on_commit(text, link, [user.email for user in unique.values()])
    return rows


def email_on_commit(text: str, link: str, addresses: Iterable[str]) -> None:
    """The email copy of a notification, one message per address (blank ones skipped), sent on commit."""
    addresses = [address for address in addresses if address]
    if addresses:
        subject = f"【安全网】{text[:60]}"
        body = text + (f"\n\n{link}" if link else "")
        sender = getattr(settings, "DEFAULT_FROM_EMAIL", None)
        messages = [(subject, body, sender, [address]) for address in addresses]
        transaction.on_commit(lambda: _send_mail(messages))


def notify_bulk(rows: list[Notification], emails: list[tuple[str, str, str]]) -> None:
    """Many notifications at once (the sweep): rows in one insert, emails (subject, body, address) on commit."""
    Notification.objects.bulk_create(rows, batch_size=2000)
    if emails:
        sender = getattr(settings, "DEFAULT_FROM_EMAIL", None)
        messages = [(subject, body, sender, [address]) for subject, body, address in emails]
        transaction.on_commit(lambda: _send_mail(messages))


def _send_mail(messages: list[tuple[str, str, str | None, list[str]]]) -> None:
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:  # Mail trouble is logged; the case work stands.
        logger.exception("sending %d case emails failed", len(messages))
