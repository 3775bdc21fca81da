"""服务帮扶: every read that matters. Scoped with ``visible_to(user)``; the unscoped ones say so (for the
workers' platform and the sweeps)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from safetynet.assistance.models import (
    LIVE_APPLICATION_STATUSES,
    Application,
    ApplicationStatus,
    Budget,
    DiscountBase,
    HardshipFile,
    IncomeThreshold,
    Instalment,
    Loan,
    LoanStatus,
    Objection,
    Payment,
    PaymentBatch,
    PaymentKind,
    ProgrammeKind,
    Repayment,
    Round,
    Vote,
    open_on_q,
)
from safetynet.assistance.services import ancestor_ids, threshold_for
from safetynet.core.scope import user_scope_path
from safetynet.orgs.models import OrgLevel, OrgUnit

__all__ = ["threshold_for"]

ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=12, decimal_places=2))


# --- files -----------------------------------------------------------------------------------------


def hardship_file_list(
    user: Any,
    *,
    q: str = "",
    status: str = "",
    cause: str = "",
    unit: OrgUnit | None = None,
    open_on: datetime.date | None = None,
) -> QuerySet[HardshipFile]:
    queryset = HardshipFile.objects.visible_to(user).select_related("person", "org_unit")
    if unit is not None:
        queryset = queryset.within(unit.path)
    if status:
        queryset = queryset.filter(status=status)
    if cause:
        queryset = queryset.filter(causes__contains=cause)
    if open_on is not None:
        queryset = queryset.filter(open_on_q(open_on))
    q = (q or "").strip()
    if q:
        queryset = queryset.filter(
            Q(person__name__startswith=q) | Q(person__id_number_masked__endswith=q[-4:])
        )
    return queryset


def hardship_files_due_review(user: Any, day: datetime.date) -> QuerySet[HardshipFile]:
    """Open files whose yearly review is due on or before ``day``."""
    return (
        HardshipFile.objects.visible_to(user)
        .filter(closed_on__isnull=True, review_due_on__lte=day)
        .select_related("person", "org_unit")
        .order_by("review_due_on", "pk")
    )


def threshold_list(user: Any) -> QuerySet[IncomeThreshold]:
    """Thresholds of the user's subtree and of the units above it (which apply to it)."""
    path = user_scope_path(user)
    if path is None:
        return IncomeThreshold.objects.none()
    return (
        IncomeThreshold.objects.filter(
            Q(org_unit__path__startswith=path) | Q(org_unit_id__in=_related_unit_ids(user))
        )
        .select_related("org_unit")
        .order_by("org_unit__path", "-year")
    )


# --- rounds and budgets ----------------------------------------------------------------------------


def _related_unit_ids(user: Any) -> list[int]:
    unit = getattr(user, "org_unit", None)
    return ancestor_ids(unit) if unit is not None else []


def round_list(user: Any, *, year: int | None = None, kind: str = "") -> QuerySet[Round]:
    """Rounds organised by the user's unit, a unit above it (a district sees the city's rounds) or below it."""
    path = user_scope_path(user)
    if path is None:
        return Round.objects.none()
    queryset = Round.objects.select_related("org_unit")
    if path:
        queryset = queryset.filter(
            Q(org_unit__path__startswith=path) | Q(org_unit_id__in=_related_unit_ids(user))
        )
    if year:
        queryset = queryset.filter(year=year)
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset


@dataclass
class BudgetLine:
    budget: Budget
    unit: OrgUnit
    amount: Decimal
    spent: Decimal
    allocated_to_children: Decimal
    remaining: Decimal
    over_allocated: bool
    depth: int


def budget_lines(round_: Round, user: Any = None) -> list[BudgetLine]:
    """The round's budget tree (in path order), each with what its children were given and what is left."""
    budgets = list(Budget.objects.filter(round=round_).select_related("org_unit").order_by("org_unit__path"))
    by_unit = {b.org_unit_id: b for b in budgets}
    children: dict[int, Decimal] = {}
    for budget in budgets:
        parent = next((a for a in reversed(ancestor_ids(budget.org_unit)[:-1]) if a in by_unit), None)
        if parent is not None:
            children[parent] = children.get(parent, Decimal(0)) + budget.amount
    scope = user_scope_path(user) if user is not None else ""
    lines = []
    for budget in budgets:
        if scope is None:
            break
        visible = budget.org_unit.path.startswith(scope) or scope.startswith(budget.org_unit.path)
        if not visible:
            continue
        allocated = children.get(budget.org_unit_id, Decimal(0))
        lines.append(
            BudgetLine(
                budget=budget,
                unit=budget.org_unit,
                amount=budget.amount,
                spent=budget.spent,
                allocated_to_children=allocated,
                remaining=budget.amount - budget.spent,
                over_allocated=allocated > budget.amount,
                depth=budget.org_unit.level - round_.org_unit.level,
            )
        )
    return lines


