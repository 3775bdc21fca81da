"""A worker applies for assistance on the platform and follows it; the officers see where it came from; the
sweep tells the worker of each decision exactly once. Also: an appeal from the platform is channel 网络工会."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from safetynet.assistance import services as assistance_services
from safetynet.assistance.models import (
    Application,
    ApplicationStatus,
    Evidence,
    ProgrammeKind,
    SubmittedVia,
)
from safetynet.assistance.tests import factories
from safetynet.cases.models import Case, Channel
from safetynet.orgs.models import OrgLevel
from safetynet.portal import services
from safetynet.portal.models import AssistanceNotice, WorkerNotification
from safetynet.portal.sweeps import notify_assistance_decisions
from safetynet.portal.tests.helpers import PASSWORD, make_account

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
OPEN_WINDOW = (TODAY - datetime.timedelta(days=5), TODAY + datetime.timedelta(days=20))
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n"


def _round(city, **extra):
    return factories.make_round(
        city,
        year=TODAY.year,
        window=extra.pop("window", OPEN_WINDOW),
        levels=(OrgLevel.STREET, OrgLevel.DISTRICT),
        **extra,
    )


@pytest.fixture
def worker(client, world):
    account = make_account("13920000001", name="王小明", id_number=world.people["王小明"]["id_number"])
    client.post(reverse("portal:login"), {"mobile": "13920000001", "password": PASSWORD})
    return account


def _open_file(world, city):
    return factories.make_file(city.street_a, person=world.people["王小明"]["person"])


def _decided_texts(account):
    return list(
        WorkerNotification.objects.filter(account=account, text__contains="您申请的")
        .exclude(text__contains="已提交")
        .order_by("id")
        .values_list("text", flat=True)
    )


def test_without_an_open_hardship_file_the_worker_is_told_why(client, world, city, worker):
    round_ = _round(city)
    page = client.get(reverse("portal:assistance_apply")).content.decode()
    assert "现在没有您可以申请的帮扶批次" in page and "困难职工档案" in page
    response = client.post(reverse("portal:assistance_apply"), {"round": round_.pk})
    assert response.status_code == 400
    assert "您还没有在档的困难职工档案" in response.content.decode()
    assert not Application.objects.exists()


def test_outside_the_window_is_refused(client, world, city, worker):
    _open_file(world, city)
    closed = _round(city, window=(TODAY - datetime.timedelta(days=30), TODAY - datetime.timedelta(days=1)))
    page = client.get(reverse("portal:assistance_apply")).content.decode()
    assert closed.title not in page
    response = client.post(reverse("portal:assistance_apply"), {"round": closed.pk})
    assert response.status_code == 400 and "不在批次" in response.content.decode()
    assert "申请期" in response.content.decode()
    assert not Application.objects.exists()


def test_student_aid_needs_the_admission_letter_of_the_right_type(client, world, city, worker):
    _open_file(world, city)
    round_ = _round(city, kind=ProgrammeKind.STUDENT_AID, title="金秋助学")
    url = reverse("portal:assistance_apply")
    page = client.get(url).content.decode()
    assert "金秋助学" in page and 'name="admission_letter"' in page
    response = client.post(url, {"round": round_.pk, "student_name": "王小红", "school": "大连理工大学"})
    assert response.status_code == 400 and "须上传录取通知书" in response.content.decode()
    exe = SimpleUploadedFile("通知书.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = client.post(
        url, {"round": round_.pk, "student_name": "王小红", "school": "大连理工大学", "admission_letter": exe}
    )
    page = response.content.decode()
    assert response.status_code == 400 and "类型不支持" in page and 'aria-invalid="true"' in page
    big = SimpleUploadedFile(
        "录取通知书.pdf", PDF + b"0" * (10 * 1024 * 1024), content_type="application/pdf"
    )
    response = client.post(
        url, {"round": round_.pk, "student_name": "王小红", "school": "大连理工大学", "admission_letter": big}
    )
    assert response.status_code == 400 and "超过了 10 MB" in response.content.decode()
    assert not Application.objects.exists()
    letter = SimpleUploadedFile("录取通知书.pdf", PDF, content_type="application/pdf")
    response = client.post(
        url,
        {"round": round_.pk, "student_name": "王小红", "school": "大连理工大学", "admission_letter": letter},
    )
    assert response.status_code == 302
    application = Application.objects.get()
    assert application.submitted_via == SubmittedVia.PLATFORM and application.student_name == "王小红"
    letters = Evidence.objects.filter(application=application)
    assert [(e.kind, e.original_name) for e in letters] == [("admission", "录取通知书.pdf")]


def test_apply_follow_approve_pay_and_the_sweep_tells_once(client, world, city, worker, make_staff):
    hardship_file = _open_file(world, city)
    round_ = _round(city, title="送温暖（网络工会测试）")
    page = client.get(reverse("portal:assistance_apply")).content.decode()
    assert round_.title in page
    response = client.post(reverse("portal:assistance_apply"), {"round": round_.pk, "reason": "家人住院"})
    assert response.status_code == 302 and response["Location"] == reverse("portal:applications")
    application = Application.objects.get()
    assert application.submitted_via == SubmittedVia.PLATFORM
    assert application.hardship_file == hardship_file and application.reason == "家人住院"
    followed = client.get(reverse("portal:applications")).content.decode()
    assert round_.title in followed and "审核中" in followed and "正在由乡镇街道工会审核" in followed
    # A second application to the same round: refused in Chinese, nothing saved.
    again = client.post(reverse("portal:assistance_apply"), {"round": round_.pk})
    assert again.status_code == 400 and "不能重复申请" in again.content.decode()
    assert Application.objects.count() == 1

    # Officers see where it came from, in the queue and on the application's page.
    street_officer = make_staff("qn_officer", city.street_a, "operator")
    client.force_login(street_officer)
    queue = client.get(reverse("assistance:review_queue")).content.decode()
    assert "来自网络工会" in queue
    detail = client.get(reverse("assistance:application_detail", args=[application.pk])).content.decode()
    assert "来自网络工会" in detail
    api = client.get(f"/api/v1/assistance/applications/{application.pk}/")
    assert api.status_code == 200 and api.json()["submitted_via"] == "platform"

    # The chain: street, then district.
    application = assistance_services.application_vote(
        actor=street_officer, application=application, decision="approve"
    )
    assert (
        application.status == ApplicationStatus.IN_REVIEW and application.current_level == OrgLevel.DISTRICT
    )
    notify_assistance_decisions(timezone.now())
    assert _decided_texts(worker) == []
    application = assistance_services.application_vote(
        actor=world.officer, application=application, decision="approve"
    )
    assert application.status == ApplicationStatus.APPROVED

    notify_assistance_decisions(timezone.now())
    notify_assistance_decisions(timezone.now())  # a second run tells nobody twice
    assert _decided_texts(worker) == ["您申请的“送温暖（网络工会测试）”审核通过，将进行公示。"]

    application = assistance_services.application_notice_start(actor=None, application=application, on=TODAY)
    application = assistance_services.application_notice_end(
        actor=None, application=application, on=application.notice_until + datetime.timedelta(days=1)
    )
    assistance_services.payment_create(
        actor=None, application=application, amount=application.amount, on=application.notice_until
    )
    notify_assistance_decisions(timezone.now())
    notify_assistance_decisions(timezone.now())
    assert _decided_texts(worker) == [
        "您申请的“送温暖（网络工会测试）”审核通过，将进行公示。",
        "您申请的“送温暖（网络工会测试）”帮扶款已发放（500.00 元）。",
    ]
    assert AssistanceNotice.objects.filter(application=application).count() == 2

    client.logout()
    client.post(reverse("portal:login"), {"mobile": "13920000001", "password": PASSWORD})
    followed = client.get(reverse("portal:applications")).content.decode()
    assert "已发放" in followed and "公示期" in followed and "500.00 元" in followed


def test_a_rejection_is_told_once(world, city, make_staff):
    account = make_account("13920000002", name="王小明", id_number=world.people["王小明"]["id_number"])
    _open_file(world, city)
    round_ = _round(city, title="医疗互助")
    application = services.assistance_apply(account=account, round_id=round_.pk, on=TODAY)
    street_officer = make_staff("qn_officer2", city.street_a, "operator")
    assistance_services.application_vote(
        actor=street_officer, application=application, decision="reject", reason="收入超过标准"
    )
    for _ in range(2):
        notify_assistance_decisions(timezone.now())
    assert _decided_texts(account) == ["您申请的“医疗互助”未通过审核。"]


def test_an_application_entered_by_an_officer_is_marked_staff_and_not_badged(client, world, city):
    hardship_file = _open_file(world, city)
    round_ = _round(city)
    application = factories.make_application(round_, hardship_file, on=TODAY)
    assert application.submitted_via == SubmittedVia.STAFF
    client.force_login(world.officer)
    detail = client.get(reverse("assistance:application_detail", args=[application.pk])).content.decode()
    assert "来自网络工会" not in detail


def test_an_appeal_from_the_platform_has_channel_platform_and_the_case_page_says_so(client, world, worker):
    account = worker
    case = services.appeal_file(
        account=account, category="wage_arrears", description="欠薪三个月", enterprise_id=world.enterprise.pk
    )
    assert case.channel == Channel.PLATFORM
    assert Case.objects.filter(channel=Channel.PLATFORM).count() == 1
    client.force_login(world.officer)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "网络工会" in page and 'id="from-platform"' in page
