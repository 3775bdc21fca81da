"""和谐劳动关系评价: the index model of a year, surveys, scores, runs and the 和谐企业 designation."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from safetynet.core.scope import ScopedQuerySet


class Source(models.TextChoices):
    """Where a dimension's value (0–1) comes from; the city picks weights, not formulas."""

    LABOUR_CONTRACTS = "labour_contracts", "劳动合同签订"
    UNION = "union", "依法建立工会"
    COLLECTIVE_CONTRACT = "collective_contract", "集体合同在有效期内"
    CONGRESS = "congress", "职代会和厂务公开"
    WAGES = "wages", "按时足额支付工资"
    SOCIAL_INSURANCE = "social_insurance", "依法缴纳社会保险"
    SAFETY = "safety", "无安全生产事故"
    DISPUTES = "disputes", "劳动争议和诉求"
    WARNINGS = "warnings", "其他预警信息"
    SURVEY = "survey", "职工满意度调查"


SOURCE_HELP = {
    Source.LABOUR_CONTRACTS: "年末在职职工中已签劳动合同的比例",
    Source.UNION: "年末被基层工会覆盖得满分，否则 0",
    Source.COLLECTIVE_CONTRACT: "年末有有效集体合同得满分，否则 0",
    Source.CONGRESS: "年末职代会、厂务公开各占一半",
    Source.WAGES: "当年无欠薪预警得满分，否则 0",
    Source.SOCIAL_INSURANCE: "当年无欠保预警得满分，否则 0",
    Source.SAFETY: "当年无安全生产事故得满分，否则 0",
    Source.DISPUTES: "当年诉求案件 0 件满分、1–2 件一半、3 件及以上 0",
    Source.WARNINGS: "当年无其他预警信息（减员减薪、停产等）得满分，否则 0",
    Source.SURVEY: "经办人录入的调查得分（0–100）；未录入不得分",
}


class IndexModel(models.Model):
    """The index model of one year (one per year): its dimensions and weights. A year's scores are always
    computed with that year's model, so changing next year's model leaves last year's scores alone."""

    year = models.PositiveSmallIntegerField("年度", unique=True)
    name = models.CharField("名称", max_length=100)
    city_level_min = models.DecimalField("市级和谐企业最低分", max_digits=5, decimal_places=2, default=90)
    district_level_min = models.DecimalField("区级和谐企业最低分", max_digits=5, decimal_places=2, default=80)
    city_valid_years = models.PositiveSmallIntegerField("市级命名有效年数", default=3)
    district_valid_years = models.PositiveSmallIntegerField("区级命名有效年数", default=2)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    # When the year's scores last changed: the ranking's cached counts and averages are keyed by it.
    scores_changed_at = models.DateTimeField("指数最近计算时间", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "和谐指数模型"
        verbose_name_plural = "和谐指数模型"
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}年{self.name}"


class Dimension(models.Model):
    model = models.ForeignKey(IndexModel, on_delete=models.CASCADE, related_name="dimensions")
    source = models.CharField("指标来源", max_length=30, choices=Source.choices)
    label = models.CharField("维度名称", max_length=50)
    weight = models.DecimalField("权重（%）", max_digits=5, decimal_places=2)
    order = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "评价维度"
        verbose_name_plural = "评价维度"
        ordering = ["model", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["model", "source"], name="dimension_unique_source")]

    def __str__(self) -> str:
        return f"{self.label}（{self.weight}%）"


class Survey(models.Model):
    """A survey score (0–100) an officer entered for an enterprise and year (职工满意度等调查项目)."""

    SCOPE_PATH = "enterprise__org_unit__path"

    enterprise = models.ForeignKey(
        "orgs.Enterprise", verbose_name="企业", on_delete=models.PROTECT, related_name="harmony_surveys"
    )
    year = models.PositiveSmallIntegerField("年度")
    score = models.DecimalField("调查得分", max_digits=5, decimal_places=2)
    note = models.TextField("调查说明", blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", null=True, blank=True, on_delete=models.SET_NULL
    )
    entered_at = models.DateTimeField("录入时间", auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "调查项目"
        verbose_name_plural = "调查项目"
        ordering = ["-year", "pk"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "year"], name="survey_unique_year")]

    def __str__(self) -> str:
        return f"{self.enterprise.name} {self.year}年调查 {self.score}"


