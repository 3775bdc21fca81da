from django.contrib import admin

from safetynet.core.admin_base import ScopedReadOnlyAdmin
from safetynet.orgs.models import Enterprise, GrassrootsUnion, Industry, OrgUnit


@admin.register(OrgUnit)
class OrgUnitAdmin(ScopedReadOnlyAdmin):
    list_display = ("code", "name", "level", "parent", "valid_from", "valid_to")
    list_filter = ("level",)
    search_fields = ("code", "name")


@admin.register(Enterprise)
class EnterpriseAdmin(ScopedReadOnlyAdmin):
    list_display = (
        "credit_code",
        "name",
        "org_unit",
        "ownership",
        "headcount",
        "founded_on",
        "deregistered_on",
    )
    list_filter = ("ownership", "above_designated_size")
    search_fields = ("credit_code", "name")
    list_select_related = ("org_unit",)


@admin.register(GrassrootsUnion)
class GrassrootsUnionAdmin(ScopedReadOnlyAdmin):
    list_display = ("name", "union_type", "org_unit", "founded_on", "dissolved_on", "chair_name")
    list_filter = ("union_type",)
    search_fields = ("name", "chair_name")
    list_select_related = ("org_unit",)


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ("code", "name")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