def budget_problems(round_: Round) -> list[str]:
    """Chinese sentences naming each unit whose children were given more than it has."""
    from safetynet.assistance.services import _budget_problems

    budgets = list(Budget.objects.filter(round=round_))
    amounts = {b.org_unit_id: b.amount for b in budgets}
    spent = {b.org_unit_id: b.spent for b in budgets}
    return [problem.message for problem in _budget_problems(round_, amounts, spent)]


# --- applications ----------------------------------------------------------------------------------


def application_list(
    user: Any,
    *,
    round: Round | None = None,
    status: str = "",
    unit: OrgUnit | None = None,
) -> QuerySet[Application]:
    queryset = Application.objects.visible_to(user).select_related(
        "person", "org_unit", "round", "hardship_file"
    )
    if round is not None:
        queryset = queryset.filter(round=round)
    if status:
        queryset = queryset.filter(status=status)
    if unit is not None:
        queryset = queryset.within(unit.path)
    return queryset


def review_queue(user: Any) -> QuerySet[Application]:
    """Applications waiting for this user's vote: in review at the user's level, in scope, not yet voted."""
    unit = getattr(user, "org_unit", None)
    if unit is None:
        return Application.objects.none()
    return (
        Application.objects.visible_to(user)
        .filter(status=ApplicationStatus.IN_REVIEW, current_level=unit.level)
        .exclude(Exists(Vote.objects.filter(application=OuterRef("pk"), level=unit.level, voter=user)))
        .select_related("person", "org_unit", "round")
        .order_by("round_id", "pk")
    )


def application_votes(application: Application) -> QuerySet[Vote]:
    return Vote.objects.filter(application=application).order_by("pk")


def application_objections(application: Application) -> QuerySet[Objection]:
    return Objection.objects.filter(application=application).order_by("pk")


def eligible_files(round_: Round, unit: OrgUnit, on: datetime.date) -> QuerySet[HardshipFile]:
    """The open files of the unit's subtree eligible for the round on ``on`` (what a batch applies for):
    a handful of conditions in one query, thresholds as one OR of per-district ranges."""
    from safetynet.members.models import Membership, interval_active_q

    queryset = HardshipFile.objects.within(unit.path).filter(open_on_q(on))
    if round_.require_below_threshold:
        # The districts (or the unit's own district) under which the files sit, each with its threshold.
        districts = list(
            OrgUnit.objects.filter(
                Q(path__startswith=unit.path) | Q(pk__in=ancestor_ids(unit)), level=OrgLevel.DISTRICT
            )
        )
        condition = Q(pk__in=[])
        for district in districts:
            threshold = threshold_for(district, round_.year)
            if threshold is not None:
                condition |= Q(org_unit__path__startswith=district.path, income_per_head__lt=threshold)
        queryset = queryset.filter(condition)
    if round_.require_member:
        queryset = queryset.filter(
            Exists(Membership.objects.filter(interval_active_q(on), person=OuterRef("person_id")))
        )
    live = [str(s) for s in LIVE_APPLICATION_STATUSES]
    queryset = queryset.exclude(
        Exists(Application.objects.filter(round=round_, person=OuterRef("person_id"), status__in=live))
    ).exclude(
        Exists(
            Application.objects.filter(round=round_, household_key=OuterRef("household_key"), status__in=live)
        )
    )
    if round_.require_not_paid:
        queryset = queryset.exclude(
            Exists(
                Payment.objects.filter(
                    round=round_,
                    kind=PaymentKind.PAYMENT,
                    reversed_on__isnull=True,
                    person=OuterRef("person_id"),
                )
            )
        ).exclude(
            Exists(
                Payment.objects.filter(
                    round=round_,
                    kind=PaymentKind.PAYMENT,
                    reversed_on__isnull=True,
                    household_key=OuterRef("household_key"),
                )
            )
        )
    return queryset.order_by("pk")


# --- payments --------------------------------------------------------------------------------------


def payment_list(
    user: Any,
    *,
    round: Round | None = None,
    batch: PaymentBatch | None = None,
) -> QuerySet[Payment]:
    queryset = Payment.objects.visible_to(user).select_related("person", "org_unit", "round", "batch")
    if round is not None:
        queryset = queryset.filter(round=round)
    if batch is not None:
        queryset = queryset.filter(batch=batch)
    return queryset


