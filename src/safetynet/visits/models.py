"""走访企业职工: the cadre visit log (双走双促, 六必清 / 八必访)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from safetynet.core.scope import ScopedQuerySet

# 六必清: what a cadre must be clear about after a visit; 八必访: whom a cadre must visit. Stored as codes.
SIX_CLEAR = {
    "six_basic": "企业基本情况必清",
    "six_union": "工会组建情况必清",
    "six_contract": "劳动合同和集体合同签订情况必清",
    "six_wages": "工资支付和社会保险缴纳情况必清",
    "six_safety": "安全生产和劳动保护情况必清",
    "six_demands": "职工主要诉求必清",
}
EIGHT_VISIT = {
    "eight_hardship": "困难职工必访",
    "eight_model": "劳动模范必访",
    "eight_sick": "患大病职工必访",
    "eight_injured": "因工伤残职工必访",
    "eight_migrant": "农民工必访",
    "eight_retired": "离退休老职工必访",
    "eight_dispute": "有劳动争议的职工必访",
    "eight_family": "家庭遭遇变故职工必访",
}
CHECKLIST = {**SIX_CLEAR, **EIGHT_VISIT}


class Visit(models.Model):
    """One visit of a cadre to an enterprise (and, optionally, a worker there)."""

    SCOPE_PATH = "enterprise__org_unit__path"

    # The account of the cadre who logged it (kept as a name too: accounts come and go, the log stays).
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="走访人账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    officer_name = models.CharField("走访人姓名", max_length=50)
    visited_on = models.DateField("走访日期")
    enterprise = models.ForeignKey(
        "orgs.Enterprise", verbose_name="走访企业", on_delete=models.PROTECT, related_name="visits"
    )
    worker_name = models.CharField("走访职工", max_length=50, blank=True)
    person = models.ForeignKey(
        "members.Person",
        verbose_name="职工档案",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    checklist = models.JSONField("六必清 / 八必访事项", default=list, blank=True)
    findings = models.TextField("发现的问题", blank=True)
    warning = models.ForeignKey(
        "reporting.WarningSignal",
        verbose_name="登记的预警",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name="转办的诉求案件",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "走访记录"
        verbose_name_plural = "走访记录"
        ordering = ["-visited_on", "-pk"]
        indexes = [models.Index(fields=["enterprise", "visited_on"], name="visit_enterprise_day_idx")]

    def __str__(self) -> str:
        return f"{self.visited_on} {self.officer_name} 走访 {self.enterprise.name}"

    @property
    def checklist_labels(self) -> list[str]:
        return [CHECKLIST.get(code, code) for code in self.checklist]
