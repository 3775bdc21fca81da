"""The labelled Chinese upload control on every file field, instead of the browser's own "Choose Files".

includes/field.html renders a file input through includes/file_input.html: a button "选择文件", the chosen
file named in Chinese, driven by a static script (the Content-Security-Policy forbids inline scripts).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django import forms
from django.template.loader import render_to_string
from django.urls import reverse

PASSWORD = "Safetynet-test-1"


class OneFile(forms.Form):
    upload = forms.FileField(label="数据文件")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ManyFiles(forms.Form):
    files = forms.FileField(label="附件", required=False, widget=MultipleFileInput())


def assert_no_inline_script(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"


@pytest.mark.parametrize("form_class", [OneFile, ManyFiles])
def test_the_field_include_renders_the_labelled_control(form_class):
    form = form_class()
    field = next(iter(form))
    html = render_to_string("includes/field.html", {"field": field})
    assert 'type="file"' in html and "data-file-input" in html
    assert (
        f'<label for="{field.id_for_label}" class="btn file-input-button" aria-hidden="true">选择文件</label>'
        in html
    )
    assert f'id="{field.id_for_label}-chosen"' in html and "未选择文件" in html
    assert 'data-chosen="已选择：' in html and "safetynet/file-input.js" in html
    assert_no_inline_script(html)


def test_other_fields_are_rendered_as_before():
    class Text(forms.Form):
        name = forms.CharField(label="名称")

    html = render_to_string("includes/field.html", {"field": next(iter(Text()))})
    assert "data-file-input" not in html and 'name="name"' in html


def test_the_import_page_has_the_control(client, city, make_staff):
    client.force_login(make_staff("zs_officer", city.zhongshan, "operator"))
    html = client.get(reverse("imports:job_create")).content.decode()
    assert html.count("data-file-input") == 1 and ">选择文件</label>" in html and "未选择文件" in html
    assert 'name="upload"' in html and "data-max-bytes" in html  # the size check still finds its input
    assert_no_inline_script(html)


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium")
def test_choosing_a_file_with_the_keyboard_and_seeing_its_name(
    live_server, transactional_db, city, make_staff, chromium_page, tmp_path
):
    from playwright.sync_api import expect

    make_staff("zs_officer", city.zhongshan, "operator")
    page = chromium_page
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(f"{live_server.url}/accounts/login/?next={reverse('imports:job_create')}")
    page.fill("input[name=username]", "zs_officer")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").click()

    control = page.locator("[data-file-input]")
    button = control.locator(".file-input-button")
    status = control.locator("[data-file-name]")
    expect(button).to_be_visible()
    expect(button).to_have_text("选择文件")
    expect(status).to_have_text("未选择文件")
    # The browser's own input is out of sight (its English "Choose File" never shows) but keeps its name
    # for screen readers and the chosen file's name as its description.
    box = page.locator("input[name=upload]").bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1
    expect(page.get_by_label("数据文件")).to_have_attribute(
        "aria-describedby", re.compile("id_upload-chosen")
    )

    # Keyboard: Tab from the kind select reaches the file input, the button shows the focus, and Enter
    # opens the chooser.
    page.locator("select[name=kind]").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "upload"
    outline = button.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline == "solid"
    roster = tmp_path / "名册.xlsx"
    roster.write_bytes(b"PK\x03\x04 not really")
    # Playwright intercepts file choosers once something listens; listening early avoids a race in which
    # the chooser opens before expect_file_chooser has switched the interception on.
    page.on("filechooser", lambda _chooser: None)
    page.wait_for_timeout(200)
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(str(roster))
    expect(status).to_have_text("已选择：名册.xlsx")

    # Clicking the button opens the chooser too.
    other = tmp_path / "会员名册.csv"
    other.write_text("姓名\n", encoding="utf-8")
    with page.expect_file_chooser() as chooser:
        button.click()
    chooser.value.set_files(str(other))
    expect(status).to_have_text("已选择：会员名册.csv")
    page.screenshot(path=str(tmp_path / "upload-control.png"))
    assert refused == []
