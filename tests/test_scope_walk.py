"""The guard that no page or endpoint forgets scope.

Every URL pattern of the project is enumerated (nested includes too). A pattern that names a record (pk, id,
or another key) is called for a record of 中山区:

- by a 西岗区 operator and a 西岗区 unit admin (every capability), with GET, POST, PUT, PATCH and DELETE: the
  answer must be exactly the answer for a record that does not exist, and one of 404 (not found), 403
  (refused before any lookup) or 405 (method not served). GET must be 404 unless the pattern serves no GET;
- by a 中山区 viewer with POST, PUT, PATCH and DELETE: 403, 404 or 405.
Nothing may change: not the record's row, not the audit trail.

A pattern without a record key is a list (or a form, a root): the 西岗区 users' GET must not show the names
or codes of the 中山区 records, with or without ``?unit=`` pointing into 中山区.

A new pattern whose record model cannot be worked out fails here with instructions: classify it below.
"""

from __future__ import annotations

import importlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from safetynet.accounts.models import User
from safetynet.cases.models import DeadlineRule
from safetynet.core.models import AuditEntry
from safetynet.members.models import MemberCard, Membership, Person
from safetynet.orgs.models import (
    Enterprise,
    EnterpriseHeadcount,
    EnterpriseLocation,
    GrassrootsUnion,
    OrgUnit,
    OrgUnitVersion,
    UnionCoverage,
)
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code
from safetynet.reporting.models import ReportForm

# Patterns that are not records of a unit: the admin (has its own scoping), language switch, static files,
# the schema and docs, the health probe, signing in and out.
SKIPPED_PREFIXES = (
    "admin/",
    "i18n/",
    "static/",
    "media/",
    "api/schema/",
    "api/docs/",
    "healthz",
    "favicon.ico",
    "accounts/login/",
    "accounts/logout/",
    "__debug__/",
)

# Function views (and class views without ``model``/``queryset``): the model their ``pk`` names, by URL name.
MODEL_BY_URL_NAME: dict[str, type[Model]] = {
    "accounts:staff_set_active": User,
    "members:person_detail": Person,
    "members:person_reveal": Person,
    "members:union_roster": GrassrootsUnion,
    "members:membership_join": GrassrootsUnion,
    "members:union_roster_export": GrassrootsUnion,
    "members:membership_leave": Membership,
    "members:membership_transfer": Membership,
    "members:enterprise_roster_export": Enterprise,
    "members:card_detail": MemberCard,
    "members:card_change": MemberCard,
}

# City-wide settings, not records of a unit: every staff member reads them on a list page, only a city-level
# administrator changes them. Their record routes answer 403 below the city before any lookup (never "as if
# absent": the list shows them to everyone), so they are walked by test_city_wide_settings_refuse_below_the_city.
CITY_WIDE_URL_NAMES: dict[str, type[Model]] = {
    "cases:deadline_rule_edit": DeadlineRule,
    "cases:deadline_rule_delete": DeadlineRule,
    "reporting:form_edit": ReportForm,
}
# How the walk makes one record of each city-wide model.
CITY_WIDE_RECORDS: dict[type[Model], Any] = {
    DeadlineRule: lambda: DeadlineRule.objects.create(level=3, days=10),
    ReportForm: lambda: ReportForm.objects.create(
        code="WALK01", name="走查报表", period_kind="month", level=3, due_day=5
    ),
}

# Keys other than pk/id: which model's record they name. An int key ``<thing>_pk`` / ``<thing>_id`` must be here.
MODEL_BY_KWARG: dict[str, type[Model]] = {
    "coverage_pk": UnionCoverage,
    "union_pk": GrassrootsUnion,
    "enterprise_pk": Enterprise,
    "unit_pk": OrgUnit,
    "user_pk": User,
    "staff_pk": User,
}

# String keys: (model, the attribute the URL carries).
STRING_KEYS: dict[str, tuple[type[Model], str]] = {
    "code": (OrgUnit, "code"),
    "credit_code": (Enterprise, "credit_code"),
}

# Values for keys that are not records.
PLAIN_KWARGS = {"format": "json", "action": "lost", "kind": "enterprises"}

MISSING_INT = 987654321
WRITE_METHODS = ("post", "put", "patch", "delete")
FORM_BODY = {
    "name": "走查改名",
    "code": "210202009",
    "chair_name": "走查",
    "headcount": "1",
    "active": "0",
    "valid_from": "2010-01-01",
    "valid_to": "2030-01-01",
    "closed_on": "2030-01-01",
    "effective_on": "2030-01-01",
    "dissolved_on": "2030-01-01",
    "deregistered_on": "2030-01-01",
    "role": "viewer",
    "is_active": "false",
}


