"""Periodic reports (信息报送), zero reports (零申报) and early-warning signals (预警).

A :class:`ReportForm` is a city-wide setting: what is reported, by which level of org unit, how often and by
which day. Its fields are designed in a page and kept in numbered :class:`FormVersion` rows; a report points
at the version it was made with, so a form changed mid-year leaves older reports readable as they were.

A :class:`Report` is never changed: a second report for the same (form, period, unit) is a correction, and
the first one decides timeliness (INTERFACES.md, "Periodic reports and early warning").

A :class:`WarningSignal` concerns one enterprise; its lifecycle is the transition table ``WARNING_TABLE``.

An :class:`Incident` (突发事件) is reported at once to the duty officers (:class:`DutyOfficer`, or every officer of
the district and the city while a unit keeps no roster) and is late when reported more than the limit after
the union knew of it. The enterprise risk level is computed, not stored (``risk.py``), with the city's
weights and thresholds in the one :class:`RiskRule` row; reported headcounts are compared with the roster in
``headcounts.py``.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from safetynet.core.scope import ScopedQuerySet
from safetynet.core.workflow import Transition, TransitionTable
from safetynet.orgs.models import OrgLevel
from safetynet.reporting import periods


class PeriodKind(models.TextChoices):
    MONTH = periods.MONTH, "月"
    QUARTER = periods.QUARTER, "季"
    YEAR = periods.YEAR, "年"


# The levels that report (the city receives, it does not report).
REPORTING_LEVELS = (OrgLevel.DISTRICT, OrgLevel.STREET, OrgLevel.COMMUNITY)
LEVEL_CHOICES = [(OrgLevel.DISTRICT, "区市县"), (OrgLevel.STREET, "乡镇街道"), (OrgLevel.COMMUNITY, "村社区")]
MAX_DUE_DAY = 28


class ReportForm(models.Model):
    """A report form (报表) the city defines: city-wide, not a record of a unit."""

    code = models.CharField("报表代码", max_length=20, unique=True)
    name = models.CharField("报表名称", max_length=100)
    period_kind = models.CharField("报送周期", max_length=10, choices=PeriodKind.choices)
    level = models.PositiveSmallIntegerField("报送层级", choices=LEVEL_CHOICES)
    due_day = models.PositiveSmallIntegerField("截止日")
    is_warning = models.BooleanField("预警报表", default=False)
    enabled_from = models.DateField("启用日期", null=True, blank=True)
    enabled_to = models.DateField("停用日期", null=True, blank=True)
    instructions = models.TextField("填报说明", blank=True)
    created_at = models.DateTimeField("建立时间", auto_now_add=True)

    class Meta:
        verbose_name = "报表"
        verbose_name_plural = "报表"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_day__gte=1, due_day__lte=MAX_DUE_DAY), name="reportform_due_day_1_28"
            ),
            models.CheckConstraint(
                condition=Q(enabled_to__isnull=True)
                | Q(enabled_from__isnull=True)
                | Q(enabled_to__gt=models.F("enabled_from")),
                name="reportform_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def in_use_for(self, period: periods.Period) -> bool:
        """Enabled on the period's first day (启用日期 empty or on/before it; 停用日期 empty or after it)."""
        first = period.start
        return (self.enabled_from is None or self.enabled_from <= first) and (
            self.enabled_to is None or self.enabled_to > first
        )

    def parse_period(self, value: object) -> periods.Period:
        return periods.parse_period_of_kind(value, self.period_kind)


class FieldKind(models.TextChoices):
    NUMBER = "number", "数值"
    AMOUNT = "amount", "金额（元）"
    WORKERS = "workers", "人数"
    YES_NO = "yes_no", "是/否"
    CHOICE = "choice", "选项"
    TEXT = "text", "文字"


