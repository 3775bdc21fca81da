"""Editing an item of a draft scheme (page and service), and putting items in order: checked like a new item,
refused once the scheme is published, audited with what changed, scoped like the scheme itself."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from safetynet.assessment import services
from safetynet.assessment.models import Item, Scheme
from safetynet.core.errors import OutOfScope, ServiceError
from safetynet.core.models import AuditAction, AuditEntry

STEPPED = "建会达标"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def item_audit(item: Item) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(entity="assessment.item", object_id=str(item.pk)).order_by("pk"))


def snapshot(item: Item) -> dict:
    return Item.objects.filter(pk=item.pk).values("name", "kind", "weight", "rule", "description", "order")[0]


@pytest.fixture
def district(city, make_staff):
    """A draft scheme 中山区 runs for its streets, with one manual item, and the people around it."""
    admin = make_staff("zs_runner", city.zhongshan, "unit_admin")
    scheme = services.scheme_create(actor=admin, org_unit=city.zhongshan, year=2013)
    item = services.item_add(actor=admin, scheme=scheme, name="街道特色工作", kind="manual", weight="30")
    return {
        "scheme": scheme,
        "item": item,
        "admin": admin,
        "viewer": make_staff("zs_looker", city.zhongshan, "viewer"),
        "xigang_officer": make_staff("xg_op", city.xigang, "operator"),
        "xigang_admin": make_staff("xg_boss", city.xigang, "unit_admin"),
    }


# --- the service ---------------------------------------------------------------------------------------


def test_edit_in_draft_is_saved_and_audited_with_the_diff(dataset):
    item = dataset.items["建会率"]
    services.item_update(
        actor=dataset.city_admin,
        item=item,
        name="建会率（修订）",
        kind="indicator",
        weight="35",
        rule={"metric": "union_rate", "mode": "linear", "floor": "0.4"},
        description="按年末数计",
    )
    item.refresh_from_db()
    assert (item.name, item.weight, item.rule["floor"], item.description) == (
        "建会率（修订）",
        Decimal("35.00"),
        "0.4",
        "按年末数计",
    )
    entry = item_audit(item)[-1]
    assert entry.action == AuditAction.UPDATE and entry.actor == dataset.city_admin
    assert entry.unit_path == dataset.city.city.path
    assert entry.changes["name"] == ["建会率", "建会率（修订）"]
    assert entry.changes["weight"] == ["40.00", "35.00"]
    assert entry.changes["rule"][0]["floor"] == "0.5" and entry.changes["rule"][1]["floor"] == "0.4"
    assert "kind" not in entry.changes  # only what changed


def test_saving_without_a_change_writes_no_audit_row(dataset):
    item = dataset.items["特色工作"]
    before = len(item_audit(item))
    services.item_update(
        actor=dataset.city_admin, item=item, name="特色工作", kind="manual", weight="20.00", rule={}
    )
    assert len(item_audit(item)) == before


def test_changing_the_kind_replaces_the_rule(dataset):
    item = dataset.items["诉求按期办结"]
    services.item_update(
        actor=dataset.city_admin, item=item, name="否决", kind="veto", weight="10", rule={"cap": "50"}
    )
    item.refresh_from_db()
    assert (item.kind, item.weight, item.rule) == ("veto", Decimal("0.00"), {"cap": "50"})
    assert item_audit(item)[-1].changes["kind"] == ["事实比例", "一票否决"]


def test_editing_a_published_scheme_is_refused(dataset):
    Item.objects.filter(scheme=dataset.scheme, name="特色工作").update(weight=Decimal("20"))
    services.scheme_publish(actor=dataset.city_admin, scheme=dataset.scheme)
    item = dataset.items["特色工作"]
    before, audit = snapshot(item), AuditEntry.objects.count()
    with pytest.raises(ServiceError) as error:
        services.item_update(actor=dataset.city_admin, item=item, name="改", kind="manual", weight="20")
    assert error.value.code == "scheme_not_draft" and "已发布" in error.value.message
    assert snapshot(item) == before and AuditEntry.objects.count() == audit


@pytest.mark.parametrize(
    ("kind", "weight", "rule", "field", "words"),
    [
        (
            "indicator",
            "20",
            {
                "metric": "union_rate",
                "mode": "stepped",
                "steps": [{"from": 80, "to": None, "points": 20}, {"from": 90, "to": 100, "points": 10}],
            },
            "steps",
            "分档重叠",
        ),
        (
            "indicator",
            "10",
            {"metric": "union_rate", "mode": "stepped", "steps": [{"from": 0, "to": None, "points": 15}]},
            "steps",
            "应在 0 到本项分值 10.00 之间",
        ),
        ("indicator", "20", {"metric": "no_such_metric", "mode": "linear"}, "metric", "未知指标"),
        ("indicator", "20", {"metric": "union_rate", "mode": "linear", "floor": "1.2"}, "floor", "起评线"),
        ("veto", "0", {"cap": "100"}, "cap", "0 到 100"),
        ("manual", "120", {}, "weight", "不超过 100"),
        ("manual", "abc", {}, "weight", "不是数字"),
        ("deduction", "10", {"late": "-1"}, "late", "不能为负数"),
    ],
)
def test_bad_input_is_refused_naming_the_field(dataset, kind, weight, rule, field, words):
    item = dataset.items[STEPPED]
    before = snapshot(item)
    with pytest.raises(ServiceError) as error:
        services.item_update(
            actor=dataset.city_admin, item=item, name=STEPPED, kind=kind, weight=weight, rule=rule
        )
    assert error.value.field == field and words in error.value.message
    assert snapshot(item) == before


def test_another_district_and_a_viewer_may_not_edit(district):
    item = district["item"]
    with pytest.raises(OutOfScope):
        services.item_update(actor=district["xigang_admin"], item=item, name="改", kind="manual", weight="30")
    with pytest.raises(ServiceError) as error:
        services.item_update(actor=district["viewer"], item=item, name="改", kind="manual", weight="30")
    assert error.value.code == "not_allowed"
    assert Item.objects.get(pk=item.pk).name == "街道特色工作"


def test_items_are_put_in_order_and_the_move_is_audited(dataset):
    names = list(dataset.scheme.items.values_list("name", flat=True))
    moved = dataset.items["特色工作"]  # fifth of six
    services.item_move(actor=dataset.city_admin, item=moved, position=1)
    assert list(dataset.scheme.items.values_list("name", flat=True)) == ["特色工作", *names[:4], names[5]]
    assert list(dataset.scheme.items.values_list("order", flat=True)) == [1, 2, 3, 4, 5, 6]
    assert item_audit(moved)[-1].changes == {"order": [5, 1]}
    services.item_move(actor=dataset.city_admin, item=moved, position=99)  # past the end: last
    assert list(dataset.scheme.items.values_list("name", flat=True))[-1] == "特色工作"


# --- the page ------------------------------------------------------------------------------------------


def test_the_scheme_page_links_to_the_edit_page_which_is_the_add_form_filled_in(dataset):
    client = client_for(dataset.city_admin)
    item = dataset.items[STEPPED]
    url = reverse("assessment:item_edit", args=[item.pk])
    scheme_page = client.get(reverse("assessment:scheme_detail", args=[dataset.scheme.pk])).content.decode()
    assert f'href="{url}"' in scheme_page
    page = client.get(url).content.decode()
    assert 'value="建会达标"' in page and 'value="20.00"' in page
    assert '<option value="indicator" selected>' in page and '<option value="stepped" selected>' in page
    assert "0,80,0\n80,100,12\n100,,20</textarea>" in page  # kept sorted by their lower bound
    # The other items weigh 80 (40 + 10 + 10 + 20): the page says what makes the total 100.
    assert "其他项目合计 80.00 分，本项填 20.00 分可使合计为 100" in page


def test_the_page_saves_an_edit(dataset):
    client = client_for(dataset.city_admin)
    item = dataset.items[STEPPED]
    response = client.post(
        reverse("assessment:item_edit", args=[item.pk]),
        {
            "name": "建会达标",
            "kind": "indicator",
            "weight": "20",
            "metric": "union_rate",
            "mode": "stepped",
            "steps": "100,,20\n90，100，15\n0,90,0",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("assessment:scheme_detail", args=[dataset.scheme.pk])
    assert "已保存考核项目“建会达标”" in response.content.decode()
    item.refresh_from_db()
    assert item.rule["steps"][1] == {"from": "90", "to": "100", "points": "15"}  # sorted: 0, 90, 100
    assert item_audit(item)[-1].actor == dataset.city_admin


def test_the_page_shows_overlapping_bands_under_the_bands_field_and_keeps_the_input(dataset):
    client = client_for(dataset.city_admin)
    item = dataset.items[STEPPED]
    before, audit = snapshot(item), AuditEntry.objects.count()
    response = client.post(
        reverse("assessment:item_edit", args=[item.pk]),
        {
            "name": "建会达标",
            "kind": "indicator",
            "weight": "20",
            "metric": "union_rate",
            "mode": "stepped",
            "steps": "80,,20\n90,100,10",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    steps_field = page[page.index('id="id_steps"') : page.index('id="id_source"')]
    assert 'class="errorlist"' in steps_field and "分档重叠：第 1 档" in steps_field
    assert "80,,20\n90,100,10</textarea>" in steps_field
    assert snapshot(item) == before and AuditEntry.objects.count() == audit


def test_the_page_refuses_a_published_scheme(dataset):
    services.scheme_publish(actor=dataset.city_admin, scheme=dataset.scheme)
    client = client_for(dataset.city_admin)
    item = dataset.items["特色工作"]
    url = reverse("assessment:item_edit", args=[item.pk])
    before, audit = snapshot(item), AuditEntry.objects.count()
    response = client.post(url, {"name": "改", "kind": "manual", "weight": "20"}, follow=True)
    assert "方案已发布，考核项目不能再修改。" in response.content.decode()
    assert snapshot(item) == before and AuditEntry.objects.count() == audit
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].endswith(
        reverse("assessment:scheme_detail", args=[dataset.scheme.pk])
    )
    scheme_page = client.get(reverse("assessment:scheme_detail", args=[dataset.scheme.pk])).content.decode()
    assert url not in scheme_page
    moved = client.post(reverse("assessment:item_move", args=[item.pk]), {"position": "1"}, follow=True)
    assert "方案已发布" in moved.content.decode() and snapshot(item) == before


def test_the_api_offers_no_item_write(dataset):
    """Items are read over the API inside their scheme; nothing there changes them, published or not."""
    services.scheme_publish(actor=dataset.city_admin, scheme=dataset.scheme)
    api = APIClient()
    api.force_authenticate(dataset.city_admin)
    url = f"/api/v1/assessment/schemes/{dataset.scheme.pk}/"
    body = {"items": [{"id": dataset.items["特色工作"].pk, "name": "改", "weight": "50"}]}
    assert api.patch(url, body, format="json").status_code == 405
    assert api.put(url, body, format="json").status_code == 405
    assert Item.objects.get(pk=dataset.items["特色工作"].pk).name == "特色工作"
    assert api.get(url).json()["items"][4]["name"] == "特色工作"


def test_a_sibling_district_gets_404_as_for_a_missing_item(district):
    item = district["item"]
    url = reverse("assessment:item_edit", args=[item.pk])
    missing = reverse("assessment:item_edit", args=[item.pk + 1000])
    for user in (district["xigang_officer"], district["xigang_admin"]):
        client = client_for(user)
        for target in (url, missing):
            assert client.get(target).status_code == 404
            assert client.post(target, {"name": "改", "kind": "manual", "weight": "30"}).status_code == 404
    assert (
        client_for(district["xigang_admin"])
        .post(reverse("assessment:item_move", args=[item.pk]), {"position": "1"})
        .status_code
        == 404
    )
    assert Item.objects.get(pk=item.pk).name == "街道特色工作"
    # The district itself edits it.
    assert client_for(district["admin"]).get(url).status_code == 200


def test_a_viewer_cannot_edit(district):
    item = district["item"]
    client = client_for(district["viewer"])
    url = reverse("assessment:item_edit", args=[item.pk])
    before, audit = snapshot(item), AuditEntry.objects.count()
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "改", "kind": "manual", "weight": "30"}).status_code == 403
    assert client.post(reverse("assessment:item_move", args=[item.pk]), {"position": "1"}).status_code == 403
    assert snapshot(item) == before and AuditEntry.objects.count() == audit
    page = client.get(reverse("assessment:scheme_detail", args=[district["scheme"].pk])).content.decode()
    assert "街道特色工作" in page and url not in page
    assert Scheme.objects.get(pk=district["scheme"].pk).status == "draft"
