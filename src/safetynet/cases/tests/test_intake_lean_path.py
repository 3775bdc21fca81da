"""Intake's lean path (issue 18, point 4): the answer built directly, the token and the enterprise read by
statements written once per process, the deadline rules read plainly, and on PostgreSQL the rows written in two
statements. Each is held equal here to what DRF and the ORM give, on whichever database the tests run."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from safetynet.cases import services
from safetynet.cases.deadlines import DeadlineRules, Period
from safetynet.cases.models import Case, CaseKind, CaseStep, DayKind, DeadlineRule, Notification
from safetynet.cases.selectors import enterprise_with_unit
from safetynet.cases.serializers import CaseCreateSerializer, CaseSerializer
from safetynet.core.authentication import TokenWithUnitAuthentication
from safetynet.core.models import AuditEntry
from safetynet.orgs.models import Enterprise, OrgLevel
from safetynet.orgs.tests.factories import make_credit_code

from .conftest import T0

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the two-statement intake is PostgreSQL's"
)


def intake(setup, *, workers: int = 1, **extra) -> Case:
    values = {
        "actor": setup.city_officer,
        "channel": "hotline",
        "category": "wage_arrears",
        "description": "三个月工资未发",
        "enterprise": setup.community_enterprise,
        "workers_involved": workers,
        "claim_amount": "12000.00",
        "caller_phone": "13912345678",
        "now": T0,
    }
    values.update(extra)
    return services.case_intake(**values)


def columns(instance, *leave_out: str) -> dict:
    return {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if field.attname not in leave_out
    }


def read_back(case: Case) -> Case:
    return Case.objects.select_related("unit", "origin_unit", "enterprise", "leader", "handler").get(
        pk=case.pk
    )


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


CALL = {
    "channel": "hotline",
    "category": "wage_arrears",
    "workers_involved": 1,
    "claim_amount": "12000.00",
    "description": "三个月工资未发",
    "caller_phone": "13912345678",
}


# --- the answer ---------------------------------------------------------------------------------------


def test_the_answer_is_what_drf_renders_field_by_field(setup):
    individual = intake(setup)
    collective = intake(setup, workers=40)
    unlisted = intake(
        setup,
        enterprise=None,
        enterprise_name="无名小作坊",
        enterprise_address="某街 1 号",
        unit=setup.city.street_a,
    )
    hazard = intake(setup, kind=CaseKind.HAZARD, category="safety", anonymous=True)
    collective = services.case_assign_leader(
        actor=setup.district_officer, case=collective, version=collective.version, leader=setup.district_head
    )
    collective = services.case_accept(
        actor=setup.district_officer, case=collective, version=collective.version
    )
    accepted = services.case_accept(actor=setup.community_officer, case=intake(setup), version=1, now=T0)
    services.case_resolve(
        actor=setup.community_officer, case=accepted, version=accepted.version, kind="withdrawn", now=T0
    )
    closed = read_back(accepted)
    renderer = JSONRenderer()
    for case in (individual, unlisted, hazard, collective, closed):
        for instance in (case, read_back(case)):
            serializer = CaseSerializer(instance)
            ours = serializer.data
            theirs = super(CaseSerializer, serializer).to_representation(instance)
            assert list(ours) == list(theirs) == CaseSerializer.Meta.fields
            assert ours == theirs
            assert renderer.render(ours) == renderer.render(theirs)
    assert read_back(collective).leader == setup.district_head and read_back(closed).closed_at is not None


def test_the_intake_answer_equals_the_case_read_back(setup):
    client = token_client(setup.city_officer)
    for workers, code in ((1, make_credit_code(101)), (12, make_credit_code(102))):
        created = client.post(
            "/api/v1/cases/", {**CALL, "workers_involved": workers, "enterprise": code}, "json"
        )
        assert created.status_code == 201, created.content
        again = client.get(f"/api/v1/cases/{created.json()['id']}/")
        assert created.json() == again.json()
        listed = client.get("/api/v1/cases/").json()["results"]
        assert next(row for row in listed if row["id"] == created.json()["id"]) == created.json()


# --- what is read -----------------------------------------------------------------------------------


def test_the_token_check_reads_what_the_orm_reads(setup, make_staff, django_assert_num_queries):
    from safetynet.accounts.models import User

    superuser = User.objects.create_superuser(username="root_without_unit", password="Safetynet-test-1")
    check = TokenWithUnitAuthentication()
    for user in (setup.city_officer, setup.community_officer, superuser):
        token = Token.objects.create(user=user)
        with django_assert_num_queries(1):
            found_user, found_token = check.authenticate_credentials(token.key)
            unit = found_user.org_unit  # loaded with the token: no second query
        expected = Token.objects.select_related("user__org_unit").get(key=token.key)
        assert columns(found_token) == columns(expected)
        assert columns(found_user) == columns(expected.user)
        assert (columns(unit) if unit else None) == (columns(expected.user.org_unit) if unit else None)
        assert unit == expected.user.org_unit and found_token.user is found_user
    with pytest.raises(AuthenticationFailed):
        check.authenticate_credentials("0" * 40)
    setup.viewer.is_active = False
    setup.viewer.save()
    inactive = Token.objects.create(user=setup.viewer)
    with pytest.raises(AuthenticationFailed):
        check.authenticate_credentials(inactive.key)


def test_the_enterprise_is_read_with_its_unit_as_the_orm_reads_it(setup):
    found = enterprise_with_unit(make_credit_code(101))
    expected = Enterprise.objects.select_related("org_unit").get(credit_code=make_credit_code(101))
    assert columns(found) == columns(expected)
    assert columns(found.org_unit) == columns(expected.org_unit)
    assert enterprise_with_unit("91210200MA0000000X") is None


def test_an_enterprise_is_named_by_its_code_within_the_callers_scope_only(setup):
    client = token_client(setup.district_officer)
    outside = client.post("/api/v1/cases/", {**CALL, "enterprise": make_credit_code(103, "210203")}, "json")
    unknown = client.post("/api/v1/cases/", {**CALL, "enterprise": "91210200MA0000000X"}, "json")
    assert outside.status_code == unknown.status_code == 400
    assert outside.json()["field"] == unknown.json()["field"] == "enterprise"
    assert outside.json()["detail"].replace(make_credit_code(103, "210203"), "…") == unknown.json()[
        "detail"
    ].replace("91210200MA0000000X", "…")
    typed = client.post(
        "/api/v1/cases/", {**CALL, "enterprise": f" {make_credit_code(101).lower()} "}, "json"
    )
    assert typed.status_code == 201 and typed.json()["enterprise"] == make_credit_code(101)
    viewer = token_client(setup.viewer).post(
        "/api/v1/cases/", {**CALL, "enterprise": make_credit_code(101)}, "json"
    )
    assert viewer.status_code == 403


def test_each_intake_serializer_has_fields_of_its_own(setup):
    first = CaseCreateSerializer(data={**CALL, "channel": "fax"})
    second = CaseCreateSerializer(data={**CALL, "workers_involved": 0})
    assert not first.is_valid() and not second.is_valid()
    assert set(first.errors) == {"channel"} and set(second.errors) == {"workers_involved"}
    for name, field in first.fields.items():
        assert field is not second.fields[name]
        assert field.parent is first and second.fields[name].parent is second
    assert CaseCreateSerializer().fields["enterprise"].queryset.model is Enterprise


def test_deadline_rules_are_read_as_the_table_holds_them(db):
    DeadlineRule.objects.create(level=OrgLevel.COMMUNITY, days=10, day_kind=DayKind.CALENDAR)
    DeadlineRule.objects.create(
        level=OrgLevel.STREET,
        category="wage_arrears",
        difficulty="difficult",
        days=5,
        day_kind=DayKind.WORKING,
    )
    assert DeadlineRules().rules == {
        (level, category, difficulty): Period(days, day_kind)
        for level, category, difficulty, days, day_kind in DeadlineRule.objects.values_list(
            "level", "category", "difficulty", "days", "day_kind"
        )
    }


def test_the_audit_row_names_choices_in_chinese_whatever_the_language(setup):
    with translation.override("en"):
        case = intake(setup)
    changes = AuditEntry.objects.get(entity="cases.case", object_id=str(case.pk)).changes
    assert changes["channel"] == [None, "12351热线"] and changes["category"] == [None, "拖欠工资"]
    assert changes["number"] == [None, case.number]


# --- what is written ------------------------------------------------------------------------------------


def written(case: Case) -> dict:
    """Every row an intake wrote, with the new case's number and id taken out of them."""

    def plain(value):
        if isinstance(value, str):
            return value.replace(case.number, "<number>").replace(f"/cases/{case.pk}/", "/cases/<id>/")
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        return value

    audit = AuditEntry.objects.get(entity="cases.case", object_id=str(case.pk))
    return {
        # The phone's ciphertext differs on every encryption (a random nonce): its clear text is compared.
        "case": columns(Case.objects.get(pk=case.pk), "id", "number", "caller_phone_encrypted"),
        "phone": services.caller_phone(Case.objects.get(pk=case.pk)),
        "steps": [columns(step, "id", "case_id") for step in CaseStep.objects.filter(case=case)],
        "audit": plain(columns(audit, "id", "at", "object_id"))
        | {"object_repr": audit.object_repr == case.number},
        "notifications": [
            plain(columns(row, "id", "case_id"))
            for row in Notification.objects.filter(case=case).order_by("pk")
        ],
        "mail": [plain((message.subject, message.body, message.to)) for message in mail.outbox],
    }


