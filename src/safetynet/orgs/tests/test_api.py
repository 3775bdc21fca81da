"""/api/v1/units, /enterprises, /unions as a 中山区 operator, a 西岗区 operator and a 中山区 viewer."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from safetynet.core.models import AuditEntry
from safetynet.orgs.models import Enterprise, GrassrootsUnion, Industry, OrgUnit, Ownership, UnionCoverage
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # Production settings redirect http to https; the test client speaks plain http.
    settings.SECURE_SSL_REDIRECT = False


@dataclass
class World:
    city: Any
    zs_enterprise: Enterprise
    zs_small: Enterprise
    xg_enterprise: Enterprise
    zs_union: GrassrootsUnion
    zs_operator: APIClient
    zs_admin: APIClient
    zs_viewer: APIClient
    xg_operator: APIClient
    xg_admin: APIClient


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def world(city, make_staff) -> World:
    industry, _ = Industry.objects.get_or_create(code="C", defaults={"name": "制造业"})
    zs_enterprise = EnterpriseFactory(
        name="中山精密机械有限公司",
        credit_code=make_credit_code(1),
        org_unit=city.community_a,
        headcount=120,
        ownership=Ownership.PRIVATE,
        industry=industry,
        above_designated_size=True,
    )
    zs_small = EnterpriseFactory(
        name="中山小店",
        credit_code=make_credit_code(2),
        org_unit=city.street_a,
        headcount=8,
        ownership=Ownership.STATE,
        deregistered_on=datetime.date(2020, 1, 1),
    )
    xg_enterprise = EnterpriseFactory(
        name="西岗港务有限公司",
        credit_code=make_credit_code(3, "210203"),
        org_unit=city.street_b,
        headcount=300,
    )
    zs_union = UnionFactory(name="中山精密机械工会", org_unit=city.community_a, enterprises=[zs_enterprise])
    UnionFactory(name="西岗港务工会", org_unit=city.street_b, enterprises=[xg_enterprise])
    return World(
        city=city,
        zs_enterprise=zs_enterprise,
        zs_small=zs_small,
        xg_enterprise=xg_enterprise,
        zs_union=zs_union,
        zs_operator=_client(make_staff("zs_operator", city.zhongshan, "operator")),
        zs_admin=_client(make_staff("zs_admin", city.zhongshan, "unit_admin")),
        zs_viewer=_client(make_staff("zs_viewer", city.zhongshan, "viewer")),
        xg_operator=_client(make_staff("xg_operator", city.xigang, "operator")),
        xg_admin=_client(make_staff("xg_admin", city.xigang, "unit_admin")),
    )


def _results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _audit_count() -> int:
    return AuditEntry.objects.count()


# --- units -----------------------------------------------------------------------------------


def test_units_list_is_the_callers_subtree(world):
    zs = {u["code"] for u in _results(world.zs_operator.get("/api/v1/units/"))}
    xg = {u["code"] for u in _results(world.xg_operator.get("/api/v1/units/"))}
    assert zs == {"210202", "210202001", "210202001001"}
    assert xg == {"210203", "210203001"}


def test_units_filters_level_parent_q(world):
    client = world.zs_viewer
    assert [u["code"] for u in _results(client.get("/api/v1/units/", {"level": 3}))] == ["210202001"]
    children = _results(client.get("/api/v1/units/", {"parent": "210202001"}))
    assert [(u["code"], u["parent"], u["level_label"]) for u in children] == [
        ("210202001001", "210202001", "村社区")
    ]
    assert [u["name"] for u in _results(client.get("/api/v1/units/", {"q": "友好"}))] == ["友好社区"]
    assert [u["code"] for u in _results(client.get("/api/v1/units/", {"unit": "210202001"}))] == [
        "210202001",
        "210202001001",
    ]


def test_units_filters_on_out_of_scope_unit_answer_404(world):
    for params in ({"parent": "210202"}, {"unit": "210202"}, {"parent": "999999"}):
        response = world.xg_operator.get("/api/v1/units/", params)
        assert response.status_code == 404, params
        assert response.json()["code"] == "not_found"


def test_units_bad_level_is_400_in_chinese(world):
    response = world.zs_viewer.get("/api/v1/units/", {"level": 9})
    assert response.status_code == 400
    assert response.json()["field"] == "level"
    assert "选择" in response.json()["detail"]


def test_unit_detail_scope(world):
    url = f"/api/v1/units/{world.city.street_a.pk}/"
    assert world.zs_viewer.get(url).json()["name"] == "青泥洼桥街道"
    assert world.xg_operator.get(url).status_code == 404
    assert world.xg_operator.get("/api/v1/units/999999/").status_code == 404
    assert world.xg_operator.get("/api/v1/units/abc/").status_code == 404


def test_unit_create_by_unit_admin(world):
    before = _audit_count()
    response = world.zs_admin.post(
        "/api/v1/units/",
        {"code": "210202001002", "name": "新社区", "level": 4, "parent": "210202001"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["parent"] == "210202001"
    unit = OrgUnit.objects.get(code="210202001002")
    assert unit.path.startswith(world.city.street_a.path)
    assert _audit_count() == before + 1


def test_unit_create_refused_without_capability_or_scope(world):
    body = {"code": "210202001002", "name": "新社区", "level": 4, "parent": "210202001"}
    assert world.zs_viewer.post("/api/v1/units/", body, format="json").status_code == 403
    # Operators keep the registry, not the hierarchy.
    assert world.zs_operator.post("/api/v1/units/", body, format="json").status_code == 403
    response = world.xg_admin.post("/api/v1/units/", body, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "parent"
    assert response.json()["detail"] == "单位代码“210202001”不存在或不在您的管辖范围内。"
    assert not OrgUnit.objects.filter(code="210202001002").exists()


def test_unit_create_service_error_is_400_with_code_and_field(world):
    response = world.zs_admin.post(
        "/api/v1/units/",
        {"code": "210202001003", "name": "错层", "level": 4, "parent": "210202"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parent_level"
    assert response.json()["field"] == "parent"
    assert "上级应是乡镇街道" in response.json()["detail"]


def test_unit_update(world):
    url = f"/api/v1/units/{world.city.street_a.pk}/"
    response = world.zs_admin.patch(
        url, {"name": "青泥洼桥新街道", "effective_on": "2020-01-01"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "青泥洼桥新街道"
    response = world.zs_admin.put(url, {"name": "青泥洼桥街道", "code": "210202001"}, format="json")
    assert response.status_code == 200, response.content
    assert world.zs_viewer.patch(url, {"name": "x"}, format="json").status_code == 403
    assert world.zs_operator.patch(url, {"name": "x"}, format="json").status_code == 403


def test_unit_writes_out_of_scope_are_404(world):
    url = f"/api/v1/units/{world.city.street_a.pk}/"
    before = _audit_count()
    for client in (world.xg_admin, world.xg_operator):
        assert client.patch(url, {"name": "x"}, format="json").status_code == 404
        assert client.put(url, {"name": "x", "code": "210202001"}, format="json").status_code == 404
        assert client.delete(url).status_code == 404
    assert _audit_count() == before
    world.city.street_a.refresh_from_db()
    assert world.city.street_a.name == "青泥洼桥街道"


def test_unit_delete_is_refused_with_reason(world):
    url = f"/api/v1/units/{world.city.community_a.pk}/"
    assert world.zs_viewer.delete(url).status_code == 403
    response = world.zs_admin.delete(url)
    assert response.status_code == 405
    assert "停用日期" in response.json()["detail"]
    assert OrgUnit.objects.filter(pk=world.city.community_a.pk).exists()


# --- enterprises -----------------------------------------------------------------------------


def test_enterprise_list_is_scoped_and_annotated(world):
    rows = _results(world.zs_operator.get("/api/v1/enterprises/"))
    by_code = {r["credit_code"]: r for r in rows}
    assert set(by_code) == {world.zs_enterprise.credit_code, world.zs_small.credit_code}
    row = by_code[world.zs_enterprise.credit_code]
    assert row["org_unit"] == "210202001001"
    assert row["ownership"] == "private"
    assert row["ownership_label"] == "私营"
    assert row["is_public"] is False
    assert row["is_covered"] is True
    assert row["industry"] == "C"
    assert by_code[world.zs_small.credit_code]["is_covered"] is False
    assert by_code[world.zs_small.credit_code]["is_public"] is True
    xg = _results(world.xg_operator.get("/api/v1/enterprises/"))
    assert [r["name"] for r in xg] == ["西岗港务有限公司"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "精密"}, {"中山精密机械有限公司"}),
        ({"q": make_credit_code(2)}, {"中山小店"}),
        ({"q": make_credit_code(2).lower()}, {"中山小店"}),
        ({"unit": "210202001001"}, {"中山精密机械有限公司"}),
        ({"unit": "210202001"}, {"中山精密机械有限公司", "中山小店"}),
        ({"ownership": "state"}, {"中山小店"}),
        ({"sector": "public"}, {"中山小店"}),
        ({"sector": "nonpublic"}, {"中山精密机械有限公司"}),
        ({"industry": "C"}, {"中山精密机械有限公司"}),
        ({"above_designated_size": "true"}, {"中山精密机械有限公司"}),
        ({"above_designated_size": "false"}, {"中山小店"}),
        ({"has_union": "true"}, {"中山精密机械有限公司"}),
        ({"has_union": "false"}, {"中山小店"}),
        ({"eligible": "true"}, {"中山精密机械有限公司"}),
        ({"status": "operating"}, {"中山精密机械有限公司"}),
        ({"status": "deregistered"}, {"中山小店"}),
    ],
)
def test_enterprise_filters(world, params, expected):
    assert {r["name"] for r in _results(world.zs_viewer.get("/api/v1/enterprises/", params))} == expected


def test_enterprise_sort_and_pagination(world):
    rows = _results(world.zs_viewer.get("/api/v1/enterprises/", {"sort": "-headcount"}))
    assert [r["headcount"] for r in rows] == [120, 8]
    page = world.zs_viewer.get(
        "/api/v1/enterprises/", {"page_size": 1, "page": 2, "sort": "-headcount"}
    ).json()
    assert page["count"] == 2
    assert [r["headcount"] for r in page["results"]] == [8]


def test_enterprise_unit_filter_out_of_scope_is_404(world):
    for unit in ("210202", "210202001", "nonsense"):
        response = world.xg_operator.get("/api/v1/enterprises/", {"unit": unit})
        assert response.status_code == 404, unit
    assert world.xg_operator.get("/api/v1/unions/", {"unit": "210202"}).status_code == 404


def test_enterprise_detail_scope(world):
    url = f"/api/v1/enterprises/{world.zs_enterprise.pk}/"
    body = world.zs_viewer.get(url).json()
    assert body["credit_code"] == world.zs_enterprise.credit_code
    assert body["is_covered"] is True
    response = world.xg_operator.get(url)
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "未找到该记录，或您无权查看。", "field": None}


def _enterprise_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "credit_code": make_credit_code(77),
        "name": "中山新材料有限公司",
        "org_unit": "210202001001",
        "ownership": "private",
        "industry": "C",
        "above_designated_size": False,
        "headcount": 40,
        "migrant_headcount": 10,
        "dispatched_headcount": 0,
        "founded_on": "2019-05-01",
        "deregistered_on": None,
        "address": "",
        "contact_phone": "",
    }
    body.update(overrides)
    return body


def test_enterprise_create(world):
    before = _audit_count()
    response = world.zs_operator.post("/api/v1/enterprises/", _enterprise_body(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["org_unit"] == "210202001001"
    assert body["is_covered"] is False
    assert body["ownership_label"] == "私营"
    assert Enterprise.objects.filter(credit_code=make_credit_code(77)).exists()
    assert _audit_count() == before + 1


def test_enterprise_create_normalises_typed_credit_code(world):
    code = make_credit_code(78)
    typed = " " + code[:6] + " " + code[6:].lower()
    response = world.zs_operator.post(
        "/api/v1/enterprises/", _enterprise_body(credit_code=typed), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["credit_code"] == code


def test_enterprise_create_refusals(world):
    before = _audit_count()
    assert world.zs_viewer.post("/api/v1/enterprises/", _enterprise_body(), format="json").status_code == 403
    response = world.zs_operator.post(
        "/api/v1/enterprises/", _enterprise_body(org_unit="210203001"), format="json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "org_unit"
    assert response.json()["detail"] == "单位代码“210203001”不存在或不在您的管辖范围内。"
    response = world.zs_operator.post(
        "/api/v1/enterprises/", _enterprise_body(credit_code=world.xg_enterprise.credit_code), format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate_credit_code"
    assert response.json()["field"] == "credit_code"
    wrong = make_credit_code(79)[:-1] + ("0" if make_credit_code(79)[-1] != "0" else "1")
    response = world.zs_operator.post(
        "/api/v1/enterprises/", _enterprise_body(credit_code=wrong), format="json"
    )
    assert response.status_code == 400
    assert "校验位" in response.json()["detail"]
    response = world.zs_operator.post(
        "/api/v1/enterprises/", _enterprise_body(migrant_headcount=99), format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "headcount_parts"
    response = world.zs_operator.post("/api/v1/enterprises/", {"name": "缺字段"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "required"
    assert "errors" in response.json()
    assert _audit_count() == before


def test_enterprise_update(world):
    url = f"/api/v1/enterprises/{world.zs_enterprise.pk}/"
    response = world.zs_operator.patch(url, {"headcount": 150, "effective_on": "2024-01-01"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["headcount"] == 150
    assert response.json()["is_covered"] is True
    body = _enterprise_body(credit_code=world.zs_enterprise.credit_code, name="中山精密机械股份有限公司")
    response = world.zs_operator.put(url, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "中山精密机械股份有限公司"
    response = world.zs_operator.patch(url, {"org_unit": "210203"}, format="json")
    assert response.status_code == 400
    world.zs_enterprise.refresh_from_db()
    assert world.zs_enterprise.org_unit_id == world.city.community_a.pk


def test_enterprise_writes_out_of_scope_are_404_and_viewer_403(world):
    url = f"/api/v1/enterprises/{world.zs_enterprise.pk}/"
    before = _audit_count()
    assert world.xg_operator.patch(url, {"headcount": 1}, format="json").status_code == 404
    assert world.xg_operator.put(url, _enterprise_body(), format="json").status_code == 404
    assert world.xg_operator.delete(url).status_code == 404
    assert world.zs_viewer.patch(url, {"headcount": 1}, format="json").status_code == 403
    assert world.zs_viewer.put(url, _enterprise_body(), format="json").status_code == 403
    assert world.zs_viewer.delete(url).status_code == 403
    response = world.zs_operator.delete(url)
    assert response.status_code == 405
    assert "注销日期" in response.json()["detail"]
    assert _audit_count() == before
    world.zs_enterprise.refresh_from_db()
    assert world.zs_enterprise.headcount == 120


# --- unions ----------------------------------------------------------------------------------


def test_union_list_scoped_and_filtered(world):
    rows = _results(world.zs_operator.get("/api/v1/unions/"))
    assert [(r["name"], r["org_unit"], r["covered_count"], r["union_type_label"]) for r in rows] == [
        ("中山精密机械工会", "210202001001", 1, "单独")
    ]
    assert [r["name"] for r in _results(world.xg_operator.get("/api/v1/unions/"))] == ["西岗港务工会"]
    viewer = world.zs_viewer
    assert len(_results(viewer.get("/api/v1/unions/", {"type": "single", "status": "active"}))) == 1
    assert _results(viewer.get("/api/v1/unions/", {"type": "joint"})) == []
    assert _results(viewer.get("/api/v1/unions/", {"status": "dissolved"})) == []
    assert len(_results(viewer.get("/api/v1/unions/", {"q": "张主席", "unit": "210202001"}))) == 1
    assert _results(viewer.get("/api/v1/unions/", {"q": "西岗"})) == []


def test_union_detail_scope(world):
    url = f"/api/v1/unions/{world.zs_union.pk}/"
    assert world.zs_viewer.get(url).json()["is_active"] is True
    assert world.xg_operator.get(url).status_code == 404


def _union_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "中山联合工会",
        "union_type": "joint",
        "org_unit": "210202001",
        "founded_on": "2021-03-01",
        "dissolved_on": None,
        "chair_name": "李主席",
        "chair_directly_elected": True,
    }
    body.update(overrides)
    return body


def test_union_create_with_covered_enterprises(world):
    body = _union_body(enterprises=[world.zs_small.credit_code.lower()])
    response = world.zs_operator.post("/api/v1/unions/", body, format="json")
    assert response.status_code == 201, response.content
    union = GrassrootsUnion.objects.get(name="中山联合工会")
    assert list(union.coverages.values_list("enterprise__name", flat=True)) == ["中山小店"]


def test_union_create_refusals(world):
    before = _audit_count()
    assert world.zs_viewer.post("/api/v1/unions/", _union_body(), format="json").status_code == 403
    response = world.zs_operator.post(
        "/api/v1/unions/", _union_body(enterprises=[world.xg_enterprise.credit_code]), format="json"
    )
    assert response.status_code == 400
    assert response.json()["field"].startswith("enterprises")
    assert "不在您的管辖范围内" in response.json()["detail"]
    response = world.zs_operator.post(
        "/api/v1/unions/", _union_body(founded_on="2021-03-01", dissolved_on="2020-01-01"), format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "dates_order"
    assert _audit_count() == before


def test_union_update(world):
    url = f"/api/v1/unions/{world.zs_union.pk}/"
    response = world.zs_operator.patch(url, {"chair_name": "王主席"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["chair_name"] == "王主席"
    body = _union_body(
        name="中山精密机械工会", union_type="single", org_unit="210202001001", founded_on="2006-01-01"
    )
    assert world.zs_operator.put(url, body, format="json").status_code == 200
    before = _audit_count()
    assert world.xg_operator.patch(url, {"chair_name": "x"}, format="json").status_code == 404
    assert world.xg_operator.put(url, body, format="json").status_code == 404
    assert world.xg_operator.delete(url).status_code == 404
    assert world.zs_viewer.patch(url, {"chair_name": "x"}, format="json").status_code == 403
    assert world.zs_viewer.put(url, body, format="json").status_code == 403
    assert _audit_count() == before


def test_union_coverages(world):
    url = f"/api/v1/unions/{world.zs_union.pk}/coverages/"
    rows = _results(world.zs_viewer.get(url))
    assert [(r["enterprise_credit_code"], r["valid_from"]) for r in rows] == [
        (world.zs_enterprise.credit_code, "2006-01-01")
    ]
    assert world.xg_operator.get(url).status_code == 404
    body = {"enterprise": world.zs_small.credit_code, "valid_from": "2010-01-01", "valid_to": "2015-01-01"}
    assert world.xg_operator.post(url, body, format="json").status_code == 404
    assert world.zs_viewer.post(url, body, format="json").status_code == 403
    response = world.zs_operator.post(url, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["enterprise_name"] == "中山小店"
    assert UnionCoverage.objects.filter(union=world.zs_union).count() == 2
    response = world.zs_operator.post(url, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "coverage_overlap"
    response = world.zs_operator.post(
        url, {"enterprise": world.xg_enterprise.credit_code, "valid_from": "2010-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "enterprise"


# --- me and tokens ---------------------------------------------------------------------------


def test_me(world):
    body = world.zs_operator.get("/api/v1/me/").json()
    assert body["username"] == "zs_operator"
    assert body["unit"] == "210202"
    assert body["role"] == "operator"
    assert set(body["capabilities"]) == {
        "edit_registry",
        "import",
        "view_audit",
        "handle_cases",
        "file_reports",
        "handle_warnings",
        "handle_assistance",
        "review_assistance",
        "respond_assessment",
        "record_visits",
    }
    assert world.zs_viewer.get("/api/v1/me/").json()["capabilities"] == []
    assert APIClient().get("/api/v1/me/").status_code in {401, 403}


def test_token_auth(world, make_staff):
    make_staff("token_user", world.city.zhongshan, "operator", password="Token-pass-123")
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "token_user", "password": "Token-pass-123"}, format="json"
    )
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    again = client.post("/api/v1/auth/token/", {"username": "token_user", "password": "Token-pass-123"})
    assert again.json()["token"] == token
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/me/").json()["username"] == "token_user"
    rows = _results(client.get("/api/v1/enterprises/"))
    assert {r["name"] for r in rows} == {"中山精密机械有限公司", "中山小店"}
    response = client.post("/api/v1/enterprises/", _enterprise_body(), format="json")
    assert response.status_code == 201, response.content
    assert client.get(f"/api/v1/enterprises/{world.xg_enterprise.pk}/").status_code == 404


def test_token_refused_for_wrong_password(world, make_staff):
    make_staff("token_user", world.city.zhongshan, "operator", password="Token-pass-123")
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "token_user", "password": "wrong"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "authorization"
    assert "无法" in response.json()["detail"]
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert bad.get("/api/v1/me/").status_code in {401, 403}


# --- schema and docs -------------------------------------------------------------------------


def test_schema_and_docs_answer(world, settings):
    # The docs page links the sidecar's static files; tests run without collectstatic's manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    schema = world.zs_viewer.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in (
        "/api/v1/units/",
        "/api/v1/enterprises/{id}/",
        "/api/v1/unions/{id}/coverages/",
        "/api/v1/me/",
        "/api/v1/auth/token/",
    ):
        assert path in text
    assert world.zs_viewer.get("/api/docs/").status_code == 200
