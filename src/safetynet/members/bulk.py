"""Reading and writing many rows fast, for the member roster import (a million rows in about a minute).

- :func:`select_in`: lookups by many keys, one query per 10,000 keys on PostgreSQL (``= ANY(array)``, which
  psycopg passes as one parameter) and per 900 on SQLite (its parameter limit);
- :func:`write_rows`: COPY on PostgreSQL, ``executemany`` on SQLite, bulk_create elsewhere, with the ids
  already chosen by :func:`reserve_ids` (so rows of other tables can name them) or left to the database;
- :func:`insert_rows`: the same, reserving and returning the ids (used by the demo data);
- :class:`FastPersonalData`: the lookup hash and Fernet tokens of :mod:`safetynet.members.crypto`, made for
  many values at once. The tokens are ordinary Fernet tokens (``Fernet.decrypt`` reads them); only the work
  is arranged differently: AES-CBC runs as one AES call per block position for the whole batch instead of
  one cipher object per value, which is what makes ``Fernet.encrypt`` cost ~30 µs a value.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import queue
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.db import connection, models

from safetynet.members.crypto import PersonalDataKey

BATCH = 2000
POSTGRES_CHUNK = 10000
SQLITE_CHUNK = 900


# --- reading ----------------------------------------------------------------------------------


def select_in(
    sql: str,
    values: Sequence[Any],
    *,
    dates: Sequence[int] = (),
    chunk: int | None = None,
    raw: Any = None,
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``sql``, whose WHERE clause has ``{values}`` right after a column, for all ``values``.

    ``dates``: positions of date columns, which SQLite gives back as text through a raw cursor.
    ``raw``: the psycopg connection under Django's (PostgreSQL only), for a reading thread that must see
    what the caller's connection sees (see :class:`Prefetcher`).
    """
    if not values:
        return
    postgres = connection.vendor == "postgresql"
    size = chunk or (POSTGRES_CHUNK if postgres else SQLITE_CHUNK)
    with connection.cursor() if raw is None else raw.cursor() as cursor:
        for start in range(0, len(values), size):
            part = list(values[start : start + size])
            if postgres:
                # One array literal as text: psycopg would otherwise dump a long list item by item.
                cast = "bigint[]" if isinstance(part[0], int) else "text[]"
                literal = "{" + ",".join(_array_item(v) for v in part) + "}"
                cursor.execute(sql.replace("{values}", f"= ANY(%s::{cast})"), [literal])
            else:
                cursor.execute(sql.replace("{values}", f"IN ({', '.join(['%s'] * len(part))})"), part)
            rows = cursor.fetchall()
            if dates and rows and not postgres:
                rows = [_with_dates(row, dates) for row in rows]
            yield from rows


