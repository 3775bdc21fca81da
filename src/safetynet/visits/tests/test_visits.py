"""Cadre visits: logging, the finding that becomes a warning and a case in one step, scope, pages, API,
export, and the 走访覆盖率 indicator."""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse

from safetynet.cases.models import Case
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditEntry
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code
from safetynet.reporting.models import WarningSignal, WarningStatus
from safetynet.visits import services
from safetynet.visits.models import Visit

D = datetime.date


@pytest.fixture
def setting(city, make_staff):
    zs = EnterpriseFactory(
        name="友好走访机械有限公司", credit_code=make_credit_code(501), org_unit=city.community_a
    )
    xg = EnterpriseFactory(
        name="西岗走访电子有限公司", credit_code=make_credit_code(502, "210203"), org_unit=city.street_b
    )
    return {
        "zs": zs,
        "xg": xg,
        "officer": make_staff("zs_officer", city.zhongshan, "operator"),
        "viewer": make_staff("zs_viewer", city.zhongshan, "viewer"),
    }


def test_visit_logged_with_checklist_and_audited(setting):
    visit = services.visit_create(
        actor=setting["officer"],
        enterprise=setting["zs"],
        visited_on=D(2012, 5, 3),
        worker_name="王师傅",
        checklist=["six_wages", "eight_migrant", "six_wages"],
        findings="",
    )
    assert visit.checklist == ["six_wages", "eight_migrant"]
    assert visit.checklist_labels == ["工资支付和社会保险缴纳情况必清", "农民工必访"]
    assert visit.warning_id is None and visit.case_id is None
    assert AuditEntry.objects.filter(entity="visits.visit", object_id=str(visit.pk), action="create").exists()


def test_finding_becomes_warning_and_case_in_one_step_linked_both_ways(setting):
    visit = services.visit_create(
        actor=setting["officer"],
        enterprise=setting["zs"],
        visited_on=D(2012, 5, 3),
        findings="车间 30 名职工反映 3 个月工资未发",
        warning_category="wage_arrears",
        case_category="wage_arrears",
    )
    warning = WarningSignal.objects.get(pk=visit.warning_id)
    case = Case.objects.get(pk=visit.case_id)
    assert warning.enterprise == setting["zs"] and warning.category == "wage_arrears"
    assert warning.case_id == case.pk  # the warning points to the case
    assert warning.status == WarningStatus.HANDLING
    assert case.enterprise == setting["zs"] and "走访发现" in case.description
    # and both point back to the visit
    assert list(warning.visits.all()) == [visit] and list(case.visits.all()) == [visit]


def test_finding_becomes_case_only(setting):
    visit = services.visit_create(
        actor=setting["officer"],
        enterprise=setting["zs"],
        visited_on=D(2012, 5, 3),
        findings="职工反映未签劳动合同",
        case_category="labour_contract",
    )
    assert visit.warning_id is None
    assert visit.case.category == "labour_contract" and visit.case.channel == "referral"


def test_later_escalation_refers_the_visits_warning(setting):
    visit = services.visit_create(
        actor=setting["officer"],
        enterprise=setting["zs"],
        visited_on=D(2012, 5, 3),
        findings="欠缴社保",
        warning_category="social_insurance",
    )
    visit = services.visit_escalate(actor=setting["officer"], visit=visit, case_category="social_insurance")
    assert visit.warning.case_id == visit.case_id is not None
    with pytest.raises(ServiceError, match="已转为诉求案件"):
        services.visit_escalate(actor=setting["officer"], visit=visit, case_category="other")


def test_escalation_without_finding_refused(setting):
    with pytest.raises(ServiceError, match="请先写明走访发现的问题"):
        services.visit_create(
            actor=setting["officer"],
            enterprise=setting["zs"],
            visited_on=D(2012, 5, 3),
            warning_category="wage_arrears",
        )
    assert not Visit.objects.exists()


def test_visit_outside_scope_refused_in_chinese(setting):
    with pytest.raises(OutOfScope, match="不在您的管辖范围内"):
        services.visit_create(actor=setting["officer"], enterprise=setting["xg"], visited_on=D(2012, 5, 3))


