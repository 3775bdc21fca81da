"""/api/v1/persons, employments, memberships, cards: scope, roles, masking, audited reveal, actions."""

from __future__ import annotations

import datetime

import pytest
from rest_framework.test import APIClient

from safetynet.core.models import AuditAction, AuditEntry
from safetynet.members.models import CardStatus, Membership
from safetynet.members.services import card_issue, membership_join, person_register
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs.services import union_cover_enterprise
from safetynet.orgs.tests.factories import UnionFactory

D = datetime.date
NUMBER = make_id_number(1)
OTHER = make_id_number(2, address="210203")


@pytest.fixture
def worker(registry):
    person = person_register(
        actor=None,
        name="王小明",
        id_number=NUMBER,
        enterprise=registry.acme,
        employed_from=D(2010, 3, 1),
        phone="13800001111",
    ).person
    membership_join(actor=None, person=person, union=registry.acme_union, valid_from=D(2010, 4, 1))
    return person


@pytest.fixture
def xigang_worker(registry):
    return person_register(
        actor=None, name="李四", id_number=OTHER, enterprise=registry.bolt, employed_from=D(2011, 1, 1)
    ).person


def api(make_staff, unit, role, name="user") -> APIClient:
    client = APIClient()
    client.force_authenticate(make_staff(name, unit, role))
    return client


def test_person_lookup_by_id_number_is_exact_and_masked(make_staff, city, worker, xigang_worker):
    client = api(make_staff, city.zhongshan, "viewer")
    response = client.post("/api/v1/persons/lookup/", {"id_number": NUMBER}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["id_number"] == worker.id_number_masked and body["phone"] == "138****1111"
    assert [e["enterprise_name"] for e in body["employments"]] == ["甲公司"]
    assert [m["union_name"] for m in body["memberships"]] == ["甲公司工会"]
    assert NUMBER not in response.content.decode()
    # Out of scope answers like absent; a partial number finds nobody.
    assert client.post("/api/v1/persons/lookup/", {"id_number": OTHER}, format="json").status_code == 404
    assert client.get("/api/v1/persons/", {"id_number": NUMBER}).json()["count"] == 1
    assert client.get("/api/v1/persons/", {"q": NUMBER[:12]}).json()["count"] == 0


def test_person_list_and_detail_are_scoped(make_staff, city, worker, xigang_worker):
    client = api(make_staff, city.zhongshan, "viewer")
    names = [p["name"] for p in client.get("/api/v1/persons/").json()["results"]]
    assert names == ["王小明"]
    assert client.get(f"/api/v1/persons/{xigang_worker.pk}/").status_code == 404
    assert client.get(f"/api/v1/persons/{worker.pk}/").status_code == 200


def test_reveal_is_for_permitted_roles_and_audited(make_staff, city, worker, xigang_worker):
    viewer = api(make_staff, city.zhongshan, "viewer", "v")
    assert viewer.post(f"/api/v1/persons/{worker.pk}/reveal/").status_code == 403
    operator = api(make_staff, city.zhongshan, "operator", "o")
    assert operator.post(f"/api/v1/persons/{worker.pk}/reveal/").status_code == 403
    admin = api(make_staff, city.zhongshan, "unit_admin", "a")
    assert admin.post(f"/api/v1/persons/{xigang_worker.pk}/reveal/").status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL).exists()
    response = admin.post(f"/api/v1/persons/{worker.pk}/reveal/")
    assert response.json() == {"id_number": NUMBER, "phone": "13800001111"}
    assert AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL, object_id=str(worker.pk)).count() == 2


