import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditEntry
from safetynet.core.scope import get_for_user
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code
from safetynet.programmes import services, workflow
from safetynet.programmes.models import (
    CollectiveContract,
    ContractAction,
    ContractKind,
    ContractStatus,
    ProgrammeScope,
)
from safetynet.programmes.selectors import (
    contracts_awaiting_my_review,
    enterprises_with_contract_in_force,
)
from safetynet.programmes.tests.helpers import (
    D,
    make_actors,
    offer,
    to_approved,
    to_draft,
    to_reviewed,
    to_signed,
)


@pytest.fixture
def actors(city, make_staff):
    return make_actors(city, make_staff)


def test_full_workflow_from_offer_to_in_force_records_every_step(actors, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    contract = to_signed(actors)
    contract = services.contract_file(
        actor=actors.chair,
        contract=contract,
        filed_on=D(2012, 2, 15),
        attachment=SimpleUploadedFile("备案回执.pdf", b"%PDF-1.4 receipt"),
    )
    contract = services.contract_take_effect(actor=actors.chair, contract=contract, on=D(2012, 3, 1))
    assert contract.status == ContractStatus.IN_FORCE
    steps = list(contract.steps.order_by("at", "pk"))
    assert [s.action for s in steps] == [
        ContractAction.OFFER,
        ContractAction.START_BARGAINING,
        ContractAction.SUBMIT_DRAFT,
        ContractAction.PASS_REVIEW,
        ContractAction.RECORD_VOTE,
        ContractAction.SIGN,
        ContractAction.FILE,
        ContractAction.TAKE_EFFECT,
    ]
    review = steps[3]
    assert review.actor == actors.street_officer and review.actor_unit_id == actors.street_officer.org_unit_id
    filing = steps[6]
    assert filing.attachment.name.startswith(f"contracts/{timezone.localdate():%Y}/")
    assert (tmp_path / filing.attachment.name).read_bytes() == b"%PDF-1.4 receipt"
    assert contract.clauses == ["wages", "hours"] and str(contract.wage_rise_percent) == "8.50"
    # One audit row per step, in the contract unit's scope.
    audits = AuditEntry.objects.filter(entity="programmes.collectivecontract", object_id=str(contract.pk))
    assert audits.count() == len(steps)
    assert set(audits.values_list("unit_path", flat=True)) == {actors.enterprise.org_unit.path}


def test_transition_table_allows_exactly_its_steps():
    assert workflow.allowed_actions(ContractStatus.OFFERED) == [
        ContractAction.START_BARGAINING,
        ContractAction.WITHDRAW,
    ]
    assert ContractAction.SIGN in workflow.allowed_actions(ContractStatus.APPROVED)
    for status in ContractStatus.values:
        if status != ContractStatus.APPROVED:
            with pytest.raises(ServiceError) as exc:
                workflow.check_step(status, ContractAction.SIGN)
            assert exc.value.code == "step_out_of_order"


@pytest.mark.parametrize(
    "stage, action, reason",
    [
        ("offered", "submit_draft", "合同尚未进入协商，不能提交草案预审"),
        ("offered", "sign", "合同尚未经职代会审议通过，不能签订"),
        ("draft", "record_vote", "合同草案尚未经上级工会预审通过，不能提交职代会审议"),
        ("draft", "sign", "合同尚未经职代会审议通过，不能签订"),
        ("reviewed", "sign", "合同尚未经职代会审议通过，不能签订"),
        ("reviewed", "file", "合同尚未签订，不能报送备案"),
        ("approved", "file", "合同尚未签订，不能报送备案"),
        ("signed", "sign", "合同已签订，不能重复签订"),
        ("signed", "submit_draft", "合同尚未进入协商"),
    ],
)
def test_a_step_out_of_order_is_refused_with_its_reason(actors, stage, action, reason):
    contract = {
        "offered": lambda: offer(actors.chair, actors.enterprise),
        "draft": lambda: to_draft(actors),
        "reviewed": lambda: to_reviewed(actors),
        "approved": lambda: to_approved(actors),
        "signed": lambda: to_signed(actors),
    }[stage]()
    before = contract.status
    calls = {
        "submit_draft": lambda: services.contract_submit_draft(actor=actors.chair, contract=contract),
        "record_vote": lambda: services.contract_record_vote(
            actor=actors.chair,
            contract=contract,
            held_on=D(2012, 2, 1),
            representatives_total=30,
            attended=30,
            votes_for=30,
            votes_against=0,
        ),
        "sign": lambda: services.contract_sign(
            actor=actors.chair,
            contract=contract,
            signed_on=D(2012, 2, 10),
            effective_on=D(2012, 3, 1),
            expires_on=D(2014, 12, 31),
        ),
        "file": lambda: services.contract_file(
            actor=actors.chair, contract=contract, filed_on=D(2012, 2, 15)
        ),
    }
    with pytest.raises(ServiceError) as exc:
        calls[action]()
    assert exc.value.code == "step_out_of_order"
    assert reason in exc.value.message
    contract.refresh_from_db()
    assert contract.status == before


def test_cannot_sign_after_a_failed_vote_until_a_new_vote_passes(actors):
    contract = to_reviewed(actors)
    contract = services.contract_record_vote(
        actor=actors.chair,
        contract=contract,
        held_on=D(2012, 2, 1),
        representatives_total=30,
        attended=25,
        votes_for=15,
        votes_against=10,
    )
    assert contract.status == ContractStatus.VOTE_FAILED
    assert "未超过全体代表 30 人的半数" in contract.steps.last().comment
    with pytest.raises(ServiceError, match="合同尚未经职代会审议通过，不能签订"):
        services.contract_sign(
            actor=actors.chair,
            contract=contract,
            signed_on=D(2012, 2, 10),
            effective_on=D(2012, 3, 1),
            expires_on=D(2014, 12, 31),
        )
    contract = services.contract_record_vote(
        actor=actors.chair,
        contract=contract,
        held_on=D(2012, 2, 8),
        representatives_total=30,
        attended=28,
        votes_for=16,
        votes_against=12,
    )
    assert contract.status == ContractStatus.APPROVED


def test_returned_draft_goes_back_to_the_chair_and_can_be_resubmitted(actors):
    contract = to_draft(actors)
    with pytest.raises(ServiceError) as exc:
        services.contract_pre_review(
            actor=actors.street_officer, contract=contract, passed=False, comments=" "
        )
    assert exc.value.code == "comments_required"
    contract = services.contract_pre_review(
        actor=actors.street_officer, contract=contract, passed=False, comments="工资增幅条款请写明测算依据"
    )
    assert contract.status == ContractStatus.RETURNED
    assert contract.steps.last().comment == "工资增幅条款请写明测算依据"
    contract = services.contract_submit_draft(actor=actors.chair, contract=contract, on=D(2012, 1, 28))
    assert contract.status == ContractStatus.DRAFT


def test_pre_review_only_by_the_parent_units_staff(actors, make_staff, city):
    contract = to_draft(actors)
    assert list(contracts_awaiting_my_review(actors.street_officer)) == [contract]
    same_unit = make_staff("same", city.community_a, "operator")
    sibling = make_staff("sibling", actors.sibling, "operator")
    district = make_staff("district", city.zhongshan, "operator")
    for user in (actors.chair, same_unit, district):
        with pytest.raises(ServiceError) as exc:
            services.contract_pre_review(actor=user, contract=contract, passed=True)
        assert exc.value.code == "not_upper_unit"
        assert "青泥洼桥街道" in exc.value.message
    # A sibling community cannot even see the contract.
    with pytest.raises(OutOfScope):
        services.contract_pre_review(actor=sibling, contract=contract, passed=True)
    assert contracts_awaiting_my_review(same_unit).count() == 0
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT
    contract = services.contract_pre_review(actor=actors.street_officer, contract=contract, passed=True)
    assert contract.status == ContractStatus.REVIEWED


def test_a_viewer_cannot_take_steps(actors, make_staff, city):
    viewer = make_staff("viewer", city.community_a, "viewer")
    contract = offer(actors.chair, actors.enterprise)
    with pytest.raises(NotAllowed):
        services.contract_start_bargaining(actor=viewer, contract=contract)


@pytest.mark.parametrize(
    "total, attended, votes_for, passes",
    [
        (30, 20, 16, True),  # exactly two thirds attend, more than half of all vote for
        (30, 19, 16, False),  # one short of two thirds
        (30, 20, 15, False),  # exactly half of all representatives: not more than half
        (30, 30, 15, False),
        (31, 21, 16, True),  # 2/3 of 31 is 20.67: 21 attend
        (31, 20, 16, False),
        (31, 21, 15, False),  # 15 of 31 is less than half
        (3, 2, 2, True),
    ],
)
def test_vote_thresholds_at_the_boundaries(total, attended, votes_for, passes):
    assert workflow.vote_passes(total=total, attended=attended, votes_for=votes_for) is passes


def test_vote_figures_must_add_up(actors):
    contract = to_reviewed(actors)
    with pytest.raises(ServiceError) as exc:
        services.contract_record_vote(
            actor=actors.chair,
            contract=contract,
            held_on=D(2012, 2, 1),
            representatives_total=30,
            attended=31,
            votes_for=20,
            votes_against=0,
        )
    assert exc.value.code == "vote_attended"
    with pytest.raises(ServiceError) as exc:
        services.contract_record_vote(
            actor=actors.chair,
            contract=contract,
            held_on=D(2012, 2, 1),
            representatives_total=30,
            attended=20,
            votes_for=16,
            votes_against=5,
        )
    assert exc.value.code == "vote_count"


def test_filing_due_within_ten_days_overdue_on_day_eleven(actors):
    contract = to_signed(actors, signed_on=D(2012, 3, 1))
    assert contract.filing_due_on == D(2012, 3, 11)
    assert not contract.filing_overdue_on(D(2012, 3, 11))
    assert contract.filing_overdue_on(D(2012, 3, 12))
    overdue = CollectiveContract.objects.filing_overdue_on
    assert not overdue(D(2012, 3, 11)).exists()
    assert list(overdue(D(2012, 3, 12))) == [contract]


@pytest.mark.parametrize("filed_on, late", [(D(2012, 3, 11), False), (D(2012, 3, 12), True)])
def test_filing_on_day_ten_is_in_time_on_day_eleven_late(actors, filed_on, late):
    contract = to_signed(actors, signed_on=D(2012, 3, 1))
    contract = services.contract_file(actor=actors.chair, contract=contract, filed_on=filed_on)
    assert contract.filed_late is late
    assert ("逾期备案" in contract.steps.last().comment) is late
    assert not CollectiveContract.objects.filing_overdue_on(D(2012, 4, 1)).exists()


def test_filing_records_deemed_effective_after_fifteen_days(actors):
    contract = to_signed(actors, signed_on=D(2012, 3, 1))
    contract = services.contract_file(actor=actors.chair, contract=contract, filed_on=D(2012, 3, 5))
    assert contract.status == ContractStatus.FILED
    # Receipt day not counted: the bureau may object until 3-20; without objection effective from 3-21.
    assert workflow.objection_deadline(contract.filed_on) == D(2012, 3, 20)
    assert contract.deemed_effective_on == D(2012, 3, 21)


def test_bureau_objection_only_within_fifteen_days(actors):
    contract = to_signed(actors, signed_on=D(2012, 3, 1))
    contract = services.contract_file(actor=actors.chair, contract=contract, filed_on=D(2012, 3, 5))
    with pytest.raises(ServiceError) as exc:
        services.contract_bureau_objection(
            actor=actors.chair, contract=contract, on=D(2012, 3, 21), comment="条款违反最低工资规定"
        )
    assert exc.value.code == "objection_too_late"
    contract = services.contract_bureau_objection(
        actor=actors.chair, contract=contract, on=D(2012, 3, 20), comment="条款违反最低工资规定"
    )
    assert contract.status == ContractStatus.BARGAINING
    assert contract.filed_on is None and contract.deemed_effective_on is None


def test_signing_dates_are_checked(actors):
    contract = to_approved(actors)
    with pytest.raises(ServiceError) as exc:
        services.contract_sign(
            actor=actors.chair,
            contract=contract,
            signed_on=D(2012, 1, 30),
            effective_on=D(2012, 3, 1),
            expires_on=D(2014, 12, 31),
        )
    assert exc.value.code == "signed_before_vote"
    with pytest.raises(ServiceError) as exc:
        services.contract_sign(
            actor=actors.chair,
            contract=contract,
            signed_on=D(2012, 2, 10),
            effective_on=D(2012, 3, 1),
            expires_on=D(2012, 2, 28),
        )
    assert exc.value.code == "term_order"
    contract = services.contract_sign(
        actor=actors.chair,
        contract=to_approved(actors),
        signed_on=D(2012, 2, 10),
        effective_on=D(2012, 3, 1),
        expires_on=D(2014, 12, 31),
    )
    with pytest.raises(ServiceError) as exc:
        services.contract_file(actor=actors.chair, contract=contract, filed_on=D(2012, 2, 9))
    assert exc.value.code == "filed_before_signing"


def test_in_force_includes_both_ends_and_not_the_day_after(actors):
    contract = to_signed(actors)
    contract = services.contract_file(actor=actors.chair, contract=contract, filed_on=D(2012, 2, 15))
    in_force = CollectiveContract.objects.in_force_on
    assert not in_force(D(2012, 2, 29)).exists()
    assert list(in_force(D(2012, 3, 1))) == [contract]
    assert list(in_force(D(2014, 12, 31))) == [contract]
    assert not in_force(D(2015, 1, 1)).exists()
    assert contract.in_force_on(D(2014, 12, 31)) and not contract.in_force_on(D(2015, 1, 1))
    wage = enterprises_with_contract_in_force
    assert list(wage(D(2014, 12, 31))) == [actors.enterprise]
    assert not wage(D(2015, 1, 1)).exists()
    # A contract that is only being bargained is never in force.
    unsigned = offer(actors.chair, actors.enterprise, kind=ContractKind.COMPREHENSIVE)
    assert unsigned not in in_force(D(2013, 1, 1))


def test_only_comprehensive_and_wage_contracts_count_for_wage_bargaining(actors):
    contract = offer(actors.chair, actors.enterprise, kind=ContractKind.WOMEN)
    CollectiveContract.objects.filter(pk=contract.pk).update(
        status=ContractStatus.FILED, effective_on=D(2012, 1, 1), expires_on=D(2014, 12, 31)
    )
    assert not enterprises_with_contract_in_force(D(2013, 1, 1)).exists()
    assert list(enterprises_with_contract_in_force(D(2013, 1, 1), kinds=[ContractKind.WOMEN])) == [
        actors.enterprise
    ]
    assert list(enterprises_with_contract_in_force(D(2013, 1, 1), kinds=None)) == [actors.enterprise]


def test_a_regional_contract_counts_for_each_enterprise_it_covers(actors, city, make_staff):
    other = EnterpriseFactory(org_unit=actors.sibling, credit_code=make_credit_code(102))
    outside = EnterpriseFactory(org_unit=city.street_b, credit_code=make_credit_code(103, "210203"))
    street = actors.street_officer
    contract = services.contract_offer(
        actor=street,
        kind=ContractKind.WAGE,
        enterprises=[actors.enterprise, other],
        offered_on=D(2012, 1, 5),
        covered_employees=180,
    )
    assert contract.scope == ProgrammeScope.REGIONAL
    assert contract.org_unit == city.street_a  # their lowest common unit
    assert contract.title == "青泥洼桥街道区域性工资专项集体合同"
    assert contract.coverages.count() == 2
    CollectiveContract.objects.filter(pk=contract.pk).update(
        status=ContractStatus.IN_FORCE, effective_on=D(2012, 3, 1), expires_on=D(2014, 12, 31)
    )
    covered = set(enterprises_with_contract_in_force(D(2013, 6, 30)))
    assert covered == {actors.enterprise, other}
    assert outside not in covered
    # A district officer may handle a contract across streets; a street officer may not reach outside.
    with pytest.raises(OutOfScope):
        services.contract_offer(
            actor=street, kind=ContractKind.WAGE, enterprises=[actors.enterprise, outside]
        )


def test_contracts_are_scoped_to_the_users_subtree(actors, city, make_staff):
    contract = offer(actors.chair, actors.enterprise)
    district = make_staff("zs", city.zhongshan, "viewer")
    xigang = make_staff("xg", city.xigang, "city_admin")
    sibling = make_staff("sib", actors.sibling, "operator")
    assert get_for_user(CollectiveContract, actors.chair, pk=contract.pk) == contract
    assert get_for_user(CollectiveContract, actors.street_officer, pk=contract.pk) == contract
    assert get_for_user(CollectiveContract, district, pk=contract.pk) == contract
    for outsider in (xigang, sibling):
        assert not CollectiveContract.objects.visible_to(outsider).exists()
        with pytest.raises(Http404):
            get_for_user(CollectiveContract, outsider, pk=contract.pk)
    with pytest.raises(OutOfScope):
        services.contract_start_bargaining(actor=xigang, contract=contract)


def test_renewal_starts_a_new_contract_for_the_same_enterprises(actors):
    contract = to_signed(actors)
    contract = services.contract_file(actor=actors.chair, contract=contract, filed_on=D(2012, 2, 15))
    renewal = services.contract_renew(actor=actors.chair, contract=contract, offered_on=D(2014, 11, 1))
    contract.refresh_from_db()
    assert contract.status == ContractStatus.RENEWED
    assert renewal.status == ContractStatus.OFFERED and renewal.previous == contract
    assert list(renewal.enterprises.all()) == [actors.enterprise]
    # The old term still counts on its own days.
    assert contract.in_force_on(D(2014, 12, 31))


def test_withdraw_needs_a_reason_and_ends_the_workflow(actors):
    contract = to_draft(actors)
    with pytest.raises(ServiceError):
        services.contract_withdraw(actor=actors.chair, contract=contract, comment="")
    contract = services.contract_withdraw(actor=actors.chair, contract=contract, comment="企业停产")
    assert contract.status == ContractStatus.WITHDRAWN
    with pytest.raises(ServiceError, match="合同协商已终止"):
        services.contract_start_bargaining(actor=actors.chair, contract=contract)


def test_enterprise_contract_cannot_cover_several_and_needs_one(actors):
    other = EnterpriseFactory(org_unit=actors.sibling, credit_code=make_credit_code(104))
    with pytest.raises(ServiceError) as exc:
        services.contract_offer(
            actor=None, kind=ContractKind.WAGE, enterprises=[actors.enterprise, other], scope="enterprise"
        )
    assert exc.value.code == "scope_mismatch"
    with pytest.raises(ServiceError) as exc:
        services.contract_offer(actor=None, kind=ContractKind.WAGE, enterprises=[])
    assert exc.value.code == "no_enterprises"
