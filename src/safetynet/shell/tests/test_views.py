import pytest
from django.urls import reverse

from safetynet.accounts.models import Role
from safetynet.core.models import AuditEntry
from safetynet.orgs.services import enterprise_update
from safetynet.orgs.tests.factories import EnterpriseFactory, UnionFactory, make_credit_code
from safetynet.shell.context_processors import build_menu

PASSWORD = "Safetynet-test-1"


@pytest.fixture
def registry(city):
    """Three enterprises in 中山区 (two eligible, one covered) and one in 西岗区."""
    covered = EnterpriseFactory(org_unit=city.street_a, headcount=100, credit_code=make_credit_code(1))
    EnterpriseFactory(org_unit=city.community_a, headcount=30, credit_code=make_credit_code(2))
    EnterpriseFactory(org_unit=city.street_a, headcount=5, credit_code=make_credit_code(3))
    EnterpriseFactory(
        org_unit=city.street_b,
        headcount=50,
        name="西岗企业",
        credit_code=make_credit_code(4, region="210203"),
    )
    UnionFactory(org_unit=city.street_a, enterprises=[covered])
    return city


def login(client, user):
    client.force_login(user)
    return client


def test_healthz_answers_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_home_needs_login(client, db):
    response = client.get(reverse("shell:overview"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_home_shows_the_users_unit_counts_and_children(client, registry, make_staff):
    user = make_staff("zs_op", registry.zhongshan, Role.OPERATOR)
    response = login(client, user).get(reverse("shell:overview"))
    assert response.status_code == 200
    counts = response.context["counts"]
    assert (counts.enterprises, counts.eligible, counts.covered) == (3, 2, 1)
    html = response.content.decode()
    assert "50.0 %" in html
    assert "青泥洼桥街道" in html
    # 西岗区 is not the user's: neither its name nor its enterprise counts appear.
    assert "西岗区" not in html
    assert "本级: 中山区 · 经办人" in html


def test_home_narrows_to_a_picked_unit_and_refuses_one_outside_scope(client, registry, make_staff):
    user = make_staff("zs_op", registry.zhongshan, Role.OPERATOR)
    login(client, user)
    response = client.get(reverse("shell:overview"), {"unit": registry.street_a.pk})
    assert response.status_code == 200
    assert response.context["unit"] == registry.street_a
    assert [row.unit for row in response.context["children"]] == [registry.community_a]
    assert client.get(reverse("shell:overview"), {"unit": registry.xigang.pk}).status_code == 404
    assert client.get(reverse("shell:overview"), {"unit": "abc"}).status_code == 404


def test_unit_picker_offers_own_unit_and_children(client, registry, make_staff):
    user = make_staff("city_admin", registry.city, Role.CITY_ADMIN)
    response = login(client, user).get(reverse("shell:overview"))
    options = response.context["unit_options"]
    assert [o["label"] for o in options] == ["大连市", "中山区", "西岗区"]
    assert options[0]["own"] is True
    html = response.content.decode()
    assert 'name="unit"' in html and "中山区" in html


def test_menu_shows_only_what_the_role_may_use(registry, make_staff, rf):
    viewer = make_staff("viewer", registry.zhongshan, Role.VIEWER)
    admin = make_staff("admin", registry.zhongshan, Role.UNIT_ADMIN)

    def labels(user):
        return [str(item.label) for section in build_menu(user, "/") for item in section.items]

    assert "人员账号" not in labels(viewer) and "变更记录" not in labels(viewer)
    assert "人员账号" in labels(admin) and "变更记录" in labels(admin)
    # Every module of the seeds is built now: none is greyed as "coming", and the last ones are in the menu.
    assert [str(s.label) for s in build_menu(viewer, "/") if s.later] == []
    assert {"困难职工档案", "考核方案", "和谐指数", "入会申请"} <= set(labels(viewer))
    assert "数据导入导出" not in [str(s.label) for s in build_menu(viewer, "/")]  # a viewer may not import
    home = next(s for s in build_menu(viewer, "/") if str(s.label) == "工作台")
    assert home.active


def test_shell_renders_menu_logout_and_language_switch(client, registry, make_staff):
    user = make_staff("admin", registry.zhongshan, Role.UNIT_ADMIN)
    html = login(client, user).get(reverse("shell:overview")).content.decode()
    assert 'action="/accounts/logout/"' in html
    assert 'action="/i18n/setlang/"' in html and 'value="en"' in html
    assert reverse("accounts:staff_list") in html and reverse("shell:audit_list") in html
    assert "即将上线" not in html
    assert "htmx" in html and "X-CSRFToken" in html


def test_audit_list_needs_view_audit(client, registry, make_staff):
    viewer = make_staff("viewer", registry.zhongshan, Role.VIEWER)
    assert login(client, viewer).get(reverse("shell:audit_list")).status_code == 403


def test_audit_list_is_scoped_and_filtered(client, registry, make_staff):
    operator = make_staff("zs_op", registry.zhongshan, Role.OPERATOR)
    enterprise = registry.street_a.enterprises.get(headcount=100)
    enterprise_update(actor=operator, enterprise=enterprise, data={"headcount": 120})
    login(client, operator)

    response = client.get(reverse("shell:audit_list"))
    assert response.status_code == 200
    entries = list(response.context["entries"])
    assert entries, "the creations in 中山区 are in the trail"
    assert all(e.unit_path.startswith(registry.zhongshan.path) for e in entries)
    assert "西岗企业" not in response.content.decode()
    assert AuditEntry.objects.filter(object_repr="西岗企业").exists()

    response = client.get(reverse("shell:audit_list"), {"actor": "zs_op", "action": "update"})
    entries = list(response.context["entries"])
    assert len(entries) == 1 and entries[0].object_id == str(enterprise.pk)
    html = response.content.decode()
    assert "职工人数" in html and "120" in html

    response = client.get(reverse("shell:audit_list"), {"entity": "orgs.grassrootsunion"})
    assert {e.entity for e in response.context["entries"]} == {"orgs.grassrootsunion"}
    # An unknown action is ignored rather than an error.
    assert client.get(reverse("shell:audit_list"), {"action": "drop"}).status_code == 200


def test_audit_list_paginates(client, registry, make_staff):
    user = make_staff("city_admin", registry.city, Role.CITY_ADMIN)
    AuditEntry.objects.bulk_create(
        AuditEntry(action="update", entity="orgs.enterprise", object_id=str(n), unit_path=registry.city.path)
        for n in range(60)
    )
    login(client, user)
    total = AuditEntry.objects.count()
    first = client.get(reverse("shell:audit_list"))
    assert len(first.context["entries"]) == 50
    assert f"共 {total} 条" in first.content.decode()
    second = client.get(reverse("shell:audit_list"), {"page": 2})
    assert len(second.context["entries"]) == total - 50


def test_english_catalog_translates_the_shell(client, registry, make_staff):
    user = make_staff("admin", registry.zhongshan, Role.UNIT_ADMIN)
    login(client, user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get(reverse("shell:overview")).content.decode()
    assert "Dashboard" in html
    assert "Staff accounts" in html
    assert "Union rate" in html
