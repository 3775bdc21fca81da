from django.db import migrations

# SQLite: an R*Tree over each unit run's days and hierarchy, kept by triggers, finds a day's runs. On the city
# demo a day's read of 4,361 unit rows took 52–66 ms against 1.1–1.8 s through the (valid_from, valid_to) B-tree,
# which has to walk every run that began before the day (bench/RESULTS.md). PostgreSQL has its SP-GiST indexes
# (0007). The same statements are in indicators/counters.py (``_sqlite_days_index``), which drops and rebuilds
# the tree around a full rebuild of the counters; they are copied here so that this migration never changes.
TABLE = "indicators_unitcounts_days"
BOX = (
    "CAST(julianday({row}.valid_from) AS INTEGER), "
    "COALESCE(CAST(julianday({row}.valid_to) AS INTEGER) - 1, 2147483646), "
    "CASE {row}.hierarchy WHEN 'as_of' THEN 0 ELSE 1 END, CASE {row}.hierarchy WHEN 'as_of' THEN 0 ELSE 1 END"
)


def create_tree(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    execute = schema_editor.execute
    execute(f"CREATE VIRTUAL TABLE {TABLE} USING rtree_i32(id, from_day, to_day, hierarchy_low, hierarchy_high)")
    execute(f"INSERT INTO {TABLE} SELECT u.id, {BOX.format(row='u')} FROM indicators_unitcounts u")
    execute(
        f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON indicators_unitcounts BEGIN "
        f"INSERT INTO {TABLE} VALUES (NEW.id, {BOX.format(row='NEW')}); END"
    )
    execute(
        f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON indicators_unitcounts BEGIN "
        f"DELETE FROM {TABLE} WHERE id = OLD.id; END"
    )
    execute(
        f"CREATE TRIGGER {TABLE}_update AFTER UPDATE ON indicators_unitcounts BEGIN "
        f"DELETE FROM {TABLE} WHERE id = OLD.id; INSERT INTO {TABLE} VALUES (NEW.id, {BOX.format(row='NEW')}); END"
    )


def drop_tree(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for event in ("insert", "delete", "update"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{event}")
    schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}")


class Migration(migrations.Migration):
    dependencies = [("indicators", "0007_unit_counts_range_spgist")]

    operations = [migrations.RunPython(create_tree, drop_tree)]
