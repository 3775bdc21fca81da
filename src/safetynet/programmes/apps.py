from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "safetynet.programmes"
    label = "programmes"
    verbose_name = "建制工作"
