"""Phone pages: light (under 150 KB with their CSS and JS), no inline script, labelled fields."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from safetynet.portal import services
from safetynet.portal.tests.helpers import PASSWORD, make_account

pytestmark = pytest.mark.django_db
LIMIT = 150 * 1024


def _weight(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.content
    total = len(html)
    for asset in re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html):
        path = finders.find(asset.decode().removeprefix("/static/"))
        assert path, asset
        with open(path, "rb") as handle:
            total += len(handle.read())
    assert b"<script>" not in html and b" onclick=" not in html, url
    return total


def test_every_worker_page_is_under_150_kb(client, world):
    account = make_account("13910000001", name="王小明", id_number=world.people["王小明"]["id_number"])
    application = services.join_apply(account=account, enterprise_id=world.enterprise.pk)
    services.join_decide(actor=world.chair, application=application, action="approve")
    case = services.appeal_file(
        account=account, category="wage_arrears", description="欠薪", enterprise_id=world.enterprise.pk
    )
    for url in (reverse("portal:register"), reverse("portal:login"), reverse("portal:privacy")):
        assert _weight(client, url) < LIMIT, url
    client.post(reverse("portal:login"), {"mobile": "13910000001", "password": PASSWORD})
    names = [
        "home",
        "card",
        "join",
        "appeal_list",
        "appeal_new",
        "notice_list",
        "notifications",
        "me",
        "withdraw",
        "discounts",
        "applications",
        "assistance_apply",
    ]
    weights = {name: _weight(client, reverse(f"portal:{name}")) for name in names}
    weights["appeal_detail"] = _weight(client, reverse("portal:appeal_detail", args=[case.pk]))
    assert max(weights.values()) < LIMIT, weights


def test_fields_have_labels(client, world):
    for url in (reverse("portal:register"), reverse("portal:login")):
        html = client.get(url).content.decode()
        for field_id in re.findall(r'<input[^>]+id="([^"]+)"', html):
            assert f'for="{field_id}"' in html, (url, field_id)
        assert "<h2>" in html and 'lang="zh-CN"' in html
