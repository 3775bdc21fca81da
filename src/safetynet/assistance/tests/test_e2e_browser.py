"""One worker from hardship file to payment, in a real browser (headless Debian chromium through Playwright).

The pages' day is 2012-12-10 (``views.today``): a community worker of 青泥洼桥街道 is filed by the street
officer (found in the registry by ID number); the city opens the 2012 送温暖 round with a budget split to the
districts and 中山区's streets; the street officer applies for every eligible file of the street in one batch
(a background task with a progress bar); a street reviewer and then a district reviewer approve; the district
starts the public notice; the notice's working days pass (the sweep's service, on a later day); the city
downloads the bank batch XLSX and marks it paid; the dashboard shows the figures. Screenshots of the main
pages (1440×900) go to /tmp/assist_shots/.
"""

from __future__ import annotations

import datetime
import io
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from safetynet.assistance import services, views
from safetynet.assistance.models import Application, BatchJob, HardshipFile, Payment, PaymentBatch, Round
from safetynet.assistance.tests import factories
from safetynet.members.services import employment_start
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code

PASSWORD = "Safetynet-test-1"
SHOTS = Path("/tmp/assist_shots")
DAY = datetime.date(2012, 12, 10)

pytestmark = pytest.mark.browser


@pytest.fixture
def site(live_server, transactional_db, city, make_staff, monkeypatch):
    monkeypatch.setattr(views, "today", lambda: DAY)
    factories.make_threshold(city.zhongshan, 2012, "800.00")
    factories.make_threshold(city.xigang, 2012, "800.00")
    enterprise = EnterpriseFactory(
        org_unit=city.community_a, credit_code=make_credit_code(801), name="友好纺织有限公司"
    )
    worker = factories.make_person(88, name="王秀英")
    employment_start(actor=None, person=worker, enterprise=enterprise, valid_from=datetime.date(2008, 3, 1))
    staff = {
        "officer": make_staff("street_officer", city.street_a, "operator"),
        "street_reviewer": make_staff("street_reviewer", city.street_a, "operator"),
        "district_reviewer": make_staff("district_reviewer", city.zhongshan, "operator"),
        "city": make_staff("city_admin", city.city, "city_admin"),
    }
    return live_server.url, worker, staff


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login(page, base: str, username: str, path: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/?next={quote(path)}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(path.split("?")[0]) + r"(\?.*)?$"))


