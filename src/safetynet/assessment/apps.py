from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "safetynet.assessment"
    label = "assessment"
    verbose_name = "目标考核"
