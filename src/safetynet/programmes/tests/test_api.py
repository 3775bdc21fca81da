"""/api/v1/contracts, /systems, /stations: the workflow through the API, scope (404) and roles (403)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from safetynet.programmes.models import CollectiveContract, ContractStatus
from safetynet.programmes.tests.helpers import make_actors, to_draft

STEP_PATHS = (
    "bargain",
    "submit-draft",
    "pre-review",
    "vote",
    "sign",
    "file",
    "objection",
    "take-effect",
    "expire",
    "renew",
    "withdraw",
)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def actors(city, make_staff):
    return make_actors(city, make_staff)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_contract_workflow_through_the_api(actors):
    chair, street = api(actors.chair), api(actors.street_officer)
    response = chair.post(
        "/api/v1/contracts/",
        {"kind": "wage", "enterprises": [actors.enterprise.credit_code], "offered_on": "2012-01-05"},
        format="json",
    )
    assert response.status_code == 201, response.data
    pk = response.data["id"]
    assert response.data["status"] == "offered" and response.data["next_actions"][0] == "start_bargaining"
    assert response.data["enterprises"] == [actors.enterprise.credit_code]

    assert chair.post(f"/api/v1/contracts/{pk}/bargain/", {"on": "2012-01-10"}).status_code == 200
    response = chair.post(
        f"/api/v1/contracts/{pk}/submit-draft/",
        {
            "on": "2012-01-20",
            "wage_rise_percent": "8.5",
            "attachment": SimpleUploadedFile("草案.pdf", b"%PDF"),
        },
        format="multipart",
    )
    assert response.status_code == 200 and response.data["status"] == "draft"

    # Pre-review by the chair's own unit: refused with the reason, in the one error shape.
    response = chair.post(f"/api/v1/contracts/{pk}/pre-review/", {"passed": True}, format="json")
    assert response.status_code == 400 and response.data["code"] == "not_upper_unit"
    response = street.post(f"/api/v1/contracts/{pk}/pre-review/", {"passed": False}, format="json")
    assert response.status_code == 400 and response.data["field"] == "comments"
    response = street.post(
        f"/api/v1/contracts/{pk}/pre-review/",
        {"passed": False, "comments": "请补充工资支付条款"},
        format="json",
    )
    assert response.data["status"] == "returned"
    chair.post(f"/api/v1/contracts/{pk}/submit-draft/", {"on": "2012-01-24"}, format="json")
    street.post(f"/api/v1/contracts/{pk}/pre-review/", {"passed": True, "on": "2012-01-25"}, format="json")

    # Filing before signing is refused; then vote, sign, file.
    response = chair.post(f"/api/v1/contracts/{pk}/file/", {"filed_on": "2012-02-15"}, format="json")
    assert response.status_code == 400 and response.data["code"] == "step_out_of_order"
    vote = {
        "held_on": "2012-02-01",
        "representatives_total": 30,
        "attended": 19,
        "votes_for": 19,
        "votes_against": 0,
    }
    response = chair.post(f"/api/v1/contracts/{pk}/vote/", vote, format="json")
    assert response.data["status"] == "vote_failed"  # 19 of 30 attended: less than two thirds
    vote |= {"attended": 25, "votes_for": 20, "votes_against": 5}
    assert chair.post(f"/api/v1/contracts/{pk}/vote/", vote, format="json").data["status"] == "approved"
    response = chair.post(
        f"/api/v1/contracts/{pk}/sign/",
        {"signed_on": "2012-02-10", "effective_on": "2012-03-01", "expires_on": "2014-12-31"},
        format="json",
    )
    assert response.data["filing_due_on"] == "2012-02-20"
    response = chair.post(f"/api/v1/contracts/{pk}/file/", {"filed_on": "2012-02-15"}, format="json")
    assert response.data["status"] == "filed" and response.data["deemed_effective_on"] == "2012-03-02"

    steps = chair.get(f"/api/v1/contracts/{pk}/steps/").data["results"]
    assert [step["action"] for step in steps][:3] == ["offer", "start_bargaining", "submit_draft"]
    assert steps[2]["has_attachment"] is True
    assert "请补充工资支付条款" in [step["comment"] for step in steps]
    listed = street.get("/api/v1/contracts/", {"status": "filed"}).data
    assert [c["id"] for c in listed["results"]] == [pk]


def test_contract_api_scope_and_roles(actors, city, make_staff):
    contract = to_draft(actors)
    xigang = api(make_staff("xg", city.xigang, "unit_admin"))
    viewer = api(make_staff("zs_viewer", city.zhongshan, "viewer"))
    base = f"/api/v1/contracts/{contract.pk}/"
    assert xigang.get(base).status_code == 404
    assert xigang.get(base + "steps/").status_code == 404
    for path in STEP_PATHS:
        assert xigang.post(base + f"{path}/", {}, format="json").status_code == 404, path
        assert viewer.post(base + f"{path}/", {}, format="json").status_code == 403, path
    assert viewer.get(base).status_code == 200
    assert viewer.post("/api/v1/contracts/", {}, format="json").status_code == 403
    assert xigang.get("/api/v1/contracts/").data["count"] == 0
    assert xigang.get("/api/v1/contracts/", {"unit": "210202"}).status_code == 404
    # A 西岗区 admin cannot make a contract for a 中山区 enterprise: the code is unknown to them.
    response = xigang.post(
        "/api/v1/contracts/", {"kind": "wage", "enterprises": [actors.enterprise.credit_code]}, format="json"
    )
    assert response.status_code == 400 and response.data["field"].startswith("enterprises")
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT and CollectiveContract.objects.count() == 1


def test_systems_and_stations_api(actors, city, make_staff):
    officer = api(actors.street_officer)
    response = officer.post(
        "/api/v1/systems/",
        {
            "system": "congress",
            "enterprises": [actors.enterprise.credit_code],
            "established_on": "2008-01-01",
        },
        format="json",
    )
    assert response.status_code == 201 and response.data["name"] == "友好机械有限公司职代会"
    response = officer.post(
        "/api/v1/stations/",
        {
            "name": "友好机械职工服务站",
            "station_type": "comprehensive",
            "enterprise": actors.enterprise.credit_code,
            "functions": ["legal"],
            "opened_on": "2011-01-01",
        },
        format="json",
    )
    assert response.status_code == 201 and response.data["org_unit"] == city.community_a.code
    station_id = response.data["id"]
    response = officer.patch(f"/api/v1/stations/{station_id}/", {"staff_count": 3}, format="json")
    assert response.status_code == 200 and response.data["staff_count"] == 3
    response = officer.patch(f"/api/v1/stations/{station_id}/", {"closed_on": "2010-01-01"}, format="json")
    assert response.status_code == 400 and response.data["field"] == "closed_on"
    assert officer.get("/api/v1/stations/", {"open": "true"}).data["count"] == 1
    assert officer.get("/api/v1/systems/", {"system": "openness"}).data["count"] == 0

    xigang = api(make_staff("xg", city.xigang, "operator"))
    assert xigang.get(f"/api/v1/stations/{station_id}/").status_code == 404
    assert (
        xigang.patch(f"/api/v1/stations/{station_id}/", {"staff_count": 9}, format="json").status_code == 404
    )
    assert xigang.get("/api/v1/systems/").data["count"] == 0
    viewer = api(make_staff("zs_viewer", city.zhongshan, "viewer"))
    assert (
        viewer.patch(f"/api/v1/stations/{station_id}/", {"staff_count": 9}, format="json").status_code == 403
    )
