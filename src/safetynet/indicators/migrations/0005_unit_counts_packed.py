from django.db import migrations, models


def forget_built_counters(apps, schema_editor):
    # The units' counts change encoding (text → packed fields): what was built is removed, so nothing reads it
    # in the new encoding; the engine answers until `safetynet indicators --rebuild-counters` has run.
    apps.get_model("indicators", "UnitCounts").objects.all().delete()
    apps.get_model("indicators", "CounterLayout").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("indicators", "0004_unit_counts_range_index_per_hierarchy")]

    operations = [
        migrations.RunPython(forget_built_counters, forget_built_counters),
        migrations.AlterField(model_name="unitcounts", name="counts", field=models.BinaryField()),
    ]