def walk_record_modules() -> list[Any]:
    """Each app's ``tests/helpers.py`` that takes part in the walk (defines ``scope_walk_records``).

    Such a module may also extend the tables above, so a new app never edits this file:
    ``SCOPE_WALK_SKIPPED_PREFIXES`` (a tuple; e.g. the workers' platform, walked by its own test),
    ``SCOPE_WALK_MODEL_BY_URL_NAME``, ``SCOPE_WALK_MODEL_BY_KWARG``, ``SCOPE_WALK_STRING_KEYS``,
    ``SCOPE_WALK_CITY_WIDE_URL_NAMES`` and ``SCOPE_WALK_CITY_WIDE_RECORDS`` (dicts like the ones above).
    """
    modules = []
    for config in apps.get_app_configs():
        if not config.name.startswith("safetynet."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.tests.helpers")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.tests.helpers":
                raise
            continue
        if hasattr(module, "scope_walk_records"):
            modules.append(module)
    return modules


for _module in walk_record_modules():
    SKIPPED_PREFIXES += tuple(getattr(_module, "SCOPE_WALK_SKIPPED_PREFIXES", ()))
    MODEL_BY_URL_NAME.update(getattr(_module, "SCOPE_WALK_MODEL_BY_URL_NAME", {}))
    MODEL_BY_KWARG.update(getattr(_module, "SCOPE_WALK_MODEL_BY_KWARG", {}))
    STRING_KEYS.update(getattr(_module, "SCOPE_WALK_STRING_KEYS", {}))
    CITY_WIDE_URL_NAMES.update(getattr(_module, "SCOPE_WALK_CITY_WIDE_URL_NAMES", {}))
    CITY_WIDE_RECORDS.update(getattr(_module, "SCOPE_WALK_CITY_WIDE_RECORDS", {}))


@dataclass
class Route:
    route: str
    name: str | None
    callback: Any
    kwargs: tuple[str, ...]
    problems: list[str] = field(default_factory=list)
    model: type[Model] | None = None

    @property
    def plain_route(self) -> str:
        return re.sub(r"(^|/)\^", r"\1", self.route).replace("$", "")

    @property
    def record_kwargs(self) -> tuple[str, ...]:
        return tuple(k for k in self.kwargs if k not in PLAIN_KWARGS)

    def __str__(self) -> str:
        return f"{self.name or '(unnamed)'} [{self.plain_route}]"


def _walk(
    patterns: list[Any], prefix: str = "", namespaces: tuple[str, ...] = (), kwargs: tuple[str, ...] = ()
) -> Iterator[Route]:
    for entry in patterns:
        names = tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            ns = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns, kwargs + names)
        elif isinstance(entry, URLPattern):
            name = ":".join((*namespaces, entry.name)) if entry.name else None
            yield Route(
                route=prefix + str(entry.pattern), name=name, callback=entry.callback, kwargs=kwargs + names
            )


def _view_model(route: Route) -> type[Model] | None:
    if route.name in MODEL_BY_URL_NAME:
        return MODEL_BY_URL_NAME[route.name]
    for view_class in (getattr(route.callback, "cls", None), getattr(route.callback, "view_class", None)):
        if view_class is None:
            continue
        model = getattr(view_class, "model", None)
        if model is not None:
            return model
        queryset = getattr(view_class, "queryset", None)
        if queryset is not None:
            return queryset.model
    return None


def _classify(route: Route) -> Route:
    if route.name is None:
        route.problems.append("the pattern has no name, so it cannot be reversed: give it a name")
        return route
    for key in route.record_kwargs:
        if key in ("pk", "id"):
            route.model = _view_model(route)
            if route.model is None:
                route.problems.append(
                    f"cannot tell which model '{key}' names: give the view a `model` or `queryset`, "
                    "or add the URL name to MODEL_BY_URL_NAME in tests/test_scope_walk.py"
                )
        elif key not in MODEL_BY_KWARG and key not in STRING_KEYS:
            route.problems.append(f"unknown URL key '{key}': add it to MODEL_BY_KWARG or STRING_KEYS")
    return route


def _project_routes() -> list[Route]:
    routes = []
    for route in _walk(get_resolver().url_patterns):
        if route.plain_route.startswith(SKIPPED_PREFIXES):
            continue
        routes.append(_classify(route))
    return routes


