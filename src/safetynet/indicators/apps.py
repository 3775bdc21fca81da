from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_counter_triggers(sender, using, **kwargs) -> None:
    """The triggers that note changed enterprises follow the apps' declarations: recreated after migrate."""
    from django.db import connections

    from safetynet.indicators.triggers import install_triggers

    install_triggers(connections[using])


class IndicatorsConfig(AppConfig):
    name = "safetynet.indicators"
    label = "indicators"
    verbose_name = "指标与目标"

    def ready(self) -> None:
        from safetynet.core.writes import after_write_register
        from safetynet.indicators.counters import counters_refresh_after_write

        post_migrate.connect(_install_counter_triggers, sender=self)
        # A correction is taken into the counters at the writer's cost, right after its commit.
        after_write_register("indicator_counters", counters_refresh_after_write)
