"""Establishment programmes (建制): collective contracts, workers' congresses and factory-affairs openness,
worker directors, service stations and safety work.

Dated facts follow the registry's rule: an interval [from, to) is active on d when from <= d and (to is
empty or d < to). The one exception is a contract's term, which the law writes with both ends included:
a contract is in force on d when effective_on <= d <= expires_on.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from safetynet.core.scope import ScopedQuerySet
from safetynet.orgs.models import Enterprise, OrgUnit

# --- collective contracts --------------------------------------------------------------------


class ContractKind(models.TextChoices):
    COMPREHENSIVE = "comprehensive", "综合"
    WAGE = "wage", "工资专项"
    WOMEN = "women", "女职工专项"
    SAFETY = "safety", "劳动安全卫生专项"


# The kinds that count for the wage bargaining coverage indicator (工资集体协商建制率).
WAGE_BARGAINING_KINDS = (ContractKind.COMPREHENSIVE, ContractKind.WAGE)


class ProgrammeScope(models.TextChoices):
    ENTERPRISE = "enterprise", "企业"
    REGIONAL = "regional", "区域性"
    INDUSTRY = "industry", "行业性"


class ContractStatus(models.TextChoices):
    OFFERED = "offered", "已发出要约"
    BARGAINING = "bargaining", "协商中"
    DRAFT = "draft", "草案待预审"
    RETURNED = "returned", "预审退回"
    REVIEWED = "reviewed", "预审通过"
    VOTE_FAILED = "vote_failed", "职代会未通过"
    APPROVED = "approved", "职代会审议通过"
    SIGNED = "signed", "已签订"
    FILED = "filed", "已备案"
    IN_FORCE = "in_force", "生效中"
    EXPIRED = "expired", "已到期"
    RENEWED = "renewed", "已续订"
    WITHDRAWN = "withdrawn", "已终止协商"


# Statuses of a contract that has been signed: only these can be in force on a day (their dates decide).
SIGNED_STATUSES = (
    ContractStatus.SIGNED,
    ContractStatus.FILED,
    ContractStatus.IN_FORCE,
    ContractStatus.EXPIRED,
    ContractStatus.RENEWED,
)


class ContractClause(models.TextChoices):
    WAGES = "wages", "劳动报酬"
    HOURS = "hours", "工作时间"
    REST = "rest", "休息休假"
    SAFETY = "safety", "劳动安全卫生"
    TRAINING = "training", "职业技能培训"
    CONTRACTS = "contracts", "劳动合同管理"
    DISCIPLINE = "discipline", "奖惩"
    INSURANCE = "insurance", "保险福利"
    WOMEN = "women", "女职工特殊保护"
    LAYOFFS = "layoffs", "裁员"
    TERM = "term", "期限与变更、解除、终止"
    DISPUTES = "disputes", "争议处理"


def contract_in_force_condition(day: datetime.date, prefix: str = "") -> Q:
    """Signed contracts whose term contains ``day`` (both ends included); ``prefix`` reaches the contract."""
    return Q(
        **{
            f"{prefix}status__in": SIGNED_STATUSES,
            f"{prefix}effective_on__lte": day,
            f"{prefix}expires_on__gte": day,
        }
    )


class ContractQuerySet(ScopedQuerySet):
    def in_force_on(self, day: datetime.date) -> ContractQuerySet:
        """Signed contracts whose term contains ``day`` (both ends included)."""
        return self.filter(contract_in_force_condition(day))

    def filing_overdue_on(self, day: datetime.date) -> ContractQuerySet:
        """Signed, not yet filed, and the 10 days for filing ran out before ``day``."""
        return self.filter(status=ContractStatus.SIGNED, filing_due_on__lt=day)

    def expiring_between(self, first: datetime.date, last: datetime.date) -> ContractQuerySet:
        return self.filter(status__in=SIGNED_STATUSES, expires_on__gte=first, expires_on__lte=last)

    def awaiting_review_by(self, unit: OrgUnit) -> ContractQuerySet:
        """Drafts submitted by the units directly below ``unit``: its pre-review work list."""
        return self.filter(status=ContractStatus.DRAFT, org_unit__parent=unit)


class CollectiveContract(models.Model):
    """A collective contract (集体合同) of one enterprise or a region / industry covering many."""

    SCOPE_PATH = "org_unit__path"

    kind = models.CharField("合同类型", max_length=20, choices=ContractKind.choices)
    scope = models.CharField(
        "合同范围", max_length=20, choices=ProgrammeScope.choices, default=ProgrammeScope.ENTERPRISE
    )
    title = models.CharField("合同名称", max_length=200, blank=True)
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name="承办单位", on_delete=models.PROTECT, related_name="contracts"
    )
    enterprises = models.ManyToManyField(
        Enterprise, through="ContractCoverage", related_name="contracts", verbose_name="覆盖企业"
    )
    # Sorted covered enterprise ids, hashed: with kind and effective_on it identifies a contract on re-import.
    coverage_digest = models.CharField("覆盖企业摘要", max_length=40, blank=True, editable=False)
    covered_employees = models.PositiveIntegerField("覆盖职工人数", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=20, choices=ContractStatus.choices, default=ContractStatus.OFFERED
    )
    offered_on = models.DateField("要约日期", null=True, blank=True)
    signed_on = models.DateField("签订日期", null=True, blank=True)
    filing_due_on = models.DateField("备案期限", null=True, blank=True)
    filed_on = models.DateField("备案日期", null=True, blank=True, help_text="人社部门收到合同文本的日期")
    filed_late = models.BooleanField("逾期备案", default=False)
    deemed_effective_on = models.DateField(
        "视为生效日期",
        null=True,
        blank=True,
        help_text="人社部门自收到文本之日起十五日内未提出异议的，合同即行生效",
    )
    effective_on = models.DateField("生效日期", null=True, blank=True)
    expires_on = models.DateField("到期日期", null=True, blank=True, help_text="到期日当天仍在有效期内")
    wage_rise_percent = models.DecimalField(
        "工资增幅（%）", max_digits=5, decimal_places=2, null=True, blank=True
    )
    clauses = models.JSONField("主要条款", default=list, blank=True)
    # The last congress vote, copied here so lists need no join; every vote is also a step.
    vote_held_on = models.DateField("职代会日期", null=True, blank=True)
    representatives_total = models.PositiveIntegerField("职工代表总数", null=True, blank=True)
    representatives_attended = models.PositiveIntegerField("出席代表数", null=True, blank=True)
    votes_for = models.PositiveIntegerField("赞成票", null=True, blank=True)
    votes_against = models.PositiveIntegerField("反对票", null=True, blank=True)
    previous = models.OneToOneField(
        "self",
        verbose_name="续订自",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="renewal",
    )
    imported = models.BooleanField("由文件导入", default=False)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = "集体合同"
        verbose_name_plural = "集体合同"
        ordering = ["org_unit__path", "-effective_on", "-pk"]
        indexes = [
            models.Index(fields=["kind", "coverage_digest", "effective_on"], name="contract_match_key_idx"),
            models.Index(fields=["status", "effective_on", "expires_on"], name="contract_status_term_idx"),
            models.Index(fields=["status", "filing_due_on"], name="contract_status_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True)
                | Q(effective_on__isnull=True)
                | Q(expires_on__gte=models.F("effective_on")),
                name="contract_term_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()}集体合同 #{self.pk}"

    def in_force_on(self, day: datetime.date) -> bool:
        return (
            self.status in SIGNED_STATUSES
            and self.effective_on is not None
            and self.expires_on is not None
            and self.effective_on <= day <= self.expires_on
        )

    def filing_overdue_on(self, day: datetime.date) -> bool:
        return (
            self.status == ContractStatus.SIGNED
            and self.filing_due_on is not None
            and day > self.filing_due_on
        )

    @property
    def vote_passed(self) -> bool | None:
        if self.representatives_total is None:
            return None
        from safetynet.programmes.workflow import vote_passes

        return vote_passes(
            total=self.representatives_total,
            attended=self.representatives_attended or 0,
            votes_for=self.votes_for or 0,
        )

    def clause_labels(self) -> list[str]:
        labels = dict(ContractClause.choices)
        return [labels.get(c, c) for c in self.clauses]


class ContractCoverage(models.Model):
    """An enterprise a contract covers, with the employees it covers there when known."""

    SCOPE_PATH = "contract__org_unit__path"

    contract = models.ForeignKey(CollectiveContract, on_delete=models.CASCADE, related_name="coverages")
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="contract_coverages")
    covered_employees = models.PositiveIntegerField("覆盖职工人数", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "合同覆盖企业"
        verbose_name_plural = "合同覆盖企业"
        ordering = ["contract", "enterprise"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "enterprise"], name="contractcoverage_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.contract} → {self.enterprise}"


class ContractAction(models.TextChoices):
    """The steps of the workflow; the transition table in workflow.py says when each is allowed."""

    OFFER = "offer", "发出要约"
    START_BARGAINING = "start_bargaining", "开始协商"
    SUBMIT_DRAFT = "submit_draft", "提交草案预审"
    PASS_REVIEW = "pass_review", "预审通过"
    RETURN_REVIEW = "return_review", "预审退回"
    RECORD_VOTE = "record_vote", "职代会审议"
    SIGN = "sign", "签订"
    FILE = "file", "报送备案"
    BUREAU_OBJECTION = "bureau_objection", "人社部门提出异议"
    TAKE_EFFECT = "take_effect", "生效"
    EXPIRE = "expire", "到期"
    RENEW = "renew", "续订"
    WITHDRAW = "withdraw", "终止协商"
    IMPORT = "import", "导入"


class ContractStep(models.Model):
    """One step taken on a contract: who, when, what it said, the document attached."""

    SCOPE_PATH = "contract__org_unit__path"

    contract = models.ForeignKey(CollectiveContract, on_delete=models.CASCADE, related_name="steps")
    action = models.CharField("步骤", max_length=30, choices=ContractAction.choices)
    from_status = models.CharField("原状态", max_length=20, choices=ContractStatus.choices, blank=True)
    to_status = models.CharField("新状态", max_length=20, choices=ContractStatus.choices)
    on = models.DateField("日期", help_text="该步骤发生的日期（如签订日期、备案日期）")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="经办人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField("经办人名称", max_length=150, blank=True)
    actor_unit = models.ForeignKey(
        OrgUnit, verbose_name="经办单位", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField("记录时间", auto_now_add=True)
    comment = models.TextField("意见 / 说明", blank=True)
    attachment = models.FileField("附件", upload_to="contracts/%Y/", blank=True)
    data = models.JSONField("步骤数据", default=dict, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "合同办理步骤"
        verbose_name_plural = "合同办理步骤"
        ordering = ["contract", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.contract} {self.get_action_display()} {self.on}"


class ReminderKind(models.TextChoices):
    EXPIRY = "expiry", "合同即将到期，请续订"
    FILING_OVERDUE = "filing_overdue", "合同签订后逾期未备案"


class Reminder(models.Model):
    """A reminder the sweep raised once for a contract (expiry ahead, filing overdue)."""

    SCOPE_PATH = "contract__org_unit__path"

    contract = models.ForeignKey(CollectiveContract, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField("提醒类型", max_length=20, choices=ReminderKind.choices)
    due_on = models.DateField("期限")
    created_at = models.DateTimeField("提醒时间")
    recipients = models.TextField("提醒对象", blank=True, help_text="账号，以“、”分隔")
    done_at = models.DateTimeField("处理时间", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "提醒"
        verbose_name_plural = "提醒"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "kind", "due_on"], name="reminder_once_per_due_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.contract}（{self.due_on}）"


# --- workers' congress and factory-affairs openness ------------------------------------------


class SystemKind(models.TextChoices):
    CONGRESS = "congress", "职代会"
    OPENNESS = "openness", "厂务公开"


class SystemQuerySet(ScopedQuerySet):
    def active_on(self, day: datetime.date) -> SystemQuerySet:
        return self.filter(
            Q(established_on__lte=day) & (Q(abolished_on__isnull=True) | Q(abolished_on__gt=day))
        )


class EnterpriseSystem(models.Model):
    """A workers' congress (职代会) or factory-affairs openness (厂务公开) system, for one enterprise or
    region / industry-wide covering several."""

    SCOPE_PATH = "org_unit__path"

    system = models.CharField("制度", max_length=20, choices=SystemKind.choices)
    scope = models.CharField(
        "范围", max_length=20, choices=ProgrammeScope.choices, default=ProgrammeScope.ENTERPRISE
    )
    name = models.CharField("名称", max_length=200, blank=True)
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name="所属区划", on_delete=models.PROTECT, related_name="systems"
    )
    enterprises = models.ManyToManyField(
        Enterprise, through="SystemCoverage", related_name="systems", verbose_name="覆盖企业"
    )
    established_on = models.DateField("建立日期")
    abolished_on = models.DateField("撤销日期", null=True, blank=True)
    imported = models.BooleanField("由文件导入", default=False)

    objects = SystemQuerySet.as_manager()

    class Meta:
        verbose_name = "职代会和厂务公开制度"
        verbose_name_plural = "职代会和厂务公开制度"
        ordering = ["org_unit__path", "system", "established_on"]
        indexes = [
            models.Index(fields=["system", "established_on", "abolished_on"], name="system_kind_dates_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(abolished_on__isnull=True) | Q(abolished_on__gt=models.F("established_on")),
                name="system_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.get_system_display()} #{self.pk}"

    def active_on(self, day: datetime.date) -> bool:
        return self.established_on <= day and (self.abolished_on is None or day < self.abolished_on)


class SystemCoverage(models.Model):
    """An enterprise a system covers during [valid_from, valid_to); empty dates mean the system's whole life."""

    SCOPE_PATH = "system__org_unit__path"

    system = models.ForeignKey(EnterpriseSystem, on_delete=models.CASCADE, related_name="coverages")
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="system_coverages")
    valid_from = models.DateField("覆盖起始", null=True, blank=True)
    valid_to = models.DateField("覆盖终止", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "制度覆盖企业"
        verbose_name_plural = "制度覆盖企业"
        ordering = ["system", "enterprise"]
        indexes = [
            models.Index(fields=["enterprise", "valid_from", "valid_to"], name="syscoverage_ent_dates_idx")
        ]

    def __str__(self) -> str:
        return f"{self.system} → {self.enterprise}"


class CongressSession(models.Model):
    """A session of a workers' congress: when, how many representatives, how many attended."""

    SCOPE_PATH = "system__org_unit__path"

    system = models.ForeignKey(EnterpriseSystem, on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField("会议名称", max_length=200, blank=True, help_text="如“第三届第二次职工代表大会”")
    held_on = models.DateField("召开日期")
    representatives_total = models.PositiveIntegerField("职工代表总数")
    attended = models.PositiveIntegerField("出席代表数")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "职代会会议"
        verbose_name_plural = "职代会会议"
        ordering = ["system", "-held_on"]

    def __str__(self) -> str:
        return self.title or f"{self.system}（{self.held_on}）"

    @property
    def quorate(self) -> bool:
        """At least two thirds of the representatives attended (integers, no rounding)."""
        return 3 * self.attended >= 2 * self.representatives_total


class VoteItemKind(models.TextChoices):
    CONTRACT = "contract", "集体合同"
    RESTRUCTURING = "restructuring", "改制方案"
    PLACEMENT = "placement", "职工安置方案"
    OTHER = "other", "其他事项"


class CongressVote(models.Model):
    """An item a session voted on (票决制) and its result."""

    SCOPE_PATH = "session__system__org_unit__path"

    session = models.ForeignKey(CongressSession, on_delete=models.CASCADE, related_name="votes")
    item_kind = models.CharField("事项类型", max_length=20, choices=VoteItemKind.choices)
    title = models.CharField("事项", max_length=200)
    contract = models.ForeignKey(
        CollectiveContract,
        verbose_name="集体合同",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="congress_votes",
    )
    votes_for = models.PositiveIntegerField("赞成")
    votes_against = models.PositiveIntegerField("反对")
    abstentions = models.PositiveIntegerField("弃权", default=0)
    passed = models.BooleanField("通过")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "职代会表决事项"
        verbose_name_plural = "职代会表决事项"
        ordering = ["session", "pk"]

    def __str__(self) -> str:
        return f"{self.title}（{'通过' if self.passed else '未通过'}）"


class WorkerDirectorRole(models.TextChoices):
    DIRECTOR = "director", "职工董事"
    SUPERVISOR = "supervisor", "职工监事"


class WorkerDirector(models.Model):
    """A worker director or supervisor (职工董事 / 监事) of a company-form enterprise, during [from, to)."""

    SCOPE_PATH = "enterprise__org_unit__path"

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="worker_directors")
    person_name = models.CharField("姓名", max_length=50)
    role = models.CharField("职务", max_length=20, choices=WorkerDirectorRole.choices)
    valid_from = models.DateField("任职起始")
    valid_to = models.DateField("任职终止", null=True, blank=True)
    # Only companies (公司制企业) have boards; a name not ending in 公司 is kept but flagged for checking.
    needs_check = models.BooleanField("待核实（企业名称不像公司制企业）", default=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "职工董事监事"
        verbose_name_plural = "职工董事监事"
        ordering = ["enterprise", "role", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="workerdirector_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_name}（{self.get_role_display()}）"


# --- service stations ------------------------------------------------------------------------


class StationType(models.TextChoices):
    COMPREHENSIVE = "comprehensive", "综合型"
    SPECIALISED = "specialised", "专项型"
    RADIATING = "radiating", "辐射型"


class StationFunction(models.TextChoices):
    ASSISTANCE = "assistance", "困难帮扶"
    LEGAL = "legal", "法律援助"
    EMPLOYMENT = "employment", "就业服务"
    TRAINING = "training", "技能培训"
    COUNSELLING = "counselling", "心理咨询"
    RIGHTS = "rights", "维权投诉"
    MEMBERSHIP = "membership", "入会服务"
    CULTURE = "culture", "文体活动"
    MEDICAL = "medical", "医疗互助"


class StationQuerySet(ScopedQuerySet):
    def open_on(self, day: datetime.date) -> StationQuerySet:
        return self.filter(Q(opened_on__lte=day) & (Q(closed_on__isnull=True) | Q(closed_on__gt=day)))


class ServiceStation(models.Model):
    """A workers' service station or assistance point (职工服务站 / 帮扶站 / 点) at an enterprise or a community."""

    SCOPE_PATH = "org_unit__path"

    name = models.CharField("名称", max_length=200)
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name="所在区划", on_delete=models.PROTECT, related_name="stations"
    )
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="所在企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stations",
    )
    station_type = models.CharField("类型", max_length=20, choices=StationType.choices)
    functions = models.JSONField("服务功能", default=list, blank=True)
    opened_on = models.DateField("启用日期")
    closed_on = models.DateField("撤销日期", null=True, blank=True)
    staff_count = models.PositiveIntegerField("工作人员数", default=0)

    objects = StationQuerySet.as_manager()

    class Meta:
        verbose_name = "职工服务站"
        verbose_name_plural = "职工服务站"
        ordering = ["org_unit__path", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gt=models.F("opened_on")),
                name="station_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def open_on(self, day: datetime.date) -> bool:
        return self.opened_on <= day and (self.closed_on is None or day < self.closed_on)

    def function_labels(self) -> list[str]:
        labels = dict(StationFunction.choices)
        return [labels.get(f, f) for f in self.functions]


# --- safety ----------------------------------------------------------------------------------


class AnkangCupEntry(models.Model):
    """An enterprise's participation in the Ankang Cup (安康杯) competition in one year."""

    SCOPE_PATH = "enterprise__org_unit__path"

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="ankang_entries")
    year = models.PositiveSmallIntegerField("年度")
    workers_taking_part = models.PositiveIntegerField("参赛职工人数")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "安康杯竞赛参赛"
        verbose_name_plural = "安康杯竞赛参赛"
        ordering = ["-year", "enterprise"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "year"], name="ankang_once_per_year")]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.year}年安康杯"


class SafetySupervisor(models.Model):
    """A labour-protection supervisor (劳动保护监督检查员) at an enterprise, appointed during [from, to)."""

    SCOPE_PATH = "enterprise__org_unit__path"

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="safety_supervisors")
    name = models.CharField("姓名", max_length=50)
    trained_on = models.DateField("培训日期", null=True, blank=True)
    valid_from = models.DateField("任职起始")
    valid_to = models.DateField("任职终止", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "劳动保护监督检查员"
        verbose_name_plural = "劳动保护监督检查员"
        ordering = ["enterprise", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="supervisor_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TeamSafetyBuilding(models.Model):
    """Whether an enterprise carried out team safety building (班组安全建设) in a year."""

    SCOPE_PATH = "enterprise__org_unit__path"

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="team_safety_years")
    year = models.PositiveSmallIntegerField("年度")
    built = models.BooleanField("已开展班组安全建设", default=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "班组安全建设"
        verbose_name_plural = "班组安全建设"
        ordering = ["-year", "enterprise"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "year"], name="teamsafety_once_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.year}年班组安全建设"
