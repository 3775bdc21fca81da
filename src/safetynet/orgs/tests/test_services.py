import datetime

import pytest
from django.db.models import F

from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditEntry
from safetynet.orgs import services
from safetynet.orgs.models import EnterpriseHeadcount, EnterpriseLocation, OrgLevel, OrgUnit, OrgUnitVersion
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code


def test_paths_make_subtree_one_prefix_query(city):
    assert city.community_a.path.startswith(city.street_a.path)
    assert city.street_a.path.startswith(city.zhongshan.path)
    below = set(OrgUnit.objects.within(city.zhongshan.path).values_list("code", flat=True))
    assert below == {"210202", "210202001", "210202001001"}


def test_move_rewrites_subtree_paths_and_keeps_history(city):
    services.orgunit_move(
        actor=None, unit=city.street_a, new_parent=city.xigang, effective_on=datetime.date(2013, 1, 1)
    )
    city.community_a.refresh_from_db()
    assert city.community_a.path.startswith(city.xigang.path)
    versions = OrgUnitVersion.objects.filter(unit=city.community_a).order_by(
        F("valid_from").asc(nulls_first=True)
    )
    assert [(v.valid_from, v.valid_to, v.path.startswith(city.zhongshan.path)) for v in versions] == [
        (None, datetime.date(2013, 1, 1), True),
        (datetime.date(2013, 1, 1), None, False),
    ]


def test_rename_keeps_old_name_in_history(city):
    services.orgunit_update(
        actor=None, unit=city.zhongshan, name="中山新区", effective_on=datetime.date(2015, 1, 1)
    )
    names = list(
        OrgUnitVersion.objects.filter(unit=city.zhongshan)
        .order_by(F("valid_from").asc(nulls_first=True))
        .values_list("name", flat=True)
    )
    assert names == ["中山区", "中山新区"]
    assert AuditEntry.objects.filter(object_id=str(city.zhongshan.pk), action="update").exists()


def test_move_into_own_subtree_is_refused(city):
    with pytest.raises(ServiceError) as exc:
        services.orgunit_move(actor=None, unit=city.zhongshan, new_parent=city.zhongshan)
    assert exc.value.code in {"move_into_itself", "parent_level"}


def test_close_refused_while_enterprises_operate(city):
    EnterpriseFactory(org_unit=city.community_a)
    with pytest.raises(ServiceError) as exc:
        services.orgunit_close(actor=None, unit=city.community_a, closed_on=datetime.date(2020, 1, 1))
    assert exc.value.code == "has_enterprises"


def test_wrong_parent_level_refused(city):
    with pytest.raises(ServiceError) as exc:
        services.orgunit_create(
            actor=None, code="210202002001", name="错社区", level=OrgLevel.COMMUNITY, parent=city.zhongshan
        )
    assert "上级应是乡镇街道" in exc.value.message


def test_enterprise_bad_credit_code_names_expected_check_character(city):
    code = make_credit_code(42)
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(ServiceError) as exc:
        EnterpriseFactory(org_unit=city.community_a, credit_code=wrong)
    assert exc.value.field == "credit_code"
    assert f"应为“{code[-1]}”" in exc.value.message


def test_enterprise_move_and_headcount_are_dated(city, make_staff):
    enterprise = EnterpriseFactory(org_unit=city.community_a, headcount=30)
    services.enterprise_update(
        actor=None,
        enterprise=enterprise,
        data={"org_unit": city.street_b, "headcount": 50},
        effective_on=datetime.date(2013, 6, 1),
    )
    locations = list(
        EnterpriseLocation.objects.filter(enterprise=enterprise)
        .order_by(F("valid_from").asc(nulls_first=True))
        .values_list("org_unit__code", "valid_from", "valid_to")
    )
    assert locations == [
        ("210202001001", None, datetime.date(2013, 6, 1)),
        ("210203001", datetime.date(2013, 6, 1), None),
    ]
    counts = list(
        EnterpriseHeadcount.objects.filter(enterprise=enterprise)
        .order_by(F("valid_from").asc(nulls_first=True))
        .values_list("headcount", flat=True)
    )
    assert counts == [30, 50]
    entry = AuditEntry.objects.filter(entity="orgs.enterprise", action="update").get()
    assert entry.changes["headcount"] == [30, 50]
    assert entry.changes["org_unit"] == ["友好社区", "八一路街道"]


def test_union_dissolved_before_founded_refused(city):
    with pytest.raises(ServiceError) as exc:
        UnionFactory(
            org_unit=city.street_a,
            founded_on=datetime.date(2010, 1, 1),
            dissolved_on=datetime.date(2009, 1, 1),
        )
    assert exc.value.code == "dates_order"


def test_viewer_cannot_write_and_district_cannot_reach_sibling(city, make_staff):
    viewer = make_staff("v", city.zhongshan, "viewer")
    operator = make_staff("o", city.zhongshan, "operator")
    with pytest.raises(NotAllowed):
        services.enterprise_create(
            actor=viewer,
            credit_code=make_credit_code(8),
            name="x",
            org_unit=city.community_a,
            ownership="private",
            headcount=10,
            founded_on=datetime.date(2010, 1, 1),
        )
    with pytest.raises(OutOfScope):
        services.enterprise_create(
            actor=operator,
            credit_code=make_credit_code(9),
            name="y",
            org_unit=city.street_b,
            ownership="private",
            headcount=10,
            founded_on=datetime.date(2010, 1, 1),
        )


def test_a_founding_date_moved_past_a_coverage_is_refused_with_the_enterprise_named(city):
    from safetynet.orgs.models import UnionCoverage
    from safetynet.orgs.services import union_update

    enterprise = EnterpriseFactory(org_unit=city.community_a, name="甲公司")
    union = UnionFactory(org_unit=city.community_a, founded_on=datetime.date(2010, 1, 1))
    UnionCoverage.objects.filter(union=union).delete()
    UnionCoverage.objects.create(
        union=union,
        enterprise=enterprise,
        valid_from=datetime.date(2010, 1, 1),
        valid_to=datetime.date(2010, 6, 1),
    )
    with pytest.raises(ServiceError) as refused:
        union_update(actor=None, union=union, data={"founded_on": datetime.date(2011, 1, 1)})
    assert refused.value.field == "founded_on" and "甲公司" in refused.value.message
    union.refresh_from_db()
    assert union.founded_on == datetime.date(2010, 1, 1)
    later = EnterpriseFactory(org_unit=city.community_a, name="乙公司")
    UnionCoverage.objects.create(union=union, enterprise=later, valid_from=datetime.date(2010, 3, 1))
    with pytest.raises(ServiceError) as refused:
        union_update(actor=None, union=union, data={"dissolved_on": datetime.date(2010, 2, 1)})
    assert refused.value.field == "dissolved_on" and "乙公司" in refused.value.message
    assert UnionCoverage.objects.get(enterprise=later).valid_to is None
