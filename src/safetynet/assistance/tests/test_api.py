"""/api/v1/assistance/…: reads scoped (another district's record is a 404 like a missing one), writes through
the services with the capability of each action, refusals in the one Chinese error shape."""

from __future__ import annotations

import datetime

import pytest
from rest_framework.test import APIClient

from safetynet.assistance.models import Application, DiscountBase, HardshipFile, Payment, Vote
from safetynet.assistance.tests import factories
from safetynet.members.services import employment_start
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code

BASE = "/api/v1/assistance"


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world(city, make_staff):
    round_ = factories.make_round(city)
    files = [
        factories.make_file(city.community_a, person=factories.make_person(20 + i, name=f"接口职工{i}"))
        for i in range(2)
    ]
    return {
        "city": city,
        "round": round_,
        "files": files,
        "street": client_for(make_staff("api_street", city.street_a, "operator")),
        "district": client_for(make_staff("api_district", city.zhongshan, "operator")),
        "admin": client_for(make_staff("api_admin", city.city, "city_admin")),
        "viewer": client_for(make_staff("api_viewer", city.zhongshan, "viewer")),
        "xigang": client_for(make_staff("api_xigang", city.xigang, "unit_admin")),
    }


def test_files_list_masked_and_scoped(world):
    rows = world["street"].get(f"{BASE}/files/").json()["results"]
    assert {row["person_name"] for row in rows} == {"接口职工0", "接口职工1"}
    assert all("*" in row["person_id_number"] for row in rows)
    assert world["xigang"].get(f"{BASE}/files/").json()["count"] == 0
    pk = world["files"][0].pk
    assert world["street"].get(f"{BASE}/files/{pk}/").json()["income_per_head"] == "500.00"
    missing = world["xigang"].get(f"{BASE}/files/987654/")
    other = world["xigang"].get(f"{BASE}/files/{pk}/")
    assert missing.status_code == other.status_code == 404 and missing.json() == other.json()
    assert world["street"].get(f"{BASE}/files/", {"status": "nonsense"}).json()["field"] == "status"


