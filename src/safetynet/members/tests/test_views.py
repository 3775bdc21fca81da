"""Pages of the member registry: search, person page with reveal, rosters with actions, cards, exports."""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from safetynet.core.models import AuditAction, AuditEntry
from safetynet.members.models import CardStatus, EmploymentType, Household, MemberCard, Membership
from safetynet.members.services import card_issue, membership_join, person_register
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs.services import union_cover_enterprise
from safetynet.orgs.tests.factories import UnionFactory

D = datetime.date
NUMBER = make_id_number(1)
OTHER = make_id_number(2, address="210203")


@pytest.fixture
def worker(registry):
    """王小明 works at 甲公司 (中山区) since 2010 and is a member of its union."""
    employment = person_register(
        actor=None,
        name="王小明",
        id_number=NUMBER,
        enterprise=registry.acme,
        employed_from=D(2010, 3, 1),
        phone="13800001111",
        household=Household.RURAL,
        employment_type=EmploymentType.LABOUR_CONTRACT,
    )
    membership_join(
        actor=None,
        person=employment.person,
        union=registry.acme_union,
        valid_from=D(2010, 4, 1),
        member_number="M001",
    )
    return employment.person


@pytest.fixture
def xigang_worker(registry):
    employment = person_register(
        actor=None, name="李四", id_number=OTHER, enterprise=registry.bolt, employed_from=D(2011, 1, 1)
    )
    return employment.person


def login(client, make_staff, unit, role, name="user"):
    user = make_staff(name, unit, role)
    client.force_login(user)
    return user


# --- search ----------------------------------------------------------------------------------


def test_search_by_full_id_number_goes_to_the_person(client, make_staff, city, worker):
    login(client, make_staff, city.street_a, "operator")
    response = client.get(reverse("members:person_search"), {"q": NUMBER})
    assert response.status_code == 302
    assert response["Location"] == reverse("members:person_detail", args=[worker.pk])


def test_search_by_name_member_number_and_masked_number(client, make_staff, city, worker):
    login(client, make_staff, city.zhongshan, "viewer")
    for q in ("王小", "M001", worker.id_number_masked):
        page = client.get(reverse("members:person_search"), {"q": q}).content.decode()
        assert "王小明" in page and worker.id_number_masked in page, q
        assert NUMBER not in page


def test_search_never_matches_part_of_an_id_number(client, make_staff, city, worker):
    login(client, make_staff, city.zhongshan, "viewer")
    page = client.get(reverse("members:person_search"), {"q": NUMBER[6:14]}).content.decode()
    assert "王小明" not in page


def test_search_is_scoped(client, make_staff, city, worker, xigang_worker):
    login(client, make_staff, city.zhongshan, "operator")
    page = client.get(reverse("members:person_search"), {"q": OTHER}).content.decode()
    assert "李四" not in page
    page = client.get(reverse("members:person_search"), {"q": "李"}).content.decode()
    assert "李四" not in page


# --- person page -----------------------------------------------------------------------------


def test_person_page_shows_timeline_masked(client, make_staff, city, worker, registry):
    login(client, make_staff, city.street_a, "operator")
    page = client.get(reverse("members:person_detail", args=[worker.pk])).content.decode()
    assert "甲公司" in page and "甲公司工会" in page
    assert "2010-03-01" in page and "2010-04-01" in page
    assert worker.id_number_masked in page and NUMBER not in page
    assert "138****1111" in page and "13800001111" not in page
    assert "显示完整号码" not in page  # an operator may not reveal


def test_sibling_district_person_is_404(client, make_staff, city, xigang_worker):
    login(client, make_staff, city.zhongshan, "unit_admin")
    assert client.get(reverse("members:person_detail", args=[xigang_worker.pk])).status_code == 404
    response = client.post(reverse("members:person_reveal", args=[xigang_worker.pk]), {"field": "id_number"})
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL).exists()


