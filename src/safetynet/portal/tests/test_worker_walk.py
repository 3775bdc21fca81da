"""Every worker page and /api/v1/me/ endpoint, walked as the owner, as another worker and as a visitor.

Pages that name a record (pk) answer 404 for another worker's record, exactly like a missing one; every
worker page answers the worker login to an anonymous visitor and to a staff session; every /api/v1/me/
endpoint answers 401/403 without a worker. A new worker URL fails here until it is listed below.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse

from safetynet.cases.models import Case
from safetynet.members.models import MemberCard
from safetynet.portal import services
from safetynet.portal.auth import token_for
from safetynet.portal.models import Notice
from safetynet.portal.tests.helpers import PASSWORD, make_account

pytestmark = pytest.mark.django_db

PUBLIC = {
    "portal:register",
    "portal:login",
    "portal:privacy",
    "portal:logout",
    "portal:password_reset",
    "portal:password_reset_confirm",
}
# URL name → which of the owner's records its pk names.
RECORD_KWARG = {
    "portal:join_withdraw": "application",
    "portal:appeal_detail": "case",
    "portal:appeal_message": "case",
    "portal:appeal_files": "case",
    "portal:appeal_rate": "case",
    "portal:notice_detail": "notice",
}


def worker_url_names() -> list[str]:
    resolver = get_resolver()
    names = []
    for pattern in resolver.url_patterns:
        if hasattr(pattern, "url_patterns") and getattr(pattern, "app_name", "") == "portal":
            for inner in pattern.url_patterns:
                if isinstance(inner, URLPattern) and str(inner.pattern).startswith("worker/"):
                    names.append(f"portal:{inner.name}")
    return names


@pytest.fixture
def owner_records(world):
    owner = make_account("13900000001", name="王小明", id_number=world.people["王小明"]["id_number"])
    application = services.join_apply(account=owner, enterprise_id=world.enterprise.pk)
    services.join_decide(actor=world.chair, application=application, action="approve")
    case = services.appeal_file(
        account=owner, category="wage_arrears", description="欠薪两个月", enterprise_id=world.enterprise.pk
    )
    pending_owner = make_account("13900000003", name="赵春花", id_number=world.people["赵春花"]["id_number"])
    pending = services.join_apply(account=pending_owner, enterprise_id=world.enterprise.pk)
    # A notice of 西岗区: not for a worker of 中山区.
    notice = Notice.objects.create(
        org_unit=world.city.xigang, title="西岗区通知", body="只发西岗", published_at=case.received_at
    )
    other = make_account("13900000002", name="李大伟", id_number=world.people["李大伟"]["id_number"])
    return {"owner": owner, "other": other, "case": case, "application": pending, "notice": notice}


def _signed_in(mobile: str) -> Client:
    client = Client()
    assert client.post(reverse("portal:login"), {"mobile": mobile, "password": PASSWORD}).status_code == 302
    return client


def test_every_worker_url_is_classified():
    names = set(worker_url_names())
    assert len(names) > 15
    for name in names - set(RECORD_KWARG):
        reverse(name)  # NoReverseMatch: a new URL with a record key, to be listed in RECORD_KWARG


def test_walk_as_another_worker_and_as_visitor(world, owner_records):
    other = _signed_in("13900000002")
    visitor = Client()
    staff = Client()
    staff.force_login(world.officer)
    login = reverse("portal:login")
    for name in worker_url_names():
        if name in PUBLIC:
            continue
        record = owner_records[RECORD_KWARG[name]] if name in RECORD_KWARG else None
        url = reverse(name, args=[record.pk]) if record is not None else reverse(name)
        for client, who in ((visitor, "visitor"), (staff, "staff")):
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                assert response.status_code == 302 and response["Location"].startswith(login), (
                    who,
                    method,
                    url,
                )
        if record is None:
            continue
        missing = reverse(name, args=[987654])
        for method in ("get", "post"):
            response = getattr(other, method)(url)
            expected = getattr(other, method)(missing).status_code
            assert response.status_code in (404, 405) and response.status_code == expected, (method, url)
    # Nothing of the owner leaks onto the other worker's pages.
    for name in (
        "portal:home",
        "portal:card",
        "portal:appeal_list",
        "portal:join",
        "portal:me",
        "portal:notifications",
        "portal:notice_list",
    ):
        page = other.get(reverse(name)).content.decode()
        assert (
            "王小明" not in page and owner_records["case"].number not in page and "西岗区通知" not in page
        ), name
    card = MemberCard.objects.get(person=owner_records["owner"].person)
    assert card.card_number not in other.get(reverse("portal:card")).content.decode()
    # The owner does reach them.
    owner = _signed_in("13900000001")
    assert owner.get(reverse("portal:appeal_detail", args=[owner_records["case"].pk])).status_code == 200
    assert card.card_number in owner.get(reverse("portal:card")).content.decode()
    assert owner.get(reverse("portal:notice_detail", args=[owner_records["notice"].pk])).status_code == 404


ME_ENDPOINTS = [
    "/api/v1/me/profile/",
    "/api/v1/me/card/",
    "/api/v1/me/memberships/",
    "/api/v1/me/cases/",
    "/api/v1/me/join-applications/",
    "/api/v1/me/applications/",
    "/api/v1/me/notifications/",
]


def test_api_is_own_records_only(world, owner_records):
    from rest_framework.test import APIClient

    case: Case = owner_records["case"]
    visitor = APIClient()
    staff = APIClient()
    staff.force_login(world.officer)
    for url in [*ME_ENDPOINTS, f"/api/v1/me/cases/{case.pk}/"]:
        assert visitor.get(url).status_code in (401, 403), url
        assert staff.get(url).status_code in (401, 403), url
    token = visitor.post("/api/v1/me/token/", {"mobile": "13900000001", "password": PASSWORD}, format="json")
    assert token.status_code == 200
    owner = APIClient()
    owner.credentials(HTTP_AUTHORIZATION=f"Worker {token.json()['token']}")
    profile = owner.get("/api/v1/me/profile/").json()
    assert profile["name"] == "王小明" and profile["verified"] and "*" in profile["id_number_masked"]
    assert owner.get("/api/v1/me/card/").json()["union"] == "友好电子有限公司工会"
    assert [c["number"] for c in owner.get("/api/v1/me/cases/").json()] == [case.number]
    detail = owner.get(f"/api/v1/me/cases/{case.pk}/").json()
    assert detail["steps"][0]["action"] == "intake"
    assert owner.get("/api/v1/me/memberships/").json()[0]["union"] == "友好电子有限公司工会"
    assert owner.get("/api/v1/me/notifications/").status_code == 200
    # A worker token opens no staff endpoint.
    assert owner.get("/api/v1/cases/").status_code in (401, 403)

    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Worker {token_for(owner_records['other'])}")
    assert other.get(f"/api/v1/me/cases/{case.pk}/").status_code == 404
    assert other.get("/api/v1/me/cases/999999/").status_code == 404
    assert other.get("/api/v1/me/cases/").json() == []
    assert other.get("/api/v1/me/card/").status_code == 404
    # Session auth works too; a withdrawn consent ends the token.
    session = APIClient()
    session.post(reverse("portal:login"), {"mobile": "13900000002", "password": PASSWORD})
    assert session.get("/api/v1/me/profile/").json()["name"] == "李大伟"
    services.worker_consent_withdraw(account=owner_records["other"])
    assert other.get("/api/v1/me/profile/").status_code in (401, 403)
    assert session.get("/api/v1/me/profile/").status_code in (401, 403)
    wrong = visitor.post(
        "/api/v1/me/token/", {"mobile": "13900000001", "password": "nope-nope"}, format="json"
    )
    assert wrong.status_code == 400 and wrong.json()["detail"] == services.LOGIN_FAILED_MESSAGE


def test_openapi_documents_the_worker_api(client):
    schema = client.get("/api/schema/").content.decode()
    for path in ("/api/v1/me/profile/", "/api/v1/me/cases/{id}/", "/api/v1/me/token/"):
        assert path in schema, path
