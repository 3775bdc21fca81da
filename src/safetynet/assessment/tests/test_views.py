"""Pages and API: thin, scoped (a district sees its own scores and the published ranking, not other districts'
evidence), bad input shown in Chinese."""

from __future__ import annotations

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from safetynet.assessment import services
from safetynet.assessment.models import Evidence, Letter

from .conftest import DAY, publish_and_review

PDF = b"%PDF-1.4\n%%EOF\n"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_menu_pages_answer(dataset):
    client = client_for(dataset.city_admin)
    for name in ("assessment:scheme_list", "assessment:score_board", "assessment:letter_list"):
        assert client.get(reverse(name)).status_code == 200
    page = client.get(reverse("assessment:scheme_detail", args=[dataset.scheme.pk])).content.decode()
    assert "建会率" in page and "发布方案" in page


def test_publish_refusal_is_shown_in_chinese(dataset):
    client = client_for(dataset.city_admin)
    client.post(
        reverse("assessment:item_add", args=[dataset.scheme.pk]),
        {"name": "多余", "kind": "manual", "weight": "5"},
    )
    response = client.post(
        reverse("assessment:scheme_transition", args=[dataset.scheme.pk]), {"action": "publish"}, follow=True
    )
    assert "各项分值合计应为 100 分，现为 105.00 分" in response.content.decode()


