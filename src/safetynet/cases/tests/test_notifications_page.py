"""站内通知: the page, the mark-read service, and the API — each user sees and touches only their own."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from safetynet.cases import selectors, services
from safetynet.cases.models import Notification
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError

from .conftest import T0
from .test_services import intake


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def note(user, text: str, *, minutes: int = 0, case=None, read: bool = False) -> Notification:
    return Notification.objects.create(
        recipient=user,
        text=text,
        case=case,
        link=f"/cases/{case.pk}/" if case else "",
        created_at=T0 + datetime.timedelta(minutes=minutes),
        read=read,
    )


# --- service ------------------------------------------------------------------------------------------


def test_mark_read_named_ones_only_and_all_of_mine(setup):
    officer = setup.district_officer
    first, second, third = (note(officer, f"通知{i}", minutes=i) for i in range(3))
    other = note(setup.xigang_officer, "西岗的通知")
    assert services.notification_mark_read(actor=officer, notification_ids=[first.pk, str(second.pk)]) == 2
    assert set(Notification.objects.filter(read=True).values_list("pk", flat=True)) == {first.pk, second.pk}
    # Already read ones do not count again; "all" marks only the rest of mine.
    assert services.notification_mark_read(actor=officer, notification_ids=[first.pk]) == 0
    assert services.notification_mark_read(actor=officer) == 1
    third.refresh_from_db()
    other.refresh_from_db()
    assert third.read and not other.read


def test_mark_read_of_someone_elses_notification_is_not_found_and_changes_nothing(setup):
    mine = note(setup.district_officer, "我的")
    theirs = note(setup.xigang_officer, "别人的")
    for ids in ([theirs.pk], [mine.pk, theirs.pk], [987654], ["abc"]):
        with pytest.raises(OutOfScope):
            services.notification_mark_read(actor=setup.district_officer, notification_ids=ids)
    assert not Notification.objects.filter(read=True).exists()
    with pytest.raises(ServiceError) as refused:
        services.notification_mark_read(actor=setup.district_officer, notification_ids=[])
    assert refused.value.code == "required"
    with pytest.raises(NotAllowed):
        services.notification_mark_read(actor=None)


def test_unread_count_and_inbox_are_per_user(setup):
    note(setup.district_officer, "一", minutes=1)
    note(setup.district_officer, "二", minutes=2, read=True)
    note(setup.viewer, "三")
    assert selectors.notification_unread_count(setup.district_officer) == 1
    assert [n.text for n in selectors.notification_inbox(setup.district_officer)] == ["二", "一"]
    assert [n.text for n in selectors.notification_inbox(setup.district_officer, unread_only=True)] == ["一"]


# --- page ---------------------------------------------------------------------------------------------


def test_the_page_lists_my_notifications_newest_first_with_unread_marked(setup):
    case = intake(setup)
    note(setup.district_officer, "较早的通知", minutes=1, case=case, read=True)
    note(setup.district_officer, "最新的通知", minutes=5, case=case)
    note(setup.xigang_officer, "西岗经办人的通知", minutes=3)
    response = client_for(setup.district_officer).get(reverse("cases:notifications"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "西岗经办人的通知" not in text
    assert text.index("最新的通知") < text.index("较早的通知")
    assert "1 条未读" in text and "全部标为已读" in text
    assert 'id="notification-badge"' in text  # the top bar counts the same unread notification
    assert case.number in text and reverse("cases:detail", args=[case.pk]) in text
    assert text.count('class="unread"') == 1
    unread_only = client_for(setup.district_officer).get(reverse("cases:notifications") + "?tab=unread")
    assert "最新的通知" in unread_only.content.decode() and "较早的通知" not in unread_only.content.decode()


def test_the_page_paginates(setup):
    for i in range(55):
        note(setup.district_officer, f"第{i:02d}条", minutes=i)
    client = client_for(setup.district_officer)
    first = client.get(reverse("cases:notifications")).content.decode()
    assert "第54条" in first and "第04条" not in first and "共 55 条" in first
    second = client.get(reverse("cases:notifications") + "?page=2").content.decode()
    assert "第04条" in second and "第54条" not in second


def test_mark_one_selected_and_all_from_the_page(setup):
    officer = setup.district_officer
    one, two, three, four = (note(officer, f"通知{i}", minutes=i) for i in range(4))
    client = client_for(officer)
    url = reverse("cases:notifications") + "?tab=unread"
    response = client.post(url, {"one": one.pk})
    assert response.status_code == 302 and response["Location"] == url
    assert Notification.objects.filter(read=True).count() == 1
    client.post(url, {"notification": [two.pk, three.pk], "selected": "1"})
    assert set(Notification.objects.filter(read=False).values_list("pk", flat=True)) == {four.pk}
    followed = client.post(reverse("cases:notifications"), {"all": "1"}, follow=True)
    assert "已将全部 1 条未读通知标为已读" in followed.content.decode()
    assert not Notification.objects.filter(read=False).exists()
    nothing = client.post(reverse("cases:notifications"), {"selected": "1"}, follow=True)
    assert "请选择要标为已读的通知" in nothing.content.decode()


def test_opening_a_notification_marks_it_read_and_goes_to_its_case(setup):
    case = intake(setup)
    item = note(setup.district_officer, "新案件待受理", case=case)
    response = client_for(setup.district_officer).post(reverse("cases:notifications"), {"open": item.pk})
    assert response.status_code == 302 and response["Location"] == reverse("cases:detail", args=[case.pk])
    item.refresh_from_db()
    assert item.read


def test_touching_someone_elses_notification_is_404(setup):
    theirs = note(setup.xigang_officer, "别人的")
    client = client_for(setup.district_officer)
    for body in ({"one": theirs.pk}, {"open": theirs.pk}, {"notification": [theirs.pk]}, {"one": "x"}):
        assert client.post(reverse("cases:notifications"), body).status_code == 404
    theirs.refresh_from_db()
    assert not theirs.read


def test_a_viewer_reads_and_marks_their_own(setup):
    item = note(setup.viewer, "查看人员的通知")
    client = client_for(setup.viewer)
    assert "查看人员的通知" in client.get(reverse("cases:notifications")).content.decode()
    client.post(reverse("cases:notifications"), {"one": item.pk})
    item.refresh_from_db()
    assert item.read


def test_the_page_needs_a_login(client):
    response = client.get(reverse("cases:notifications"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_empty_inbox_says_what_comes_here(setup):
    text = client_for(setup.street_officer).get(reverse("cases:notifications")).content.decode()
    assert "暂无通知" in text and "全部标为已读" not in text


def test_service_notifications_reach_the_page(setup):
    """A case handed up lands on the street's page through the real services."""
    case = intake(setup, actor=setup.community_officer)
    services.case_hand_up(
        actor=setup.community_officer, case=case, version=case.version, reason="调解不成", now=T0
    )
    text = client_for(setup.street_officer).get(reverse("cases:notifications")).content.decode()
    assert case.number in text and "上交" in text