def test_register_a_worker_and_end_the_employment(make_staff, city, registry):
    client = api(make_staff, city.zhongshan, "operator")
    response = client.post(
        "/api/v1/persons/",
        {
            "name": "张三",
            "id_number": make_id_number(7),
            "enterprise": registry.acme.credit_code,
            "employed_from": "2011-05-01",
            "employment_type": "dispatched",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    employment = response.json()
    assert employment["enterprise_name"] == "甲公司" and employment["employment_type"] == "dispatched"
    response = client.post(
        f"/api/v1/employments/{employment['id']}/end/", {"valid_to": "2012-01-01"}, format="json"
    )
    assert response.status_code == 200 and response.json()["valid_to"] == "2012-01-01"
    # An enterprise of another district is refused like an unknown one.
    response = client.post(
        "/api/v1/persons/",
        {
            "name": "赵",
            "id_number": make_id_number(9),
            "enterprise": registry.bolt.credit_code,
            "employed_from": "2011-05-01",
        },
        format="json",
    )
    assert response.status_code == 400 and response.json()["field"] == "enterprise"


def test_viewer_cannot_write(make_staff, city, worker, registry):
    client = api(make_staff, city.zhongshan, "viewer")
    membership = Membership.objects.get(person=worker)
    assert (
        client.post(f"/api/v1/memberships/{membership.pk}/leave/", {"valid_to": "2012-01-01"}).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/memberships/",
            {"person": worker.pk, "union": registry.acme_union.pk, "valid_from": "2012-01-01"},
        ).status_code
        == 403
    )
    assert client.post("/api/v1/cards/", {"person": worker.pk, "issued_on": "2012-01-01"}).status_code == 403


def test_membership_actions(make_staff, city, worker, registry):
    client = api(make_staff, city.zhongshan, "operator")
    membership = Membership.objects.get(person=worker)
    listed = client.get(
        "/api/v1/memberships/", {"union": registry.acme_union.pk, "as_of": "2010-04-01"}
    ).json()
    assert [m["person_name"] for m in listed["results"]] == ["王小明"]
    assert client.get("/api/v1/memberships/", {"as_of": "2010-03-31"}).json()["count"] == 0
    second = UnionFactory(name="友好社区联合工会", org_unit=city.community_a, founded_on=D(2005, 1, 1))
    union_cover_enterprise(actor=None, union=second, enterprise=registry.acme, valid_from=D(2005, 1, 1))
    response = client.post(
        f"/api/v1/memberships/{membership.pk}/transfer/",
        {"to_union": second.pk, "on": "2012-06-01"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["union"] == second.pk and response.json()["valid_from"] == "2012-06-01"
    assert Membership.objects.get(pk=membership.pk).end_reason == "transferred"
    response = client.post(
        f"/api/v1/memberships/{membership.pk}/leave/", {"valid_to": "2012-07-01"}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "already_ended"
    # A union of another district cannot be the target.
    current = Membership.objects.get(person=worker, valid_to=None)
    response = client.post(
        f"/api/v1/memberships/{current.pk}/transfer/",
        {"to_union": registry.joint_union.pk, "on": "2012-08-01"},
        format="json",
    )
    assert response.status_code == 400 and response.json()["field"] == "to_union"


def test_cards(make_staff, city, worker):
    client = api(make_staff, city.zhongshan, "operator")
    response = client.post("/api/v1/cards/", {"person": worker.pk, "issued_on": "2012-01-01"}, format="json")
    assert response.status_code == 201
    card = response.json()
    assert len(card["card_number"]) == 16 and NUMBER not in card["qr_payload"]
    response = client.post(f"/api/v1/cards/{card['id']}/report-lost/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == CardStatus.LOST
    response = client.post(f"/api/v1/cards/{card['id']}/cancel/", {"on": "2012-02-01"}, format="json")
    assert response.json()["status"] == CardStatus.CANCELLED
    other = api(make_staff, city.xigang, "unit_admin", "x")
    assert other.get(f"/api/v1/cards/{card['id']}/").status_code == 404
    assert other.get("/api/v1/cards/").json()["count"] == 0


def test_card_lookup_by_number(make_staff, city, worker):
    card = card_issue(actor=None, person=worker, issued_on=D(2012, 1, 1))
    client = api(make_staff, city.zhongshan, "viewer")
    assert client.get("/api/v1/cards/", {"card_number": card.card_number}).json()["count"] == 1
    assert client.get("/api/v1/persons/", {"q": card.card_number}).json()["results"][0]["name"] == "王小明"


@pytest.mark.parametrize(
    ("number", "said"),
    [
        ("12345", "应为 18 位"),
        ("210202198013450011", "校验码应为"),
    ],
)
def test_lookup_and_filter_say_what_is_wrong_with_a_malformed_id_number(city, make_staff, number, said):
    from safetynet.accounts.models import Role

    client = APIClient()
    client.force_authenticate(make_staff("zs_officer", city.zhongshan, Role.OPERATOR))
    answer = client.post("/api/v1/persons/lookup/", {"id_number": number}, format="json", secure=True)
    assert answer.status_code == 400 and said in str(answer.json())
    listed = client.get("/api/v1/persons/", {"id_number": number}, secure=True)
    assert listed.status_code == 400 and said in str(listed.json())
