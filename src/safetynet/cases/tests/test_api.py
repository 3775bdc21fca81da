"""The HTTP contract of INTERFACES.md ("Cases over HTTP") and the API's scope and roles."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from safetynet.cases.models import Case
from safetynet.orgs.tests.factories import make_credit_code

CONTRACT_FIELDS = {"id", "number", "status", "level", "unit", "deadline", "collective"}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post_call(client, **overrides):
    body = {
        "channel": "hotline",
        "enterprise": make_credit_code(101),
        "category": "wage_arrears",
        "workers_involved": 1,
        "claim_amount": "12000.00",
        "description": "三个月工资未发",
        "caller_phone": "13912345678",
    }
    body.update(overrides)
    return client.post("/api/v1/cases/", body, format="json")


def test_intake_answers_201_with_the_promised_fields(setup):
    response = post_call(client_for(setup.city_officer))
    assert response.status_code == 201, response.content
    data = response.json()
    assert CONTRACT_FIELDS <= set(data)
    assert (data["level"], data["unit"], data["collective"], data["status"]) == (
        "community",
        "210202001001",
        False,
        "new",
    )
    deadline = datetime.datetime.fromisoformat(data["deadline"])
    assert deadline.tzinfo is not None
    assert data["caller_phone"] == "139****5678"
    again = client_for(setup.city_officer).get(f"/api/v1/cases/{data['id']}/")
    assert again.status_code == 200
    assert {k: again.json()[k] for k in CONTRACT_FIELDS} == {k: data[k] for k in CONTRACT_FIELDS}


def test_a_street_enterprise_and_a_collective_case(setup):
    client = client_for(setup.city_officer)
    street = post_call(client, enterprise=make_credit_code(102)).json()
    assert (street["level"], street["unit"]) == ("street", "210202001")
    collective = post_call(client, workers_involved=40).json()
    assert (collective["level"], collective["unit"], collective["collective"]) == ("district", "210202", True)
    board = client.get("/api/v1/cases/board/").json()
    assert [row["id"] for row in board["results"]] == [collective["id"]]


def test_deadline_is_never_empty_on_an_open_case(setup):
    client = client_for(setup.city_officer)
    for workers in (1, 10, 3):
        post_call(client, workers_involved=workers)
    rows = client.get("/api/v1/cases/").json()["results"]
    assert rows and all(row["deadline"] for row in rows if row["status"] != "closed")


def test_sweep_hands_an_overdue_case_up_with_a_deadline_from_t(setup):
    data = post_call(client_for(setup.city_officer)).json()
    received = datetime.datetime.fromisoformat(data["deadline"]) - datetime.timedelta(days=15)
    moment = received + datetime.timedelta(days=16)
    call_command("sweep", now=moment.isoformat())
    after = client_for(setup.city_officer).get(f"/api/v1/cases/{data['id']}/").json()
    assert (after["level"], after["unit"]) == ("street", "210202001")
    assert datetime.datetime.fromisoformat(after["deadline"]) == moment + datetime.timedelta(days=15)
    # At most one level per run: the same moment again changes nothing.
    call_command("sweep", now=moment.isoformat())
    assert client_for(setup.city_officer).get(f"/api/v1/cases/{data['id']}/").json()["unit"] == "210202001"


def test_validation_errors_are_chinese_and_name_the_field(setup):
    response = post_call(
        client_for(setup.city_officer), enterprise=make_credit_code(103, "210203"), channel="fax"
    )
    assert response.status_code == 400
    assert response.json()["field"] in {"channel", "enterprise"}
    outside = post_call(client_for(setup.district_officer), enterprise=make_credit_code(103, "210203"))
    assert outside.status_code == 400 and outside.json()["field"] == "enterprise"


def test_a_viewer_reads_but_cannot_post(setup):
    data = post_call(client_for(setup.city_officer)).json()
    viewer = client_for(setup.viewer)
    assert viewer.get(f"/api/v1/cases/{data['id']}/").status_code == 200
    assert post_call(viewer).status_code == 403
    refused = viewer.post(f"/api/v1/cases/{data['id']}/pull-up/", {"version": data["version"]}, format="json")
    assert refused.status_code == 403


def test_a_sibling_district_gets_404(setup):
    data = post_call(client_for(setup.city_officer)).json()
    other = client_for(setup.xigang_officer)
    assert other.get(f"/api/v1/cases/{data['id']}/").status_code == 404
    assert other.post(f"/api/v1/cases/{data['id']}/accept/", {"version": 1}, format="json").status_code == 404


def test_actions_and_the_conflict_answer_409(setup):
    data = post_call(client_for(setup.city_officer)).json()
    community = client_for(setup.community_officer)
    accepted = community.post(
        f"/api/v1/cases/{data['id']}/accept/", {"version": data["version"]}, format="json"
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "in_progress"
    stale = community.post(
        f"/api/v1/cases/{data['id']}/hand-up/",
        {"version": data["version"], "reason": "调解不成"},
        format="json",
    )
    assert stale.status_code == 409
    assert stale.json() == {
        "code": "conflict",
        "detail": "该案件已被他人修改，请刷新后再操作",
        "field": "version",
    }
    up = community.post(
        f"/api/v1/cases/{data['id']}/hand-up/",
        {"version": accepted.json()["version"], "reason": "调解不成"},
        format="json",
    )
    assert up.status_code == 200 and up.json()["level"] == "street"


def test_my_queue(setup):
    client = client_for(setup.city_officer)
    post_call(client)
    post_call(client, enterprise=make_credit_code(102))
    community = client_for(setup.community_officer)
    rows = community.get("/api/v1/cases/queue/?bucket=new").json()["results"]
    assert [row["unit"] for row in rows] == ["210202001001"]
    counts = community.get("/api/v1/cases/queue/counts/").json()
    assert counts["new"] == 1 and counts["overdue"] == 0
    assert community.get("/api/v1/cases/queue/?bucket=bogus").status_code == 400


@pytest.mark.parametrize("field", ["deadline"])
def test_deadline_is_an_instant_with_offset(setup, field):
    data = post_call(client_for(setup.city_officer)).json()
    parsed = datetime.datetime.fromisoformat(data[field])
    assert parsed.utcoffset() is not None
    assert abs(parsed - (timezone.now() + datetime.timedelta(days=15))) < datetime.timedelta(minutes=5)
    assert Case.objects.get(pk=data["id"]).deadline == parsed


def test_forty_calls_about_one_arrears_become_a_collective_case_on_the_city_board(setup):
    """40 workers of one factory call one by one; the district takes them into one collective case that
    needs a leader in charge and is on the city board at once."""
    hotline = client_for(setup.city_officer)
    ids = []
    for number in range(40):
        response = post_call(
            hotline,
            caller_phone=f"1391234{number:04d}",
            description=f"第 {number + 1} 位职工：三个月工资未发",
        )
        assert response.status_code == 201, response.content
        assert (response.json()["level"], response.json()["collective"]) == ("community", False)
        ids.append(response.json()["id"])

    district = client_for(setup.district_officer)
    collective = post_call(
        district, workers_involved=40, claim_amount="480000.00", description="友好服装 40 名职工集体欠薪"
    )
    assert collective.status_code == 201, collective.content
    body = collective.json()
    assert (body["level"], body["unit"], body["collective"]) == ("district", "210202", True)
    merged = district.post(
        f"/api/v1/cases/{body['id']}/merge/",
        {"version": Case.objects.get(pk=body["id"]).version, "cases": ids},
        format="json",
    )
    assert merged.status_code == 200, merged.content
    assert Case.objects.filter(pk__in=ids, status="merged", merged_into_id=body["id"]).count() == 40

    # It cannot be accepted before a leader is named (领导包案).
    version = Case.objects.get(pk=body["id"]).version
    refused = district.post(f"/api/v1/cases/{body['id']}/accept/", {"version": version}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "leader_required"
    led = district.post(
        f"/api/v1/cases/{body['id']}/leader/",
        {"version": version, "leader": setup.district_head.username},
        format="json",
    )
    assert led.status_code == 200, led.content
    assert led.json()["leader"] == setup.district_head.username

    # The city sees it on its board within the hour it was filed.
    board = client_for(setup.city_admin).get("/api/v1/cases/board/").json()
    rows = board["results"] if isinstance(board, dict) else board
    assert [row["number"] for row in rows] == [body["number"]]
    filed = datetime.datetime.fromisoformat(body["received_at"])
    assert timezone.now() - filed < datetime.timedelta(hours=1)
    page = Client()
    page.force_login(setup.city_admin)
    assert body["number"] in page.get("/cases/board/").content.decode()
