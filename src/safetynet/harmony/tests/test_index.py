"""The harmonious-labour-relations index: a hand-computed index for three enterprises, the yearly model,
bad input, the background run, ranking, designations and their approval, pages, API and import."""

from __future__ import annotations

import datetime
import decimal
import io

import pytest
from django.template import Context, Template
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from safetynet.cases.services import case_intake
from safetynet.core.errors import NotAllowed, ServiceError
from safetynet.core.importing import run_import
from safetynet.harmony import scoring, services
from safetynet.harmony.models import Designation, IndexModel, Run, RunStatus, Score, Source
from safetynet.members.services import person_register
from safetynet.members.validation import check_character
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code
from safetynet.programmes import services as programmes
from safetynet.programmes.models import SystemKind
from safetynet.programmes.tests.helpers import make_actors, to_signed
from safetynet.reporting import periods
from safetynet.reporting.services import incident_file, warning_create, warning_transition

D = datetime.date
Dec = decimal.Decimal
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# Weights of the 2012 model (sum 100).
WEIGHTS = {
    Source.LABOUR_CONTRACTS: 20,
    Source.UNION: 10,
    Source.COLLECTIVE_CONTRACT: 10,
    Source.CONGRESS: 10,
    Source.WAGES: 15,
    Source.SOCIAL_INSURANCE: 10,
    Source.SAFETY: 5,
    Source.DISPUTES: 10,
    Source.WARNINGS: 5,
    Source.SURVEY: 5,
}


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=periods.BEIJING)


def id_number(n: int) -> str:
    body = f"21020219800101{n:03d}"
    return body + check_character(body)


def employ(enterprise, n: int, signed: bool) -> None:
    person_register(
        actor=None,
        name=f"职工{n}",
        id_number=id_number(n),
        enterprise=enterprise,
        employed_from=D(2010, 1, 1),
        contract_signed=signed,
    )


def case(enterprise, day: datetime.date, phone: str) -> None:
    case_intake(
        actor=None,
        channel="hotline",
        category="wage_arrears",
        description="反映问题",
        enterprise=enterprise,
        caller_phone=phone,
        now=at(day),
    )


@pytest.fixture
def three(city, make_staff):
    """Enterprise A (友好机械), B (中山, troubled), C (西岗), and D founded in 2013."""
    actors = make_actors(city, make_staff)
    a = actors.enterprise
    to_signed(actors)  # a wage contract in force 2012-03-01 … 2014-12-31
    UnionFactory(name="友好机械工会", org_unit=city.community_a, enterprises=[a])
    for n, signed in ((1, True), (2, True), (3, True), (4, False)):
        employ(a, n, signed)
    programmes.system_create(
        actor=None, system=SystemKind.CONGRESS, enterprises=[a], established_on=D(2008, 1, 1), name="A职代会"
    )
    case(a, D(2012, 5, 1), "13800000001")

    b = EnterpriseFactory(
        name="中山困难企业有限公司", credit_code=make_credit_code(702), org_unit=city.community_a
    )
    warning_create(
        actor=None,
        enterprise=b,
        category="wage_arrears",
        discovered_on=D(2012, 6, 1),
        reported_at=at(D(2012, 6, 2)),
    )
    dismissed = warning_create(
        actor=None,
        enterprise=b,
        category="social_insurance",
        discovered_on=D(2012, 6, 1),
        reported_at=at(D(2012, 6, 2)),
    )
    warning_transition(actor=None, warning=dismissed, action="dismiss", reason="核实不属实")
    warning_create(
        actor=None,
        enterprise=b,
        category="layoffs",
        discovered_on=D(2012, 3, 1),
        reported_at=at(D(2012, 3, 2)),
    )
    incident_file(
        actor=None,
        category="safety_accident",
        title="机械伤人",
        enterprise=b,
        known_at=at(D(2012, 8, 1)),
        reported_at=at(D(2012, 8, 1), 11),
    )
    for day, phone in (
        (D(2012, 2, 1), "13800000011"),
        (D(2012, 5, 1), "13800000012"),
        (D(2012, 9, 1), "13800000013"),
    ):
        case(b, day, phone)

    c = EnterpriseFactory(
        name="西岗和谐电子有限公司", credit_code=make_credit_code(703, "210203"), org_unit=city.street_b
    )
    employ(c, 5, True)
    employ(c, 6, True)
    programmes.system_create(
        actor=None, system=SystemKind.CONGRESS, enterprises=[c], established_on=D(2009, 1, 1), name="C职代会"
    )
    programmes.system_create(
        actor=None,
        system=SystemKind.OPENNESS,
        enterprises=[c],
        established_on=D(2009, 1, 1),
        name="C厂务公开",
    )
    warning_create(
        actor=None,
        enterprise=c,
        category="wage_arrears",
        discovered_on=D(2011, 6, 1),
        reported_at=at(D(2011, 6, 2)),
    )

    d = EnterpriseFactory(
        name="新成立企业有限公司",
        credit_code=make_credit_code(704),
        org_unit=city.community_a,
        founded_on=D(2013, 3, 1),
    )
    city_admin = make_staff("city_admin", city.city, "city_admin")
    services.indexmodel_save(actor=city_admin, year=2012, weights=WEIGHTS)
    services.survey_save(actor=None, enterprise=a, year=2012, score=88)
    services.survey_save(actor=None, enterprise=c, year=2012, score=50)
    return {"a": a, "b": b, "c": c, "d": d, "city_admin": city_admin, "actors": actors}


