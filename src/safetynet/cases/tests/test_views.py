"""The case pages: intake, queue tabs, detail steps, scope, roles and the conflict message."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from safetynet.cases import services
from safetynet.cases.models import Case, CaseStatus, CaseStep, StepAction

from .test_services import intake


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


INTAKE = {
    "kind": "dispute",
    "channel": "hotline",
    "category": "wage_arrears",
    "workers_involved": "1",
    "claim_amount": "15000",
    "description": "三个月工资未发",
    "anonymous": "on",
    "caller_phone": "13912345678",
}


def test_intake_lands_at_the_community_and_shows_the_case(setup):
    client = client_for(setup.district_officer)
    response = client.post(
        reverse("cases:intake"), {**INTAKE, "enterprise": setup.community_enterprise.pk}, follow=True
    )
    assert response.status_code == 200
    case = Case.objects.get()
    assert response.redirect_chain[-1][0] == reverse("cases:detail", args=[case.pk])
    text = response.content.decode()
    assert case.number in text and "友好社区" in text and "社区级" in text
    assert case.anonymous and case.caller_name == ""
    assert (case.deadline - case.received_at).days == 15


def test_intake_without_a_phone_for_an_anonymous_call_keeps_the_form(setup):
    client = client_for(setup.district_officer)
    body = {**INTAKE, "enterprise": setup.community_enterprise.pk, "caller_phone": ""}
    response = client.post(reverse("cases:intake"), body)
    assert response.status_code == 200
    assert "匿名来电须留回访电话" in response.content.decode()
    assert "三个月工资未发" in response.content.decode()
    assert not Case.objects.exists()


def test_intake_of_an_unknown_enterprise_by_free_text(setup):
    client = client_for(setup.street_officer)
    body = {**INTAKE, "enterprise_query": "某某无名小作坊", "enterprise_address": "青泥洼桥 1 号"}
    client.post(reverse("cases:intake"), body)
    case = Case.objects.get()
    assert (case.enterprise, case.enterprise_name, case.unit) == (None, "某某无名小作坊", setup.city.street_a)


def test_enterprise_suggestions_are_scoped(setup):
    zhongshan = client_for(setup.district_officer).get(reverse("cases:enterprise_suggest"), {"q": "友好服装"})
    assert "友好服装有限公司" in zhongshan.content.decode()
    xigang = client_for(setup.xigang_officer).get(reverse("cases:enterprise_suggest"), {"q": "友好服装"})
    assert "友好服装有限公司" not in xigang.content.decode()


def test_duplicate_warning_and_link(setup):
    first = intake(setup, now=None)
    client = client_for(setup.district_officer)
    check = client.get(
        reverse("cases:duplicates"),
        {"caller_phone": "139 1234 5678", "enterprise": setup.community_enterprise.pk},
    )
    assert first.number in check.content.decode() and "疑似重复来电" in check.content.decode()
    client.post(
        reverse("cases:intake"),
        {**INTAKE, "enterprise": setup.community_enterprise.pk, "link_duplicates": "on"},
    )
    second = Case.objects.exclude(pk=first.pk).get()
    assert first.number in second.steps.get().note
    assert first.steps.filter(note__contains=second.number).exists()


def test_queue_tabs_show_deadline_badges_with_text(setup):
    case = intake(setup, now=None)
    response = client_for(setup.community_officer).get(reverse("cases:queue"), {"tab": "new"})
    text = response.content.decode()
    assert case.number in text and "按期" in text
    assert (
        client_for(setup.street_officer).get(reverse("cases:queue")).content.decode().count(case.number) == 0
    )


def test_the_ladder_through_the_pages(setup):
    case = intake(setup, now=None)
    url = reverse("cases:detail", args=[case.pk])
    community = client_for(setup.community_officer)
    assert community.post(url, {"action": "accept", "accept-version": case.version}).status_code == 302
    case.refresh_from_db()
    community.post(
        url, {"action": "hand_up", "hand_up-version": case.version, "hand_up-reason": "企业拒不到场"}
    )
    case.refresh_from_db()
    assert (case.unit, case.status) == (setup.city.street_a, CaseStatus.NEW)
    page = client_for(setup.street_officer).get(url).content.decode()
    assert "企业拒不到场" in page and 'value="accept"' in page


def test_another_district_gets_404_and_a_viewer_403(setup):
    case = intake(setup, now=None)
    url = reverse("cases:detail", args=[case.pk])
    assert client_for(setup.xigang_officer).get(url).status_code == 404
    assert client_for(setup.xigang_officer).post(url, {"action": "accept"}).status_code == 404
    viewer = client_for(setup.viewer)
    assert viewer.get(url).status_code == 200
    assert viewer.post(url, {"action": "accept", "accept-version": case.version}).status_code == 403
    assert viewer.get(reverse("cases:intake")).status_code == 403
    assert 'name="action"' not in viewer.get(url).content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW


def test_a_stale_submit_shows_the_conflict_and_keeps_the_text(setup):
    case = intake(setup, now=None)
    url = reverse("cases:detail", args=[case.pk])
    stale = case.version
    services.case_accept(actor=setup.community_officer, case=case, version=stale)
    response = client_for(setup.community_officer).post(
        url, {"action": "mediation", "mediation-version": stale, "mediation-note": "双方到场，企业同意分期"}
    )
    assert response.status_code == 409
    text = response.content.decode()
    assert "该案件已被他人修改，请刷新后再操作" in text
    assert "双方到场，企业同意分期" in text
    assert not CaseStep.objects.filter(case=case, action=StepAction.MEDIATION_ATTEMPT).exists()
    case.refresh_from_db()
    # The kept form now carries the current version: submitting it again goes through.
    assert f'value="{case.version}"' in text


@pytest.mark.parametrize("name", ["cases:queue", "cases:board", "cases:hazard_list", "cases:intake"])
def test_pages_render(setup, name):
    intake(setup, now=None, workers=12)
    assert client_for(setup.district_officer).get(reverse(name)).status_code == 200


def test_board_shows_collective_cases(setup):
    case = intake(setup, now=None, workers=40)
    text = client_for(setup.city_officer).get(reverse("cases:board")).content.decode()
    assert case.number in text and "未指定" in text


def test_enterprise_page_lists_its_cases(client, city, make_staff):
    from django.urls import reverse

    from safetynet.cases.tests.helpers import scope_walk_records
    from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory

    enterprise = EnterpriseFactory(org_unit=city.community_a, name="诉求标签页企业")
    UnionFactory(org_unit=city.community_a, enterprises=[enterprise])
    records, _ = scope_walk_records(enterprise)
    case = next(r for model, r in records.items() if model.__name__ == "Case")
    client.force_login(make_staff("tab_officer", city.zhongshan, "operator"))
    html = client.get(
        reverse("orgs:enterprise_detail", args=[enterprise.pk]), {"tab": "cases"}
    ).content.decode()
    assert case.number in html and "登记诉求" in html
