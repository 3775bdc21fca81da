"""The chairman's path in a real browser: dashboard → a district → a number → the list, downloaded."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from safetynet.indicators.services import target_set
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[4] / "docs" / "screenshots"


def test_dashboard_district_number_and_download(
    live_server, transactional_db, city, make_staff, chromium_page
):
    from django.utils import timezone
    from playwright.sync_api import expect

    covered = EnterpriseFactory(org_unit=city.community_a, name="中山已建会企业")
    EnterpriseFactory(org_unit=city.community_a, name="中山未建会企业")
    EnterpriseFactory(org_unit=city.street_b, name="西岗未建会企业")
    UnionFactory(org_unit=city.community_a, enterprises=[covered])
    admin = make_staff("chairman", city.city, "city_admin", password="Safetynet-test-1")
    target_set(
        actor=admin, indicator="union_rate", org_unit=city.city, year=timezone.localdate().year, value="0.9"
    )

    page = chromium_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "chairman")
    page.fill("input[name=password]", "Safetynet-test-1")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("指标看板")
    expect(page.locator(".indicator-cards")).to_contain_text("33.3 %")  # 1 of 3 eligible enterprises covered
    expect(page.locator(".indicator-cards")).to_contain_text("严重落后")
    page.wait_for_selector("#chart-children canvas")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-city.png"), full_page=True)

    page.locator("#units-table").get_by_role("link", name="中山区").click()
    expect(page.locator("h1")).to_contain_text("中山区")
    card = page.locator('.stat[data-indicator="union_rate"]')
    expect(card).to_contain_text("50.0 %")
    card.get_by_role("link", name="未达标名单").click()
    expect(page.locator("h1")).to_contain_text("建会率")
    expect(page.locator("table")).to_contain_text("中山未建会企业")
    expect(page.locator("table")).not_to_contain_text("西岗未建会企业")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-records.png"), full_page=True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="导出 XLSX").click()
    workbook = openpyxl.load_workbook(
        io.BytesIO(Path(download_info.value.path()).read_bytes()), read_only=True
    )
    names = [row[1] for row in workbook.active.iter_rows(min_row=3, values_only=True)]
    assert names == ["中山未建会企业"]