class FormVersion(models.Model):
    """The fields of a form from one publication on: ``fields`` is a list of
    ``{"key", "label", "kind", "required", "choices", "help"}`` (choices only for a choice field)."""

    form = models.ForeignKey(ReportForm, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版本号")
    fields = models.JSONField("字段", default=list, blank=True)
    published_at = models.DateTimeField("发布时间")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField("修改说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "报表版本"
        verbose_name_plural = "报表版本"
        ordering = ["form", "-number"]
        constraints = [models.UniqueConstraint(fields=["form", "number"], name="formversion_unique_number")]

    def __str__(self) -> str:
        return f"{self.form.code} 第 {self.number} 版"


class ReportSource(models.TextChoices):
    WEB = "web", "网页填报"
    API = "api", "接口"
    IMPORT = "import", "文件导入"


class Report(models.Model):
    """One report of one unit for one (form, period), as made at ``submitted_at``. Never changed."""

    SCOPE_PATH = "unit__path"

    form = models.ForeignKey(
        ReportForm, verbose_name="报表", on_delete=models.PROTECT, related_name="reports"
    )
    version = models.ForeignKey(
        FormVersion, verbose_name="报表版本", on_delete=models.PROTECT, related_name="reports", db_index=False
    )
    period = models.CharField("报告期", max_length=7)
    unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="报送单位", on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField("报送时间")
    is_zero = models.BooleanField("零申报", default=False)
    values = models.JSONField("填报内容", default=dict, blank=True)
    content = models.TextField("内容", blank=True)
    note = models.CharField("更正说明", max_length=200, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报送人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    source = models.CharField("来源", max_length=10, choices=ReportSource.choices, default=ReportSource.WEB)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "报送记录"
        verbose_name_plural = "报送记录"
        ordering = ["form", "period", "unit", "submitted_at"]
        constraints = [
            # Also the index of the rates' one grouped statement (form, period) and of a unit's history.
            models.UniqueConstraint(
                fields=["form", "period", "unit", "submitted_at"], name="report_unique_moment"
            ),
        ]
        indexes = [models.Index(fields=["unit", "form", "period"], name="report_unit_form_period_idx")]

    def __str__(self) -> str:
        return f"{self.form.code} {self.period} {self.unit}"


class ReminderKind(models.TextChoices):
    DUE_SOON = "due_soon", "截止前提醒"
    MISSING = "missing", "逾期未报告知上级"
    MANUAL = "manual", "催报提醒"


SWEEP_REMINDER_KINDS = (ReminderKind.DUE_SOON, ReminderKind.MISSING)


class Reminder(models.Model):
    """A reminder about one reporter's (form, period): the sweep sends each kind once (the constraint)."""

    SCOPE_PATH = "unit__path"

    form = models.ForeignKey(ReportForm, on_delete=models.CASCADE, related_name="reminders")
    period = models.CharField("报告期", max_length=7)
    unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="报送单位", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField("类型", max_length=10, choices=ReminderKind.choices)
    sent_at = models.DateTimeField("发送时间")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    recipients = models.PositiveIntegerField("收件人数", default=0)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "催报提醒"
        verbose_name_plural = "催报提醒"
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "period", "unit", "kind"],
                condition=Q(kind__in=["due_soon", "missing"]),
                name="reminder_sweep_once",
            )
        ]
        indexes = [models.Index(fields=["form", "period", "kind"], name="reminder_form_period_idx")]

    def __str__(self) -> str:
        return f"{self.form.code} {self.period} {self.unit} {self.get_kind_display()}"


class WarningCategory(models.TextChoices):
    WAGE_ARREARS = "wage_arrears", "欠薪"
    SOCIAL_INSURANCE = "social_insurance", "欠保"
    LAYOFFS = "layoffs", "减员减薪"
    STOPPAGE = "stoppage", "停产"
    RESTRUCTURING = "restructuring", "改制搬迁"
    COLLECTIVE_ACTION = "collective_action", "群体性事件苗头"
    OTHER = "other", "其他"


class WarningStatus(models.TextChoices):
    REPORTED = "reported", "已报告"
    VERIFIED = "verified", "已核实"
    HANDLING = "handling", "处置中"
    RESOLVED = "resolved", "已化解"
    DISMISSED = "dismissed", "已排除"


