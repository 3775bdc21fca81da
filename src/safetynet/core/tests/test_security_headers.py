"""Response headers (CSP, nosniff, referrer, frames) and templates that need no inline script.

The Content-Security-Policy (django-csp, settings.CONTENT_SECURITY_POLICY) allows scripts only from our own
origin: no inline <script>, no on*= attributes, no javascript: links, no eval. The browser tests load the
pages that carry the most script (the ECharts dashboard, Swagger UI, the forms with their own behaviour)
and fail on any policy violation the browser reports.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from safetynet.accounts.models import Role

PASSWORD = "Safetynet-test-1"
SOURCE = Path(__file__).resolve().parents[2]  # src/safetynet


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.fixture
def officer_client(client, city, make_staff):
    client.force_login(make_staff("zs_op", city.zhongshan, Role.OPERATOR))
    return client


def assert_hardened(response) -> None:
    directives = policy(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"] and directives["form-action"] == ["'self'"]
    assert "script-src-elem" not in directives and "script-src-attr" not in directives
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_login_page_headers(client, db):
    assert_hardened(client.get(reverse("accounts:login")))


def test_staff_page_headers(officer_client):
    assert_hardened(officer_client.get(reverse("orgs:enterprise_list")))


def test_error_page_headers(officer_client):
    response = officer_client.get("/no-such-page/")
    assert response.status_code == 404
    assert_hardened(response)


def test_api_headers(officer_client):
    response = officer_client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff" and response["X-Frame-Options"] == "DENY"


def test_the_api_docs_load_their_script_from_a_file(officer_client):
    """Swagger UI's start-up script comes from a URL of its own (drf-spectacular's split view), so the page
    needs no inline script and the policy is the same as everywhere."""
    response = officer_client.get(reverse("api-docs"))
    html = response.content.decode()
    assert response.status_code == 200
    assert_hardened(response)
    assert not INLINE_SCRIPT.search(html), (
        "Swagger UI page has an inline <script>: use SpectacularSwaggerSplitView"
    )
    script = officer_client.get(reverse("api-docs") + "?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


# A <script> element without a src attribute, an on…= event attribute, a javascript: URL.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_ATTRIBUTE = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def project_templates() -> list[Path]:
    return sorted(p for p in SOURCE.rglob("templates/**/*.html") if ".venv" not in p.parts)


def test_the_template_scan_finds_templates():
    names = {p.name for p in project_templates()}
    assert {"base.html", "404.html", "login.html", "job_create.html", "_guard_unsaved.html"} <= names


@pytest.mark.parametrize("template", project_templates(), ids=lambda p: str(p.relative_to(SOURCE)))
def test_no_template_needs_inline_script(template: Path):
    text = template.read_text(encoding="utf-8")
    problems = [
        f"{kind}: {match.group(0)[:80]}"
        for kind, pattern in (
            ("inline <script>", INLINE_SCRIPT),
            ("event attribute", EVENT_ATTRIBUTE),
            ("javascript: URL", SCRIPT_URL),
        )
        for match in pattern.finditer(text)
    ]
    assert not problems, (
        "The Content-Security-Policy blocks inline script: move it into a static .js file driven by data- "
        "attributes (see core/static/safetynet/*.js; app.js already handles data-confirm).\n"
        + "\n".join(problems)
    )


# ---- in a browser --------------------------------------------------------------------------------------------

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


def watch(page) -> list[str]:
    """Collects what the browser refuses under the policy, both from the event and from the console."""
    refused: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return refused


def violations(page, refused: list[str]) -> list[str]:
    return refused + page.evaluate("window.__cspViolations || []")


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.browser
def test_dashboard_charts_and_swagger_run_under_the_policy(
    live_server, transactional_db, city, make_staff, chromium_page
):
    from playwright.sync_api import expect

    from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory

    covered = EnterpriseFactory(org_unit=city.community_a, name="中山已建会企业")
    EnterpriseFactory(org_unit=city.street_b, name="西岗未建会企业")
    UnionFactory(org_unit=city.community_a, enterprises=[covered])
    make_staff("chairman", city.city, Role.CITY_ADMIN)
    page = chromium_page
    refused = watch(page)
    log_in(page, live_server.url, "chairman")

    page.goto(f"{live_server.url}{reverse('indicators:dashboard')}")
    page.wait_for_selector("#chart-children canvas")
    assert not violations(page, refused)

    page.goto(f"{live_server.url}{reverse('api-docs')}")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Safetynet API")
    page.locator(".opblock-summary").first.wait_for()
    assert not violations(page, refused)


@pytest.mark.browser
def test_form_behaviours_run_from_static_files(
    live_server, transactional_db, city, make_staff, chromium_page, tmp_path
):
    """The unsaved-changes guard (orgs forms) and the upload check (imports) moved out of inline scripts."""
    make_staff("zs_op", city.zhongshan, Role.OPERATOR)
    page = chromium_page
    refused = watch(page)
    log_in(page, live_server.url, "zs_op")

    page.goto(f"{live_server.url}{reverse('orgs:enterprise_create')}")
    page.fill("input[name=name]", "尚未保存的公司")
    questions: list[str] = []

    def dismiss(dialog) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.locator("form[data-guard-unsaved] .form-actions a").first.click()
    assert questions == ["放弃尚未保存的修改？"]
    assert page.url.endswith(reverse("orgs:enterprise_create"))  # stayed, nothing lost
    page.remove_listener("dialog", dismiss)

    old_excel = tmp_path / "花名册.xls"
    old_excel.write_bytes(b"\xd0\xcf\x11\xe0not really")
    page.goto(f"{live_server.url}{reverse('imports:job_create')}")
    page.set_input_files("input[type=file]", str(old_excel))
    error = page.locator("[data-upload-error]")
    error.wait_for(state="visible")
    assert "旧版 Excel 97-2003（.xls）" in error.inner_text()
    assert not violations(page, refused)
