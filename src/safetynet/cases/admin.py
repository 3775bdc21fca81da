"""Cases in the admin: scoped and read-only (the timeline is never edited; writes go through the services)."""

from django.contrib import admin

from safetynet.cases.models import Case, CaseStep, Escalation, Outcome
from safetynet.core.admin_base import ScopedReadOnlyAdmin


@admin.register(Case)
class CaseAdmin(ScopedReadOnlyAdmin):
    list_display = ("number", "kind", "category", "status", "level", "unit", "deadline", "collective")
    list_filter = ("kind", "status", "level", "category", "collective")
    list_select_related = ("unit",)
    search_fields = ("number",)


@admin.register(CaseStep)
class CaseStepAdmin(ScopedReadOnlyAdmin):
    list_display = ("case", "at", "action", "actor_name", "from_unit", "to_unit", "reason")
    list_filter = ("action",)
    list_select_related = ("case", "from_unit", "to_unit")


@admin.register(Escalation)
class EscalationAdmin(ScopedReadOnlyAdmin):
    list_display = ("case", "at", "reason", "from_unit", "to_unit")
    list_filter = ("reason",)


@admin.register(Outcome)
class OutcomeAdmin(ScopedReadOnlyAdmin):
    list_display = ("case", "kind", "decided_at", "unit", "on_time")
    list_filter = ("kind", "on_time")
