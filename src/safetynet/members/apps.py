from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "safetynet.members"
    label = "members"
    verbose_name = "会员管理"
