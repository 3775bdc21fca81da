"""Enterprise risk levels (红 / 橙 / 黄 / 蓝): scores and facts against hand-computed figures, the city's rule
page, the city-wide list by level (district, industry, scope, XLSX) and the panel on the enterprise page —
set-based: a fixed number of statements whatever the number of enterprises."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from safetynet.cases import services as case_services
from safetynet.core.errors import NotAllowed, ServiceError
from safetynet.core.importing import run_import
from safetynet.orgs.models import Industry
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code
from safetynet.reporting import risk, selectors, services
from safetynet.reporting.models import RiskLevel, RiskRule
from safetynet.reporting.tests.conftest import at

D = datetime.date
DAY = D(2012, 6, 30)
A_TEXT = "欠薪预警 2 条 · 涉及金额 5.5 万元 · 集体争议 1 件 · 其中欠薪诉求 1 件 · 近 90 天新发 4 起 · 无集体合同 · 未建会"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def warn(enterprise, category, discovered: D, amount=None, action: str = ""):
    warning = services.warning_create(
        actor=None,
        enterprise=enterprise,
        category=category,
        discovered_on=discovered,
        reported_at=at(f"{discovered.isoformat()} 15:00"),
        amount=amount,
        workers_involved=8,
        now=at("2012-06-30 18:00"),
    )
    if action == "dismiss":
        services.warning_transition(actor=None, warning=warning, action="dismiss", reason="经核实已足额缴纳")
    elif action == "verify":
        services.warning_transition(actor=None, warning=warning, action="verify")
    return warning


@pytest.fixture
def risky(world, tmp_path):
    """a: 2 open wage-arrears warnings (30,000 + 25,000 元), a dismissed one, an open collective wage case, no
    union, no contract. b: a union and a contract in force until 2014. e: a union, no contract, an open
    stoppage warning from January."""
    a, b, e = world.enterprise_a, world.enterprise_b, world.enterprise_e
    a.industry = Industry.objects.get(code="C")
    a.save(update_fields=["industry"])
    warn(a, "wage_arrears", D(2012, 6, 10), amount="30000")
    warn(a, "wage_arrears", D(2012, 6, 20), amount="25000", action="verify")
    warn(a, "social_insurance", D(2012, 6, 15), amount="90000", action="dismiss")
    case = case_services.case_intake(
        actor=None,
        channel="visit",
        category="wage_arrears",
        description="12 名职工集体反映被拖欠工资",
        enterprise=a,
        workers_involved=12,
        caller_phone="13912345678",
        now=at("2012-06-25 09:00"),
    )
    assert case.collective
    UnionFactory(org_unit=world.city.street_b, enterprises=[b], founded_on=D(2010, 1, 1))
    path = tmp_path / "contracts.csv"
    path.write_text(
        "合同类型,覆盖企业,签订日期,备案日期,生效日期,到期日期,覆盖职工人数,工资增幅\n"
        f"综合,{b.credit_code},2011-12-01,2011-12-05,2012-01-01,2014-12-31,80,\n",
        encoding="utf-8-sig",
    )
    assert run_import("contracts", path).created == 1
    UnionFactory(org_unit=world.street_e, enterprises=[e], founded_on=D(2010, 1, 1))
    warn(e, "stoppage", D(2012, 1, 10))
    return world


def facts_on(day: D) -> dict[int, risk.RiskFacts]:
    return {
        f.enterprise_id: f for f in risk.risk_facts(rule=risk.current_rule(), day=day, filters=risk.Filters())
    }


def test_scores_levels_and_facts_by_hand(risky):
    w = risky
    found = facts_on(DAY)
    a, b, e = found[w.enterprise_a.pk], found[w.enterprise_b.pk], found[w.enterprise_e.pk]
    # 2 × 30 (欠薪) + 5 万元 × 1 + 30 (集体争议) + 10 (欠薪诉求) + 4 recent × 5 + 10 (未建会) + 5 (无合同)
    assert (a.score, a.level) == (140, RiskLevel.RED) and a.text == A_TEXT
    assert a.warnings["wage_arrears"] == 2 and a.warnings["social_insurance"] == 0 and a.open_cases == 0
    assert (b.score, b.level, b.text) == (0, RiskLevel.BLUE, "无风险事实")
    assert (e.score, e.level, e.text) == (25, RiskLevel.YELLOW, "停产预警 1 条 · 无集体合同")
    # Nothing of it yet on 2012-01-01; b's contract has run out in 2015.
    early = facts_on(D(2012, 1, 1))
    assert early[w.enterprise_a.pk].score == 15 and early[w.enterprise_e.pk].score == 5
    assert facts_on(D(2015, 1, 1))[w.enterprise_b.pk].text == "无集体合同"


def test_the_ranking_agrees_with_the_facts_and_counts_by_level(risky):
    rule = risk.current_rule()
    page = risk.risk_page(rule=rule, day=DAY, filters=risk.Filters(), level=None, limit=10, offset=0)
    assert page.counts == {RiskLevel.RED: 1, RiskLevel.ORANGE: 0, RiskLevel.YELLOW: 1, RiskLevel.BLUE: 1}
    assert page.rows == [
        (risky.enterprise_a.pk, 140),
        (risky.enterprise_e.pk, 25),
        (risky.enterprise_b.pk, 0),
    ]
    yellow = risk.risk_page(
        rule=rule, day=DAY, filters=risk.Filters(), level=RiskLevel.YELLOW, limit=10, offset=0
    )
    assert yellow.rows == [(risky.enterprise_e.pk, 25)]
    zhongshan = risk.risk_page(
        rule=rule,
        day=DAY,
        filters=risk.Filters(path=risky.city.zhongshan.path),
        level=None,
        limit=1,
        offset=1,
    )
    assert zhongshan.total == 2 and zhongshan.rows == [(risky.enterprise_e.pk, 25)]
    manufacturing = risk.risk_page(
        rule=rule, day=DAY, filters=risk.Filters(industry="C"), level=None, limit=10, offset=0
    )
    assert manufacturing.rows == [(risky.enterprise_a.pk, 140)]


def test_the_rule_changes_the_levels(risky):
    services.riskrule_update(
        actor=risky.city_admin,
        values={
            "weight_no_contract": 30,
            "threshold_yellow": 20,
            "threshold_orange": 30,
            "threshold_red": 200,
        },
    )
    found = facts_on(DAY)
    assert (found[risky.enterprise_a.pk].score, found[risky.enterprise_a.pk].level) == (165, RiskLevel.ORANGE)
    assert found[risky.enterprise_e.pk].level == RiskLevel.ORANGE  # 20 + 30
    assert found[risky.enterprise_b.pk].level == RiskLevel.BLUE
    # Zero weights need no lookup and count nothing.
    services.riskrule_update(actor=None, values={"weight_no_contract": 0, "weight_no_union": 0})
    assert facts_on(DAY)[risky.enterprise_e.pk].score == 20


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"threshold_orange": 20}, "threshold_orange"),
        ({"threshold_red": 50}, "threshold_red"),
        ({"weight_wage_arrears": -1}, "weight_wage_arrears"),
        ({"recent_days": 0}, "recent_days"),
        ({"weight_stoppage": "许多"}, "weight_stoppage"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(world, values, field):
    with pytest.raises(ServiceError) as caught:
        services.riskrule_update(actor=world.city_admin, values=values)
    assert caught.value.field == field
    assert not RiskRule.objects.exists()


def test_only_the_city_sets_the_rule(world):
    with pytest.raises(NotAllowed):
        services.riskrule_update(actor=world.district_head, values={"weight_other": 1})
    response = client_for(world.district_head).post(reverse("reporting:risk_rule"), {"weight_other": 1})
    assert response.status_code == 403
    html = client_for(world.district_head).get(reverse("reporting:risk_rule")).content.decode()
    assert "规则由市总工会管理员设置" in html and "<fieldset disabled>" in html


def test_the_rule_page(world):
    city = client_for(world.city_admin)
    form = {name: getattr(RiskRule(), name) for name in risk.RULE_FIELDS}
    response = city.post(reverse("reporting:risk_rule"), {**form, "threshold_red": 10})
    html = response.content.decode()
    assert response.status_code == 400 and "黄 &lt; 橙 &lt; 红" in html and not RiskRule.objects.exists()
    response = city.post(reverse("reporting:risk_rule"), {**form, "weight_other": 7})
    assert response.status_code == 302 and RiskRule.objects.get().weight_other == 7
    assert "风险等级规则" in city.get(reverse("reporting:risk_rule")).content.decode()


def test_the_list_by_level_scoped_filtered_and_exported(risky):
    w = risky
    city = client_for(w.city_admin)
    html = city.get(reverse("reporting:risk_list")).content.decode()
    # Today: a keeps its open warnings and case (no longer recent): 60 + 5 + 30 + 10 + 10 + 5.
    assert w.enterprise_a.name in html and "红色 · 120 分" in html and "集体争议 1 件" in html
    assert w.enterprise_e.name not in html
    html = city.get(reverse("reporting:risk_list") + "?level=1").content.decode()
    assert w.enterprise_e.name in html and "停产预警 1 条 · 无集体合同" in html
    html = city.get(reverse("reporting:risk_list") + "?level=all").content.decode()
    assert all(x.name in html for x in (w.enterprise_a, w.enterprise_b, w.enterprise_e))
    response = city.get(reverse("reporting:risk_list") + "?level=all&page=99999999999999999999999")
    assert response.status_code == 200 and w.enterprise_a.name in response.content.decode()  # the last page
    html = city.get(
        reverse("reporting:risk_list") + f"?level=all&district={w.city.xigang.pk}"
    ).content.decode()
    assert w.enterprise_b.name in html and w.enterprise_a.name not in html
    html = city.get(reverse("reporting:risk_list") + "?level=all&industry=C").content.decode()
    assert w.enterprise_a.name in html and w.enterprise_b.name not in html
    xigang = client_for(w.xigang_officer)
    html = xigang.get(reverse("reporting:risk_list") + "?level=all").content.decode()
    assert w.enterprise_b.name in html and w.enterprise_a.name not in html
    assert xigang.get(reverse("reporting:risk_list") + f"?district={w.city.zhongshan.pk}").status_code == 404
    response = city.get(reverse("reporting:risk_export") + "?level=all")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = [row for row in book.worksheets[0].iter_rows(values_only=True)][2:]
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("红", 120, w.enterprise_a.name),
        ("黄", 25, w.enterprise_e.name),
        ("蓝", 5, w.enterprise_b.name),
    ]
    assert rows[0][7].startswith("欠薪预警 2 条 · 涉及金额 5.5 万元")


def test_the_enterprise_page_panel(risky):
    w = risky
    officer = client_for(w.district_officer)
    detail = officer.get(reverse("orgs:enterprise_detail", args=[w.enterprise_a.pk])).content.decode()
    assert reverse("reporting:enterprise_risk", args=[w.enterprise_a.pk]) in detail
    assert f"{reverse('reporting:warning_create')}?enterprise={w.enterprise_a.pk}" in detail
    panel = officer.get(reverse("reporting:enterprise_risk", args=[w.enterprise_a.pk])).content.decode()
    assert "红色 · 120 分" in panel and "欠薪预警 2 条" in panel and "新增预警" in panel
    assert (
        client_for(w.xigang_officer)
        .get(reverse("reporting:enterprise_risk", args=[w.enterprise_a.pk]))
        .status_code
        == 404
    )
    assert (
        "新增预警"
        not in client_for(w.viewer)
        .get(reverse("reporting:enterprise_risk", args=[w.enterprise_a.pk]))
        .content.decode()
    )
    form = officer.get(
        reverse("reporting:warning_create") + f"?enterprise={w.enterprise_a.pk}"
    ).content.decode()
    assert w.enterprise_a.credit_code in form


def test_the_ranking_is_set_based(world):
    for n in range(30):
        enterprise = EnterpriseFactory(org_unit=world.city.community_a, credit_code=make_credit_code(700 + n))
        if n % 3 == 0:
            warn(enterprise, "layoffs", D(2012, 6, 1))
    with CaptureQueriesContext(connection) as few:
        counts, page = selectors.risk_list_page(path="", day=DAY, level=None, page=1, page_size=10)
    assert sum(counts.values()) == 33 and len(page.object_list) == 10
    for n in range(30, 90):
        EnterpriseFactory(org_unit=world.city.community_a, credit_code=make_credit_code(700 + n))
    with CaptureQueriesContext(connection) as many:
        counts, page = selectors.risk_list_page(path="", day=DAY, level=None, page=2, page_size=10)
    assert sum(counts.values()) == 93 and page.number == 2
    assert len(many.captured_queries) == len(few.captured_queries) <= 5


def test_no_union_and_no_contract_count_only_where_a_union_is_expected(world, settings):
    small = EnterpriseFactory(
        org_unit=world.city.community_a, credit_code=make_credit_code(650), headcount=10
    )
    found = facts_on(DAY)
    assert (found[small.pk].score, found[small.pk].text) == (0, "无风险事实")
    assert found[world.enterprise_a.pk].text == "无集体合同 · 未建会"  # 100 workers
    settings.ELIGIBLE_MIN_HEADCOUNT = 5
    assert facts_on(DAY)[small.pk].score == 15
