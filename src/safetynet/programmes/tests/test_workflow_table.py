"""The collective-contract workflow is its table: every (status, action) pair the table does not list is
refused by the step's service with "step_out_of_order" and changes nothing (status, steps, audit)."""

from __future__ import annotations

import pytest

from safetynet.core.errors import ServiceError
from safetynet.core.models import AuditEntry
from safetynet.programmes import services, workflow
from safetynet.programmes.models import CollectiveContract, ContractAction, ContractStatus, ContractStep
from safetynet.programmes.tests.helpers import D, make_actors, offer


@pytest.fixture
def actors(city, make_staff):
    return make_actors(city, make_staff)


def take(action: str, actors, contract: CollectiveContract) -> None:
    """The service of ``action`` with arguments it would accept if the step were in order."""
    chair = actors.chair
    calls = {
        ContractAction.START_BARGAINING: lambda: services.contract_start_bargaining(
            actor=chair, contract=contract
        ),
        ContractAction.SUBMIT_DRAFT: lambda: services.contract_submit_draft(actor=chair, contract=contract),
        ContractAction.PASS_REVIEW: lambda: services.contract_pre_review(
            actor=actors.street_officer, contract=contract, passed=True
        ),
        ContractAction.RETURN_REVIEW: lambda: services.contract_pre_review(
            actor=actors.street_officer, contract=contract, passed=False, comments="工资条款不明确"
        ),
        ContractAction.RECORD_VOTE: lambda: services.contract_record_vote(
            actor=chair,
            contract=contract,
            held_on=D(2012, 2, 1),
            representatives_total=30,
            attended=30,
            votes_for=30,
            votes_against=0,
        ),
        ContractAction.SIGN: lambda: services.contract_sign(
            actor=chair,
            contract=contract,
            signed_on=D(2012, 2, 10),
            effective_on=D(2012, 3, 1),
            expires_on=D(2014, 12, 31),
        ),
        ContractAction.FILE: lambda: services.contract_file(
            actor=chair, contract=contract, filed_on=D(2012, 2, 15)
        ),
        ContractAction.BUREAU_OBJECTION: lambda: services.contract_bureau_objection(
            actor=chair, contract=contract, on=D(2012, 2, 20), comment="工资条款违反最低工资规定"
        ),
        ContractAction.TAKE_EFFECT: lambda: services.contract_take_effect(actor=chair, contract=contract),
        ContractAction.EXPIRE: lambda: services.contract_expire(
            actor=chair, contract=contract, on=D(2015, 1, 1)
        ),
        ContractAction.RENEW: lambda: services.contract_renew(actor=chair, contract=contract),
        ContractAction.WITHDRAW: lambda: services.contract_withdraw(
            actor=chair, contract=contract, comment="企业停产"
        ),
    }
    calls[action]()


REFUSED = [
    (status, action)
    for status in ContractStatus.values
    for action in workflow.TABLE.transitions
    if action not in workflow.TABLE.allowed(status)
]


def test_every_step_but_coming_into_being_is_in_the_table():
    # An offer creates the contract and an import records it as it stands: neither follows a status.
    assert set(workflow.TABLE.transitions) == set(ContractAction.values) - {
        ContractAction.OFFER,
        ContractAction.IMPORT,
    }


@pytest.mark.parametrize("status, action", REFUSED)
def test_every_step_outside_the_table_is_refused_and_changes_nothing(actors, status, action):
    contract = offer(actors.chair, actors.enterprise)
    CollectiveContract.objects.filter(pk=contract.pk).update(status=status)
    steps, audits = ContractStep.objects.count(), AuditEntry.objects.count()
    with pytest.raises(ServiceError) as error:
        take(action, actors, contract)
    assert error.value.code == "step_out_of_order"
    assert f"当前状态：{ContractStatus(status).label}" in error.value.message
    contract.refresh_from_db()
    assert contract.status == status
    assert (ContractStep.objects.count(), AuditEntry.objects.count()) == (steps, audits)
    assert CollectiveContract.objects.count() == 1  # no renewal was started either


def test_a_step_is_logged_once_with_its_status_change_and_audit_note(actors):
    contract = offer(actors.chair, actors.enterprise)
    services.contract_start_bargaining(
        actor=actors.chair, contract=contract, on=D(2012, 1, 10), comment="已回应"
    )
    step = ContractStep.objects.filter(contract=contract).last()
    assert (step.action, step.from_status, step.to_status, step.comment) == (
        ContractAction.START_BARGAINING,
        ContractStatus.OFFERED,
        ContractStatus.BARGAINING,
        "已回应",
    )
    entry = AuditEntry.objects.filter(entity="programmes.collectivecontract", action="update").get()
    assert entry.note == "开始协商（2012-01-10）：已回应"
    assert entry.changes == {"status": ["已发出要约", "协商中"]}