def batch_list(user: Any, *, round: Round | None = None) -> QuerySet[PaymentBatch]:
    queryset = (
        PaymentBatch.objects.visible_to(user)
        .select_related("round", "org_unit")
        .annotate(total=Coalesce(Sum("payments__amount", filter=Q(payments__kind="payment")), ZERO))
    )
    if round is not None:
        queryset = queryset.filter(round=round)
    return queryset


# --- loans -----------------------------------------------------------------------------------------


def loan_list(user: Any, *, status: str = "") -> QuerySet[Loan]:
    queryset = (
        Loan.objects.visible_to(user)
        .select_related("person", "org_unit")
        .annotate(repaid=Coalesce(Sum("repayments__amount"), ZERO))
    )
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def loan_repaid(loan: Loan, day: datetime.date) -> Decimal:
    """Repaid on or before ``day``."""
    total = Repayment.objects.filter(loan=loan, paid_on__lte=day).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0.00")


def loans_overdue(user: Any, day: datetime.date) -> QuerySet[Instalment]:
    """Instalments due before ``day`` and not fully repaid as of ``day`` (repayments settle the oldest first),
    of loans not written off or settled by then; annotated ``repaid_as_of`` and ``overdue_amount``."""
    repaid = (
        Repayment.objects.filter(loan=OuterRef("loan_id"), paid_on__lte=day)
        .order_by()
        .values("loan")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return (
        Instalment.objects.visible_to(user)
        .filter(due_on__lt=day, loan__granted_on__lte=day)
        .exclude(loan__status=LoanStatus.WRITTEN_OFF, loan__written_off_on__lte=day)
        .annotate(
            repaid_as_of=Coalesce(
                Subquery(repaid, output_field=DecimalField(max_digits=12, decimal_places=2)), ZERO
            )
        )
        .filter(cumulative__gt=F("repaid_as_of"))
        .annotate(overdue_amount=F("cumulative") - F("repaid_as_of"))
        .select_related("loan__person", "loan__org_unit")
        .order_by("due_on", "loan_id", "number")
    )


# --- discount bases --------------------------------------------------------------------------------


def _active_q(day: datetime.date) -> Q:
    return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gt=day))


def discount_base_list(
    user: Any, *, kind: str = "", active_on: datetime.date | None = None
) -> QuerySet[DiscountBase]:
    queryset = DiscountBase.objects.visible_to(user).select_related("org_unit")
    if kind:
        queryset = queryset.filter(kind=kind)
    if active_on is not None:
        queryset = queryset.filter(_active_q(active_on))
    return queryset


def discount_bases_active(unit: OrgUnit, day: datetime.date) -> QuerySet[DiscountBase]:
    """Unscoped, for the workers' platform: bases of the unit, the units above it (the city's are for all)
    and the units below it, active on ``day``."""
    return (
        DiscountBase.objects.filter(
            Q(org_unit__path__startswith=unit.path) | Q(org_unit_id__in=ancestor_ids(unit))
        )
        .filter(_active_q(day))
        .select_related("org_unit")
        .order_by("kind", "name", "pk")
    )


# --- figures (exact money, as of any day) ------------------------------------------------------------


@dataclass
class BudgetUsed:
    unit: OrgUnit
    budget: Decimal
    paid: Decimal

    @property
    def rate(self) -> float | None:
        return None if not self.budget else round(float(self.paid / self.budget), 4)


def _paid_as_of_q(day: datetime.date) -> Q:
    """Payment rows (payments and reversals) that count on ``day``: paid (bank batch marked paid, or paid
    directly) on or before it. A reversal's negative amount counts from its own date."""
    return Q(paid_on__isnull=False, paid_on__lte=day)


