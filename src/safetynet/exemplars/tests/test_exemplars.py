"""Model workers, 工人先锋号, innovation studios and competitions: services, bad input, scope, pages, API,
import, export and the indicators."""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.importing import run_import
from safetynet.core.models import AuditEntry
from safetynet.exemplars import services
from safetynet.exemplars.models import Competition, CompetitionEntry, Honour, PioneerTeam, Studio
from safetynet.members.services import person_register
from safetynet.members.validation import check_character
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code

D = datetime.date


def id_number(n: int) -> str:
    body = f"21020219800101{n:03d}"
    return body + check_character(body)


@pytest.fixture
def world(city, make_staff):
    zs = EnterpriseFactory(
        name="友好劳模机械有限公司", credit_code=make_credit_code(601), org_unit=city.community_a
    )
    xg = EnterpriseFactory(
        name="西岗劳模电子有限公司", credit_code=make_credit_code(602, "210203"), org_unit=city.street_b
    )
    person = person_register(
        actor=None, name="李劳模", id_number=id_number(1), enterprise=zs, employed_from=D(2008, 1, 1)
    ).person
    return {
        "zs": zs,
        "xg": xg,
        "person": person,
        "officer": make_staff("zs_officer", city.zhongshan, "operator"),
        "xg_officer": make_staff("xg_officer", city.xigang, "operator"),
        "viewer": make_staff("zs_viewer", city.zhongshan, "viewer"),
        "city_admin": make_staff("city_admin", city.city, "city_admin"),
    }


def test_honour_recorded_and_audited(world):
    honour = services.honour_create(
        actor=world["officer"],
        person=world["person"],
        kind="labour_model",
        level="provincial",
        year=2012,
        enterprise=world["zs"],
        title="辽宁省劳动模范",
    )
    assert honour.org_unit == world["zs"].org_unit
    assert AuditEntry.objects.filter(entity="exemplars.honour", object_id=str(honour.pk)).exists()
    with pytest.raises(ServiceError, match="已登记"):
        services.honour_create(
            actor=world["officer"],
            person=world["person"],
            kind="labour_model",
            level="provincial",
            year=2012,
            enterprise=world["zs"],
        )


def test_award_year_in_future_refused_in_chinese(world):
    next_year = timezone.localdate().year + 1
    with pytest.raises(ServiceError, match=f"授予年度（{next_year}）不能晚于今年"):
        services.honour_create(
            actor=world["officer"],
            person=world["person"],
            kind="may_day_medal",
            level="city",
            year=next_year,
            enterprise=world["zs"],
        )
    with pytest.raises(ServiceError, match="不能晚于今年"):
        services.pioneer_create(
            actor=world["officer"], name="甲班", enterprise=world["zs"], level="city", year=next_year
        )


def test_scope_and_role_enforced(world):
    with pytest.raises(OutOfScope, match="不在您的管辖范围内"):
        services.pioneer_create(
            actor=world["officer"], name="乙班", enterprise=world["xg"], level="city", year=2012
        )
    with pytest.raises(NotAllowed):
        services.pioneer_create(
            actor=world["viewer"], name="乙班", enterprise=world["zs"], level="city", year=2012
        )


def test_studio_with_members_and_results(world):
    studio = services.studio_create(
        actor=world["officer"],
        name="李劳模创新工作室",
        leader=world["person"],
        enterprise=world["zs"],
        founded_on=D(2011, 3, 1),
        members=[world["person"]],
        patents=2,
        savings="35.5",
        results="数控改造",
    )
    assert studio.members_count == 1 and list(studio.members.all()) == [world["person"]]
    studio = services.studio_update_results(
        actor=world["officer"], studio=studio, patents=5, savings="80", results="新工艺"
    )
    assert (studio.patents, str(studio.savings)) == (5, "80.00")
    with pytest.raises(ServiceError, match="早于企业成立日期"):
        services.studio_create(
            actor=world["officer"],
            name="早期工作室",
            leader=world["person"],
            enterprise=world["zs"],
            founded_on=D(2001, 1, 1),
        )


