"""Registering workers and employments from the web, and ID numbers that say what is wrong with them.

登记职工 (from an enterprise's 职工与会员 tab or the search page), 登记用工 / 结束用工 / 入会 / 退会 / 转会 from the
person's page; every write through the member services, so scoped, audited and checked like the import.
"""

from __future__ import annotations

import datetime
import html

import pytest
from django.urls import reverse

from safetynet.core.errors import ServiceError
from safetynet.core.importing import run_import
from safetynet.core.models import AuditAction, AuditEntry
from safetynet.members.models import (
    Employment,
    EmploymentType,
    Household,
    Membership,
    MembershipEndReason,
    Person,
)
from safetynet.members.services import membership_join, person_create, person_register
from safetynet.members.tests.factories import make_id_number
from safetynet.members.tests.test_importers import line, write
from safetynet.members.validation import IdNumberError, IdType, validate_resident_id
from safetynet.orgs.tests.factories import UnionFactory

D = datetime.date
NUMBER = make_id_number(21)

# The three numbers of the report, with what each must say.
WRONG_NUMBERS = [
    (
        "210202198013450011",
        "“210202198013450011”：出生日期 19801345 不是有效日期（1980年没有13月45日）；"
        "按前 17 位计算校验码应为 9，现为 1。请与本人居民身份证逐位核对。",
    ),
    ("12345", "“12345”：证件号码应为 18 位，现为 5 位。请与本人居民身份证逐位核对。"),
    (
        "abc",
        "“ABC”：证件号码应为 18 位，现为 3 位；只能由数字组成（最后一位可以是 X），不能含“A”“B”“C”。"
        "请与本人居民身份证逐位核对。",
    ),
]


def login(client, make_staff, unit, role="operator", name="officer"):
    user = make_staff(name, unit, role)
    client.force_login(user)
    return user


def page_text(response) -> str:
    return html.unescape(response.content.decode())


# --- ID numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("number", "message"), WRONG_NUMBERS)
def test_a_wrong_id_number_says_what_is_wrong(number, message):
    with pytest.raises(IdNumberError) as exc:
        validate_resident_id(number)
    assert exc.value.messages[0] == message


def test_the_check_character_alone_and_an_excel_truncation():
    good = make_id_number(7)
    wrong = good[:17] + ("1" if good[17] != "1" else "2")
    with pytest.raises(IdNumberError) as exc:
        validate_resident_id(wrong)
    assert exc.value.code == "checksum"
    assert f"按前 17 位计算校验码应为 {good[17]}，现为 {wrong[17]}" in exc.value.messages[0]
    with pytest.raises(IdNumberError) as exc:
        validate_resident_id(good[:15] + "000")
    assert "Excel" in exc.value.messages[0]


@pytest.mark.parametrize(("number", "message"), WRONG_NUMBERS)
def test_the_services_give_the_api_the_same_message(registry, number, message):
    with pytest.raises(ServiceError) as exc:
        person_create(actor=None, name="王五", id_number=number)
    assert (exc.value.field, exc.value.message) == ("id_number", message)
    with pytest.raises(ServiceError) as exc:
        person_register(
            actor=None, name="王五", id_number=number, enterprise=registry.acme, employed_from=D(2012, 1, 1)
        )
    assert (exc.value.field, exc.value.message) == ("id_number", message)


@pytest.mark.parametrize(("number", "message"), WRONG_NUMBERS)
def test_the_join_form_explains_a_wrong_number_instead_of_not_found(
    client, make_staff, city, registry, number, message
):
    login(client, make_staff, city.zhongshan)
    response = client.post(
        reverse("members:membership_join", args=[registry.acme_union.pk]),
        {"id_type": IdType.RESIDENT_ID, "id_number": number, "valid_from": "2012-02-01"},
    )
    text = page_text(response)
    assert response.status_code == 200
    assert message in text and "未找到" not in text
    assert f'value="{number}"' in text  # what was typed stays in the field


