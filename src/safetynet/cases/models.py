"""Appeals and labour-dispute mediation (诉求 / 劳动争议调处): cases, their timeline, outcomes and follow-up.

Scope: a case belongs to the org unit where it started (``origin_unit``: the enterprise's unit, or the unit
that took the call when the enterprise is unknown). The unit handling it now (``unit``) is always that unit
or one of its ancestors: hand-up and pull-up move towards the city, send-down moves back along the same
chain. So one indexed prefix query on the origin's path gives every level its cases: the community keeps
seeing its case after it went up, every level above sees it, a sibling never does.

Deadlines are instants (aware datetimes) for the level the case is at; ``version`` is the optimistic lock
every change checks and increments (services and the sweep alike).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from safetynet.core.scope import ScopedQuerySet
from safetynet.orgs.models import OrgLevel

LEVEL_CODES: dict[int, str] = {
    OrgLevel.CITY: "city",
    OrgLevel.DISTRICT: "district",
    OrgLevel.STREET: "street",
    OrgLevel.COMMUNITY: "community",
}
LEVEL_BY_CODE: dict[str, int] = {code: level for level, code in LEVEL_CODES.items()}
LEVEL_LABELS: dict[int, str] = {
    OrgLevel.CITY: "市级",
    OrgLevel.DISTRICT: "区级",
    OrgLevel.STREET: "街道级",
    OrgLevel.COMMUNITY: "社区级",
}
LEVEL_CHOICES = [(level, LEVEL_LABELS[level]) for level in sorted(LEVEL_LABELS)]

# 劳动争议调解仲裁法: 10 or more workers with a common claim make a collective dispute.
COLLECTIVE_MIN_WORKERS = 10
REOPEN_WINDOW_DAYS = 30
DUPLICATE_WINDOW_DAYS = 30


class CaseKind(models.TextChoices):
    DISPUTE = "dispute", "诉求/劳动争议"
    HAZARD = "hazard", "隐患举报"


class Channel(models.TextChoices):
    HOTLINE = "hotline", "12351热线"
    VISIT = "visit", "来访"
    LETTER = "letter", "来信"
    ONLINE = "online", "网上"
    REFERRAL = "referral", "转办"
    PLATFORM = "platform", "网络工会"


class Category(models.TextChoices):
    WAGE_ARREARS = "wage_arrears", "拖欠工资"
    SOCIAL_INSURANCE = "social_insurance", "社会保险"
    LABOUR_CONTRACT = "labour_contract", "劳动合同"
    DISMISSAL = "dismissal", "解除劳动关系"
    WORKING_HOURS = "working_hours", "工时与加班"
    WORK_INJURY = "work_injury", "工伤"
    SAFETY = "safety", "劳动安全"
    OTHER = "other", "其他"


class Difficulty(models.TextChoices):
    GENERAL = "general", "一般"
    DIFFICULT = "difficult", "疑难"
    ESPECIALLY_COMPLEX = "especially_complex", "特别复杂"


class CaseStatus(models.TextChoices):
    NEW = "new", "待受理"
    IN_PROGRESS = "in_progress", "办理中"
    RECTIFYING = "rectifying", "整改中"
    CLOSED = "closed", "已办结"
    MERGED = "merged", "已并案"


OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.IN_PROGRESS, CaseStatus.RECTIFYING)


class OutcomeKind(models.TextChoices):
    MEDIATED = "mediated", "调解成功"
    ARBITRATION = "arbitration", "转劳动仲裁"
    COURT = "court", "转人民法院"
    LABOUR_INSPECTION = "labour_inspection", "转劳动监察"
    PETITION_OFFICE = "petition_office", "转信访部门"
    WITHDRAWN = "withdrawn", "撤回"
    OUT_OF_SCOPE = "out_of_scope", "不属受理范围"
    RECTIFIED = "rectified", "隐患已整改"


REFERRAL_OUTCOMES = (
    OutcomeKind.ARBITRATION,
    OutcomeKind.COURT,
    OutcomeKind.LABOUR_INSPECTION,
    OutcomeKind.PETITION_OFFICE,
)


class DayKind(models.TextChoices):
    CALENDAR = "calendar", "自然日"
    WORKING = "working", "工作日"


class StepAction(models.TextChoices):
    INTAKE = "intake", "登记"
    ACCEPT = "accept", "受理"
    MEDIATION_ATTEMPT = "mediation_attempt", "调解"
    RESOLVE = "resolve", "办结"
    REFER_OUT = "refer_out", "转出"
    HAND_UP = "hand_up", "上交"
    ESCALATE = "escalate", "超期自动上交"
    BREACH = "breach", "市级超期"
    PULL_UP = "pull_up", "提级办理"
    SEND_DOWN = "send_down", "交办下级"
    MERGE = "merge", "并案"
    ASSIGN_LEADER = "assign_leader", "领导包案"
    LEGAL_AID = "legal_aid", "法律援助"
    FOLLOW_UP = "follow_up", "回访"
    REOPEN = "reopen", "重新办理"
    RECTIFICATION = "rectification", "责令整改"
    VERIFY = "verify", "整改核查"
    ATTACH = "attach", "上传附件"


class EscalationReason(models.TextChoices):
    DEADLINE = "deadline", "办理期限届满"
    FAILED = "failed", "本级调解不成"
    PULLED_UP = "pulled_up", "上级提级办理"


class CaseQuerySet(ScopedQuerySet):
    def open(self) -> CaseQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def overdue_at(self, moment: datetime.datetime) -> CaseQuerySet:
        return self.open().filter(deadline__lt=moment)

    def on_city_board(self) -> CaseQuerySet:
        return self.filter(Q(collective=True) | Q(major=True))


class Case(models.Model):
    SCOPE_PATH = "origin_unit__path"

    # Unique through a constraint in Meta, not unique=True: that would add a second (pattern) index on
    # PostgreSQL, which no query uses and every escalation of the sweep writes.
    number = models.CharField("案件编号", max_length=40)
    kind = models.CharField("类型", max_length=10, choices=CaseKind.choices, default=CaseKind.DISPUTE)
    channel = models.CharField("来源渠道", max_length=10, choices=Channel.choices)
    # The caller: a registered worker when known; otherwise a name (optional) and a call-back number.
    caller_person = models.ForeignKey(
        "members.Person",
        verbose_name="诉求人（职工）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    caller_name = models.CharField("诉求人姓名", max_length=50, blank=True)
    anonymous = models.BooleanField("匿名", default=False)
    caller_phone_encrypted = models.TextField("回访电话（加密）", blank=True, editable=False)
    caller_phone_hash = models.CharField("回访电话检索码", max_length=64, blank=True, editable=False)
    caller_phone_masked = models.CharField("回访电话", max_length=20, blank=True, editable=False)
    enterprise = models.ForeignKey(
        "orgs.Enterprise",
        verbose_name="涉及企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    enterprise_name = models.CharField("企业名称", max_length=200, blank=True)
    enterprise_address = models.CharField("企业地址", max_length=200, blank=True)
    category = models.CharField("诉求类别", max_length=20, choices=Category.choices)
    claim_amount = models.DecimalField("涉及金额（元）", max_digits=14, decimal_places=2, default=0)
    workers_involved = models.PositiveIntegerField("涉及人数", default=1)
    description = models.TextField("诉求内容")
    difficulty = models.CharField(
        "难易程度", max_length=20, choices=Difficulty.choices, default=Difficulty.GENERAL
    )
    collective = models.BooleanField("集体争议", default=False)
    major = models.BooleanField("重大案件", default=False)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="包案领导",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="承办人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    status = models.CharField("状态", max_length=12, choices=CaseStatus.choices, default=CaseStatus.NEW)
    level = models.PositiveSmallIntegerField("当前层级", choices=LEVEL_CHOICES)
    # Both unit indexes are the leading column of a composite index below. The current unit carries no
    # database constraint: the sweep moves tens of thousands of cases at once, and each move would be checked
    # (and the unit row locked) at commit; units are never deleted (they close with a date), and PROTECT
    # still guards them in Django.
    unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name="当前办理单位",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    origin_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="属地单位", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    received_at = models.DateTimeField("登记时间")
    level_since = models.DateTimeField("到达本级时间")
    # How the case reached the level it is at (a StepAction: intake, hand_up, escalate, pull_up, send_down, reopen).
    arrival = models.CharField("到达方式", max_length=20, default="intake")
    deadline = models.DateTimeField("本级办理期限")
    breached = models.BooleanField("市级超期", default=False)
    # 0: nobody reminded at this level yet; 1: the handler was; 2: the level's head was too.
    reminder_stage = models.PositiveSmallIntegerField("提醒进度", default=0)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    outcome_kind = models.CharField(
        "办理结果", max_length=20, choices=OutcomeKind.choices, blank=True, editable=False
    )
    closed_on_time = models.BooleanField("按期办结", null=True, editable=False)
    merged_into = models.ForeignKey(
        "self",
        verbose_name="并入案件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
        db_index=False,
    )
    # Hazard reports (隐患举报): who rectifies at the enterprise, by when, and who verified it.
    rectification_owner = models.CharField("整改责任人", max_length=100, blank=True)
    rectification_deadline = models.DateTimeField("整改期限", null=True, blank=True)
    verified_at = models.DateTimeField("核查时间", null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="核查人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    version = models.PositiveIntegerField("版本", default=1)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = "诉求案件"
        verbose_name_plural = "诉求案件"
        ordering = ["-received_at", "-id"]
        # Few indexes, partial where they can be: an escalation rewrites the row, and every index of the
        # table gets a new entry for it (the sweep's cost at a million open cases).
        indexes = [
            models.Index(
                fields=["deadline"], name="case_open_deadline_idx", condition=Q(status__in=OPEN_STATUSES)
            ),
            models.Index(fields=["unit", "status"], name="case_unit_status_idx"),
            models.Index(fields=["origin_unit", "received_at"], name="case_origin_received_idx"),
            # The duplicate check at intake: same call-back number, same enterprise, received in the last 30 days.
            models.Index(
                fields=["caller_phone_hash", "enterprise", "received_at"],
                name="case_duplicate_check_idx",
                condition=~Q(caller_phone_hash=""),
            ),
            models.Index(
                fields=["enterprise", "category", "status"],
                name="case_enterprise_category_idx",
                condition=Q(enterprise__isnull=False),
            ),
            models.Index(
                fields=["merged_into"], name="case_merged_into_idx", condition=Q(merged_into__isnull=False)
            ),
            models.Index(
                fields=["caller_person"],
                name="case_caller_person_idx",
                condition=Q(caller_person__isnull=False),
            ),
            models.Index(
                fields=["collective", "major"],
                name="case_board_idx",
                condition=Q(collective=True) | Q(major=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="case_number_unique"),
            models.CheckConstraint(
                condition=Q(collective=False) | Q(workers_involved__gte=COLLECTIVE_MIN_WORKERS),
                name="case_collective_has_ten_workers",
            ),
            models.CheckConstraint(condition=Q(claim_amount__gte=0), name="case_claim_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def level_code(self) -> str:
        return LEVEL_CODES[self.level]

    @property
    def on_city_board(self) -> bool:
        return self.collective or self.major

    @property
    def display_enterprise(self) -> str:
        return self.enterprise.name if self.enterprise_id else self.enterprise_name


class CaseNumberCounter(models.Model):
    """The last sequence number given per unit code and year (locked while a number is taken)."""

    unit_code = models.CharField(max_length=12)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit_code", "year"], name="case_counter_unique")]

    def __str__(self) -> str:
        return f"{self.unit_code}-{self.year}: {self.last}"


class CaseStep(models.Model):
    """One entry of a case's timeline. Written once, inside the service's transaction; never changed."""

    SCOPE_PATH = "case__origin_unit__path"

    # Only (case, at) is indexed: the timeline is read per case, and the sweep writes steps by the thousand.
    # No column carries a database constraint (no check and no row lock per row at commit): units are never
    # deleted (they close with a date), cases are never deleted, and these rows are copied from their ids.
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="steps", db_index=False, db_constraint=False
    )
    at = models.DateTimeField("时间")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    actor_name = models.CharField("办理人", max_length=150)
    action = models.CharField("环节", max_length=20, choices=StepAction.choices)
    from_level = models.PositiveSmallIntegerField("原层级", choices=LEVEL_CHOICES, null=True, blank=True)
    from_unit = models.ForeignKey(
        "orgs.OrgUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    to_level = models.PositiveSmallIntegerField("新层级", choices=LEVEL_CHOICES, null=True, blank=True)
    to_unit = models.ForeignKey(
        "orgs.OrgUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    reason = models.CharField("原因", max_length=200, blank=True)
    note = models.TextField("说明", blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "办理环节"
        verbose_name_plural = "办理环节"
        ordering = ["case", "at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="casestep_case_at_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_action_display()}"


class Escalation(models.Model):
    """Each hand-up of a case, with its reason: its own row, never updated."""

    SCOPE_PATH = "case__origin_unit__path"

    # No database constraint on the case, as on the timeline steps: the sweep writes these by the thousand.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="escalations", db_constraint=False)
    at = models.DateTimeField("时间")
    reason = models.CharField("原因", max_length=12, choices=EscalationReason.choices)
    from_level = models.PositiveSmallIntegerField("原层级", choices=LEVEL_CHOICES)
    from_unit = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    to_level = models.PositiveSmallIntegerField("新层级", choices=LEVEL_CHOICES)
    to_unit = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    note = models.TextField("说明", blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "上交记录"
        verbose_name_plural = "上交记录"
        ordering = ["case", "at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_reason_display()}"


class Outcome(models.Model):
    """How a level closed the case. A reopened case keeps its earlier outcomes."""

    SCOPE_PATH = "case__origin_unit__path"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="outcomes")
    kind = models.CharField("结果", max_length=20, choices=OutcomeKind.choices)
    agreement = models.TextField("调解协议内容", blank=True)
    amount_recovered = models.DecimalField("挽回金额（元）", max_digits=14, decimal_places=2, default=0)
    referred_to = models.CharField("转往机构", max_length=200, blank=True)
    note = models.TextField("说明", blank=True)
    decided_at = models.DateTimeField("办结时间")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    level = models.PositiveSmallIntegerField("办结层级", choices=LEVEL_CHOICES)
    unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    on_time = models.BooleanField("按期")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "办理结果"
        verbose_name_plural = "办理结果"
        ordering = ["case", "decided_at", "id"]

    def __str__(self) -> str:
        return self.get_kind_display()


class LegalAid(models.Model):
    SCOPE_PATH = "case__origin_unit__path"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="legal_aid")
    lawyer = models.CharField("律师", max_length=50)
    law_firm = models.CharField("律师事务所", max_length=100, blank=True)
    hours = models.DecimalField("服务时长（小时）", max_digits=6, decimal_places=1)
    given_on = models.DateField("提供日期")
    note = models.TextField("说明", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "法律援助"
        verbose_name_plural = "法律援助"
        constraints = [models.CheckConstraint(condition=Q(hours__gt=0), name="legalaid_hours_positive")]

    def __str__(self) -> str:
        return f"{self.lawyer} {self.hours}h"


class FollowUp(models.Model):
    """回访: someone called the worker back after the outcome."""

    SCOPE_PATH = "case__origin_unit__path"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_ups")
    at = models.DateTimeField("回访时间")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    satisfaction = models.PositiveSmallIntegerField("满意度（1–5）")
    note = models.TextField("回访情况", blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "回访"
        verbose_name_plural = "回访"
        ordering = ["case", "at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__gte=1, satisfaction__lte=5), name="followup_satisfaction_1_5"
            )
        ]

    def __str__(self) -> str:
        return f"回访 {self.satisfaction}"


def attachment_path(instance: CaseAttachment, filename: str) -> str:
    return f"cases/{instance.case_id}/{filename}"


class CaseAttachment(models.Model):
    SCOPE_PATH = "case__origin_unit__path"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField("附件", upload_to=attachment_path)
    name = models.CharField("文件名", max_length=200)
    uploaded_at = models.DateTimeField("上传时间")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        ordering = ["case", "uploaded_at"]

    def __str__(self) -> str:
        return self.name


class DeadlineRule(models.Model):
    """How long a level has: per level, optionally per category and difficulty (the most specific wins).

    Without any rule a level has 15 calendar days (劳动争议调解仲裁法: mediation within 15 days).
    """

    level = models.PositiveSmallIntegerField("层级", choices=LEVEL_CHOICES)
    category = models.CharField("诉求类别", max_length=20, choices=Category.choices, blank=True)
    difficulty = models.CharField("难易程度", max_length=20, choices=Difficulty.choices, blank=True)
    days = models.PositiveSmallIntegerField("期限天数")
    day_kind = models.CharField("计算方式", max_length=10, choices=DayKind.choices, default=DayKind.CALENDAR)

    class Meta:
        verbose_name = "办理期限规则"
        verbose_name_plural = "办理期限规则"
        constraints = [
            models.UniqueConstraint(fields=["level", "category", "difficulty"], name="deadlinerule_unique"),
            models.CheckConstraint(condition=Q(days__gt=0), name="deadlinerule_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{LEVEL_LABELS[self.level]} {self.days}{self.get_day_kind_display()}"


class Notification(models.Model):
    """An in-app message to one staff member (email and SMS copies go out on commit)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.CharField("内容", max_length=300)
    link = models.CharField("链接", max_length=200, blank=True)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField("时间")
    read = models.BooleanField("已读", default=False)

    class Meta:
        verbose_name = "站内通知"
        verbose_name_plural = "站内通知"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read", "-created_at"], name="notification_inbox_idx")]

    def __str__(self) -> str:
        return self.text
