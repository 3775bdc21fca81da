"""The call-back number at intake: required of every caller, an anonymous one too (the form's hint: 匿名来电也须
留回访电话); only a signed letter and a referral may come without one. Checked by the service, so the API and
the page obey the same rule, with the message on the phone field."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from safetynet.cases import services
from safetynet.cases.models import Case, Channel
from safetynet.core.errors import ServiceError

from .conftest import T0


def intake(setup, **extra):
    values = {
        "actor": setup.city_officer,
        "channel": Channel.HOTLINE,
        "category": "wage_arrears",
        "description": "三个月工资未发",
        "enterprise": setup.community_enterprise,
        "now": T0,
    }
    values.update(extra)
    return services.case_intake(**values)


@pytest.mark.parametrize("channel", [Channel.HOTLINE, Channel.VISIT, Channel.ONLINE, Channel.PLATFORM])
def test_a_named_caller_without_a_phone_is_refused(setup, channel):
    with pytest.raises(ServiceError) as exc:
        intake(setup, channel=channel, caller_name="李师傅", caller_phone="")
    assert (exc.value.code, exc.value.field) == ("required", "caller_phone")
    assert f"{Channel(channel).label}诉求须留回访电话" in exc.value.message
    assert not Case.objects.exists()


@pytest.mark.parametrize("channel", list(Channel))
def test_an_anonymous_caller_without_a_phone_is_refused_on_every_channel(setup, channel):
    with pytest.raises(ServiceError) as exc:
        intake(setup, channel=channel, anonymous=True, caller_phone="  ")
    assert exc.value.field == "caller_phone" and "匿名来电须留回访电话" in exc.value.message


@pytest.mark.parametrize("channel", [Channel.LETTER, Channel.REFERRAL])
def test_a_signed_letter_or_a_referral_may_come_without_a_phone(setup, channel):
    case = intake(setup, channel=channel, caller_name="李师傅", caller_phone="")
    assert case.caller_phone_masked == ""


@pytest.mark.parametrize(
    ("typed", "masked"),
    [
        ("１３９１２３４５６７８", "139****5678"),  # full-width digits from a Chinese input method
        ("139 1234 5678", "139****5678"),
        ("+86 139-1234-5678", "139****5678"),
        ("0411-82345678", "041*****5678"),
        ("（０４１１）８２３４５６７８", "041*****5678"),
    ],
)
def test_the_phone_is_normalised(setup, typed, masked):
    assert intake(setup, caller_phone=typed).caller_phone_masked == masked


@pytest.mark.parametrize("typed", ["12345", "2345678", "1391234567", "电话未知", "82345678"])
def test_a_wrong_phone_says_what_a_phone_looks_like(setup, typed):
    with pytest.raises(ServiceError) as exc:
        intake(setup, caller_phone=typed)
    assert exc.value.field == "caller_phone"
    assert "手机号应为 1 开头的 11 位数字" in exc.value.message or "只能含数字" in exc.value.message


def test_a_merged_collective_case_needs_no_phone_of_its_own(setup):
    calls = [intake(setup, workers_involved=6, caller_phone="13912345678") for _ in range(2)]
    collective = services.case_merge_into_collective(actor=setup.city_officer, cases=calls, now=T0)
    assert collective.collective and collective.caller_phone_masked == ""


def test_the_intake_page_shows_the_message_on_the_phone_field_and_keeps_the_form(setup):
    client = Client()
    client.force_login(setup.district_officer)
    body = {
        "kind": "dispute",
        "channel": "hotline",
        "category": "wage_arrears",
        "workers_involved": "1",
        "claim_amount": "0",
        "enterprise": setup.community_enterprise.pk,
        "description": "新手测试：工资（三月）未发，未留电话。",
        "caller_name": "李师傅",
        "caller_phone": "",
    }
    response = client.post(reverse("cases:intake"), body)
    text = response.content.decode()
    assert response.status_code == 200 and not Case.objects.exists()
    assert "12351热线诉求须留回访电话" in text
    assert "新手测试：工资（三月）未发，未留电话。" in text and 'value="李师傅"' in text
    response = client.post(reverse("cases:intake"), {**body, "caller_phone": "12345"})
    assert "电话号码“12345”不对" in response.content.decode() and not Case.objects.exists()
    response = client.post(reverse("cases:intake"), {**body, "caller_phone": "１３９１２３４５６７８"})
    assert response.status_code == 302
    assert Case.objects.get().caller_phone_masked == "139****5678"


def test_an_officer_cannot_register_a_case_under_the_platform_channel(setup):
    with pytest.raises(ServiceError) as exc:
        intake(setup, channel=Channel.PLATFORM, caller_name="李师傅", caller_phone="13800000000")
    assert exc.value.field == "channel" and "网络工会" in exc.value.message
    assert not Case.objects.exists()


def test_the_intake_form_does_not_offer_the_platform_channel():
    from safetynet.cases.forms import IntakeForm

    values = [value for value, _label in IntakeForm.base_fields["channel"].choices]
    assert Channel.ONLINE in values and Channel.PLATFORM not in values
