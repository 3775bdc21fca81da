"""Reporting records in the admin: scoped and read-only (writes go through the pages and services)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from safetynet.core.admin_base import ScopedReadOnlyAdmin
from safetynet.reporting.models import FormVersion, Reminder, Report, ReportForm, WarningSignal


class CityWideReadOnlyAdmin(admin.ModelAdmin):
    """Forms are city-wide settings: every staff member may read them; they change in the designer only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_staff


@admin.register(ReportForm)
class ReportFormAdmin(CityWideReadOnlyAdmin):
    list_display = (
        "code",
        "name",
        "period_kind",
        "level",
        "due_day",
        "is_warning",
        "enabled_from",
        "enabled_to",
    )
    list_filter = ("period_kind", "level", "is_warning")


@admin.register(FormVersion)
class FormVersionAdmin(CityWideReadOnlyAdmin):
    list_display = ("form", "number", "published_at")


@admin.register(Report)
class ReportAdmin(ScopedReadOnlyAdmin):
    list_display = ("form", "period", "unit", "submitted_at", "is_zero", "source")
    list_filter = ("form", "is_zero", "source")
    list_select_related = ("form", "unit")
    search_fields = ("period", "unit__code", "unit__name")


@admin.register(Reminder)
class ReminderAdmin(ScopedReadOnlyAdmin):
    list_display = ("form", "period", "unit", "kind", "sent_at", "recipients")
    list_filter = ("kind",)
    list_select_related = ("form", "unit")


@admin.register(WarningSignal)
class WarningSignalAdmin(ScopedReadOnlyAdmin):
    list_display = ("pk", "enterprise", "category", "discovered_on", "reported_at", "status")
    list_filter = ("category", "status", "source")
    list_select_related = ("enterprise",)
    search_fields = ("enterprise__name", "enterprise__credit_code")
