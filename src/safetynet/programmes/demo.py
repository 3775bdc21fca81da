"""Demo programmes for an existing demo city: contracts in every workflow state, congresses and openness,
service stations, worker directors and safety work, with differences between districts.

``load_programmes_demo(seed=..., scale=...)`` reads the city the orgs demo wrote (units, enterprises, union
coverage on 2012-12-31), decides everything from ``random.Random(seed)`` over rows in id order, and writes
set-based (``bulk_create`` in batches) in one transaction with one summary audit row. Dates are told twice:
the story of 2012 (contracts in force on 2012-12-31, some expiring within 60 days of it) and the present
(contracts in force today, some expiring within 60 days of today, and contracts in every workflow state).
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from safetynet.core.errors import ServiceError
from safetynet.core.models import AuditAction
from safetynet.core.services import audit_record
from safetynet.orgs.models import PUBLIC_OWNERSHIPS, Enterprise, OrgLevel, OrgUnit
from safetynet.orgs.selectors import covered_on_q
from safetynet.programmes import workflow
from safetynet.programmes.models import (
    AnkangCupEntry,
    CollectiveContract,
    CongressSession,
    CongressVote,
    ContractAction,
    ContractClause,
    ContractCoverage,
    ContractKind,
    ContractStatus,
    ContractStep,
    EnterpriseSystem,
    ProgrammeScope,
    SafetySupervisor,
    ServiceStation,
    StationFunction,
    StationType,
    SystemCoverage,
    SystemKind,
    TeamSafetyBuilding,
    VoteItemKind,
    WorkerDirector,
    WorkerDirectorRole,
)
from safetynet.programmes.services import coverage_digest, is_company_form

DEFAULT_SEED = 2012
REFERENCE_DAY = datetime.date(2012, 12, 31)
BATCH_SIZE = 5000
DAY = datetime.timedelta(days=1)
ACTOR_NAME = "演示数据"

# District profiles: (enterprise contract rate, regional contract rate for the small ones left,
# congress rate public, congress rate non-public, station rate per community, Ankang rate).
CENTRE = (0.88, 0.6, 0.93, 0.62, 0.35, 0.7)
SUBURB = (0.62, 0.45, 0.86, 0.45, 0.22, 0.55)
COUNTY = (0.38, 0.55, 0.76, 0.28, 0.12, 0.4)
PROFILES = {
    "210202": CENTRE,
    "210203": CENTRE,
    "210204": CENTRE,
    "210251": CENTRE,
    "210211": SUBURB,
    "210212": SUBURB,
    "210213": SUBURB,
}
# Small enterprises (below this headcount) of the suburbs and counties bargain regionally (区域性工资集体协商).
REGIONAL_HEADCOUNT = 50
REGIONAL_GROUP = 25
# The workflow states shown in progress today, with weights.
IN_PROGRESS = (
    (ContractStatus.OFFERED, 3),
    (ContractStatus.BARGAINING, 4),
    (ContractStatus.DRAFT, 3),
    (ContractStatus.RETURNED, 2),
    (ContractStatus.REVIEWED, 2),
    (ContractStatus.VOTE_FAILED, 1),
    (ContractStatus.APPROVED, 2),
    (ContractStatus.SIGNED, 3),
    (ContractStatus.FILED, 2),
    (ContractStatus.WITHDRAWN, 1),
)
RETURN_COMMENTS = (
    "工资增幅与企业上年度经济效益不挂钩，请补充测算依据。",
    "劳动报酬条款中最低工资标准表述有误，请按市政府最新标准修改。",
    "缺少女职工特殊保护条款，请补充后重新报送。",
    "工作时间条款与综合工时审批不一致，请核对。",
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志宏海波春梅凤晓东丹颖斌宇浩凯岩松"


@dataclass
class Firm:
    pk: int
    name: str
    unit_id: int
    path: str
    ownership: str
    headcount: int
    district: str
    street_id: int | None


@dataclass
class Plan:
    """What will be written: contracts with their coverages and steps, and the other programmes."""

    contracts: list[CollectiveContract] = field(default_factory=list)
    coverages: list[list[tuple[int, int | None]]] = field(default_factory=list)  # per contract
    steps: list[list[ContractStep]] = field(default_factory=list)  # per contract
    systems: list[EnterpriseSystem] = field(default_factory=list)
    system_firms: list[list[int]] = field(default_factory=list)
    sessions: list[tuple[int, CongressSession, list[CongressVote], int | None]] = field(default_factory=list)
    stations: list[ServiceStation] = field(default_factory=list)
    directors: list[WorkerDirector] = field(default_factory=list)
    ankang: list[AnkangCupEntry] = field(default_factory=list)
    supervisors: list[SafetySupervisor] = field(default_factory=list)
    teams: list[TeamSafetyBuilding] = field(default_factory=list)


DATE_FIELDS = (
    "offered_on",
    "vote_held_on",
    "signed_on",
    "filing_due_on",
    "filed_on",
    "deemed_effective_on",
    "effective_on",
    "expires_on",
)


def _shift(contract: CollectiveContract, steps: list[ContractStep], delta: datetime.timedelta) -> None:
    """Move every date of a contract and its steps back by ``delta``."""
    for name in DATE_FIELDS:
        value = getattr(contract, name)
        if value is not None:
            setattr(contract, name, value - delta)
    for step in steps:
        step.on -= delta
        if "held_on" in step.data:
            step.data["held_on"] = step.on.isoformat()


def _years_back(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _weighted(rng: random.Random, options: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


class Planner:
    def __init__(self, seed: int, today: datetime.date) -> None:
        self.rng = random.Random(seed * 7919 + 4)
        self.today = today
        self.plan = Plan()
        # Contracts linked to an enterprise for the congress vote items: firm pk -> contract index.
        self.contract_of: dict[int, int] = {}

    # --- people --------------------------------------------------------------------------------

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(
            self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2)))
        )

    # --- contracts -----------------------------------------------------------------------------

    def _step(
        self,
        action: str,
        before: str,
        after: str,
        on: datetime.date,
        unit_id: int,
        comment: str = "",
        **data: Any,
    ) -> ContractStep:
        return ContractStep(
            action=action,
            from_status=before,
            to_status=after,
            on=on,
            actor_name=ACTOR_NAME,
            actor_unit_id=unit_id,
            comment=comment,
            data=data,
        )

    def contract(
        self,
        *,
        firms: Sequence[Firm],
        unit_id: int,
        parent_id: int | None,
        unit_name: str,
        kind: str,
        status: str,
        offered_on: datetime.date,
        expires_on: datetime.date | None = None,
        term_years: int = 3,
        filing_late: bool = False,
    ) -> int:
        """A contract that reached ``status`` with the steps that led there. For signed ones the term ends on
        ``expires_on``; the earlier dates are worked out backwards from it."""
        rng = self.rng
        regional = len(firms) > 1
        scope = ProgrammeScope.REGIONAL if regional else ProgrammeScope.ENTERPRISE
        owner = unit_name if regional else firms[0].name
        title = f"{owner}{'区域性' if regional else ''}{ContractKind(kind).label}集体合同"
        employees = sum(f.headcount for f in firms)
        clauses = (
            ["wages", "hours", "rest", "insurance"]
            if kind == ContractKind.WAGE
            else [c for c in ContractClause.values if rng.random() < 0.8] or ["wages"]
        )
        contract = CollectiveContract(
            kind=kind,
            scope=scope,
            title=title[:200],
            org_unit_id=unit_id,
            coverage_digest=coverage_digest(f.pk for f in firms),
            covered_employees=employees,
            status=status,
            offered_on=offered_on,
            clauses=clauses,
        )
        upper = parent_id or unit_id
        signed = status in (
            ContractStatus.SIGNED,
            ContractStatus.FILED,
            ContractStatus.IN_FORCE,
            ContractStatus.EXPIRED,
        )
        if signed and expires_on is not None:
            effective = _years_back(expires_on + DAY, term_years)
            filed = effective - datetime.timedelta(days=workflow.OBJECTION_DAYS + 1 + rng.randint(0, 12))
            signed_on = filed - datetime.timedelta(
                days=rng.randint(12, 25) if filing_late else rng.randint(2, 9)
            )
            offered_on = signed_on - datetime.timedelta(days=rng.randint(75, 110))
            contract.offered_on = offered_on
        steps: list[ContractStep] = []
        on = offered_on
        steps.append(
            self._step(
                ContractAction.OFFER, "", ContractStatus.OFFERED, on, unit_id, "向企业方发出协商要约书"
            )
        )
        after_vote = {
            ContractStatus.SIGNED,
            ContractStatus.FILED,
            ContractStatus.IN_FORCE,
            ContractStatus.EXPIRED,
        }
        voted = after_vote | {ContractStatus.APPROVED, ContractStatus.VOTE_FAILED}
        reviewed = voted | {ContractStatus.REVIEWED}
        drafted = reviewed | {ContractStatus.DRAFT, ContractStatus.RETURNED}
        last = ContractStatus.OFFERED
        if status != ContractStatus.OFFERED:
            on = on + datetime.timedelta(days=rng.randint(7, 20))
            steps.append(
                self._step(ContractAction.START_BARGAINING, last, ContractStatus.BARGAINING, on, unit_id)
            )
            last = ContractStatus.BARGAINING
        if status in drafted:
            on = on + datetime.timedelta(days=rng.randint(10, 25))
            if kind in (ContractKind.WAGE, ContractKind.COMPREHENSIVE):
                contract.wage_rise_percent = round(rng.uniform(3, 12), 1)
            steps.append(
                self._step(
                    ContractAction.SUBMIT_DRAFT, last, ContractStatus.DRAFT, on, unit_id, "报送合同草案"
                )
            )
            last = ContractStatus.DRAFT
        if status == ContractStatus.RETURNED:
            on = on + datetime.timedelta(days=rng.randint(3, 8))
            comment = rng.choice(RETURN_COMMENTS)
            steps.append(
                self._step(ContractAction.RETURN_REVIEW, last, status, on, upper, comment, passed=False)
            )
            last = status
        if status in reviewed:
            on = on + datetime.timedelta(days=rng.randint(3, 8))
            steps.append(
                self._step(ContractAction.PASS_REVIEW, last, ContractStatus.REVIEWED, on, upper, passed=True)
            )
            last = ContractStatus.REVIEWED
        if status in voted:
            on = on + datetime.timedelta(days=rng.randint(5, 15))
            total = max(10, min(200, employees // 15))
            passed = status != ContractStatus.VOTE_FAILED
            attended = (
                round(total * rng.uniform(0.8, 0.97)) if passed else round(total * rng.uniform(0.5, 0.64))
            )
            votes_for = min(
                attended, round(total * rng.uniform(0.55, 0.75)) if passed else round(attended * 0.8)
            )
            votes_against = max(0, min(attended - votes_for, round(total * 0.05)))
            contract.vote_held_on = on
            contract.representatives_total = total
            contract.representatives_attended = attended
            contract.votes_for = votes_for
            contract.votes_against = votes_against
            after = ContractStatus.APPROVED if passed else ContractStatus.VOTE_FAILED
            comment = "" if passed else f"出席代表 {attended} 人，未达到代表总数 {total} 人的三分之二"
            figures = {
                "held_on": on.isoformat(),
                "representatives_total": total,
                "attended": attended,
                "votes_for": votes_for,
                "votes_against": votes_against,
                "passed": passed,
            }
            steps.append(self._step(ContractAction.RECORD_VOTE, last, after, on, unit_id, comment, **figures))
            last = after
        if status in after_vote:
            on = signed_on if expires_on is not None else on + datetime.timedelta(days=rng.randint(3, 10))
            contract.signed_on = on
            contract.filing_due_on = workflow.filing_due(on)
            if expires_on is not None:
                contract.effective_on, contract.expires_on = (
                    _years_back(expires_on + DAY, term_years),
                    expires_on,
                )
            else:
                contract.effective_on = on + datetime.timedelta(days=30)
                contract.expires_on = _years_back(contract.effective_on, -term_years) - DAY
            steps.append(
                self._step(ContractAction.SIGN, last, ContractStatus.SIGNED, on, unit_id, "双方首席代表签字")
            )
            last = ContractStatus.SIGNED
        if status in (ContractStatus.FILED, ContractStatus.IN_FORCE, ContractStatus.EXPIRED):
            filed_on = filed if expires_on is not None else on + datetime.timedelta(days=rng.randint(2, 8))
            contract.filed_on = filed_on
            contract.filed_late = filed_on > contract.filing_due_on
            contract.deemed_effective_on = workflow.deemed_effective(filed_on)
            note = f"逾期备案（应于 {contract.filing_due_on} 前备案）" if contract.filed_late else ""
            steps.append(self._step(ContractAction.FILE, last, ContractStatus.FILED, filed_on, unit_id, note))
            last = ContractStatus.FILED
        if status in (ContractStatus.IN_FORCE, ContractStatus.EXPIRED):
            day = max(contract.deemed_effective_on, contract.effective_on)
            note = "备案后十五日内人社部门未提出异议，合同生效"
            steps.append(
                self._step(ContractAction.TAKE_EFFECT, last, ContractStatus.IN_FORCE, day, unit_id, note)
            )
            last = ContractStatus.IN_FORCE
        if status == ContractStatus.EXPIRED:
            day = contract.expires_on + DAY
            steps.append(self._step(ContractAction.EXPIRE, last, status, day, unit_id, "合同期满"))
        if status == ContractStatus.WITHDRAWN:
            on = on + datetime.timedelta(days=rng.randint(20, 60))
            steps.append(
                self._step(
                    ContractAction.WITHDRAW, last, status, on, unit_id, "企业方经营困难，双方同意暂缓协商"
                )
            )
        if expires_on is None:
            # A contract under way: its last step a few days ago (a signed one sometimes past its filing day,
            # a filed one still inside the bureau's 15 days).
            gap = {ContractStatus.SIGNED: (3, 25), ContractStatus.FILED: (1, 12)}.get(status, (1, 40))
            _shift(contract, steps, steps[-1].on - (self.today - datetime.timedelta(days=rng.randint(*gap))))
        for step in steps:
            step.actor_name = ACTOR_NAME
        self.plan.contracts.append(contract)
        self.plan.coverages.append([(f.pk, f.headcount if not regional else None) for f in firms])
        self.plan.steps.append(steps)
        index = len(self.plan.contracts) - 1
        for firm in firms:
            self.contract_of.setdefault(firm.pk, index)
        return index


def _firms(today: datetime.date) -> tuple[list[Firm], dict[int, OrgUnit]]:
    """Operating, unionised enterprises on 2012-12-31, with their district code and street."""
    units = {u.pk: u for u in OrgUnit.objects.only("pk", "code", "name", "path", "level", "parent_id")}
    rows = (
        Enterprise.objects.operating_on(REFERENCE_DAY)
        .filter(covered_on_q(REFERENCE_DAY))
        .order_by("pk")
        .values_list("pk", "name", "org_unit_id", "org_unit__path", "ownership", "headcount")
    )
    firms = []
    for pk, name, unit_id, path, ownership, headcount in rows:
        ids = [int(part) for part in path.split("/") if part]
        district = units[ids[1]].code if len(ids) > 1 else units[ids[0]].code
        street = ids[2] if len(ids) > 2 else None
        firms.append(Firm(pk, name, unit_id, path, ownership, headcount, district, street))
    return firms, units


def _plan(seed: int, scale: str, today: datetime.date) -> tuple[Planner, dict[int, OrgUnit]]:
    planner = Planner(seed, today)
    rng = planner.rng
    firms, units = _firms(today)
    by_district: dict[str, list[Firm]] = defaultdict(list)
    for firm in firms:
        by_district[firm.district].append(firm)

    # Drafts awaiting 中山区's first street: contracts of enterprises in the communities below it.
    zhongshan_streets = sorted(
        (u for u in units.values() if u.level == OrgLevel.STREET and u.code.startswith("210202")),
        key=lambda u: u.code,
    )
    review_street = zhongshan_streets[0].pk if zhongshan_streets else None
    reserved: set[int] = set()
    if review_street is not None:
        below = [
            f
            for f in by_district.get("210202", [])
            if f.street_id == review_street and f.unit_id != review_street
        ]
        for firm in below[:6]:
            reserved.add(firm.pk)
            unit = units[firm.unit_id]
            status = ContractStatus.DRAFT if len(reserved) <= 4 else ContractStatus.RETURNED
            planner.contract(
                firms=[firm],
                unit_id=unit.pk,
                parent_id=unit.parent_id,
                unit_name=unit.name,
                kind=ContractKind.WAGE,
                status=status,
                offered_on=today - datetime.timedelta(days=rng.randint(40, 70)),
            )

    for district in sorted(by_district):
        enterprise_rate, regional_rate, congress_public, congress_private, _station, ankang = PROFILES.get(
            district, COUNTY
        )
        # Each district a little different from its profile.
        jitter = rng.uniform(-0.05, 0.05)
        regional_pool: dict[int, list[Firm]] = defaultdict(list)
        for firm in by_district[district]:
            if firm.pk in reserved:
                continue
            small = firm.headcount < REGIONAL_HEADCOUNT and firm.ownership not in PUBLIC_OWNERSHIPS
            if small and district not in ("210202", "210203", "210204") and firm.street_id:
                if rng.random() < regional_rate + jitter:
                    regional_pool[firm.street_id].append(firm)
                    continue
            if rng.random() < enterprise_rate + jitter:
                _enterprise_contracts(planner, firm, units)
            elif rng.random() < 0.35:
                _in_progress(planner, firm, units)
        for street_id, pool in sorted(regional_pool.items()):
            street = units[street_id]
            for start in range(0, len(pool), REGIONAL_GROUP):
                group = pool[start : start + REGIONAL_GROUP]
                expires = REFERENCE_DAY + datetime.timedelta(days=rng.randint(61, 700))
                planner.contract(
                    firms=group,
                    unit_id=street.pk,
                    parent_id=street.parent_id,
                    unit_name=street.name,
                    kind=ContractKind.WAGE,
                    status=ContractStatus.EXPIRED,
                    offered_on=REFERENCE_DAY,
                    expires_on=expires,
                    term_years=2,
                )
                if rng.random() < 0.8:
                    planner.contract(
                        firms=group,
                        unit_id=street.pk,
                        parent_id=street.parent_id,
                        unit_name=street.name,
                        kind=ContractKind.WAGE,
                        status=ContractStatus.IN_FORCE,
                        offered_on=today,
                        expires_on=today + datetime.timedelta(days=rng.randint(61, 700)),
                        term_years=2,
                    )
        _systems(planner, by_district[district], units, congress_public + jitter, congress_private + jitter)
        _safety(planner, by_district[district], ankang + jitter)
    _stations(planner, units, firms)
    return planner, units


def _enterprise_contracts(planner: Planner, firm: Firm, units: dict[int, OrgUnit]) -> None:
    """A contract in force on 2012-12-31 (some expiring within 60 days of it) and, mostly, its successor in
    force today (some expiring within 60 days of today) — or a renegotiation under way."""
    rng, today = planner.rng, planner.today
    unit = units[firm.unit_id]
    kind = ContractKind.COMPREHENSIVE if rng.random() < 0.45 else ContractKind.WAGE
    years = 3 if kind == ContractKind.COMPREHENSIVE else 2
    soon = rng.random() < 0.1
    expires = REFERENCE_DAY + datetime.timedelta(
        days=rng.randint(1, 60) if soon else rng.randint(61, 365 * years - 1)
    )
    common = {"firms": [firm], "unit_id": unit.pk, "parent_id": unit.parent_id, "unit_name": unit.name}
    planner.contract(
        **common,
        kind=kind,
        status=ContractStatus.EXPIRED,
        offered_on=REFERENCE_DAY,
        expires_on=expires,
        term_years=years,
        filing_late=rng.random() < 0.05,
    )
    roll = rng.random()
    if roll < 0.8:
        soon = rng.random() < 0.1
        expires = today + datetime.timedelta(
            days=rng.randint(1, 60) if soon else rng.randint(61, 365 * years - 1)
        )
        planner.contract(
            **common,
            kind=kind,
            status=ContractStatus.IN_FORCE,
            offered_on=today,
            expires_on=expires,
            term_years=years,
            filing_late=rng.random() < 0.05,
        )
    elif roll < 0.9:
        _in_progress(planner, firm, units, kind=kind)
    # Women's and safety special contracts now and then (they do not count for wage bargaining).
    if rng.random() < 0.12:
        planner.contract(
            **common,
            kind=rng.choice((ContractKind.WOMEN, ContractKind.SAFETY)),
            status=ContractStatus.IN_FORCE,
            offered_on=today,
            expires_on=today + datetime.timedelta(days=rng.randint(61, 1000)),
        )


def _in_progress(planner: Planner, firm: Firm, units: dict[int, OrgUnit], kind: str | None = None) -> None:
    rng, today = planner.rng, planner.today
    unit = units[firm.unit_id]
    status = _weighted(rng, IN_PROGRESS)
    # Recent enough that the steps end before today; signed ones sometimes past their filing day.
    days_ago = rng.randint(25, 45) if status == ContractStatus.SIGNED else rng.randint(30, 120)
    if status == ContractStatus.FILED:
        days_ago = rng.randint(60, 70)
    planner.contract(
        firms=[firm],
        unit_id=unit.pk,
        parent_id=unit.parent_id,
        unit_name=unit.name,
        kind=kind or ContractKind.WAGE,
        status=status,
        offered_on=today - datetime.timedelta(days=days_ago),
    )


def _systems(
    planner: Planner,
    firms: Iterable[Firm],
    units: dict[int, OrgUnit],
    public_rate: float,
    private_rate: float,
) -> None:
    rng = planner.rng
    for firm in firms:
        rate = public_rate if firm.ownership in PUBLIC_OWNERSHIPS else private_rate
        if rng.random() >= rate:
            continue
        established = datetime.date(rng.randint(1998, 2011), rng.randint(1, 12), 1)
        for system in (SystemKind.CONGRESS, SystemKind.OPENNESS):
            if system == SystemKind.OPENNESS and rng.random() > 0.9:
                continue
            record = EnterpriseSystem(
                system=system,
                scope=ProgrammeScope.ENTERPRISE,
                name=f"{firm.name}{SystemKind(system).label}",
                org_unit_id=firm.unit_id,
                established_on=established + datetime.timedelta(days=rng.randint(0, 200)),
            )
            planner.plan.systems.append(record)
            planner.plan.system_firms.append([firm.pk])
            if system != SystemKind.CONGRESS:
                continue
            index = len(planner.plan.systems) - 1
            for year in (2012, planner.today.year - 1):
                total = max(10, min(200, firm.headcount // 15))
                attended = round(total * rng.uniform(0.7, 0.97))
                session = CongressSession(
                    held_on=datetime.date(year, rng.randint(2, 11), rng.randint(1, 28)),
                    title=f"第{rng.choice('一二三四五')}届第{rng.choice('一二三')}次职工代表大会",
                    representatives_total=total,
                    attended=attended,
                )
                votes_for = min(attended, round(total * rng.uniform(0.55, 0.85)))
                passed = workflow.vote_passes(total=total, attended=attended, votes_for=votes_for)
                contract_index = planner.contract_of.get(firm.pk) if year == 2012 else None
                if contract_index is not None:
                    title, kind = planner.plan.contracts[contract_index].title, VoteItemKind.CONTRACT
                else:
                    title, kind = rng.choice(
                        (
                            ("职工安置方案", VoteItemKind.PLACEMENT),
                            ("企业改制方案", VoteItemKind.RESTRUCTURING),
                            ("厂务公开实施办法", VoteItemKind.OTHER),
                        )
                    )
                vote = CongressVote(
                    item_kind=kind,
                    title=title,
                    votes_for=votes_for,
                    votes_against=max(0, min(attended - votes_for, round(total * 0.05))),
                    passed=passed,
                )
                planner.plan.sessions.append((index, session, [vote], contract_index))
        if is_company_form_name(firm.name) and firm.ownership in PUBLIC_OWNERSHIPS and rng.random() < 0.6:
            since = datetime.date(rng.randint(2005, 2012), 1, 1)
            for role in (WorkerDirectorRole.DIRECTOR, WorkerDirectorRole.SUPERVISOR):
                planner.plan.directors.append(
                    WorkerDirector(
                        enterprise_id=firm.pk, person_name=planner.person(), role=role, valid_from=since
                    )
                )


def is_company_form_name(name: str) -> bool:
    return is_company_form(Enterprise(name=name))


def _safety(planner: Planner, firms: Iterable[Firm], rate: float) -> None:
    rng, today = planner.rng, planner.today
    years = sorted({2010, 2011, 2012, today.year - 1, today.year})
    for firm in firms:
        if firm.headcount < 100:
            continue
        for year in years:
            if rng.random() < rate + (year - 2010) * 0.01:
                planner.plan.ankang.append(
                    AnkangCupEntry(
                        enterprise_id=firm.pk,
                        year=year,
                        workers_taking_part=round(firm.headcount * rng.uniform(0.6, 0.95)),
                    )
                )
            if year in (2012, today.year) and rng.random() < rate * 0.8:
                planner.plan.teams.append(TeamSafetyBuilding(enterprise_id=firm.pk, year=year, built=True))
        if rng.random() < rate:
            since = datetime.date(rng.randint(2006, 2012), rng.randint(1, 12), 1)
            trained = since + datetime.timedelta(days=rng.randint(10, 200)) if rng.random() < 0.8 else None
            planner.plan.supervisors.append(
                SafetySupervisor(
                    enterprise_id=firm.pk, name=planner.person(), trained_on=trained, valid_from=since
                )
            )


def _stations(planner: Planner, units: dict[int, OrgUnit], firms: list[Firm]) -> None:
    rng = planner.rng
    district_of = {}
    for unit in units.values():
        ids = [int(part) for part in unit.path.split("/") if part]
        if len(ids) > 1:
            district_of[unit.pk] = units[ids[1]].code
    functions = StationFunction.values
    for unit in sorted(units.values(), key=lambda u: u.code):
        if unit.level != OrgLevel.COMMUNITY:
            continue
        rate = PROFILES.get(district_of.get(unit.pk, ""), COUNTY)[4]
        if rng.random() < rate:
            planner.plan.stations.append(
                ServiceStation(
                    name=f"{unit.name}职工服务站",
                    org_unit_id=unit.pk,
                    station_type=rng.choice((StationType.RADIATING, StationType.COMPREHENSIVE)),
                    functions=sorted(rng.sample(functions, rng.randint(3, 6)), key=functions.index),
                    opened_on=datetime.date(rng.randint(2008, 2012), rng.randint(1, 12), 1),
                    staff_count=rng.randint(1, 4),
                )
            )
    for firm in firms:
        rate = PROFILES.get(firm.district, COUNTY)[4]
        if firm.headcount >= 300 and rng.random() < rate + 0.3:
            planner.plan.stations.append(
                ServiceStation(
                    name=f"{firm.name}职工服务站",
                    org_unit_id=firm.unit_id,
                    enterprise_id=firm.pk,
                    station_type=rng.choice((StationType.COMPREHENSIVE, StationType.SPECIALISED)),
                    functions=sorted(rng.sample(functions, rng.randint(2, 5)), key=functions.index),
                    opened_on=datetime.date(rng.randint(2008, 2012), rng.randint(1, 12), 1),
                    staff_count=rng.randint(1, 6),
                )
            )


def _bulk(model: type[models.Model], rows: list[models.Model]) -> list[models.Model]:
    created: list[models.Model] = []
    for start in range(0, len(rows), BATCH_SIZE):
        created += model.objects.bulk_create(rows[start : start + BATCH_SIZE])
    return created


def load_programmes_demo(
    seed: int = DEFAULT_SEED, scale: str = "small", *, today: datetime.date | None = None
) -> dict[str, int]:
    """Add the demo programmes to the demo city already in the database; returns counts by label.

    Refused (ServiceError) when there is no city yet or when programme records exist already.
    ``scale`` is the scale the city was loaded at; the plan follows the rows found, so it only names the run.
    """
    today = today or timezone.localdate()
    if not OrgUnit.objects.exists():
        raise ServiceError("no_city", "数据库中还没有区域单位，请先载入演示城市（safetynet demo-data）。")
    if CollectiveContract.objects.exists() or EnterpriseSystem.objects.exists():
        raise ServiceError("not_empty", "数据库中已有集体合同或职代会记录，建制演示数据只能载入一次。")
    planner, units = _plan(seed, scale, today)
    plan = planner.plan
    with transaction.atomic():
        contracts = _bulk(CollectiveContract, plan.contracts)
        coverages = [
            ContractCoverage(contract_id=contract.pk, enterprise_id=firm_pk, covered_employees=employees)
            for contract, rows in zip(contracts, plan.coverages, strict=True)
            for firm_pk, employees in rows
        ]
        _bulk(ContractCoverage, coverages)
        steps = []
        for contract, contract_steps in zip(contracts, plan.steps, strict=True):
            for step in contract_steps:
                step.contract_id = contract.pk
                steps.append(step)
        _bulk(ContractStep, steps)
        systems = _bulk(EnterpriseSystem, plan.systems)
        _bulk(
            SystemCoverage,
            [
                SystemCoverage(system_id=system.pk, enterprise_id=firm_pk)
                for system, firm_pks in zip(systems, plan.system_firms, strict=True)
                for firm_pk in firm_pks
            ],
        )
        sessions = []
        for index, session, _votes, _contract in plan.sessions:
            session.system_id = systems[index].pk
            sessions.append(session)
        sessions = _bulk(CongressSession, sessions)
        votes = []
        for session, (_index, _session, session_votes, contract_index) in zip(
            sessions, plan.sessions, strict=True
        ):
            for vote in session_votes:
                vote.session_id = session.pk
                vote.contract_id = contracts[contract_index].pk if contract_index is not None else None
                votes.append(vote)
        _bulk(CongressVote, votes)
        _bulk(ServiceStation, plan.stations)
        _bulk(WorkerDirector, plan.directors)
        _bulk(AnkangCupEntry, plan.ankang)
        _bulk(SafetySupervisor, plan.supervisors)
        _bulk(TeamSafetyBuilding, plan.teams)
        counts = {
            "集体合同": len(contracts),
            "合同覆盖企业": len(coverages),
            "合同办理步骤": len(steps),
            "职代会和厂务公开制度": len(systems),
            "职代会会议": len(sessions),
            "职代会表决事项": len(votes),
            "职工服务站": len(plan.stations),
            "职工董事监事": len(plan.directors),
            "安康杯参赛": len(plan.ankang),
            "劳动保护监督检查员": len(plan.supervisors),
            "班组安全建设": len(plan.teams),
        }
        city = min((u for u in units.values() if u.parent_id is None), key=lambda u: u.pk)
        audit_record(
            actor=None,
            action=AuditAction.IMPORT,
            instance=city,
            changes={label: [None, count] for label, count in counts.items()},
            unit_path=city.path,
            note=f"载入建制演示数据（规模 {scale}，种子 {seed}，今天 {today}）",
        )
    return counts


def extend_demo(*, seed: int, scale: str) -> dict[str, int]:
    """The hook `safetynet demo-data` calls after the registry is loaded (see core/demo.py)."""
    return load_programmes_demo(seed, scale)
