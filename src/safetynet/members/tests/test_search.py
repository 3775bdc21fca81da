"""The person search page: filters, scope, the capped count, and the plans measured against the plain meaning.

The same tests run on SQLite (the ORM conditions) and on PostgreSQL (the index walk with either scope test).
"""

from __future__ import annotations

import datetime
import itertools
import re
from dataclasses import dataclass

import pytest
from django.db import connection
from django.urls import reverse

from safetynet.members import selectors, views
from safetynet.members.models import Household, Membership, Person
from safetynet.members.selectors import PersonSearchCriteria, person_search_page
from safetynet.members.services import employment_end, membership_join, person_register
from safetynet.members.tests.factories import make_id_number
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code

D = datetime.date
DAY = D(2012, 6, 30)
POSTGRESQL = connection.vendor == "postgresql"
# "scope": the scope's persons gathered first (SQLite's choice for a small scope; forced here on both).
PLANS = ("", "probe", "hash", "scope") if POSTGRESQL else ("", "orm", "scope")


@dataclass
class People:
    wang_yi: Person  # 中山 community (甲公司), member, rural
    wang_er: Person  # 中山 street (丙公司), not a member, urban
    wang_er_2: Person  # the same name at 甲公司 (list order falls back to the id)
    wang_san: Person  # left 甲公司 on 2011-01-01, still a member
    wang_si: Person  # 西岗 only (乙公司 and its joint union)
    wang_wu: Person  # works in 西岗, member of 甲公司工会: in 中山 by the membership alone
    wang_dong: Person  # starts at 丙公司 on 2012-07-01 (after DAY)
    wang: Person  # the name "王" itself, 丙公司, rural
    li_si: Person  # 甲公司, member (another surname)
    next_char: Person  # "玌": U+738C, right after 王 (U+738B), at 甲公司


@pytest.fixture
def people(registry) -> People:
    numbers = itertools.count(11)

    def hire(name, enterprise, start, household="", address="210202"):
        return person_register(
            actor=None,
            name=name,
            id_number=make_id_number(next(numbers), address=address),
            enterprise=enterprise,
            employed_from=start,
            household=household,
        ).person

    wang_yi = hire("王一", registry.acme, D(2010, 1, 1), Household.RURAL)
    membership_join(actor=None, person=wang_yi, union=registry.acme_union, valid_from=D(2010, 2, 1))
    wang_er = hire("王二", registry.plain, D(2010, 1, 1), Household.URBAN)
    wang_er_2 = hire("王二", registry.acme, D(2010, 1, 1), Household.URBAN)
    wang_san = hire("王三", registry.acme, D(2006, 1, 1), Household.URBAN)
    membership_join(actor=None, person=wang_san, union=registry.acme_union, valid_from=D(2006, 3, 1))
    employment_end(actor=None, employment=wang_san.employments.get(), valid_to=D(2011, 1, 1))
    wang_si = hire("王四", registry.bolt, D(2011, 1, 1), Household.RURAL, address="210203")
    membership_join(actor=None, person=wang_si, union=registry.joint_union, valid_from=D(2011, 1, 1))
    wang_wu = hire("王五", registry.bolt, D(2011, 1, 1), Household.URBAN, address="210203")
    # Test data the services would refuse (the union does not cover 乙公司): a membership in 中山 without a
    # job there, the rarest way into the district's scope.
    Membership.objects.create(person=wang_wu, union=registry.acme_union, valid_from=D(2011, 5, 1))
    wang_dong = hire("王东", registry.plain, D(2012, 7, 1))
    wang = hire("王", registry.plain, D(2010, 1, 1), Household.RURAL)
    li_si = hire("李四", registry.acme, D(2010, 1, 1))
    membership_join(actor=None, person=li_si, union=registry.acme_union, valid_from=D(2010, 2, 1))
    next_char = hire("玌", registry.acme, D(2010, 1, 1))
    return People(wang_yi, wang_er, wang_er_2, wang_san, wang_si, wang_wu, wang_dong, wang, li_si, next_char)


