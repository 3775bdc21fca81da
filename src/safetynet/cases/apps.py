from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "safetynet.cases"
    label = "cases"
    verbose_name = "诉求调处"
