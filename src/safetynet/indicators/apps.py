from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "safetynet.indicators"
    label = "indicators"
    verbose_name = "指标与目标"
