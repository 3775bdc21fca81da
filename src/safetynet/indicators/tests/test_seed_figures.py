"""The seeds' own figures, loaded as data and read off the dashboard (issue: "Seeds' figures as a check").

Kunshan (昆山): 2,413 enterprises above designated size, 2,008 of them with unions → 83.2 %.
Dalian (大连): 8,620 of 8,865 eligible (unionised) enterprises have service stations → 97.2 %.
"""

import datetime

import pytest
from django.urls import reverse
from stdnum.cn import uscc

from safetynet.orgs.models import (
    Enterprise,
    EnterpriseHeadcount,
    EnterpriseLocation,
    GrassrootsUnion,
    OrgLevel,
    UnionCoverage,
)
from safetynet.orgs.services import orgunit_create
from safetynet.programmes.models import ServiceStation

DAY = datetime.date(2012, 6, 30)


def bulk_enterprises(unit, count, *, region, above_size):
    """``count`` enterprises with their dated rows, written set-based (a few statements, not one per row)."""
    codes = []
    for n in range(count):
        body = f"91{region}{n:09d}"
        codes.append(body + uscc.calc_check_digit(body))
    enterprises = Enterprise.objects.bulk_create(
        Enterprise(
            credit_code=code,
            name=f"企业{i}",
            org_unit=unit,
            ownership="private",
            headcount=100,
            above_designated_size=above_size,
            founded_on=datetime.date(2000, 1, 1),
        )
        for i, code in enumerate(codes)
    )
    EnterpriseLocation.objects.bulk_create(
        EnterpriseLocation(enterprise=e, org_unit=unit) for e in enterprises
    )
    EnterpriseHeadcount.objects.bulk_create(
        EnterpriseHeadcount(enterprise=e, headcount=100) for e in enterprises
    )
    return enterprises


def bulk_single_unions(unit, enterprises):
    unions = GrassrootsUnion.objects.bulk_create(
        GrassrootsUnion(
            name=f"{e.name}工会", union_type="single", org_unit=unit, founded_on=datetime.date(2005, 1, 1)
        )
        for e in enterprises
    )
    UnionCoverage.objects.bulk_create(
        UnionCoverage(union=u, enterprise=e, valid_from=datetime.date(2005, 1, 1))
        for u, e in zip(unions, enterprises, strict=True)
    )


@pytest.fixture
def city_admin(db, make_staff):
    def make(code, name):
        city = orgunit_create(actor=None, code=code, name=name, level=OrgLevel.CITY, parent=None)
        district = orgunit_create(
            actor=None, code=f"{code}01", name=f"{name}某区", level=OrgLevel.DISTRICT, parent=city
        )
        return city, district, make_staff(f"admin_{code}", city, "city_admin")

    return make


def dashboard(client, user, indicator):
    client.force_login(user)
    return client.get(
        reverse("indicators:dashboard"), {"as_of": DAY.isoformat(), "indicator": indicator}
    ).content.decode()


def test_kunshan_union_rate_of_enterprises_above_designated_size(city_admin, client):
    city, district, admin = city_admin("3205", "昆山市")
    enterprises = bulk_enterprises(district, 2413, region="320583", above_size=True)
    bulk_single_unions(district, enterprises[:2008])
    html = dashboard(client, admin, "union_rate")
    assert "83.2 %" in html
    assert "2,008" in html and "2,413" in html


def test_dalian_service_station_coverage(city_admin, client):
    city, district, admin = city_admin("2102", "大连市")
    enterprises = bulk_enterprises(district, 8865, region="210202", above_size=False)
    bulk_single_unions(district, enterprises)
    ServiceStation.objects.bulk_create(
        ServiceStation(
            name=f"{e.name}职工服务站",
            org_unit=district,
            enterprise=e,
            station_type="comprehensive",
            opened_on=datetime.date(2011, 1, 1),
        )
        for e in enterprises[:8620]
    )
    html = dashboard(client, admin, "station_rate")
    assert "97.2 %" in html
    assert "8,620" in html and "8,865" in html
