"""The programme pages: the contract workflow through its forms, scope (404) and roles (403), the review
queue, the work list and its export, the systems / stations / safety lists and the enterprise panel."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code
from safetynet.programmes import services
from safetynet.programmes.models import (
    CollectiveContract,
    ContractStatus,
    ServiceStation,
    StationType,
    SystemKind,
)
from safetynet.programmes.tests.helpers import D, make_actors, to_draft, to_signed
from safetynet.programmes.views import STEPS


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def actors(city, make_staff):
    return make_actors(city, make_staff)


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def contract_url(contract, slug: str | None = None) -> str:
    if slug is None:
        return reverse("programmes:contract_detail", args=[contract.pk])
    return reverse(f"programmes:contract_{slug.replace('-', '_')}", args=[contract.pk])


def test_contract_from_offer_to_filed_through_the_forms(actors, city):
    chair, street = login(actors.chair), login(actors.street_officer)
    response = chair.post(
        reverse("programmes:contract_create"),
        {
            "kind": "wage",
            "scope": "enterprise",
            "enterprise_codes": actors.enterprise.credit_code,
            "offered_on": "2012-01-05",
            "attachment": SimpleUploadedFile("要约书.pdf", b"%PDF offer"),
        },
    )
    contract = CollectiveContract.objects.get()
    assert response.status_code == 302 and response["Location"] == contract_url(contract)
    page = chair.get(contract_url(contract)).content.decode()
    assert "登记开始协商" in page and "要约书" not in page  # the file is a download link, named by the step
    assert contract.steps.get().attachment.name.endswith(".pdf")

    assert chair.post(contract_url(contract, "bargain"), {"on": "2012-01-10"}).status_code == 302
    response = chair.post(
        contract_url(contract, "draft"),
        {
            "on": "2012-01-20",
            "clauses": ["wages", "hours"],
            "wage_rise_percent": "8.5",
            "attachment": SimpleUploadedFile("草案.docx", b"draft"),
        },
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT and contract.clauses == ["wages", "hours"]

    # The chair does not see the pre-review form; posting it anyway is refused with the reason.
    page = chair.get(contract_url(contract)).content.decode()
    assert "等待上级工会“青泥洼桥街道”预审" in page and "提交预审意见" not in page
    response = chair.post(contract_url(contract, "pre-review"), {"on": "2012-01-22", "decision": "pass"})
    assert (
        response.status_code == 200
        and "只有上级工会“青泥洼桥街道”的工作人员才能预审" in response.content.decode()
    )

    # The street officer sees it in the queue, returns it (comments required), then passes the resubmission.
    queue = street.get(reverse("programmes:review_queue")).content.decode()
    assert str(contract) in queue
    assert str(contract) not in chair.get(reverse("programmes:review_queue")).content.decode()
    response = street.post(contract_url(contract, "pre-review"), {"on": "2012-01-22", "decision": "return"})
    assert "退回合同草案时请写明修改意见" in response.content.decode()
    street.post(
        contract_url(contract, "pre-review"),
        {"on": "2012-01-22", "decision": "return", "comments": "工资增幅请与上年度经济效益挂钩"},
    )
    contract.refresh_from_db()
    assert contract.status == ContractStatus.RETURNED
    chair.post(contract_url(contract, "draft"), {"on": "2012-01-24", "wage_rise_percent": "9"})
    street.post(contract_url(contract, "pre-review"), {"on": "2012-01-25", "decision": "pass"})
    contract.refresh_from_db()
    assert contract.status == ContractStatus.REVIEWED

    # Signing before the vote is refused; the vote rule is shown when it fails.
    response = chair.post(
        contract_url(contract, "sign"),
        {"signed_on": "2012-02-10", "effective_on": "2012-03-01", "expires_on": "2014-12-31"},
    )
    assert "合同尚未经职代会审议通过，不能签订" in response.content.decode()
    chair.post(
        contract_url(contract, "vote"),
        {
            "held_on": "2012-02-01",
            "representatives_total": 30,
            "attended": 25,
            "votes_for": 20,
            "votes_against": 5,
        },
    )
    chair.post(
        contract_url(contract, "sign"),
        {"signed_on": "2012-02-10", "effective_on": "2012-03-01", "expires_on": "2014-12-31"},
    )
    chair.post(contract_url(contract, "file"), {"filed_on": "2012-02-15"})
    contract.refresh_from_db()
    assert contract.status == ContractStatus.FILED and contract.deemed_effective_on == D(2012, 3, 2)

    page = chair.get(contract_url(contract)).content.decode()
    assert "工资增幅请与上年度经济效益挂钩" in page  # the return's comments stay in the step history
    assert "下一步" in page and "登记生效" in page
    step = contract.steps.exclude(attachment="").order_by("pk").last()
    download = chair.get(reverse("programmes:step_attachment", args=[step.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"draft"


def test_every_contract_url_is_404_for_another_district_and_403_for_a_viewer(actors, city, make_staff):
    contract = to_draft(actors)
    step = contract.steps.first()
    xigang = login(make_staff("xg", city.xigang, "unit_admin"))
    viewer = login(make_staff("zs_viewer", city.zhongshan, "viewer"))
    urls = [contract_url(contract), reverse("programmes:step_attachment", args=[step.pk])]
    urls += [contract_url(contract, slug) for slug in STEPS]
    for url in urls:
        assert xigang.get(url).status_code == 404, url
        assert xigang.post(url, {"on": "2012-02-01"}).status_code in (404, 405), url
    for slug in STEPS:
        assert viewer.post(contract_url(contract, slug), {"on": "2012-02-01"}).status_code == 403
    assert viewer.get(contract_url(contract)).status_code == 200
    assert viewer.post(reverse("programmes:contract_create"), {}).status_code == 403
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT
    # Lists of 西岗区 show nothing of 中山区, and naming a 中山区 unit is a 404.
    assert str(contract) not in xigang.get(reverse("programmes:contract_list")).content.decode()
    assert xigang.get(reverse("programmes:contract_list"), {"unit": city.zhongshan.pk}).status_code == 404
    assert xigang.get(reverse("programmes:worklist"), {"unit": city.street_a.pk}).status_code == 404


def test_contract_list_filters_and_export(actors, city):
    signed = to_signed(actors)  # filing due 2012-02-20: overdue today
    other = EnterpriseFactory(
        org_unit=actors.sibling, credit_code=make_credit_code(401), name="春柳食品有限公司"
    )
    services.contract_offer(actor=actors.street_officer, kind="women", enterprises=[other])
    client = login(actors.street_officer)
    page = client.get(reverse("programmes:contract_list")).content.decode()
    assert str(signed) in page and "春柳食品有限公司女职工专项集体合同" in page
    page = client.get(reverse("programmes:contract_list"), {"overdue": "1"}).content.decode()
    assert str(signed) in page and "春柳食品有限公司" not in page and "逾期未备案" in page
    page = client.get(reverse("programmes:contract_list"), {"kind": "women"}).content.decode()
    assert str(signed) not in page
    response = client.get(reverse("programmes:contract_export"), {"kind": "wage"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "合同名称" and [r[0] for r in rows[1:]] == [str(signed)]
    assert rows[1][5] == "已签订"


def test_worklist_lists_unionised_enterprises_lacking_each_programme_and_exports(actors, city, make_staff):
    UnionFactory(org_unit=city.community_a, enterprises=[actors.enterprise], founded_on=D(2006, 1, 1))
    EnterpriseFactory(org_unit=city.community_a, credit_code=make_credit_code(402), name="未建会商店")
    services.system_create(
        actor=None, system=SystemKind.CONGRESS, enterprises=[actors.enterprise], established_on=D(2008, 1, 1)
    )
    officer = login(make_staff("zs_officer", city.zhongshan, "operator"))
    response = officer.get(reverse("programmes:worklist"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "友好机械有限公司" in page and "未建会商店" not in page
    assert f"/orgs/enterprises/{actors.enterprise.pk}/" in page
    page = officer.get(reverse("programmes:worklist"), {"programme": "congress"}).content.decode()
    assert "友好机械有限公司" not in page and "没有缺项" in page
    response = officer.get(reverse("programmes:worklist_export"), {"programme": "openness"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:2] == ("统一社会信用代码", "企业名称")
    assert rows[1][1] == "友好机械有限公司" and rows[1][7] == "有" and rows[1][8] == "缺"


def test_enterprise_panel_shows_the_programmes(actors, city):
    contract = to_signed(actors)
    services.station_create(
        actor=None,
        name="友好机械职工服务站",
        station_type=StationType.COMPREHENSIVE,
        enterprise=actors.enterprise,
        opened_on=D(2011, 1, 1),
        functions=["legal", "assistance"],
    )
    services.ankang_entry_record(actor=None, enterprise=actors.enterprise, year=2012, workers_taking_part=80)
    client = login(actors.chair)
    url = reverse("orgs:enterprise_detail", args=[actors.enterprise.pk])
    page = client.get(url, {"tab": "programmes"}).content.decode()
    assert 'id="programme-panel"' in page
    assert reverse("programmes:contract_detail", args=[contract.pk]) in page
    assert "友好机械职工服务站" in page and "法律援助" in page and "2012（80 人）" in page
    assert "发出要约" in page
    # Other tabs don't compute the panel.
    assert 'id="programme-panel"' not in client.get(url).content.decode()


def test_system_station_and_safety_pages(actors, city, make_staff):
    record = services.system_create(
        actor=None, system=SystemKind.CONGRESS, enterprises=[actors.enterprise], established_on=D(2008, 1, 1)
    )
    session = services.congress_session_create(
        actor=None,
        system=record,
        held_on=D(2012, 3, 1),
        representatives_total=30,
        attended=25,
        title="三届二次",
    )
    services.congress_vote_record(
        actor=None,
        session=session,
        item_kind="placement",
        title="职工安置方案",
        votes_for=20,
        votes_against=2,
    )
    services.safety_supervisor_create(
        actor=None, enterprise=actors.enterprise, name="李监督", valid_from=D(2010, 1, 1)
    )
    services.team_safety_record(actor=None, enterprise=actors.enterprise, year=2012, built=True)
    client = login(actors.street_officer)
    page = client.get(reverse("programmes:system_list")).content.decode()
    assert "友好机械有限公司职代会" in page and "职工安置方案" in page and "三届二次" in page
    page = client.get(reverse("programmes:safety"), {"tab": "supervisors"}).content.decode()
    assert "李监督" in page and "未培训" in page
    page = client.get(reverse("programmes:safety"), {"tab": "teams", "year": 2012}).content.decode()
    assert "友好机械有限公司" in page

    response = client.post(
        reverse("programmes:station_create"),
        {
            "name": "友好社区职工服务站",
            "station_type": "radiating",
            "org_unit": city.community_a.pk,
            "functions": ["membership", "rights"],
            "opened_on": "2012-05-01",
            "staff_count": 2,
        },
    )
    assert response.status_code == 302
    station = ServiceStation.objects.get()
    assert station.functions == ["rights", "membership"] and station.enterprise is None
    page = client.get(reverse("programmes:station_list")).content.decode()
    assert "友好社区职工服务站" in page and "入会服务" in page
    # A closing day before the opening is refused next to its field.
    response = client.post(
        reverse("programmes:station_edit", args=[station.pk]),
        {
            "name": "友好社区职工服务站",
            "station_type": "radiating",
            "org_unit": city.community_a.pk,
            "opened_on": "2012-05-01",
            "closed_on": "2012-04-01",
            "staff_count": 2,
        },
    )
    assert response.status_code == 200 and "撤销日期必须晚于启用日期" in response.content.decode()
    xigang = login(make_staff("xg", city.xigang, "operator"))
    assert xigang.get(reverse("programmes:station_edit", args=[station.pk])).status_code == 404
    assert "友好社区职工服务站" not in xigang.get(reverse("programmes:station_list")).content.decode()
    assert "友好机械有限公司" not in xigang.get(reverse("programmes:system_list")).content.decode()
