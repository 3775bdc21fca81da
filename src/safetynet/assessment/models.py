"""目标考核: schemes of items worth 100 points, responsibility letters, evidence, reviews, vetoes, frozen
scores, appeals. Scores themselves are computed live (see scoring.py); only a freeze stores them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from safetynet.core.scope import ScopedQuerySet, user_scope_path


class SchemeStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    FROZEN = "frozen", "已冻结"
    BULLETIN = "bulletin", "已通报"


class SchemeAction(models.TextChoices):
    PUBLISH = "publish", "发布方案"
    FREEZE = "freeze", "冻结得分"
    PUBLISH_BULLETIN = "publish_bulletin", "发布通报"


class SchemeQuerySet(ScopedQuerySet):
    def visible_to(self, user: Any) -> SchemeQuerySet:
        """A scheme is seen by the level running it and those above (its subtree contains the scheme's unit),
        and, once published, by the units it assesses and those below them (their path lies under it)."""
        path = user_scope_path(user)
        if path is None:
            return self.none()
        if path == "":
            return self.all()
        ancestors = [p for p in _prefixes(path)]
        return self.filter(
            Q(org_unit__path__startswith=path)
            | (Q(org_unit__path__in=ancestors) & ~Q(status=SchemeStatus.DRAFT))
        )


def _prefixes(path: str) -> list[str]:
    """ "1/5/27/" → ["1/", "1/5/", "1/5/27/"]."""
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


class Scheme(models.Model):
    """The year's assessment run by one unit (the city, or a district for its streets) over its children."""

    SCOPE_PATH = "org_unit__path"

    year = models.PositiveSmallIntegerField("年度")
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="考核单位", on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField("方案名称", max_length=100)
    status = models.CharField("状态", max_length=20, choices=SchemeStatus.choices, default=SchemeStatus.DRAFT)
    version = models.PositiveIntegerField(default=1)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    frozen_on = models.DateField("冻结得分的数据日期", null=True, blank=True)
    frozen_at = models.DateTimeField("冻结时间", null=True, blank=True)
    appeal_until = models.DateField("申诉截止日", null=True, blank=True)
    commendation = models.TextField("表扬", blank=True)
    criticism = models.TextField("批评", blank=True)
    bulletin_published_at = models.DateTimeField("通报发布时间", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SchemeQuerySet.as_manager()

    class Meta:
        verbose_name = "考核方案"
        verbose_name_plural = "考核方案"
        ordering = ["-year", "org_unit__path"]
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "year"], name="assessment_scheme_unique_unit_year")
        ]

    def __str__(self) -> str:
        return self.name


class ItemKind(models.TextChoices):
    INDICATOR = "indicator", "指标对目标"
    DEDUCTION = "deduction", "计次扣分"
    RATIO = "ratio", "事实比例"
    MANUAL = "manual", "人工评分"
    VETO = "veto", "一票否决"


