import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory


@pytest.fixture
def data(city):
    covered = EnterpriseFactory(org_unit=city.community_a)
    EnterpriseFactory(org_unit=city.community_a)
    EnterpriseFactory(org_unit=city.street_b)
    UnionFactory(org_unit=city.community_a, enterprises=[covered])
    return city


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_rows_for_own_subtree_and_404_for_sibling(data, make_staff):
    officer = make_staff("zs", data.zhongshan, "viewer")
    client = client_for(officer)
    response = client.get("/api/v1/indicators/", {"as_of": "2012-12-31", "indicator": "union_rate"})
    assert response.status_code == 200
    by_unit = {r["unit"]: r for r in response.json()}
    assert set(by_unit) == {"210202", "210202001", "210202001001"}
    assert (by_unit["210202"]["numerator"], by_unit["210202"]["denominator"], by_unit["210202"]["rate"]) == (
        1,
        2,
        0.5,
    )
    assert client.get("/api/v1/indicators/", {"as_of": "2012-12-31", "unit": "210203"}).status_code == 404
    assert client.get("/api/v1/indicators/", {"as_of": "2012-12-31", "unit": "999999"}).status_code == 404


def test_bad_parameters_are_400_in_chinese(data, make_staff):
    client = client_for(make_staff("c", data.city, "city_admin"))
    response = client.get("/api/v1/indicators/", {"as_of": "2012-13-01"})
    assert response.status_code == 400
    assert response.json()["field"] == "as_of" and "YYYY-MM-DD" in response.json()["detail"]
    assert client.get("/api/v1/indicators/", {"breakdown": "colour"}).status_code == 400
    assert client.get("/api/v1/indicators/", {"indicator": "nonsense"}).status_code == 400


def test_monthly_series(data, make_staff):
    client = client_for(make_staff("c", data.city, "city_admin"))
    response = client.get(
        "/api/v1/indicators/series/",
        {"start": "2012-01-01", "end": "2012-12-31", "indicator": "union_rate", "unit": "2102"},
    )
    assert response.status_code == 200
    rows = response.json()
    days = sorted({r["as_of"] for r in rows})
    assert len(days) == 12 and days[0] == "2012-01-31" and days[-1] == "2012-12-31"
    assert {r["unit"] for r in rows} == {"2102", "210202", "210203"}


def test_anonymous_is_refused(data):
    assert APIClient().get("/api/v1/indicators/").status_code in (401, 403)


def test_today_default(data, make_staff):
    client = client_for(make_staff("c", data.city, "city_admin"))
    rows = client.get("/api/v1/indicators/", {"indicator": "union_rate"}).json()
    assert rows[0]["as_of"] == timezone.localdate().isoformat()