def test_viewer_may_not_record(setting):
    with pytest.raises(NotAllowed):
        services.visit_create(actor=setting["viewer"], enterprise=setting["zs"], visited_on=D(2012, 5, 3))


def test_future_and_pre_founding_dates_refused(setting):
    with pytest.raises(ServiceError, match="不能晚于今天"):
        services.visit_create(actor=setting["officer"], enterprise=setting["zs"], visited_on=D(2099, 1, 1))
    with pytest.raises(ServiceError, match="早于企业成立日期"):
        services.visit_create(actor=setting["officer"], enterprise=setting["zs"], visited_on=D(2004, 1, 1))


def test_unknown_checklist_item_refused(setting):
    with pytest.raises(ServiceError, match="不在六必清、八必访清单中"):
        services.visit_create(
            actor=setting["officer"], enterprise=setting["zs"], visited_on=D(2012, 5, 3), checklist=["nine"]
        )


def test_form_logs_visit_with_warning_and_case(client, setting):
    client.force_login(setting["officer"])
    page = client.get(reverse("visits:visit_create"))
    assert page.status_code == 200 and "六必清" in page.content.decode()
    response = client.post(
        reverse("visits:visit_create"),
        {
            "enterprise": setting["zs"].credit_code,
            "visited_on": "2012-05-03",
            "six_clear": ["six_wages"],
            "findings": "拖欠工资两个月",
            "warning_category": "wage_arrears",
            "case_category": "wage_arrears",
        },
    )
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.warning and visit.case
    detail = client.get(response["Location"]).content.decode()
    assert visit.case.number in detail and "欠薪" in detail


def test_form_outside_scope_shows_reason(client, setting):
    client.force_login(setting["officer"])
    response = client.post(
        reverse("visits:visit_create"), {"enterprise": setting["xg"].credit_code, "visited_on": "2012-05-03"}
    )
    assert response.status_code == 400
    assert "不在您的管辖范围内" in response.content.decode()
    assert not Visit.objects.exists()


def test_list_and_export_are_scoped(client, setting, city, make_staff):
    services.visit_create(actor=setting["officer"], enterprise=setting["zs"], visited_on=D(2012, 5, 3))
    other = make_staff("xg_officer", city.xigang, "operator")
    client.force_login(other)
    assert "友好走访机械" not in client.get(reverse("visits:visit_list") + "?year=2012").content.decode()
    client.force_login(setting["officer"])
    assert "友好走访机械" in client.get(reverse("visits:visit_list") + "?year=2012").content.decode()
    response = client.get(reverse("visits:visit_export") + "?year=2012")
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(response.getvalue())).active.values)
    assert rows[0][0] == "走访日期" and rows[1][2] == "友好走访机械有限公司"


def test_api_create_and_read(client, setting):
    client.force_login(setting["officer"])
    response = client.post(
        "/api/v1/visits/",
        {
            "enterprise": setting["zs"].credit_code,
            "visited_on": "2012-05-03",
            "checklist": ["six_basic"],
            "findings": "欠薪",
            "warning_category": "wage_arrears",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["warning"] is not None
    refused = client.post(
        "/api/v1/visits/",
        {"enterprise": setting["xg"].credit_code, "visited_on": "2012-05-03"},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "管辖范围" in refused.json()["detail"]
    assert client.get("/api/v1/visits/").json()["count"] == 1


def test_visit_rate_indicator(setting, city):
    from safetynet.indicators.engine import compute

    services.visit_create(actor=setting["officer"], enterprise=setting["zs"], visited_on=D(2012, 5, 3))
    rows = {(r.unit, r.indicator): r for r in compute(day=D(2012, 12, 31), indicator_codes=["visit_rate"])}
    zs = rows[("210202", "visit_rate")]
    assert (zs.numerator, zs.denominator) == (1, 1)
    xg = rows[("210203", "visit_rate")]
    assert (xg.numerator, xg.denominator) == (0, 1)
    next_year = {
        (r.unit, r.indicator): r for r in compute(day=D(2013, 6, 30), indicator_codes=["visit_rate"])
    }
    assert next_year[("210202", "visit_rate")].numerator == 0