def test_city_competition_open_to_districts_entries_scoped(world, city):
    competition = services.competition_create(
        actor=world["city_admin"],
        name="2012年全市职工技能大赛",
        kind="skill",
        organiser_level="city",
        unit=city.city,
        starts_on=D(2012, 4, 1),
        ends_on=D(2012, 10, 31),
    )
    assert Competition.objects.visible_to(world["officer"]).filter(pk=competition.pk).exists()
    entry = services.competition_entry_add(
        actor=world["officer"],
        competition=competition,
        enterprise=world["zs"],
        workers=40,
        award="团体二等奖",
    )
    again = services.competition_entry_add(
        actor=world["officer"],
        competition=competition,
        enterprise=world["zs"],
        workers=45,
        award="团体一等奖",
    )
    assert again.pk == entry.pk and again.workers == 45
    with pytest.raises(OutOfScope):
        services.competition_entry_add(
            actor=world["officer"], competition=competition, enterprise=world["xg"]
        )
    with pytest.raises(ServiceError, match="结束日期不能早于开始日期"):
        services.competition_create(
            actor=world["city_admin"],
            name="错",
            kind="skill",
            organiser_level="city",
            unit=city.city,
            starts_on=D(2012, 4, 1),
            ends_on=D(2012, 3, 1),
        )
    district = services.competition_create(
        actor=world["officer"],
        name="中山区劳动竞赛",
        kind="labour",
        organiser_level="district",
        unit=city.zhongshan,
        starts_on=D(2012, 4, 1),
        ends_on=D(2012, 10, 31),
    )
    assert not Competition.objects.visible_to(world["xg_officer"]).filter(pk=district.pk).exists()


def test_indicators_count_per_unit(world, city):
    from safetynet.indicators.engine import compute

    services.honour_create(
        actor=world["officer"],
        person=world["person"],
        kind="labour_model",
        level="national",
        year=2010,
        enterprise=world["zs"],
    )
    services.honour_create(
        actor=world["officer"],
        person=world["person"],
        kind="may_day_medal",
        level="city",
        year=2012,
        enterprise=world["zs"],
    )
    competition = services.competition_create(
        actor=world["officer"],
        name="区竞赛",
        kind="labour",
        organiser_level="district",
        unit=city.zhongshan,
        starts_on=D(2012, 4, 1),
        ends_on=D(2012, 10, 31),
    )
    services.competition_entry_add(
        actor=world["officer"], competition=competition, enterprise=world["zs"], workers=10
    )
    rows = {
        (r.unit, r.indicator): r
        for r in compute(day=D(2012, 12, 31), indicator_codes=["honour_count", "competition_rate"])
    }
    assert (rows[("210202", "honour_count")].numerator, rows[("210202", "honour_count")].denominator) == (
        1,
        2,
    )
    assert rows[("210203", "honour_count")].denominator == 0
    assert (
        rows[("210202", "competition_rate")].numerator,
        rows[("210202", "competition_rate")].denominator,
    ) == (1, 1)
    assert rows[("210203", "competition_rate")].numerator == 0
    early = {(r.unit, r.indicator): r for r in compute(day=D(2011, 6, 30), indicator_codes=["honour_count"])}
    assert early[("210202", "honour_count")].denominator == 1


