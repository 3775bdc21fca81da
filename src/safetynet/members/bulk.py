"""Inserting many rows fast: COPY on PostgreSQL (ids taken from the sequence first), bulk_create elsewhere.

Django's bulk_create spends most of its time preparing each field of each object; a roster of a million
rows is written with COPY instead, which PostgreSQL loads many times faster.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models

BATCH = 2000


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
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
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


def person_chunk_size() -> int:
    """How many keys one IN (...) lookup carries: PostgreSQL takes big lists; SQLite counts its parameters."""
    return 5000 if connection.vendor == "postgresql" else 900


def analyze_tables(*models_: type[models.Model]) -> None:
    """Refresh PostgreSQL's statistics after a big load, so the next lookups use the indexes at once
    instead of trusting row counts from when the tables were empty."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(quote(m._meta.db_table) for m in models_)}")
