"""The registry forms: parsing, Chinese messages naming their field, scope of choices."""

from __future__ import annotations

import datetime

import pytest

from safetynet.orgs.forms import (
    ChineseDateField,
    CoverageAddForm,
    EnterpriseFilterForm,
    EnterpriseForm,
    OrgUnitMoveForm,
    UnionForm,
    parse_credit_codes,
)
from safetynet.orgs.tests.factories import EnterpriseFactory, make_credit_code


def enterprise_data(unit, **changes):
    data = {
        "name": "  大连 测试 有限公司 ",
        "credit_code": make_credit_code(7).lower(),
        "org_unit": str(unit.pk),
        "ownership": "private",
        "headcount": "30",
        "migrant_headcount": "3",
        "dispatched_headcount": "0",
        "founded_on": "2012年03月15日",
    }
    data.update(changes)
    return data


def test_enterprise_form_cleans_values(city, make_staff):
    user = make_staff("op", city.zhongshan, "operator")
    form = EnterpriseForm(enterprise_data(city.street_a), user=user)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["credit_code"] == make_credit_code(7)
    assert form.cleaned_data["name"] == "大连 测试 有限公司"
    assert form.cleaned_data["founded_on"] == datetime.date(2012, 3, 15)
    assert "effective_on" not in form.fields  # only editing asks for an effective date


def test_enterprise_form_checks_the_credit_code_check_character(city, make_staff):
    user = make_staff("op", city.zhongshan, "operator")
    good = make_credit_code(7)
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    form = EnterpriseForm(enterprise_data(city.street_a, credit_code=wrong), user=user)
    assert not form.is_valid()
    assert "校验位" in form.errors["credit_code"][0] and good[-1] in form.errors["credit_code"][0]


def test_enterprise_form_headcount_parts_name_their_field(city, make_staff):
    user = make_staff("op", city.zhongshan, "operator")
    form = EnterpriseForm(enterprise_data(city.street_a, migrant_headcount="40"), user=user)
    assert not form.is_valid()
    assert form.errors["migrant_headcount"] == ["“农民工人数”（40）不能多于职工人数（30）。"]


def test_enterprise_form_refuses_a_unit_outside_the_subtree(city, make_staff):
    user = make_staff("op", city.zhongshan, "operator")
    form = EnterpriseForm(enterprise_data(city.street_b), user=user)
    assert not form.is_valid()
    assert form.errors["org_unit"] == ["“所属区划”的选项无效，请从列表中重新选择。"]


def test_required_messages_name_the_field(city, make_staff):
    user = make_staff("op", city.zhongshan, "operator")
    form = EnterpriseForm({}, user=user)
    assert not form.is_valid()
    assert form.errors["name"] == ["请填写“企业名称”。"]
    assert form.errors["ownership"] == ["请选择“经济类型”。"]
    assert form.errors["org_unit"] == ["请选择“所属区划”。"]


def test_edit_form_starts_from_the_record(city, make_staff):
    user = make_staff("op", city.zhongshan, "operator")
    enterprise = EnterpriseFactory(org_unit=city.street_a, headcount=77)
    form = EnterpriseForm(user=user, instance=enterprise)
    assert form.initial["headcount"] == 77 and form.initial["org_unit"] == city.street_a.pk
    assert "effective_on" in form.fields


def test_date_field_accepts_the_import_formats_and_explains_errors():
    field = ChineseDateField(label="成立日期")
    assert field.clean("2012/3/5") == datetime.date(2012, 3, 5)
    assert field.clean("２０１２-０３-０５") == datetime.date(2012, 3, 5)
    with pytest.raises(Exception) as error:
        field.clean("2012-02-30")
    assert "“成立日期”" in str(error.value) and "2012年没有2月30日" in str(error.value)


def test_filter_form_turns_the_url_into_selector_arguments(city, make_staff):
    user = make_staff("op", city.zhongshan, "operator")
    form = EnterpriseFilterForm(
        {
            "q": " 大连 ",
            "unit": str(city.street_a.pk),
            "has_union": "0",
            "eligible": "on",
            "size": "1",
            "sector": "nonpublic",
            "status": "operating",
        },
        user=user,
    )
    kwargs = form.selector_kwargs()
    assert kwargs["q"] == "大连" and kwargs["unit"] == city.street_a
    assert kwargs["has_union"] is False and kwargs["eligible_only"] is True
    assert kwargs["above_designated_size"] is True and kwargs["sector"] == "nonpublic"
    # A bad value is ignored rather than failing the whole list.
    assert EnterpriseFilterForm({"has_union": "maybe"}, user=user).selector_kwargs()["has_union"] is None


def test_filter_form_unit_picker_offers_streets_and_the_chosen_community(city, make_staff):
    user = make_staff("op", city.zhongshan, "operator")
    values = [v for v, _ in EnterpriseFilterForm(user=user).fields["unit"].widget.choices]
    assert city.street_a.pk in values and city.community_a.pk not in values and city.street_b.pk not in values
    chosen = EnterpriseFilterForm({"unit": str(city.community_a.pk)}, user=user)
    assert city.community_a.pk in [v for v, _ in chosen.fields["unit"].widget.choices]


def test_parse_credit_codes_accepts_the_usual_separators():
    a, b, c = make_credit_code(1), make_credit_code(2), make_credit_code(3)
    assert parse_credit_codes(f"{a}\n{b.lower()}、{c}；\n ") == [a, b, c]


def test_union_form_resolves_codes_within_scope(city, make_staff):
    user = make_staff("op", city.zhongshan, "operator")
    mine = EnterpriseFactory(org_unit=city.street_a, credit_code=make_credit_code(11))
    other = EnterpriseFactory(org_unit=city.street_b, credit_code=make_credit_code(12, region="210203"))
    data = {
        "name": "联合工会",
        "union_type": "joint",
        "org_unit": str(city.street_a.pk),
        "founded_on": "2020-01-01",
        "enterprise_codes": f"{mine.credit_code}, {mine.credit_code}",
    }
    form = UnionForm(data, user=user)
    assert form.is_valid(), form.errors
    assert form.enterprises == [mine]
    form = UnionForm({**data, "enterprise_codes": other.credit_code}, user=user)
    assert not form.is_valid()
    assert other.credit_code in form.errors["enterprise_codes"][0]
    assert "覆盖企业" in form.errors["enterprise_codes"][0]


def test_coverage_form_finds_only_visible_enterprises(city, make_staff):
    user = make_staff("op", city.zhongshan, "operator")
    other = EnterpriseFactory(org_unit=city.street_b, credit_code=make_credit_code(13, region="210203"))
    form = CoverageAddForm({"credit_code": other.credit_code, "valid_from": "2020-01-01"}, user=user)
    assert not form.is_valid() and "找不到" in form.errors["credit_code"][0]


def test_move_form_offers_parents_one_level_up_outside_the_unit(city, make_staff):
    user = make_staff("admin", city.zhongshan, "unit_admin")
    form = OrgUnitMoveForm(user=user, unit=city.community_a)
    assert list(form.fields["parent"].queryset) == [city.street_a]
