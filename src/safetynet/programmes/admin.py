from django.contrib import admin

from safetynet.core.admin_base import ScopedReadOnlyAdmin
from safetynet.programmes.models import (
    AnkangCupEntry,
    CollectiveContract,
    EnterpriseSystem,
    Reminder,
    SafetySupervisor,
    ServiceStation,
    TeamSafetyBuilding,
    WorkerDirector,
)


@admin.register(CollectiveContract)
class CollectiveContractAdmin(ScopedReadOnlyAdmin):
    list_display = (
        "__str__",
        "kind",
        "scope",
        "org_unit",
        "status",
        "signed_on",
        "effective_on",
        "expires_on",
    )
    list_filter = ("kind", "scope", "status", "imported")
    list_select_related = ("org_unit",)


@admin.register(Reminder)
class ReminderAdmin(ScopedReadOnlyAdmin):
    list_display = ("contract", "kind", "due_on", "created_at", "recipients")
    list_filter = ("kind",)


@admin.register(EnterpriseSystem)
class EnterpriseSystemAdmin(ScopedReadOnlyAdmin):
    list_display = ("name", "system", "scope", "org_unit", "established_on", "abolished_on")
    list_filter = ("system", "scope")
    list_select_related = ("org_unit",)


@admin.register(WorkerDirector)
class WorkerDirectorAdmin(ScopedReadOnlyAdmin):
    list_display = ("person_name", "role", "enterprise", "valid_from", "valid_to", "needs_check")
    list_filter = ("role", "needs_check")


@admin.register(ServiceStation)
class ServiceStationAdmin(ScopedReadOnlyAdmin):
    list_display = ("name", "station_type", "org_unit", "enterprise", "opened_on", "closed_on", "staff_count")
    list_filter = ("station_type",)
    list_select_related = ("org_unit", "enterprise")


@admin.register(AnkangCupEntry)
class AnkangCupEntryAdmin(ScopedReadOnlyAdmin):
    list_display = ("enterprise", "year", "workers_taking_part")
    list_filter = ("year",)


@admin.register(SafetySupervisor)
class SafetySupervisorAdmin(ScopedReadOnlyAdmin):
    list_display = ("name", "enterprise", "trained_on", "valid_from", "valid_to")


@admin.register(TeamSafetyBuilding)
class TeamSafetyBuildingAdmin(ScopedReadOnlyAdmin):
    list_display = ("enterprise", "year", "built")
    list_filter = ("year", "built")