def test_a_district_sees_its_own_scores_not_the_others(dataset, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    publish_and_review(dataset)
    manual = dataset.items["特色工作"]
    zs, xg = dataset.city.zhongshan, dataset.city.xigang
    services.evidence_upload(
        actor=dataset.xigang_officer, item=manual, org_unit=xg, file=SimpleUploadedFile("西岗材料.pdf", PDF)
    )
    client = client_for(dataset.zhongshan_officer)
    board = client.get(
        reverse("assessment:score_board"), {"scheme": dataset.scheme.pk, "as_of": DAY}
    ).content.decode()
    assert "中山区" in board and "西岗区" not in board and "61.00" in board
    assert client.get(reverse("assessment:unit_score", args=[dataset.scheme.pk, zs.pk])).status_code == 200
    assert client.get(reverse("assessment:unit_score", args=[dataset.scheme.pk, xg.pk])).status_code == 404
    evidence = Evidence.objects.get(name="西岗材料.pdf")
    assert client.get(reverse("assessment:evidence_download", args=[evidence.pk])).status_code == 404
    assert (
        client_for(dataset.city_admin)
        .get(reverse("assessment:evidence_download", args=[evidence.pk]))
        .status_code
        == 200
    )
    # The ranking (all units) only once the bulletin is out.
    assert client.get(reverse("assessment:bulletin", args=[dataset.scheme.pk])).status_code == 404
    api = api_for(dataset.zhongshan_officer)
    rows = api.get(f"/api/v1/assessment/schemes/{dataset.scheme.pk}/scores/", {"as_of": "2012-12-31"}).json()
    assert [(r["unit"], r["total"]) for r in rows] == [("210202", "61.00")]
    assert api.get(f"/api/v1/assessment/schemes/{dataset.scheme.pk}/ranking/").status_code == 404


def test_evidence_upload_refusal_and_review_on_the_page(dataset, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    publish_and_review(dataset)
    zs = dataset.city.zhongshan
    manual = dataset.items["特色工作"]
    url = reverse("assessment:evidence_upload", args=[dataset.scheme.pk, zs.pk])
    client = client_for(dataset.zhongshan_officer)
    response = client.post(
        url, {"item": manual.pk, "file": SimpleUploadedFile("伪装.pdf", b"MZ\x90\x00 exe")}, follow=True
    )
    assert "不是 PDF、PNG 或 JPEG 文件" in response.content.decode()
    response = client.post(url, {"item": manual.pk, "file": SimpleUploadedFile("总结.pdf", PDF)}, follow=True)
    assert "已上传“总结.pdf”" in response.content.decode()
    # A viewer may not upload.
    assert client_for(dataset.zhongshan_viewer).post(url, {"item": manual.pk}).status_code == 403
    review = client_for(dataset.city_admin).post(
        reverse("assessment:review", args=[dataset.scheme.pk, zs.pk]),
        {"item": manual.pk, "points": "19", "reason": "补充材料"},
        follow=True,
    )
    assert "已评分" in review.content.decode()


def test_letters_signed_through_the_api_and_the_page(dataset):
    publish_and_review(dataset)
    letter = Letter.objects.get(scheme=dataset.scheme, org_unit=dataset.city.zhongshan)
    api = api_for(dataset.zhongshan_officer)
    listed = api.get("/api/v1/assessment/letters/").json()
    assert [row["unit"] for row in listed["results"]] == ["210202"]
    assert (
        api_for(dataset.xigang_officer).post(f"/api/v1/assessment/letters/{letter.pk}/sign/").status_code
        == 404
    )
    answer = api.post(f"/api/v1/assessment/letters/{letter.pk}/sign/")
    assert answer.status_code == 200 and answer.json()["status"] == "signed"
    page = client_for(dataset.zhongshan_officer).get(reverse("assessment:letter_detail", args=[letter.pk]))
    assert "已签订" in page.content.decode() and "90.0 %" in page.content.decode()
    again = api.post(f"/api/v1/assessment/letters/{letter.pk}/sign/")
    assert again.status_code == 400 and "不能重复签订" in again.json()["detail"]


def test_appeal_api_and_bulletin_files(dataset):
    publish_and_review(dataset)
    services.scheme_freeze(
        actor=dataset.city_admin, scheme=dataset.scheme, day=DAY, appeal_until=timezone.localdate()
    )
    api = api_for(dataset.zhongshan_officer)
    created = api.post(
        "/api/v1/assessment/appeals/", {"item": dataset.items["信息报送"].pk, "reason": "迟报系系统故障"}
    )
    assert created.status_code == 201, created.content
    city = client_for(dataset.city_admin)
    city.post(
        reverse("assessment:appeal_decide", args=[created.json()["id"]]),
        {"upheld": "no", "decision": "系统当日运行正常"},
    )
    response = city.post(
        reverse("assessment:scheme_transition", args=[dataset.scheme.pk]),
        {"action": "publish_bulletin"},
        follow=True,
    )
    assert "考核通报" in response.content.decode()
    pdf = city.get(reverse("assessment:bulletin_pdf", args=[dataset.scheme.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    xlsx = client_for(dataset.zhongshan_officer).get(
        reverse("assessment:bulletin_xlsx", args=[dataset.scheme.pk])
    )
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    ranking = api.get(f"/api/v1/assessment/schemes/{dataset.scheme.pk}/ranking/").json()
    assert [(r["unit"], r["rank"], r["items"]) for r in ranking] == [("210202", 1, []), ("210203", 2, [])]
    late = api.post("/api/v1/assessment/appeals/", {"item": dataset.items["建会率"].pk, "reason": "晚了"})
    assert late.status_code == 400


def test_live_figure_differs_after_freeze_on_the_unit_page(dataset):
    from safetynet.orgs.models import Enterprise
    from safetynet.orgs.tests.factories import UnionFactory

    publish_and_review(dataset)
    services.scheme_freeze(
        actor=dataset.city_admin,
        scheme=dataset.scheme,
        day=DAY,
        appeal_until=timezone.localdate() + datetime.timedelta(days=3),
    )
    UnionFactory(
        org_unit=dataset.city.community_a,
        name="补建工会",
        enterprises=[Enterprise.objects.get(name="中山企业3")],
    )
    page = (
        client_for(dataset.city_admin)
        .get(
            reverse("assessment:unit_score", args=[dataset.scheme.pk, dataset.city.zhongshan.pk]),
            {"as_of": DAY},
        )
        .content.decode()
    )
    assert "实时数值已变化" in page and "25.00" in page and "40.00" in page
