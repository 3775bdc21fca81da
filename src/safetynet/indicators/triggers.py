"""Database triggers that note which enterprises' counters a write may have changed (indicators/counters.py).

Every table an app names in its ``ChangeDays`` (and every table such a declaration reaches through a
foreign key, as ``union__founded_on`` reaches the unions) gets triggers that insert the enterprise ids of the
rows written into ``indicators_counterdirty`` — in the writer's own statement and transaction, whoever writes
(services, importers, the admin, the demo). Readers bring those enterprises' counters up to date before they
answer (``counters_refresh``). PostgreSQL: one statement-level trigger per event with transition tables (an
import of a million rows notes its enterprises in one INSERT … SELECT DISTINCT); SQLite: row triggers.

The triggers follow the declarations: they are dropped and created again after every ``migrate``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection as default_connection

from safetynet.indicators.registry import registry

DIRTY_TABLE = "indicators_counterdirty"
EVENTS = ("INSERT", "UPDATE", "DELETE")


@dataclass(frozen=True)
class Source:
    """Rows of ``table`` name enterprises: directly (``column``), or through ``via_table`` whose
    ``via_column`` points at the row's id and whose ``via_enterprise`` is the enterprise id."""

    name: str
    table: str
    column: str | None = None
    via_table: str | None = None
    via_column: str | None = None
    via_enterprise: str | None = None


def sources() -> list[Source]:
    found: dict[str, Source] = {}
    for declaration in registry().change_days:
        model = declaration.model
        meta = model._meta
        enterprise = meta.pk.column if declaration.enterprise == "pk" else declaration.enterprise
        if "__" in enterprise:
            raise ValueError(f"{meta.label}: the enterprise must be a column of the row, not {enterprise}")
        if not enterprise.endswith("_id") and declaration.enterprise != "pk":
            enterprise = meta.get_field(enterprise).column
        found.setdefault(meta.db_table, Source(meta.db_table, meta.db_table, column=enterprise))
        for lookup in (*declaration.days, *declaration.days_after):
            if "__" not in lookup:
                continue
            relation = meta.get_field(lookup.split("__", 1)[0])
            related = relation.related_model._meta
            name = f"{related.db_table}__{meta.db_table}"
            found.setdefault(
                name,
                Source(
                    name,
                    related.db_table,
                    via_table=meta.db_table,
                    via_column=relation.column,
                    via_enterprise=enterprise,
                ),
            )
    return list(found.values())


def _ids_select(source: Source, rows: str) -> str:
    """SELECT of the enterprise ids that the rows ``rows`` (a transition table or NEW/OLD) name."""
    if source.column is not None:
        return f"SELECT DISTINCT r.{source.column} FROM {rows} r WHERE r.{source.column} IS NOT NULL"
    return (
        f"SELECT DISTINCT v.{source.via_enterprise} FROM {source.via_table} v JOIN {rows} r "
        f"ON v.{source.via_column} = r.id WHERE v.{source.via_enterprise} IS NOT NULL"
    )


def _postgresql(source: Source) -> list[str]:
    function = f"counterdirty_{source.name}"[:60]
    body = []
    for event, tables in (
        ("INSERT", ["new_rows"]),
        ("UPDATE", ["new_rows", "old_rows"]),
        ("DELETE", ["old_rows"]),
    ):
        inserts = " ".join(
            f"INSERT INTO {DIRTY_TABLE} (enterprise_id) {_ids_select(source, t)};" for t in tables
        )
        body.append(f"IF TG_OP = '{event}' THEN {inserts} END IF;")
    statements = [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {' '.join(body)} RETURN NULL; END $$"
    ]
    for event in EVENTS:
        name = f"{function}_{event.lower()}"[:63]
        referencing = {
            "INSERT": "NEW TABLE AS new_rows",
            "UPDATE": "NEW TABLE AS new_rows OLD TABLE AS old_rows",
            "DELETE": "OLD TABLE AS old_rows",
        }[event]
        statements.append(f"DROP TRIGGER IF EXISTS {name} ON {source.table}")
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event} ON {source.table} REFERENCING {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    return statements


def _sqlite(source: Source) -> list[str]:
    statements = []
    for event, records in (("INSERT", ["NEW"]), ("UPDATE", ["NEW", "OLD"]), ("DELETE", ["OLD"])):
        name = f"counterdirty_{source.name}_{event.lower()}"
        inserts = []
        for record in records:
            if source.column is not None:
                inserts.append(
                    f"INSERT INTO {DIRTY_TABLE} (enterprise_id) SELECT {record}.{source.column} "
                    f"WHERE {record}.{source.column} IS NOT NULL;"
                )
            else:
                inserts.append(
                    f"INSERT INTO {DIRTY_TABLE} (enterprise_id) SELECT v.{source.via_enterprise} "
                    f"FROM {source.via_table} v WHERE v.{source.via_column} = {record}.id;"
                )
        statements.append(f"DROP TRIGGER IF EXISTS {name}")
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event} ON {source.table} BEGIN {' '.join(inserts)} END"
        )
    return statements


def install_triggers(using_connection=None) -> int:
    """(Re)create every trigger; returns how many tables have them."""
    connection = using_connection or default_connection
    build = _postgresql if connection.vendor == "postgresql" else _sqlite
    found = sources()
    with connection.cursor() as cursor:
        for source in found:
            for statement in build(source):
                cursor.execute(statement)
    return len(found)
