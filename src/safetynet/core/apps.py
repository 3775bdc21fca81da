from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "safetynet.core"
    label = "core"
    verbose_name = "公共"

    def ready(self) -> None:
        from safetynet.core import checks  # noqa: F401 - registers the deployment checks
