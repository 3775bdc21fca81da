import pytest
from django.http import Http404

from safetynet.core.errors import OutOfScope, ServiceError
from safetynet.core.scope import get_for_user
from safetynet.orgs.services import union_create
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code
from safetynet.programmes import services
from safetynet.programmes.models import (
    CongressVote,
    ContractStatus,
    EnterpriseSystem,
    ProgrammeScope,
    ServiceStation,
    StationType,
    SystemKind,
    VoteItemKind,
    WorkerDirectorRole,
)
from safetynet.programmes.selectors import (
    enterprise_programmes,
    enterprises_lacking,
    enterprises_with_open_station,
    enterprises_with_system,
)
from safetynet.programmes.tests.helpers import D, make_actors, to_reviewed


@pytest.fixture
def actors(city, make_staff):
    return make_actors(city, make_staff)


def test_system_active_from_established_until_the_day_before_abolished(actors):
    record = services.system_create(
        actor=actors.chair,
        system=SystemKind.CONGRESS,
        enterprises=[actors.enterprise],
        established_on=D(2008, 1, 1),
        abolished_on=D(2012, 7, 1),
    )
    assert record.scope == ProgrammeScope.ENTERPRISE and record.name == "友好机械有限公司职代会"
    assert not enterprises_with_system(D(2007, 12, 31), SystemKind.CONGRESS).exists()
    assert list(enterprises_with_system(D(2008, 1, 1), SystemKind.CONGRESS)) == [actors.enterprise]
    assert list(enterprises_with_system(D(2012, 6, 30), SystemKind.CONGRESS)) == [actors.enterprise]
    assert not enterprises_with_system(D(2012, 7, 1), SystemKind.CONGRESS).exists()
    assert not enterprises_with_system(D(2010, 1, 1), SystemKind.OPENNESS).exists()
    with pytest.raises(ServiceError) as exc:
        services.system_update(actor=actors.chair, record=record, data={"abolished_on": D(2007, 1, 1)})
    assert exc.value.code == "dates_order"


def test_regional_system_covers_each_enterprise_and_is_scoped(actors, make_staff, city):
    other = EnterpriseFactory(org_unit=actors.sibling, credit_code=make_credit_code(301))
    record = services.system_create(
        actor=actors.street_officer,
        system=SystemKind.OPENNESS,
        enterprises=[actors.enterprise, other],
        established_on=D(2010, 1, 1),
    )
    assert record.scope == ProgrammeScope.REGIONAL and record.org_unit == city.street_a
    assert set(enterprises_with_system(D(2011, 1, 1), SystemKind.OPENNESS)) == {actors.enterprise, other}
    outsider = make_staff("xg", city.xigang, "operator")
    with pytest.raises(Http404):
        get_for_user(EnterpriseSystem, outsider, pk=record.pk)
    # The chair of one community cannot set up a system for its neighbour.
    with pytest.raises(OutOfScope):
        services.system_create(
            actor=actors.chair, system=SystemKind.CONGRESS, enterprises=[other], established_on=D(2010, 1, 1)
        )


def test_congress_session_votes_follow_the_two_thirds_and_half_rule(actors):
    congress = services.system_create(
        actor=None, system=SystemKind.CONGRESS, enterprises=[actors.enterprise], established_on=D(2008, 1, 1)
    )
    session = services.congress_session_create(
        actor=actors.chair,
        system=congress,
        held_on=D(2012, 2, 1),
        representatives_total=30,
        attended=20,
        title="第三届第二次职工代表大会",
    )
    assert session.quorate
    passed = services.congress_vote_record(
        actor=actors.chair,
        session=session,
        item_kind=VoteItemKind.PLACEMENT,
        title="职工安置方案",
        votes_for=16,
        votes_against=4,
    )
    failed = services.congress_vote_record(
        actor=actors.chair,
        session=session,
        item_kind=VoteItemKind.RESTRUCTURING,
        title="改制方案",
        votes_for=15,
        votes_against=5,
    )
    assert passed.passed and not failed.passed
    with pytest.raises(ServiceError) as exc:
        services.congress_vote_record(
            actor=actors.chair,
            session=session,
            item_kind=VoteItemKind.OTHER,
            title="多票",
            votes_for=18,
            votes_against=3,
        )
    assert exc.value.code == "vote_count"
    openness = services.system_create(
        actor=None, system=SystemKind.OPENNESS, enterprises=[actors.enterprise], established_on=D(2008, 1, 1)
    )
    with pytest.raises(ServiceError) as exc:
        services.congress_session_create(
            actor=None, system=openness, held_on=D(2012, 2, 1), representatives_total=30, attended=20
        )
    assert exc.value.code == "not_congress"
    with pytest.raises(ServiceError) as exc:
        services.congress_session_create(
            actor=None, system=congress, held_on=D(2007, 2, 1), representatives_total=30, attended=20
        )
    assert exc.value.code == "system_inactive"