def test_reveal_shows_the_number_and_writes_the_audit_row(client, make_staff, city, worker):
    admin = login(client, make_staff, city.zhongshan, "unit_admin")
    page = client.get(reverse("members:person_detail", args=[worker.pk])).content.decode()
    assert "显示完整号码" in page and NUMBER not in page
    response = client.post(
        reverse("members:person_reveal", args=[worker.pk]), {"field": "id_number"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and NUMBER in response.content.decode()
    entry = AuditEntry.objects.get(action=AuditAction.VIEW_PERSONAL)
    assert entry.actor == admin and entry.object_id == str(worker.pk)
    assert NUMBER not in repr(entry.changes) + entry.note


def test_operator_reveal_is_refused(client, make_staff, city, worker):
    login(client, make_staff, city.zhongshan, "operator")
    response = client.post(reverse("members:person_reveal", args=[worker.pk]), {"field": "id_number"})
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL).exists()


# --- rosters ---------------------------------------------------------------------------------


def test_roster_list_counts_members(client, make_staff, city, worker, registry):
    login(client, make_staff, city.zhongshan, "viewer")
    page = client.get(reverse("members:roster_list")).content.decode()
    assert "甲公司工会" in page and "八一路联合工会" not in page


def test_union_roster_as_of_a_date(client, make_staff, city, worker, registry):
    login(client, make_staff, city.zhongshan, "viewer")
    url = reverse("members:union_roster", args=[registry.acme_union.pk])
    assert "王小明" in client.get(url).content.decode()
    assert "王小明" not in client.get(url, {"as_of": "2010-03-31"}).content.decode()
    assert "王小明" in client.get(url, {"as_of": "2010-04-01"}).content.decode()


def test_viewer_cannot_post_roster_actions(client, make_staff, city, worker, registry):
    login(client, make_staff, city.zhongshan, "viewer")
    membership = Membership.objects.get(person=worker)
    for url, data in (
        (reverse("members:membership_join", args=[registry.acme_union.pk]), {"id_number": NUMBER}),
        (reverse("members:membership_leave", args=[membership.pk]), {"valid_to": "2012-01-01"}),
        (reverse("members:membership_transfer", args=[membership.pk]), {"on": "2012-01-01"}),
    ):
        assert client.post(url, data).status_code == 403, url
    assert Membership.objects.get(pk=membership.pk).valid_to is None


def test_join_leave_and_transfer_through_the_roster(client, make_staff, city, registry):
    login(client, make_staff, city.zhongshan, "operator")
    person = person_register(
        actor=None,
        name="赵六",
        id_number=make_id_number(5),
        enterprise=registry.acme,
        employed_from=D(2011, 1, 1),
    ).person
    response = client.post(
        reverse("members:membership_join", args=[registry.acme_union.pk]),
        {"id_number": make_id_number(5), "valid_from": "2011-02-01", "member_number": "A7"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(person=person)
    assert membership.valid_from == D(2011, 2, 1) and membership.member_number == "A7"
    # A second union in scope covering the same enterprise takes the member over.
    second = UnionFactory(name="友好社区联合工会", org_unit=city.community_a, founded_on=D(2005, 1, 1))
    union_cover_enterprise(actor=None, union=second, enterprise=registry.acme, valid_from=D(2005, 1, 1))
    page = client.get(reverse("members:membership_transfer", args=[membership.pk])).content.decode()
    assert "友好社区联合工会" in page
    response = client.post(
        reverse("members:membership_transfer", args=[membership.pk]),
        {"to_union": second.pk, "on": "2012-06-01"},
    )
    assert response.status_code == 302, response.content.decode()
    rows = list(Membership.objects.filter(person=person).order_by("valid_from"))
    assert [(m.union_id, m.valid_from, m.valid_to) for m in rows] == [
        (registry.acme_union.pk, D(2011, 2, 1), D(2012, 6, 1)),
        (second.pk, D(2012, 6, 1), None),
    ]
    assert rows[1].member_number == "A7"
    response = client.post(
        reverse("members:membership_leave", args=[rows[1].pk]),
        {"valid_to": "2012-07-01", "end_reason": "withdrew"},
    )
    assert response.status_code == 302
    assert Membership.objects.get(pk=rows[1].pk).valid_to == D(2012, 7, 1)


def test_join_refusal_is_shown_in_chinese(client, make_staff, city, registry):
    login(client, make_staff, city.zhongshan, "operator")
    response = client.post(
        reverse("members:membership_join", args=[registry.acme_union.pk]),
        {"id_number": make_id_number(9), "valid_from": "2011-02-01"},
    )
    assert response.status_code == 200
    assert "未找到该证件号码的职工" in response.content.decode()


# --- enterprise tab --------------------------------------------------------------------------


def test_enterprise_tab_lists_employees_and_members(client, make_staff, city, worker, registry):
    login(client, make_staff, city.zhongshan, "viewer")
    url = reverse("orgs:enterprise_detail", args=[registry.acme.pk])
    page = client.get(url, {"tab": "members"}).content.decode()
    assert "王小明" in page and worker.id_number_masked in page and NUMBER not in page
    page = client.get(url, {"tab": "members", "as_of": "2009-01-01"}).content.decode()
    assert "王小明" not in page


def test_enterprise_tab_queries_do_not_grow_with_employees(
    client, make_staff, city, registry, django_assert_max_num_queries
):
    from safetynet.members import bulk, crypto
    from safetynet.members.models import Employment, Person
    from safetynet.members.validation import mask_id_number

    now = timezone.now()
    rows = []
    for n in range(600):
        number = make_id_number(n % 999 + 1, born=D(1970, 1, 1) + datetime.timedelta(days=n // 999))
        rows.append(
            (
                f"职工{n}",
                "resident_id",
                crypto.encrypt(number),
                crypto.lookup_hash(number),
                mask_id_number(number),
                None,
                "",
                "",
                "",
                "",
                "",
                now,
                now,
            )
        )
    fields = (
        "name",
        "id_type",
        "id_number_encrypted",
        "id_number_hash",
        "id_number_masked",
        "birth_date",
        "sex",
        "phone_encrypted",
        "phone_hash",
        "phone_masked",
        "household",
        "created_at",
        "updated_at",
    )
    ids = bulk.insert_rows(Person, fields, rows)
    bulk.insert_rows(
        Employment,
        ("person_id", "enterprise_id", "valid_from", "valid_to", "employment_type", "contract_signed"),
        [(pk, registry.acme.pk, D(2010, 1, 1), None, "", False) for pk in ids],
    )
    login(client, make_staff, city.zhongshan, "viewer")
    url = reverse("orgs:enterprise_detail", args=[registry.acme.pk])
    with django_assert_max_num_queries(16):
        response = client.get(url, {"tab": "members"})
    page = response.content.decode()
    assert response.status_code == 200 and "职工0" in page
    assert (
        len(re.findall(r'href="/members/persons/\d+/"', page)) == 50
    )  # one page of 50, and the total of 600 counted once
    assert "600" in page


# --- cards -----------------------------------------------------------------------------------


def test_card_issue_list_lost_cancel_and_qr(client, make_staff, city, worker):
    login(client, make_staff, city.zhongshan, "operator")
    response = client.post(
        reverse("members:card_issue") + f"?person={worker.pk}",
        {"issued_on": "2012-01-01", "person": worker.pk},
    )
    assert response.status_code == 302
    card = MemberCard.objects.get(person=worker)
    page = client.get(reverse("members:card_detail", args=[card.pk])).content.decode()
    assert "<svg" in page and card.card_number in page and NUMBER not in page
    listing = client.get(reverse("members:card_list")).content.decode()
    assert card.card_number in listing and "挂失" in listing
    client.post(reverse("members:card_change", args=[card.pk, "lost"]))
    assert MemberCard.objects.get(pk=card.pk).status == CardStatus.LOST
    client.post(reverse("members:card_change", args=[card.pk, "cancel"]))
    assert MemberCard.objects.get(pk=card.pk).status == CardStatus.CANCELLED


def test_cards_of_another_district_are_404(client, make_staff, city, worker):
    card = card_issue(actor=None, person=worker, issued_on=D(2012, 1, 1))
    login(client, make_staff, city.xigang, "unit_admin")
    assert client.get(reverse("members:card_detail", args=[card.pk])).status_code == 404
    assert client.post(reverse("members:card_change", args=[card.pk, "lost"])).status_code == 404
    assert card.card_number not in client.get(reverse("members:card_list")).content.decode()


# --- exports ---------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_roster_export_is_masked_by_default(client, make_staff, city, worker, registry):
    login(client, make_staff, city.zhongshan, "unit_admin")
    url = reverse("members:union_roster_export", args=[registry.acme_union.pk])
    rows = _csv(client.get(url, {"format": "csv"}))
    assert rows[0][0] == "姓名" and rows[1][0] == "王小明"
    assert rows[1][2] == worker.id_number_masked and rows[1][5] == "138****1111"
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL).exists()


def test_full_export_needs_the_capability_and_is_audited(client, make_staff, city, worker, registry):
    url = reverse("members:union_roster_export", args=[registry.acme_union.pk])
    login(client, make_staff, city.zhongshan, "operator", name="op")
    assert client.get(url, {"format": "csv", "full": "1"}).status_code == 403
    login(client, make_staff, city.zhongshan, "unit_admin", name="admin")
    response = client.get(url, {"format": "xlsx", "full": "1"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[1][2] == NUMBER and values[1][5] == "13800001111"
    entry = AuditEntry.objects.get(action=AuditAction.VIEW_PERSONAL)
    assert "1 人" in entry.note and NUMBER not in entry.note


def test_enterprise_export_and_scope(client, make_staff, city, worker, registry):
    login(client, make_staff, city.xigang, "unit_admin")
    url = reverse("members:enterprise_roster_export", args=[registry.acme.pk])
    assert client.get(url, {"format": "csv"}).status_code == 404
    login(client, make_staff, city.zhongshan, "viewer", name="v2")
    rows = _csv(client.get(url, {"format": "csv"}))
    assert rows[1][0] == "王小明" and rows[1][2] == worker.id_number_masked and rows[1][-1] == "是"


def test_a_persons_records_outside_the_users_scope_show_dates_but_not_the_place(city, make_staff):
    """The rule of docs/API.md on the person page too: another district's enterprise reads 其他单位."""
    import datetime

    from django.test import Client

    from safetynet.accounts.models import Role
    from safetynet.members.services import employment_start, person_create
    from safetynet.members.tests.factories import make_id_number
    from safetynet.orgs.tests.factories import EnterpriseFactory

    earlier = EnterpriseFactory(org_unit=city.street_b, name="西岗旧东家有限公司")
    now = EnterpriseFactory(org_unit=city.community_a, name="中山新东家有限公司")
    person = person_create(actor=None, name="赵一", id_number=make_id_number(7))
    employment_start(
        actor=None,
        person=person,
        enterprise=earlier,
        valid_from=datetime.date(2015, 1, 1),
        valid_to=datetime.date(2018, 1, 1),
    )
    employment_start(actor=None, person=person, enterprise=now, valid_from=datetime.date(2018, 1, 1))
    client = Client()
    client.force_login(make_staff("zs_viewer", city.zhongshan, Role.VIEWER))
    html = client.get(f"/members/persons/{person.pk}/", secure=True).content.decode()
    timeline = html[html.index('class="history timeline"') :]
    timeline = timeline[: timeline.index("</ol>")]
    table = html[html.index('id="employments"') :]
    table = table[: table.index("</table>")]
    for part in (timeline, table):
        assert "中山新东家有限公司" in part and "2015-01-01" in part
        assert "西岗旧东家有限公司" not in part and "其他单位" in part
