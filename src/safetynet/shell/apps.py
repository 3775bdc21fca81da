from django.apps import AppConfig


class ShellConfig(AppConfig):
    """The staff web shell: home page, registry overview, menu and top bar, the audit page.

    It lives apart from ``core`` because it needs the domain apps (units, roles) while ``core`` needs none.
    """

    name = "safetynet.shell"
    label = "shell"
    verbose_name = "工作台"