def reference(user, criteria: PersonSearchCriteria) -> list[int]:
    """The search's meaning written out over every person, in Python (name search only)."""
    path = user.org_unit.path
    if criteria.unit is not None:
        if not criteria.unit.path.startswith(path):
            return []
        path = criteria.unit.path
    whole_city = path.count("/") == 1
    day = criteria.day

    def active(record) -> bool:
        return record.valid_from <= day and (record.valid_to is None or day < record.valid_to)

    found = []
    for person in Person.objects.all():
        if not person.name.startswith(criteria.q):
            continue
        jobs = list(person.employments.select_related("enterprise__org_unit"))
        memberships = list(person.memberships.select_related("union__org_unit"))
        in_scope = [e for e in jobs if whole_city or e.enterprise.org_unit.path.startswith(path)]
        unions_in_scope = [m for m in memberships if whole_city or m.union.org_unit.path.startswith(path)]
        if not (in_scope or unions_in_scope):
            continue
        if criteria.enterprises:
            in_scope = [e for e in in_scope if e.enterprise_id in criteria.enterprises]
            if not in_scope:
                continue
        if criteria.employed is not None and any(map(active, in_scope)) != criteria.employed:
            continue
        if criteria.member is not None and any(map(active, memberships)) != criteria.member:
            continue
        if criteria.household and person.household != criteria.household:
            continue
        found.append((person.name, person.pk))
    return [pk for _, pk in sorted(found)]


def criteria_to_try(registry, city) -> list[PersonSearchCriteria]:
    filters = [
        {},
        {"member": True},
        {"member": False},
        {"employed": True},
        {"employed": False},
        {"household": Household.RURAL},
        {"household": Household.URBAN, "member": False, "employed": True},
        {"unit": city.street_a},
        {"unit": city.community_a, "member": True},
        {"unit": city.xigang},
        {"enterprises": (registry.acme.pk,)},
        {"enterprises": (registry.acme.pk,), "employed": False},
        {"enterprises": (registry.acme.pk, registry.bolt.pk), "employed": True},
    ]
    return [
        PersonSearchCriteria(q=q, day=DAY, **extra)
        for q in ("王", "王二", "李", "")
        for extra in filters
        if q or extra
    ]


@pytest.mark.parametrize("who", ["zhongshan", "street", "community", "xigang", "city"])
def test_every_plan_finds_exactly_what_the_plain_definition_finds(who, people, registry, city, make_staff):
    unit = {
        "zhongshan": city.zhongshan,
        "street": city.street_a,
        "community": city.community_a,
        "xigang": city.xigang,
        "city": city.city,
    }[who]
    user = make_staff(who, unit, "viewer")
    for criteria in criteria_to_try(registry, city):
        expected = reference(user, criteria)
        assert (
            list(selectors.person_search_definition(user, criteria).values_list("pk", flat=True)) == expected
        )
        for plan in PLANS:
            result = person_search_page(user, criteria, plan=plan)
            assert (result.ids, result.more) == (expected, False), (criteria, plan, result.plan)


def test_the_reference_itself_sees_the_cases_it_is_meant_to(people, registry, city, make_staff):
    """Guards the test above: the dataset does reach each rule (else equality proves little)."""
    zhongshan = make_staff("zs", city.zhongshan, "viewer")
    search = PersonSearchCriteria(q="王", day=DAY)
    assert reference(zhongshan, search) == [
        people.wang.pk,
        people.wang_yi.pk,
        people.wang_san.pk,
        people.wang_dong.pk,
        *sorted([people.wang_er.pk, people.wang_er_2.pk]),
        people.wang_wu.pk,
    ]
    assert reference(zhongshan, PersonSearchCriteria(q="王", day=DAY, employed=False)) == [
        people.wang_san.pk,
        people.wang_dong.pk,
        people.wang_wu.pk,
    ]
    assert reference(zhongshan, PersonSearchCriteria(q="王", day=DAY, member=True)) == [
        people.wang_yi.pk,
        people.wang_san.pk,
        people.wang_wu.pk,
    ]


def test_a_sibling_districts_persons_never_appear(people, registry, city, make_staff):
    zhongshan = make_staff("zs", city.zhongshan, "operator")
    seen = set()
    for criteria in criteria_to_try(registry, city):
        for plan in PLANS:
            seen.update(person_search_page(zhongshan, criteria, plan=plan).ids)
    assert people.wang_si.pk not in seen
    assert people.wang_yi.pk in seen and people.wang_wu.pk in seen
    # Another district's unit or enterprise narrows to nobody, never widens.
    outside = PersonSearchCriteria(q="王", day=DAY, unit=city.xigang)
    assert person_search_page(zhongshan, outside).ids == []
    outside = PersonSearchCriteria(q="王", day=DAY, enterprises=(registry.bolt.pk,))
    assert person_search_page(zhongshan, outside).ids == []


