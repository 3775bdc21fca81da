"""How apps declare indicators without importing the indicator engine.

An indicator is numerator / denominator over a *population* as of a day: eligible enterprises E(u,d)
("enterprise") or employments active on d at unionised enterprises ("employment"). Apps contribute
*facts* — boolean SQL expressions about one population row as of the day — and indicators as two
conditions over those facts (or, for a rate of quantities, two sums of integer facts over rows meeting
them). The engine (``safetynet.indicators``) collects every ``safetynet.<app>.metrics``
module, selects each population once with every fact as a column, and counts every indicator with
conditional sums over those columns grouped by org unit: one query per population, however many
indicators are declared. Numerator and denominator are conjunctions of fact names (all must hold).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import BooleanField, Expression, ExpressionWrapper, Q, QuerySet

ENTERPRISE = "enterprise"
EMPLOYMENT = "employment"

# A fact builder gets the day and the name of the field of the population row holding the enterprise id
# ("pk" for enterprises, "enterprise_id" for employments), and returns a boolean expression.
FactBuilder = Callable[[datetime.date, str], Expression]


@dataclass(frozen=True)
class Fact:
    name: str
    population: str
    build: FactBuilder


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    population: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    order: int = 100
    description: str = ""
    # A rate of quantities, not of rows (职工参赛率: workers, not enterprises): the numerator adds the
    # quantity ``numerator_sum`` (a fact whose expression is a non-negative integer) over the rows meeting
    # ``numerator``, the denominator ``denominator_sum`` over those meeting ``denominator``. None counts rows.
    numerator_sum: str | None = None
    denominator_sum: str | None = None

    @property
    def sums(self) -> tuple[str, ...]:
        """The quantity facts the indicator adds (none for a rate of rows)."""
        return tuple(name for name in (self.numerator_sum, self.denominator_sum) if name)


@dataclass(frozen=True)
class Population:
    """The rows an indicator counts. ``build(day, hierarchy, unionised)`` returns a queryset annotated with
    ``indicator_unit`` (the org unit of the row's enterprise on that day, or today when hierarchy is "today").
    ``unionised`` is the queryset of ids of U(u,d) (eligible, covered enterprises), for populations that
    are defined inside it; the enterprise population itself receives None.
    ``enterprise_prefix`` reaches the enterprise from a row ("" for enterprises, "enterprise__" otherwise).
    """

    name: str
    build: Callable[[datetime.date, str, QuerySet | None], QuerySet]
    enterprise_ref: str
    enterprise_prefix: str
    # A population of many rows per enterprise inside U(u,d) may give ``per_enterprise(day)``: its rows active
    # that day, without unit or U(u,d) filter. The engine then counts them per enterprise first and joins the
    # at most one row per enterprise of U(u,d) for the unit and the breakdown group, instead of joining every
    # row to the enterprise's dated location.
    per_enterprise: Callable[[datetime.date], QuerySet] | None = None
    # With ``per_enterprise``, a population whose rows carry a [from, to) interval may name its two fields and
    # give ``per_enterprise_between(first, last)``: the rows active on some day from first to last. A trend
    # then reads them once for all its days. Its facts must be columns of the row (not depend on the day).
    interval: tuple[str, str] | None = None
    per_enterprise_between: Callable[[datetime.date, datetime.date], QuerySet] | None = None
    # Maps a filtered queryset of population rows to the records a user sees behind a number (None: the rows).
    records: Callable[[QuerySet], QuerySet] | None = None


@dataclass(frozen=True)
class ChangeDays:
    """Where the facts about an enterprise can change value (for the counters kept as dated steps, see
    ``safetynet.indicators.counters``): every fact of the enterprise population is constant between two
    consecutive days among these. ``model``'s rows reach the enterprise id by the lookup ``enterprise``;
    ``days`` are columns holding days on which a fact may change, ``days_after`` columns holding the last day of
    an inclusive period (the fact changes the day after). 1 January of every year is a change day anyway (the
    facts about "this year up to d")."""

    model: Any
    enterprise: str
    days: tuple[str, ...] = ()
    days_after: tuple[str, ...] = ()


@dataclass
class MetricsDeclaration:
    facts: list[Fact] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    populations: list[Population] = field(default_factory=list)
    # An app whose facts are about enterprises names the dated columns they read (see ``ChangeDays``).
    change_days: list[ChangeDays] = field(default_factory=list)


def boolean(condition: Q) -> ExpressionWrapper:
    """A fact that is a plain condition on the population row itself."""
    return ExpressionWrapper(condition, output_field=BooleanField())
