"""Shared set-up for the programme tests: an enterprise with its chair and the street officer above it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from safetynet.orgs.models import Enterprise, OrgLevel, OrgUnit
from safetynet.orgs.services import orgunit_create
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code
from safetynet.programmes import services
from safetynet.programmes.models import CollectiveContract, ContractKind

D = datetime.date


@dataclass
class Actors:
    enterprise: Enterprise
    chair: Any  # at the community where the enterprise sits
    street_officer: Any  # at the street above it: the upper-level union
    sibling: OrgUnit  # another community under the same street


def make_actors(city: Any, make_staff: Any) -> Actors:
    enterprise = EnterpriseFactory(
        org_unit=city.community_a, credit_code=make_credit_code(101), name="友好机械有限公司"
    )
    sibling = orgunit_create(
        actor=None, code="210202001002", name="春柳社区", level=OrgLevel.COMMUNITY, parent=city.street_a
    )
    return Actors(
        enterprise=enterprise,
        chair=make_staff("chair", city.community_a, "chair"),
        street_officer=make_staff("street", city.street_a, "operator"),
        sibling=sibling,
    )


def offer(actor: Any, enterprise: Enterprise, kind: str = ContractKind.WAGE) -> CollectiveContract:
    return services.contract_offer(actor=actor, kind=kind, enterprises=[enterprise], offered_on=D(2012, 1, 5))


def to_draft(actors: Actors) -> CollectiveContract:
    contract = offer(actors.chair, actors.enterprise)
    services.contract_start_bargaining(actor=actors.chair, contract=contract, on=D(2012, 1, 10))
    return services.contract_submit_draft(
        actor=actors.chair,
        contract=contract,
        on=D(2012, 1, 20),
        clauses=["wages", "hours"],
        wage_rise_percent="8.5",
    )


def to_reviewed(actors: Actors) -> CollectiveContract:
    contract = to_draft(actors)
    return services.contract_pre_review(
        actor=actors.street_officer, contract=contract, passed=True, on=D(2012, 1, 25)
    )


def to_approved(actors: Actors) -> CollectiveContract:
    contract = to_reviewed(actors)
    return services.contract_record_vote(
        actor=actors.chair,
        contract=contract,
        held_on=D(2012, 2, 1),
        representatives_total=30,
        attended=25,
        votes_for=20,
        votes_against=5,
    )


SIGNED_ON = D(2012, 2, 10)


def to_signed(actors: Actors, signed_on: datetime.date = SIGNED_ON) -> CollectiveContract:
    contract = to_approved(actors)
    return services.contract_sign(
        actor=actors.chair,
        contract=contract,
        signed_on=signed_on,
        effective_on=D(2012, 3, 1),
        expires_on=D(2014, 12, 31),
    )


def scope_walk_records(enterprise: Enterprise) -> tuple[dict[type, Any], list[str]]:
    """Programme records of ``enterprise`` for tests/test_scope_walk.py (one per model a URL names), and the
    names a list must not show to another district."""
    from safetynet.programmes.models import ContractStep, EnterpriseSystem, ServiceStation, SystemKind

    contract = services.contract_offer(
        actor=None, kind=ContractKind.WAGE, enterprises=[enterprise], title="中山走查工资专项集体合同"
    )
    services.contract_start_bargaining(actor=None, contract=contract)
    system = services.system_create(
        actor=None,
        system=SystemKind.CONGRESS,
        enterprises=[enterprise],
        established_on=datetime.date(2008, 1, 1),
        name="中山走查职代会",
    )
    station = services.station_create(
        actor=None,
        name="中山走查职工服务站",
        station_type="comprehensive",
        enterprise=enterprise,
        opened_on=datetime.date(2010, 1, 1),
    )
    records = {
        CollectiveContract: contract,
        ContractStep: contract.steps.order_by("pk").first(),
        EnterpriseSystem: system,
        ServiceStation: station,
    }
    return records, [contract.title, system.name, station.name]