class Score(models.Model):
    """The index of one enterprise for one year. ``facts`` holds the raw facts per source, so the score
    explains itself dimension by dimension with the year's model (which is frozen once the year is over)."""

    # Derived rows, rewritten 200,000 at a time by the computation: no database foreign-key constraints (their
    # deferred checks cost more than the COPY itself); the ORM still protects and cascades.
    # A score belongs to the unit the enterprise was in when it was computed (its ranking there stays put
    # if the enterprise moves later); unit and industry are kept on the row so the ranking's counts and
    # averages read the scores and the small unit table only.
    SCOPE_PATH = "org_unit__path"

    enterprise = models.ForeignKey(
        "orgs.Enterprise",
        verbose_name="企业",
        on_delete=models.CASCADE,
        related_name="harmony_scores",
        db_constraint=False,
        db_index=False,  # the unique (enterprise, year) index serves lookups by enterprise
    )
    org_unit = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name="所属区划",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    industry = models.ForeignKey(
        "orgs.Industry",
        verbose_name="行业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    year = models.PositiveSmallIntegerField("年度")
    model = models.ForeignKey(
        IndexModel,
        verbose_name="模型",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    total = models.DecimalField("和谐指数", max_digits=5, decimal_places=2)
    facts = models.JSONField("事实", default=dict)
    computed_at = models.DateTimeField("计算时间")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "和谐指数"
        verbose_name_plural = "和谐指数"
        ordering = ["-total", "enterprise_id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "year"], name="score_unique_enterprise_year")
        ]
        indexes = [models.Index(fields=["year", "-total", "enterprise"], name="score_year_rank_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.year}: {self.total}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "正在计算"
    DONE = "done", "已完成"
    FAILED = "failed", "计算失败"


class Run(models.Model):
    """One computation of a year's index for the whole city, run in the background with a progress figure."""

    SCOPE_PATH = "org_unit__path"

    year = models.PositiveSmallIntegerField("年度")
    org_unit = models.ForeignKey("orgs.OrgUnit", verbose_name="发起单位", on_delete=models.PROTECT)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", null=True, blank=True, on_delete=models.SET_NULL
    )
    status = models.CharField("状态", max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    stage = models.CharField("当前步骤", max_length=30, blank=True)
    percent = models.PositiveSmallIntegerField("进度（%）", default=0)
    scored = models.PositiveIntegerField("已评价企业数", default=0)
    seconds = models.FloatField("耗时（秒）", null=True, blank=True)
    error = models.TextField("错误", blank=True)
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "和谐指数计算"
        verbose_name_plural = "和谐指数计算"
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.year}年和谐指数计算 #{self.pk}"


class DesignationLevel(models.TextChoices):
    CITY = "city", "市级和谐企业"
    DISTRICT = "district", "区级和谐企业"


class DesignationStatus(models.TextChoices):
    PROPOSED = "proposed", "待审批"
    APPROVED = "approved", "已命名"
    REJECTED = "rejected", "未批准"


class DesignationAction(models.TextChoices):
    APPROVE = "approve", "批准"
    REJECT = "reject", "不予批准"


class Designation(models.Model):
    """和谐企业: proposed from a year's score, approved (or rejected) by the district."""

    SCOPE_PATH = "enterprise__org_unit__path"

    enterprise = models.ForeignKey(
        "orgs.Enterprise", verbose_name="企业", on_delete=models.PROTECT, related_name="harmony_designations"
    )
    year = models.PositiveSmallIntegerField("评价年度")
    level = models.CharField("级别", max_length=20, choices=DesignationLevel.choices)
    score = models.DecimalField("和谐指数", max_digits=5, decimal_places=2)
    valid_from_year = models.PositiveSmallIntegerField("有效期起（年）")
    valid_to_year = models.PositiveSmallIntegerField("有效期止（年）")
    status = models.CharField(
        "状态", max_length=20, choices=DesignationStatus.choices, default=DesignationStatus.PROPOSED
    )
    reason = models.TextField("审批意见", blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提名人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "和谐企业命名"
        verbose_name_plural = "和谐企业命名"
        ordering = ["-year", "-score", "pk"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "year"], name="designation_unique_year")]

    def __str__(self) -> str:
        return f"{self.enterprise.name} {self.get_level_display()}（{self.valid_from_year}–{self.valid_to_year}）"
