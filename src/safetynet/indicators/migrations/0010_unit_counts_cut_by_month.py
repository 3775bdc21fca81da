import datetime

from django.db import migrations, models
from django.utils import timezone

# Unit runs cut at the first day of every month they span, read by a plain btree on (hierarchy, valid_from)
# among those starting in the day's own month; open runs by a small index of their own. It replaces
# PostgreSQL's SP-GiST range indexes (0007) and SQLite's R*Tree with its triggers (0008): on the city demo the
# same rows on every day tried, reads as fast, writes several times cheaper (bench/RESULTS.md, 2026-12-07).
# The runs already stored are cut here, in SQL, by the rule of ``counters._month_pieces`` (copied: a migration
# must not change with live code); the counters stay ready, no rebuild needed.
TABLE = "indicators_unitcounts"
HIERARCHIES = ("as_of", "today")
SQLITE_TREE = "indicators_unitcounts_days"


def _limit() -> datetime.date:
    """The month through which open runs are cut: this month (as ``counters._cut_limit``)."""
    return timezone.localdate().replace(day=1)


POSTGRESQL_CUT = f"""
    INSERT INTO {TABLE} (hierarchy, population, unit_id, valid_from, valid_to, counts)
    SELECT u.hierarchy, u.population, u.unit_id, GREATEST(u.valid_from, m.month::date),
           CASE WHEN u.valid_to IS NULL AND m.month = date_trunc('month', %(limit)s::date) THEN NULL
                ELSE LEAST(u.valid_to, (m.month + interval '1 month')::date) END,
           u.counts
    FROM {TABLE} u,
         generate_series(date_trunc('month', u.valid_from),
                         date_trunc('month', COALESCE(u.valid_to - 1, %(limit)s::date)),
                         interval '1 month') AS m(month)
    WHERE date_trunc('month', u.valid_from) < date_trunc('month', COALESCE(u.valid_to - 1, %(limit)s::date))
"""
POSTGRESQL_UNCUT = f"""
    DELETE FROM {TABLE}
    WHERE date_trunc('month', valid_from) < date_trunc('month', COALESCE(valid_to - 1, %(limit)s::date))
"""

# SQLite keeps days as 'YYYY-MM-DD' text: a recursive walk from each piece to the next month's first day.
SQLITE_CUT = f"""
    INSERT INTO {TABLE} (hierarchy, population, unit_id, valid_from, valid_to, counts)
    WITH RECURSIVE piece(hierarchy, population, unit_id, piece_from, valid_to, counts, last_day) AS (
        SELECT hierarchy, population, unit_id, valid_from, valid_to, counts,
               COALESCE(date(valid_to, '-1 day'), %(limit)s)
        FROM {TABLE}
        WHERE date(valid_from, 'start of month') < date(COALESCE(date(valid_to, '-1 day'), %(limit)s),
                                                        'start of month')
        UNION ALL
        SELECT hierarchy, population, unit_id, date(piece_from, 'start of month', '+1 month'), valid_to, counts,
               last_day
        FROM piece WHERE date(piece_from, 'start of month', '+1 month') <= last_day
    )
    SELECT hierarchy, population, unit_id, piece_from,
           CASE WHEN date(piece_from, 'start of month', '+1 month') <= last_day
                THEN date(piece_from, 'start of month', '+1 month') ELSE valid_to END,
           counts
    FROM piece
"""
SQLITE_UNCUT = f"""
    DELETE FROM {TABLE}
    WHERE date(valid_from, 'start of month') < date(COALESCE(date(valid_to, '-1 day'), %(limit)s), 'start of month')
"""


def cut_by_month(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for hierarchy in HIERARCHIES:
            schema_editor.execute(f"DROP INDEX IF EXISTS unit_counts_range_{hierarchy}_spgist")
        statements = (POSTGRESQL_CUT, POSTGRESQL_UNCUT)
    elif vendor == "sqlite":
        for event in ("insert", "delete", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {SQLITE_TREE}_{event}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {SQLITE_TREE}")
        statements = (SQLITE_CUT, SQLITE_UNCUT)
    else:
        return
    # The pieces never meet the condition of the originals (each closed one lies within a month, an open one
    # starts in the limit's month or later): the delete takes exactly the runs just cut.
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, {"limit": schema_editor.connection.ops.adapt_datefield_value(_limit())})


def spgist_and_tree_again(apps, schema_editor):
    """Backwards: the cut runs stay (they are runs like any other); the old indexes come back."""
    vendor = schema_editor.connection.vendor
    execute = schema_editor.execute
    if vendor == "postgresql":
        for hierarchy in HIERARCHIES:
            execute(
                f"CREATE INDEX unit_counts_range_{hierarchy}_spgist ON {TABLE} "
                f"USING spgist (daterange(valid_from, valid_to)) WHERE hierarchy = '{hierarchy}'"
            )
    elif vendor == "sqlite":
        box = (
            "CAST(julianday({row}.valid_from) AS INTEGER), "
            "COALESCE(CAST(julianday({row}.valid_to) AS INTEGER) - 1, 2147483646), "
            "CASE {row}.hierarchy WHEN 'as_of' THEN 0 ELSE 1 END, "
            "CASE {row}.hierarchy WHEN 'as_of' THEN 0 ELSE 1 END"
        )
        execute(
            f"CREATE VIRTUAL TABLE {SQLITE_TREE} "
            "USING rtree_i32(id, from_day, to_day, hierarchy_low, hierarchy_high)"
        )
        execute(f"INSERT INTO {SQLITE_TREE} SELECT u.id, {box.format(row='u')} FROM {TABLE} u")
        execute(
            f"CREATE TRIGGER {SQLITE_TREE}_insert AFTER INSERT ON {TABLE} BEGIN "
            f"INSERT INTO {SQLITE_TREE} VALUES (NEW.id, {box.format(row='NEW')}); END"
        )
        execute(
            f"CREATE TRIGGER {SQLITE_TREE}_delete AFTER DELETE ON {TABLE} BEGIN "
            f"DELETE FROM {SQLITE_TREE} WHERE id = OLD.id; END"
        )
        execute(
            f"CREATE TRIGGER {SQLITE_TREE}_update AFTER UPDATE ON {TABLE} BEGIN "
            f"DELETE FROM {SQLITE_TREE} WHERE id = OLD.id; "
            f"INSERT INTO {SQLITE_TREE} VALUES (NEW.id, {box.format(row='NEW')}); END"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0009_unit_counts_days_btree_dropped"),
        ("orgs", "0003_history_ordered_from_the_beginning"),
    ]

    operations = [
        migrations.RunPython(cut_by_month, spgist_and_tree_again),
        migrations.AddIndex(
            model_name="unitcounts",
            index=models.Index(
                condition=models.Q(("valid_to__isnull", False)),
                fields=["hierarchy", "valid_from", "valid_to"],
                name="unit_counts_closed_from_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="unitcounts",
            index=models.Index(
                condition=models.Q(("valid_to__isnull", True)),
                fields=["hierarchy", "valid_from"],
                name="unit_counts_open_from_idx",
            ),
        ),
    ]
