"""Targets per indicator, org unit and year. Indicator values themselves are never stored: they are computed."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from safetynet.core.scope import ScopedQuerySet


class Target(models.Model):
    SCOPE_PATH = "org_unit__path"

    indicator = models.CharField("指标", max_length=60)
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="单位", on_delete=models.CASCADE, related_name="targets"
    )
    year = models.PositiveSmallIntegerField("年度")
    value = models.DecimalField(
        "目标值", max_digits=5, decimal_places=4, validators=[MinValueValidator(0), MaxValueValidator(1)]
    )
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    set_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "目标"
        verbose_name_plural = "目标"
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "org_unit", "year"], name="target_unique_per_unit_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.org_unit} {self.year} {self.indicator} {self.value}"
