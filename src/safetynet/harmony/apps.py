from django.apps import AppConfig


class HarmonyConfig(AppConfig):
    name = "safetynet.harmony"
    label = "harmony"
    verbose_name = "和谐劳动关系评价"