def test_the_card_form_and_the_search_explain_a_wrong_number(client, make_staff, city, registry):
    login(client, make_staff, city.zhongshan)
    response = client.post(reverse("members:card_issue"), {"id_number": "12345", "issued_on": "2012-01-01"})
    assert WRONG_NUMBERS[1][1] in page_text(response)
    response = client.get(reverse("members:person_search"), {"q": "210202198013450011"})
    assert "按身份证号查询时：" + WRONG_NUMBERS[0][1] in page_text(response)
    # Short digits may be a member or card number: nothing is said about ID numbers then.
    response = client.get(reverse("members:person_search"), {"q": "12345"})
    assert "按身份证号查询时" not in page_text(response)


def test_other_documents_keep_their_own_formats_in_the_forms(client, make_staff, city, registry):
    login(client, make_staff, city.zhongshan)
    response = client.post(
        f"{reverse('members:worker_register')}?enterprise={registry.acme.pk}",
        {
            "id_type": IdType.PASSPORT,
            "id_number": "e1234 5678",
            "name": "John Smith",
            "employed_from": "2012-03-01",
        },
    )
    assert response.status_code == 302
    person = Person.objects.get(id_type=IdType.PASSPORT)
    assert person.name == "John Smith" and person.id_number_masked == "*******78"


# --- 登记职工 ------------------------------------------------------------------------------------------


def test_the_enterprise_tab_and_the_search_page_offer_registration(client, make_staff, city, registry):
    login(client, make_staff, city.zhongshan)
    tab = page_text(client.get(reverse("orgs:enterprise_detail", args=[registry.acme.pk]) + "?tab=members"))
    assert f"{reverse('members:worker_register')}?enterprise={registry.acme.pk}" in tab and "登记职工" in tab
    assert "登记职工" in page_text(client.get(reverse("members:person_search")))


def test_a_viewer_is_offered_nothing_and_refused(client, make_staff, city, registry):
    login(client, make_staff, city.zhongshan, "viewer")
    tab = page_text(client.get(reverse("orgs:enterprise_detail", args=[registry.acme.pk]) + "?tab=members"))
    assert reverse("members:worker_register") not in tab
    assert client.get(reverse("members:worker_register")).status_code == 403
    response = client.post(
        reverse("members:worker_register"),
        {"enterprise_code": registry.acme.credit_code, "id_number": NUMBER, "name": "王五"},
    )
    assert response.status_code == 403 and not Person.objects.exists()


def test_register_a_new_worker_at_the_enterprise(client, make_staff, city, registry):
    login(client, make_staff, city.zhongshan)
    url = f"{reverse('members:worker_register')}?enterprise={registry.acme.pk}"
    page = page_text(client.get(url))
    assert "甲公司" in page and 'name="enterprise_code"' not in page
    response = client.post(
        url,
        {
            "id_type": IdType.RESIDENT_ID,
            "id_number": NUMBER[:-1] + NUMBER[-1].lower(),
            "name": " 王 五 ",
            "phone": "１３８ ０００１ ２２２２",
            "household": Household.RURAL,
            "employed_from": "2012-03-01",
            "employment_type": EmploymentType.DISPATCHED,
        },
        follow=True,
    )
    person = Person.objects.get()
    assert response.redirect_chain == [(reverse("members:person_detail", args=[person.pk]), 302)]
    text = page_text(response)
    assert "已登记王 五在“甲公司”的用工（2012-03-01 起）。" in text
    assert (person.name, person.household, person.phone_masked) == ("王 五", Household.RURAL, "138****2222")
    employment = Employment.objects.get(person=person)
    assert (employment.enterprise, employment.valid_from, employment.employment_type) == (
        registry.acme,
        D(2012, 3, 1),
        EmploymentType.DISPATCHED,
    )
    audited = set(AuditEntry.objects.filter(action=AuditAction.CREATE).values_list("entity", flat=True))
    assert {"members.person", "members.employment"} <= audited
    assert "结束用工" in text and "入会" in text  # the person's page offers the next steps