ROUTES = _project_routes()
RECORD_ROUTES = [
    r for r in ROUTES if r.record_kwargs and not r.problems and r.name not in CITY_WIDE_URL_NAMES
]
CITY_WIDE_ROUTES = [r for r in ROUTES if r.name in CITY_WIDE_URL_NAMES]
LIST_ROUTES = [r for r in ROUTES if not r.record_kwargs and not r.problems]


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # Plain http and unhashed static files: production settings would redirect and need collectstatic.
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@dataclass
class Zhongshan:
    records: dict[type[Model], Model]
    markers: list[str]
    street: OrgUnit


@pytest.fixture
def zhongshan(city, make_staff) -> Zhongshan:
    enterprise = EnterpriseFactory(
        name="中山走查企业有限公司", credit_code=make_credit_code(901), org_unit=city.community_a
    )
    union = UnionFactory(name="中山走查工会", org_unit=city.community_a, enterprises=[enterprise])
    staff = make_staff("zs_walk_staff", city.zhongshan, "operator")
    # Something of 西岗区 too, so lists are not empty.
    xg_enterprise = EnterpriseFactory(
        name="西岗走查企业有限公司", credit_code=make_credit_code(902, "210203"), org_unit=city.street_b
    )
    UnionFactory(name="西岗走查工会", org_unit=city.street_b, enterprises=[xg_enterprise])
    records: dict[type[Model], Model] = {
        OrgUnit: city.street_a,
        OrgUnitVersion: OrgUnitVersion.objects.filter(unit=city.street_a).first(),
        Enterprise: enterprise,
        EnterpriseLocation: enterprise.locations.first(),
        EnterpriseHeadcount: enterprise.headcounts.first(),
        GrassrootsUnion: union,
        UnionCoverage: union.coverages.get(),
        User: staff,
        AuditEntry: AuditEntry.objects.filter(entity="orgs.enterprise", object_id=str(enterprise.pk)).first(),
    }
    markers = [
        enterprise.name,
        enterprise.credit_code,
        union.name,
        city.street_a.name,
        city.community_a.name,
        staff.username,
    ]
    # Each app built on the registry adds its 中山区 records through tests/helpers.py: scope_walk_records.
    for module in walk_record_modules():
        app_records, app_markers = module.scope_walk_records(enterprise)
        records.update(app_records)
        markers += app_markers
    return Zhongshan(records=records, markers=markers, street=city.street_a)


@pytest.fixture
def people(city, make_staff) -> dict[str, Client]:
    clients = {}
    for username, unit, role in (
        ("xg_operator", city.xigang, "operator"),
        ("xg_admin", city.xigang, "unit_admin"),
        ("zs_viewer", city.zhongshan, "viewer"),
        ("zs_admin", city.zhongshan, "unit_admin"),
    ):
        client = Client()
        client.force_login(make_staff(username, unit, role))
        clients[username] = client
    return clients


def _url(route: Route, zhongshan: Zhongshan, *, missing: bool = False) -> tuple[str, Model | None]:
    """The URL of the 中山区 record (or of a record that does not exist) and the record itself."""
    values: dict[str, Any] = {}
    main: Model | None = None
    for key in route.kwargs:
        if key in PLAIN_KWARGS:
            values[key] = PLAIN_KWARGS[key]
            continue
        if key in STRING_KEYS:
            model, attribute = STRING_KEYS[key]
        else:
            model, attribute = (route.model if key in ("pk", "id") else MODEL_BY_KWARG[key]), "pk"
        if model not in zhongshan.records:
            pytest.fail(
                f"{route}: no 中山区 record of {model._meta.label} to call it with; add one to the "
                "`zhongshan` fixture in tests/test_scope_walk.py"
            )
        record = zhongshan.records[model]
        value = getattr(record, attribute)
        if main is None:
            main = record
            if missing:
                value = MISSING_INT if attribute == "pk" else "000000000000"
        values[key] = value
    url = reverse(route.name, kwargs=values)
    assert resolve(url).func is route.callback, f"{route}: its name reverses to another pattern ({url})"
    return url, main


def _call(client: Client, method: str, url: str) -> int | str:
    try:
        if method == "get":
            response = client.get(url)
        elif method == "post":
            response = client.post(url, FORM_BODY)
        elif method == "delete":
            response = client.delete(url)
        else:
            response = getattr(client, method)(url, json.dumps(FORM_BODY), content_type="application/json")
    except Exception as exc:  # a crash is a finding like any other
        return f"raised {exc!r}"
    return response.status_code


def _state(record: Model | None) -> tuple[Any, int]:
    row = type(record).objects.filter(pk=record.pk).values().first() if record is not None else None
    return row, AuditEntry.objects.count()


