from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "safetynet.orgs"
    label = "orgs"
    verbose_name = "组织建设"
