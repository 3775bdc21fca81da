"""The emergency back office: staff accounts, scoped like every other read."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from safetynet.accounts.models import User
from safetynet.core.models import AuditAction
from safetynet.core.services import audit_record
from safetynet.orgs.models import OrgUnit


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = ("username", "full_name", "org_unit", "role", "is_active", "last_login")
    list_filter = ("role", "is_active", "is_superuser")
    search_fields = ("username", "full_name", "org_unit__name", "org_unit__code")
    list_select_related = ("org_unit",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("人员信息", {"fields": ("full_name", "org_unit", "role", "email")}),
        ("权限", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("时间", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2", "org_unit", "role")}),
    )
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).visible_to(request.user)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "org_unit":
            kwargs["queryset"] = OrgUnit.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # The admin bypasses the services, so it leaves its own trace in the audit trail.
        super().save_model(request, obj, form, change)
        changed = [name for name in form.changed_data if name not in {"password", "password1", "password2"}]
        changes = {name: [None, str(form.cleaned_data.get(name))] for name in changed}
        if "password" in form.changed_data or "password1" in form.changed_data:
            changes["password"] = [None, "******"]
        audit_record(
            actor=request.user,
            action=AuditAction.UPDATE if change else AuditAction.CREATE,
            instance=obj,
            changes=changes,
            unit_path=obj.org_unit.path if obj.org_unit else "",
            note="后台管理",
        )
