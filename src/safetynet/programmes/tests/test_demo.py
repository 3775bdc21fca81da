"""The demo programmes on the small demo city: every workflow state, differences between districts, drafts
waiting for the demo street officer, contracts expiring soon on both story days."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import Count

from safetynet.accounts.models import User
from safetynet.core.errors import ServiceError
from safetynet.orgs.demo import demo_load
from safetynet.orgs.models import Enterprise
from safetynet.orgs.selectors import covered_on_q
from safetynet.programmes.demo import REFERENCE_DAY, load_programmes_demo
from safetynet.programmes.models import (
    AnkangCupEntry,
    CollectiveContract,
    ContractStatus,
    ContractStep,
    ServiceStation,
    SystemKind,
)
from safetynet.programmes.selectors import (
    contract_in_force_q,
    contracts_awaiting_my_review,
    system_active_q,
)
from safetynet.programmes.workflow import check_step

TODAY = datetime.date(2026, 11, 23)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        from django.db import transaction

        # One load for the module, rolled back at the end.
        atomic = transaction.atomic()
        atomic.__enter__()
        demo_load(scale="small", seed=2012)
        counts = load_programmes_demo(seed=2012, scale="small", today=TODAY)
        yield counts
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


def _rate(district: str, q, day: datetime.date) -> float:
    base = (
        Enterprise.objects.filter(org_unit__code__startswith=district)
        .operating_on(day)
        .filter(covered_on_q(day))
    )
    total = base.count()
    return base.filter(q).count() / total if total else 0.0


@pytest.mark.django_db
def test_every_workflow_state_and_its_steps(demo):
    statuses = set(CollectiveContract.objects.values_list("status", flat=True))
    assert statuses >= {s for s in ContractStatus.values if s != ContractStatus.RENEWED}
    assert demo["集体合同"] == CollectiveContract.objects.count() > 0
    # Each contract's steps are a legal walk through the workflow table ending in its status.
    for contract in CollectiveContract.objects.prefetch_related("steps")[:400]:
        steps = sorted(contract.steps.all(), key=lambda s: s.pk)
        assert steps[0].action == "offer" and steps[-1].to_status == contract.status
        for before, after in zip(steps, steps[1:], strict=False):
            assert after.from_status == before.to_status and after.on >= before.on, contract
            check_step(before.to_status, after.action)  # raises when the demo skipped a step
        if contract.status not in ("offered", "bargaining", "withdrawn"):
            assert all(step.on <= TODAY for step in steps)


@pytest.mark.django_db
def test_districts_differ_and_both_days_have_contracts_in_force_and_expiring(demo):
    centre = _rate("210202", contract_in_force_q(REFERENCE_DAY), REFERENCE_DAY)
    county = _rate("210224", contract_in_force_q(REFERENCE_DAY), REFERENCE_DAY)
    assert centre > 0.65 and centre > county + 0.2
    assert _rate("210202", contract_in_force_q(TODAY), REFERENCE_DAY) > 0.5
    congress_centre = _rate("210202", system_active_q(REFERENCE_DAY, SystemKind.CONGRESS), REFERENCE_DAY)
    congress_county = _rate("210283", system_active_q(REFERENCE_DAY, SystemKind.CONGRESS), REFERENCE_DAY)
    assert congress_centre > congress_county > 0
    for day in (REFERENCE_DAY, TODAY):
        soon = CollectiveContract.objects.in_force_on(day).expiring_between(
            day, day + datetime.timedelta(days=60)
        )
        assert soon.count() >= 3
    assert CollectiveContract.objects.filing_overdue_on(TODAY).exists()
    assert (
        CollectiveContract.objects.filter(scope="regional")
        .annotate(n=Count("coverages"))
        .filter(n__gt=1)
        .exists()
    )
    assert ServiceStation.objects.filter(enterprise__isnull=True).exists()
    assert ServiceStation.objects.filter(enterprise__isnull=False).exists()
    assert (
        AnkangCupEntry.objects.filter(year=2012).exists()
        and AnkangCupEntry.objects.filter(year=TODAY.year).exists()
    )
    assert ContractStep.objects.filter(action="return_review").exclude(comment="").exists()


@pytest.mark.django_db
def test_drafts_wait_for_the_demo_street_officer(demo):
    officer = User.objects.get(username="zhongshan_street_officer")
    waiting = list(contracts_awaiting_my_review(officer))
    assert len(waiting) >= 3
    assert all(c.org_unit.parent_id == officer.org_unit_id for c in waiting)
    chair = User.objects.get(username="zhongshan_chair")
    assert not contracts_awaiting_my_review(chair).exists()


@pytest.mark.django_db
def test_loading_twice_is_refused(demo):
    with pytest.raises(ServiceError) as exc:
        load_programmes_demo(seed=2012, scale="small", today=TODAY)
    assert exc.value.code == "not_empty"
