from django.db import migrations

# SP-GiST instead of GiST for each hierarchy's range index: on the city demo a day's read of 4,365 unit rows
# took 6.4–6.6 ms warm against 19 ms (the index scan itself 1.3 ms against 12.8 ms), and inserting 24,182 rows
# (a refresh's rewrite) cost no more (0.87–1.45 s against 0.76–1.64 s, on a loaded machine); bench/RESULTS.md.
HIERARCHIES = ("as_of", "today")


def to_spgist(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for hierarchy in HIERARCHIES:
        schema_editor.execute(
            f"CREATE INDEX unit_counts_range_{hierarchy}_spgist ON indicators_unitcounts "
            f"USING spgist (daterange(valid_from, valid_to)) WHERE hierarchy = '{hierarchy}'"
        )
        schema_editor.execute(f"DROP INDEX IF EXISTS unit_counts_range_{hierarchy}_gist")


def to_gist(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for hierarchy in HIERARCHIES:
        schema_editor.execute(
            f"CREATE INDEX unit_counts_range_{hierarchy}_gist ON indicators_unitcounts "
            f"USING gist (daterange(valid_from, valid_to)) WHERE hierarchy = '{hierarchy}'"
        )
        schema_editor.execute(f"DROP INDEX IF EXISTS unit_counts_range_{hierarchy}_spgist")


class Migration(migrations.Migration):
    dependencies = [("indicators", "0006_employment_counts_per_enterprise")]

    operations = [migrations.RunPython(to_spgist, to_gist)]