def test_hand_computed_index_for_three_enterprises(three):
    model = IndexModel.objects.get(year=2012)
    count = scoring.compute_year(year=2012, model=model)
    # D was founded in 2013: not scored for 2012. A, B, C and nothing else.
    assert count == 3
    scores = {s.enterprise_id: s for s in Score.objects.filter(year=2012)}
    assert three["d"].pk not in scores
    # A: contracts 3 of 4 signed → 20 × 0.75 = 15.00; union 10; collective contract in force 10; congress yes,
    #    openness no → 10 × ½ = 5.00; no 欠薪 15; no 欠保 10; no accident 5; one case → 10 × ½ = 5.00;
    #    no other warning 5; survey 88 → 5 × 0.88 = 4.40.  15 + 10 + 10 + 5 + 15 + 10 + 5 + 5 + 5 + 4.40 = 84.40
    assert scores[three["a"].pk].total == Dec("84.40")
    # B: no employees 0; no union 0; no contract 0; no congress 0; a 欠薪 warning → 0; the 欠保 warning was
    #    dismissed → 10; a safety accident → 0; three cases → 0; a 减员减薪 warning → 0; no survey → 0.  = 10.00
    assert scores[three["b"].pk].total == Dec("10.00")
    # C: 2 of 2 signed → 20; no union 0; no contract 0; congress and openness → 10; the 欠薪 warning is of 2011 → 15;
    #    欠保 10; safety 5; no case → 10; warnings 5; survey 50 → 5 × 0.5 = 2.50.
    #    20 + 0 + 0 + 10 + 15 + 10 + 5 + 10 + 5 + 2.50 = 77.50
    assert scores[three["c"].pk].total == Dec("77.50")
    rows = {r["source"]: r for r in scoring.explain(scores[three["a"].pk], model.dimensions.all())}
    assert rows[Source.LABOUR_CONTRACTS]["fact"] == "年末在职 4 人，已签劳动合同 3 人"
    assert rows[Source.LABOUR_CONTRACTS]["points"] == Dec("15.00")
    assert rows[Source.CONGRESS]["fact"] == "职代会已建立，厂务公开未建立"
    assert rows[Source.DISPUTES]["fact"] == "当年诉求案件 1 件"
    assert rows[Source.SURVEY]["points"] == Dec("4.40")
    b_rows = {r["source"]: r for r in scoring.explain(scores[three["b"].pk], model.dimensions.all())}
    assert b_rows[Source.SURVEY]["fact"] == "未录入调查，本项不得分"
    assert b_rows[Source.SAFETY]["fact"] == "当年安全生产事故 1 起"


