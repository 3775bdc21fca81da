"""服务帮扶: hardship files, relief rounds with budgets, applications with a vote ledger, payments, loans and
member discount bases.

Dated facts use [from, to): a file is open on d when opened_on <= d and (closed_on is empty or d < closed_on).
Money is Decimal to the fen everywhere (max_digits 12, decimal_places 2). The database itself refuses a second
payment to a person or a household in a round (partial unique constraints) and a budget overdrawn (a check
constraint on Budget.spent, moved with F() under a row lock); see services.payment_*.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from safetynet.core.scope import ScopedQuerySet
from safetynet.orgs.models import OrgLevel, OrgUnit

MONEY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")


# --- choices -------------------------------------------------------------------------------------


class Cause(models.TextChoices):
    ILLNESS = "illness", "因病"
    DISABILITY = "disability", "因残"
    DISASTER = "disaster", "因灾"
    SINGLE_PARENT = "single_parent", "单亲"
    SCHOOLING = "schooling", "子女上学"
    UNEMPLOYMENT = "unemployment", "失业"
    OTHER = "other", "其他"


class HardshipLevel(models.TextChoices):
    GENERAL = "general", "一般困难"
    EXTREME = "extreme", "特困"


class FileStatus(models.TextChoices):
    OPEN = "open", "在档待审"
    REVIEWED = "reviewed", "在档已审"
    CLOSED = "closed", "已脱困"


class FileAction(models.TextChoices):
    REVIEW = "review", "审核"
    CLOSE = "close", "脱困销档"


class CloseReason(models.TextChoices):
    INCOME_RISEN = "income_risen", "收入提高"
    EMPLOYED = "employed", "实现就业"
    RECOVERED = "recovered", "病愈或困难消除"
    MOVED = "moved", "迁出本地"
    DECEASED = "deceased", "去世"
    OTHER = "other", "其他"


class ProgrammeKind(models.TextChoices):
    WINTER_RELIEF = "winter_relief", "送温暖"
    STUDENT_AID = "student_aid", "金秋助学"
    MEDICAL_AID = "medical_aid", "医疗互助"
    LEGAL_AID = "legal_aid", "法律援助"
    LOAN = "loan", "小额无息借款"
    TRAINING = "training", "就业培训"


class RoundStatus(models.TextChoices):
    DRAFT = "draft", "筹备中"
    OPEN = "open", "进行中"
    CLOSED = "closed", "已结束"


class RoundAction(models.TextChoices):
    OPEN = "open", "开始"
    CLOSE = "close", "结束"


class BatchAction(models.TextChoices):
    MARK_PAID = "mark_paid", "标记已发放"


class ApplicationStatus(models.TextChoices):
    IN_REVIEW = "in_review", "审核中"
    APPROVED = "approved", "审核通过"
    IN_NOTICE = "in_notice", "公示中"
    NOTICE_PASSED = "notice_passed", "公示期满待发放"
    PAID = "paid", "已发放"
    REJECTED = "rejected", "未通过"
    WITHDRAWN = "withdrawn", "已撤回"


LIVE_APPLICATION_STATUSES = (
    ApplicationStatus.IN_REVIEW,
    ApplicationStatus.APPROVED,
    ApplicationStatus.IN_NOTICE,
    ApplicationStatus.NOTICE_PASSED,
    ApplicationStatus.PAID,
)


class ApplicationAction(models.TextChoices):
    APPROVE = "approve", "同意"
    REJECT = "reject", "不同意"
    START_NOTICE = "start_notice", "开始公示"
    UPHOLD_OBJECTION = "uphold_objection", "异议成立"
    END_NOTICE = "end_notice", "结束公示"
    PAY = "pay", "发放"
    # A reversed payment sends the application back to 公示期满 (awaiting payment), so it can be paid again.
    REVERSE_PAYMENT = "reverse_payment", "冲正"
    WITHDRAW = "withdraw", "撤回"


class Decision(models.TextChoices):
    APPROVE = "approve", "同意"
    REJECT = "reject", "不同意"


class ObjectionStatus(models.TextChoices):
    OPEN = "open", "待处理"
    UPHELD = "upheld", "异议成立"
    DISMISSED = "dismissed", "异议不成立"


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", "发放"
    REVERSAL = "reversal", "冲正"


class BatchStatus(models.TextChoices):
    PREPARED = "prepared", "待银行发放"
    PAID = "paid", "已发放"


class LoanStatus(models.TextChoices):
    ACTIVE = "active", "还款中"
    REPAID = "repaid", "已还清"
    WRITE_OFF_REQUESTED = "write_off_requested", "核销待批"
    WRITTEN_OFF = "written_off", "已核销"


class LoanAction(models.TextChoices):
    REQUEST_WRITE_OFF = "request_write_off", "申请核销"
    APPROVE_WRITE_OFF = "approve_write_off", "批准核销"
    REJECT_WRITE_OFF = "reject_write_off", "驳回核销"
    SETTLE = "settle", "还清"


class EvidenceKind(models.TextChoices):
    INCOME = "income", "收入证明"
    MEDICAL = "medical", "医疗诊断或费用证明"
    DISABILITY = "disability", "残疾证"
    ADMISSION = "admission", "录取通知书"
    HOUSEHOLD = "household", "户口簿"
    OTHER = "other", "其他"


class BaseKind(models.TextChoices):
    HOSPITAL = "hospital", "医院"
    PHARMACY = "pharmacy", "药店"
    SHOP = "shop", "商店"
    OTHER = "other", "其他"


def open_on_q(day: datetime.date, prefix: str = "") -> Q:
    """[opened_on, closed_on) contains day."""
    return Q(**{f"{prefix}opened_on__lte": day}) & (
        Q(**{f"{prefix}closed_on__isnull": True}) | Q(**{f"{prefix}closed_on__gt": day})
    )


# --- hardship files ------------------------------------------------------------------------------


class IncomeThreshold(models.Model):
    """The monthly income per head below which a household counts as in hardship: per district and year."""

    SCOPE_PATH = "org_unit__path"

    org_unit = models.ForeignKey(OrgUnit, verbose_name="区市县", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField("年度")
    monthly_per_head = models.DecimalField("人均月收入标准（元）", **MONEY)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "困难标准"
        verbose_name_plural = "困难标准"
        ordering = ["org_unit__path", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "year"], name="assist_threshold_unique"),
            models.CheckConstraint(condition=Q(monthly_per_head__gt=0), name="assist_threshold_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.org_unit.name} {self.year} 年：{self.monthly_per_head} 元/人·月"


class HardshipFile(models.Model):
    """困难职工档案: one household in hardship, filed for a registered worker at a community or street."""

    SCOPE_PATH = "org_unit__path"

    person = models.ForeignKey(
        "members.Person", verbose_name="职工", on_delete=models.PROTECT, related_name="hardship_files"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name="建档单位", on_delete=models.PROTECT, related_name="hardship_files"
    )
    # Who counts as one household for "one payment per household in a round": the lookup hash of the head's
    # ID number unless a household register number was given (then its hash). Never a clear number.
    household_key = models.CharField("家庭识别码", max_length=64, editable=False)
    household_size = models.PositiveSmallIntegerField("家庭人口")
    monthly_income = models.DecimalField("家庭月收入（元）", **MONEY)
    income_per_head = models.DecimalField("人均月收入（元）", **MONEY, editable=False)
    # The district threshold in force for the opening year, copied when the file is opened or reviewed.
    threshold = models.DecimalField("困难标准（元/人·月）", **MONEY, null=True, blank=True, editable=False)
    causes = models.CharField("困难类型", max_length=120, help_text="以逗号分隔的代码")
    level = models.CharField("困难程度", max_length=10, choices=HardshipLevel.choices, default="general")
    status = models.CharField("状态", max_length=10, choices=FileStatus.choices, default=FileStatus.OPEN)
    opened_on = models.DateField("建档日期")
    closed_on = models.DateField("脱困日期", null=True, blank=True)
    close_reason = models.CharField("脱困原因", max_length=20, choices=CloseReason.choices, blank=True)
    close_note = models.CharField("脱困说明", max_length=200, blank=True)
    reviewed_on = models.DateField("最近审核日期", null=True, blank=True)
    review_due_on = models.DateField("年度复核到期日")
    review_reminded_on = models.DateField("复核提醒日期", null=True, blank=True, editable=False)
    note = models.TextField("备注", blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField("建档时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "困难职工档案"
        verbose_name_plural = "困难职工档案"
        ordering = ["-opened_on", "-pk"]
        constraints = [
            # A second open file for the same person is refused by the database too.
            models.UniqueConstraint(
                fields=["person"], condition=Q(closed_on__isnull=True), name="assist_file_one_open_per_person"
            ),
            models.CheckConstraint(condition=Q(household_size__gte=1), name="assist_file_household_positive"),
            models.CheckConstraint(
                condition=Q(monthly_income__gte=0), name="assist_file_income_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")),
                name="assist_file_dates_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["org_unit", "opened_on"], name="assist_file_unit_idx"),
            models.Index(fields=["review_due_on"], name="assist_file_due_idx"),
            models.Index(fields=["household_key"], name="assist_file_household_idx"),
        ]

    def __str__(self) -> str:
        return f"困难档案 #{self.pk} {self.person.name}"

    @property
    def cause_codes(self) -> list[str]:
        return [c for c in self.causes.split(",") if c]

    @property
    def cause_labels(self) -> list[str]:
        labels = dict(Cause.choices)
        return [str(labels.get(c, c)) for c in self.cause_codes]

    @property
    def below_threshold(self) -> bool | None:
        return None if self.threshold is None else self.income_per_head < self.threshold

    def is_open_on(self, day: datetime.date) -> bool:
        return self.opened_on <= day and (self.closed_on is None or day < self.closed_on)


class HouseholdMember(models.Model):
    """A member of the file's household (besides the worker), for the record; never an ID number in clear."""

    SCOPE_PATH = "hardship_file__org_unit__path"

    hardship_file = models.ForeignKey(
        HardshipFile, verbose_name="档案", on_delete=models.CASCADE, related_name="household_members"
    )
    name = models.CharField("姓名", max_length=50)
    relation = models.CharField("与职工关系", max_length=20)
    birth_year = models.PositiveSmallIntegerField("出生年份", null=True, blank=True)
    note = models.CharField("情况", max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "家庭成员"
        verbose_name_plural = "家庭成员"
        ordering = ["hardship_file_id", "pk"]

    def __str__(self) -> str:
        return f"{self.name}（{self.relation}）"


class FileReview(models.Model):
    """One review of a file (the street's first check and every yearly review): dated, never edited."""

    SCOPE_PATH = "hardship_file__org_unit__path"

    hardship_file = models.ForeignKey(HardshipFile, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField("审核日期")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer_name = models.CharField("审核人", max_length=150)
    monthly_income = models.DecimalField("家庭月收入（元）", **MONEY)
    household_size = models.PositiveSmallIntegerField("家庭人口")
    note = models.CharField("审核意见", max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "档案审核记录"
        verbose_name_plural = "档案审核记录"
        ordering = ["hardship_file_id", "reviewed_on", "pk"]

    def __str__(self) -> str:
        return f"{self.reviewed_on} {self.reviewer_name}"


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    return f"assistance/evidence/{datetime.date.today():%Y/%m}/{filename}"


class Evidence(models.Model):
    """An attachment proving a file or an application (type and size checked by services.evidence_attach)."""

    SCOPE_PATH = "org_unit__path"

    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    hardship_file = models.ForeignKey(
        HardshipFile, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence"
    )
    application = models.ForeignKey(
        "Application", null=True, blank=True, on_delete=models.CASCADE, related_name="evidence"
    )
    kind = models.CharField("材料类型", max_length=20, choices=EvidenceKind.choices)
    file = models.FileField("文件", upload_to=evidence_upload_to)
    original_name = models.CharField("文件名", max_length=200)
    content_type = models.CharField("文件类型", max_length=100)
    size = models.PositiveIntegerField("大小（字节）")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "证明材料"
        verbose_name_plural = "证明材料"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hardship_file__isnull=False) | Q(application__isnull=False),
                name="assist_evidence_has_owner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.original_name}"


# --- rounds and budgets --------------------------------------------------------------------------


class Round(models.Model):
    """One round of a programme (e.g. 2013 年送温暖): window, amounts, eligibility, review chain."""

    SCOPE_PATH = "org_unit__path"

    kind = models.CharField("帮扶项目", max_length=20, choices=ProgrammeKind.choices)
    year = models.PositiveSmallIntegerField("年度")
    title = models.CharField("名称", max_length=100)
    org_unit = models.ForeignKey(OrgUnit, verbose_name="组织单位", on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=10, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    window_opens = models.DateField("申请开始日期")
    window_closes = models.DateField("申请截止日期")
    standard_amount = models.DecimalField("标准金额（元）", **MONEY, null=True, blank=True)
    min_amount = models.DecimalField("最低金额（元）", **MONEY, null=True, blank=True)
    max_amount = models.DecimalField("最高金额（元）", **MONEY, null=True, blank=True)
    require_open_file = models.BooleanField("须在困难档案内", default=True)
    require_member = models.BooleanField("须为工会会员", default=False)
    require_below_threshold = models.BooleanField("人均收入须低于困难标准", default=True)
    require_not_paid = models.BooleanField("本轮未领取过", default=True)
    # The review chain: levels in order, e.g. "3,2,1" = 街道 → 区 → 市 (OrgLevel values).
    review_levels = models.CharField("审核层级", max_length=20, default="3,2")
    notice_days = models.PositiveSmallIntegerField("公示期（工作日）", default=5)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "帮扶批次"
        verbose_name_plural = "帮扶批次"
        ordering = ["-year", "kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_closes__gte=models.F("window_opens")), name="assist_round_window_ordered"
            ),
            models.CheckConstraint(
                condition=Q(standard_amount__isnull=False)
                | (Q(min_amount__isnull=False) & Q(max_amount__isnull=False)),
                name="assist_round_has_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def levels(self) -> list[int]:
        return [int(x) for x in self.review_levels.split(",") if x]

    def level_label(self, level: int) -> str:
        return str(OrgLevel(level).label)

    def required_approvals(self, level: int) -> int:
        for rule in self.level_rules.all():
            if rule.level == level:
                return rule.required_approvals
        return 1

    def is_open_for_applications(self, day: datetime.date) -> bool:
        return self.status == RoundStatus.OPEN and self.window_opens <= day <= self.window_closes


class RoundLevelRule(models.Model):
    """N-of-M at one level of a round's chain: ``required_approvals`` approvals of ``panel_size`` reviewers."""

    SCOPE_PATH = "round__org_unit__path"

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="level_rules")
    level = models.PositiveSmallIntegerField("层级", choices=OrgLevel.choices)
    required_approvals = models.PositiveSmallIntegerField("需同意人数", default=1)
    panel_size = models.PositiveSmallIntegerField("评审人数", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "审核层级规则"
        verbose_name_plural = "审核层级规则"
        constraints = [
            models.UniqueConstraint(fields=["round", "level"], name="assist_level_rule_unique"),
            models.CheckConstraint(
                condition=Q(required_approvals__gte=1), name="assist_level_rule_n_positive"
            ),
            models.CheckConstraint(
                condition=Q(panel_size__isnull=True) | Q(panel_size__gte=models.F("required_approvals")),
                name="assist_level_rule_n_le_m",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()}：{self.required_approvals}/{self.panel_size or '—'}"


class Budget(models.Model):
    """One unit's share of a round. ``spent`` moves only with F() under a row lock; the database refuses
    ``spent > amount``. The round's own budget is the share of the round's org unit."""

    SCOPE_PATH = "org_unit__path"

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="budgets")
    org_unit = models.ForeignKey(OrgUnit, verbose_name="单位", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField("预算（元）", **MONEY)
    spent = models.DecimalField("已发放（元）", **MONEY, default=ZERO, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "帮扶预算"
        verbose_name_plural = "帮扶预算"
        ordering = ["round_id", "org_unit__path"]
        constraints = [
            models.UniqueConstraint(fields=["round", "org_unit"], name="assist_budget_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="assist_budget_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(spent__gte=0) & Q(spent__lte=models.F("amount")), name="assist_budget_within"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.org_unit.name}：{self.amount}"

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.spent


# --- applications --------------------------------------------------------------------------------


class SubmittedVia(models.TextChoices):
    STAFF = "staff", "经办人员"
    PLATFORM = "platform", "网络工会"


class Application(models.Model):
    """An application for one person in one round; its review runs level by level along the round's chain."""

    SCOPE_PATH = "org_unit__path"

    round = models.ForeignKey(
        Round, verbose_name="帮扶批次", on_delete=models.PROTECT, related_name="applications"
    )
    hardship_file = models.ForeignKey(
        HardshipFile,
        verbose_name="困难档案",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    person = models.ForeignKey(
        "members.Person",
        verbose_name="职工",
        on_delete=models.PROTECT,
        related_name="assistance_applications",
    )
    org_unit = models.ForeignKey(OrgUnit, verbose_name="申请单位", on_delete=models.PROTECT, related_name="+")
    household_key = models.CharField("家庭识别码", max_length=64, editable=False)
    amount = models.DecimalField("申请金额（元）", **MONEY)
    status = models.CharField(
        "状态", max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.IN_REVIEW
    )
    # The level now reviewing (OrgLevel value); null once the chain has decided.
    current_level = models.PositiveSmallIntegerField("当前审核层级", choices=OrgLevel.choices, null=True)
    submitted_on = models.DateField("申请日期")
    decided_on = models.DateField("审核完成日期", null=True, blank=True)
    notice_from = models.DateField("公示开始", null=True, blank=True)
    notice_until = models.DateField("公示截止", null=True, blank=True)
    student_name = models.CharField("学生姓名", max_length=50, blank=True)
    school = models.CharField("录取学校", max_length=100, blank=True)
    reason = models.CharField("申请理由", max_length=300, blank=True)
    closing_note = models.CharField("撤回或未通过原因", max_length=300, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Where the application came in: entered by an officer, or by the worker on the workers' platform.
    submitted_via = models.CharField(
        "申请途径", max_length=10, choices=SubmittedVia.choices, default=SubmittedVia.STAFF
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "帮扶申请"
        verbose_name_plural = "帮扶申请"
        ordering = ["-pk"]
        constraints = [
            # One live application per person in a round (withdrawn and rejected ones don't count).
            models.UniqueConstraint(
                fields=["round", "person"],
                condition=Q(status__in=[str(s) for s in LIVE_APPLICATION_STATUSES]),
                name="assist_application_one_live_per_person",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="assist_application_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["round", "status", "current_level"], name="assist_app_queue_idx"),
            models.Index(fields=["org_unit", "round"], name="assist_app_unit_idx"),
        ]

    def __str__(self) -> str:
        return f"申请 #{self.pk} {self.person.name}"


class VoteQuerySet(ScopedQuerySet):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("审核投票记录只能新增，不能修改。")

    def delete(self) -> Any:
        raise PermissionError("审核投票记录只能新增，不能删除。")


class Vote(models.Model):
    """The append-only vote ledger: who voted how at which level, when, why. ``save`` refuses an existing row
    and ``delete`` refuses always; on PostgreSQL a trigger refuses UPDATE and DELETE too (migration 0002)."""

    SCOPE_PATH = "application__org_unit__path"

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="votes")
    level = models.PositiveSmallIntegerField("层级", choices=OrgLevel.choices)
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    voter_name = models.CharField("审核人", max_length=150)
    decision = models.CharField("意见", max_length=10, choices=Decision.choices)
    reason = models.CharField("理由", max_length=300, blank=True)
    # The moment the vote counts from: now, or a given day (demo data, imports, tests) set by the service.
    created_at = models.DateTimeField("时间", default=timezone.now, editable=False)

    objects = VoteQuerySet.as_manager()

    class Meta:
        verbose_name = "审核投票"
        verbose_name_plural = "审核投票"
        ordering = ["application_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "level", "voter"], name="assist_vote_once_per_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voter_name}：{self.get_decision_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("审核投票记录只能新增，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("审核投票记录只能新增，不能删除。")


class Objection(models.Model):
    """An objection raised during the public notice, and how it was resolved."""

    SCOPE_PATH = "application__org_unit__path"

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="objections")
    raised_on = models.DateField("提出日期")
    raised_by = models.CharField("提出人", max_length=100, blank=True)
    content = models.CharField("异议内容", max_length=500)
    status = models.CharField("处理结果", max_length=10, choices=ObjectionStatus.choices, default="open")
    resolution = models.CharField("处理意见", max_length=500, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_on = models.DateField("处理日期", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "公示异议"
        verbose_name_plural = "公示异议"
        ordering = ["application_id", "pk"]

    def __str__(self) -> str:
        return f"异议（{self.raised_on}）：{self.content[:20]}"


# --- payments ------------------------------------------------------------------------------------


class PaymentBatch(models.Model):
    """A bank batch: the payments of one unit's approved list in a round, sent as one XLSX, marked paid."""

    SCOPE_PATH = "org_unit__path"

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="batches")
    org_unit = models.ForeignKey(OrgUnit, verbose_name="单位", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        "状态", max_length=10, choices=BatchStatus.choices, default=BatchStatus.PREPARED
    )
    created_on = models.DateField("生成日期")
    paid_on = models.DateField("发放日期", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "发放批次"
        verbose_name_plural = "发放批次"
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"发放批次 #{self.pk}"


class Payment(models.Model):
    """Money committed to a person in a round. A reversal is a new negative row naming the one it reverses;
    no row is ever edited except its paid date being set once when the bank batch is marked paid."""

    SCOPE_PATH = "org_unit__path"

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="payments")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="payments")
    person = models.ForeignKey("members.Person", on_delete=models.PROTECT, related_name="assistance_payments")
    household_key = models.CharField("家庭识别码", max_length=64, editable=False)
    org_unit = models.ForeignKey(OrgUnit, verbose_name="单位", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("类型", max_length=10, choices=PaymentKind.choices, default=PaymentKind.PAYMENT)
    amount = models.DecimalField("金额（元）", **MONEY)
    batch = models.ForeignKey(
        PaymentBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversal"
    )
    reason = models.CharField("说明", max_length=300, blank=True)
    created_on = models.DateField("出账日期")
    paid_on = models.DateField("发放日期", null=True, blank=True)
    # Set once, on the payment row, when it is reversed: a reversed payment no longer blocks a new one.
    reversed_on = models.DateField("冲正日期", null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "帮扶发放"
        verbose_name_plural = "帮扶发放"
        ordering = ["-pk"]
        constraints = [
            # One live payment per person and per household in a round: reversed payments and the reversal
            # rows themselves don't count, so a person whose payment was reversed can be paid again.
            models.UniqueConstraint(
                fields=["round", "person"],
                condition=Q(kind="payment", reversed_on__isnull=True),
                name="assist_payment_live_per_person",
            ),
            models.UniqueConstraint(
                fields=["round", "household_key"],
                condition=Q(kind="payment", reversed_on__isnull=True),
                name="assist_payment_live_per_household",
            ),
            models.CheckConstraint(
                condition=Q(reversed_on__isnull=True) | Q(kind="payment"),
                name="assist_payment_reversed_on_payments_only",
            ),
            models.CheckConstraint(
                condition=(Q(kind="payment") & Q(amount__gt=0) & Q(reverses__isnull=True))
                | (Q(kind="reversal") & Q(amount__lt=0) & Q(reverses__isnull=False)),
                name="assist_payment_sign",
            ),
        ]
        indexes = [models.Index(fields=["round", "org_unit"], name="assist_payment_round_unit_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} {self.amount} 元"


# --- loans ---------------------------------------------------------------------------------------


class Loan(models.Model):
    """小额无息借款: principal repaid in generated instalments; repayments are dated facts."""

    SCOPE_PATH = "org_unit__path"

    person = models.ForeignKey("members.Person", on_delete=models.PROTECT, related_name="assistance_loans")
    org_unit = models.ForeignKey(OrgUnit, verbose_name="经办单位", on_delete=models.PROTECT, related_name="+")
    hardship_file = models.ForeignKey(
        HardshipFile, null=True, blank=True, on_delete=models.PROTECT, related_name="loans"
    )
    round = models.ForeignKey(Round, null=True, blank=True, on_delete=models.PROTECT, related_name="loans")
    principal = models.DecimalField("借款金额（元）", **MONEY)
    granted_on = models.DateField("放款日期")
    instalment_count = models.PositiveSmallIntegerField("期数")
    purpose = models.CharField("用途", max_length=200, blank=True)
    status = models.CharField("状态", max_length=20, choices=LoanStatus.choices, default=LoanStatus.ACTIVE)
    write_off_reason = models.CharField("核销原因", max_length=300, blank=True)
    written_off_on = models.DateField("核销日期", null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "小额无息借款"
        verbose_name_plural = "小额无息借款"
        ordering = ["-granted_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(principal__gt=0), name="assist_loan_principal_positive"),
            models.CheckConstraint(condition=Q(instalment_count__gte=1), name="assist_loan_count_positive"),
        ]

    def __str__(self) -> str:
        return f"借款 #{self.pk} {self.person.name} {self.principal} 元"


class Instalment(models.Model):
    """One due amount of a loan. ``cumulative`` = this and all earlier amounts, so "fully repaid as of d" is
    one comparison with the sum of repayments up to d (repayments settle the oldest instalment first)."""

    SCOPE_PATH = "loan__org_unit__path"

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="instalments")
    number = models.PositiveSmallIntegerField("期次")
    due_on = models.DateField("应还日期")
    amount = models.DecimalField("应还金额（元）", **MONEY)
    cumulative = models.DecimalField("累计应还（元）", **MONEY)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "还款计划"
        verbose_name_plural = "还款计划"
        ordering = ["loan_id", "number"]
        constraints = [models.UniqueConstraint(fields=["loan", "number"], name="assist_instalment_unique")]
        indexes = [models.Index(fields=["due_on"], name="assist_instalment_due_idx")]

    def __str__(self) -> str:
        return f"第 {self.number} 期 {self.due_on} {self.amount} 元"


class Repayment(models.Model):
    SCOPE_PATH = "loan__org_unit__path"

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="repayments")
    paid_on = models.DateField("还款日期")
    amount = models.DecimalField("还款金额（元）", **MONEY)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "还款记录"
        verbose_name_plural = "还款记录"
        ordering = ["loan_id", "paid_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="assist_repayment_positive")]

    def __str__(self) -> str:
        return f"还款 {self.paid_on} {self.amount} 元"


# --- member discount bases -----------------------------------------------------------------------


class DiscountBase(models.Model):
    """会员服务基地: a hospital, pharmacy or shop giving members a discount during [valid_from, valid_to)."""

    SCOPE_PATH = "org_unit__path"

    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=10, choices=BaseKind.choices)
    address = models.CharField("地址", max_length=200)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    discount = models.CharField("优惠内容", max_length=300)
    valid_from = models.DateField("生效日期")
    valid_to = models.DateField("失效日期", null=True, blank=True)
    org_unit = models.ForeignKey(OrgUnit, verbose_name="所属单位", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "会员服务基地"
        verbose_name_plural = "会员服务基地"
        ordering = ["org_unit__path", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="assist_base_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name


# --- background batches --------------------------------------------------------------------------


class BatchJobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "进行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class BatchJob(models.Model):
    """A batch application run in the background: the page polls ``stage``/``done``/``total``/``percent``."""

    SCOPE_PATH = "org_unit__path"

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="batch_jobs")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    on = models.DateField("申请日期")
    status = models.CharField("状态", max_length=10, choices=BatchJobStatus.choices, default="queued")
    stage = models.CharField("阶段", max_length=40, blank=True)
    done = models.PositiveIntegerField("已处理", default=0)
    total = models.PositiveIntegerField("总数", null=True, blank=True)
    created = models.PositiveIntegerField("新增申请", default=0)
    skipped = models.JSONField("跳过", default=dict, blank=True)
    message = models.TextField("结果说明", blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "批量申请任务"
        verbose_name_plural = "批量申请任务"
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"批量申请 #{self.pk}（{self.get_status_display()}）"

    @property
    def percent(self) -> int:
        if self.status == BatchJobStatus.DONE:
            return 100
        if not self.total:
            return 0 if self.status == BatchJobStatus.QUEUED else 10
        return min(99, int(self.done * 100 / self.total))

    @property
    def finished(self) -> bool:
        return self.status in (BatchJobStatus.DONE, BatchJobStatus.FAILED)