def test_the_count_is_exact_up_to_the_cap_and_says_more_beyond(people, city, make_staff):
    zhongshan = make_staff("zs", city.zhongshan, "viewer")
    search = PersonSearchCriteria(q="王", day=DAY)
    everyone = reference(zhongshan, search)
    assert len(everyone) == 7
    for plan in PLANS:
        capped = person_search_page(zhongshan, search, cap=3, plan=plan)
        assert (capped.ids, capped.count, capped.more) == (everyone[:3], 3, True)
        exact = person_search_page(zhongshan, search, cap=7, plan=plan)
        assert (exact.ids, exact.more) == (everyone, False)


def test_a_name_prefix_is_a_prefix_not_a_pattern(people, city, make_staff):
    cityview = make_staff("ct", city.city, "viewer")
    for text in ("王_", "王%", "%", "_"):
        assert person_search_page(cityview, PersonSearchCriteria(q=text, day=DAY)).ids == []
    assert person_search_page(cityview, PersonSearchCriteria(q="玌", day=DAY)).ids == [people.next_char.pk]


def test_nothing_typed_and_no_filter_lists_nobody(people, city, make_staff):
    cityview = make_staff("ct", city.city, "viewer")
    result = person_search_page(cityview, PersonSearchCriteria(day=DAY))
    assert (result.ids, result.plan) == ([], "none")
    # The day alone is not a filter either.
    assert not PersonSearchCriteria(day=DAY).has_filters


# --- the page --------------------------------------------------------------------------------


def login(client, make_staff, unit, role="viewer", name="user"):
    user = make_staff(name, unit, role)
    client.force_login(user)
    return user


def rows(page: str) -> list[str]:
    return re.findall(r'<td><a href="/members/persons/\d+/">([^<]+)</a></td>', page)


def test_filters_live_in_the_url_and_narrow_the_list(client, make_staff, city, people, registry):
    login(client, make_staff, city.zhongshan)
    url = reverse("members:person_search")
    page = client.get(url, {"q": "王", "day": "2012-06-30"}).content.decode()
    assert rows(page) == ["王", "王一", "王三", "王东", "王二", "王二", "王五"]
    assert "共 7 人" in page and "王四" not in page
    page = client.get(url, {"q": "王", "day": "2012-06-30", "member": "1"}).content.decode()
    assert rows(page) == ["王一", "王三", "王五"]
    page = client.get(url, {"q": "王", "day": "2012-06-30", "employed": "0"}).content.decode()
    assert rows(page) == ["王三", "王东", "王五"]
    page = client.get(url, {"q": "王", "household": "rural"}).content.decode()
    assert rows(page) == ["王", "王一"]
    page = client.get(url, {"q": "王", "unit": city.community_a.pk}).content.decode()
    assert rows(page) == ["王一", "王三", "王二", "王五"]
    # The form shows the filters as they were asked (a bookmark reproduces the list).
    assert f'<option value="{city.community_a.pk}" selected>' in page


def test_enterprise_filter_by_credit_code_or_name(client, make_staff, city, people, registry):
    login(client, make_staff, city.zhongshan)
    url = reverse("members:person_search")
    by_code = client.get(url, {"q": "王", "enterprise": registry.plain.credit_code}).content.decode()
    assert rows(by_code) == ["王", "王东", "王二"]
    by_name = client.get(url, {"q": "王", "enterprise": "丙公司"}).content.decode()
    assert rows(by_name) == rows(by_code)
    # Without a name: the enterprise's people (and only the filter decides).
    staff = client.get(url, {"enterprise": "丙公司", "day": "2012-06-30", "employed": "1"}).content.decode()
    assert rows(staff) == ["王", "王二"]
    # Another district's enterprise is "not found" (its existence is not revealed), with what to do.
    page = client.get(url, {"q": "王", "enterprise": registry.bolt.credit_code}).content.decode()
    assert f"在您的管辖范围内找不到统一社会信用代码为“{registry.bolt.credit_code}”的企业" in page
    assert rows(page) == []
    # A mistyped code says what is wrong with it; a name says it was taken as a name.
    wrong = registry.plain.credit_code[:17] + ("0" if registry.plain.credit_code[17] != "0" else "1")
    page = client.get(url, {"q": "王", "enterprise": wrong}).content.decode()
    assert "校验位不对" in page and rows(page) == []
    page = client.get(url, {"q": "王", "enterprise": "丁公司"}).content.decode()
    assert "找不到名称含“丁公司”的企业" in page and "改用统一社会信用代码" in page


