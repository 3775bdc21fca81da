"""The ground's own answers: the favicon every browser asks for."""

from django.test import Client


def test_favicon_ico_leads_to_the_icon_the_pages_link(db):
    client = Client()
    response = client.get("/favicon.ico", secure=True)
    assert response.status_code == 302
    icon = client.get(response["Location"], secure=True)
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content if icon.streaming else [icon.content])


def test_pages_link_the_icon(db, city, make_staff):
    from safetynet.accounts.models import Role

    client = Client()
    client.force_login(make_staff("officer", city.zhongshan, Role.OPERATOR))
    page = client.get("/orgs/", secure=True)
    assert 'rel="icon"' in page.content.decode()
