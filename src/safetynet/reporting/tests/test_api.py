"""GET /api/v1/reporting/ and /flags/ (the same rows as the command, scoped), and /api/v1/warnings/."""

from __future__ import annotations

import datetime

import pytest
from rest_framework.test import APIClient

from safetynet.reporting.models import WarningSignal
from safetynet.reporting.tests.conftest import file_report

D = datetime.date
QUERY = {"form": "YJ01", "period": "2012-05", "as_of": "2012-06-30"}


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def filed(world):
    file_report(world, world.city.street_a, "2012-06-02 09:00", zero=True)
    file_report(world, world.city.street_b, "2012-06-08 09:00", zero=False)
    return world


def test_rows_for_the_whole_city(filed):
    response = client_for(filed.city_admin).get("/api/v1/reporting/", {**QUERY, "unit": "2102"})
    assert response.status_code == 200
    city = response.json()[0]
    assert city == {
        "unit": "2102",
        "form": "YJ01",
        "period": "2012-05",
        "as_of": "2012-06-30",
        "expected": 3,
        "received": 2,
        "timely": 1,
        "zero": 1,
        "concealed": 0,
        "report_rate": 0.6667,
        "report_timely_rate": 0.3333,
        "zero_report_rate": 0.5,
    }


def test_rows_default_to_the_users_unit_and_stay_in_scope(filed):
    client = client_for(filed.district_officer)
    rows = client.get("/api/v1/reporting/", QUERY).json()
    assert rows[0]["unit"] == "210202" and {r["unit"] for r in rows} >= {"210202001", "210202002"}
    assert all(r["unit"].startswith("210202") for r in rows)
    for unit in ("210203", "2102", "210203001"):
        response = client.get("/api/v1/reporting/", {**QUERY, "unit": unit})
        assert response.status_code == 404, unit
    assert client.get("/api/v1/reporting/", {**QUERY, "unit": "999999"}).status_code == 404


def test_flags(filed):
    response = client_for(filed.city_admin).get("/api/v1/reporting/flags/", QUERY)
    assert response.json() == [
        {"unit": "210202002", "flag": "missing"},
        {"unit": "210203001", "flag": "late"},
    ]
    response = client_for(filed.xigang_officer).get("/api/v1/reporting/flags/", QUERY)
    assert response.json() == [{"unit": "210203001", "flag": "late"}]
    assert (
        client_for(filed.xigang_officer)
        .get("/api/v1/reporting/flags/", {**QUERY, "unit": "210202"})
        .status_code
        == 404
    )


@pytest.mark.parametrize(
    "query, field",
    [
        ({"period": "2012-05"}, "form"),
        ({"form": "NOPE", "period": "2012-05"}, "form"),
        ({"form": "YJ01"}, "period"),
        ({"form": "YJ01", "period": "2012Q2"}, "period"),
        ({"form": "YJ01", "period": "2012-05", "as_of": "30/06/2012"}, "as_of"),
    ],
)
def test_bad_parameters_answer_400_naming_the_field(world, query, field):
    response = client_for(world.city_admin).get("/api/v1/reporting/", query)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_anonymous_is_refused(world):
    assert APIClient().get("/api/v1/reporting/", QUERY).status_code in (401, 403)


def test_warnings_create_list_retrieve_scoped(world):
    client = client_for(world.street_officer)
    response = client.post(
        "/api/v1/warnings/",
        {
            "enterprise": world.enterprise_a.credit_code,
            "category": "wage_arrears",
            "discovered_on": "2012-05-20",
            "reported_at": "2012-05-21T10:00:00+08:00",
            "workers_involved": 8,
            "amount": "40000",
            "description": "拖欠两个月工资（约４万元）",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["unit"] == "210202001001" and body["status"] == "reported"
    assert body["description"] == "拖欠两个月工资（约４万元）"
    pk = body["id"]
    assert client.get(f"/api/v1/warnings/{pk}/").status_code == 200
    assert client_for(world.xigang_officer).get(f"/api/v1/warnings/{pk}/").status_code == 404
    assert client_for(world.xigang_officer).get("/api/v1/warnings/").json()["count"] == 0
    assert (
        client_for(world.district_officer).get("/api/v1/warnings/", {"status": "open"}).json()["count"] == 1
    )


def test_warning_create_refusals(world):
    client = client_for(world.street_officer)
    base = {
        "category": "wage_arrears",
        "discovered_on": "2012-05-20",
        "reported_at": "2012-05-21T10:00:00+08:00",
    }
    response = client.post(
        "/api/v1/warnings/", {**base, "enterprise": world.enterprise_b.credit_code}, format="json"
    )
    assert response.status_code == 400 and response.json()["field"] == "enterprise"
    response = client.post(
        "/api/v1/warnings/",
        {**base, "enterprise": world.enterprise_a.credit_code, "amount": "-5"},
        format="json",
    )
    assert response.status_code == 400 and response.json()["field"] == "amount"
    response = client_for(world.viewer).post(
        "/api/v1/warnings/", {**base, "enterprise": world.enterprise_a.credit_code}, format="json"
    )
    assert response.status_code == 403
    assert not WarningSignal.objects.exists()


def test_warning_transitions_and_case(world):
    client = client_for(world.street_officer)
    warning = client.post(
        "/api/v1/warnings/",
        {
            "enterprise": world.enterprise_a.credit_code,
            "category": "social_insurance",
            "discovered_on": "2012-05-20",
        },
        format="json",
    ).json()
    url = f"/api/v1/warnings/{warning['id']}/"
    response = client.post(url + "transition/", {"action": "resolve"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_transition"
    response = client.post(url + "transition/", {"action": "verify", "version": 1}, format="json")
    assert response.json()["status"] == "verified"
    response = client.post(url + "transition/", {"action": "handle", "version": 1}, format="json")
    assert response.status_code == 409
    response = client.post(url + "create-case/", {"version": 2}, format="json")
    assert response.status_code == 200 and response.json()["case_number"]
    assert (
        client_for(world.viewer).post(url + "transition/", {"action": "resolve"}, format="json").status_code
        == 403
    )
    assert (
        client_for(world.xigang_officer).post(url + "transition/", {"action": "resolve"}).status_code == 404
    )