def _array_item(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    # Always quoted: an unquoted NULL would be a null.
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _with_dates(row: tuple[Any, ...], positions: Sequence[int]) -> tuple[Any, ...]:
    values = list(row)
    for i in positions:
        if isinstance(values[i], str):
            values[i] = datetime.date.fromisoformat(values[i])
    return tuple(values)


# --- writing ----------------------------------------------------------------------------------


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys for ``model``, inside the caller's transaction.

    PostgreSQL takes them from the sequence (other sessions may take some in between: they are not always
    consecutive). SQLite takes the write lock first and counts on from the largest id ever used, so no
    other connection can insert between choosing and using them.
    """
    if count <= 0:
        return []
    meta = model._meta
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            return _next_values(cursor, model, count)
        table, pk = quote(meta.db_table), quote(meta.pk.column)
        cursor.execute(f"UPDATE {table} SET {pk} = {pk} WHERE 1 = 0")
        cursor.execute(f"SELECT MAX({pk}) FROM {table}")
        first = (cursor.fetchone()[0] or 0) + 1
        if connection.vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [meta.db_table])
            found = cursor.fetchone()
            if found and found[0] is not None:
                first = max(first, found[0] + 1)
            # Later inserts without an explicit id must not take these.
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [first + count - 1, meta.db_table]
            )
        return list(range(first, first + count))


def _next_values(cursor: Any, model: type[models.Model], count: int) -> list[int]:
    """``count`` values of the primary key's sequence (PostgreSQL). The sequence is named once: inside the
    SELECT, pg_get_serial_sequence would run for every value, ten times the cost of nextval itself."""
    meta = model._meta
    cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [meta.db_table, meta.pk.column])
    sequence = cursor.fetchone()[0]
    ids: list[int] = []
    for start in range(0, count, 100000):
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, min(100000, count - start)]
        )
        ids.extend(row[0] for row in cursor.fetchall())
    return ids


def write_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    with_ids: bool = False,
) -> None:
    """Insert ``rows`` (values in the order of ``fields``, attribute names such as ``person_id``; with
    ``with_ids`` the first value of each row is its primary key). Runs inside the caller's transaction.

    Dates and datetimes may be given as Python values on every database."""
    if not rows:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    model_fields = [meta.get_field(name) for name in fields]
    columns = [f.column for f in model_fields]
    if with_ids:
        columns.insert(0, meta.pk.column)
    column_list = ", ".join(quote(c) for c in columns)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    if connection.vendor != "sqlite":
        names = (["pk"] if with_ids else []) + list(fields)
        model.objects.bulk_create(
            [model(**dict(zip(names, row, strict=True))) for row in rows], batch_size=BATCH
        )
        return
    # SQLite stores dates and datetimes as the text Django writes; the rest goes as it is.
    offset = 1 if with_ids else 0
    prepared = [
        (i + offset, f)
        for i, f in enumerate(model_fields)
        if isinstance(f, models.DateField | models.DateTimeField)
    ]
    if prepared:
        # A date is stored as str(date), what Django's adapt_datefield_value gives, without the field's
        # whole preparation per value; datetimes take it (time zones).
        converters = [
            (i, model_field.get_db_prep_save if isinstance(model_field, models.DateTimeField) else None)
            for i, model_field in prepared
        ]
        converted = []
        for row in rows:
            values = list(row)
            for i, prepare in converters:
                value = values[i]
                if value is not None:
                    values[i] = str(value) if prepare is None else prepare(value, connection)
            converted.append(values)
        rows = converted
    statement = (
        f"INSERT INTO {quote(meta.db_table)} ({column_list}) VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(statement, rows[start : start + 5000])


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: list[tuple[Any, ...]]) -> list[int]:
    """Insert ``rows`` (values in the order of ``fields``, attribute names such as ``person_id``) and return
    the new primary keys in the same order. Runs inside the caller's transaction."""
    if not rows:
        return []
    if connection.vendor == "postgresql":
        return _copy(model, fields, rows)
    if connection.vendor == "sqlite":
        return _insert_sqlite(model, fields, rows)
    objects = [model(**dict(zip(fields, row, strict=True))) for row in rows]
    model.objects.bulk_create(objects, batch_size=BATCH)
    return [obj.pk for obj in objects]


def _copy(model: type[models.Model], fields: Sequence[str], rows: list[tuple[Any, ...]]) -> list[int]:
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [meta.pk.column, *(meta.get_field(name).column for name in fields)]
    with connection.cursor() as cursor:
        # Reserving the ids first lets the caller link rows of other tables to these without reading back.
        ids = _next_values(cursor, model, len(rows))
        statement = f"COPY {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        with cursor.cursor.copy(statement) as copy:
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row((pk, *row))
    return ids


def _insert_sqlite(
    model: type[models.Model], fields: Sequence[str], rows: list[tuple[Any, ...]]
) -> list[int]:
    """executemany with ids chosen above the largest one: the write lock is taken first, so no other
    connection can insert between choosing and using them."""
    meta = model._meta
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    model_fields = [meta.get_field(name) for name in fields]
    # Dates and datetimes become the text Django stores; plain values go as they are.
    prepared = [i for i, f in enumerate(model_fields) if isinstance(f, models.DateField)]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {pk} = {pk} WHERE 1 = 0")
        cursor.execute(f"SELECT MAX({pk}) FROM {table}")
        first = (cursor.fetchone()[0] or 0) + 1
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [meta.db_table])
        found = cursor.fetchone()
        if found and found[0] is not None:
            first = max(first, found[0] + 1)
        ids = list(range(first, first + len(rows)))
        values = []
        for pk_value, row in zip(ids, rows, strict=True):
            if prepared:
                row = list(row)
                for i in prepared:
                    row[i] = model_fields[i].get_db_prep_save(row[i], connection)
            values.append((pk_value, *row))
        columns = ", ".join(quote(c) for c in [meta.pk.column, *(f.column for f in model_fields)])
        placeholders = ", ".join(["%s"] * (len(fields) + 1))
        statement = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
        for start in range(0, len(values), 5000):
            cursor.executemany(statement, values[start : start + 5000])
    return ids


