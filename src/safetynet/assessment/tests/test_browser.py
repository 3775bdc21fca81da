"""A scheme from publishing to the bulletin in a real browser (headless Debian chromium through Playwright):
the city publishes; 中山区 signs its letter and uploads evidence; the city scores it and freezes; 中山区
appeals; the city decides, writes the commendation and criticism and publishes the bulletin; 中山区 then sees
the ranking. Screenshots go to /tmp/assessment_shots/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import timezone

from safetynet.assessment.models import Appeal, FinalScore, Letter, Scheme, SchemeStatus

from .conftest import build_facts, build_scheme

PASSWORD = "Safetynet-test-1"
SHOTS = Path("/tmp/assessment_shots")

pytestmark = pytest.mark.browser


@pytest.fixture
def site(live_server, transactional_db, city, make_staff, settings, tmp_path):
    from django.core.cache import cache

    cache.clear()
    settings.MEDIA_ROOT = tmp_path
    build_facts(city, make_staff, settings)
    make_staff("city_boss", city.city, "city_admin")
    make_staff("zs_officer", city.zhongshan, "operator")
    scheme, items = build_scheme(city)
    return live_server.url, city, scheme, items


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": max(900, min(height, 4000))})
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})


def login(page, base: str, username: str, path: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/?next={path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path) + "$"))


def submit(page, form: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form} button[type=submit]").first.click()


def test_a_scheme_from_publishing_to_the_bulletin(site, chromium_page):
    from playwright.sync_api import expect

    base, city, scheme, items = site
    page = chromium_page
    detail = f"/assessment/schemes/{scheme.pk}/"

    # The city publishes the six-item scheme.
    login(page, base, "city_boss", detail)
    shot(page, "scheme-draft")
    submit(page, "#transition-publish")
    expect(page.locator(".page-header h1")).to_contain_text("已发布")
    assert Letter.objects.filter(scheme=scheme).count() == 2

    # 中山区 signs its responsibility letter and uploads evidence for the manual item.
    letter = Letter.objects.get(scheme=scheme, org_unit=city.zhongshan)
    login(page, base, "zs_officer", f"/assessment/letters/{letter.pk}/")
    expect(page.locator("main")).to_contain_text("90.0 %")
    submit(page, "#sign-form")
    expect(page.locator(".page-header h1")).to_contain_text("已签订")
    unit_page = f"/assessment/schemes/{scheme.pk}/units/{city.zhongshan.pk}/"
    page.goto(f"{base}{unit_page}?as_of=2012-12-31")
    page.set_input_files(
        "#evidence-form input[type=file]",
        files=[{"name": "特色工作总结.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}],
    )
    submit(page, "#evidence-form")
    expect(page.locator(".messages")).to_contain_text("已上传")

    # The city scores the manual item with a reason, then freezes as of 31 December with the window open today.
    login(page, base, "city_boss", unit_page)
    page.fill("#review-form input[name=points]", "16")
    page.fill("#review-form input[name=reason]", "材料齐全，特色突出")
    submit(page, "#review-form")
    page.goto(f"{base}{unit_page}?as_of=2012-12-31")
    expect(page.locator("#item-scores")).to_contain_text("材料齐全")
    shot(page, "unit-score")
    page.goto(f"{base}/assessment/scores/?scheme={scheme.pk}&as_of=2012-12-31")
    expect(page.locator("#score-table")).to_contain_text("61.00")
    shot(page, "score-board")
    page.goto(f"{base}{detail}")
    page.fill("#transition-freeze input[name=day]", "2012-12-31")
    page.fill("#transition-freeze input[name=appeal_until]", f"{timezone.localdate():%Y-%m-%d}")
    submit(page, "#transition-freeze")
    expect(page.locator(".page-header h1")).to_contain_text("已冻结")

    # 中山区 appeals the cases item within the window.
    login(page, base, "zs_officer", unit_page)
    page.select_option("#appeal-form select[name=item]", str(items["诉求按期办结"].pk))
    page.fill("#appeal-form input[name=reason]", "超期一件系仲裁延期所致")
    submit(page, "#appeal-form")
    expect(page.locator(".messages")).to_contain_text("已提交")

    # The city upholds it (5 → 8), writes the bulletin and publishes it.
    appeal = Appeal.objects.get()
    login(page, base, "city_boss", detail)
    page.select_option(f"#decide-{appeal.pk} select[name=upheld]", "yes")
    page.fill(f"#decide-{appeal.pk} input[name=new_points]", "8")
    page.fill(f"#decide-{appeal.pk} input[name=decision]", "经核实，延期不可归责于区总工会")
    submit(page, f"#decide-{appeal.pk}")
    assert FinalScore.objects.get(scheme=scheme, org_unit=city.zhongshan, item=None).points == 64
    page.goto(f"{base}/assessment/schemes/{scheme.pk}/bulletin/")
    page.fill("#id_commendation", "中山区建会和诉求调处工作成效明显，予以表扬。")
    page.fill("#id_criticism", "西岗区发生较大生产安全事故，实行一票否决。")
    submit(page, "#bulletin-text")
    submit(page, "#publish-bulletin")
    expect(page.locator(".page-header h1")).to_contain_text("已发布")
    assert Scheme.objects.get(pk=scheme.pk).status == SchemeStatus.BULLETIN
    expect(page.locator("main svg").first).to_be_visible()
    shot(page, "bulletin")

    # 中山区 now sees the published ranking, and the PDF downloads.
    login(page, base, "zs_officer", f"/assessment/schemes/{scheme.pk}/bulletin/")
    expect(page.locator("main")).to_contain_text("西岗区")
    expect(page.locator("main")).to_contain_text("64.00")
    with page.expect_download() as download:
        page.locator("a", has_text="下载 PDF").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