@postgresql_only
@pytest.mark.parametrize("workers", [1, 40])
def test_on_postgresql_the_rows_written_at_once_are_the_orms(
    setup, make_staff, monkeypatch, django_capture_on_commit_callbacks, workers
):
    # Recipients of both notices (the handlers where the case starts, the city's heads), with and without an
    # email address; an inactive handler and a viewer are told nothing.
    gone = make_staff("community_gone", setup.city.community_a, "operator")
    gone.is_active = False
    for user, email in (
        (setup.community_officer, "community@example.cn"),
        (setup.city_admin, "city@example.cn"),
        (make_staff("district_officer_2", setup.city.zhongshan, "operator"), "district@example.cn"),
        (gone, "gone@example.cn"),
    ):
        user.email = email
        user.save()
    make_staff("community_officer_2", setup.city.community_a, "operator")
    make_staff("community_viewer", setup.city.community_a, "viewer")
    rows = {}
    for at_once in (True, False):
        monkeypatch.setattr(services, "WRITE_INTAKE_AT_ONCE", at_once)
        mail.outbox = []
        with django_capture_on_commit_callbacks(execute=True):
            case = intake(setup, workers=workers)
        rows[at_once] = written(case)
        answer = CaseSerializer(case).data
        assert answer == CaseSerializer(read_back(case)).data
    assert rows[True] == rows[False]
    assert rows[True]["steps"] and rows[True]["notifications"] and rows[True]["mail"]
    assert len(rows[True]["notifications"]) == (4 if workers >= 10 else 2)


@postgresql_only
def test_on_postgresql_an_intake_over_http_is_six_statements(setup):
    client = token_client(setup.city_officer)
    client.post("/api/v1/cases/", {**CALL, "enterprise": make_credit_code(101)}, "json")  # counter row made
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/cases/", {**CALL, "enterprise": make_credit_code(101)}, "json")
    assert response.status_code == 201
    # Token, enterprise, case number, deadline rules, the case, its step + audit row + notifications (the
    # test's own transaction adds a savepoint around the service's).
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 6, statements


@postgresql_only
def test_on_postgresql_the_hot_statements_are_prepared_once_per_connection(setup, settings):
    def prepared() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return {row[0] for row in cursor.fetchall()}

    before = prepared()
    intake(setup)
    intake(setup)
    made = prepared() - before
    assert any(statement.startswith('INSERT INTO "cases_case"') for statement in made)
    assert any(statement.startswith('UPDATE "cases_casenumbercounter"') for statement in made)
    assert len(made) == 4  # the case number, the deadline rules, the case, its step, audit row and notices
    settings.SAFETYNET_PREPARED_STATEMENTS = False
    intake(setup, workers=40)  # a statement of two notices, not yet prepared: it is not
    assert prepared() - before == made
