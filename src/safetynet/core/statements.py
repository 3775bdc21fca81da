"""Hand-written statements for the few hot paths (the API's token check, case intake: a hundred calls a second),
where compiling the ORM's query cost more CPU than running it, and PostgreSQL's parsing and planning of it more
than executing it.

- ``statement_cursor()``: a Django cursor (execute wrappers and error translation as usual) whose statements
  PostgreSQL prepares once per connection: parameters bound on the server and the plan kept, so a
  statement run on every request is parsed and planned once per connection, not on every call. Elsewhere (SQLite),
  while Django logs queries (DEBUG, tests capturing them), or with ``settings.SAFETYNET_PREPARED_STATEMENTS =
  False`` (behind a pooler in transaction mode that cannot keep prepared statements, e.g. PgBouncer before
  1.21), an ordinary cursor.
- ``ModelColumns(Model, "alias")``: the model's concrete columns under a table alias for the SELECT list, and its
  slice of a row turned into an instance exactly as the ORM does: the backend's and the fields' converters
  (``from_db_value``; on SQLite, dates, booleans and decimals), then ``Model.from_db``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper

M = TypeVar("M", bound=models.Model)
NEVER_AUTOMATICALLY = 2**31 - 1


@functools.cache
def preparing_cursor_class() -> type:
    """Django's server-binding cursor for psycopg 3, preparing every statement it runs (Django leaves
    ``prepare_threshold`` off, so nothing is prepared unless asked)."""
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        def execute(
            self, query: Any, params: Any = None, *, prepare: bool | None = None, **kwargs: Any
        ) -> Any:
            return super().execute(query, params, prepare=True if prepare is None else prepare, **kwargs)

    return PreparingCursor


def database() -> BaseDatabaseWrapper:
    """The default database's connection of this thread, itself: every attribute read through
    ``django.db.connection`` goes through its proxy and a context-local lookup, a few microseconds each."""
    return connections[DEFAULT_DB_ALIAS]


def statement_cursor() -> CursorWrapper:
    """A cursor for a statement every request of a hot path runs (see the module's docstring); use it as
    ``connection.cursor()`` is used."""
    db = database()
    if (
        db.vendor != "postgresql"
        or not getattr(settings, "SAFETYNET_PREPARED_STATEMENTS", True)
        # Django's query log (DEBUG, a test capturing queries) reads the SQL from psycopg's last unprepared
        # execution: a prepared one would be logged as None. The same statement then binds on the client.
        or db.queries_logged
    ):
        return db.cursor()
    # What connection.cursor() does before creating its cursor, then the cursor made of the preparing class.
    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    raw = db.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's automatic preparing off with None, which also refuses an explicit prepare=True.
        # A threshold no statement reaches keeps it off for every other cursor (Django's cursors bind on the
        # client and never prepare anyway) while this one asks for it.
        raw.prepare_threshold = NEVER_AUTOMATICALLY
    with db.wrap_database_errors:
        cursor = preparing_cursor_class()(raw)
    return db.make_cursor(cursor)


class ModelColumns(Generic[M]):
    def __init__(self, model: type[M], alias: str) -> None:
        self.model = model
        self.alias = alias
        self.fields = list(model._meta.concrete_fields)
        self.names = [field.attname for field in self.fields]
        self.pk_index = self.fields.index(model._meta.pk)
        # Per database vendor: (position, expression, converters) of the columns that need converting.
        self.converters: dict[str, list[tuple[int, Any, list[Callable[..., Any]]]]] = {}

    def __len__(self) -> int:
        return len(self.fields)

    def sql(self) -> str:
        """``alias."column", …`` for the SELECT list, in the model's field order."""
        quote = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{quote(field.column)}" for field in self.fields)

    def column_converters(self, db: BaseDatabaseWrapper) -> list[tuple[int, Any, list[Callable[..., Any]]]]:
        found = self.converters.get(db.vendor)
        if found is None:
            found = []
            for position, field in enumerate(self.fields):
                expression = field.get_col(self.alias)
                functions = db.ops.get_db_converters(expression) + expression.get_db_converters(db)
                if functions:
                    found.append((position, expression, functions))
            self.converters[db.vendor] = found
        return found

    def build(self, values: Sequence[Any]) -> M | None:
        """The instance of this slice of a row; None when its primary key is NULL (an outer join found none)."""
        if values[self.pk_index] is None:
            return None
        db = database()
        converters = self.column_converters(db)
        if converters:
            values = list(values)
            for position, expression, functions in converters:
                value = values[position]
                for function in functions:
                    value = function(value, expression, db)
                values[position] = value
        return self.model.from_db(db.alias, self.names, values)

    def take(self, row: Sequence[Any], start: int) -> tuple[M | None, int]:
        """The instance from ``row[start:]`` and the position after its columns."""
        end = start + len(self.fields)
        return self.build(row[start:end]), end
