"""The top-bar unit picker (``?unit=<pk>``) narrows the queue, the city board and the hazard list to the
cases that started at that unit or below; a unit outside the user's scope is a 404."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from safetynet.cases import selectors, services
from safetynet.orgs.models import OrgLevel
from safetynet.orgs.services import orgunit_create
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code

from .test_services import intake


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def two_streets(setup):
    """Two collective cases at 中山区 (one from each street), and a hazard report from each street."""
    other_street = orgunit_create(
        actor=None, code="210202002", name="桃源街道", level=OrgLevel.STREET, parent=setup.city.zhongshan
    )
    other_enterprise = EnterpriseFactory(
        org_unit=other_street, credit_code=make_credit_code(150), name="桃源造船厂"
    )
    here = intake(setup, workers=12)
    there = intake(setup, enterprise=other_enterprise, workers=15)
    hazard_here = intake(setup, kind="hazard", category="safety")
    hazard_there = intake(setup, enterprise=other_enterprise, kind="hazard", category="safety")
    return {
        "street": setup.city.street_a,
        "other_street": other_street,
        "here": here,
        "there": there,
        "hazard_here": hazard_here,
        "hazard_there": hazard_there,
    }


def test_the_queue_narrows_to_the_picked_unit(setup, two_streets):
    client = client_for(setup.district_officer)
    everything = client.get(reverse("cases:queue") + "?tab=all").content.decode()
    assert two_streets["here"].number in everything and two_streets["there"].number in everything
    narrowed = client.get(reverse("cases:queue"), {"tab": "all", "unit": two_streets["street"].pk})
    text = narrowed.content.decode()
    assert narrowed.status_code == 200
    assert two_streets["here"].number in text and two_streets["there"].number not in text
    assert "只显示属地在 青泥洼桥街道 及其下级的案件" in text
    # The tabs keep the picked unit.
    assert f"unit={two_streets['street'].pk}" in text and "tab=new" in text
    # Picking one's own unit is the same as picking nothing.
    own = client.get(reverse("cases:queue"), {"tab": "all", "unit": setup.city.zhongshan.pk}).content.decode()
    assert two_streets["there"].number in own and "只显示属地在" not in own


def test_the_queue_counts_follow_the_picked_unit(setup, two_streets):
    counts = selectors.case_queue_counts(setup.district_officer)
    narrowed = selectors.case_queue_counts(setup.district_officer, within=two_streets["other_street"])
    assert counts["all"] == 2 and narrowed["all"] == 1 and narrowed["new"] == 1


def test_a_unit_outside_the_scope_is_404_everywhere(setup, two_streets):
    client = client_for(setup.district_officer)
    for name in ("cases:queue", "cases:board", "cases:hazard_list"):
        for value in (setup.city.xigang.pk, setup.city.street_b.pk, setup.city.city.pk, 987654, "abc"):
            response = client.get(reverse(name), {"unit": value})
            assert response.status_code == 404, (name, value)


def test_the_board_narrows_to_the_picked_unit(setup, two_streets):
    client = client_for(setup.city_admin)
    board = client.get(reverse("cases:board")).content.decode()
    assert two_streets["here"].number in board and two_streets["there"].number in board
    narrowed = client.get(reverse("cases:board"), {"unit": two_streets["other_street"].pk}).content.decode()
    assert two_streets["there"].number in narrowed and two_streets["here"].number not in narrowed
    # A unit of another district shows none of 中山区's cases.
    xigang = client.get(reverse("cases:board"), {"unit": setup.city.xigang.pk}).content.decode()
    assert two_streets["here"].number not in xigang and "目前没有在办的集体争议" in xigang


def test_the_hazard_list_narrows_and_keeps_the_unit_in_its_tabs(setup, two_streets):
    client = client_for(setup.district_officer)
    response = client.get(reverse("cases:hazard_list"), {"unit": two_streets["street"].pk})
    text = response.content.decode()
    assert two_streets["hazard_here"].number in text and two_streets["hazard_there"].number not in text
    assert f"unit={two_streets['street'].pk}" in text and "tab=closed" in text


def test_the_city_queue_narrows_the_city_level_cases(setup, two_streets):
    """At the city the queue holds what reached the city; the picker keeps those from one district."""
    case = two_streets["here"]
    services.case_pull_up(actor=setup.city_officer, case=case, version=case.version, reason="市级督办")
    client = client_for(setup.city_officer)
    zhongshan = client.get(reverse("cases:queue"), {"tab": "all", "unit": setup.city.zhongshan.pk})
    assert case.number in zhongshan.content.decode()
    xigang = client.get(reverse("cases:queue"), {"tab": "all", "unit": setup.city.xigang.pk}).content.decode()
    assert case.number not in xigang and "本级没有在办的案件" in xigang
