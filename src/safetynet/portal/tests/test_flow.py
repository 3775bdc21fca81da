"""The worker's way through the platform, and every refusal on the way (clear Chinese, nothing saved)."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from safetynet.cases import services as case_services
from safetynet.cases.models import Case
from safetynet.core.errors import ServiceError
from safetynet.members.models import MemberCard, Membership
from safetynet.members.tests.factories import make_id_number
from safetynet.portal import services
from safetynet.portal.models import (
    AppealMessage,
    JoinApplication,
    JoinStatus,
    SmsCode,
    WorkerAccount,
    WorkerNotification,
)
from safetynet.portal.tests.helpers import PASSWORD, last_code, make_account

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n"


def _register(client, mobile: str = "13812345678") -> None:
    response = client.post(reverse("portal:register"), {"mobile": mobile, "step": "code"})
    assert response.status_code == 200
    assert "验证码已发送" in response.content.decode()
    response = client.post(
        reverse("portal:register"),
        {
            "mobile": mobile,
            "code": last_code(mobile),
            "password": PASSWORD,
            "consent": "yes",
            "step": "register",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("portal:verify")


def test_register_verify_join_approve_card(client, world):
    _register(client)
    account = WorkerAccount.objects.get()
    assert account.consent_version == services.PRIVACY_NOTICE_VERSION and account.consent_at
    assert account.mobile_masked != "13812345678" and "13812345678" not in account.mobile_encrypted
    person = world.people["王小明"]
    response = client.post(reverse("portal:verify"), {"name": "王小明", "id_number": person["id_number"]})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.person == person["person"] and account.org_unit == world.city.community_a

    page = client.get(reverse("portal:join")).content.decode()
    assert "友好电子有限公司" in page
    response = client.post(reverse("portal:join"), {"enterprise": world.enterprise.pk})
    assert response.status_code == 302
    application = JoinApplication.objects.get()
    assert application.status == JoinStatus.PENDING and application.union == world.union

    # A second one while the first is pending: refused, nothing saved.
    response = client.post(reverse("portal:join"), {"enterprise": world.enterprise.pk})
    assert response.status_code == 400 and "正在审批中" in response.content.decode()
    assert JoinApplication.objects.count() == 1

    chair = client.__class__()
    chair.force_login(world.chair)
    queue = chair.get(reverse("portal:join_queue")).content.decode()
    assert "王小明" in queue and "网络工会" in queue
    response = chair.post(
        reverse("portal:join_decide", args=[application.pk]),
        {"action": "approve", "version": application.version},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == JoinStatus.APPROVED and application.decided_by == world.chair
    membership = Membership.objects.get(person=person["person"])
    assert membership.union == world.union and membership.valid_to is None
    card = MemberCard.objects.get(person=person["person"])
    assert WorkerNotification.objects.filter(account=account, text__contains="已批准").exists()

    page = client.get(reverse("portal:card")).content.decode()
    assert card.card_number in page and "<svg" in page
    assert "友好电子有限公司工会" in client.get(reverse("portal:me")).content.decode()


def test_chair_rejects_with_reason_and_worker_withdraws(client, world):
    account = make_account("13800000001", name="李大伟", id_number=world.people["李大伟"]["id_number"])
    application = services.join_apply(account=account, enterprise_id=world.enterprise.pk)
    with pytest.raises(ServiceError) as caught:
        services.join_decide(actor=world.chair, application=application, action="reject", reason="")
    assert "理由" in caught.value.message
    services.join_decide(
        actor=world.chair, application=application, action="reject", reason="请先提交劳动合同"
    )
    application.refresh_from_db()
    assert application.status == JoinStatus.REJECTED
    assert WorkerNotification.objects.filter(account=account, text__contains="请先提交劳动合同").exists()
    again = services.join_apply(account=account, enterprise_id=world.enterprise.pk)
    services.join_withdraw(account=account, application=again)
    again.refresh_from_db()
    assert again.status == JoinStatus.WITHDRAWN
    # Out of the chair's scope: a 西岗区 chair cannot decide, and it looks like a missing record.
    third = services.join_apply(account=account, enterprise_id=world.enterprise.pk)
    other = client.__class__()
    other.force_login(world.xigang_chair)
    response = other.post(reverse("portal:join_decide", args=[third.pk]), {"action": "approve"})
    assert response.status_code == 404
    third.refresh_from_db()
    assert third.status == JoinStatus.PENDING


def test_sms_code_wrong_expired_and_too_many_attempts(world):
    mobile = "13811112222"
    services.sms_code_send(mobile=mobile)
    with pytest.raises(ServiceError) as caught:
        services.sms_code_send(mobile=mobile)
    assert caught.value.code == "rate_limited" and "1 分钟" in caught.value.message
    code = last_code(mobile)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        with pytest.raises(ServiceError) as caught:
            services.worker_register(mobile=mobile, code=wrong, password=PASSWORD, consent=True)
        assert f"还可尝试 {left} 次" in caught.value.message
    with pytest.raises(ServiceError) as caught:
        services.worker_register(mobile=mobile, code=wrong, password=PASSWORD, consent=True)
    assert "错误次数过多" in caught.value.message
    with pytest.raises(ServiceError) as caught:  # even the right code is dead now
        services.worker_register(mobile=mobile, code=code, password=PASSWORD, consent=True)
    assert caught.value.code == "sms_attempts"
    assert not WorkerAccount.objects.exists()

    from django.core.cache import cache

    cache.clear()
    services.sms_code_send(mobile=mobile)
    SmsCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(ServiceError) as caught:
        services.worker_register(mobile=mobile, code=last_code(mobile), password=PASSWORD, consent=True)
    assert "已过期" in caught.value.message
    assert not WorkerAccount.objects.exists()


def test_register_refusals(client, world):
    mobile = "13811113333"
    for data, text in (
        ({"mobile": "12345", "step": "code"}, "手机"),
        (
            {"mobile": mobile, "code": "123456", "password": PASSWORD, "step": "register"},
            "个人信息保护告知书",
        ),
        (
            {
                "mobile": mobile,
                "code": "123456",
                "password": "12345678",
                "consent": "yes",
                "step": "register",
            },
            "密码",
        ),
        (
            {"mobile": mobile, "code": "123456", "password": PASSWORD, "consent": "yes", "step": "register"},
            "请先获取短信验证码",
        ),
    ):
        response = client.post(reverse("portal:register"), data)
        assert response.status_code == 400, data
        assert text in response.content.decode(), (data, response.content.decode()[:2000])
    assert not WorkerAccount.objects.exists()
    make_account(mobile)
    services.sms_code_send(mobile=mobile)  # the same answer as for a new number
    with pytest.raises(ServiceError) as caught:
        services.worker_register(mobile=mobile, code=last_code(mobile), password=PASSWORD, consent=True)
    assert caught.value.code == "mobile_taken"
    assert WorkerAccount.objects.count() == 1


def test_verify_answers_alike_for_stranger_and_wrong_name(client, world):
    make_account("13822224444", name="赵春花", id_number=world.people["赵春花"]["id_number"])
    account = make_account("13822223333")
    client.post(reverse("portal:login"), {"mobile": "13822223333", "password": PASSWORD})
    real = world.people["王小明"]["id_number"]
    nobody = make_id_number(99, born=datetime.date(1990, 1, 1))
    wrong_name = client.post(reverse("portal:verify"), {"name": "王大明", "id_number": real})
    no_person = client.post(reverse("portal:verify"), {"name": "王大明", "id_number": nobody})
    assert wrong_name.status_code == no_person.status_code == 400
    assert services.NO_MATCH_MESSAGE in wrong_name.content.decode()

    def strip(response) -> str:
        text = response.content.decode().replace(real, "").replace(nobody, "")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)

    assert strip(wrong_name) == strip(no_person)
    assert "王小明" not in wrong_name.content.decode()
    bad_check = client.post(
        reverse("portal:verify"),
        {"name": "王小明", "id_number": real[:-1] + ("0" if real[-1] != "0" else "1")},
    )
    assert bad_check.status_code == 400 and "校验" in bad_check.content.decode()
    account.refresh_from_db()
    assert account.person_id is None
    # A person already linked to another account gets the same answer too.
    linked = client.post(
        reverse("portal:verify"), {"name": "赵春花", "id_number": world.people["赵春花"]["id_number"]}
    )
    assert services.NO_MATCH_MESSAGE in linked.content.decode()
    # Five failures a day, then no more attempts.
    for _ in range(2):
        client.post(reverse("portal:verify"), {"name": "王大明", "id_number": real})
    blocked = client.post(reverse("portal:verify"), {"name": "王小明", "id_number": real})
    assert "过于频繁" in blocked.content.decode()
    account.refresh_from_db()
    assert account.person_id is None


def test_login_lockout_per_number(client, world):
    make_account("13833334444")
    for _ in range(5):
        response = client.post(
            reverse("portal:login"), {"mobile": "13833334444", "password": "wrong-password"}
        )
        assert "手机号或密码不正确" in response.content.decode()
    response = client.post(reverse("portal:login"), {"mobile": "13833334444", "password": PASSWORD})
    assert response.status_code == 400 and "登录失败次数过多" in response.content.decode()
    # An unknown number answers exactly like a wrong password.
    response = client.post(reverse("portal:login"), {"mobile": "13833335555", "password": PASSWORD})
    assert "手机号或密码不正确" in response.content.decode()


def test_worker_session_reaches_no_staff_page_and_staff_session_no_worker_page(client, world):
    make_account("13844445555")
    client.post(reverse("portal:login"), {"mobile": "13844445555", "password": PASSWORD})
    assert client.get(reverse("portal:home")).status_code == 200
    for url in ("/", "/members/persons/", "/cases/queue/", reverse("portal:join_queue")):
        response = client.get(url)
        assert response.status_code in (302, 403, 404) and "/accounts/login/" in response.get(
            "Location", "/accounts/login/"
        ), url
    assert client.get("/admin/").status_code == 302
    assert client.get("/api/v1/cases/").status_code in (401, 403)
    staff = client.__class__()
    staff.force_login(world.officer)
    response = staff.get(reverse("portal:home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))
    assert staff.get("/api/v1/me/profile/").status_code in (401, 403)
    # A staff member who also signs in as a worker reaches the worker pages, and still the staff pages.
    staff.post(reverse("portal:login"), {"mobile": "13844445555", "password": PASSWORD})
    assert staff.get(reverse("portal:home")).status_code == 200
    assert staff.get(reverse("portal:join_queue")).status_code == 200


def test_consent_withdrawal_closes_the_account(client, world):
    account = make_account("13855556666", name="李大伟", id_number=world.people["李大伟"]["id_number"])
    services.join_apply(account=account, enterprise_id=world.enterprise.pk)
    client.post(reverse("portal:login"), {"mobile": "13855556666", "password": PASSWORD})
    response = client.post(reverse("portal:withdraw"), {})
    assert response.status_code == 400 and "请勾选" in response.content.decode()
    response = client.post(reverse("portal:withdraw"), {"confirm": "yes"})
    assert response.status_code == 302
    account.refresh_from_db()
    assert not account.is_active and account.person_id is None and account.mobile_encrypted == ""
    assert JoinApplication.objects.get().status == JoinStatus.WITHDRAWN
    assert client.get(reverse("portal:home")).status_code == 302
    # The number may register again.
    make_account("13855556666")


def test_appeal_filed_handled_and_rated(client, world):
    account = make_account("13866667777", name="王小明", id_number=world.people["王小明"]["id_number"])
    client.post(reverse("portal:login"), {"mobile": "13866667777", "password": PASSWORD})
    url = reverse("portal:appeal_new")
    response = client.post(
        url, {"category": "wage_arrears", "description": "  ", "enterprise": world.enterprise.pk}
    )
    assert response.status_code == 400 and "请填写诉求内容" in response.content.decode()
    exe = SimpleUploadedFile("工资条.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(
        url,
        {
            "category": "wage_arrears",
            "description": "拖欠三个月工资",
            "enterprise": world.enterprise.pk,
            "files": exe,
        },
    )
    assert response.status_code == 400 and "不是 PDF" in response.content.decode()
    big = SimpleUploadedFile(
        "照片.png", b"\x89PNG\r\n\x1a\n" + b"0" * (5 * 1024 * 1024), content_type="image/png"
    )
    response = client.post(
        url,
        {
            "category": "wage_arrears",
            "description": "拖欠三个月工资",
            "enterprise": world.enterprise.pk,
            "files": big,
        },
    )
    assert response.status_code == 400 and "超过 5 MB" in response.content.decode()
    doc = SimpleUploadedFile("合同.doc", b"whatever", content_type="application/msword")
    response = client.post(
        url,
        {
            "category": "wage_arrears",
            "description": "拖欠三个月工资",
            "enterprise": world.enterprise.pk,
            "files": doc,
        },
    )
    assert response.status_code == 400 and "类型不支持" in response.content.decode()
    assert not Case.objects.exists()
    pdf = SimpleUploadedFile("工资条.pdf", PDF, content_type="application/pdf")
    response = client.post(
        url,
        {
            "category": "wage_arrears",
            "description": "拖欠三个月工资",
            "enterprise": world.enterprise.pk,
            "files": pdf,
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert (
        case.channel == "platform" and case.caller_person == account.person and case.caller_name == "王小明"
    )
    assert case_services.caller_phone(case) == "13866667777"
    detail = client.get(reverse("portal:appeal_detail", args=[case.pk])).content.decode()
    assert case.unit.name in detail and "前答复" in detail and "工资条.pdf" in detail

    client.post(reverse("portal:appeal_message", args=[case.pk]), {"text": "老板说下月发"})
    assert AppealMessage.objects.get().text == "老板说下月发"
    client.post(
        reverse("portal:appeal_files", args=[case.pk]),
        {"files": SimpleUploadedFile("a.jpg", b"\xff\xd8\xff\xe0 jpg", content_type="image/jpeg")},
    )
    assert case.attachments.count() == 2

    handler = world.officer.__class__.objects.create_user(
        username="yh_operator", password="x-Safetynet-1", org_unit=case.unit, role="operator"
    )
    case.refresh_from_db()
    case_services.case_accept(actor=handler, case=case, version=case.version)
    case.refresh_from_db()
    case_services.case_resolve(
        actor=handler,
        case=case,
        version=case.version,
        kind="mediated",
        agreement="企业补发工资",
        note="已调解",
    )
    case.refresh_from_db()
    assert case.status == "closed"
    from safetynet.portal.sweeps import notify_case_steps

    notify_case_steps(timezone.now())
    assert WorkerNotification.objects.filter(account=account, text__contains="受理").count() == 1
    notify_case_steps(timezone.now())  # a second run tells nothing twice
    assert WorkerNotification.objects.filter(account=account, text__contains="受理").count() == 1
    assert WorkerNotification.objects.filter(account=account, text__contains="已办结").count() == 1
    detail = client.get(reverse("portal:appeal_detail", args=[case.pk])).content.decode()
    assert "受理" in detail
    response = client.post(reverse("portal:appeal_rate", args=[case.pk]), {"score": "9"})
    assert "1 至 5 星" in client.get(reverse("portal:appeal_detail", args=[case.pk])).content.decode()
    client.post(reverse("portal:appeal_rate", args=[case.pk]), {"score": "5", "comment": "满意"})
    assert "您的评价：5 星" in client.get(reverse("portal:appeal_detail", args=[case.pk])).content.decode()


def test_officer_publishes_a_notice_workers_below_see_it(client, world):
    staff = client.__class__()
    staff.force_login(world.officer)
    response = staff.post(reverse("portal:staff_notices"), {"title": "", "body": "x"})
    assert response.status_code == 400 and "请填写通知标题" in response.content.decode()
    staff.post(reverse("portal:staff_notices"), {"title": "中山区职工春节慰问", "body": "1 月 20 日起登记"})
    assert "中山区职工春节慰问" in staff.get(reverse("portal:staff_notices")).content.decode()
    xigang = client.__class__()
    xigang.force_login(world.xigang_chair)
    assert "中山区职工春节慰问" not in xigang.get(reverse("portal:staff_notices")).content.decode()
    make_account("13877778888", name="王小明", id_number=world.people["王小明"]["id_number"])
    client.post(reverse("portal:login"), {"mobile": "13877778888", "password": PASSWORD})
    assert "中山区职工春节慰问" in client.get(reverse("portal:notice_list")).content.decode()
    assert "中山区职工春节慰问" in client.get(reverse("portal:home")).content.decode()
