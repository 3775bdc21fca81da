from django.apps import AppConfig


class ExemplarsConfig(AppConfig):
    name = "safetynet.exemplars"
    label = "exemplars"
    verbose_name = "劳模与劳动竞赛"
