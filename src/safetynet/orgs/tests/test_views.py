"""The registry's staff pages: scope (404 outside the subtree), capabilities (403), filters, exports, forms."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass

import openpyxl
import pytest
from django.db.models import F
from django.urls import reverse

from safetynet.core.models import AuditEntry
from safetynet.orgs.models import Enterprise, EnterpriseHeadcount, GrassrootsUnion, OrgUnit, UnionCoverage
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code

PASSWORD = "Safetynet-test-1"


@dataclass
class Registry:
    covered: Enterprise  # 青泥洼桥街道, covered by union
    uncovered: Enterprise  # 青泥洼桥街道, eligible, no union
    small: Enterprise  # 友好社区, below the eligibility headcount
    foreign: Enterprise  # 西岗区 八一路街道
    union: GrassrootsUnion
    foreign_union: GrassrootsUnion


@pytest.fixture
def registry(city) -> Registry:
    covered = EnterpriseFactory(
        name="青泥洼已建会公司", org_unit=city.street_a, headcount=120, credit_code=make_credit_code(101)
    )
    uncovered = EnterpriseFactory(
        name="青泥洼未建会公司", org_unit=city.street_a, headcount=80, credit_code=make_credit_code(102)
    )
    small = EnterpriseFactory(
        name="友好社区小店", org_unit=city.community_a, headcount=5, credit_code=make_credit_code(103)
    )
    foreign = EnterpriseFactory(
        name="西岗区外部公司",
        org_unit=city.street_b,
        headcount=200,
        credit_code=make_credit_code(104, region="210203"),
    )
    union = UnionFactory(name="青泥洼已建会公司工会", org_unit=city.street_a, enterprises=[covered])
    foreign_union = UnionFactory(name="西岗外部工会", org_unit=city.street_b, enterprises=[foreign])
    return Registry(covered, uncovered, small, foreign, union, foreign_union)


@pytest.fixture
def operator(city, make_staff):
    return make_staff("zs_operator", city.zhongshan, "operator")


@pytest.fixture
def viewer(city, make_staff):
    return make_staff("zs_viewer", city.zhongshan, "viewer")


@pytest.fixture
def unit_admin(city, make_staff):
    return make_staff("zs_admin", city.zhongshan, "unit_admin")


def logged_in(client, user):
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


ENTERPRISE_POST = {
    "name": "新登记科技有限公司",
    "credit_code": make_credit_code(555),
    "ownership": "private",
    "industry": "",
    "headcount": "60",
    "migrant_headcount": "10",
    "dispatched_headcount": "0",
    "founded_on": "2015-06-01",
    "deregistered_on": "",
    "address": "中山路 1 号",
    "contact_phone": "0411-12345678",
}


def enterprise_post(enterprise: Enterprise, **changes) -> dict[str, str]:
    data = {
        "name": enterprise.name,
        "credit_code": enterprise.credit_code,
        "org_unit": str(enterprise.org_unit_id),
        "ownership": enterprise.ownership,
        "industry": enterprise.industry_id or "",
        "headcount": str(enterprise.headcount),
        "migrant_headcount": str(enterprise.migrant_headcount),
        "dispatched_headcount": str(enterprise.dispatched_headcount),
        "founded_on": enterprise.founded_on.isoformat(),
        "deregistered_on": "",
        "address": enterprise.address,
        "contact_phone": enterprise.contact_phone,
        "effective_on": "",
    }
    data.update(changes)
    return data


# --- the tree ---------------------------------------------------------------------------------


def test_tree_starts_at_the_users_unit_with_counts(client, registry, operator, city):
    response = logged_in(client, operator).get(reverse("orgs:tree"))
    assert response.status_code == 200
    body = text(response)
    assert "青泥洼桥街道" in body
    assert "西岗区" not in body and "八一路街道" not in body
    # 青泥洼桥街道: 3 enterprises (2 in the street, 1 in its community), 2 eligible, 1 covered → 50.0 %
    assert "50.0 %" in body
    assert f"?unit={city.street_a.pk}&status=operating&eligible=1&has_union=0" in body


def test_tree_drills_down_to_a_street_and_shows_breadcrumbs(client, registry, operator, city):
    response = logged_in(client, operator).get(reverse("orgs:tree"), {"unit": city.street_a.pk})
    body = text(response)
    assert response.status_code == 200
    assert "友好社区" in body
    assert f'href="/orgs/?unit={city.zhongshan.pk}"' in body  # crumb and tree link up the hierarchy
    assert f'href="/orgs/?unit={city.city.pk}"' not in body  # the city is above the operator: no link


def test_tree_search_answers_a_partial_for_htmx(client, registry, operator):
    response = logged_in(client, operator).get(
        reverse("orgs:tree"), {"q": "友好"}, headers={"HX-Request": "true"}
    )
    body = text(response)
    assert response.status_code == 200
    assert "友好社区" in body and "<html" not in body
    response = client.get(reverse("orgs:tree"), {"q": "八一路"}, headers={"HX-Request": "true"})
    assert "八一路街道" not in text(response)


def test_tree_of_a_unit_outside_the_subtree_is_404(client, registry, operator, city):
    response = logged_in(client, operator).get(reverse("orgs:tree"), {"unit": city.xigang.pk})
    assert response.status_code == 404


def test_tree_needs_login(client, city):
    response = client.get(reverse("orgs:tree"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- unit pages -------------------------------------------------------------------------------


def test_unit_detail_shows_versions_and_history(client, registry, operator, city):
    response = logged_in(client, operator).get(reverse("orgs:unit_detail", args=[city.street_a.pk]))
    body = text(response)
    assert response.status_code == 200
    assert "历史沿革" in body and "210202001" in body
    assert reverse("orgs:unit_edit", args=[city.street_a.pk]) not in body  # operators may not edit units


def test_operator_may_not_edit_units(client, registry, operator, city):
    client = logged_in(client, operator)
    assert client.get(reverse("orgs:unit_edit", args=[city.street_a.pk])).status_code == 403
    response = client.post(
        reverse("orgs:unit_close", args=[city.community_a.pk]), {"closed_on": "2030-01-01"}
    )
    assert response.status_code == 403


def test_unit_admin_renames_creates_moves_and_closes(client, registry, unit_admin, city):
    client = logged_in(client, unit_admin)
    response = client.post(
        reverse("orgs:unit_edit", args=[city.street_a.pk]),
        {"name": "青泥洼桥街道（新）", "code": "210202001", "effective_on": "2024-01-01"},
    )
    assert response.status_code == 302
    city.street_a.refresh_from_db()
    assert city.street_a.name == "青泥洼桥街道(新)"  # full-width brackets normalised, as in imports
    assert city.street_a.versions.count() == 2

    response = client.post(
        f"{reverse('orgs:unit_create')}?parent={city.zhongshan.pk}",
        {"code": "210202002", "name": "人民路街道", "valid_from": ""},
    )
    assert response.status_code == 302
    new_street = OrgUnit.objects.get(code="210202002")
    assert new_street.parent == city.zhongshan

    response = client.post(
        reverse("orgs:unit_move", args=[city.community_a.pk]),
        {"parent": new_street.pk, "effective_on": "2024-06-01"},
    )
    assert response.status_code == 302
    city.community_a.refresh_from_db()
    assert city.community_a.parent == new_street

    # The community still holds an operating enterprise: the service refuses, the page says why.
    response = client.post(
        reverse("orgs:unit_close", args=[city.community_a.pk]), {"closed_on": "2030-01-01"}
    )
    assert response.status_code == 200
    assert "家未注销的企业" in text(response)


def test_unit_create_errors_are_shown_on_the_field(client, registry, unit_admin, city):
    response = logged_in(client, unit_admin).post(
        f"{reverse('orgs:unit_create')}?parent={city.zhongshan.pk}", {"code": "12", "name": "错误街道"}
    )
    assert response.status_code == 200
    assert "区划代码“12”应为 9 位数字" in text(response)
    assert response.context["form"].errors["code"]


def test_unit_admin_cannot_reach_other_districts_units(client, registry, unit_admin, city):
    client = logged_in(client, unit_admin)
    assert client.get(reverse("orgs:unit_detail", args=[city.street_b.pk])).status_code == 404
    for name in ("orgs:unit_edit", "orgs:unit_move", "orgs:unit_close"):
        url = reverse(name, args=[city.street_b.pk])
        assert client.get(url).status_code == 404, name
        assert (
            client.post(url, {"name": "x", "code": "210203001", "closed_on": "2030-01-01"}).status_code == 404
        )
    assert client.get(f"{reverse('orgs:unit_create')}?parent={city.xigang.pk}").status_code == 404


# --- enterprise list, filters, export ---------------------------------------------------------


def test_enterprise_list_is_scoped_and_badged(client, registry, operator):
    response = logged_in(client, operator).get(reverse("orgs:enterprise_list"))
    body = text(response)
    assert response.status_code == 200
    assert "青泥洼已建会公司" in body and "青泥洼未建会公司" in body and "友好社区小店" in body
    assert "西岗区外部公司" not in body
    assert "共 3 条" in body
    assert "已建会" in body and "未建会" in body


def test_has_union_filter_finds_the_uncovered_enterprises_of_a_street(client, registry, operator, city):
    response = logged_in(client, operator).get(
        reverse("orgs:enterprise_list"), {"unit": city.street_a.pk, "has_union": "0", "eligible": "1"}
    )
    names = [e.name for e in response.context["enterprises"]]
    assert names == ["青泥洼未建会公司"]
    response = client.get(reverse("orgs:enterprise_list"), {"unit": city.street_a.pk, "has_union": "1"})
    assert [e.name for e in response.context["enterprises"]] == ["青泥洼已建会公司"]


def test_list_filters_by_name_and_sorts(client, registry, operator):
    client = logged_in(client, operator)
    response = client.get(reverse("orgs:enterprise_list"), {"q": "小店"})
    assert [e.name for e in response.context["enterprises"]] == ["友好社区小店"]
    response = client.get(reverse("orgs:enterprise_list"), {"sort": "-headcount"})
    assert [e.headcount for e in response.context["enterprises"]] == [120, 80, 5]
    assert 'class="sort sort-desc"' in text(response)


def test_list_with_a_unit_outside_the_subtree_is_404(client, registry, operator, city):
    response = logged_in(client, operator).get(reverse("orgs:enterprise_list"), {"unit": city.xigang.pk})
    assert response.status_code == 404


def test_empty_list_says_what_to_do(client, city, operator):
    body = text(logged_in(client, operator).get(reverse("orgs:enterprise_list")))
    assert "暂无企业" in body and reverse("orgs:enterprise_create") in body


def test_csv_export_holds_only_rows_in_scope_and_keeps_filters(client, registry, operator, city):
    client = logged_in(client, operator)
    response = client.get(reverse("orgs:enterprise_export"), {"format": "csv"})
    assert response.status_code == 200 and response.streaming
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0][:3] == ["统一社会信用代码", "企业名称", "所属区划代码"]
    assert sorted(r[1] for r in rows[1:]) == sorted(["青泥洼已建会公司", "青泥洼未建会公司", "友好社区小店"])

    response = client.get(
        reverse("orgs:enterprise_export"),
        {"format": "csv", "unit": city.street_a.pk, "has_union": "0", "eligible": "1"},
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == ["青泥洼未建会公司"]
    assert rows[1][12] == "未建会"


def test_xlsx_export_holds_only_rows_in_scope(client, registry, operator):
    response = logged_in(client, operator).get(reverse("orgs:enterprise_export"), {"format": "xlsx"})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][1] == "企业名称"
    names = {row[1] for row in rows[1:]}
    assert names == {"青泥洼已建会公司", "青泥洼未建会公司", "友好社区小店"}
    assert all(row[0] != registry.foreign.credit_code for row in rows)


def test_export_rejects_an_unknown_format(client, registry, operator):
    response = logged_in(client, operator).get(reverse("orgs:enterprise_export"), {"format": "pdf"})
    assert response.status_code == 404


def test_list_page_links_exports_with_the_same_filters(client, registry, operator, city):
    response = logged_in(client, operator).get(reverse("orgs:enterprise_list"), {"has_union": "0"})
    assert response.context["export_xlsx_url"] == "/orgs/enterprises/export/?has_union=0&format=xlsx"


# --- enterprise detail, create, edit ----------------------------------------------------------


@pytest.mark.parametrize("tab", ["info", "unions", "members", "programmes", "cases", "history"])
def test_enterprise_detail_tabs(client, registry, operator, tab):
    response = logged_in(client, operator).get(
        reverse("orgs:enterprise_detail", args=[registry.covered.pk]), {"tab": tab}
    )
    assert response.status_code == 200
    body = text(response)
    assert "变更记录" in body and "基本信息" in body
    if tab == "unions":
        assert "青泥洼已建会公司工会" in body
    if tab == "cases":
        assert "暂无涉及该企业的诉求" in body
    if tab == "members":
        assert "该企业没有登记在职职工" in body  # the members roster tab, empty for this enterprise


def test_operator_creates_an_enterprise(client, registry, operator, city):
    data = {**ENTERPRISE_POST, "org_unit": str(city.street_a.pk)}
    response = logged_in(client, operator).post(reverse("orgs:enterprise_create"), data)
    assert response.status_code == 302
    enterprise = Enterprise.objects.get(credit_code=ENTERPRISE_POST["credit_code"])
    assert response["Location"] == reverse("orgs:enterprise_detail", args=[enterprise.pk])
    entry = AuditEntry.objects.get(entity="orgs.enterprise", object_id=str(enterprise.pk))
    assert entry.actor == operator


def test_enterprise_form_offers_only_units_in_scope(client, registry, operator, city):
    response = logged_in(client, operator).get(reverse("orgs:enterprise_create"))
    choices = {pk for pk in response.context["form"].fields["org_unit"].queryset.values_list("pk", flat=True)}
    assert city.street_a.pk in choices and city.street_b.pk not in choices
    data = {**ENTERPRISE_POST, "org_unit": str(city.street_b.pk)}
    response = client.post(reverse("orgs:enterprise_create"), data)
    assert response.status_code == 200
    assert "所属区划" in response.context["form"].errors["org_unit"][0]
    assert not Enterprise.objects.filter(credit_code=ENTERPRISE_POST["credit_code"]).exists()


def test_form_errors_are_chinese_and_name_the_field(client, registry, operator, city):
    data = {
        **ENTERPRISE_POST,
        "org_unit": str(city.street_a.pk),
        "name": "",
        "credit_code": "91210202ABC",
        "founded_on": "2015-13-40",
        "headcount": "abc",
    }
    response = logged_in(client, operator).post(reverse("orgs:enterprise_create"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["name"] == ["请填写“企业名称”。"]
    assert "统一社会信用代码" in errors["credit_code"][0] and "18 位" in errors["credit_code"][0]
    assert errors["founded_on"][0].startswith("“成立日期”")
    assert errors["headcount"] == ["“职工人数”应为整数。"]
    body = text(response)
    assert "请填写“企业名称”。" in body and 'class="errorlist' in body


def test_service_refusal_lands_on_its_field(client, registry, operator, city):
    data = {**ENTERPRISE_POST, "org_unit": str(city.street_a.pk), "credit_code": registry.covered.credit_code}
    response = logged_in(client, operator).post(reverse("orgs:enterprise_create"), data)
    assert response.status_code == 200
    assert "已登记" in response.context["form"].errors["credit_code"][0]


def test_operator_edits_headcount_and_sees_it_in_history(client, registry, operator):
    client = logged_in(client, operator)
    url = reverse("orgs:enterprise_edit", args=[registry.uncovered.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, enterprise_post(registry.uncovered, headcount="95", effective_on="2024-03-01")
    )
    assert response.status_code == 302
    registry.uncovered.refresh_from_db()
    assert registry.uncovered.headcount == 95
    figures = EnterpriseHeadcount.objects.filter(enterprise=registry.uncovered).order_by(
        F("valid_from").asc(nulls_first=True)
    )
    assert [(f.valid_from, f.headcount) for f in figures] == [(None, 80), (datetime.date(2024, 3, 1), 95)]
    body = text(
        client.get(reverse("orgs:enterprise_detail", args=[registry.uncovered.pk]), {"tab": "history"})
    )
    assert "95" in body and "2024-03-01" in body and "zs_operator" in body


def test_viewer_sees_no_write_buttons_and_gets_403_on_post(client, registry, viewer, city):
    client = logged_in(client, viewer)
    detail = text(client.get(reverse("orgs:enterprise_detail", args=[registry.covered.pk])))
    assert reverse("orgs:enterprise_edit", args=[registry.covered.pk]) not in detail
    listing = text(client.get(reverse("orgs:enterprise_list")))
    assert reverse("orgs:enterprise_create") not in listing and "编辑" not in listing
    union_page = text(client.get(reverse("orgs:union_detail", args=[registry.union.pk])))
    assert reverse("orgs:union_edit", args=[registry.union.pk]) not in union_page
    assert reverse("orgs:union_cover_enterprise", args=[registry.union.pk]) not in union_page

    response = client.post(
        reverse("orgs:enterprise_edit", args=[registry.covered.pk]),
        enterprise_post(registry.covered, headcount="1"),
    )
    assert response.status_code == 403
    assert client.post(reverse("orgs:enterprise_create"), ENTERPRISE_POST).status_code == 403
    assert client.post(reverse("orgs:union_create"), {}).status_code == 403
    assert client.post(reverse("orgs:union_edit", args=[registry.union.pk]), {}).status_code == 403
    registry.covered.refresh_from_db()
    assert registry.covered.headcount == 120


def test_every_page_of_another_district_answers_404(client, registry, operator):
    client = logged_in(client, operator)
    coverage = registry.foreign_union.coverages.get()
    for url in (
        reverse("orgs:enterprise_detail", args=[registry.foreign.pk]),
        reverse("orgs:union_detail", args=[registry.foreign_union.pk]),
    ):
        assert client.get(url).status_code == 404, url
    urls = [
        reverse("orgs:enterprise_edit", args=[registry.foreign.pk]),
        reverse("orgs:union_edit", args=[registry.foreign_union.pk]),
        reverse("orgs:union_cover_enterprise", args=[registry.foreign_union.pk]),
        reverse("orgs:union_end_coverage", args=[registry.foreign_union.pk, coverage.pk]),
        f"{reverse('orgs:union_create')}?enterprise={registry.foreign.pk}",
        f"{reverse('orgs:enterprise_create')}?unit={registry.foreign.org_unit_id}",
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"headcount": "1", "valid_to": "2030-01-01"}).status_code == 404, url
    registry.foreign.refresh_from_db()
    assert registry.foreign.headcount == 200
    # A missing record answers the same.
    assert client.get(reverse("orgs:enterprise_detail", args=[999999])).status_code == 404


# --- unions -----------------------------------------------------------------------------------


def test_union_list_is_scoped_filtered_and_counts_coverage(client, registry, operator, city):
    client = logged_in(client, operator)
    response = client.get(reverse("orgs:union_list"))
    body = text(response)
    assert "青泥洼已建会公司工会" in body and "西岗外部工会" not in body
    assert [u.covered_count for u in response.context["unions"]] == [1]
    response = client.get(reverse("orgs:union_list"), {"q": "张主席", "type": "single", "status": "active"})
    assert len(response.context["unions"]) == 1
    response = client.get(reverse("orgs:union_list"), {"status": "dissolved"})
    assert len(response.context["unions"]) == 0
    assert client.get(reverse("orgs:union_list"), {"unit": city.xigang.pk}).status_code == 404


def test_union_create_covers_enterprises_by_credit_code(client, registry, operator, city):
    client = logged_in(client, operator)
    form_page = client.get(reverse("orgs:union_create"), {"enterprise": registry.uncovered.pk})
    assert form_page.context["form"].initial["enterprise_codes"] == registry.uncovered.credit_code
    data = {
        "name": "青泥洼联合工会",
        "union_type": "joint",
        "org_unit": str(city.street_a.pk),
        "founded_on": "2020-01-01",
        "dissolved_on": "",
        "chair_name": "李主席",
        "enterprise_codes": f"{registry.uncovered.credit_code}\n{registry.small.credit_code.lower()}",
    }
    response = client.post(reverse("orgs:union_create"), data)
    assert response.status_code == 302
    union = GrassrootsUnion.objects.get(name="青泥洼联合工会")
    assert {c.enterprise_id for c in union.coverages.all()} == {registry.uncovered.pk, registry.small.pk}


def test_union_create_refuses_enterprises_outside_the_subtree(client, registry, operator, city):
    data = {
        "name": "越界工会",
        "union_type": "joint",
        "org_unit": str(city.street_a.pk),
        "founded_on": "2020-01-01",
        "enterprise_codes": registry.foreign.credit_code,
    }
    response = logged_in(client, operator).post(reverse("orgs:union_create"), data)
    assert response.status_code == 200
    assert registry.foreign.credit_code in response.context["form"].errors["enterprise_codes"][0]
    assert not GrassrootsUnion.objects.filter(name="越界工会").exists()


def test_union_edit_service_error_on_field(client, registry, operator, city):
    url = reverse("orgs:union_edit", args=[registry.union.pk])
    data = {
        "name": registry.union.name,
        "union_type": "single",
        "org_unit": str(city.street_a.pk),
        "founded_on": "2006-01-01",
        "dissolved_on": "2005-01-01",
        "chair_name": "王主席",
    }
    response = logged_in(client, operator).post(url, data)
    assert response.status_code == 200
    assert "撤销日期必须晚于成立日期" in response.context["form"].errors["dissolved_on"][0]
    data["dissolved_on"] = ""
    assert client.post(url, data).status_code == 302
    registry.union.refresh_from_db()
    assert registry.union.chair_name == "王主席"


def test_union_cover_and_end_coverage(client, registry, operator):
    client = logged_in(client, operator)
    detail = text(client.get(reverse("orgs:union_detail", args=[registry.union.pk])))
    assert "青泥洼已建会公司" in detail and "结束覆盖" in detail
    response = client.post(
        reverse("orgs:union_cover_enterprise", args=[registry.union.pk]),
        {"credit_code": registry.uncovered.credit_code, "valid_from": "2020-01-01"},
    )
    assert response.status_code == 302
    coverage = UnionCoverage.objects.get(union=registry.union, enterprise=registry.uncovered)
    # Covering it again over the same period is refused, next to the code.
    response = client.post(
        reverse("orgs:union_cover_enterprise", args=[registry.union.pk]),
        {"credit_code": registry.uncovered.credit_code, "valid_from": "2021-01-01"},
    )
    assert response.status_code == 200
    assert "已覆盖" in response.context["form"].errors["credit_code"][0]
    # An enterprise of another district cannot be found from here.
    response = client.post(
        reverse("orgs:union_cover_enterprise", args=[registry.union.pk]),
        {"credit_code": registry.foreign.credit_code, "valid_from": "2021-01-01"},
    )
    assert "找不到" in response.context["form"].errors["credit_code"][0]

    url = reverse("orgs:union_end_coverage", args=[registry.union.pk, coverage.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"coverage": coverage.pk, "valid_to": "2023-01-01"})
    assert response.status_code == 302
    coverage.refresh_from_db()
    assert coverage.valid_to == datetime.date(2023, 1, 1)


def test_list_and_tree_queries_do_not_grow_with_rows(
    client, registry, operator, city, django_assert_max_num_queries
):
    for n in range(40):
        EnterpriseFactory(org_unit=city.community_a, credit_code=make_credit_code(1000 + n))
    client = logged_in(client, operator)
    with django_assert_max_num_queries(15):
        assert client.get(reverse("orgs:enterprise_list")).status_code == 200
    with django_assert_max_num_queries(27):
        assert client.get(reverse("orgs:tree"), {"unit": city.community_a.pk}).status_code == 200
    with django_assert_max_num_queries(15):
        response = client.get(reverse("orgs:enterprise_export"), {"format": "csv"})
        rows = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(rows) == 1 + 43
