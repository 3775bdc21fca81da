from django.test import Client


def test_healthz_answers_ok_without_login(db, settings):
    settings.SECURE_SSL_REDIRECT = False
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_is_exempt_from_the_https_redirect(db, settings):
    # Load balancers probe over plain http inside the network.
    settings.SECURE_SSL_REDIRECT = True
    assert Client().get("/healthz").status_code == 200
