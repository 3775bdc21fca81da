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


def test_the_client_address_is_the_one_our_proxy_saw_not_what_the_client_wrote(settings):
    from django.test import RequestFactory

    from safetynet.core.middleware import client_address

    forged = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.7", REMOTE_ADDR="127.0.0.1")
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(forged) == "10.0.0.7"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(forged) == "1.2.3.4"
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(forged) == "127.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(RequestFactory().get("/", REMOTE_ADDR="127.0.0.1")) == "127.0.0.1"
