"""The 400/403/404/500 pages: translated, inside the shell for staff, and safe for visitors and broken requests.

The test settings run with DEBUG off, so Django renders our templates instead of its technical pages.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.template import loader
from django.urls import reverse
from django.utils import translation

from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code

PASSWORD = "Safetynet-test-1"


@pytest.fixture(autouse=True)
def chinese_after_each_test() -> Iterator[None]:
    # The language middleware activates the cookie's language for the thread; later tests expect Chinese.
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def sibling_enterprise(city):
    return EnterpriseFactory(
        name="西岗区外部公司",
        org_unit=city.street_b,
        headcount=200,
        credit_code=make_credit_code(104, region="210203"),
    )


@pytest.fixture
def zhongshan_officer(client, city, make_staff):
    user = make_staff("zs_operator", city.zhongshan, "operator")
    client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def zhongshan_viewer(client, city, make_staff):
    user = make_staff("zs_viewer", city.zhongshan, "viewer")
    client.login(username=user.username, password=PASSWORD)
    return client


def test_debug_is_off_so_our_pages_render() -> None:
    assert settings.DEBUG is False


def test_sibling_districts_enterprise_is_a_chinese_404_inside_the_shell(
    zhongshan_officer, sibling_enterprise
):
    response = zhongshan_officer.get(reverse("orgs:enterprise_detail", args=[sibling_enterprise.pk]))
    html = response.content.decode()
    assert response.status_code == 404
    assert "未找到该记录，或您无权查看。" in html
    # The record's name must not leak into the page.
    assert "西岗区外部公司" not in html
    # The shell: menu, top bar and the two ways out.
    assert 'class="sidebar"' in html and 'class="topbar"' in html
    assert f'href="{reverse("shell:home")}"' in html and "回到工作台" in html
    assert "history.back()" in html and "返回上一页" in html
    assert '<html lang="zh-CN">' in html


def test_missing_record_reads_the_same_as_out_of_scope(zhongshan_officer):
    response = zhongshan_officer.get(reverse("orgs:enterprise_detail", args=[999999]))
    assert response.status_code == 404
    assert "未找到该记录，或您无权查看。" in response.content.decode()


def test_404_in_english_when_the_language_cookie_says_en(zhongshan_officer, sibling_enterprise):
    zhongshan_officer.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = zhongshan_officer.get(reverse("orgs:enterprise_detail", args=[sibling_enterprise.pk]))
    html = response.content.decode()
    assert response.status_code == 404
    assert "This record was not found, or you may not view it." in html
    assert "Back to dashboard" in html
    assert "未找到该记录" not in html
    assert '<html lang="en">' in html


def test_viewers_post_is_a_chinese_403_inside_the_shell(zhongshan_viewer):
    response = zhongshan_viewer.post(reverse("orgs:enterprise_create"), {"name": "新公司"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "您的角色无权进行此操作。" in html
    assert 'class="sidebar"' in html
    assert "回到工作台" in html


def test_403_in_english_when_the_language_cookie_says_en(zhongshan_viewer):
    zhongshan_viewer.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = zhongshan_viewer.post(reverse("orgs:enterprise_create"), {"name": "新公司"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "Your role does not allow this action." in html
    assert "您的角色无权进行此操作。" not in html


def test_visitor_gets_a_404_without_menu_or_logout(client, db):
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "未找到该记录，或您无权查看。" in html
    assert 'class="sidebar"' not in html
    assert reverse("accounts:logout") not in html
    assert reverse("accounts:login") in html


def test_visitor_404_in_english(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "This record was not found, or you may not view it." in response.content.decode()


@pytest.mark.parametrize("name", ["500.html", "400.html"])
def test_500_and_400_render_with_no_context_at_all(name: str) -> None:
    # Django's server_error and bad_request call template.render() without a context or a request.
    html = loader.get_template(name).render()
    assert "<html" in html and "回到工作台" in html
    assert "{%" not in html and "{{" not in html


def test_500_follows_the_active_language() -> None:
    with translation.override("en"):
        html = loader.get_template("500.html").render()
    assert "Something went wrong" in html
    assert '<html lang="en">' in html


def test_a_request_for_an_unknown_host_gets_our_400_page(client, db):
    response = client.get("/", HTTP_HOST="attacker.example")
    assert response.status_code == 400
    assert "无法处理该请求" in response.content.decode()
