"""Personal data at rest: Fernet encryption and a keyed lookup hash, both from ``settings.PII_KEY``.

A value is stored three ways and never in clear: the Fernet token (only a permitted, audited view decrypts
it), an HMAC-SHA256 of the normalised value under a key derived from PII_KEY (indexed, so a number typed
in the search box is found without decrypting anything), and the masked form shown everywhere else.

Without SAFETYNET_PII_KEY (a development machine or ``make demo``) a key is derived from SECRET_KEY so
the demo works; ``safetynet check --deploy`` refuses to pass without the real key (safetynet.E001).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_LOOKUP_INFO = b"safetynet personal data lookup hash v1"


class PersonalDataKey:
    """One Fernet key with its derived lookup-hash key. Rotation builds two of these side by side."""

    def __init__(self, key: str) -> None:
        try:
            raw = base64.urlsafe_b64decode(key.encode())
        except (ValueError, TypeError):
            raw = b""
        if len(raw) != 32:
            raise ImproperlyConfigured(
                "SAFETYNET_PII_KEY is not a Fernet key (32 url-safe base64-encoded bytes); generate one with "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
            )
        self.fernet = Fernet(key.encode())
        # The Fernet specification's key layout: the first 16 bytes sign (HMAC-SHA256), the last 16 encrypt
        # (AES-128-CBC). Read from the key itself, never from Fernet's private attributes.
        self.signing_key = raw[:16]
        self.encryption_key = raw[16:]
        # The lookup key is derived, never the encryption key itself, so a leaked hash says nothing about it.
        self.hash_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LOOKUP_INFO).derive(raw)

    def encrypt(self, value: str) -> str:
        return self.fernet.encrypt(value.encode()).decode("ascii") if value else ""

    def decrypt(self, token: str) -> str:
        if not token:
            return ""
        try:
            return self.fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken:
            raise ImproperlyConfigured(
                "A personal-data token does not decrypt with SAFETYNET_PII_KEY: the key was changed without "
                "running `safetynet rotate-pii-key`, or the database comes from another installation."
            ) from None

    def lookup_hash(self, value: str) -> str:
        """64 hex characters; '' for an empty value so 'no phone' is never a searchable hash."""
        if not value:
            return ""
        return hmac.new(self.hash_key, value.encode(), hashlib.sha256).hexdigest()


def _development_key() -> str:
    digest = hashlib.sha256(b"safetynet development pii key:" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


@functools.lru_cache(maxsize=4)
def _key_for(configured: str, secret_key: str) -> PersonalDataKey:
    return PersonalDataKey(configured or _development_key())


def current_key() -> PersonalDataKey:
    """The key in force (cached per value, so tests that override the setting get theirs)."""
    return _key_for(settings.PII_KEY, settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return current_key().encrypt(value)


def decrypt(token: str) -> str:
    return current_key().decrypt(token)


def lookup_hash(value: str) -> str:
    return current_key().lookup_hash(value)
