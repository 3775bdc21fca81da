import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.paginator import Paginator
from django.template import Context, RequestContext, Template
from django.test import RequestFactory

from safetynet.accounts.models import Role
from safetynet.core.models import AuditEntry
from safetynet.core.templatetags.safetynet import (
    audit_changes,
    date_or_dash,
    entity_label,
    page_numbers,
    percent,
    thousands,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.861, "86.1 %"),
        (1, "100.0 %"),
        (0, "0.0 %"),
        (None, "—"),
        ("", "—"),
        ("abc", "—"),
        (0.90125, "90.1 %"),
    ],
)
def test_percent(value, expected):
    assert percent(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(12345, "12,345"), (0, "0"), (1234567, "1,234,567"), (None, "—"), ("12", "12")]
)
def test_thousands(value, expected):
    assert thousands(value) == expected


def test_date_or_dash_dates_and_local_datetimes():
    assert date_or_dash(datetime.date(2012, 3, 5)) == "2012-03-05"
    assert date_or_dash(None) == "—"
    assert date_or_dash("") == "—"
    # 2012-03-05 20:30 UTC is the next morning in Shanghai.
    instant = datetime.datetime(2012, 3, 5, 20, 30, tzinfo=ZoneInfo("UTC"))
    assert date_or_dash(instant) == "2012-03-06 04:30"


def test_filters_in_a_template_use_separators_whatever_the_language():
    html = Template("{% load safetynet %}{{ n|thousands }} {{ r|percent }} {{ d|date_or_dash }}").render(
        Context({"n": 8620, "r": 0.9725, "d": None})
    )
    assert html == "8,620 97.2 % —"


def test_page_numbers_elide_the_middle():
    page = Paginator(list(range(1000)), 10).get_page(50)
    numbers = page_numbers(page)
    assert numbers[0] == 1 and numbers[-1] == 100
    assert "…" in numbers
    assert 50 in numbers and 48 in numbers and 52 in numbers and 47 not in numbers


def test_entity_label_and_changes_use_the_models_verbose_names():
    entry = AuditEntry(
        entity="orgs.enterprise",
        object_id="1",
        action="update",
        changes={"headcount": [100, 120], "above_designated_size": [False, True], "nonexistent": [None, "x"]},
    )
    assert entity_label("orgs.enterprise") == "企业"
    assert entity_label("nope.model") == "nope.model"
    rows = audit_changes(entry)
    assert {"field": "职工人数", "before": "100", "after": "120"} in rows
    assert {"field": "规模以上", "before": "否", "after": "是"} in rows
    assert {"field": "nonexistent", "before": "—", "after": "x"} in rows


def test_unit_breadcrumbs_link_only_within_the_users_scope(city, make_staff):
    user = make_staff("zs", city.zhongshan, Role.OPERATOR)
    request = RequestFactory().get("/")
    request.user = user
    html = Template('{% include "includes/unit_breadcrumbs.html" with unit=unit %}').render(
        Context({"unit": city.community_a, "request": request})
    )
    names = ["大连市", "中山区", "青泥洼桥街道", "友好社区"]
    positions = [html.index(name) for name in names]
    assert positions == sorted(positions)
    # The city is above the user's unit: shown, but not a link (it would answer 404).
    assert f"?unit={city.city.pk}" not in html
    assert "<span>大连市</span>" in html


def test_history_include_renders_entries_and_an_empty_state():
    entry = AuditEntry(
        entity="orgs.enterprise",
        object_id="1",
        object_repr="测试企业",
        actor_name="zs_op",
        action="update",
        changes={"headcount": [100, 120]},
        at=datetime.datetime(2012, 3, 5, 1, 0, tzinfo=ZoneInfo("UTC")),
    )
    html = Template('{% include "includes/history.html" with entries=entries %}').render(
        Context({"entries": [entry]})
    )
    assert "zs_op" in html and "职工人数" in html and "120" in html and "2012-03-05 09:00" in html
    empty = Template('{% include "includes/history.html" with entries=entries %}').render(
        Context({"entries": []})
    )
    assert "暂无变更记录" in empty


def test_pagination_keeps_the_other_query_parameters(rf):
    request = rf.get("/orgs/enterprises/", {"q": "华信", "unit": "3", "page": "2"})
    page = Paginator(list(range(200)), 50).get_page(2)
    html = Template('{% include "includes/pagination.html" with page_obj=page_obj %}').render(
        RequestContext(request, {"page_obj": page})
    )
    assert "共 200 条" in html
    assert "q=%E5%8D%8E%E4%BF%A1&amp;unit=3&amp;page=3" in html
    assert "page=1" in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_money_has_thousands_separators_in_every_language(language):
    from decimal import Decimal

    from django.utils import translation

    from safetynet.core.templatetags.safetynet import decimal, money

    with translation.override(language):
        assert money(Decimal("505500.00")) == "505,500.00 元"
        assert money(1234567.5) == "1,234,567.50 元"
        assert money(None) == "—"
        assert decimal(Decimal("12000")) == "12,000.00"
        assert decimal("abc") == "abc"


def test_changes_under_a_reverse_relation_name_are_labelled_by_the_related_model():
    # An enterprise's "locations" is a reverse relation (EnterpriseLocation rows): it has no verbose name.
    entry = AuditEntry(
        entity="orgs.enterprise", object_id="1", action="update", changes={"locations": [1, 2]}
    )
    rows = audit_changes(entry)
    assert rows[0]["field"] not in ("", "locations") and rows[0]["after"] == "2"