OPEN_WARNING_STATUSES = (WarningStatus.REPORTED, WarningStatus.VERIFIED, WarningStatus.HANDLING)


class WarningAction(models.TextChoices):
    VERIFY = "verify", "核实"
    HANDLE = "handle", "开始处置"
    RESOLVE = "resolve", "已化解"
    DISMISS = "dismiss", "排除"
    CREATE_CASE = "create_case", "转为诉求案件"


# The warning's lifecycle. Anything not in the table is refused (code "invalid_transition").
WARNING_TABLE = TransitionTable(
    subject="预警",
    statuses=WarningStatus,
    actions=WarningAction,
    transitions=(
        Transition(WarningAction.VERIFY, frozenset({WarningStatus.REPORTED}), (WarningStatus.VERIFIED,)),
        Transition(WarningAction.HANDLE, frozenset({WarningStatus.VERIFIED}), (WarningStatus.HANDLING,)),
        Transition(WarningAction.RESOLVE, frozenset({WarningStatus.HANDLING}), (WarningStatus.RESOLVED,)),
        Transition(WarningAction.DISMISS, frozenset(OPEN_WARNING_STATUSES), (WarningStatus.DISMISSED,)),
        Transition(
            WarningAction.CREATE_CASE,
            frozenset({WarningStatus.VERIFIED, WarningStatus.HANDLING}),
            (WarningStatus.HANDLING,),
        ),
    ),
    already={
        WarningAction.VERIFY: {WarningStatus.VERIFIED, WarningStatus.HANDLING},
        WarningAction.HANDLE: {WarningStatus.HANDLING},
    },
    closed={
        WarningStatus.RESOLVED: "该预警已化解，处置已结束",
        WarningStatus.DISMISSED: "该预警已排除，处置已结束",
    },
)

# (status now, action) → status after: the table's edges as a mapping (for readers of the old name).
TRANSITIONS: dict[tuple[str, str], str] = {
    (source, action): target for source, action, target in WARNING_TABLE.edges()
}


class WarningSource(models.TextChoices):
    WEB = "web", "网页登记"
    API = "api", "接口"
    IMPORT = "import", "文件导入"


class WarningSignal(models.Model):
    """An early-warning signal about one enterprise (欠薪, 欠保, 减员减薪, 停产, 改制搬迁, 群体性事件苗头…)."""

    SCOPE_PATH = "enterprise__org_unit__path"

    enterprise = models.ForeignKey(
        "orgs.Enterprise", verbose_name="企业", on_delete=models.PROTECT, related_name="warnings"
    )
    category = models.CharField("预警类别", max_length=20, choices=WarningCategory.choices)
    discovered_on = models.DateField("发现日期")
    reported_at = models.DateTimeField("报告时间")
    workers_involved = models.PositiveIntegerField("涉及人数", null=True, blank=True)
    amount = models.DecimalField("涉及金额（元）", max_digits=14, decimal_places=2, null=True, blank=True)
    months = models.PositiveSmallIntegerField("涉及月数", null=True, blank=True)
    description = models.TextField("情况说明", blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=WarningStatus.choices, default=WarningStatus.REPORTED
    )
    status_changed_at = models.DateTimeField("状态变更时间")
    dismiss_reason = models.TextField("排除理由", blank=True)
    handling_note = models.TextField("处置情况", blank=True)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name="转办案件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    source = models.CharField("来源", max_length=10, choices=WarningSource.choices, default=WarningSource.WEB)
    version = models.PositiveIntegerField("版本", default=1)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "预警信息"
        verbose_name_plural = "预警信息"
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["discovered_on"], name="warning_discovered_idx"),
            models.Index(fields=["enterprise", "discovered_on"], name="warning_enterprise_idx"),
            models.Index(fields=["status", "-reported_at"], name="warning_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="warning_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}预警 #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_WARNING_STATUSES


