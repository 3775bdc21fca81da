"""API fuzzing: schemathesis sends generated requests to every operation of ``/api/schema/`` on a live server.

The small demo city is loaded once; a city administrator (every capability, whole city) and a
中山区 viewer (reads only, one district) each run every operation. For each response:

- no 5xx (``not_a_server_error``);
- the status code is one the schema documents (``status_code_conformance``);
- the Content-Type is the documented one (``content_type_conformance``);
- the body is valid against the documented schema (``response_schema_conformance``);
- it answers within ``MAX_RESPONSE_SECONDS`` (``max_response_time``): no request may cost minutes.

Generation is bounded and deterministic (``SEED``, ``derandomize``, no shrinking), so a failure reproduces
with the same command and the run stays within CI's time (one to two minutes per database). Positive and
negative data are both sent: a malformed input must be a 4xx, never a 500. Nothing is excluded.

Writes are real: the city administrator's POST/PATCH change the demo city as they go (a test database).

The demo city is loaded once for both roles (``fuzz_city``) and emptied afterwards, so no other test sees it.
Each role's test runs in pytest-django's test transaction: on SQLite the live server shares that connection,
so the city administrator's writes are rolled back before the viewer's turn; on PostgreSQL the server has
connections of its own and the writes stay until the tables are emptied.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.management import call_command
from django.db import connection
from pytest_django.live_server_helper import LiveServer
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from safetynet.accounts.models import User
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code

# The demo accounts that fuzz: the whole city with every capability, and one district read-only.
ROLES = {"city_admin": "city_admin", "district_viewer": "zhongshan_viewer"}
SEED = 2012
EXAMPLES_PER_OPERATION = 10
MAX_RESPONSE_SECONDS = 20.0

CONFIG = {
    "seed": SEED,
    "request-timeout": 120,
    "generation": {
        # Valid and invalid requests: an invalid one must be refused with a documented 4xx.
        "mode": "all",
        "max-examples": EXAMPLES_PER_OPERATION,
        "deterministic": True,
        "no-shrink": True,
    },
    "phases": {
        "examples": {"enabled": True},
        # Every boundary the schema states, once: each optional field present and absent, each enum value,
        # minimum and maximum. The valid ones only: the invalid ones (some 5,000 requests, two minutes)
        # repeat what the fuzzing phase's invalid data already covers.
        "coverage": {"enabled": True, "generation": {"mode": "positive"}},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "status_code_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
        "max_response_time": MAX_RESPONSE_SECONDS,
    },
}
# The viewer's writes are refused before any input is read (403, or 404 outside the district): its run is
# about what reads show, and the random phase is enough for that (the coverage phase would double the time).
ROLE_PHASES = {
    "city_admin": {},
    "district_viewer": {"coverage": {"enabled": False}},
}


@dataclass
class FuzzCity:
    url: str
    tokens: dict[str, str]


@pytest.fixture(scope="class")
def fuzz_city(django_db_setup, django_db_blocker) -> Iterator[FuzzCity]:
    """The small demo city, loaded once for both roles and served by a live server thread of its own.

    pytest-django's ``live_server`` would make every test transactional (the tables are emptied after each),
    and the city would be loaded once per role. Here the class holds the database: what was there before
    (the data migrations' rows) is kept aside, the city is loaded and committed, and afterwards every table is
    emptied and the kept rows put back, as a transactional test with ``serialized_rollback`` does.
    """
    with django_db_blocker.unblock():
        kept = connection.creation.serialize_db_to_string()
        call_command("demo-data", "--scale", "small", "--seed", str(SEED), stdout=io.StringIO())
        tokens = {
            role: Token.objects.get_or_create(user=User.objects.get(username=username))[0].key
            for role, username in ROLES.items()
        }
        # What pytest-django's live_server fixture does: the server thread, and its host in ALLOWED_HOSTS.
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        try:
            yield FuzzCity(url=server.url, tokens=tokens)
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
            connection.creation.deserialize_db_from_string(kept)


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32's from_fixture labels each operation through the test item's ``_nodeid``, which
    # pytest 9.2 no longer has (the id lives in ``_id``): give it the attribute, used for its labels only.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture(params=list(ROLES))
def role(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def api_schema(fuzz_city: FuzzCity, role: str):
    """The schema of the live server, with the role's token on every request."""
    config = schemathesis.Config.from_dict(
        {
            **CONFIG,
            "phases": {**CONFIG["phases"], **ROLE_PHASES[role]},
            "headers": {"Authorization": f"Token {fuzz_city.tokens[role]}"},
        }
    )
    return schemathesis.openapi.from_url(f"{fuzz_city.url}/api/schema/?format=json", config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


# The database marker sets up the test database (the class fixture loads it); each test runs in a transaction.
@pytest.mark.django_db
@pytest.mark.fuzz
class TestFuzz:
    """One test per role; each API operation is a subtest (reported with its label, e.g. 'GET /api/v1/units/')."""

    @schema.parametrize()
    def test_api_fuzz(self, case) -> None:
        case.call_and_validate()


# --- what the fuzzer found, pinned on a small registry (fast, no live server) ---------------------------------

D = datetime.date
BEYOND_ANY_COLUMN = 2**64


def client_for(make_staff: Any, unit: Any, role: str, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(make_staff(username, unit, role))
    return client


@dataclass
class TwoDistricts:
    zs_enterprise: Any
    xg_enterprise: Any
    zs_union: Any
    xg_union: Any


@pytest.fixture
def two_districts(city) -> TwoDistricts:
    zs_enterprise = EnterpriseFactory(
        credit_code=make_credit_code(811),
        name="中山测试机械公司",
        org_unit=city.community_a,
        founded_on=D(2000, 1, 1),
    )
    xg_enterprise = EnterpriseFactory(
        credit_code=make_credit_code(812, "210203"),
        name="西岗测试物流公司",
        org_unit=city.street_b,
        founded_on=D(2000, 1, 1),
    )
    zs_union = UnionFactory(
        name="中山测试机械公司工会",
        org_unit=city.community_a,
        founded_on=D(2005, 1, 1),
        enterprises=[zs_enterprise],
    )
    xg_union = UnionFactory(
        name="西岗测试物流公司工会",
        org_unit=city.street_b,
        founded_on=D(2005, 1, 1),
        enterprises=[xg_enterprise],
    )
    return TwoDistricts(zs_enterprise, xg_enterprise, zs_union, xg_union)


@pytest.mark.django_db
def test_unit_created_without_a_parent_key_is_not_a_server_error(city, make_staff):
    client = client_for(make_staff, city.city, "city_admin", "fuzz_admin")
    # The schema says ``parent`` may be left out (a city has none): it is taken as "no parent" (was a 500).
    response = client.post("/api/v1/units/", {"code": "2103", "name": "测试市", "level": 1}, format="json")
    assert response.status_code == 201 and response.json()["parent"] is None
    response = client.post("/api/v1/units/", {"code": "210299", "name": "测试区", "level": 2}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "parent_required" and response.json()["field"] == "parent"


@pytest.mark.django_db
def test_integers_beyond_every_column_answer_400(city, make_staff, two_districts):
    from safetynet.cases.services import case_intake
    from safetynet.programmes.services import station_create

    station = station_create(
        actor=None,
        name="中山测试服务站",
        station_type="comprehensive",
        enterprise=two_districts.zs_enterprise,
        opened_on=D(2010, 1, 1),
    )
    case = case_intake(
        actor=None,
        channel="hotline",
        category="wage_arrears",
        description="测试诉求：两个月工资未发",
        enterprise=two_districts.zs_enterprise,
        caller_phone="13912340002",
    )
    client = client_for(make_staff, city.city, "city_admin", "fuzz_admin")
    too_big = BEYOND_ANY_COLUMN
    answers = {
        "staff_count": client.patch(
            f"/api/v1/stations/{station.pk}/", {"staff_count": too_big}, format="json"
        ),
        "cases": client.post(
            f"/api/v1/cases/{case.pk}/merge/", {"version": case.version, "cases": [too_big]}, format="json"
        ),
        "ids": client.post("/api/v1/notifications/read/", {"ids": [too_big]}, format="json"),
        "cards?person": client.get("/api/v1/cards/", {"person": too_big}),
        "employments?person": client.get("/api/v1/employments/", {"person": too_big}),
        "memberships?person": client.get("/api/v1/memberships/", {"person": too_big}),
        "memberships?union": client.get("/api/v1/memberships/", {"union": too_big}),
    }
    for name, response in answers.items():
        assert response.status_code == 400, (name, response.status_code, response.content)
        body = response.json()
        assert body["field"] is not None and body["field"].split(".")[0] in name, (name, body)
        assert body["detail"], name
    # The largest count a column holds is accepted.
    response = client.patch(f"/api/v1/stations/{station.pk}/", {"staff_count": 2**31 - 1}, format="json")
    assert response.status_code == 200 and response.json()["staff_count"] == 2**31 - 1


@pytest.mark.django_db
def test_a_record_key_that_is_not_a_number_answers_the_json_404(city, make_staff):
    client = client_for(make_staff, city.zhongshan, "viewer", "fuzz_viewer")
    for url in ("/api/v1/cases/0.5/", "/api/v1/units/abc/", "/api/v1/unions/-1.5/coverages/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found", url


@pytest.mark.django_db
def test_indicator_series_is_bounded_and_start_is_required(city, make_staff):
    client = client_for(make_staff, city.zhongshan, "viewer", "fuzz_viewer")
    response = client.get("/api/v1/indicators/series/", {"start": "2000-01-01", "end": "2026-12-06"})
    assert response.status_code == 400
    assert response.json()["field"] == "end" and "最多 24 个" in response.json()["detail"]
    response = client.get("/api/v1/indicators/series/", {"start": "2000-01-01", "interval": "year"})
    assert response.status_code == 400
    assert client.get("/api/v1/indicators/series/").json()["field"] == "start"
    assert (
        client.get("/api/v1/indicators/series/", {"start": "2024-01-01", "unit": "x"}).json()["field"]
        == "unit"
    )
    assert client.get("/api/v1/indicators/", {"as_of": "0001-01-01"}).status_code == 400
    # Twenty-four months is the most a series gives.
    response = client.get("/api/v1/indicators/series/", {"start": "2011-01-01", "end": "2012-12-31"})
    assert response.status_code == 200, response.content
    assert len({row["as_of"] for row in response.json()}) == 24


def test_schema_lists_blank_choices_and_every_operations_errors():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    for component, field in (
        ("Case", "outcome_kind"),
        ("Membership", "end_reason"),
        ("Employment", "employment_type"),
        ("Person", "household"),
    ):
        alternatives = [ref["$ref"] for ref in components[component]["properties"][field].get("oneOf", [])]
        assert "#/components/schemas/BlankEnum" in alternatives, (component, field)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if operation.get("parameters"):
                assert {"400", "404"} <= set(responses), (method, path)
            if "requestBody" in operation:
                assert "400" in responses, (method, path)
            if {} not in operation.get("security", [{}]):
                assert "403" in responses, (method, path)


@pytest.mark.django_db
def test_nested_records_outside_the_callers_scope_are_shown_without_what_identifies_them(
    city, make_staff, two_districts
):
    from safetynet.members import services as members
    from safetynet.orgs.services import enterprise_update, union_cover_enterprise
    from safetynet.programmes.models import ContractKind
    from safetynet.programmes.services import contract_offer, station_create

    t = two_districts
    # A worker of 西岗区 until 2009, of 中山区 since 2010, a member of each district's union in turn.
    earlier = members.person_register(
        actor=None,
        name="赵测试",
        id_number=make_id_number(811),
        enterprise=t.xg_enterprise,
        employed_from=D(2001, 1, 1),
    )
    person = earlier.person
    members.employment_end(actor=None, employment=earlier, valid_to=D(2009, 12, 31))
    later = members.employment_start(
        actor=None, person=person, enterprise=t.zs_enterprise, valid_from=D(2010, 1, 1)
    )
    xg_membership = members.membership_join(
        actor=None, person=person, union=t.xg_union, valid_from=D(2006, 1, 1), member_number="XGTEST811"
    )
    members.membership_leave(actor=None, membership=xg_membership, valid_to=D(2009, 12, 31))
    members.membership_join(actor=None, person=person, union=t.zs_union, valid_from=D(2010, 1, 1))
    # The 中山区 union also covers the 西岗区 enterprise; a station and a contract cover an enterprise that
    # has since moved to 西岗区.
    union_cover_enterprise(actor=None, union=t.zs_union, enterprise=t.xg_enterprise, valid_from=D(2011, 1, 1))
    moving = EnterpriseFactory(
        credit_code=make_credit_code(813),
        name="中山迁出测试公司",
        org_unit=city.community_a,
        founded_on=D(2000, 1, 1),
    )
    station = station_create(
        actor=None,
        name="中山测试服务站",
        station_type="comprehensive",
        enterprise=moving,
        opened_on=D(2010, 1, 1),
    )
    contract = contract_offer(
        actor=None,
        kind=ContractKind.WAGE,
        enterprises=[moving],
        org_unit=city.zhongshan,
        title="中山测试工资合同",
    )
    enterprise_update(
        actor=None, enterprise=moving, data={"org_unit": city.street_b}, effective_on=D(2020, 1, 1)
    )

    viewer = client_for(make_staff, city.zhongshan, "viewer", "fuzz_viewer")
    response = viewer.get(f"/api/v1/persons/{person.pk}/")
    assert response.status_code == 200
    body = response.json()
    outside, inside = body["employments"]
    assert outside == {
        **outside,
        "id": None,
        "enterprise": None,
        "enterprise_name": "其他单位",
        "in_scope": False,
    }
    assert outside["valid_from"] == "2001-01-01" and outside["valid_to"] == "2009-12-31"
    assert (
        inside["id"] == later.pk
        and inside["enterprise"] == t.zs_enterprise.credit_code
        and inside["in_scope"]
    )
    left, current = body["memberships"]
    assert left == {
        **left,
        "id": None,
        "union": None,
        "union_name": "其他单位",
        "member_number": None,
        "in_scope": False,
    }
    assert left["end_reason"] == "withdrew" and current["union"] == t.zs_union.pk and current["in_scope"]
    # What is withheld answers 404 on its own, and appears nowhere in the answer.
    assert viewer.get(f"/api/v1/employments/{earlier.pk}/").status_code == 404
    assert viewer.get(f"/api/v1/memberships/{xg_membership.pk}/").status_code == 404
    coverages = viewer.get(f"/api/v1/unions/{t.zs_union.pk}/coverages/").json()["results"]
    assert sorted((c["enterprise_name"], c["in_scope"]) for c in coverages) == [
        ("中山测试机械公司", True),
        ("其他单位", False),
    ]
    assert viewer.get(f"/api/v1/stations/{station.pk}/").json()["enterprise_name"] == "其他单位"
    assert viewer.get(f"/api/v1/contracts/{contract.pk}/").json()["enterprises"] == [None]
    assert viewer.get("/api/v1/contracts/").json()["results"][0]["enterprises"] == [None]
    answers = "".join(
        viewer.get(url).content.decode()
        for url in (
            f"/api/v1/persons/{person.pk}/",
            f"/api/v1/unions/{t.zs_union.pk}/coverages/",
            f"/api/v1/stations/{station.pk}/",
            f"/api/v1/contracts/{contract.pk}/",
        )
    )
    for marker in (
        t.xg_enterprise.name,
        t.xg_enterprise.credit_code,
        t.xg_union.name,
        "XGTEST811",
        moving.name,
    ):
        assert marker not in answers, marker

    # The city sees every one of them.
    admin = client_for(make_staff, city.city, "city_admin", "fuzz_admin")
    body = admin.get(f"/api/v1/persons/{person.pk}/").json()
    assert [e["enterprise_name"] for e in body["employments"]] == [t.xg_enterprise.name, t.zs_enterprise.name]
    assert (
        all(m["in_scope"] for m in body["memberships"])
        and body["memberships"][0]["member_number"] == "XGTEST811"
    )
    assert admin.get(f"/api/v1/contracts/{contract.pk}/").json()["enterprises"] == [moving.credit_code]


@pytest.mark.django_db
def test_a_code_with_a_nul_character_is_a_400_not_a_server_error(city, make_staff):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(make_staff("city_admin_nul", city.city, "city_admin"))
    answer = client.post(
        "/api/v1/warnings/",
        {"enterprise": "\x1e:\x00\x1d", "category": "other", "discovered_on": "2024-01-01"},
        format="json",
        secure=True,
    )
    assert answer.status_code == 400 and "enterprise" in str(answer.json())
