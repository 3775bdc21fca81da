"""A union chair's roster in a real browser: template → upload with 2 bad rows → result page with the errors →
error XLSX downloaded → rows fixed → uploaded again → counts. Members are the kind (issue 3, point 5).

Runs headless Debian chromium through Playwright, jobs run by the immediate task backend (conftest);
skipped where /usr/bin/chromium is missing.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest

from safetynet.core.importing import ERROR_REASON_HEADER, ERROR_ROW_HEADER
from safetynet.imports.models import ImportJob
from safetynet.members.models import Employment, Membership
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs.tests.factories import make_credit_code

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "Safetynet-test-1"
HEADER = (
    "姓名,身份证号,手机号,户籍类型,用工形式,企业统一社会信用代码,入职日期,离职日期,入会日期,离会日期,会员编号"
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run inside one unless told.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
        )
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()
        browser.close()


def roster(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\ufeff" + "\n".join([HEADER, *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    return path


def test_roster_with_errors_is_fixed_and_uploaded_again(
    live_server, transactional_db, city, registry, make_staff, browser_page, tmp_path
):
    from playwright.sync_api import expect

    make_staff("zs_officer", city.zhongshan, "operator")
    code = registry.acme.credit_code
    good = [
        [
            "王小明",
            make_id_number(11),
            "13800001111",
            "农村",
            "劳动合同",
            code,
            "2010-03-01",
            "",
            "2010-03-01",
            "",
            "HY001",
        ],
        ["李红", make_id_number(12), "13800001112", "城镇", "劳务派遣", code, "2011-05-01", "", "", "", ""],
        [
            "赵六",
            make_id_number(13),
            "",
            "农村",
            "劳动合同",
            code,
            "2012-01-01",
            "",
            "2012-02-01",
            "",
            "HY003",
        ],
    ]
    bad_number = make_id_number(14)
    broken_number = bad_number[:-1] + ("0" if bad_number[-1] != "0" else "1")
    bad = [
        ["孙七", broken_number, "", "城镇", "劳动合同", code, "2012-01-01", "", "", "", ""],
        [
            "周八",
            make_id_number(15),
            "",
            "城镇",
            "劳动合同",
            make_credit_code(999),
            "2012-01-01",
            "",
            "",
            "",
            "",
        ],
    ]
    first = roster(tmp_path / "会员名册.csv", [good[0], bad[0], good[1], bad[1], good[2]])

    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/?next=/imports/")
    page.fill("input[name=username]", "zs_officer")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.get_by_role("heading", name="数据导入")).to_be_visible()
    page.get_by_role("link", name="新建导入").first.click()

    # The template is there to download.
    with page.expect_download() as template_download:
        page.locator("a[data-kind=members]").click()
    assert template_download.value.suggested_filename == "会员导入模板.xlsx"
    template = openpyxl.load_workbook(io.BytesIO(template_download.value.path().read_bytes()))
    assert "*身份证号" in [c.value for c in template.worksheets[0][1]]

    # Client-side check: a .xls file is refused before anything is sent.
    old = tmp_path / "旧名册.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0 old excel")
    page.select_option("select[name=kind]", "members")
    page.set_input_files("input[name=upload]", str(old))
    expect(page.locator("#upload-client-error")).to_contain_text("97-2003")

    page.set_input_files("input[name=upload]", str(first))
    page.get_by_role("button", name="上传并导入").click()
    expect(page.get_by_role("heading", name=re.compile("会员导入"))).to_be_visible()
    status = page.locator("#job-status")
    expect(status).to_contain_text("其中 2 行有错误")
    expect(status).to_contain_text("数据库未作任何修改")
    rows = status.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td").nth(0)).to_have_text("3")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("身份证号")
    expect(rows.nth(1).locator("td").nth(0)).to_have_text("5")
    assert Employment.objects.count() == 0

    with page.expect_download() as error_download:
        status.get_by_role("link", name="下载错误行（XLSX）").first.click()
    assert error_download.value.suggested_filename == "会员名册-错误行.xlsx"
    errors = list(
        openpyxl.load_workbook(io.BytesIO(error_download.value.path().read_bytes())).worksheets[0].values
    )
    assert errors[0][-2:] == (ERROR_ROW_HEADER, ERROR_REASON_HEADER)
    assert [row[0] for row in errors[1:]] == ["孙七", "周八"]
    assert [row[-2] for row in errors[1:]] == [3, 5]
    assert "身份证号" in errors[1][-1] and "企业统一社会信用代码" in errors[2][-1]

    # Fix the two rows (the right number, a registered enterprise) and upload again, same kind kept.
    bad[0][1] = bad_number
    bad[1][5] = code
    second = roster(tmp_path / "会员名册（改正）.csv", [good[0], bad[0], good[1], bad[1], good[2]])
    page.get_by_role("link", name="重新上传").first.click()
    expect(page.locator("select[name=kind]")).to_have_value("members")
    page.set_input_files("input[name=upload]", str(second))
    page.get_by_role("button", name="上传并导入").click()
    status = page.locator("#job-status")
    expect(status).to_contain_text("共 5 行数据")
    expect(status).to_contain_text("新增 5")
    expect(status.locator("table")).to_have_count(0)
    assert Employment.objects.count() == 5
    assert Membership.objects.count() == 2

    page.goto(f"{live_server.url}/imports/")
    expect(page.locator("table tbody tr")).to_have_count(2)
    assert ImportJob.objects.filter(rejected=0, saved=True).count() == 1
