"""The demo city: deterministic, valid codes, consistent paths and history, a story in the rates."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from stdnum.cn import uscc

from safetynet.core.demo import demo_extensions
from safetynet.core.models import AuditAction, AuditEntry
from safetynet.orgs.demo import (
    CITY_CODE,
    DEMO_PASSWORD,
    DISTRICTS,
    REFERENCE_DAY,
    chinese_ordinal,
    demo_plan,
    district_name,
)
from safetynet.orgs.models import (
    Enterprise,
    EnterpriseHeadcount,
    EnterpriseLocation,
    GrassrootsUnion,
    OrgLevel,
    OrgUnit,
    OrgUnitVersion,
    Ownership,
    UnionCoverage,
    active_on_q,
)
from safetynet.orgs.validation import county_code_info, normalize_credit_code

SEED = 2012


@pytest.fixture(scope="module")
def plan():
    return demo_plan(scale="small", seed=SEED)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, plan):
    """The small city loaded once for the module through the real command, rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("demo-data", "--scale", "small", "--seed", str(SEED), stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


# --- the plan alone (no database) -------------------------------------------------------------


def test_same_seed_same_city_other_seed_other_city(plan):
    again = demo_plan(scale="small", seed=SEED)
    other = demo_plan(scale="small", seed=SEED + 1)
    assert (len(again.units), len(again.enterprises), len(again.unions)) == (
        len(plan.units),
        len(plan.enterprises),
        len(plan.unions),
    )
    assert [e.name for e in again.enterprises[:20]] == [e.name for e in plan.enterprises[:20]]
    assert [e.credit_code for e in again.enterprises] == [e.credit_code for e in plan.enterprises]
    assert [e.name for e in other.enterprises[:20]] != [e.name for e in plan.enterprises[:20]]


def test_small_scale_has_the_promised_shape(plan):
    levels = [u.level for u in plan.units]
    assert levels.count(OrgLevel.CITY) == 1
    assert levels.count(OrgLevel.DISTRICT) == len(DISTRICTS)
    assert 2 * len(DISTRICTS) <= levels.count(OrgLevel.STREET) <= 4 * len(DISTRICTS)
    assert len(plan.enterprises) == 2000
    above = sum(e.above_designated_size for e in plan.enterprises) / len(plan.enterprises)
    assert 0.08 <= above <= 0.17
    small = sum(e.headcount < 25 for e in plan.enterprises) / len(plan.enterprises)
    assert small > 0.5  # most enterprises are too small to be counted
    assert max(e.headcount for e in plan.enterprises) >= 500
    assert {e.ownership for e in plan.enterprises} == set(Ownership.values)
    assert all(e.migrant_headcount + e.dispatched_headcount <= e.headcount for e in plan.enterprises)
    assert all(
        datetime.date(1990, 1, 1) <= e.founded_on <= datetime.date(2015, 12, 31) for e in plan.enterprises
    )
    assert sum(e.founded_on <= REFERENCE_DAY for e in plan.enterprises) > 0.9 * len(plan.enterprises)


def test_district_units_are_real_2012_codes_named_from_numdb():
    assert district_name("210282") == "普兰店市"  # numdb: [1991-2015]普兰店市
    for spec in DISTRICTS:
        info = county_code_info(spec.code)
        if info is None:
            assert spec.code == "210251"  # the statistical zone code of 高新园区, not in GB/T 2260
        else:
            assert info.endswith(district_name(spec.code))
    with pytest.raises(ValueError):
        district_name("210214")  # 普兰店区 only from 2015


def test_chinese_ordinals():
    assert [chinese_ordinal(n) for n in (1, 10, 12, 20, 23, 100, 105, 120)] == [
        "一",
        "十",
        "十二",
        "二十",
        "二十三",
        "一百",
        "一百零五",
        "一百二十",
    ]


def test_hyphenated_commands_are_found():
    assert {"demo-data", "add-staff", "demo-logins"} <= set(get_commands())


# --- the loaded city --------------------------------------------------------------------------


def test_rows_match_the_plan_with_history_and_one_audit_row(demo, plan, db):
    assert OrgUnit.objects.count() == len(plan.units) == OrgUnitVersion.objects.count()
    assert Enterprise.objects.count() == 2000
    assert EnterpriseLocation.objects.filter(valid_from__isnull=True, valid_to__isnull=True).count() == 2000
    assert (
        EnterpriseHeadcount.objects.filter(
            valid_from__isnull=True, headcount=F("enterprise__headcount")
        ).count()
        == 2000
    )
    assert EnterpriseLocation.objects.exclude(org_unit=F("enterprise__org_unit")).count() == 0
    assert GrassrootsUnion.objects.count() == len(plan.unions)
    assert UnionCoverage.objects.count() == sum(len(u.members) for u in plan.unions)
    first = list(Enterprise.objects.order_by("pk").values_list("name", flat=True)[:10])
    assert first == [e.name for e in plan.enterprises[:10]]
    # One summary row for the registry; the bulk-loading extensions add one summary row each, while the
    # cases and targets demos go through the real services, so their rows carry the audit those write.
    entries = AuditEntry.objects.order_by("pk")[:1]
    assert [(e.action, e.object_repr) for e in entries] == [(AuditAction.IMPORT, "大连市")]
    # The cases and the targets go through the real services (their own audit rows), not one summary.
    bulk_loaded = [name for name, _extend in demo_extensions() if name not in ("诉求调处", "指标与目标")]
    summaries = AuditEntry.objects.filter(action=AuditAction.IMPORT)
    # Each bulk-loading extension leaves its summary (the reporting demo one per report form it loads).
    assert summaries.count() >= 1 + len(bulk_loaded)
    assert "企业 2,000" in demo


def test_every_credit_code_is_valid_and_fits_its_enterprise(demo, db):
    prefixes = {Ownership.INDIVIDUAL: "92", Ownership.INSTITUTION: "12", Ownership.ORGAN: "11"}
    rows = Enterprise.objects.values_list("credit_code", "ownership", "org_unit__path")
    districts = {u.path: u.code for u in OrgUnit.objects.filter(level=OrgLevel.DISTRICT)}
    for code, ownership, path in rows:
        assert uscc.is_valid(code), code
        assert normalize_credit_code(code) == code
        assert code[:2] == prefixes.get(ownership, "91")
        district_path = "/".join(path.split("/")[:2]) + "/"
        assert code[2:8] == districts[district_path]


def test_enterprises_sit_at_streets_or_communities(demo, db):
    assert not Enterprise.objects.exclude(org_unit__level__in=[OrgLevel.STREET, OrgLevel.COMMUNITY]).exists()


def test_paths_and_codes_are_consistent(demo, db):
    units = {u.pk: u for u in OrgUnit.objects.all()}
    city = OrgUnit.objects.get(code=CITY_CODE)
    assert city.path == f"{city.pk}/" and city.parent_id is None
    for unit in units.values():
        if unit.parent_id is None:
            continue
        parent = units[unit.parent_id]
        assert unit.path == f"{parent.path}{unit.pk}/"
        assert unit.path.startswith(parent.path)
        assert unit.level == parent.level + 1
        assert unit.code.startswith(parent.code if parent.level > OrgLevel.CITY else "")
        assert (
            len(unit.code) == {OrgLevel.DISTRICT: 6, OrgLevel.STREET: 9, OrgLevel.COMMUNITY: 12}[unit.level]
        )
    versions = OrgUnitVersion.objects.exclude(path=F("unit__path")) | OrgUnitVersion.objects.exclude(
        name=F("unit__name")
    )
    assert not versions.exists()
    names = set(OrgUnit.objects.filter(level=OrgLevel.STREET).values_list("name", flat=True))
    assert all(n.endswith(("街道", "镇", "乡")) for n in names)


def test_unions_are_founded_after_their_enterprises_and_coverage_follows_the_union(demo, db):
    assert not UnionCoverage.objects.filter(union__founded_on__lte=F("enterprise__founded_on")).exists()
    assert not UnionCoverage.objects.exclude(valid_from=F("union__founded_on")).exists()
    dissolved = UnionCoverage.objects.filter(union__dissolved_on__isnull=False)
    assert dissolved.exists()
    assert not dissolved.exclude(valid_to=F("union__dissolved_on")).exists()
    types = set(GrassrootsUnion.objects.values_list("union_type", flat=True))
    assert {"single", "joint"} <= types
    direct = (
        GrassrootsUnion.objects.filter(chair_directly_elected=True).count() / GrassrootsUnion.objects.count()
    )
    assert 0.15 < direct < 0.45


def union_rate(district: OrgUnit, day: datetime.date) -> float:
    covered = (
        UnionCoverage.objects.filter(enterprise=OuterRef("pk"))
        .filter(active_on_q(day), union__founded_on__lte=day)
        .exclude(union__dissolved_on__lte=day)
    )
    eligible = Enterprise.objects.within(district.path).operating_on(day).filter(headcount__gte=25)
    total = eligible.count()
    return eligible.filter(Exists(covered)).count() / total if total else 0.0


def test_union_rates_differ_between_districts(demo, db):
    rates = {d.code: union_rate(d, REFERENCE_DAY) for d in OrgUnit.objects.filter(level=OrgLevel.DISTRICT)}
    assert max(rates.values()) - min(rates.values()) >= 0.1
    assert all(0.5 < rate <= 1 for rate in rates.values())
    # The city centre is ahead of the rural counties (in the small city a county may have few enterprises).
    centre = sum(rates[c] for c in ("210202", "210203", "210204")) / 3
    counties = sum(rates[c] for c in ("210224", "210281", "210282", "210283")) / 4
    assert centre > counties + 0.05
    # The 2010–2012 drive: far fewer were covered in 2008.
    city = OrgUnit.objects.get(code=CITY_CODE)
    assert union_rate(city, datetime.date(2008, 12, 31)) < union_rate(city, REFERENCE_DAY) - 0.2


def test_demo_accounts_log_in_with_the_shared_password(demo, db, client):
    from safetynet.accounts.models import User

    admin = User.objects.select_related("org_unit").get(username="city_admin")
    assert (admin.role, admin.org_unit.code) == ("city_admin", CITY_CODE)
    officer = User.objects.select_related("org_unit").get(username="zhongshan_officer")
    assert (officer.role, officer.org_unit.code) == ("operator", "210202")
    chair = User.objects.select_related("org_unit").get(username="zhongshan_chair")
    assert chair.org_unit.level == OrgLevel.COMMUNITY
    assert User.objects.filter(username__endswith="_admin", role="unit_admin").count() == len(DISTRICTS)
    assert client.login(username="xigang_officer", password=DEMO_PASSWORD)
    out = io.StringIO()
    call_command("demo-logins", stdout=out)
    assert DEMO_PASSWORD in out.getvalue() and "zhongshan_viewer" in out.getvalue()


def test_if_empty_does_nothing_the_second_time(demo, db):
    before = Enterprise.objects.count(), OrgUnit.objects.count()
    out = io.StringIO()
    call_command("demo-data", "--scale", "small", "--if-empty", stdout=out)
    assert "未载入" in out.getvalue()
    assert (Enterprise.objects.count(), OrgUnit.objects.count()) == before
    with pytest.raises(CommandError) as exc:
        call_command("demo-data", "--scale", "small", stdout=io.StringIO())
    assert exc.value.returncode == 2 and "空库" in str(exc.value)