def test_file_create_review_close(world):
    city = world["city"]
    enterprise = EnterpriseFactory(org_unit=city.community_a, credit_code=make_credit_code(701))
    person = factories.make_person(70, name="接口新档")
    employment_start(actor=None, person=person, enterprise=enterprise, valid_from=datetime.date(2010, 1, 1))
    body = {
        "person": person.pk,
        "unit": "210202001001",
        "household_size": 0,
        "monthly_income": "900.00",
        "causes": ["illness"],
        "opened_on": "2012-12-01",
    }
    refused = world["street"].post(f"{BASE}/files/", body, format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "household_size"
    created = world["street"].post(f"{BASE}/files/", {**body, "household_size": 3}, format="json")
    assert created.status_code == 201 and created.json()["income_per_head"] == "300.00"
    pk = created.json()["id"]
    assert (
        world["viewer"].post(f"{BASE}/files/", {**body, "household_size": 3}, format="json").status_code
        == 403
    )
    reviewed = world["street"].post(
        f"{BASE}/files/{pk}/review/", {"reviewed_on": "2012-12-05"}, format="json"
    )
    assert reviewed.status_code == 200 and reviewed.json()["status"] == "reviewed"
    bad = world["street"].post(
        f"{BASE}/files/{pk}/close/", {"closed_on": "2011-01-01", "reason": "employed"}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["field"] == "closed_on"
    closed = world["street"].post(
        f"{BASE}/files/{pk}/close/", {"closed_on": "2012-12-09", "reason": "employed"}, format="json"
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert (
        world["xigang"]
        .post(f"{BASE}/files/{pk}/review/", {"reviewed_on": "2012-12-05"}, format="json")
        .status_code
        == 404
    )


def test_rounds_budget_and_scope(world):
    round_ = world["round"]
    assert [r["id"] for r in world["street"].get(f"{BASE}/rounds/").json()["results"]] == [round_.pk]
    lines = world["district"].get(f"{BASE}/rounds/{round_.pk}/budget/").json()
    assert {line["unit"] for line in lines} >= {"2102", "210202", "210202001"}
    assert "210203" not in {line["unit"] for line in lines}


def test_applications_vote_queue_and_withdraw(world):
    application = factories.make_application(world["round"], world["files"][0])
    queue = world["street"].get(f"{BASE}/applications/queue/").json()
    assert [row["id"] for row in queue["results"]] == [application.pk]
    refused = world["street"].post(
        f"{BASE}/applications/{application.pk}/vote/", {"decision": "reject"}, format="json"
    )
    assert refused.status_code == 400 and not Vote.objects.exists()
    voted = world["street"].post(
        f"{BASE}/applications/{application.pk}/vote/", {"decision": "approve"}, format="json"
    )
    assert voted.status_code == 200 and voted.json()["current_level"] == 2
    assert world["street"].get(f"{BASE}/applications/{application.pk}/votes/").json()[0]["voter_name"]
    assert (
        world["viewer"]
        .post(f"{BASE}/applications/{application.pk}/vote/", {"decision": "approve"}, format="json")
        .status_code
        == 403
    )
    assert (
        world["xigang"]
        .post(f"{BASE}/applications/{application.pk}/vote/", {"decision": "approve"}, format="json")
        .status_code
        == 404
    )
    withdrawn = world["street"].post(
        f"{BASE}/applications/{application.pk}/withdraw/", {"reason": "主动放弃"}, format="json"
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert world["street"].get(f"{BASE}/applications/", {"round": world["round"].pk}).json()["count"] == 1


def test_application_create_outside_the_window_is_refused(world):
    response = world["street"].post(
        f"{BASE}/applications/",
        {"round": world["round"].pk, "hardship_file": world["files"][1].pk},
        format="json",
    )
    # Today is outside the 2012 round's window: refused with the service's reason, nothing saved.
    assert response.status_code == 400 and response.json()["detail"]
    assert not Application.objects.exists()


def test_payments_reverse(world):
    payment = factories.make_paid_application(world["round"], world["files"][0])
    rows = world["district"].get(f"{BASE}/payments/").json()["results"]
    assert rows[0]["amount"] == "500.00" and "*" in rows[0]["person_id_number"]
    assert (
        world["district"]
        .post(f"{BASE}/payments/{payment.pk}/reverse/", {"reason": "错发"}, format="json")
        .status_code
        == 403
    )
    reversed_ = world["admin"].post(
        f"{BASE}/payments/{payment.pk}/reverse/", {"reason": "错发"}, format="json"
    )
    assert reversed_.status_code == 201 and reversed_.json()["amount"] == "-500.00"
    assert Payment.objects.filter(kind="reversal").count() == 1
    assert world["xigang"].get(f"{BASE}/payments/{payment.pk}/").status_code == 404


def test_loans_repay(world):
    loan = factories.make_loan(world["city"].community_a)
    assert world["street"].get(f"{BASE}/loans/").json()["count"] == 1
    too_much = world["street"].post(
        f"{BASE}/loans/{loan.pk}/repay/", {"amount": "99999.00", "paid_on": "2012-07-01"}, format="json"
    )
    assert too_much.status_code == 400
    ok = world["street"].post(
        f"{BASE}/loans/{loan.pk}/repay/", {"amount": "1000.00", "paid_on": "2012-07-01"}, format="json"
    )
    assert ok.status_code == 200
    assert world["xigang"].get(f"{BASE}/loans/{loan.pk}/").status_code == 404


def test_bases_create_and_list(world):
    body = {
        "unit": "210202001",
        "name": "接口药房",
        "kind": "pharmacy",
        "address": "中山区 1 号",
        "discount": "九折",
        "valid_from": "2012-01-01",
    }
    assert world["viewer"].post(f"{BASE}/bases/", body, format="json").status_code == 403
    assert (
        world["street"].post(f"{BASE}/bases/", {**body, "unit": "210203001"}, format="json").status_code
        == 400
    )
    created = world["street"].post(f"{BASE}/bases/", body, format="json")
    assert created.status_code == 201 and DiscountBase.objects.get().name == "接口药房"
    assert world["street"].get(f"{BASE}/bases/", {"active_on": "2012-06-01"}).json()["count"] == 1
    assert world["xigang"].get(f"{BASE}/bases/").json()["count"] == 0
    assert world["street"].get(f"{BASE}/bases/", {"active_on": "bad"}).status_code == 400


def test_the_schema_documents_the_endpoints(world):
    schema = world["street"].get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/assistance/files/",
        "/api/v1/assistance/files/{id}/review/",
        "/api/v1/assistance/applications/{id}/vote/",
        "/api/v1/assistance/applications/queue/",
        "/api/v1/assistance/payments/{id}/reverse/",
    ):
        assert path in paths, path
    assert HardshipFile.objects.count() == 2