def test_last_years_scores_keep_last_years_model(three):
    scoring.compute_year(year=2012, model=IndexModel.objects.get(year=2012))
    weights_2013 = {**WEIGHTS, Source.SURVEY: 0, Source.UNION: 15}
    services.indexmodel_save(actor=three["city_admin"], year=2013, weights=weights_2013)
    assert Score.objects.get(year=2012, enterprise=three["a"]).model.year == 2012
    with pytest.raises(ServiceError, match="2012 年的指数已按该年模型计算，模型不能再修改"):
        services.indexmodel_save(actor=three["city_admin"], year=2012, weights=weights_2013)
    scoring.compute_year(year=2013, model=IndexModel.objects.get(year=2013))
    assert Score.objects.get(year=2012, enterprise=three["a"]).total == Dec("84.40")
    # 2013 for A: survey weight 0, union 15; the one case was in 2012 → disputes 10:
    #    15 + 15 + 10 + 5 + 15 + 10 + 5 + 10 + 5 = 90.00
    assert Score.objects.get(year=2013, enterprise=three["a"]).total == Dec("90.00")


def test_weights_must_sum_to_100(three):
    with pytest.raises(ServiceError, match="各维度权重之和应为 100%，现为 95%，还差 5%"):
        services.indexmodel_save(actor=three["city_admin"], year=2014, weights={**WEIGHTS, Source.SURVEY: 0})
    with pytest.raises(ServiceError, match="现为 110%，请再减少 10%"):
        services.indexmodel_save(actor=three["city_admin"], year=2014, weights={**WEIGHTS, Source.UNION: 20})


def test_only_the_city_configures_the_model(three, city, make_staff):
    district_admin = make_staff("zs_admin", city.zhongshan, "unit_admin")
    with pytest.raises(NotAllowed, match="只有市级管理员"):
        services.indexmodel_save(actor=district_admin, year=2014, weights=WEIGHTS)


def test_score_for_a_year_the_enterprise_did_not_exist_refused(three):
    with pytest.raises(ServiceError, match="成立于 2013-03-01，2012 年末尚不存在"):
        services.survey_save(actor=None, enterprise=three["d"], year=2012, score=80)
    with pytest.raises(ServiceError, match="2012 年末尚不存在"):
        services.score_compute_enterprise(actor=None, enterprise=three["d"], year=2012)


def test_one_enterprise_recomputed_alone(three):
    scoring.compute_year(year=2012, model=IndexModel.objects.get(year=2012))
    services.survey_save(actor=None, enterprise=three["a"], year=2012, score=100)
    score = services.score_compute_enterprise(actor=None, enterprise=three["a"], year=2012)
    assert score.total == Dec("85.00")  # 84.40 − 4.40 + 5.00
    assert Score.objects.filter(year=2012).count() == 3


def test_background_run_reports_progress(three, settings, django_capture_on_commit_callbacks):
    settings.TASKS = IMMEDIATE
    with pytest.raises(ServiceError, match="2011 年的和谐指数模型尚未设置"):
        services.run_start(actor=three["city_admin"], year=2011)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_start(actor=three["city_admin"], year=2012)
    run.refresh_from_db()
    assert (run.status, run.percent, run.scored) == (RunStatus.DONE, 100, 3)
    assert run.seconds is not None


def test_designations_proposed_and_approved_by_the_district(three, city, make_staff):
    scoring.compute_year(year=2012, model=IndexModel.objects.get(year=2012))
    officer = make_staff("zs_officer", city.zhongshan, "operator")
    assert services.designation_propose(actor=officer, year=2012) == 1  # A (84.40 ≥ 80), not B; C is 西岗区
    designation = Designation.objects.get()
    assert (designation.level, designation.valid_from_year, designation.valid_to_year) == (
        "district",
        2013,
        2014,
    )
    with pytest.raises(NotAllowed, match="区市县总工会的单位管理员"):
        services.designation_decide(actor=officer, designation=designation, action="approve")
    with pytest.raises(NotAllowed):
        services.designation_decide(actor=three["city_admin"], designation=designation, action="approve")
    xg_admin = make_staff("xg_admin", city.xigang, "unit_admin")
    with pytest.raises(ServiceError, match="不在您的管辖范围内"):
        services.designation_decide(actor=xg_admin, designation=designation, action="approve")
    zs_admin = make_staff("zs_admin", city.zhongshan, "unit_admin")
    with pytest.raises(ServiceError, match="请填写审批意见"):
        services.designation_decide(actor=zs_admin, designation=designation, action="reject")
    designation = services.designation_decide(actor=zs_admin, designation=designation, action="approve")
    assert designation.status == "approved" and designation.decided_by == zs_admin
    with pytest.raises(ServiceError, match="已批准，不能重复批准"):
        services.designation_decide(actor=zs_admin, designation=designation, action="approve")
    assert services.designation_current(three["a"], 2013) == designation
    assert services.designation_current(three["a"], 2015) is None
    html = Template("{% load harmony %}{% harmony_enterprise_panel enterprise %}").render(
        Context({"enterprise": three["a"]})
    )
    assert "区级和谐企业" in html and "84.40" in html


