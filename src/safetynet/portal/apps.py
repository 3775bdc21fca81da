from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "safetynet.portal"
    label = "portal"
    verbose_name = "网络工会（职工服务平台）"
