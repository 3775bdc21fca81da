"""The 服务帮扶 pages: each page's happy path, a refusal in Chinese, and scope (another district's record is a
404, a viewer cannot write). The pages' "today" is 2012-12-10 (``views.today``), inside the rounds' window."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from safetynet.assistance import services, views
from safetynet.assistance.models import (
    Application,
    BatchJob,
    Budget,
    DiscountBase,
    Evidence,
    HardshipFile,
    Loan,
    Objection,
    Payment,
    PaymentBatch,
    Round,
    Vote,
)
from safetynet.assistance.tests import factories
from safetynet.members.services import employment_start
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code

DAY = factories.DAY
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class World:
    city: Any
    round: Round
    enterprise: Any
    files: list[HardshipFile]
    street: Client
    district: Client
    city_admin: Client
    viewer: Client
    xigang: Client
    users: dict[str, Any]


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(city, make_staff, monkeypatch) -> World:
    monkeypatch.setattr(views, "today", lambda: DAY)
    users = {
        "street": make_staff("zs_street", city.street_a, "operator"),
        "district": make_staff("zs_district", city.zhongshan, "operator"),
        "city": make_staff("city_admin", city.city, "city_admin"),
        "viewer": make_staff("zs_viewer", city.zhongshan, "viewer"),
        "xigang": make_staff("xg_officer", city.xigang, "unit_admin"),
    }
    round_ = factories.make_round(city)
    enterprise = EnterpriseFactory(
        org_unit=city.community_a, credit_code=make_credit_code(501), name="友好机械有限公司"
    )
    files = [
        factories.make_file(city.community_a, person=factories.make_person(10 + i, name=f"困难职工{i}"))
        for i in range(3)
    ]
    return World(
        city=city,
        round=round_,
        enterprise=enterprise,
        files=files,
        street=client_for(users["street"]),
        district=client_for(users["district"]),
        city_admin=client_for(users["city"]),
        viewer=client_for(users["viewer"]),
        xigang=client_for(users["xigang"]),
        users=users,
    )


def text(response: Any) -> str:
    return response.content.decode()


def workbook_rows(response: Any) -> list[tuple[Any, ...]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    return list(sheet.iter_rows(values_only=True))


# --- hardship files -------------------------------------------------------------------------------


def test_file_list_masks_numbers_filters_and_exports(world):
    response = world.street.get(reverse("assistance:file_list"))
    page = text(response)
    assert response.status_code == 200
    assert "困难职工0" in page and world.files[0].person.id_number_masked in page
    assert make_id_number(10) not in page  # never the clear number
    assert "困难职工1" not in text(world.street.get(reverse("assistance:file_list"), {"q": "困难职工0"}))
    rows = workbook_rows(world.street.get(reverse("assistance:file_export"), {"q": "困难职工0"}))
    assert rows[0][:3] == ("档案编号", "姓名", "证件号码")
    assert [row[1] for row in rows[1:]] == ["困难职工0"]
    assert rows[1][2] == world.files[0].person.id_number_masked


def test_file_list_of_another_district_shows_nothing(world):
    page = text(world.xigang.get(reverse("assistance:file_list")))
    assert "困难职工0" not in page and "暂无困难职工档案" in page
    assert (
        world.xigang.get(reverse("assistance:file_list"), {"unit": world.city.zhongshan.pk}).status_code
        == 404
    )


def test_file_create_finds_the_worker_and_opens_the_file(world):
    person = factories.make_person(50, name="李困难")
    employment_start(
        actor=None, person=person, enterprise=world.enterprise, valid_from=datetime.date(2010, 1, 1)
    )
    url = reverse("assistance:file_create")
    redirect = world.street.get(url, {"q": make_id_number(50)})
    assert redirect["Location"] == f"{url}?person={person.pk}"
    found = text(world.street.get(redirect["Location"]))
    assert "李困难" in found and person.id_number_masked in found and make_id_number(50) not in found
    assert person.id_number_masked in text(world.street.get(url, {"q": "李困"}))
    assert "没有找到" in text(world.street.get(url, {"q": "张三丰"}))
    response = world.street.post(
        url,
        {
            "person": person.pk,
            "org_unit": world.city.community_a.pk,
            "opened_on": "2012-12-01",
            "household_size": "3",
            "monthly_income": "1,800",
            "causes": ["illness", "schooling"],
            "level": "general",
            "household_members": "李小明 儿子 2005 在读高中\n王芳 配偶",
            "note": "",
        },
    )
    hardship_file = HardshipFile.objects.get(person=person)
    assert response.status_code == 302 and response["Location"].endswith(f"/files/{hardship_file.pk}/")
    assert hardship_file.income_per_head == Decimal("600.00")
    assert hardship_file.household_members.count() == 2
    detail = text(world.street.get(response["Location"]))
    assert "600.00 元" in detail and "低于困难标准 800.00 元" in detail and "李小明" in detail


def test_file_create_refuses_bad_input_in_chinese(world):
    person = factories.make_person(51, name="赵困难")
    employment_start(
        actor=None, person=person, enterprise=world.enterprise, valid_from=datetime.date(2010, 1, 1)
    )
    data = {
        "person": person.pk,
        "org_unit": world.city.community_a.pk,
        "opened_on": "2012-12-01",
        "household_size": "0",
        "monthly_income": "-5",
        "causes": ["illness"],
        "level": "general",
    }
    response = world.street.post(reverse("assistance:file_create"), data)
    page = text(response)
    assert response.status_code == 400
    assert "“家庭人口”不能小于 1" in page and "“家庭月收入（元）”不能为负数" in page
    assert not HardshipFile.objects.filter(person=person).exists()
    # A second open file for a person who already has one: the service's reason, nothing saved.
    again = {**data, "household_size": "2", "monthly_income": "500", "person": world.files[0].person.pk}
    employment_start(
        actor=None,
        person=world.files[0].person,
        enterprise=world.enterprise,
        valid_from=datetime.date(2010, 1, 1),
    )
    response = world.street.post(reverse("assistance:file_create"), again)
    assert (
        response.status_code == 400 and HardshipFile.objects.filter(person=world.files[0].person).count() == 1
    )
    assert world.viewer.get(reverse("assistance:file_create")).status_code == 403


def test_file_review_close_evidence_and_member(world):
    hardship_file = world.files[0]
    url = reverse("assistance:file_detail", args=[hardship_file.pk])
    response = world.street.post(
        reverse("assistance:file_review", args=[hardship_file.pk]),
        {"reviewed_on": "2012-12-05", "household_size": "3", "monthly_income": "1500", "note": "属实"},
    )
    assert response.status_code == 302
    hardship_file.refresh_from_db()
    assert hardship_file.status == "reviewed" and hardship_file.reviewed_on == datetime.date(2012, 12, 5)
    assert "属实" in text(world.street.get(url, {"tab": "reviews"}))

    upload = SimpleUploadedFile("收入证明.pdf", PDF, content_type="application/pdf")
    response = world.street.post(
        reverse("assistance:file_evidence", args=[hardship_file.pk]), {"kind": "income", "file": upload}
    )
    assert response.status_code == 302
    evidence = Evidence.objects.get(hardship_file=hardship_file)
    download = world.street.get(reverse("assistance:evidence_download", args=[evidence.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert world.xigang.get(reverse("assistance:evidence_download", args=[evidence.pk])).status_code == 404

    response = world.street.post(
        reverse("assistance:file_member", args=[hardship_file.pk]), {"name": "王芳", "relation": "配偶"}
    )
    assert response.status_code == 302 and hardship_file.household_members.filter(name="王芳").exists()

    # Closing before the opening date is refused beside the field; then closed with a reason.
    response = world.street.post(
        reverse("assistance:file_close", args=[hardship_file.pk]),
        {"closed_on": "2011-01-01", "reason": "employed", "note": ""},
    )
    assert response.status_code == 400 and "脱困" in text(response)
    hardship_file.refresh_from_db()
    assert hardship_file.closed_on is None
    response = world.street.post(
        reverse("assistance:file_close", args=[hardship_file.pk]),
        {"closed_on": "2012-12-08", "reason": "employed", "note": "已在友好机械就业"},
    )
    hardship_file.refresh_from_db()
    assert response.status_code == 302 and hardship_file.status == "closed"
    assert "实现就业" in text(world.street.get(url))


def test_file_pages_answer_404_outside_scope_and_403_to_a_viewer(world):
    hardship_file = world.files[0]
    assert world.xigang.get(reverse("assistance:file_detail", args=[hardship_file.pk])).status_code == 404
    data = {"reviewed_on": "2012-12-05", "household_size": "3", "monthly_income": "1500"}
    assert (
        world.xigang.post(reverse("assistance:file_review", args=[hardship_file.pk]), data).status_code == 404
    )
    assert (
        world.viewer.post(reverse("assistance:file_review", args=[hardship_file.pk]), data).status_code == 403
    )
    hardship_file.refresh_from_db()
    assert hardship_file.status == "open"


# --- rounds and budgets ---------------------------------------------------------------------------


def round_form(**changes: Any) -> dict[str, Any]:
    data = {
        "kind": "winter_relief",
        "year": "2013",
        "title": "2013 年送温暖",
        "window_opens": "2012-12-01",
        "window_closes": "2013-01-31",
        "standard_amount": "800",
        "budget": "200000",
        "require_open_file": "on",
        "require_below_threshold": "on",
        "require_not_paid": "on",
        "review_levels": ["3", "2"],
        "notice_days": "5",
        "street_required": "1",
        "district_required": "2",
        "district_panel": "3",
        "city_required": "1",
    }
    data.update(changes)
    return data


def test_city_opens_a_round_and_splits_the_budget(world):
    response = world.city_admin.post(reverse("assistance:round_create"), round_form())
    created = Round.objects.get(title="2013 年送温暖")
    assert response.status_code == 302 and response["Location"].endswith(f"/rounds/{created.pk}/budget/")
    assert created.levels == [3, 2] and created.required_approvals(2) == 2
    url = reverse("assistance:round_budget", args=[created.pk])
    page = text(world.city_admin.get(url))
    assert "中山区" in page and "西岗区" in page and "200,000.00" in page
    response = world.city_admin.post(
        url,
        {
            "unit": world.city.city.pk,
            f"unit-{world.city.zhongshan.pk}": "150000",
            f"unit-{world.city.xigang.pk}": "80000",
        },
    )
    assert response.status_code == 400 and "中山区" not in Budget.objects.filter(round=created).values_list(
        "org_unit__name", flat=True
    )
    response = world.city_admin.post(
        url,
        {
            "unit": world.city.city.pk,
            f"unit-{world.city.zhongshan.pk}": "120000",
            f"unit-{world.city.xigang.pk}": "80000",
        },
    )
    assert response.status_code == 302
    assert Budget.objects.get(round=created, org_unit=world.city.zhongshan).amount == Decimal("120000.00")
    rows = workbook_rows(world.city_admin.get(reverse("assistance:budget_export", args=[created.pk])))
    assert ("210202", "中山区") == rows[2][:2] or ("210202", "中山区") in [r[:2] for r in rows]


def test_round_form_refusals_and_roles(world):
    response = world.city_admin.post(
        reverse("assistance:round_create"), round_form(window_closes="2012-11-01", district_panel="1")
    )
    assert response.status_code == 400
    assert "区的评审人数（1）不能少于需同意人数（2）" in text(response)
    assert world.street.get(reverse("assistance:round_create")).status_code == 403
    assert world.viewer.post(reverse("assistance:round_create"), round_form()).status_code == 403
    assert not Round.objects.filter(title="2013 年送温暖").exists()


def test_round_list_and_detail_show_the_citys_round_to_a_street(world):
    page = text(world.street.get(reverse("assistance:round_list")))
    assert world.round.title in page
    detail = world.street.get(reverse("assistance:round_detail", args=[world.round.pk]))
    assert detail.status_code == 200 and "20,000.00" in text(detail)
    rows = workbook_rows(world.street.get(reverse("assistance:round_export")))
    assert rows[1][0] == world.round.title


# --- applications ---------------------------------------------------------------------------------


def test_apply_one_file_and_see_it_in_the_round(world):
    url = reverse("assistance:round_apply", args=[world.round.pk])
    page = text(world.street.get(url))
    assert "困难职工0" in page and "全部符合条件的档案申请" in page
    response = world.street.post(url, {"hardship_file": world.files[0].pk, "amount": ""})
    assert response.status_code == 302
    application = Application.objects.get(hardship_file=world.files[0])
    assert application.amount == Decimal("500.00") and application.current_level == 3
    assert "已为困难职工0提交申请 500.00 元" in text(world.street.get(url))
    assert "困难职工0" not in text(world.street.get(url))  # applied: no longer offered
    rows = workbook_rows(world.street.get(reverse("assistance:application_export", args=[world.round.pk])))
    assert rows[1][2] == "困难职工0"


def test_student_aid_needs_the_admission_letter(world):
    student_round = factories.make_round(world.city, kind="student_aid", title="2012 年金秋助学")
    url = reverse("assistance:round_apply", args=[student_round.pk])
    data = {"hardship_file": world.files[1].pk, "student_name": "困小明", "school": "大连理工大学"}
    response = world.street.post(url, data)
    assert response.status_code == 400 and "录取通知书" in text(response)
    assert not Application.objects.filter(round=student_round).exists()
    letter = SimpleUploadedFile("录取通知书.pdf", PDF, content_type="application/pdf")
    response = world.street.post(url, {**data, "admission_letter": letter})
    assert response.status_code == 302
    application = Application.objects.get(round=student_round)
    assert application.evidence.get().kind == "admission" and application.school == "大连理工大学"


def test_batch_application_runs_in_the_background_with_progress(world):
    url = reverse("assistance:round_batch", args=[world.round.pk])
    response = world.street.post(url, {"unit": world.city.street_a.pk})
    job = BatchJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"?task={job.pk}")
    queued = world.street.get(response["Location"], HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in text(queued) and "等待后台任务" in text(queued)
    services.application_batch_run(job_id=job.pk)  # what the worker does
    done = text(world.street.get(response["Location"], HTTP_HX_REQUEST="true"))
    assert "已提交 3 份申请" in done and "hx-trigger" not in done
    assert Application.objects.filter(round=world.round).count() == 3
    assert world.xigang.get(response["Location"]).status_code == 404
    assert world.viewer.post(url, {"unit": world.city.street_a.pk}).status_code == 403


def test_review_queue_one_click_bulk_and_the_vote_ledger(world):
    applications = [factories.make_application(world.round, f) for f in world.files]
    page = text(world.street.get(reverse("assistance:review_queue")))
    assert all(f'data-application="{a.pk}"' in page for a in applications)
    # Reject without a reason: refused, nothing in the ledger.
    response = world.street.post(
        reverse("assistance:application_vote", args=[applications[0].pk]),
        {"decision": "reject", "reason": ""},
    )
    assert response.status_code == 400 and "不同意时请写明理由" in text(response)
    assert not Vote.objects.exists()
    response = world.street.post(
        reverse("assistance:application_vote", args=[applications[0].pk]),
        {"decision": "approve", "next": reverse("assistance:review_queue")},
    )
    assert response.status_code == 302 and response["Location"] == reverse("assistance:review_queue")
    response = world.street.post(
        reverse("assistance:review_bulk"),
        {"application": [applications[1].pk, applications[2].pk], "decision": "approve"},
    )
    assert response.status_code == 302
    assert Application.objects.filter(current_level=2).count() == 3
    # the pages record votes on their day (one and bulk alike)
    assert {timezone.localdate(v.created_at) for v in Vote.objects.all()} == {DAY}
    assert "暂无待您审核" in text(world.street.get(reverse("assistance:review_queue")))
    district_queue = text(world.district.get(reverse("assistance:review_queue")))
    assert "困难职工2" in district_queue
    rows = workbook_rows(world.district.get(reverse("assistance:review_export")))
    assert len(rows) == 4
    detail = text(world.district.get(reverse("assistance:application_detail", args=[applications[0].pk])))
    assert "zs_street" in detail and "同意" in detail and "只能新增" in detail
    assert (
        world.xigang.get(reverse("assistance:application_detail", args=[applications[0].pk])).status_code
        == 404
    )
    assert (
        world.viewer.post(
            reverse("assistance:application_vote", args=[applications[0].pk]), {"decision": "approve"}
        ).status_code
        == 403
    )


def test_withdraw_an_application(world):
    application = factories.make_application(world.round, world.files[0])
    url = reverse("assistance:application_withdraw", args=[application.pk])
    assert world.street.post(url, {"reason": ""}).status_code == 400
    assert world.street.post(url, {"reason": "家庭情况好转，主动放弃"}).status_code == 302
    application.refresh_from_db()
    assert application.status == "withdrawn" and "主动放弃" in application.closing_note


def test_notice_objection_resolution_and_end(world):
    applications = [
        factories.approve_all_levels(factories.make_application(world.round, f)) for f in world.files
    ]
    url = reverse("assistance:round_notice", args=[world.round.pk])
    page = text(world.district.get(url))
    assert "开始公示（3 份审核通过的申请）" in page
    response = world.district.post(reverse("assistance:round_notice_start", args=[world.round.pk]))
    assert response.status_code == 302
    assert Application.objects.filter(status="in_notice").count() == 3
    response = world.street.post(
        reverse("assistance:objection_create", args=[applications[0].pk]),
        {"raised_on": "2012-12-11", "raised_by": "", "content": "家中另有住房出租收入"},
    )
    assert response.status_code == 302
    objection = Objection.objects.get()
    assert "家中另有住房出租收入" in text(world.district.get(url))
    response = world.district.post(
        reverse("assistance:objection_resolve", args=[objection.pk]),
        {"upheld": "1", "resolution": "经核实属实"},
    )
    assert response.status_code == 302
    applications[0].refresh_from_db()
    assert applications[0].status == "rejected"
    # The notice ends when its working days have passed (the sweep's day, through the service).
    applications[1].refresh_from_db()
    ended = services.application_notice_end_due(on=applications[1].notice_until + datetime.timedelta(days=1))
    assert ended == 2
    rows = workbook_rows(world.district.get(reverse("assistance:notice_export", args=[world.round.pk])))
    assert {row[2] for row in rows[1:]} == {"困难职工1", "困难职工2"}
    assert (
        world.xigang.post(
            reverse("assistance:objection_resolve", args=[objection.pk]), {"upheld": "0", "resolution": "x"}
        ).status_code
        == 404
    )


# --- payments -------------------------------------------------------------------------------------


def test_payment_batch_download_paid_and_reversal(world, monkeypatch):
    for hardship_file in world.files[:2]:
        factories.make_noticed_application(world.round, hardship_file)
    monkeypatch.setattr(views, "today", lambda: datetime.date(2012, 12, 28))
    url = f"{reverse('assistance:payment_list')}?round={world.round.pk}"
    page = text(world.city_admin.get(url))
    assert "2 人，共 1,000.00 元" in page
    response = world.street.post(reverse("assistance:batch_create"), {"round": world.round.pk})
    assert response.status_code == 403  # an operator does not pay
    response = world.city_admin.post(
        reverse("assistance:batch_create"), {"round": world.round.pk, "unit": world.city.street_a.pk}
    )
    assert response.status_code == 302
    batch = PaymentBatch.objects.get()
    assert batch.payments.count() == 2
    download = world.city_admin.get(reverse("assistance:batch_download", args=[batch.pk]))
    assert download.status_code == 200 and download["Content-Type"].startswith("application/vnd.openxml")
    rows = workbook_rows(download)
    assert any("困难职工0" in [str(c) for c in row] for row in rows)
    assert not any(make_id_number(10) in [str(c) for c in row] for row in rows)
    response = world.city_admin.post(
        reverse("assistance:batch_paid", args=[batch.pk]), {"paid_on": "2012-12-29"}
    )
    batch.refresh_from_db()
    assert response.status_code == 302 and batch.status == "paid"
    payment = Payment.objects.filter(kind="payment").first()
    assert (
        world.city_admin.post(
            reverse("assistance:payment_reverse", args=[payment.pk]), {"reason": ""}
        ).status_code
        == 302
    )
    assert not Payment.objects.filter(kind="reversal").exists()
    response = world.city_admin.post(
        reverse("assistance:payment_reverse", args=[payment.pk]), {"reason": "重复发放，退回"}
    )
    reversal = Payment.objects.get(kind="reversal")
    assert reversal.amount == -payment.amount and "重复发放" in reversal.reason
    rows = workbook_rows(
        world.city_admin.get(reverse("assistance:payment_export"), {"round": world.round.pk})
    )
    assert {row[6] for row in rows[1:]} == {"发放", "冲正"}
    assert world.xigang.get(reverse("assistance:batch_download", args=[batch.pk])).status_code == 404


# --- loans and bases ------------------------------------------------------------------------------


def test_loans_schedule_repayment_overdue_and_write_off(world):
    person = factories.make_person(60, name="借款人甲")
    employment_start(
        actor=None, person=person, enterprise=world.enterprise, valid_from=datetime.date(2010, 1, 1)
    )
    zs_admin = client_for(
        world.users["district"].__class__.objects.create_user(
            username="zs_admin", password="x", org_unit=world.city.zhongshan, role="unit_admin"
        )
    )
    response = zs_admin.post(
        reverse("assistance:loan_create"),
        {
            "person": person.pk,
            "principal": "6000",
            "granted_on": "2012-06-01",
            "instalment_count": "6",
            "purpose": "子女学费",
        },
    )
    loan = Loan.objects.get(person=person)
    assert response.status_code == 302 and loan.instalments.count() == 6
    overdue = text(world.district.get(reverse("assistance:loan_list"), {"tab": "overdue"}))
    assert "借款人甲" in overdue
    response = world.district.post(
        reverse("assistance:loan_repay", args=[loan.pk]), {"paid_on": "2012-12-01", "amount": "99999"}
    )
    assert response.status_code == 400
    response = world.district.post(
        reverse("assistance:loan_repay", args=[loan.pk]), {"paid_on": "2012-12-01", "amount": "1000"}
    )
    assert response.status_code == 302
    assert "1,000.00" in text(world.district.get(reverse("assistance:loan_detail", args=[loan.pk])))
    response = world.district.post(
        reverse("assistance:loan_write_off", args=[loan.pk]), {"reason": "借款人重病"}
    )
    loan.refresh_from_db()
    assert loan.status == "write_off_requested"
    assert (
        world.district.post(
            reverse("assistance:loan_write_off_decide", args=[loan.pk]), {"approve": "1"}
        ).status_code
        == 403
    )
    zs_admin.post(reverse("assistance:loan_write_off_decide", args=[loan.pk]), {"approve": "1"})
    loan.refresh_from_db()
    assert loan.status == "written_off"
    rows = workbook_rows(world.district.get(reverse("assistance:loan_export")))
    assert rows[1][1] == "借款人甲" and rows[1][2] == person.id_number_masked
    assert world.xigang.get(reverse("assistance:loan_detail", args=[loan.pk])).status_code == 404


def test_discount_bases_create_edit_end_and_export(world):
    response = world.street.post(
        reverse("assistance:base_create"),
        {
            "name": "青泥洼桥大药房",
            "kind": "pharmacy",
            "org_unit": world.city.street_a.pk,
            "address": "中山区青泥洼桥 8 号",
            "phone": "",
            "discount": "会员药品九折",
            "valid_from": "2012-01-01",
            "valid_to": "",
        },
    )
    base = DiscountBase.objects.get(name="青泥洼桥大药房")
    assert response.status_code == 302
    assert "青泥洼桥大药房" in text(world.street.get(reverse("assistance:base_list")))
    edit = {
        "name": "青泥洼桥大药房",
        "kind": "pharmacy",
        "address": "中山区青泥洼桥 9 号",
        "discount": "会员药品八八折",
        "valid_from": "2012-01-01",
    }
    assert world.street.post(reverse("assistance:base_edit", args=[base.pk]), edit).status_code == 302
    base.refresh_from_db()
    assert base.discount == "会员药品八八折"
    assert (
        world.street.post(
            reverse("assistance:base_end", args=[base.pk]), {"valid_to": "2012-12-10"}
        ).status_code
        == 302
    )
    world.street.get(reverse("assistance:base_list"))  # shows the messages
    assert "青泥洼桥大药房" not in text(world.street.get(reverse("assistance:base_list")))
    assert "青泥洼桥大药房" in text(world.street.get(reverse("assistance:base_list"), {"active": "0"}))
    rows = workbook_rows(world.street.get(reverse("assistance:base_export"), {"active": "0"}))
    assert rows[1][2] == "青泥洼桥大药房"
    assert world.xigang.get(reverse("assistance:base_edit", args=[base.pk])).status_code == 404
    assert (
        world.viewer.post(
            reverse("assistance:base_end", args=[base.pk]), {"valid_to": "2012-12-10"}
        ).status_code
        == 403
    )


def test_empty_states(world):
    for name, sentence in (
        ("assistance:loan_list", "暂无无息借款记录"),
        ("assistance:base_list", "暂无会员服务基地"),
        ("assistance:review_queue", "暂无待您审核"),
    ):
        assert sentence in text(world.street.get(reverse(name)))
    assert "暂无困难职工档案" in text(world.xigang.get(reverse("assistance:file_list")))