def test_enterprise_name_matching_many_asks_for_more(client, make_staff, city, people, monkeypatch):
    monkeypatch.setattr(selectors, "ENTERPRISE_MATCH_LIMIT", 2)
    for n in range(3):
        EnterpriseFactory(
            credit_code=make_credit_code(200 + n), name=f"同名机械厂{n}", org_unit=city.street_a
        )
    login(client, make_staff, city.zhongshan)
    page = client.get(
        reverse("members:person_search"), {"q": "王", "enterprise": "同名机械"}
    ).content.decode()
    assert "超过 2 家" in page and "统一社会信用代码" in page


def test_out_of_scope_unit_in_the_url_is_404(client, make_staff, city, people):
    login(client, make_staff, city.zhongshan)
    response = client.get(reverse("members:person_search"), {"q": "王", "unit": city.xigang.pk})
    assert response.status_code == 404


def test_membership_column_shows_each_persons_status_on_the_day(client, make_staff, city, people):
    login(client, make_staff, city.zhongshan)
    page = client.get(reverse("members:person_search"), {"q": "王", "day": "2012-06-30"}).content.decode()
    assert "会籍（2012-06-30）" in page
    statuses = re.findall(r'<span class="badge badge-\w+">(在会|未入会)</span>', page)
    # 王, 王一, 王三, 王东, 王二, 王二, 王五
    assert statuses == ["未入会", "在会", "在会", "未入会", "未入会", "未入会", "在会"]
    today = client.get(reverse("members:person_search"), {"q": "王一"}).content.decode()
    assert ">会籍<" in today and ">在会<" in today


def test_capped_count_pages_and_asks_for_filters(client, make_staff, city, people, monkeypatch):
    monkeypatch.setattr(selectors, "SEARCH_CAP", 4)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    login(client, make_staff, city.zhongshan)
    url = reverse("members:person_search")
    first = client.get(url, {"q": "王", "day": "2012-06-30"}).content.decode()
    assert rows(first) == ["王", "王一"]
    assert "4 人以上" in first and "超过 4 人" in first and 'id="search-capped"' in first
    assert "page=2" in first and "page=3" not in first  # the first 4 in 2 pages, no more
    second = client.get(url, {"q": "王", "day": "2012-06-30", "page": "2"}).content.decode()
    assert rows(second) == ["王三", "王东"]
    narrowed = client.get(url, {"q": "王", "day": "2012-06-30", "member": "1"}).content.decode()
    assert "共 3 人" in narrowed and "search-capped" not in narrowed


def test_empty_states(client, make_staff, city, people):
    login(client, make_staff, city.zhongshan)
    url = reverse("members:person_search")
    page = client.get(url).content.decode()
    assert "输入姓名、完整身份证号" in page and "search-empty" not in page
    page = client.get(url, {"q": "王", "household": "rural", "member": "1", "employed": "0"}).content.decode()
    assert 'id="search-empty"' in page and "可以放宽筛选条件" in page and "清除条件" in page
    page = client.get(url, {"household": "rural", "unit": city.street_a.pk, "q": "赵"}).content.decode()
    assert "没有找到符合条件的“赵”" in page
    page = client.get(url, {"q": "王", "day": "2012-13-45"}).content.decode()
    assert "请先更正上面的筛选条件" in page and "日期" in page


def test_full_id_number_still_goes_to_the_person(client, make_staff, city, people):
    login(client, make_staff, city.zhongshan)
    number = make_id_number(11)  # 王一's
    response = client.get(reverse("members:person_search"), {"q": number})
    assert response.status_code == 302
    assert response["Location"] == reverse("members:person_detail", args=[people.wang_yi.pk])
