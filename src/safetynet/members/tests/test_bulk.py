"""The batched personal-data path against ``cryptography.fernet.Fernet`` itself, on the installed release.

The fast path builds Fernet tokens from the published specification (version 0x80, timestamp, IV,
AES-128-CBC with PKCS7, HMAC-SHA256; the key is the signing half followed by the encryption half). Fernet
must read what it writes, and a decryption written from the specification must read what Fernet writes,
which shows the halves are taken from the key the way Fernet takes them.
"""

from __future__ import annotations

import base64
import struct

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from safetynet.members.bulk import FastPersonalData
from safetynet.members.crypto import PersonalDataKey

VALUES = ["", "13800001111", "210202198001010015", "1234567890123456", "x" * 47, "王小明", "a"]


def spec_decrypt(key: PersonalDataKey, token: str) -> str:
    """Fernet's decryption as the specification writes it, with the key's two halves."""
    data = base64.urlsafe_b64decode(token.encode())
    assert data[0] == 0x80
    body, signature = data[:-32], data[-32:]
    check = hmac.HMAC(key.signing_key, hashes.SHA256())
    check.update(body)
    check.verify(signature)
    (stamp,) = struct.unpack(">Q", data[1:9])
    assert stamp > 1_600_000_000
    iv, ciphertext = data[9:25], data[25:-32]
    decryptor = Cipher(algorithms.AES(key.encryption_key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(padded) + unpadder.finalize()).decode()


@pytest.fixture
def key() -> PersonalDataKey:
    return PersonalDataKey(Fernet.generate_key().decode())


def test_fernet_reads_the_fast_tokens(key):
    raw_key = base64.urlsafe_b64encode(key.signing_key + key.encryption_key)
    fernet = Fernet(raw_key)
    tokens = FastPersonalData(key).encrypt_many(VALUES)
    assert tokens[0] == ""
    assert [fernet.decrypt(token.encode()).decode() for token in tokens[1:]] == VALUES[1:]


def test_the_specification_reads_fernet_tokens(key):
    for value in VALUES[1:]:
        token = key.fernet.encrypt(value.encode()).decode()
        assert spec_decrypt(key, token) == value


def test_fast_tokens_are_fernet_tokens_of_the_specification(key):
    tokens = FastPersonalData(key).encrypt_many(VALUES[1:])
    assert [spec_decrypt(key, token) for token in tokens] == VALUES[1:]


def test_a_wrong_half_is_caught(key):
    other = PersonalDataKey(Fernet.generate_key().decode())
    token = key.fernet.encrypt(b"13800001111").decode()
    from cryptography.exceptions import InvalidSignature

    with pytest.raises(InvalidSignature):
        spec_decrypt(other, token)


@pytest.mark.django_db
def test_the_prefetching_thread_reads_inside_the_callers_transaction():
    """The lookups of the next chunk run in a thread on the caller's connection: they see rows the
    caller's transaction wrote and has not committed (as the test's own transaction here)."""
    from safetynet.members.bulk import Prefetcher, select_in
    from safetynet.members.models import Person

    people = [Person.objects.create(name=f"预取{n}", id_number_hash=f"hash{n}") for n in range(5)]
    chunks = [[p.pk for p in people[:2]], [p.pk for p in people[2:4]], [people[4].pk]]

    def load(pks: list[int], raw: object) -> list[str]:
        return sorted(
            name for (name,) in select_in("SELECT name FROM members_person WHERE id {values}", pks, raw=raw)
        )

    loaded = list(Prefetcher(load, chunks))
    assert [chunk for chunk, _names in loaded] == chunks
    assert [names for _chunk, names in loaded] == [["预取0", "预取1"], ["预取2", "预取3"], ["预取4"]]

    def failing(pks: list[int], raw: object) -> list[str]:
        raise ValueError(pks)

    with pytest.raises(ValueError):
        list(Prefetcher(failing, chunks))
    # The connection is still usable afterwards.
    assert Person.objects.filter(name__startswith="预取").count() == 5