def test_contract_vote_at_a_session_is_kept_as_one_of_its_items(actors):
    congress = services.system_create(
        actor=None, system=SystemKind.CONGRESS, enterprises=[actors.enterprise], established_on=D(2008, 1, 1)
    )
    session = services.congress_session_create(
        actor=None, system=congress, held_on=D(2012, 2, 1), representatives_total=30, attended=19
    )
    contract = to_reviewed(actors)
    contract = services.contract_record_vote(
        actor=actors.chair,
        contract=contract,
        held_on=D(2012, 2, 1),
        votes_for=19,
        votes_against=0,
        session=session,
    )
    assert contract.status == ContractStatus.VOTE_FAILED  # 19 of 30 attended: below two thirds
    assert "三分之二" in contract.steps.last().comment
    vote = CongressVote.objects.get(contract=contract)
    assert vote.item_kind == VoteItemKind.CONTRACT and not vote.passed
    # Another enterprise's congress cannot vote on this contract.
    neighbour = EnterpriseFactory(org_unit=actors.sibling, credit_code=make_credit_code(304))
    foreign = services.congress_session_create(
        actor=None,
        system=services.system_create(
            actor=None, system=SystemKind.CONGRESS, enterprises=[neighbour], established_on=D(2008, 1, 1)
        ),
        held_on=D(2012, 2, 8),
        representatives_total=10,
        attended=10,
    )
    with pytest.raises(ServiceError) as exc:
        services.contract_record_vote(
            actor=actors.chair,
            contract=contract,
            held_on=D(2012, 2, 8),
            votes_for=10,
            votes_against=0,
            session=foreign,
        )
    assert exc.value.code == "session_unrelated"


def test_worker_directors_of_non_company_enterprises_are_flagged(actors, city):
    factory = EnterpriseFactory(
        org_unit=city.community_a, credit_code=make_credit_code(302), name="友好服装厂"
    )
    director = services.worker_director_create(
        actor=actors.chair,
        enterprise=actors.enterprise,
        person_name="王职工",
        role=WorkerDirectorRole.DIRECTOR,
        valid_from=D(2011, 1, 1),
    )
    flagged = services.worker_director_create(
        actor=actors.chair,
        enterprise=factory,
        person_name="李职工",
        role=WorkerDirectorRole.SUPERVISOR,
        valid_from=D(2011, 1, 1),
    )
    assert not director.needs_check and flagged.needs_check
    services.worker_director_end(actor=actors.chair, director=director, valid_to=D(2013, 1, 1))
    director.refresh_from_db()
    assert director.valid_to == D(2013, 1, 1)
    with pytest.raises(ServiceError):
        services.worker_director_end(actor=actors.chair, director=director, valid_to=D(2010, 1, 1))


