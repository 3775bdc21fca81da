"""Reads of the programmes: scoped lists, work lists, and the set-based tests the indicator engine uses.

The ``*_q`` functions return an ``Exists`` over ``OuterRef("pk")`` of an Enterprise queryset, so an
indicator counts "enterprises with X on d" in one query for a whole subtree; a regional contract or
system counts for every enterprise it covers.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from safetynet.orgs.models import Enterprise, OrgUnit, active_on_q
from safetynet.programmes.models import (
    WAGE_BARGAINING_KINDS,
    AnkangCupEntry,
    CollectiveContract,
    CongressSession,
    ContractAction,
    ContractCoverage,
    ContractStatus,
    ContractStep,
    EnterpriseSystem,
    SafetySupervisor,
    ServiceStation,
    SystemCoverage,
    SystemKind,
    TeamSafetyBuilding,
    WorkerDirector,
    contract_in_force_condition,
)

# --- set-based tests for indicators ----------------------------------------------------------


def contract_in_force_q(day: datetime.date, kinds: Iterable[str] | None = WAGE_BARGAINING_KINDS) -> Exists:
    """An enterprise has a contract of one of ``kinds`` (None: any kind) in force on ``day`` covering it."""
    # A join to the contract, not ``contract IN (contracts in force)``: inside the correlated EXISTS, SQLite
    # ran that list subquery again for every enterprise (minutes on the city demo); a join is one lookup.
    coverages = ContractCoverage.objects.filter(
        contract_in_force_condition(day, "contract__"), enterprise=OuterRef("pk")
    )
    if kinds is not None:
        coverages = coverages.filter(contract__kind__in=list(kinds))
    return Exists(coverages)


def enterprises_with_contract_in_force(
    day: datetime.date, kinds: Iterable[str] | None = WAGE_BARGAINING_KINDS, *, among: QuerySet | None = None
) -> QuerySet[Enterprise]:
    """Enterprises (of ``among``, default all) covered on ``day`` by a contract of ``kinds`` in force."""
    base = among if among is not None else Enterprise.objects.all()
    return base.filter(contract_in_force_q(day, kinds))


def system_active_q(day: datetime.date, system: str) -> Exists:
    """An enterprise has ``system`` (congress / openness) established on or before ``day``, not abolished on
    or before it, and covering it that day."""
    return Exists(
        SystemCoverage.objects.filter(enterprise=OuterRef("pk"), system__system=system)
        .filter(active_on_q(day))
        .filter(system__established_on__lte=day)
        .filter(Q(system__abolished_on__isnull=True) | Q(system__abolished_on__gt=day))
    )


def enterprises_with_system(
    day: datetime.date, system: str, *, among: QuerySet | None = None
) -> QuerySet[Enterprise]:
    base = among if among is not None else Enterprise.objects.all()
    return base.filter(system_active_q(day, system))


def station_open_q(day: datetime.date) -> Exists:
    """A service station at the enterprise is open on ``day``."""
    return Exists(ServiceStation.objects.open_on(day).filter(enterprise=OuterRef("pk")))


def enterprises_with_open_station(
    day: datetime.date, *, among: QuerySet | None = None
) -> QuerySet[Enterprise]:
    base = among if among is not None else Enterprise.objects.all()
    return base.filter(station_open_q(day))


def ankang_entry_q(year: int) -> Exists:
    return Exists(AnkangCupEntry.objects.filter(enterprise=OuterRef("pk"), year=year))


def safety_supervisor_q(day: datetime.date) -> Exists:
    """The enterprise has a labour-protection supervisor appointed on ``day``."""
    return Exists(
        SafetySupervisor.objects.filter(enterprise=OuterRef("pk"))
        .filter(valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
    )


def annotate_programmes(queryset: QuerySet[Enterprise], day: datetime.date) -> QuerySet[Enterprise]:
    """Each enterprise with one boolean per programme on ``day`` (for the work list and the panel)."""
    return queryset.annotate(
        has_wage_contract=contract_in_force_q(day),
        has_congress=system_active_q(day, SystemKind.CONGRESS),
        has_openness=system_active_q(day, SystemKind.OPENNESS),
        has_station=station_open_q(day),
    )


PROGRAMME_FLAGS = {
    "contract": ("has_wage_contract", "工资集体协商"),
    "congress": ("has_congress", "职代会"),
    "openness": ("has_openness", "厂务公开"),
    "station": ("has_station", "职工服务站"),
}


def enterprises_lacking(
    user: Any, *, unit: OrgUnit, day: datetime.date, programme: str, unionised_only: bool = True
) -> QuerySet[Enterprise]:
    """The district officer's work list: operating (and by default unionised) enterprises under ``unit``
    that lack ``programme`` (contract / congress / openness / station) on ``day``."""
    from safetynet.orgs.selectors import covered_on_q

    flag, _label = PROGRAMME_FLAGS[programme]
    qs = Enterprise.objects.visible_to(user).within(unit.path).operating_on(day)
    if unionised_only:
        qs = qs.filter(covered_on_q(day))
    return annotate_programmes(qs, day).filter(**{flag: False}).select_related("org_unit")


# --- contracts -------------------------------------------------------------------------------


def contract_list(
    user: Any,
    *,
    within: OrgUnit | None = None,
    status: str | None = None,
    kind: str | None = None,
    enterprise: Enterprise | None = None,
    q: str = "",
    expiring_on: datetime.date | None = None,
    overdue_on: datetime.date | None = None,
) -> QuerySet[CollectiveContract]:
    """Contracts the user sees. ``expiring_on``: in force and expiring within the reminder horizon (60 days)
    from that day; ``overdue_on``: signed, not filed, the 10 days for filing over on that day."""
    qs = CollectiveContract.objects.visible_to(user)
    if within is not None:
        qs = qs.within(within.path)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if enterprise is not None:
        qs = qs.filter(coverages__enterprise=enterprise)
    if q:
        qs = qs.filter(Q(title__contains=q) | Q(coverages__enterprise__credit_code=q.upper())).distinct()
    if expiring_on is not None:
        from safetynet.programmes.workflow import EXPIRY_REMINDER_DAYS

        horizon = expiring_on + datetime.timedelta(days=EXPIRY_REMINDER_DAYS)
        qs = qs.expiring_between(expiring_on, horizon).exclude(
            status__in=(ContractStatus.RENEWED, ContractStatus.EXPIRED)
        )
    if overdue_on is not None:
        qs = qs.filing_overdue_on(overdue_on)
    return (
        qs.select_related("org_unit")
        .annotate(enterprise_count=Count("coverages", distinct=True))
        .order_by("org_unit__path", "-effective_on", "-pk")
    )


def contracts_awaiting_my_review(user: Any) -> QuerySet[CollectiveContract]:
    """Drafts submitted by the units directly below the user's unit: what the user's unit must pre-review."""
    unit_id = getattr(user, "org_unit_id", None)
    if unit_id is None:
        return CollectiveContract.objects.none()
    return (
        CollectiveContract.objects.visible_to(user)
        .filter(status=ContractStatus.DRAFT, org_unit__parent_id=unit_id)
        .select_related("org_unit")
    )


def contract_steps(contract: CollectiveContract) -> QuerySet:
    return contract.steps.select_related("actor", "actor_unit").order_by("at", "pk")


# The step bar of the contract page: 要约 › 协商 › 草案 › 预审 › 职代会 › 签订 › 备案 › 生效, each lit by the
# workflow actions that complete it (the latest one wins: a resubmitted draft shows its last submission).
STEP_BAR: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("offer", "要约", (ContractAction.OFFER,)),
    ("bargaining", "协商", (ContractAction.START_BARGAINING,)),
    ("draft", "草案", (ContractAction.SUBMIT_DRAFT,)),
    ("review", "预审", (ContractAction.PASS_REVIEW, ContractAction.RETURN_REVIEW)),
    ("vote", "职代会", (ContractAction.RECORD_VOTE,)),
    ("sign", "签订", (ContractAction.SIGN,)),
    ("file", "备案", (ContractAction.FILE,)),
    ("effect", "生效", (ContractAction.TAKE_EFFECT,)),
)
# How far along the bar a status is: the index of the last completed position.
_STATUS_REACHED = {
    ContractStatus.OFFERED: 0,
    ContractStatus.BARGAINING: 1,
    ContractStatus.DRAFT: 2,
    ContractStatus.RETURNED: 2,
    ContractStatus.REVIEWED: 3,
    ContractStatus.VOTE_FAILED: 3,
    ContractStatus.APPROVED: 4,
    ContractStatus.SIGNED: 5,
    ContractStatus.FILED: 6,
    ContractStatus.IN_FORCE: 7,
    ContractStatus.EXPIRED: 7,
    ContractStatus.RENEWED: 7,
    ContractStatus.WITHDRAWN: -1,
}


@dataclass(frozen=True)
class BarStep:
    key: str
    label: str
    state: str  # done / current / todo / warning (returned, vote failed)
    step: ContractStep | None


def contract_step_bar(contract: CollectiveContract, steps: Iterable[ContractStep]) -> list[BarStep]:
    """The eight positions of the bar with who and when from the steps already loaded."""
    latest: dict[str, ContractStep] = {}
    for step in steps:
        latest[step.action] = step
    reached = _STATUS_REACHED.get(contract.status, -1)
    if contract.status == ContractStatus.WITHDRAWN:
        # A withdrawn contract shows the positions it had passed, none current.
        reached = max(
            (i for i, (_k, _l, actions) in enumerate(STEP_BAR) if any(a in latest for a in actions)),
            default=-1,
        )
    bar = []
    for index, (key, label, actions) in enumerate(STEP_BAR):
        found = [latest[a] for a in actions if a in latest]
        step = max(found, key=lambda s: (s.at, s.pk)) if found else None
        if index <= reached:
            state = "done"
        elif index == reached + 1 and contract.status != ContractStatus.WITHDRAWN:
            state = "current"
        else:
            state = "todo"
        if contract.status == ContractStatus.RETURNED and key == "review":
            state = "warning"
        if contract.status == ContractStatus.VOTE_FAILED and key == "vote":
            state = "warning"
        bar.append(BarStep(key=key, label=label, state=state, step=step if state != "todo" else None))
    return bar


def contracts_covering(enterprise: Enterprise) -> QuerySet[CollectiveContract]:
    """Every contract covering the enterprise, including regional ones handled above its unit (the panel on an
    enterprise page: the user already may see the enterprise)."""
    return (
        CollectiveContract.objects.filter(coverages__enterprise=enterprise)
        .select_related("org_unit")
        .order_by("-effective_on", "-pk")
    )


# --- the programme panel of one enterprise ---------------------------------------------------


@dataclass(frozen=True)
class EnterpriseProgrammes:
    enterprise: Enterprise
    day: datetime.date
    contracts: list[CollectiveContract]
    contracts_in_force: list[CollectiveContract]
    systems: list[EnterpriseSystem]
    stations: list[ServiceStation]
    directors: list[WorkerDirector]
    supervisors: list[SafetySupervisor]
    ankang_years: list[AnkangCupEntry]
    team_safety_years: list[TeamSafetyBuilding]

    @property
    def has_wage_contract(self) -> bool:
        return any(c.kind in WAGE_BARGAINING_KINDS for c in self.contracts_in_force)

    def has_system(self, system: str) -> bool:
        return any(s.system == system and s.active_on(self.day) for s in self.systems)

    @property
    def has_congress(self) -> bool:
        return self.has_system(SystemKind.CONGRESS)

    @property
    def has_openness(self) -> bool:
        return self.has_system(SystemKind.OPENNESS)

    @property
    def has_station(self) -> bool:
        return any(s.open_on(self.day) for s in self.stations)


def enterprise_programmes(enterprise: Enterprise, day: datetime.date) -> EnterpriseProgrammes:
    contracts = list(contracts_covering(enterprise))
    return EnterpriseProgrammes(
        enterprise=enterprise,
        day=day,
        contracts=contracts,
        contracts_in_force=[c for c in contracts if c.in_force_on(day)],
        systems=list(
            EnterpriseSystem.objects.filter(coverages__enterprise=enterprise)
            .select_related("org_unit")
            .order_by("system", "-established_on")
        ),
        stations=list(ServiceStation.objects.filter(enterprise=enterprise).order_by("-opened_on")),
        directors=list(WorkerDirector.objects.filter(enterprise=enterprise)),
        supervisors=list(SafetySupervisor.objects.filter(enterprise=enterprise)),
        ankang_years=list(AnkangCupEntry.objects.filter(enterprise=enterprise)),
        team_safety_years=list(TeamSafetyBuilding.objects.filter(enterprise=enterprise)),
    )


# --- systems, stations, safety lists ---------------------------------------------------------


def system_list(user: Any, *, within: OrgUnit | None = None, system: str = "") -> QuerySet[EnterpriseSystem]:
    """Congresses and openness systems the user sees, with their sessions (newest first) and votes."""
    qs = EnterpriseSystem.objects.visible_to(user)
    if within is not None:
        qs = qs.within(within.path)
    if system:
        qs = qs.filter(system=system)
    sessions = CongressSession.objects.order_by("-held_on").prefetch_related("votes")
    return (
        qs.select_related("org_unit")
        .annotate(enterprise_count=Count("coverages", distinct=True))
        .prefetch_related(Prefetch("sessions", queryset=sessions))
        .order_by("org_unit__path", "system", "established_on", "pk")
    )


def station_list(
    user: Any, *, within: OrgUnit | None = None, station_type: str = "", open_on: datetime.date | None = None
) -> QuerySet[ServiceStation]:
    qs = ServiceStation.objects.visible_to(user)
    if within is not None:
        qs = qs.within(within.path)
    if station_type:
        qs = qs.filter(station_type=station_type)
    if open_on is not None:
        qs = qs.open_on(open_on)
    return qs.select_related("org_unit", "enterprise")


def ankang_list(user: Any, *, within: OrgUnit | None = None, year: int) -> QuerySet[AnkangCupEntry]:
    qs = AnkangCupEntry.objects.visible_to(user).filter(year=year)
    if within is not None:
        qs = qs.within(within.path)
    return qs.select_related("enterprise__org_unit").order_by(
        "enterprise__org_unit__path", "enterprise__name"
    )


def supervisor_list(
    user: Any, *, within: OrgUnit | None = None, day: datetime.date
) -> QuerySet[SafetySupervisor]:
    """Supervisors appointed on ``day``."""
    qs = (
        SafetySupervisor.objects.visible_to(user)
        .filter(valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
    )
    if within is not None:
        qs = qs.within(within.path)
    return qs.select_related("enterprise__org_unit").order_by(
        "enterprise__org_unit__path", "enterprise__name"
    )


def team_safety_list(user: Any, *, within: OrgUnit | None = None, year: int) -> QuerySet[TeamSafetyBuilding]:
    qs = TeamSafetyBuilding.objects.visible_to(user).filter(year=year)
    if within is not None:
        qs = qs.within(within.path)
    return qs.select_related("enterprise__org_unit").order_by(
        "enterprise__org_unit__path", "enterprise__name"
    )
