"""Deployment checks of our own, run by `safetynet check --deploy`."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_personal_data_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    key = settings.PII_KEY
    if not key:
        return [
            checks.Error(
                "SAFETYNET_PII_KEY is not set: personal data cannot be encrypted at rest.",
                hint="Generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'",
                id="safetynet.E001",
            )
        ]
    try:
        valid = len(base64.urlsafe_b64decode(key.encode())) == 32
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        return [
            checks.Error(
                "SAFETYNET_PII_KEY is not a Fernet key (32 url-safe base64-encoded bytes).",
                id="safetynet.E002",
            )
        ]
    return []


@checks.register(checks.Tags.database, deploy=True)
def check_production_database(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return [
            checks.Warning(
                "The embedded SQLite database is meant for one office or a demo; production "
                "runs on PostgreSQL.",
                hint="Set DATABASE_URL=postgres://…",
                id="safetynet.W001",
            )
        ]
    return []