class Item(models.Model):
    """One item of a scheme. ``rule`` holds the kind's parameters (see rules.py for each kind's shape)."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveSmallIntegerField("序号", default=0)
    name = models.CharField("考核项目", max_length=100)
    kind = models.CharField("计分方式", max_length=20, choices=ItemKind.choices)
    weight = models.DecimalField("分值", max_digits=5, decimal_places=2, default=0)
    rule = models.JSONField("计分规则", default=dict, blank=True)
    description = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "考核项目"
        verbose_name_plural = "考核项目"
        ordering = ["scheme", "order", "pk"]

    def __str__(self) -> str:
        return self.name


class LetterStatus(models.TextChoices):
    UNSIGNED = "unsigned", "待签订"
    SIGNED = "signed", "已签订"


class Letter(models.Model):
    """责任状: one assessed unit's targets for the scheme's year, signed by that unit in the system."""

    SCOPE_PATH = "org_unit__path"

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="letters")
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="责任单位", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField("签订状态", max_length=10, choices=LetterStatus.choices, default="unsigned")
    version = models.PositiveIntegerField(default=1)
    signed_on = models.DateField("签订日期", null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The targets as they stood when signed: [{"indicator", "label", "value"}].
    signed_targets = models.JSONField("签订时的目标", default=list, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "目标责任状"
        verbose_name_plural = "目标责任状"
        ordering = ["scheme", "org_unit__path"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "org_unit"], name="assessment_letter_unique_unit")
        ]

    def __str__(self) -> str:
        return f"{self.scheme.year} 年 {self.org_unit.name} 目标责任状"


def evidence_path(instance: Evidence, filename: str) -> str:
    return f"assessment/{instance.item.scheme_id}/{instance.org_unit_id}/{filename}"


class Evidence(models.Model):
    """A file a unit uploads for a manual item. Seen by that unit and the levels above it only."""

    SCOPE_PATH = "org_unit__path"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="evidence")
    org_unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    file = models.FileField("材料", upload_to=evidence_path)
    name = models.CharField("文件名", max_length=200)
    content_type = models.CharField("类型", max_length=40)
    size = models.PositiveIntegerField("大小（字节）")
    note = models.CharField("说明", max_length=300, blank=True)
    uploaded_at = models.DateTimeField("上传时间")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "考核材料"
        verbose_name_plural = "考核材料"
        ordering = ["item", "org_unit", "uploaded_at"]

    def __str__(self) -> str:
        return self.name


class Review(models.Model):
    """The reviewer's points for a manual item of one unit, with the reason. The latest one counts."""

    SCOPE_PATH = "org_unit__path"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="reviews")
    org_unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    points = models.DecimalField("得分", max_digits=5, decimal_places=2)
    reason = models.CharField("评分理由", max_length=500)
    reviewed_on = models.DateField("评分日期")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "人工评分"
        verbose_name_plural = "人工评分"
        ordering = ["item", "org_unit", "reviewed_on", "pk"]

    def __str__(self) -> str:
        return f"{self.item.name} {self.points}"


class VetoFinding(models.Model):
    """一票否决: a finding against a unit for a veto item; it caps the unit's total from ``found_on``."""

    SCOPE_PATH = "org_unit__path"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="vetoes")
    org_unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    found_on = models.DateField("认定日期")
    reason = models.CharField("事由", max_length=500)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "否决事项"
        verbose_name_plural = "否决事项"
        ordering = ["item", "org_unit", "found_on"]

    def __str__(self) -> str:
        return f"{self.item.name} {self.found_on}"


class FinalScore(models.Model):
    """A frozen figure: one row per unit and item (``item`` empty: the unit's total), with the explanation
    as it was on the day the scores were computed from (``Scheme.frozen_on``)."""

    SCOPE_PATH = "org_unit__path"

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="final_scores")
    org_unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    points = models.DecimalField("得分", max_digits=6, decimal_places=2)
    frozen_points = models.DecimalField("冻结时得分", max_digits=6, decimal_places=2)
    # On a total row: the cap a veto finding put on the total (empty: none).
    cap = models.DecimalField("否决上限", max_digits=6, decimal_places=2, null=True, blank=True)
    explanation = models.TextField("计分说明", blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "最终得分"
        verbose_name_plural = "最终得分"
        ordering = ["scheme", "org_unit", "item"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "org_unit", "item"], name="assessment_final_unique_item"
            ),
            models.UniqueConstraint(
                fields=["scheme", "org_unit"],
                condition=Q(item__isnull=True),
                name="assessment_final_unique_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scheme.year} {self.points}"


class AppealStatus(models.TextChoices):
    SUBMITTED = "submitted", "待裁决"
    DECIDED = "decided", "已裁决"


class AppealAction(models.TextChoices):
    DECIDE = "decide", "裁决"


class Appeal(models.Model):
    """A unit's appeal against one frozen item score, within the scheme's window; the runner decides."""

    SCOPE_PATH = "org_unit__path"

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="appeals")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="appeals")
    org_unit = models.ForeignKey("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField("申诉理由")
    status = models.CharField("状态", max_length=10, choices=AppealStatus.choices, default="submitted")
    version = models.PositiveIntegerField(default=1)
    submitted_at = models.DateTimeField("提交时间")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    upheld = models.BooleanField("申诉成立", null=True, blank=True)
    new_points = models.DecimalField("裁决后得分", max_digits=6, decimal_places=2, null=True, blank=True)
    decision = models.TextField("裁决理由", blank=True)
    decided_at = models.DateTimeField("裁决时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "考核申诉"
        verbose_name_plural = "考核申诉"
        ordering = ["scheme", "-submitted_at"]

    def __str__(self) -> str:
        return f"{self.org_unit.name}：{self.item.name}"
