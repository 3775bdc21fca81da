"""Urgent incidents (突发事件): filed from any level, the district's and the city's duty officers told at once
(in-app, email, SMS) by the filing service itself; 知悉时间 and 报告时间 kept, late reports flagged against the
limit; bad input refused with the field named and nothing saved; the board, the detail, the duty roster and
the API, all scoped."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from safetynet.cases.models import Notification
from safetynet.cases.notifications import MemorySmsBackend
from safetynet.core.errors import NotAllowed, OutOfScope, ServiceError
from safetynet.core.models import AuditEntry
from safetynet.reporting import services
from safetynet.reporting.models import DutyOfficer, Incident, IncidentStatus
from safetynet.reporting.tests.conftest import at

NOW = at("2012-06-04 10:00")
TITLE = "友好服装厂 60 余名职工因欠薪堵厂门"


def file(world, actor, **overrides):
    data = {
        "actor": actor,
        "category": "collective_action",
        "title": TITLE,
        "known_at": at("2012-06-04 09:00"),
        "workers_involved": 60,
        "now": NOW,
    }
    data.update(overrides)
    return services.incident_file(**data)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def community_officer(world, make_staff):
    return make_staff("community_officer", world.city.community_a, "operator")


# --- the service ------------------------------------------------------------------------------------------


def test_an_incident_reaches_the_district_and_city_duty_officers_on_filing(
    world, community_officer, django_capture_on_commit_callbacks
):
    for user, address in ((world.district_officer, "zs@example.cn"), (world.city_admin, "city@example.cn")):
        user.email = address
        user.save()
    with django_capture_on_commit_callbacks(execute=True):
        incident = file(world, community_officer, enterprise=world.enterprise_a)
    assert incident.unit == world.city.community_a and incident.reporter_unit == world.city.community_a
    assert incident.known_at == at("2012-06-04 09:00") and incident.reported_at == NOW
    assert not incident.late and incident.limit_hours == 2
    # Duty officers: without a roster, every officer and administrator of 中山区 and of the city; not the
    # street in between, not 西岗区, not the viewer, not the filer.
    told = set(Notification.objects.values_list("recipient__username", flat=True))
    assert told == {"district_officer", "district_head", "city_admin_user"}
    assert incident.notified == 3 == Incident.objects.get().notified
    note = Notification.objects.filter(recipient=world.city_admin).get()
    assert TITLE in note.text and "友好社区" in note.text and "知悉 06-04 09:00" in note.text
    assert note.link == f"/reporting/incidents/{incident.pk}/" and note.created_at == NOW
    assert sorted(m.to[0] for m in mail.outbox) == ["city@example.cn", "zs@example.cn"]
    assert AuditEntry.objects.filter(entity="reporting.incident", object_id=str(incident.pk)).count() == 1


def test_a_duty_roster_narrows_the_recipients_and_adds_sms(
    world, community_officer, django_capture_on_commit_callbacks
):
    services.duty_officers_set(
        actor=world.city_admin, unit=world.city.city, entries=[(world.city_admin, "13900001111")]
    )
    services.duty_officers_set(
        actor=world.district_head, unit=world.city.zhongshan, entries=[(world.district_officer, "")]
    )
    with django_capture_on_commit_callbacks(execute=True):
        file(world, community_officer)
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {
        "district_officer",
        "city_admin_user",
    }
    assert [phone for phone, _text in MemorySmsBackend.outbox] == ["13900001111"]
    assert "【突发事件】" in MemorySmsBackend.outbox[0][1]


def test_the_filer_is_not_told_of_their_own_report(world):
    file(world, world.district_officer)
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {
        "district_head",
        "city_admin_user",
    }


@pytest.mark.parametrize(
    ("known", "late"),
    [("2012-06-04 08:00", False), ("2012-06-04 07:59", True), ("2012-06-03 10:00", True)],
)
def test_late_is_more_than_the_limit_after_known(world, known, late):
    incident = file(world, world.street_officer, known_at=at(known))
    assert incident.late is late
    assert ("迟报" in Notification.objects.filter(recipient=world.city_admin).get().text) is late


def test_the_limit_is_a_setting_kept_with_the_record(world, settings):
    settings.INCIDENT_REPORT_LIMIT_HOURS = 1
    incident = file(world, world.street_officer, known_at=at("2012-06-04 08:30"))
    assert incident.late and incident.limit_hours == 1
    settings.INCIDENT_REPORT_LIMIT_HOURS = 4
    incident.refresh_from_db()
    assert incident.late and incident.limit_hours == 1


def nothing_saved(before: int) -> None:
    assert not Incident.objects.exists() and not Notification.objects.exists()
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"reported_at": at("2012-06-04 08:00")}, "reported_at", ("报告时间", "不能早于知悉时间")),
        ({"known_at": at("2012-06-04 11:00")}, "known_at", ("知悉时间", "不能晚于现在")),
        ({"reported_at": at("2012-06-05 10:00")}, "reported_at", ("报告时间", "不能晚于现在")),
        ({"known_at": None}, "known_at", ("请填写知悉时间",)),
        (
            {"occurred_at": at("2012-06-04 10:30"), "reported_at": at("2012-06-04 09:30")},
            "occurred_at",
            ("发生时间",),
        ),
        ({"category": "riot"}, "category", ("事件类别",)),
        ({"known_at": at("0001-01-01 00:00")}, "known_at", ("知悉时间不对",)),
        ({"title": "  "}, "title", ("事件简述",)),
        ({"title": "长" * 101}, "title", ("最多 100 个字",)),
        ({"workers_involved": -3}, "workers_involved", ("涉及人数",)),
        ({"workers_involved": "许多"}, "workers_involved", ("涉及人数",)),
    ],
)
def test_bad_input_is_refused_with_the_field_named(world, overrides, field, words):
    before = AuditEntry.objects.count()
    with pytest.raises(ServiceError) as caught:
        file(world, world.street_officer, **overrides)
    assert caught.value.field == field
    assert all(word in caught.value.message for word in words), caught.value.message
    nothing_saved(before)


def test_scope_and_roles(world):
    before = AuditEntry.objects.count()
    with pytest.raises(OutOfScope) as caught:
        file(world, world.street_officer, enterprise=world.enterprise_b)
    assert caught.value.field == "enterprise"
    with pytest.raises(OutOfScope):
        file(world, world.street_officer, unit=world.city.street_b)
    with pytest.raises(NotAllowed):
        file(world, world.viewer)
    with pytest.raises(ServiceError) as caught:
        file(world, world.district_officer, unit=world.street_e, enterprise=world.enterprise_a)
    assert caught.value.field == "enterprise" and "不在“桃源街道”辖区内" in caught.value.message
    nothing_saved(before)


def test_acknowledge_by_a_duty_level_then_close_with_the_outcome(world):
    incident = file(world, world.street_officer)
    with pytest.raises(NotAllowed):
        services.incident_transition(actor=world.street_officer, incident=incident, action="acknowledge")
    incident = services.incident_transition(
        actor=world.district_officer,
        incident=incident,
        action="acknowledge",
        version=1,
        now=at("2012-06-04 10:05"),
    )
    assert (
        incident.status == IncidentStatus.ACKNOWLEDGED and incident.acknowledged_by == world.district_officer
    )
    assert incident.acknowledged_at == at("2012-06-04 10:05")
    with pytest.raises(ServiceError) as caught:
        services.incident_transition(actor=world.district_officer, incident=incident, action="acknowledge")
    assert caught.value.code == "invalid_transition"
    with pytest.raises(ServiceError) as caught:
        services.incident_transition(
            actor=world.district_officer, incident=incident, action="close", outcome=" "
        )
    assert caught.value.field == "outcome"
    with pytest.raises(ServiceError) as caught:
        services.incident_transition(
            actor=world.district_officer, incident=incident, action="close", version=1
        )
    assert caught.value.code == "conflict"
    with pytest.raises(OutOfScope):
        services.incident_transition(
            actor=world.xigang_officer, incident=incident, action="close", outcome="x"
        )
    incident = services.incident_transition(
        actor=world.street_officer, incident=incident, action="close", outcome="企业已补发工资，职工散去。"
    )
    assert incident.status == IncidentStatus.CLOSED and incident.outcome == "企业已补发工资，职工散去。"


def test_the_duty_roster_is_checked(world):
    with pytest.raises(NotAllowed):
        services.duty_officers_set(actor=world.district_officer, unit=world.city.zhongshan, entries=[])
    with pytest.raises(OutOfScope):
        services.duty_officers_set(actor=world.district_head, unit=world.city.xigang, entries=[])
    with pytest.raises(ServiceError) as caught:
        services.duty_officers_set(
            actor=world.district_head,
            unit=world.city.zhongshan,
            entries=[(world.district_officer, "1390000")],
        )
    assert caught.value.field == "phone" and "11 位手机号码" in caught.value.message
    with pytest.raises(ServiceError) as caught:
        services.duty_officers_set(
            actor=world.district_head, unit=world.city.zhongshan, entries=[(world.xigang_officer, "")]
        )
    assert caught.value.field == "user"
    assert not DutyOfficer.objects.exists()
    assert (
        services.duty_officers_set(
            actor=world.district_head,
            unit=world.city.zhongshan,
            entries=[(world.district_officer, "139 0000 1111")],
        )
        == 1
    )
    assert DutyOfficer.objects.get().phone == "13900001111"
    assert services.duty_officers_set(actor=world.district_head, unit=world.city.zhongshan, entries=[]) == 0
    assert not DutyOfficer.objects.exists()


# --- pages --------------------------------------------------------------------------------------------------


def test_a_community_officer_files_from_the_form_errors_beside_the_fields(world, community_officer):
    client = client_for(community_officer)
    page = client.get(reverse("reporting:incident_create"))
    assert page.status_code == 200 and 'type="datetime-local"' in page.content.decode()
    now = timezone.localtime()
    form = {
        "category": "collective_action",
        "title": TITLE,
        "known_at": (now - datetime.timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M"),
        "reported_at": (now - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "unit": str(world.city.community_a.pk),
        "credit_code": world.enterprise_a.credit_code,
        "workers_involved": "６０",
        "description": "职工聚集在厂门口，要求补发４、５月工资。",
    }
    response = client.post(reverse("reporting:incident_create"), form)
    html = response.content.decode()
    assert response.status_code == 400 and "不能早于知悉时间" in html and "has-error" in html
    assert not Incident.objects.exists()
    form["reported_at"] = ""
    response = client.post(reverse("reporting:incident_create"), form)
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "reporting:incident_detail", args=[incident.pk]
    )
    assert incident.enterprise == world.enterprise_a and incident.workers_involved == 60 and not incident.late
    assert incident.description == "职工聚集在厂门口，要求补发４、５月工资。"
    html = client.get(response["Location"]).content.decode()
    assert TITLE in client.get(reverse("reporting:incident_list")).content.decode()
    assert TITLE in html and "按时报告" in html and "3 名区、市值班人员" in html


def test_a_late_incident_on_the_board_and_its_detail(world):
    now = timezone.now()
    incident = services.incident_file(
        actor=world.district_officer,
        category="stoppage",
        title="桃源机械厂集体停工",
        known_at=now - datetime.timedelta(hours=3),
        enterprise=world.enterprise_e,
    )
    assert incident.late
    city = client_for(world.city_admin)
    html = city.get(reverse("reporting:incident_list")).content.decode()
    assert "桃源机械厂集体停工" in html and "flag-late" in html and "未接报" in html
    html = city.get(reverse("reporting:incident_list") + "?late=1&status=").content.decode()
    assert "桃源机械厂集体停工" in html
    detail = city.get(reverse("reporting:incident_detail", args=[incident.pk])).content.decode()
    assert "迟报：超过 2 小时时限" in detail and "知悉后 180 分钟" in detail
    response = city.post(
        reverse("reporting:incident_action", args=[incident.pk]), {"action": "acknowledge", "version": 1}
    )
    assert response.status_code == 302
    assert Incident.objects.get().status == IncidentStatus.ACKNOWLEDGED
    response = city.post(
        reverse("reporting:incident_action", args=[incident.pk]), {"action": "close", "version": 2}
    )
    assert response.status_code == 400 and "请填写处置结果" in response.content.decode()
    # Another district sees nothing of it.
    xigang = client_for(world.xigang_officer)
    assert "桃源机械厂集体停工" not in xigang.get(reverse("reporting:incident_list")).content.decode()
    assert xigang.get(reverse("reporting:incident_detail", args=[incident.pk])).status_code == 404
    assert (
        xigang.post(
            reverse("reporting:incident_action", args=[incident.pk]), {"action": "close", "outcome": "x"}
        ).status_code
        == 404
    )
    viewer = client_for(world.viewer)
    assert viewer.get(reverse("reporting:incident_create")).status_code == 403


def test_the_duty_roster_page(world):
    head = client_for(world.district_head)
    html = head.get(reverse("reporting:duty")).content.decode()
    assert "尚未安排值班人员" in html and "district_officer" in html
    response = head.post(
        reverse("reporting:duty"),
        {"on_duty": [str(world.district_officer.pk)], f"phone-{world.district_officer.pk}": "1390000"},
    )
    assert response.status_code == 400 and "11 位手机号码" in response.content.decode()
    response = head.post(
        reverse("reporting:duty"),
        {"on_duty": [str(world.district_officer.pk)], f"phone-{world.district_officer.pk}": "13900001111"},
    )
    assert response.status_code == 302 and DutyOfficer.objects.get().user == world.district_officer
    assert client_for(world.district_officer).post(reverse("reporting:duty"), {}).status_code == 403
    assert client_for(world.street_officer).get(reverse("reporting:duty")).status_code == 404


# --- the API ---------------------------------------------------------------------------------------------


def test_the_api_files_lists_and_retrieves_in_scope(world):
    client = client_for(world.street_officer)
    now = timezone.now()
    body = {
        "category": "collective_sign",
        "title": "青泥洼桥街道某商场职工酝酿集体上访",
        "known_at": (now - datetime.timedelta(hours=3)).isoformat(),
        "enterprise": world.enterprise_a.credit_code,
        "workers_involved": 25,
    }
    response = client.post("/api/v1/incidents/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["late"] is True and data["unit"] == "210202001001" and data["notified"] == 3
    assert data["enterprise"] == world.enterprise_a.credit_code and data["reporter_unit"] == "210202001"
    bad = dict(body, reported_at=(now - datetime.timedelta(hours=4)).isoformat())
    response = client.post("/api/v1/incidents/", bad, content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "reported_at"
    assert "不能早于知悉时间" in response.json()["detail"] and Incident.objects.count() == 1
    other = dict(body, enterprise=world.enterprise_b.credit_code)
    response = client.post("/api/v1/incidents/", other, content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "enterprise"
    pk = data["id"]
    assert [row["id"] for row in client.get("/api/v1/incidents/?late=true").json()["results"]] == [pk]
    assert client.get("/api/v1/incidents/?late=false").json()["results"] == []
    assert client.get(f"/api/v1/incidents/{pk}/").json()["title"] == body["title"]
    xigang = client_for(world.xigang_officer)
    assert xigang.get(f"/api/v1/incidents/{pk}/").status_code == 404
    assert xigang.get("/api/v1/incidents/").json()["results"] == []
    viewer = client_for(world.viewer)
    assert viewer.post("/api/v1/incidents/", body, content_type="application/json").status_code == 403
    assert viewer.get(f"/api/v1/incidents/{pk}/").status_code == 200
