"""The audit trail in the back office: read-only, and scoped like the page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from safetynet.core.models import AuditEntry
from safetynet.core.selectors import audit_list_for_user


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "entity", "object_repr", "address")
    list_filter = ("action", "entity")
    search_fields = ("object_repr", "actor_name", "object_id")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEntry]:
        return audit_list_for_user(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_staff and request.user.can("view_audit")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    # The trail is written only by services; nobody edits or removes it, not even a superuser.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