def test_pages(client, three, city, make_staff, settings, django_capture_on_commit_callbacks):
    settings.TASKS = IMMEDIATE
    client.force_login(three["city_admin"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("harmony:run_start"), {"year": "2012"})
    assert response.status_code == 302
    run = Run.objects.get()
    progress = client.get(reverse("harmony:run_status", args=[run.pk])).content.decode()
    assert "已计算 3 家企业" in progress
    page = client.get(reverse("harmony:index_list") + "?year=2012").content.decode()
    assert (
        page.index("友好机械有限公司")
        < page.index("西岗和谐电子有限公司")
        < page.index("中山困难企业有限公司")
    )
    assert "按区划" in page and "按行业" in page
    score = Score.objects.get(enterprise=three["a"])
    detail = client.get(reverse("harmony:score_detail", args=[score.pk])).content.decode()
    assert "年末在职 4 人，已签劳动合同 3 人" in detail and "84.40" in detail
    bad = client.post(
        reverse("harmony:model_edit"),
        {
            "year": "2014",
            "name": "x",
            "city_level_min": "90",
            "district_level_min": "80",
            "city_valid_years": "3",
            "district_valid_years": "2",
            "weight_union": "50",
        },
    )
    assert bad.status_code == 400 and "各维度权重之和应为 100%" in bad.content.decode()
    rows = list(
        load_workbook(
            io.BytesIO(client.get(reverse("harmony:index_export") + "?year=2012").getvalue())
        ).active.values
    )
    assert rows[0][0] == "名次" and rows[1][1] == "友好机械有限公司" and rows[1][5] == 84.4
    officer = make_staff("zs_officer", city.zhongshan, "operator")
    client.force_login(officer)
    page = client.get(reverse("harmony:index_list") + "?year=2012").content.decode()
    assert "西岗和谐电子" not in page
    response = client.post(reverse("harmony:score_detail", args=[score.pk]), {"score": "100", "note": "复核"})
    assert response.status_code == 302 and Score.objects.get(enterprise=three["a"]).total == Dec("85.00")
    client.post(reverse("harmony:designation_propose"), {"year": "2012"})
    zs_admin = make_staff("zs_admin", city.zhongshan, "unit_admin")
    client.force_login(zs_admin)
    designation = Designation.objects.get()
    client.post(
        reverse("harmony:designation_decide", args=[designation.pk]),
        {"action": "approve", "version": designation.version},
    )
    assert Designation.objects.get().status == "approved"
    assert "已命名" in client.get(reverse("harmony:designation_list") + "?year=2012").content.decode()


def test_api_and_import(client, three, city, make_staff, tmp_path):
    scoring.compute_year(year=2012, model=IndexModel.objects.get(year=2012))
    officer = make_staff("zs_officer", city.zhongshan, "operator")
    client.force_login(officer)
    data = client.get("/api/v1/harmony/scores/?year=2012").json()
    assert data["count"] == 2 and data["results"][0]["total"] == "84.40"
    assert {d["source"]: d["points"] for d in data["results"][0]["dimensions"]}["labour_contracts"] == "15.00"
    refused = client.post(
        "/api/v1/harmony/surveys/",
        {"enterprise": three["d"].credit_code, "year": 2012, "score": "70"},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "尚不存在" in refused.json()["detail"]
    workbook = Workbook()
    workbook.active.append(["企业统一社会信用代码", "年度", "调查得分", "调查说明"])
    workbook.active.append([three["b"].credit_code, 2012, 60, "抽样"])
    workbook.active.append([three["d"].credit_code, 2012, 60, ""])
    path = tmp_path / "s.xlsx"
    workbook.save(path)
    result = run_import("harmony_surveys", path, actor=officer, keep_valid=True)
    assert result.created == 1 and "尚不存在" in str(result.errors[0])
