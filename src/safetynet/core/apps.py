from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "safetynet.core"
    label = "core"
    verbose_name = "公共"