def test_every_url_pattern_is_classified():
    problems = [f"{route}: {problem}" for route in ROUTES for problem in route.problems]
    assert not problems, "URL patterns the scope walk cannot check:\n" + "\n".join(problems)
    assert RECORD_ROUTES, "the walk found no pattern that names a record"


def test_the_walk_sees_the_registry_api():
    names = {r.name for r in ROUTES}
    assert {
        "enterprise-detail",
        "union-detail",
        "orgunit-detail",
        "union-coverages",
        "enterprise-list",
    } <= names


@pytest.mark.parametrize("route", RECORD_ROUTES, ids=str)
def test_record_of_another_unit_is_as_if_absent(route, zhongshan, people):
    url, record = _url(route, zhongshan)
    missing_url, _ = _url(route, zhongshan, missing=True)
    before = _state(record)
    failures = []
    for username in ("xg_operator", "xg_admin"):
        client = people[username]
        for method in ("get", *WRITE_METHODS):
            answer, absent = _call(client, method, url), _call(client, method, missing_url)
            if answer != absent or answer not in (403, 404, 405):
                failures.append(f"{username} {method.upper()} {url}: {answer} (a missing record: {absent})")
            elif method == "get" and username == "xg_admin" and answer != 404 and absent != 405:
                failures.append(f"{username} GET {url}: {answer}, expected 404")
    # The walk itself: the URL must really name the record, or every answer above would be a vacuous 404.
    own, absent = _call(people["zs_admin"], "get", url), _call(people["zs_admin"], "get", missing_url)
    if absent != 405 and own == 404:
        failures.append(f"zs_admin GET {url}: 404 for its own record: the walk builds a wrong URL")
    assert not failures, "\n".join(failures)
    assert _state(record) == before, f"{route}: a 西岗区 user changed a 中山区 record or the audit trail"


@pytest.mark.parametrize("route", RECORD_ROUTES, ids=str)
def test_viewer_cannot_write(route, zhongshan, people):
    url, record = _url(route, zhongshan)
    before = _state(record)
    failures = []
    for method in WRITE_METHODS:
        answer = _call(people["zs_viewer"], method, url)
        if answer not in (403, 404, 405):
            failures.append(f"zs_viewer {method.upper()} {url}: {answer}")
    assert not failures, "\n".join(failures)
    assert _state(record) == before, f"{route}: a viewer changed a record or the audit trail"


@pytest.mark.parametrize("route", CITY_WIDE_ROUTES, ids=str)
def test_city_wide_settings_refuse_below_the_city(route, people):
    record = CITY_WIDE_RECORDS[CITY_WIDE_URL_NAMES[route.name]]()
    url = reverse(route.name, kwargs={"pk": record.pk})
    before = _state(record)
    failures = []
    for username in ("xg_operator", "xg_admin", "zs_viewer", "zs_admin"):
        for method in ("get", *WRITE_METHODS):
            answer = _call(people[username], method, url)
            if answer not in (403, 405):
                failures.append(f"{username} {method.upper()} {url}: {answer}")
    assert not failures, "\n".join(failures)
    assert _state(record) == before, f"{route}: a user below the city changed a city-wide setting"


def _text(response: Any) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    content_type = response.get("Content-Type", "")
    if "spreadsheetml" in content_type:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(
            str(cell)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        )
    return content.decode("utf-8", errors="replace")


def test_the_walk_would_see_a_leak(zhongshan, people):
    """The markers are what lists show: a 中山区 user sees them where a 西岗区 user must not."""
    response = people["zs_viewer"].get(reverse("enterprise-list"))
    assert all(marker in _text(response) for marker in zhongshan.markers[:2])


@pytest.mark.parametrize("route", LIST_ROUTES, ids=str)
def test_list_shows_nothing_of_another_unit(route, zhongshan, people):
    url = reverse(route.name, kwargs={k: PLAIN_KWARGS[k] for k in route.kwargs})
    failures = []
    for username in ("xg_operator", "xg_admin"):
        for query in ("", f"?unit={zhongshan.street.pk}", f"?unit={zhongshan.street.code}"):
            try:
                response = people[username].get(url + query)
            except Exception as exc:
                failures.append(f"{username} GET {url}{query}: raised {exc!r}")
                continue
            if response.status_code != 200:
                continue
            text = _text(response)
            shown = [m for m in zhongshan.markers if m in text]
            if shown:
                failures.append(f"{username} GET {url}{query} shows 中山区 records: {shown}")
    assert not failures, "\n".join(failures)