def test_the_form_keeps_what_was_typed_and_says_what_is_wrong(client, make_staff, city, registry):
    login(client, make_staff, city.zhongshan)
    response = client.post(
        reverse("members:worker_register"),
        {
            "enterprise_code": registry.acme.credit_code[:-1] + "0",
            "id_number": "210202198013450011",
            "name": "王五",
            "phone": "12345",
            "employed_from": "2012-13-01",
        },
    )
    text = page_text(response)
    assert response.status_code == 200
    assert "校验位不对" in text  # the credit code, as the enterprise form says it
    assert WRONG_NUMBERS[0][1] in text
    assert "电话号码“12345”不对" in text
    assert "不是有效日期" in text
    assert 'value="王五"' in text and 'value="210202198013450011"' in text
    assert not Person.objects.exists()


def test_an_enterprise_outside_the_scope_is_not_found(client, make_staff, city, registry):
    login(client, make_staff, city.zhongshan)
    response = client.post(
        reverse("members:worker_register"),
        {
            "enterprise_code": registry.bolt.credit_code,
            "id_number": NUMBER,
            "name": "王五",
            "employed_from": "2012-03-01",
        },
    )
    assert "在您的管辖范围内找不到统一社会信用代码" in page_text(response)
    url = f"{reverse('members:worker_register')}?enterprise={registry.bolt.pk}"
    assert client.get(url).status_code == 404


def test_a_registered_person_is_found_by_number_and_the_name_must_agree(client, make_staff, city, registry):
    person_register(
        actor=None, name="王五", id_number=NUMBER, enterprise=registry.bolt, employed_from=D(2010, 1, 1)
    )
    login(client, make_staff, city.zhongshan)
    url = f"{reverse('members:worker_register')}?enterprise={registry.acme.pk}"
    body = {"id_number": NUMBER, "name": "王六", "employed_from": "2012-03-01"}
    response = client.post(url, body)
    assert "姓名与登记的不一致" in page_text(response)
    response = client.post(url, {**body, "name": "王五"})
    assert response.status_code == 302
    assert Person.objects.count() == 1 and Employment.objects.count() == 2


def test_add_and_end_an_employment_from_the_person_page(client, make_staff, city, registry):
    person = person_register(
        actor=None, name="王五", id_number=NUMBER, enterprise=registry.acme, employed_from=D(2010, 1, 1)
    ).person
    login(client, make_staff, city.zhongshan)
    detail = reverse("members:person_detail", args=[person.pk])
    page = page_text(client.get(detail))
    assert f"{reverse('members:worker_register')}?person={person.pk}" in page
    # Another enterprise of the district, without typing the number again.
    response = client.post(
        f"{reverse('members:worker_register')}?person={person.pk}",
        {"enterprise_code": registry.plain.credit_code, "employed_from": "2012-05-01"},
    )
    assert response.status_code == 302 and response.url == detail
    first = Employment.objects.get(person=person, enterprise=registry.acme)
    assert reverse("members:employment_end", args=[first.pk]) in page
    response = client.post(reverse("members:employment_end", args=[first.pk]), {"valid_to": "2009-01-01"})
    assert "结束日期不能早于开始日期" in page_text(response)
    response = client.post(
        reverse("members:employment_end", args=[first.pk]), {"valid_to": "2012-04-30"}, follow=True
    )
    assert response.redirect_chain[-1][0] == detail and "已结束用工。" in page_text(response)
    first.refresh_from_db()
    assert first.valid_to == D(2012, 4, 30)
    assert AuditEntry.objects.filter(
        entity="members.employment", object_id=str(first.pk), note="离职"
    ).exists()


