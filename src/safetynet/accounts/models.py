"""Staff accounts: each belongs to one org unit and has one role."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from safetynet.core.scope import ScopedQuerySet


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", _("市级管理员")
    UNIT_ADMIN = "unit_admin", _("单位管理员")
    OPERATOR = "operator", _("经办人")
    VIEWER = "viewer", _("查看人员")
    CHAIR = "chair", _("基层工会主席")


class Capability(models.TextChoices):
    """What a role may do; views and services ask for one of these, never for a role by name."""

    EDIT_UNITS = "edit_units", _("维护区域单位")
    EDIT_REGISTRY = "edit_registry", _("维护企业和工会")
    IMPORT = "import", _("导入数据")
    MANAGE_STAFF = "manage_staff", _("管理人员账号")
    VIEW_AUDIT = "view_audit", _("查看变更记录")
    VIEW_PERSONAL_DATA = "view_personal_data", _("查看完整证件号码和电话")
    HANDLE_CASES = "handle_cases", _("受理和调处诉求")
    FILE_REPORTS = "file_reports", _("报送信息报表")
    HANDLE_WARNINGS = "handle_warnings", _("登记和处置预警信息")
    # Forms are one table for the whole city: only a city-level administrator uses this (reporting checks).
    DESIGN_FORMS = "design_forms", _("设计信息报表")
    # Assistance: officers open files and apply; reviewers vote; funds (rounds, budgets, payments) are a
    # unit administrator's, kept apart from the people who apply.
    HANDLE_ASSISTANCE = "handle_assistance", _("经办困难帮扶")
    REVIEW_ASSISTANCE = "review_assistance", _("审核困难帮扶")
    MANAGE_ASSISTANCE_FUNDS = "manage_assistance_funds", _("管理帮扶资金（活动、预算、发放）")
    # Assessment: the level above runs the scheme and scores; the assessed unit signs, uploads and appeals.
    ASSESS = "assess", _("组织考核评分")
    RESPOND_ASSESSMENT = "respond_assessment", _("报送考核材料和申诉")
    RECORD_VISITS = "record_visits", _("登记走访")


ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.CITY_ADMIN: frozenset(Capability.values),
    Role.UNIT_ADMIN: frozenset(Capability.values),
    Role.OPERATOR: frozenset(
        {
            Capability.EDIT_REGISTRY,
            Capability.IMPORT,
            Capability.VIEW_AUDIT,
            Capability.HANDLE_CASES,
            Capability.FILE_REPORTS,
            Capability.HANDLE_WARNINGS,
            Capability.HANDLE_ASSISTANCE,
            Capability.REVIEW_ASSISTANCE,
            Capability.RESPOND_ASSESSMENT,
            Capability.RECORD_VISITS,
        }
    ),
    # A grassroots chair keeps the union's roster: uploads it, corrects it.
    Role.CHAIR: frozenset({Capability.EDIT_REGISTRY, Capability.IMPORT}),
    Role.VIEWER: frozenset(),
}


class UserQuerySet(ScopedQuerySet):
    pass


class StaffManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    """Keeps create_user / get_by_natural_key and adds ``visible_to``."""


class User(AbstractUser):
    SCOPE_PATH = "org_unit__path"

    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    org_unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.VIEWER)

    objects = StaffManager()

    class Meta:
        verbose_name = _("人员账号")
        verbose_name_plural = _("人员账号")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.full_name or self.username

    def can(self, capability: str) -> bool:
        if not self.is_active:
            return False
        if self.is_superuser and self.org_unit_id is None:
            return True
        return capability in ROLE_CAPABILITIES.get(self.role, frozenset())