def _xlsx(tmp_path, name, rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def test_import_honours_with_chinese_headers(world, tmp_path):
    path = _xlsx(
        tmp_path,
        "honours.xlsx",
        [
            ["姓名", "身份证号", "荣誉类别", "级别", "授予年度", "企业统一社会信用代码", "称号全称"],
            ["李劳模", id_number(1), "劳动模范", "省级", 2012, world["zs"].credit_code, "辽宁省劳动模范"],
            ["李劳模", id_number(1), "五一劳动奖章", "全国", 2099, world["zs"].credit_code, ""],
            ["张三", id_number(1), "劳模", "市", 2011, world["zs"].credit_code, ""],
            ["李劳模", id_number(1), "劳模", "市", 2010, world["xg"].credit_code, ""],
        ],
    )
    result = run_import("honours", path, actor=world["officer"])
    messages = [str(e) for e in result.errors]
    assert any("第 3 行" in m and "不能晚于今年" in m for m in messages)
    assert any("第 4 行" in m and "姓名与该身份证号登记的姓名不一致" in m for m in messages)
    assert any("第 5 行" in m and "不在您的管辖范围内" in m for m in messages)
    assert not Honour.objects.exists()
    good = _xlsx(
        tmp_path,
        "ok.xlsx",
        [
            ["姓名", "身份证号", "荣誉类别", "级别", "授予年度", "企业统一社会信用代码"],
            ["李劳模", id_number(1), "劳动模范", "省级", 2012, world["zs"].credit_code],
        ],
    )
    result = run_import("honours", good, actor=world["officer"])
    assert (result.created, result.rejected) == (1, 0)
    assert AuditEntry.objects.filter(entity="exemplars.honour", action="import").count() == 1


def test_import_studios_teams_and_entries(world, tmp_path, city):
    studios = _xlsx(
        tmp_path,
        "s.xlsx",
        [
            [
                "工作室名称",
                "领办人姓名",
                "领办人身份证号",
                "企业统一社会信用代码",
                "命名级别",
                "成立日期",
                "成员人数",
                "专利数",
                "创效（万元）",
            ],
            [
                "数控创新工作室",
                "李劳模",
                id_number(1),
                world["zs"].credit_code,
                "市级",
                "2011-05-01",
                8,
                3,
                "12.5",
            ],
        ],
    )
    assert run_import("studios", studios, actor=world["officer"]).created == 1
    assert Studio.objects.get().savings == 12.5
    teams = _xlsx(
        tmp_path,
        "t.xlsx",
        [
            ["班组名称", "企业统一社会信用代码", "级别", "授予年度", "班组人数"],
            ["装配一班", world["zs"].credit_code, "省级", 2012, 12],
        ],
    )
    assert run_import("pioneer_teams", teams, actor=world["officer"]).created == 1
    assert PioneerTeam.objects.get().members_count == 12
    services.competition_create(
        actor=world["officer"],
        name="中山区焊工比武",
        kind="skill",
        organiser_level="district",
        unit=city.zhongshan,
        starts_on=D(2012, 4, 1),
        ends_on=D(2012, 10, 31),
    )
    entries = _xlsx(
        tmp_path,
        "e.xlsx",
        [
            ["竞赛名称", "企业统一社会信用代码", "参赛职工人数", "获奖"],
            ["中山区焊工比武", world["zs"].credit_code, 6, "二等奖"],
            ["不存在的比赛", world["zs"].credit_code, 1, ""],
        ],
    )
    result = run_import("competition_entries", entries, actor=world["officer"], keep_valid=True)
    assert result.created == 1 and "没有名为“不存在的比赛”的竞赛" in str(result.errors[0])
    assert CompetitionEntry.objects.get().award == "二等奖"


def test_pages_and_exports(client, world, city):
    services.honour_create(
        actor=world["officer"],
        person=world["person"],
        kind="labour_model",
        level="city",
        year=2012,
        enterprise=world["zs"],
    )
    services.pioneer_create(
        actor=world["officer"], name="先锋班组", enterprise=world["zs"], level="city", year=2012
    )
    studio = services.studio_create(
        actor=world["officer"],
        name="李劳模工作室",
        leader=world["person"],
        enterprise=world["zs"],
        founded_on=D(2011, 3, 1),
    )
    competition = services.competition_create(
        actor=world["officer"],
        name="区技能赛",
        kind="skill",
        organiser_level="district",
        unit=city.zhongshan,
        starts_on=D(2012, 4, 1),
        ends_on=D(2012, 10, 31),
    )
    client.force_login(world["officer"])
    assert "李劳模" in client.get(reverse("exemplars:honour_list")).content.decode()
    assert "先锋班组" in client.get(reverse("exemplars:honour_list") + "?tab=teams").content.decode()
    assert "李劳模工作室" in client.get(reverse("exemplars:studio_list")).content.decode()
    assert "区技能赛" in client.get(reverse("exemplars:competition_list")).content.decode()
    response = client.post(
        reverse("exemplars:competition_detail", args=[competition.pk]),
        {"enterprise": world["zs"].credit_code, "workers": "9", "award": "一等奖"},
    )
    assert response.status_code == 302 and CompetitionEntry.objects.get().workers == 9
    response = client.post(
        reverse("exemplars:studio_detail", args=[studio.pk]),
        {"patents": "4", "savings": "9.5", "results": "改进"},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("exemplars:honour_create"),
        {
            "id_number": id_number(1),
            "kind": "may_day_medal",
            "level": "city",
            "year": "2099",
            "enterprise": world["zs"].credit_code,
        },
    )
    assert response.status_code == 400 and "不能晚于今年" in response.content.decode()
    rows = list(
        load_workbook(io.BytesIO(client.get(reverse("exemplars:honour_export")).getvalue())).active.values
    )
    assert rows[0][0] == "姓名" and rows[1][0] == "李劳模"
    rows = list(
        load_workbook(io.BytesIO(client.get(reverse("exemplars:studio_export")).getvalue())).active.values
    )
    assert rows[1][0] == "李劳模工作室"
    client.force_login(world["xg_officer"])
    assert "李劳模" not in client.get(reverse("exemplars:honour_list")).content.decode()
    assert client.get(reverse("exemplars:studio_detail", args=[studio.pk])).status_code == 404


def test_api(client, world):
    client.force_login(world["officer"])
    response = client.post(
        "/api/v1/exemplars/honours/",
        {
            "id_number": id_number(1),
            "kind": "labour_model",
            "level": "city",
            "year": 2012,
            "enterprise": world["zs"].credit_code,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    future = client.post(
        "/api/v1/exemplars/honours/",
        {
            "id_number": id_number(1),
            "kind": "labour_model",
            "level": "city",
            "year": 2099,
            "enterprise": world["zs"].credit_code,
        },
        content_type="application/json",
    )
    assert future.status_code == 400 and "不能晚于今年" in future.json()["detail"]
    assert client.get("/api/v1/exemplars/honours/").json()["count"] == 1
    client.force_login(world["xg_officer"])
    assert client.get("/api/v1/exemplars/honours/").json()["count"] == 0
