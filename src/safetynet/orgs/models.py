"""The four-level real-name registry: org units, industries, enterprises, grassroots unions.

Facts have dates. Intervals are [from, to): active on d when from <= d and (to is empty or d < to);
an empty ``from`` means "since before records began".
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from safetynet.core.scope import ScopedQuerySet

PATH_SEPARATOR = "/"


class OrgLevel(models.IntegerChoices):
    CITY = 1, _("市")
    DISTRICT = 2, _("区市县")
    STREET = 3, _("乡镇街道")
    COMMUNITY = 4, _("村社区")


def active_on_q(day: datetime.date, prefix: str = "") -> Q:
    """[valid_from, valid_to) contains day."""
    return (Q(**{f"{prefix}valid_from__isnull": True}) | Q(**{f"{prefix}valid_from__lte": day})) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gt": day})
    )


class OrgUnit(models.Model):
    """A unit of the hierarchy as it stands today. Its past states are in :class:`OrgUnitVersion`.

    ``path`` is the chain of ids from the city down, e.g. ``"1/5/27/"``: everything below a unit is the
    one indexed prefix query ``path LIKE '1/5/%'``.
    """

    SCOPE_PATH = "path"

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("层级"), choices=OrgLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("层级路径"), max_length=255, blank=True, editable=False)
    valid_from = models.DateField(_("启用日期"), null=True, blank=True)
    valid_to = models.DateField(_("停用日期"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("区域单位")
        verbose_name_plural = _("区域单位")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["path"], name="orgunit_path_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["parent", "name"], name="orgunit_parent_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gt=models.F("valid_from")),
                name="orgunit_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.valid_to is None or self.valid_to > timezone.localdate()

    def ancestors(self) -> models.QuerySet[OrgUnit]:
        """The units above this one, city first: their ids are in the path, so this is one query."""
        ids = [int(p) for p in self.path.split(PATH_SEPARATOR) if p][:-1]
        return OrgUnit.objects.filter(pk__in=ids).order_by("level")

    def subtree(self) -> models.QuerySet[OrgUnit]:
        return OrgUnit.objects.within(self.path)


class OrgUnitVersion(models.Model):
    """How a unit stood during [valid_from, valid_to): its name, code, parent and path then.

    Renaming, moving and closing a unit close its current version and open a new one, so the
    hierarchy of any past day can be asked for.
    """

    SCOPE_PATH = "unit__path"

    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="versions")
    code = models.CharField(_("区划代码"), max_length=12)
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("层级"), choices=OrgLevel.choices)
    parent = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    path = models.CharField(_("层级路径"), max_length=255)
    valid_from = models.DateField(_("起"), null=True, blank=True)
    valid_to = models.DateField(_("止"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("区域单位历史")
        verbose_name_plural = _("区域单位历史")
        ordering = ["unit", models.F("valid_from").asc(nulls_first=True)]
        indexes = [
            models.Index(fields=["path"], name="orgunitversion_path_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["unit", "valid_from"], name="orgunitversion_unit_from_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.valid_from or '…'}—{self.valid_to or '今'}）"


class Industry(models.Model):
    """A section (门类) of GB/T 4754-2017, A to T."""

    code = models.CharField(_("门类代码"), max_length=1, primary_key=True)
    name = models.CharField(_("名称"), max_length=60)

    class Meta:
        verbose_name = _("行业门类")
        verbose_name_plural = _("行业门类")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Ownership(models.TextChoices):
    STATE = "state", _("国有")
    COLLECTIVE = "collective", _("集体")
    INSTITUTION = "institution", _("事业单位")
    ORGAN = "organ", _("机关")
    PRIVATE = "private", _("私营")
    FOREIGN = "foreign", _("外资")
    HMT = "hmt", _("港澳台")
    INDIVIDUAL = "individual", _("个体")


PUBLIC_OWNERSHIPS = frozenset({Ownership.STATE, Ownership.COLLECTIVE, Ownership.INSTITUTION, Ownership.ORGAN})


class EnterpriseQuerySet(ScopedQuerySet):
    def public(self) -> EnterpriseQuerySet:
        return self.filter(ownership__in=PUBLIC_OWNERSHIPS)

    def nonpublic(self) -> EnterpriseQuerySet:
        return self.exclude(ownership__in=PUBLIC_OWNERSHIPS)

    def operating_on(self, day: datetime.date) -> EnterpriseQuerySet:
        return self.filter(
            Q(founded_on__lte=day) & (Q(deregistered_on__isnull=True) | Q(deregistered_on__gt=day))
        )


class Enterprise(models.Model):
    """An employer (企业 / 单位). Current values live here; dated facts in the history tables below."""

    SCOPE_PATH = "org_unit__path"

    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("企业名称"), max_length=200, db_index=True)
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="enterprises"
    )
    ownership = models.CharField(_("经济类型"), max_length=20, choices=Ownership.choices)
    industry = models.ForeignKey(
        Industry,
        verbose_name=_("行业门类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enterprises",
    )
    above_designated_size = models.BooleanField(_("规模以上"), default=False)
    headcount = models.PositiveIntegerField(_("职工人数"))
    migrant_headcount = models.PositiveIntegerField(_("农民工人数"), default=0)
    dispatched_headcount = models.PositiveIntegerField(_("劳务派遣人数"), default=0)
    founded_on = models.DateField(_("成立日期"))
    deregistered_on = models.DateField(_("注销日期"), null=True, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        ordering = ["org_unit__path", "name"]
        indexes = [
            models.Index(fields=["org_unit", "name"], name="enterprise_unit_name_idx"),
            models.Index(fields=["founded_on", "deregistered_on"], name="enterprise_dates_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(deregistered_on__isnull=True) | Q(deregistered_on__gte=models.F("founded_on")),
                name="enterprise_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.ownership in PUBLIC_OWNERSHIPS

    @property
    def sector_label(self) -> str:
        return _("公有制") if self.is_public else _("非公有制")

    @property
    def is_operating(self) -> bool:
        return self.deregistered_on is None or self.deregistered_on > timezone.localdate()


class EnterpriseLocation(models.Model):
    """Which org unit an enterprise belonged to during [valid_from, valid_to)."""

    SCOPE_PATH = "enterprise__org_unit__path"

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="locations")
    org_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("企业所属区划历史")
        verbose_name_plural = _("企业所属区划历史")
        ordering = ["enterprise", models.F("valid_from").asc(nulls_first=True)]
        indexes = [
            models.Index(fields=["org_unit", "valid_from", "valid_to"], name="entlocation_unit_dates_idx")
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} @ {self.org_unit_id} [{self.valid_from or '…'}, {self.valid_to or '…'})"


class EnterpriseHeadcount(models.Model):
    """The headcounts in force from ``valid_from`` until the next figure (or for ever)."""

    SCOPE_PATH = "enterprise__org_unit__path"

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="headcounts")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    headcount = models.PositiveIntegerField(_("职工人数"))
    migrant_headcount = models.PositiveIntegerField(_("农民工人数"), default=0)
    dispatched_headcount = models.PositiveIntegerField(_("劳务派遣人数"), default=0)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("企业职工人数历史")
        verbose_name_plural = _("企业职工人数历史")
        ordering = ["enterprise", models.F("valid_from").asc(nulls_first=True)]
        indexes = [models.Index(fields=["enterprise", "valid_from"], name="entheadcount_ent_from_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise_id}: {self.headcount} [{self.valid_from or '…'}, {self.valid_to or '…'})"


class UnionType(models.TextChoices):
    SINGLE = "single", _("单独")
    JOINT = "joint", _("联合")
    REGIONAL = "regional", _("区域性")
    INDUSTRY = "industry", _("行业性")
    PROJECT = "project", _("项目")


class UnionQuerySet(ScopedQuerySet):
    def active_on(self, day: datetime.date) -> UnionQuerySet:
        return self.filter(Q(founded_on__lte=day) & (Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=day)))


class GrassrootsUnion(models.Model):
    """A grassroots union (基层工会); it covers one or many enterprises over time."""

    SCOPE_PATH = "org_unit__path"

    name = models.CharField(_("工会名称"), max_length=200)
    union_type = models.CharField(_("工会类型"), max_length=20, choices=UnionType.choices)
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="unions"
    )
    founded_on = models.DateField(_("成立日期"))
    dissolved_on = models.DateField(_("撤销日期"), null=True, blank=True)
    chair_name = models.CharField(_("主席姓名"), max_length=50, blank=True)
    chair_directly_elected = models.BooleanField(_("主席直选"), default=False)

    objects = UnionQuerySet.as_manager()

    class Meta:
        verbose_name = _("基层工会")
        verbose_name_plural = _("基层工会")
        ordering = ["org_unit__path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "name"], name="union_unique_name_per_unit"),
            models.CheckConstraint(
                condition=Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=models.F("founded_on")),
                name="union_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        today = timezone.localdate()
        return self.founded_on <= today and (self.dissolved_on is None or self.dissolved_on > today)


class UnionCoverage(models.Model):
    """A union covers an enterprise during [valid_from, valid_to)."""

    SCOPE_PATH = "union__org_unit__path"

    union = models.ForeignKey(GrassrootsUnion, on_delete=models.CASCADE, related_name="coverages")
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="coverages")
    valid_from = models.DateField(_("覆盖起始"), null=True, blank=True)
    valid_to = models.DateField(_("覆盖终止"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("工会覆盖企业")
        verbose_name_plural = _("工会覆盖企业")
        ordering = ["union", models.F("valid_from").asc(nulls_first=True)]
        indexes = [
            models.Index(fields=["enterprise", "valid_from", "valid_to"], name="coverage_ent_dates_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gt=models.F("valid_from")),
                name="coverage_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.union} → {self.enterprise}"