def test_one_worker_from_file_to_payment(site, chromium_page, city, monkeypatch):
    from playwright.sync_api import expect

    base, worker, staff = site
    page = chromium_page
    page.set_viewport_size({"width": 1440, "height": 900})

    # 1. The street officer finds the worker by ID number and opens the hardship file.
    login(page, base, "street_officer", "/assistance/files/new/")
    page.fill("#person-lookup input[name=q]", make_id_number(88))
    with page.expect_navigation():
        page.locator("#person-lookup button[type=submit]").click()
    expect(page.locator("#file-form")).to_contain_text("王秀英")
    assert make_id_number(88) not in page.content()
    page.select_option("#id_org_unit", str(city.community_a.pk))
    page.fill("#id_opened_on", "2012-12-03")
    page.fill("#id_household_size", "0")
    page.fill("#id_monthly_income", "1800")
    page.check("input[name=causes][value=illness]")
    page.check("input[name=causes][value=schooling]")
    page.fill("#id_household_members", "李强 配偶 1978 下岗\n李小雨 女儿 2005 在读高中")
    shot(page, "01-file-create")
    with page.expect_navigation():
        page.locator("#file-form button[type=submit]").click()
    expect(page.locator(".field.has-error")).to_contain_text("“家庭人口”不能小于 1")
    assert not HardshipFile.objects.exists()
    page.fill("#id_household_size", "3")
    with page.expect_navigation():
        page.locator("#file-form button[type=submit]").click()
    expect(page.locator("#income-per-head")).to_contain_text("600.00 元")
    expect(page.locator("#income-per-head")).to_contain_text("低于困难标准 800.00 元")
    hardship_file = HardshipFile.objects.get(person=worker)
    shot(page, "02-file-detail")

    # The street reviews it (在档已审).
    login(page, base, "street_reviewer", f"/assistance/files/{hardship_file.pk}/")
    page.locator("#file-actions summary", has_text="审核档案").click()
    with page.expect_navigation():
        page.locator("#file-actions button", has_text="确认审核").click()
    expect(page.locator(".page-header")).to_contain_text("在档已审")

    # 2. The city opens the 2012 送温暖 round and splits the budget: districts, then 中山区's streets.
    login(page, base, "city_admin", "/assistance/rounds/new/")
    page.select_option("#id_kind", "winter_relief")
    page.fill("#id_year", "2012")
    page.fill("#id_title", "2012 年送温暖")
    page.fill("#id_budget", "100000")
    page.fill("#id_window_opens", "2012-12-01")
    page.fill("#id_window_closes", "2012-12-31")
    page.fill("#id_standard_amount", "500")
    page.fill("#id_notice_days", "5")
    shot(page, "03-round-create")
    with page.expect_navigation():
        page.locator("#round-form button[type=submit]").click()
    round_ = Round.objects.get(title="2012 年送温暖")
    assert round_.levels == [3, 2]
    page.fill(f"#id_unit-{city.zhongshan.pk}", "70000")
    page.fill(f"#id_unit-{city.xigang.pk}", "40000")
    with page.expect_navigation():
        page.locator("#budget-form button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("中山区")  # over-allocation named
    page.fill(f"#id_unit-{city.zhongshan.pk}", "60000")
    with page.expect_navigation():
        page.locator("#budget-form button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("已保存")
    page.goto(f"{base}/assistance/rounds/{round_.pk}/budget/?unit={city.zhongshan.pk}")
    page.fill(f"#id_unit-{city.street_a.pk}", "20000")
    with page.expect_navigation():
        page.locator("#budget-form button[type=submit]").click()
    expect(page.locator("#budget-form")).to_contain_text("青泥洼桥街道")
    shot(page, "04-round-budget")

    # 3. The street officer applies for every eligible file of the street in one batch.
    login(page, base, "street_officer", f"/assistance/rounds/{round_.pk}/apply/")
    expect(page.locator("#eligible-table")).to_contain_text("王秀英")
    shot(page, "05-round-apply")
    with page.expect_navigation():
        page.locator("#batch-apply button", has_text="全部符合条件的档案申请").click()
    expect(page.locator("#batch-progress")).to_be_visible()
    job = BatchJob.objects.get()
    shot(page, "06-batch-progress")
    services.application_batch_run(job_id=job.pk)  # what the background worker does
    expect(page.locator("#batch-progress")).to_contain_text("已提交 1 份申请", timeout=10_000)
    application = Application.objects.get(round=round_, person=worker)
    assert application.amount == 500 and application.current_level == 3

    # 4. The street reviewer approves in one click; 5. the district reviewer approves.
    login(page, base, "street_reviewer", "/assistance/review/")
    row = page.locator(f"#review-table tr[data-application='{application.pk}']")
    expect(row).to_contain_text("王秀英")
    shot(page, "07-review-queue-street")
    with page.expect_navigation():
        row.locator("button", has_text="同意").first.click()
    expect(page.locator(".messages")).to_contain_text("已记录审核意见")
    login(page, base, "district_reviewer", "/assistance/review/")
    row = page.locator(f"#review-table tr[data-application='{application.pk}']")
    expect(row).to_contain_text("已同意 0 / 需 1")
    with page.expect_navigation():
        row.locator("button", has_text="同意").first.click()
    application.refresh_from_db()
    assert application.status == "approved"

    # 6. The district starts the public notice; the ledger shows both votes.
    page.goto(f"{base}/assistance/rounds/{round_.pk}/notice/")
    with page.expect_navigation():
        page.locator("#notice-start button").click()
    expect(page.locator("#notice-table")).to_contain_text("公示中")
    shot(page, "08-notice")
    page.goto(f"{base}/assistance/applications/{application.pk}/")
    expect(page.locator("#vote-ledger")).to_contain_text("street_reviewer")
    expect(page.locator("#vote-ledger")).to_contain_text("district_reviewer")
    shot(page, "09-application-detail")

    # 7. The notice's working days pass: the sweep's service ends it on a later day.
    application.refresh_from_db()
    after = application.notice_until + datetime.timedelta(days=1)
    assert services.application_notice_end_due(on=after) == 1
    monkeypatch.setattr(views, "today", lambda: after)

    # 8. The city makes the bank batch, downloads it, marks it paid.
    login(page, base, "city_admin", f"/assistance/payments/?round={round_.pk}")
    expect(page.locator("#ready-list")).to_contain_text("王秀英")
    with page.expect_navigation():
        page.locator("#ready-list button", has_text="发放批次").click()
    batch = PaymentBatch.objects.get()
    with page.expect_download() as download_info:
        page.locator(f"tr[data-batch='{batch.pk}'] a", has_text="下载银行批量文件").click()
    content = Path(download_info.value.path()).read_bytes()
    cells = [
        str(cell)
        for row in load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True)
        for cell in row
    ]
    assert "王秀英" in cells and worker.id_number_masked in cells and make_id_number(88) not in cells
    shot(page, "10-payments")
    with page.expect_navigation():
        page.locator(f"tr[data-batch='{batch.pk}'] button", has_text="标记已发放").click()
    expect(page.locator(f"tr[data-batch='{batch.pk}']")).to_contain_text("已发放")
    payment = Payment.objects.get()
    assert payment.paid_on == after and payment.amount == 500
    application.refresh_from_db()
    assert application.status == "paid"
    page.goto(f"{base}/assistance/rounds/{round_.pk}/")
    expect(page.locator("#round-figures")).to_contain_text("500.00")
    shot(page, "11-round-detail")

    # 9. The dashboard shows the figures of the year.
    # The assistance card is on the dashboard's first view; the indicators are under their own tab.
    page.goto(f"{base}/indicators/?as_of={after.isoformat()}")
    expect(page.locator("#assistance-card")).to_contain_text("预算使用率")
    page.click("#indicator-areas >> text=服务帮扶")
    expect(page.locator("body")).to_contain_text("帮扶发放率")
    expect(page.locator("body")).to_contain_text("困难职工在档率")
    shot(page, "12-dashboard")

    # The other lists, for the screenshots.
    for path, name in (
        ("/assistance/files/", "13-file-list"),
        ("/assistance/rounds/", "14-round-list"),
        ("/assistance/loans/", "15-loan-list"),
        ("/assistance/bases/", "16-base-list"),
    ):
        page.goto(base + path)
        shot(page, name)
