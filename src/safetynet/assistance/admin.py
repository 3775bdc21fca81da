"""服务帮扶 in the admin (read-only views for support): writes go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from safetynet.assistance import models


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(models.HardshipFile)
class HardshipFileAdmin(ReadOnlyAdmin):
    list_display = ("pk", "person", "org_unit", "status", "opened_on", "closed_on", "income_per_head")
    list_filter = ("status", "level")
    raw_id_fields = ("person", "org_unit")


@admin.register(models.Round)
class RoundAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "year", "org_unit", "status", "window_opens", "window_closes")
    list_filter = ("kind", "year", "status")


@admin.register(models.Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ("pk", "round", "person", "org_unit", "status", "current_level", "amount")
    list_filter = ("status",)
    raw_id_fields = ("person", "org_unit", "hardship_file", "round")


@admin.register(models.Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("pk", "round", "person", "kind", "amount", "created_on", "paid_on")
    list_filter = ("kind",)
    raw_id_fields = ("person", "org_unit", "application", "batch", "reverses", "round")


@admin.register(models.Budget)
class BudgetAdmin(ReadOnlyAdmin):
    list_display = ("round", "org_unit", "amount", "spent")


@admin.register(models.Vote)
class VoteAdmin(ReadOnlyAdmin):
    list_display = ("application", "level", "voter_name", "decision", "created_at")


@admin.register(models.Loan)
class LoanAdmin(ReadOnlyAdmin):
    list_display = ("pk", "person", "org_unit", "principal", "status", "granted_on")
    raw_id_fields = ("person", "org_unit", "hardship_file", "round")


@admin.register(models.DiscountBase)
class DiscountBaseAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "org_unit", "valid_from", "valid_to")
    list_filter = ("kind",)
