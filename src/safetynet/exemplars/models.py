"""劳模工匠和劳动竞赛: honours (劳动模范, 五一劳动奖章), 工人先锋号, innovation studios, competitions."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

from safetynet.core.scope import ScopedQuerySet, user_scope_path


class HonourKind(models.TextChoices):
    LABOUR_MODEL = "labour_model", "劳动模范"
    MAY_DAY_MEDAL = "may_day_medal", "五一劳动奖章"


class HonourLevel(models.TextChoices):
    NATIONAL = "national", "全国"
    PROVINCIAL = "provincial", "省级"
    CITY = "city", "市级"


class CompetitionKind(models.TextChoices):
    LABOUR = "labour", "劳动竞赛"
    SKILL = "skill", "技能竞赛"


class OrganiserLevel(models.TextChoices):
    NATIONAL = "national", "全国"
    PROVINCIAL = "provincial", "省级"
    CITY = "city", "市级"
    DISTRICT = "district", "区市县"
    ENTERPRISE = "enterprise", "企业"


class Honour(models.Model):
    """A person's honour: 劳动模范 or 五一劳动奖章 of a level, awarded in a year. It belongs to the unit of the
    enterprise the holder worked at when honoured."""

    SCOPE_PATH = "org_unit__path"

    person = models.ForeignKey(
        "members.Person", verbose_name="获得者", on_delete=models.PROTECT, related_name="honours"
    )
    kind = models.CharField("荣誉类别", max_length=20, choices=HonourKind.choices)
    level = models.CharField("级别", max_length=20, choices=HonourLevel.choices)
    year = models.PositiveSmallIntegerField("授予年度")
    enterprise = models.ForeignKey(
        "orgs.Enterprise", verbose_name="所在企业", on_delete=models.PROTECT, related_name="honours"
    )
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="所属区划", on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField("称号全称", max_length=100, blank=True)
    note = models.TextField("事迹摘要", blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "劳模及奖章获得者"
        verbose_name_plural = "劳模及奖章获得者"
        ordering = ["-year", "kind", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["person", "kind", "level", "year"], name="honour_unique_award")
        ]

    def __str__(self) -> str:
        return f"{self.person.name} {self.year}年{self.get_level_display()}{self.get_kind_display()}"


class PioneerTeam(models.Model):
    """工人先锋号: a team (班组) of an enterprise honoured at a level in a year."""

    SCOPE_PATH = "org_unit__path"

    name = models.CharField("班组名称", max_length=100)
    enterprise = models.ForeignKey(
        "orgs.Enterprise", verbose_name="所在企业", on_delete=models.PROTECT, related_name="pioneer_teams"
    )
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="所属区划", on_delete=models.PROTECT, related_name="+"
    )
    level = models.CharField("级别", max_length=20, choices=HonourLevel.choices)
    year = models.PositiveSmallIntegerField("授予年度")
    members_count = models.PositiveIntegerField("班组人数", default=0)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "工人先锋号"
        verbose_name_plural = "工人先锋号"
        ordering = ["-year", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "name", "level", "year"], name="pioneer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.enterprise.name} {self.name}"


class Studio(models.Model):
    """劳模创新工作室: led by a model worker at an enterprise, with members and results."""

    SCOPE_PATH = "org_unit__path"

    name = models.CharField("工作室名称", max_length=100)
    leader = models.ForeignKey(
        "members.Person", verbose_name="领办人", on_delete=models.PROTECT, related_name="led_studios"
    )
    enterprise = models.ForeignKey(
        "orgs.Enterprise", verbose_name="所在企业", on_delete=models.PROTECT, related_name="studios"
    )
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="所属区划", on_delete=models.PROTECT, related_name="+"
    )
    level = models.CharField("命名级别", max_length=20, choices=HonourLevel.choices, default=HonourLevel.CITY)
    founded_on = models.DateField("成立日期")
    members = models.ManyToManyField(
        "members.Person", verbose_name="成员", blank=True, related_name="studios"
    )
    members_count = models.PositiveIntegerField("成员人数", default=0)
    patents = models.PositiveIntegerField("专利数", default=0)
    savings = models.DecimalField("创效（万元）", max_digits=12, decimal_places=2, default=0)
    results = models.TextField("主要成果", blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "劳模创新工作室"
        verbose_name_plural = "劳模创新工作室"
        ordering = ["-founded_on", "pk"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "name"], name="studio_unique_name")]

    def __str__(self) -> str:
        return self.name


class CompetitionQuerySet(ScopedQuerySet):
    def visible_to(self, user: Any) -> ScopedQuerySet:
        """A competition is seen by the organiser's subtree and by the units above it (a city competition
        is open to every district, which enters its enterprises)."""
        path = user_scope_path(user)
        if path is None:
            return self.none()
        if path == "":
            return self.all()
        ancestors = [path[: i + 1] for i, ch in enumerate(path) if ch == "/"]
        return self.filter(Q(org_unit__path__startswith=path) | Q(org_unit__path__in=ancestors))


class Competition(models.Model):
    """A labour or skill competition organised by a union at a level, over a period."""

    SCOPE_PATH = "org_unit__path"

    name = models.CharField("竞赛名称", max_length=150)
    kind = models.CharField("类别", max_length=20, choices=CompetitionKind.choices)
    organiser_level = models.CharField("主办级别", max_length=20, choices=OrganiserLevel.choices)
    org_unit = models.ForeignKey(
        "orgs.OrgUnit", verbose_name="主办单位", on_delete=models.PROTECT, related_name="+"
    )
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    description = models.TextField("竞赛内容", blank=True)

    objects = CompetitionQuerySet.as_manager()

    class Meta:
        verbose_name = "劳动和技能竞赛"
        verbose_name_plural = "劳动和技能竞赛"
        ordering = ["-starts_on", "pk"]

    def __str__(self) -> str:
        return self.name


class CompetitionEntry(models.Model):
    """An enterprise taking part in a competition: its workers, result and award."""

    SCOPE_PATH = "enterprise__org_unit__path"

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="entries")
    enterprise = models.ForeignKey(
        "orgs.Enterprise",
        verbose_name="参赛企业",
        on_delete=models.PROTECT,
        related_name="competition_entries",
    )
    workers = models.PositiveIntegerField("参赛职工人数", default=0)
    result = models.CharField("成绩", max_length=200, blank=True)
    award = models.CharField("获奖", max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "参赛企业"
        verbose_name_plural = "参赛企业"
        ordering = ["competition", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["competition", "enterprise"], name="competition_entry_unique")
        ]

    def __str__(self) -> str:
        return f"{self.competition.name} · {self.enterprise.name}"
