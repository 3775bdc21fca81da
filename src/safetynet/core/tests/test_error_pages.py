"""The 400/403/404/500 pages: translated, inside the shell for staff, and safe for visitors and broken requests.

The test settings run with DEBUG off, so Django renders our templates instead of its technical pages.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.test import Client
from django.urls import include, path, reverse
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
    # "Back" is a plain link driven by a static script (the CSP allows no javascript: URL).
    assert "data-history-back" in html and "返回上一页" in html and "javascript:" not in html
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


# ---- every status through a real request, with DEBUG off (as production and `make demo` run) --------------


def explode(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a view: secret internals that must not be shown")


def refuse(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("Some English framework message")


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("tampered")


# The project's own URLs plus three views that fail (used with pytest.mark.urls(__name__)).
urlpatterns = [
    path("explode/", explode),
    path("refuse/", refuse),
    path("suspicious/", suspicious),
    path("", include("safetynet.urls")),
]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("url", "status", "sentence"),
    [
        ("/suspicious/", 400, "无法处理该请求：请求的内容或地址不正确。"),
        ("/refuse/", 403, "您的角色无权进行此操作。"),
        ("/no-such-page/", 404, "未找到该记录，或您无权查看。"),
        ("/explode/", 500, "服务器处理您的请求时出错，错误已记录。"),
    ],
)
def test_each_error_status_is_our_chinese_page(db, url: str, status: int, sentence: str) -> None:
    client = Client(raise_request_exception=False)
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == status
    assert sentence in html and '<html lang="zh-CN">' in html
    # Not Django's technical pages, and nothing of the failure itself.
    assert "Traceback" not in html and "secret internals" not in html and "Some English" not in html
    assert "URLconf" not in html and "DEBUG = True" not in html
    assert response["Content-Security-Policy"]


@pytest.mark.urls(__name__)
def test_staff_see_the_500_page_too(db, city, make_staff) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(make_staff("zs_operator", city.zhongshan, "operator"))
    response = client.get("/explode/")
    assert response.status_code == 500 and "系统出错" in response.content.decode()


@pytest.mark.browser
def test_the_demo_shows_the_chinese_404_page(live_server, transactional_db, city, make_staff, chromium_page):
    """`make demo` runs with SAFETYNET_DEBUG off (like the suite): an unknown address or a record of another
    district gives the project's own Chinese page, styled, and its "back" link works without inline script."""
    from playwright.sync_api import expect

    assert settings.DEBUG is False
    sibling = EnterpriseFactory(
        name="西岗区外部公司", org_unit=city.street_b, credit_code=make_credit_code(105, region="210203")
    )
    make_staff("zs_operator", city.zhongshan, "operator")
    page = chromium_page
    page.goto(f"{live_server.url}/no-such-page/")
    expect(page.locator("h1")).to_have_text("未找到")
    expect(page.locator("main")).to_contain_text("未找到该记录，或您无权查看。")
    # The stylesheet loaded (the card is centred on the coloured login background).
    assert page.evaluate("getComputedStyle(document.querySelector('.login-box')).maxWidth") == "380px"

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "zs_operator")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}{reverse('orgs:enterprise_list')}")
    page.goto(f"{live_server.url}{reverse('orgs:enterprise_detail', args=[sibling.pk])}")
    expect(page.locator(".empty-state")).to_contain_text("链接可能已过期，或该记录属于您管辖范围以外的单位。")
    assert "西岗区外部公司" not in page.content()
    assert "Page not found" not in page.content() and "URLconf" not in page.content()
    page.get_by_role("link", name="返回上一页").click()
    page.wait_for_url(f"{live_server.url}{reverse('orgs:enterprise_list')}")
