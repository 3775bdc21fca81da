from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "safetynet.accounts"
    label = "accounts"
    verbose_name = "系统管理"

    def ready(self) -> None:
        from safetynet.accounts import signals  # noqa: F401  (connects the login trail's receivers)
