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


def test_the_units_table_shows_every_column_in_code_order_with_names_on_one_line(
    live_server, transactional_db, city, make_staff, chromium_page
):
    """A laptop screen (1280 px) shows the unit table's every indicator column without scrolling sideways; the
    districts come in the official code order whatever order they were created in; no unit name wraps; and
    on a narrow window, where the table must scroll, the name column stays in view."""
    from playwright.sync_api import expect

    from safetynet.orgs.models import OrgLevel
    from safetynet.orgs.services import orgunit_create

    # Created last, coded first; a long name that must not wrap.
    orgunit_create(
        actor=None, code="210201", name="普兰店市新区街道办", level=OrgLevel.DISTRICT, parent=city.city
    )
    make_staff("chairman", city.city, "city_admin", password="Safetynet-test-1")
    page = chromium_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "chairman")
    page.fill("input[name=password]", "Safetynet-test-1")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("指标看板")

    table = page.locator("#units-table")
    codes = table.locator("tbody td.unit-name .muted").all_inner_texts()
    assert codes == ["210201", "210202", "210203"]
    scroller = page.locator(".table-scroll").first
    widths = scroller.evaluate("(el) => [el.scrollWidth, el.clientWidth]")
    assert widths[0] <= widths[1] + 1, f"the table scrolls sideways at 1280 px: {widths}"
    heights = table.locator("tbody td.unit-name").evaluate_all(
        "(cells) => cells.map((c) => [c.getBoundingClientRect().height, getComputedStyle(c).whiteSpace])"
    )
    assert all(space == "nowrap" for _height, space in heights)
    assert max(h for h, _space in heights) < 2 * min(h for h, _space in heights)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".table-scroll").first.screenshot(path=str(SCREENSHOTS / "dashboard-units-table.png"))

    # Narrow: the figures scroll, the name column stays where it is.
    page.set_viewport_size({"width": 700, "height": 900})
    first_name = table.locator("tbody td.unit-name").first
    before = first_name.bounding_box()["x"]
    scroller.evaluate("(el) => { el.scrollLeft = 300; }")
    assert scroller.evaluate("(el) => el.scrollLeft") > 0
    assert abs(first_name.bounding_box()["x"] - before) < 1