# --- API ----------------------------------------------------------------------------------------------


def test_api_lists_only_my_notifications(setup):
    case = intake(setup)
    note(setup.district_officer, "我的一条", minutes=1, case=case)
    note(setup.district_officer, "我的已读", minutes=2, read=True)
    note(setup.xigang_officer, "别人的")
    client = api_for(setup.district_officer)
    body = client.get("/api/v1/notifications/").json()
    assert [row["text"] for row in body["results"]] == ["我的已读", "我的一条"]
    assert body["results"][1]["case_number"] == case.number and body["results"][1]["case"] == case.pk
    unread = client.get("/api/v1/notifications/?unread=true").json()
    assert [row["text"] for row in unread["results"]] == ["我的一条"]
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 1}


def test_api_marks_read_and_refuses_others_with_404(setup):
    mine = note(setup.district_officer, "我的")
    also = note(setup.district_officer, "我的二")
    theirs = note(setup.xigang_officer, "别人的")
    client = api_for(setup.district_officer)
    refused = client.post("/api/v1/notifications/read/", {"ids": [mine.pk, theirs.pk]}, format="json")
    assert refused.status_code == 404 and refused.json()["code"] == "out_of_scope"
    assert not Notification.objects.filter(read=True).exists()
    done = client.post("/api/v1/notifications/read/", {"ids": [mine.pk]}, format="json")
    assert done.status_code == 200 and done.json() == {"marked": 1, "unread": 1}
    rest = client.post("/api/v1/notifications/read/", {}, format="json")
    assert rest.json() == {"marked": 1, "unread": 0}
    also.refresh_from_db()
    theirs.refresh_from_db()
    assert also.read and not theirs.read
    assert client.post("/api/v1/notifications/read/", {"ids": []}, format="json").status_code == 400


def test_api_needs_authentication(client):
    assert APIClient().get("/api/v1/notifications/").status_code in (401, 403)


def test_api_is_in_the_schema(setup):
    client = Client()
    client.force_login(setup.viewer)
    schema = client.get("/api/schema/").content.decode()
    assert "/api/v1/notifications/" in schema and "/api/v1/notifications/read/" in schema


def test_the_badge_snippet_for_the_top_bar(setup):
    """The top-bar badge, from the shell's ``unread_notifications`` (cases.context_processors)."""
    from django.template.loader import render_to_string

    assert render_to_string("cases/_notification_badge.html", {}).strip() == ""
    none = render_to_string("cases/_notification_badge.html", {"unread_notifications": 0})
    assert reverse("cases:notifications") in none and "badge-red" not in none
    some = render_to_string("cases/_notification_badge.html", {"unread_notifications": 3})
    assert ">3<" in some and "badge-red" in some
    many = render_to_string("cases/_notification_badge.html", {"unread_notifications": 250})
    assert "99+" in many
