"""The index pages in a real browser at 1440×900: the city computes the index with the progress bar, the
ranking, one enterprise's explanation, the model page refusing weights that do not sum to 100 %, and the
district approving a 和谐企业. Screenshots in /tmp/harmony_shots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from safetynet.harmony.models import Designation, Score
from safetynet.harmony.tests.test_index import IMMEDIATE, three  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/harmony_shots")


def sign_in(page, base: str, user) -> None:
    page.context.clear_cookies()
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}])


def test_index_pages(live_server, transactional_db, three, city, make_staff, chromium_page, settings):  # noqa: F811
    from playwright.sync_api import expect

    settings.TASKS = IMMEDIATE
    page = chromium_page
    page.set_viewport_size({"width": 1440, "height": 900})
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, live_server.url, three["city_admin"])
    page.goto(f"{live_server.url}/harmony/?year=2012")
    with page.expect_navigation():
        page.get_by_role("button", name="计算全市指数").first.click()
    expect(page.locator("#run-status")).to_contain_text("已计算 3 家企业")
    page.screenshot(path=str(SHOTS / "harmony-run-1440.png"), full_page=True)
    page.get_by_role("link", name="查看排名").click()
    expect(page.locator("table.table").first).to_contain_text("友好机械有限公司")
    page.screenshot(path=str(SHOTS / "harmony-ranking-1440.png"), full_page=True)
    score = Score.objects.get(enterprise=three["a"])
    page.goto(f"{live_server.url}/harmony/scores/{score.pk}/")
    expect(page.locator("table.table")).to_contain_text("年末在职 4 人，已签劳动合同 3 人")
    page.screenshot(path=str(SHOTS / "harmony-score-1440.png"), full_page=True)
    page.goto(f"{live_server.url}/harmony/model/?year=2014")
    page.fill("input[name=weight_union]", "60")
    with page.expect_navigation():
        page.get_by_role("button", name="保存 2014 年模型").click()
    expect(page.locator(".messages, .errorlist").first).to_contain_text("各维度权重之和应为 100%")
    page.screenshot(path=str(SHOTS / "harmony-model-1440.png"), full_page=True)

    sign_in(page, live_server.url, make_staff("zs_officer", city.zhongshan, "operator"))
    page.goto(f"{live_server.url}/harmony/designations/?year=2012")
    with page.expect_navigation():
        page.get_by_role("button", name="依据指数提名").click()
    sign_in(page, live_server.url, make_staff("zs_admin", city.zhongshan, "unit_admin"))
    page.goto(f"{live_server.url}/harmony/designations/?year=2012")
    with page.expect_navigation():
        page.get_by_role("button", name="批准", exact=True).click()
    expect(page.locator("table.table")).to_contain_text("已命名")
    assert Designation.objects.get().status == "approved"
    page.screenshot(path=str(SHOTS / "harmony-designations-1440.png"), full_page=True)
