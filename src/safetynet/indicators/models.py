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


# --- counters kept as dated steps (indicators/counters.py) -------------------------------------------------
# Derived, never edited: rebuilt from the facts by ``counters_rebuild``. No foreign-key constraints: rows are
# rewritten by the thousand, and the rebuild keeps them consistent with their sources (``counters_check``).


class CounterLayout(models.Model):
    """Which counters a population's ``counts`` hold, in order, and the definition they were built with: the
    counters answer only while ``version`` equals the code's (a new indicator or threshold needs a rebuild)."""

    population = models.CharField(max_length=40, primary_key=True)
    keys = models.TextField()
    version = models.CharField(max_length=64)
    # Every change day up to this day was included (1 January of each year up to its year).
    horizon = models.DateField()
    built_at = models.DateTimeField()

    class Meta:
        verbose_name = "计数器布局"
        verbose_name_plural = "计数器布局"

    def __str__(self) -> str:
        return f"{self.population} {self.version} ≤ {self.horizon}"


class EnterpriseRun(models.Model):
    """A run [valid_from, valid_to) of days of one enterprise with constant counters; ``unit`` is the org unit it
    belonged to on those days (none when it had no location), ``today_unit`` its org unit today. ``counts``:
    numerator and denominator of each indicator in the population's layout order, space separated."""

    enterprise = models.ForeignKey(
        "orgs.Enterprise", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    unit = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    today_unit = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    counts = models.TextField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.enterprise_id} [{self.valid_from}, {self.valid_to}) {self.counts}"


class EnterpriseCounts(EnterpriseRun):
    """A run on which an enterprise is in E(u,d) and counts the same in every counter of the enterprise
    population; ``unionised``: whether a union covered it (U(u,d))."""

    unionised = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["enterprise", "valid_from"], name="enterprise_counts_from_idx")]


class EmploymentCounts(EnterpriseRun):
    """A run on which the employment spans an enterprise counts — cut to its runs in U(u,d), at the run's
    ``unit`` and ``today_unit`` — sum to the same counters of the employment population. A unit's employment
    steps are the sums of these rows; a refresh takes an enterprise's rows away from its units' steps and adds
    its new ones, without reading the spans of every other enterprise of those units."""

    class Meta:
        indexes = [models.Index(fields=["enterprise", "valid_from"], name="employment_counts_from_idx")]


class UnitCounts(models.Model):
    """A run [valid_from, valid_to) of days on which one org unit's own counters of one population are
    constant (its enterprises' and employments' sums, not its children's), for the hierarchy as it stood
    (``as_of``: by each enterprise's location on the day) or as it stands today (``today``). As of d each unit
    has one row per population. A closed run never spans the first day of a month (runs are written cut by
    month, ``counters._month_pieces``): a day's closed runs start between the first of its month and the day,
    a short walk of a plain btree on both databases (migration 0010, which replaced PostgreSQL's SP-GiST range
    indexes and SQLite's R*Tree: faster to read on both, and a bare insert's index upkeep several times smaller;
    bench/RESULTS.md, 2026-12-07)."""

    hierarchy = models.CharField(max_length=8)
    population = models.CharField(max_length=40)
    unit = models.ForeignKey(
        "orgs.OrgUnit", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    # The counts packed as 48-bit little-endian fields (engine.pack_bytes): read back as one integer per row.
    counts = models.BinaryField()

    class Meta:
        indexes = [
            # valid_to in the key: the day's "not ended by then" is checked in the index, not on the table's pages.
            models.Index(
                fields=["hierarchy", "valid_from", "valid_to"],
                condition=models.Q(valid_to__isnull=False),
                name="unit_counts_closed_from_idx",
            ),
            # At most one open run per unit, population and hierarchy: a small index read whole.
            models.Index(
                fields=["hierarchy", "valid_from"],
                condition=models.Q(valid_to__isnull=True),
                name="unit_counts_open_from_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hierarchy} {self.population} {self.unit_id} [{self.valid_from}, {self.valid_to})"


class CounterDirty(models.Model):
    """An enterprise whose counters a write may have changed, noted by database triggers in the writer's
    transaction (indicators/triggers.py) and cleared when its counters are brought up to date."""

    enterprise_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["enterprise_id"], name="counter_dirty_enterprise_idx")]

    def __str__(self) -> str:
        return str(self.enterprise_id)
