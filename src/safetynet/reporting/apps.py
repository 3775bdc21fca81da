from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "safetynet.reporting"
    label = "reporting"
    verbose_name = "信息报送与预警"