class Prefetcher:
    """Runs ``load(item, raw)`` for the next item in a thread while the caller works on the current one
    (PostgreSQL only; elsewhere, and for one item, simply in turn). The database looks up the next chunk
    while Python checks this one: on two cores the two overlap.

    The thread uses the caller's psycopg connection (``raw``), so it reads inside the caller's transaction
    and sees what the caller sees; psycopg serialises the statements of the two threads on that connection.
    """

    def __init__(self, load: Any, items: Sequence[Any]) -> None:
        self.load, self.items = load, items

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        if connection.vendor != "postgresql" or len(self.items) < 2:
            for item in self.items:
                yield item, self.load(item, None)
            return
        connection.ensure_connection()
        raw = connection.connection
        with ThreadPoolExecutor(max_workers=1) as executor:
            upcoming = executor.submit(self.load, self.items[0], raw)
            try:
                for position, item in enumerate(self.items):
                    loaded = upcoming.result()
                    if position + 1 < len(self.items):
                        upcoming = executor.submit(self.load, self.items[position + 1], raw)
                    yield item, loaded
            finally:
                upcoming.cancel()


def person_chunk_size() -> int:
    """How many keys one IN (...) lookup carries: PostgreSQL takes big lists; SQLite counts its parameters."""
    return 5000 if connection.vendor == "postgresql" else 900


