"""办理期限规则: the page (everyone reads, a city-level admin writes), the services with their audit rows, and
the "which rule applies" logic agreeing with the deadlines the cases get."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.test import Client
from django.urls import reverse

from safetynet.cases import selectors, services
from safetynet.cases.deadlines import DeadlineRules
from safetynet.cases.models import Category, DayKind, DeadlineRule, Difficulty
from safetynet.core.errors import NotAllowed, ServiceError
from safetynet.core.models import AuditEntry
from safetynet.orgs.models import OrgLevel

from .test_services import intake


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rule(**values) -> DeadlineRule:
    return services.deadline_rule_create(actor=None, **{"level": OrgLevel.DISTRICT, "days": 20, **values})


# --- who may write ------------------------------------------------------------------------------------


def test_only_a_city_level_admin_may_edit(setup, make_staff):
    city_unit_admin = make_staff("city_unit_admin", setup.city.city, "unit_admin")
    assert services.can_edit_deadline_rules(setup.city_admin)
    assert services.can_edit_deadline_rules(city_unit_admin)
    for user in (setup.city_officer, setup.district_head, setup.district_officer, setup.viewer):
        assert not services.can_edit_deadline_rules(user), user.username
        with pytest.raises(NotAllowed):
            services.deadline_rule_create(actor=user, level=OrgLevel.STREET, days=10)
    assert not DeadlineRule.objects.exists()


# --- services -----------------------------------------------------------------------------------------


def test_create_update_delete_write_audit_rows(setup):
    created = services.deadline_rule_create(
        actor=setup.city_admin,
        level=OrgLevel.STREET,
        category=Category.WAGE_ARREARS,
        difficulty="",
        days=10,
        day_kind=DayKind.WORKING,
    )
    entry = AuditEntry.objects.get(entity="cases.deadlinerule", action="create")
    assert entry.actor == setup.city_admin and entry.unit_path == setup.city.city.path
    assert entry.changes["days"] == [None, 10] and entry.changes["level"] == [None, "街道级"]
    services.deadline_rule_update(
        actor=setup.city_admin,
        rule=created,
        level=OrgLevel.STREET,
        category=Category.WAGE_ARREARS,
        difficulty="",
        days=12,
        day_kind=DayKind.WORKING,
    )
    update = AuditEntry.objects.get(entity="cases.deadlinerule", action="update")
    assert update.changes == {"days": [10, 12]}
    # Saving without a change writes nothing.
    services.deadline_rule_update(
        actor=setup.city_admin,
        rule=created,
        level=OrgLevel.STREET,
        category=Category.WAGE_ARREARS,
        days=12,
        day_kind=DayKind.WORKING,
    )
    assert AuditEntry.objects.filter(entity="cases.deadlinerule").count() == 2
    services.deadline_rule_delete(actor=setup.city_admin, rule=created)
    assert not DeadlineRule.objects.exists()
    deleted = AuditEntry.objects.get(entity="cases.deadlinerule", action="delete")
    assert deleted.changes["days"] == [12, None] and deleted.object_id == str(created.pk)


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"days": 0}, "days", "1 到 365"),
        ({"days": 400}, "days", "1 到 365"),
        ({"days": "十五"}, "days", "整数"),
        ({"level": 9}, "level", "请选择层级"),
        ({"category": "nonsense"}, "category", "诉求类别不对"),
        ({"difficulty": "hard"}, "difficulty", "难易程度不对"),
        ({"day_kind": "lunar"}, "day_kind", "自然日或工作日"),
    ],
)
def test_invalid_values_are_refused_in_chinese(setup, values, field, message):
    with pytest.raises(ServiceError) as refused:
        rule(**values)
    assert refused.value.field == field and message in refused.value.message
    assert not DeadlineRule.objects.exists()


def test_a_second_rule_for_the_same_combination_is_refused(setup):
    first = rule(category=Category.DISMISSAL)
    with pytest.raises(ServiceError) as refused:
        rule(category=Category.DISMISSAL, days=30)
    assert refused.value.code == "duplicate" and "区级、解除劳动关系、全部难易程度" in refused.value.message
    other = rule(category=Category.DISMISSAL, difficulty=Difficulty.DIFFICULT)
    with pytest.raises(ServiceError):
        services.deadline_rule_update(
            actor=None, rule=other, level=OrgLevel.DISTRICT, category=Category.DISMISSAL, days=5
        )
    # Editing a rule without changing its combination is not a clash with itself.
    services.deadline_rule_update(
        actor=None, rule=first, level=OrgLevel.DISTRICT, category=Category.DISMISSAL, days=25
    )
    first.refresh_from_db()
    assert first.days == 25


def test_matching_agrees_with_the_deadlines_cases_get(setup):
    rule(level=OrgLevel.COMMUNITY, days=7)
    rule(level=OrgLevel.COMMUNITY, category=Category.WAGE_ARREARS, days=5)
    rule(level=OrgLevel.COMMUNITY, difficulty=Difficulty.DIFFICULT, days=20, day_kind=DayKind.WORKING)
    rule(
        level=OrgLevel.COMMUNITY,
        category=Category.WAGE_ARREARS,
        difficulty=Difficulty.ESPECIALLY_COMPLEX,
        days=30,
    )
    rule(level=OrgLevel.STREET, category=Category.WORK_INJURY, days=25)
    rules = list(selectors.deadline_rule_list())
    engine = DeadlineRules()
    for level, category, difficulty in itertools.product(
        (OrgLevel.COMMUNITY, OrgLevel.STREET, OrgLevel.DISTRICT, OrgLevel.CITY),
        Category.values,
        Difficulty.values,
    ):
        found = selectors.deadline_rule_matching(rules, level, category, difficulty)
        period = engine.period(level, category, difficulty)
        expected = (found.days, found.day_kind) if found else (15, DayKind.CALENDAR)
        assert (period.days, period.day_kind) == expected, (level, category, difficulty)
    # And a real intake at the community gets the wage-arrears rule.
    case = intake(setup)
    assert case.deadline - case.received_at == datetime.timedelta(days=5)


# --- pages --------------------------------------------------------------------------------------------


def test_everyone_reads_the_page_with_the_default_shown(setup):
    response = client_for(setup.viewer).get(reverse("cases:deadline_rules"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "默认规则：没有规则匹配时适用" in text and "15 个自然日" in text
    assert "目前没有自定义规则" in text
    assert "新增规则" not in text and reverse("cases:deadline_rule_create") not in text
    assert "48 小时" in text


def test_the_page_lists_rules_and_shows_which_applies(setup):
    rule(level=OrgLevel.DISTRICT, difficulty=Difficulty.DIFFICULT, days=30, day_kind=DayKind.WORKING)
    rule(level=OrgLevel.CITY, days=20)
    client = client_for(setup.city_admin)
    text = client.get(reverse("cases:deadline_rules")).content.decode()
    assert "30" in text and "工作日" in text and "疑难" in text and "新增规则" in text
    # The per-level table: the city has its own rule, every other cell falls back to the default.
    assert "<strong>20 个自然日</strong>" in text and text.count("15 个自然日 <span") == 8
    assert text.count("<strong>20 个自然日</strong>") == 3 and "<strong>30 个工作日</strong>" in text
    checked = client.get(
        reverse("cases:deadline_rules"),
        {"level": OrgLevel.DISTRICT, "category": "", "difficulty": "difficult"},
    ).content.decode()
    assert "适用" in checked and "30 个工作日" in checked
    fallback = client.get(
        reverse("cases:deadline_rules"), {"level": OrgLevel.STREET, "category": "dismissal", "difficulty": ""}
    ).content.decode()
    assert "15 个自然日" in fallback and "没有匹配的规则" in fallback


def test_city_admin_creates_edits_and_deletes_through_the_pages(setup):
    client = client_for(setup.city_admin)
    response = client.post(
        reverse("cases:deadline_rule_create"),
        {
            "level": OrgLevel.STREET,
            "category": "wage_arrears",
            "difficulty": "",
            "days": "10",
            "day_kind": "working",
        },
        follow=True,
    )
    created = DeadlineRule.objects.get()
    assert (created.level, created.category, created.days, created.day_kind) == (
        OrgLevel.STREET,
        "wage_arrears",
        10,
        "working",
    )
    assert response.redirect_chain[-1][0] == reverse("cases:deadline_rules")
    assert "已新增期限规则" in response.content.decode()
    edit_url = reverse("cases:deadline_rule_edit", args=[created.pk])
    assert 'value="10"' in client.get(edit_url).content.decode()
    client.post(
        edit_url,
        {
            "level": OrgLevel.STREET,
            "category": "wage_arrears",
            "difficulty": "",
            "days": "12",
            "day_kind": "working",
        },
    )
    created.refresh_from_db()
    assert created.days == 12
    deleted = client.post(reverse("cases:deadline_rule_delete", args=[created.pk]), follow=True)
    assert not DeadlineRule.objects.exists() and "已删除期限规则" in deleted.content.decode()
    assert AuditEntry.objects.filter(entity="cases.deadlinerule").count() == 3


def test_form_errors_are_shown_next_to_the_fields(setup):
    rule(level=OrgLevel.STREET, category=Category.WAGE_ARREARS, days=10)
    client = client_for(setup.city_admin)
    bad = client.post(
        reverse("cases:deadline_rule_create"),
        {"level": OrgLevel.STREET, "category": "", "difficulty": "", "days": "0", "day_kind": "calendar"},
    )
    assert bad.status_code == 200 and "“期限天数”不能小于 1" in bad.content.decode()
    duplicate = client.post(
        reverse("cases:deadline_rule_create"),
        {
            "level": OrgLevel.STREET,
            "category": "wage_arrears",
            "difficulty": "",
            "days": "9",
            "day_kind": "calendar",
        },
    )
    assert "请编辑那一条" in duplicate.content.decode()
    assert DeadlineRule.objects.count() == 1


def test_others_are_refused_the_editing_pages(setup):
    existing = rule()
    for user in (setup.district_head, setup.city_officer, setup.viewer):
        client = client_for(user)
        assert client.get(reverse("cases:deadline_rule_create")).status_code == 403
        assert client.get(reverse("cases:deadline_rule_edit", args=[existing.pk])).status_code == 403
        assert (
            client.post(
                reverse("cases:deadline_rule_edit", args=[existing.pk]),
                {"level": OrgLevel.CITY, "days": "1", "day_kind": "calendar"},
            ).status_code
            == 403
        )
        assert client.post(reverse("cases:deadline_rule_delete", args=[existing.pk])).status_code == 403
    existing.refresh_from_db()
    assert existing.days == 20 and existing.level == OrgLevel.DISTRICT


def test_a_missing_rule_is_404_and_delete_is_post_only(setup):
    client = client_for(setup.city_admin)
    assert client.get(reverse("cases:deadline_rule_edit", args=[987654])).status_code == 404
    existing = rule()
    assert client.get(reverse("cases:deadline_rule_delete", args=[existing.pk])).status_code == 405
    assert DeadlineRule.objects.exists()