# --- urgent incidents (突发事件) ----------------------------------------------------------------------------


class IncidentCategory(models.TextChoices):
    COLLECTIVE_ACTION = "collective_action", "群体性事件"
    COLLECTIVE_SIGN = "collective_sign", "群体性事件苗头"
    STOPPAGE = "stoppage", "集体停工"
    PETITION = "petition", "集体上访"
    SAFETY_ACCIDENT = "safety_accident", "安全生产事故"
    EXTREME = "extreme", "个人极端事件"
    OTHER = "other", "其他突发事件"


class IncidentStatus(models.TextChoices):
    REPORTED = "reported", "已报告"
    ACKNOWLEDGED = "acknowledged", "已接报"
    CLOSED = "closed", "已处置"


class IncidentAction(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", "接报"
    CLOSE = "close", "处置完毕"


INCIDENT_TABLE = TransitionTable(
    subject="事件",
    statuses=IncidentStatus,
    actions=IncidentAction,
    transitions=(
        Transition(
            IncidentAction.ACKNOWLEDGE, frozenset({IncidentStatus.REPORTED}), (IncidentStatus.ACKNOWLEDGED,)
        ),
        Transition(
            IncidentAction.CLOSE,
            frozenset({IncidentStatus.REPORTED, IncidentStatus.ACKNOWLEDGED}),
            (IncidentStatus.CLOSED,),
        ),
    ),
    already={IncidentAction.ACKNOWLEDGE: {IncidentStatus.ACKNOWLEDGED}},
    closed={IncidentStatus.CLOSED: "该事件已处置完毕，不能再操作"},
)

INCIDENT_TRANSITIONS: dict[tuple[str, str], str] = {
    (source, action): target for source, action, target in INCIDENT_TABLE.edges()
}


class Incident(models.Model):
    """An urgent incident (突发事件), reported at once to the district's and the city's duty officers.

    ``known_at`` is when the union first knew (知悉时间), ``reported_at`` when it reported here (报告时间); the
    report is late (迟报) when it came more than ``limit_hours`` after ``known_at``. Both the flag and the
    limit in force are kept with the record, so changing the setting later does not rewrite history.
    """

    SCOPE_PATH = "unit__path"

    unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="发生地区划", on_delete=models.PROTECT, related_name="+"
    )
    enterprise = models.ForeignKey(
        "orgs.Enterprise",
        verbose_name="涉及企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    category = models.CharField("事件类别", max_length=20, choices=IncidentCategory.choices)
    title = models.CharField("事件简述", max_length=100)
    description = models.TextField("事件经过", blank=True)
    place = models.CharField("发生地点", max_length=200, blank=True)
    workers_involved = models.PositiveIntegerField("涉及人数", null=True, blank=True)
    occurred_at = models.DateTimeField("发生时间", null=True, blank=True)
    known_at = models.DateTimeField("知悉时间")
    reported_at = models.DateTimeField("报告时间")
    limit_hours = models.PositiveSmallIntegerField("报告时限（小时）")
    late = models.BooleanField("迟报", default=False)
    reporter_unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name="报告单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报告人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    source = models.CharField("来源", max_length=10, choices=WarningSource.choices, default=WarningSource.WEB)
    notified = models.PositiveIntegerField("已通知值班人数", default=0)
    status = models.CharField(
        "状态", max_length=15, choices=IncidentStatus.choices, default=IncidentStatus.REPORTED
    )
    acknowledged_at = models.DateTimeField("接报时间", null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接报人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    closed_at = models.DateTimeField("处置完毕时间", null=True, blank=True)
    outcome = models.TextField("处置结果", blank=True)
    version = models.PositiveIntegerField("版本", default=1)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "突发事件"
        verbose_name_plural = "突发事件"
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["-reported_at"], name="incident_reported_idx"),
            models.Index(fields=["unit", "-reported_at"], name="incident_unit_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(reported_at__gte=models.F("known_at")), name="incident_reported_after_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}：{self.title}"

    @property
    def delay(self) -> datetime.timedelta:
        """How long after 知悉时间 it was reported (a timedelta)."""
        return self.reported_at - self.known_at


class DutyOfficer(models.Model):
    """A staff member on the duty roster (值班人员) of a district or of the city: urgent incidents reach them
    in-app, by email and, with a phone here, by SMS. A unit without any roster entry falls back to all its
    active staff who handle warnings (see ``services.duty_officers_of``)."""

    SCOPE_PATH = "unit__path"

    unit = models.ForeignKey("orgs.OrgUnit", verbose_name="单位", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="值班人员", on_delete=models.CASCADE, related_name="+"
    )
    phone = models.CharField("值班手机", max_length=20, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "值班人员"
        verbose_name_plural = "值班人员"
        ordering = ["unit", "user"]
        constraints = [models.UniqueConstraint(fields=["unit", "user"], name="dutyofficer_unique")]

    def __str__(self) -> str:
        return f"{self.unit} {self.user}"


# --- enterprise risk levels (风险等级) --------------------------------------------------------------------


class RiskLevel(models.IntegerChoices):
    BLUE = 0, "蓝"
    YELLOW = 1, "黄"
    ORANGE = 2, "橙"
    RED = 3, "红"


class RiskRule(models.Model):
    """The city's weights and thresholds for the enterprise risk level: one row (the city edits it in a page;
    ``risk.current_rule`` gives the defaults below while none is saved). An enterprise's score is the sum of
    its facts times their weights; the level is the highest threshold the score reaches."""

    SINGLETON_PK = 1

    weight_wage_arrears = models.PositiveSmallIntegerField("欠薪预警（每条）", default=30)
    weight_social_insurance = models.PositiveSmallIntegerField("欠保预警（每条）", default=15)
    weight_layoffs = models.PositiveSmallIntegerField("减员减薪预警（每条）", default=15)
    weight_stoppage = models.PositiveSmallIntegerField("停产预警（每条）", default=20)
    weight_restructuring = models.PositiveSmallIntegerField("改制搬迁预警（每条）", default=10)
    weight_collective_action = models.PositiveSmallIntegerField("群体性事件苗头预警（每条）", default=40)
    weight_other = models.PositiveSmallIntegerField("其他预警（每条）", default=5)
    weight_amount = models.PositiveSmallIntegerField("预警涉及金额（每万元）", default=1)
    amount_cap = models.PositiveSmallIntegerField("金额得分上限", default=20)
    weight_open_case = models.PositiveSmallIntegerField("未结诉求案件（每件）", default=10)
    weight_collective_case = models.PositiveSmallIntegerField("未结集体争议（每件）", default=30)
    weight_wage_case = models.PositiveSmallIntegerField("未结欠薪诉求（每件，另加）", default=10)
    weight_recent = models.PositiveSmallIntegerField("近期新发预警或诉求（每起）", default=5)
    recent_days = models.PositiveSmallIntegerField("近期天数", default=90)
    weight_no_contract = models.PositiveSmallIntegerField("无生效集体合同", default=5)
    weight_no_union = models.PositiveSmallIntegerField("未建会", default=10)
    threshold_yellow = models.PositiveSmallIntegerField("黄色起点分", default=25)
    threshold_orange = models.PositiveSmallIntegerField("橙色起点分", default=50)
    threshold_red = models.PositiveSmallIntegerField("红色起点分", default=80)
    updated_at = models.DateTimeField("修改时间", null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="修改人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = "风险等级规则"
        verbose_name_plural = "风险等级规则"
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold_yellow__gt=0)
                & Q(threshold_orange__gt=models.F("threshold_yellow"))
                & Q(threshold_red__gt=models.F("threshold_orange")),
                name="riskrule_thresholds_ordered",
            ),
            models.CheckConstraint(condition=Q(recent_days__gte=1), name="riskrule_recent_days_positive"),
        ]

    def __str__(self) -> str:
        return "风险等级规则"
