"""The registry pages in English when the language cookie says so, and still Chinese by default."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from safetynet.core.models import AuditEntry
from safetynet.orgs.models import Enterprise
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code

PASSWORD = "Safetynet-test-1"


@pytest.fixture(autouse=True)
def chinese_after_each_test() -> Iterator[None]:
    # The language middleware activates the cookie's language for the thread; later tests expect Chinese.
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def enterprise(city) -> Enterprise:
    covered = EnterpriseFactory(
        name="青泥洼已建会公司",
        org_unit=city.street_a,
        headcount=120,
        ownership="private",
        credit_code=make_credit_code(101),
    )
    UnionFactory(name="青泥洼已建会公司工会", org_unit=city.street_a, enterprises=[covered])
    return covered


@pytest.fixture
def officer(client, city, make_staff):
    user = make_staff("zs_operator", city.zhongshan, "operator")
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def english(officer):
    officer.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return officer


def test_enterprise_list_in_english(english, enterprise):
    html = english.get(reverse("orgs:enterprise_list")).content.decode()
    for label in (
        "Enterprise register",
        "Unified social credit code",
        "Division",
        "Ownership type",
        "Employees",
    ):
        assert label in html
    assert "Unionised" in html  # the badge
    assert "Private" in html  # the ownership choice label
    assert "All divisions" in html  # the filter form's empty choice
    assert "统一社会信用代码" not in html
    # Data stays as entered.
    assert "青泥洼已建会公司" in html


def test_enterprise_list_in_chinese_by_default(officer, enterprise):
    html = officer.get(reverse("orgs:enterprise_list")).content.decode()
    assert "统一社会信用代码" in html and "企业名录" in html and "私营" in html
    assert "Unified social credit code" not in html


def test_enterprise_detail_tabs_and_facts_in_english(english, enterprise):
    html = english.get(reverse("orgs:enterprise_detail", args=[enterprise.pk])).content.decode()
    for label in (
        "Details",
        "Unions",
        "Workers &amp; members",
        "Change log",
        "Above designated size",
        "Operating",
    ):
        assert label in html
    assert "Private (Non-public)" in html


def test_enterprise_form_labels_and_help_in_english(english, city):
    html = english.get(reverse("orgs:enterprise_create")).content.decode()
    for label in ("Unified social credit code", "Migrant workers", "Empty counts as 0.", "Save", "Cancel"):
        assert label in html
    assert "— Please choose —" in html


def test_form_errors_stay_chinese_in_english(english, city):
    # Validation messages are Chinese by design (they name the field in Chinese); they must not mix languages.
    html = english.post(reverse("orgs:enterprise_create"), {"name": ""}).content.decode()
    assert "请填写“企业名称”。" in html


def test_operator_editing_a_unit_gets_an_english_403(english, enterprise):
    response = english.post(
        reverse("orgs:unit_edit", args=[enterprise.org_unit.pk]),
        {"name": "青泥洼桥街道", "code": "210202001"},
        follow=True,
    )
    # The operator may not edit units: the page says so in English.
    assert response.status_code == 403
    assert "Your role does not allow this action." in response.content.decode()


def test_edit_saved_message_in_english(english, enterprise):
    data = {
        "credit_code": enterprise.credit_code,
        "name": enterprise.name,
        "org_unit": enterprise.org_unit_id,
        "ownership": enterprise.ownership,
        "headcount": "130",
        "migrant_headcount": "0",
        "dispatched_headcount": "0",
        "founded_on": enterprise.founded_on.isoformat(),
    }
    response = english.post(reverse("orgs:enterprise_edit", args=[enterprise.pk]), data, follow=True)
    assert response.status_code == 200
    assert "Enterprise saved." in response.content.decode()
    assert AuditEntry.objects.filter(entity="orgs.enterprise", action="update").exists()


def test_tree_and_union_pages_in_english(english, city, enterprise):
    tree = english.get(reverse("orgs:tree") + f"?unit={city.zhongshan.pk}").content.decode()
    assert "Unit details" in tree and "Units below" in tree and "Union rate" in tree
    unions = english.get(reverse("orgs:union_list")).content.decode()
    assert "Union name" in unions and "Covered enterprises" in unions and "Single" in unions
