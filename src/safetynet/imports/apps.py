from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "safetynet.imports"
    label = "imports"
    verbose_name = "数据导入导出"