class BackgroundWriter:
    """Writes with :func:`write_rows` while the caller prepares the next batch (PostgreSQL only).

    The database works through a COPY (indexes, foreign-key checks) as long as Python takes to prepare
    the rows: on two cores the two overlap when the COPY runs in a thread. The thread uses the caller's
    connection, so it writes inside the caller's transaction; the caller must not use the connection
    until :meth:`wait` returns (``write`` and ``wait`` are the only ways in). Elsewhere ``write`` simply
    writes at once.
    """

    def __init__(self) -> None:
        self._threaded = connection.vendor == "postgresql"
        self._queue: queue.Queue[tuple[Any, ...] | None] = queue.Queue(maxsize=3)
        self._failure: BaseException | None = None
        self._thread: threading.Thread | None = None

    def write(
        self,
        model: type[models.Model],
        fields: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
        *,
        with_ids: bool = False,
    ) -> None:
        if not rows:
            return
        if not self._threaded:
            write_rows(model, fields, rows, with_ids=with_ids)
            return
        if self._failure is not None:
            raise self._failure
        if self._thread is None:
            connection.ensure_connection()
            self._thread = threading.Thread(target=self._run, args=(connection.connection,), daemon=True)
            self._thread.start()
        self._queue.put((model, fields, rows, with_ids))

    def wait(self) -> None:
        """Until everything handed over is written; raises what went wrong in the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    def abandon(self) -> None:
        """Stop the thread after what it is writing, ignoring any failure (the caller is failing already)."""
        try:
            self.wait()
        except BaseException:  # the caller's own exception is the one to report
            pass

    def _run(self, raw: Any) -> None:
        while (job := self._queue.get()) is not None:
            if self._failure is not None:
                continue  # drain: the caller sees the failure at its next write or wait
            model, fields, rows, with_ids = job
            try:
                _copy_rows(raw, model, fields, rows, with_ids=with_ids)
            except BaseException as exc:  # handed to the caller's thread
                self._failure = exc


def _copy_rows(
    raw: Any,
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    with_ids: bool,
) -> None:
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [meta.get_field(name).column for name in fields]
    if with_ids:
        columns.insert(0, meta.pk.column)
    with raw.cursor() as cursor:
        with cursor.copy(
            f"COPY {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)


# The share of new rows after which an import refreshes a table's statistics (as autovacuum would).
ANALYZE_GROWTH = 0.1


def grown_enough(added: int, rows_at_last_analyze: float) -> bool:
    """Whether ``added`` new rows call for fresh statistics of a table that held ``rows_at_last_analyze``
    rows when last analysed (PostgreSQL's ``reltuples``: -1 when never, so an empty table always is)."""
    return added > 0 and added >= ANALYZE_GROWTH * max(rows_at_last_analyze, 0)


def analyze_tables(*models_: type[models.Model], added: dict[type[models.Model], int] | None = None) -> None:
    """Refresh PostgreSQL's statistics after a big load, so the next lookups use the indexes at once
    instead of trusting row counts from when the tables were empty.

    With ``added`` (rows inserted per model), the tables that grew by at least a tenth since their last
    ANALYZE (autovacuum's own rule, ``autovacuum_analyze_scale_factor``): autovacuum would refresh them
    minutes after the commit, but the first answers after a load must already be planned on the new rows
    (a first load into an empty database is the common case). ANALYZE inside the import's transaction
    samples the rows it inserted. A table grown by less is still described well enough.

    SQLite keeps no statistics until ANALYZE runs and never refreshes them by itself; without them it
    may join the wrong way round (the indicator engine's enterprise statement took minutes on the city).
    There every table given is analysed, from a sample (``analysis_limit``), which takes a second or two."""
    quote = connection.ops.quote_name
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA analysis_limit = 1000")
            for model in models_:
                cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")
        return
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if added is not None:
            names = [m._meta.db_table for m in models_]
            cursor.execute(
                "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r'", [names]
            )
            before = dict(cursor.fetchall())
            # reltuples: the rows when ANALYZE last ran (-1: never), so without this import's rows.
            models_ = tuple(
                m for m in models_ if grown_enough(added.get(m, 0), before.get(m._meta.db_table, 0))
            )
        if models_:
            cursor.execute(f"ANALYZE {', '.join(quote(m._meta.db_table) for m in models_)}")


SQLITE_IMPORT_CACHE_KIB = 192 * 1024


def sqlite_cache(kib: int | None = SQLITE_IMPORT_CACHE_KIB) -> int | None:
    """Set SQLite's page cache of this connection to ``kib`` KiB (None: leave it) and return the setting
    it had (as SQLite reports it: negative KiB or positive pages), to be given back later; None elsewhere.

    SQLite's default cache is 2 MB: a roster import inserts into indexes of millions of entries at random
    places (the hashed ID numbers and phones), and with a small cache each insert reads its pages again.
    """
    if connection.vendor != "sqlite":
        return None
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        if kib is not None:
            cursor.execute(f"PRAGMA cache_size = {-int(kib)}")
    return previous


def restore_sqlite_cache(previous: int | None) -> None:
    """Give back the setting :func:`sqlite_cache` returned."""
    if previous is None or connection.vendor != "sqlite" or connection.connection is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA cache_size = {int(previous)}")


# --- personal data, many values at once ----------------------------------------------------------


def _hmac_pads(key: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256's inner and outer hash states for ``key`` (RFC 2104), to be copied for each message."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return hashlib.sha256(key.translate(_IPAD)), hashlib.sha256(key.translate(_OPAD))


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


class FastPersonalData:
    """:meth:`PersonalDataKey.lookup_hash` and :meth:`PersonalDataKey.encrypt`, with the same results, for many
    values: the HMAC key schedule is computed once and AES runs over whole batches."""

    def __init__(self, key: PersonalDataKey) -> None:
        self.key = key
        self._hash_inner, self._hash_outer = _hmac_pads(key.hash_key)
        # Fernet's two halves (from the published key layout): the first signs, the second encrypts.
        self._sign_inner, self._sign_outer = _hmac_pads(key.signing_key)
        self._aes_key = key.encryption_key
        self._checked = False

    def digest(self, value: str) -> bytes:
        """The 32 bytes whose hex form is ``lookup_hash(value)`` (for a non-empty value)."""
        inner = self._hash_inner.copy()
        inner.update(value.encode())
        outer = self._hash_outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def lookup_hash(self, value: str) -> str:
        return self.digest(value).hex() if value else ""

    def encrypt_many(self, values: Sequence[str]) -> list[str]:
        """Fernet tokens of ``values`` ('' stays ''), each with its own random IV, as ``Fernet.encrypt`` makes."""
        tokens = [""] * len(values)
        groups: dict[int, list[tuple[int, bytes]]] = {}
        for position, value in enumerate(values):
            if value:
                data = value.encode()
                padding = 16 - len(data) % 16
                data += bytes((padding,)) * padding
                groups.setdefault(len(data) // 16, []).append((position, data))
        stamp = b"\x80" + struct.pack(">Q", int(time.time()))
        encryptor = Cipher(algorithms.AES(self._aes_key), modes.ECB()).encryptor()
        sign_inner, sign_outer, encode = self._sign_inner, self._sign_outer, base64.urlsafe_b64encode
        for blocks, members in groups.items():
            size = 16 * len(members)
            ivs = os.urandom(size)
            # CBC: each block is XORed with the previous ciphertext block (the IV for the first), then
            # encrypted; block j of every value is done in one call.
            previous = ivs
            ciphertexts = []
            for j in range(blocks):
                plain = b"".join(data[16 * j : 16 * j + 16] for _position, data in members)
                mixed = (int.from_bytes(plain, "big") ^ int.from_bytes(previous, "big")).to_bytes(size, "big")
                previous = encryptor.update(mixed)
                ciphertexts.append(previous)
            for i, (position, _data) in enumerate(members):
                start = 16 * i
                body = stamp + ivs[start : start + 16]
                for ciphertext in ciphertexts:
                    body += ciphertext[start : start + 16]
                inner = sign_inner.copy()
                inner.update(body)
                outer = sign_outer.copy()
                outer.update(inner.digest())
                tokens[position] = encode(body + outer.digest()).decode("ascii")
        encryptor.finalize()
        if not self._checked:
            # Once per run, the real Fernet reads a token back: a mistake here must never store junk.
            for value, token in zip(values, tokens, strict=True):
                if value:
                    if self.key.decrypt(token) != value:
                        raise AssertionError("batched Fernet encryption does not round-trip")
                    self._checked = True
                    break
        return tokens