def test_stations_at_enterprises_and_communities(actors, city):
    at_enterprise = services.station_create(
        actor=actors.chair,
        name="友好机械职工服务站",
        enterprise=actors.enterprise,
        station_type=StationType.COMPREHENSIVE,
        functions=["legal", "assistance", "legal"],
        opened_on=D(2011, 5, 1),
        closed_on=D(2013, 1, 1),
        staff_count=3,
    )
    assert at_enterprise.org_unit == city.community_a
    assert at_enterprise.functions == ["assistance", "legal"]  # in choice order, no duplicates
    at_community = services.station_create(
        actor=actors.street_officer,
        name="友好社区职工帮扶点",
        org_unit=city.community_a,
        station_type=StationType.RADIATING,
        opened_on=D(2010, 1, 1),
    )
    assert set(ServiceStation.objects.open_on(D(2012, 12, 31))) == {at_community, at_enterprise}
    assert list(ServiceStation.objects.open_on(D(2013, 1, 1))) == [at_community]
    assert list(enterprises_with_open_station(D(2012, 12, 31))) == [actors.enterprise]
    assert not enterprises_with_open_station(D(2013, 1, 1)).exists()  # community points don't count
    with pytest.raises(ServiceError) as exc:
        services.station_create(
            actor=None,
            name="错",
            org_unit=city.street_b,
            enterprise=actors.enterprise,
            station_type=StationType.SPECIALISED,
            opened_on=D(2011, 1, 1),
        )
    assert exc.value.code == "enterprise_outside_unit"
    with pytest.raises(ServiceError) as exc:
        services.station_create(
            actor=None,
            name="错",
            org_unit=city.community_a,
            station_type=StationType.SPECIALISED,
            functions=["karaoke"],
            opened_on=D(2011, 1, 1),
        )
    assert exc.value.code == "station_function"
    services.station_update(actor=actors.chair, station=at_enterprise, data={"closed_on": None})
    assert enterprises_with_open_station(D(2013, 1, 1)).exists()


def test_safety_records_are_one_per_enterprise_and_year(actors):
    entry = services.ankang_entry_record(
        actor=actors.chair, enterprise=actors.enterprise, year=2012, workers_taking_part=80
    )
    again = services.ankang_entry_record(
        actor=actors.chair, enterprise=actors.enterprise, year=2012, workers_taking_part=90
    )
    assert again.pk == entry.pk and again.workers_taking_part == 90
    team = services.team_safety_record(
        actor=actors.chair, enterprise=actors.enterprise, year=2012, built=True
    )
    assert team.built
    supervisor = services.safety_supervisor_create(
        actor=actors.chair,
        enterprise=actors.enterprise,
        name="赵监督",
        valid_from=D(2011, 3, 1),
    )
    services.safety_supervisor_update(
        actor=actors.chair, supervisor=supervisor, data={"trained_on": D(2011, 4, 1)}
    )
    supervisor.refresh_from_db()
    assert supervisor.trained_on == D(2011, 4, 1)
    with pytest.raises(ServiceError) as exc:
        services.ankang_entry_record(
            actor=None, enterprise=actors.enterprise, year=1900, workers_taking_part=1
        )
    assert exc.value.code == "year"


def test_work_list_names_unionised_enterprises_lacking_a_programme(actors, city, make_staff):
    union_create(
        actor=None,
        name="友好机械工会",
        union_type="single",
        org_unit=city.community_a,
        founded_on=D(2006, 1, 1),
        enterprises=[actors.enterprise],
    )
    other = EnterpriseFactory(org_unit=city.community_a, credit_code=make_credit_code(303))  # no union
    officer = make_staff("zs_officer", city.zhongshan, "operator")
    lacking = enterprises_lacking(officer, unit=city.zhongshan, day=D(2012, 12, 31), programme="congress")
    assert list(lacking) == [actors.enterprise]
    assert other not in enterprises_lacking(
        officer, unit=city.zhongshan, day=D(2012, 12, 31), programme="station"
    )
    services.system_create(
        actor=None, system=SystemKind.CONGRESS, enterprises=[actors.enterprise], established_on=D(2008, 1, 1)
    )
    assert not enterprises_lacking(
        officer, unit=city.zhongshan, day=D(2012, 12, 31), programme="congress"
    ).exists()
    panel = enterprise_programmes(actors.enterprise, D(2012, 12, 31))
    assert panel.has_congress and not panel.has_openness and not panel.has_wage_contract
    assert panel.contracts == []
    # Outside the officer's district nothing is listed.
    xigang = make_staff("xg_officer", city.xigang, "operator")
    assert not enterprises_lacking(
        xigang, unit=city.zhongshan, day=D(2012, 12, 31), programme="openness"
    ).exists()
