from django.contrib import admin

from safetynet.core.admin_base import ScopedReadOnlyAdmin
from safetynet.indicators.models import Target


@admin.register(Target)
class TargetAdmin(ScopedReadOnlyAdmin):
    list_display = ("indicator", "org_unit", "year", "value", "set_by", "set_at")
    list_filter = ("indicator", "year")
