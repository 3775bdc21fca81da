"""Shared fixtures: a small city with two districts, and staff of every role."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from safetynet.orgs.models import OrgLevel, OrgUnit
from safetynet.orgs.services import orgunit_create

os.environ.setdefault("SAFETYNET_PII_KEY", "Wm9eTeOUgNqN1Zz4GdjXJ3f9nCk5x7sgq2vYtWlbHdE=")


@dataclass
class City:
    city: OrgUnit
    zhongshan: OrgUnit
    xigang: OrgUnit
    street_a: OrgUnit
    street_b: OrgUnit
    community_a: OrgUnit


@pytest.fixture
def city(db) -> City:
    c = orgunit_create(actor=None, code="2102", name="大连市", level=OrgLevel.CITY, parent=None)
    zs = orgunit_create(actor=None, code="210202", name="中山区", level=OrgLevel.DISTRICT, parent=c)
    xg = orgunit_create(actor=None, code="210203", name="西岗区", level=OrgLevel.DISTRICT, parent=c)
    sa = orgunit_create(actor=None, code="210202001", name="青泥洼桥街道", level=OrgLevel.STREET, parent=zs)
    sb = orgunit_create(actor=None, code="210203001", name="八一路街道", level=OrgLevel.STREET, parent=xg)
    ca = orgunit_create(actor=None, code="210202001001", name="友好社区", level=OrgLevel.COMMUNITY, parent=sa)
    return City(city=c, zhongshan=zs, xigang=xg, street_a=sa, street_b=sb, community_a=ca)


@pytest.fixture
def make_staff(db):
    from safetynet.accounts.models import User

    def make(username: str, unit: OrgUnit, role: str, password: str = "Safetynet-test-1") -> User:
        user = User.objects.create_user(username=username, password=password, org_unit=unit, role=role)
        return user

    return make


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def chromium_page(monkeypatch):
    """A headless Debian chromium page driven by Playwright (skipped where /usr/bin/chromium is missing)."""
    from pathlib import Path

    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run inside one unless told.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
        )
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()
        browser.close()