def budget_used(units: list[OrgUnit], day: datetime.date) -> list[BudgetUsed]:
    """For each unit: its own budget shares in the rounds of ``day``'s year, and the net amount paid on or before
    ``day`` under it in those rounds (``assistance_budget_used_rate`` = paid ÷ budget). Two grouped queries."""
    budgets = dict(
        Budget.objects.filter(round__year=day.year, org_unit__in=units)
        .values("org_unit_id")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("org_unit_id", "total")
    )
    rows = (
        Payment.objects.filter(_paid_as_of_q(day), round__year=day.year)
        .values("org_unit__path")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    paid_by_path = [(row["org_unit__path"], row["total"]) for row in rows]
    return [
        BudgetUsed(
            unit=unit,
            budget=budgets.get(unit.pk) or Decimal("0.00"),
            paid=sum((total for path, total in paid_by_path if path.startswith(unit.path)), Decimal("0.00")),
        )
        for unit in units
    ]


@dataclass
class HelpedLine:
    round: Round
    people: int
    amount: Decimal


def helped_by_round(unit: OrgUnit, start: datetime.date, end: datetime.date) -> list[HelpedLine]:
    """People and net amount helped under ``unit`` per round, by payments paid in [start, end] (reversals
    subtract their amount and, when they reverse a payment of the period, the person)."""
    payments = Payment.objects.within(unit.path).filter(paid_on__gte=start, paid_on__lte=end)
    amounts = dict(
        payments.values("round_id").annotate(total=Sum("amount")).order_by().values_list("round_id", "total")
    )
    people: dict[int, int] = {}
    for round_id, kind, count in (
        payments.values("round_id", "kind")
        .annotate(n=Sum(Value(1)))
        .order_by()
        .values_list("round_id", "kind", "n")
    ):
        people[round_id] = people.get(round_id, 0) + (count if kind == PaymentKind.PAYMENT else -count)
    rounds = {r.pk: r for r in Round.objects.filter(pk__in=list(amounts))}
    return [
        HelpedLine(round=rounds[round_id], people=people.get(round_id, 0), amount=amount)
        for round_id, amount in sorted(amounts.items(), key=lambda item: (rounds[item[0]].year, item[0]))
    ]


def helped_by_kind(unit: OrgUnit, start: datetime.date, end: datetime.date) -> dict[str, tuple[int, Decimal]]:
    """(people, amount) per programme kind, from :func:`helped_by_round`."""
    result: dict[str, tuple[int, Decimal]] = {}
    for line in helped_by_round(unit, start, end):
        people, amount = result.get(line.round.kind, (0, Decimal("0.00")))
        result[line.round.kind] = (people + line.people, amount + line.amount)
    return result


def files_figures(unit: OrgUnit, start: datetime.date, end: datetime.date) -> dict[str, int]:
    """Files open on ``end``, opened in [start, end], closed (脱困) in [start, end], under ``unit``."""
    files = HardshipFile.objects.within(unit.path)
    return {
        "open": files.filter(open_on_q(end)).count(),
        "opened": files.filter(opened_on__gte=start, opened_on__lte=end).count(),
        "closed": files.filter(closed_on__gte=start, closed_on__lte=end).count(),
    }


# --- for the workers' platform (unscoped: the person is the verified worker) ------------------------------


def applications_of_person(person: Any) -> QuerySet[Application]:
    """The worker's own applications, newest first."""
    return (
        Application.objects.filter(person=person)
        .select_related("round", "org_unit")
        .order_by("-submitted_on", "-pk")
    )


def rounds_open_for(person: Any, day: datetime.date) -> QuerySet[Round]:
    """Rounds open for applications on ``day`` whose organising unit is at or above the unit of the person's
    open hardship file (none without an open file)."""
    hardship_file = (
        HardshipFile.objects.filter(person=person, closed_on__isnull=True).select_related("org_unit").first()
    )
    if hardship_file is None:
        return Round.objects.none()
    return (
        Round.objects.filter(
            status="open",
            window_opens__lte=day,
            window_closes__gte=day,
            org_unit_id__in=ancestor_ids(hardship_file.org_unit),
        )
        .select_related("org_unit")
        .order_by("window_closes", "pk")
    )


# --- the card on the indicators dashboard ----------------------------------------------------------------


@dataclass
class AssistanceCard:
    unit: OrgUnit
    day: datetime.date
    files: dict[str, int]
    budget: BudgetUsed
    helped: list[tuple[str, int, Decimal]]  # (programme label, people, amount) in the year up to the day


def assistance_card_for_user(user: Any, *, unit: OrgUnit, day: datetime.date) -> AssistanceCard | None:
    """The year's assistance figures of ``unit`` as of ``day`` (files open / new / 脱困, budget used, people and
    amount helped per programme), for the dashboard; None when the unit is outside the user's scope or nothing
    of assistance exists under it."""
    path = user_scope_path(user)
    if path is None or not unit.path.startswith(path):
        return None
    start = datetime.date(day.year, 1, 1)
    files = files_figures(unit, start, day)
    budget = budget_used([unit], day)[0]
    helped = [
        (ProgrammeKind(kind).label, people, amount)
        for kind, (people, amount) in helped_by_kind(unit, start, day).items()
    ]
    if not any(files.values()) and not budget.budget and not helped:
        return None
    return AssistanceCard(unit=unit, day=day, files=files, budget=budget, helped=helped)
