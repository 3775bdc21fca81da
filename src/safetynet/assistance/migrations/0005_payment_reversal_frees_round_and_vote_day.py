"""A reversed payment no longer blocks a new one: the payment row records the day it was reversed
(``reversed_on``, filled here from the existing reversal rows) and the per person / per household uniqueness
of a round counts only live payments. Votes may be recorded for a given day (``created_at`` set by the
service instead of always "now"; no database change)."""

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def fill_reversed_on(apps, schema_editor):
    Payment = apps.get_model("assistance", "Payment")
    reversals = Payment.objects.filter(kind="reversal").values_list("reverses_id", "created_on")
    for reversed_id, day in reversals.iterator():
        Payment.objects.filter(pk=reversed_id).update(reversed_on=day)


class Migration(migrations.Migration):
    dependencies = [
        ("assistance", "0004_application_submitted_via"),
        ("members", "0006_search_indexes_in_byte_order_and_covering"),
        ("orgs", "0003_history_ordered_from_the_beginning"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="payment",
            name="assist_payment_once_per_person",
        ),
        migrations.RemoveConstraint(
            model_name="payment",
            name="assist_payment_once_per_household",
        ),
        migrations.AddField(
            model_name="payment",
            name="reversed_on",
            field=models.DateField(blank=True, editable=False, null=True, verbose_name="冲正日期"),
        ),
        migrations.AlterField(
            model_name="vote",
            name="created_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, editable=False, verbose_name="时间"
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "payment"), ("reversed_on__isnull", True)),
                fields=("round", "person"),
                name="assist_payment_live_per_person",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "payment"), ("reversed_on__isnull", True)),
                fields=("round", "household_key"),
                name="assist_payment_live_per_household",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(("reversed_on__isnull", True), ("kind", "payment"), _connector="OR"),
                name="assist_payment_reversed_on_payments_only",
            ),
        ),
        # Last, after every schema change (PostgreSQL refuses ALTER TABLE with pending row events).
        migrations.RunPython(fill_reversed_on, migrations.RunPython.noop),
    ]