def test_join_leave_and_transfer_from_the_person_page(client, make_staff, city, registry):
    person = person_register(
        actor=None, name="王五", id_number=NUMBER, enterprise=registry.acme, employed_from=D(2010, 1, 1)
    ).person
    login(client, make_staff, city.zhongshan)
    detail = reverse("members:person_detail", args=[person.pk])
    assert reverse("members:person_join", args=[person.pk]) in page_text(client.get(detail))
    response = client.post(
        reverse("members:person_join", args=[person.pk]),
        {"union": registry.acme_union.pk, "valid_from": "2011-01-01", "member_number": "Z9"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == detail and "已办理入会。" in page_text(response)
    membership = Membership.objects.get(person=person)
    page = page_text(response)
    assert f"{reverse('members:membership_leave', args=[membership.pk])}?from=person" in page
    assert reverse("members:person_join", args=[person.pk]) not in page

    # 转会 to a second union covering the same enterprise; back on the person's page.
    second = UnionFactory(name="甲公司第二工会", org_unit=city.community_a, enterprises=[registry.acme])
    transfer = f"{reverse('members:membership_transfer', args=[membership.pk])}?from=person"
    response = client.post(transfer, {"to_union": second.pk, "on": "2012-01-01"})
    assert response.status_code == 302 and response.url == detail
    following = Membership.objects.get(person=person, union=second)

    leave = f"{reverse('members:membership_leave', args=[following.pk])}?from=person"
    assert "取消" in page_text(client.get(leave)) and f'href="{detail}"' in page_text(client.get(leave))
    response = client.post(leave, {"valid_to": "2013-01-01", "end_reason": MembershipEndReason.WITHDREW})
    assert response.status_code == 302 and response.url == detail
    following.refresh_from_db()
    assert (following.valid_to, following.end_reason) == (D(2013, 1, 1), MembershipEndReason.WITHDREW)


def test_join_from_the_person_page_offers_only_covering_unions_and_explains_refusals(
    client, make_staff, city, registry
):
    person = person_register(
        actor=None, name="王五", id_number=NUMBER, enterprise=registry.plain, employed_from=D(2010, 1, 1)
    ).person
    login(client, make_staff, city.zhongshan)
    page = page_text(client.get(reverse("members:person_join", args=[person.pk])))
    assert "暂不能入会" in page and "甲公司工会" not in page
    response = client.post(
        reverse("members:person_join", args=[person.pk]),
        {"union": registry.acme_union.pk, "valid_from": "2011-01-01"},
    )
    assert response.status_code == 200 and not Membership.objects.exists()


def test_another_district_gets_404_on_every_new_page(client, make_staff, city, registry):
    person = person_register(
        actor=None, name="王五", id_number=NUMBER, enterprise=registry.acme, employed_from=D(2010, 1, 1)
    ).person
    membership_join(actor=None, person=person, union=registry.acme_union, valid_from=D(2011, 1, 1))
    employment = Employment.objects.get(person=person)
    login(client, make_staff, city.xigang)
    for url in (
        f"{reverse('members:worker_register')}?person={person.pk}",
        f"{reverse('members:worker_register')}?enterprise={registry.acme.pk}",
        reverse("members:person_join", args=[person.pk]),
        reverse("members:employment_end", args=[employment.pk]),
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"valid_to": "2012-01-01"}).status_code == 404, url
    employment.refresh_from_db()
    assert employment.valid_to is None


def test_the_import_keeps_a_name_as_typed_like_the_forms(registry, tmp_path):
    path = write(tmp_path, line(registry.acme, NUMBER, "阿依古丽·买买提（小）"))
    result = run_import("members", path)
    assert not result.errors
    assert Person.objects.get().name == "阿依古丽·买买提（小）"
    long_name = "王" * 51
    result = run_import("members", write(tmp_path, line(registry.acme, make_id_number(22), long_name)))
    assert [e.message for e in result.errors] == ["姓名有 51 个字，最多 50 个字，请核对。"]
