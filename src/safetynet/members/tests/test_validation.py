"""Identity documents, phones and masks: the GB 11643 rules, with property-based tests."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from safetynet.members.tests.factories import make_id_number
from safetynet.members.validation import (
    EXCEL_NUMBER_MESSAGE,
    IdNumberError,
    IdType,
    Sex,
    check_character,
    convert_fifteen_digit,
    division_code_name,
    mask_id_number,
    mask_phone,
    normalize_phone,
    validate_identity,
    validate_resident_id,
)

# Real county-level codes of several provinces and years, including retired ones (普兰店市 1991–2015).
ADDRESS_CODES = ["210202", "210203", "210282", "210214", "110101", "110103", "310115", "440305", "650102"]
VALID_DATES = st.dates(min_value=datetime.date(1920, 1, 1), max_value=datetime.date(2008, 12, 31))


@st.composite
def id_numbers(draw) -> tuple[str, datetime.date, int]:
    address = draw(st.sampled_from(ADDRESS_CODES))
    born = draw(VALID_DATES)
    sequence = draw(st.integers(min_value=0, max_value=999))
    return make_id_number(sequence, address=address, born=born), born, sequence


@given(id_numbers())
def test_any_valid_number_round_trips_with_birth_date_and_sex(case):
    number, born, sequence = case
    info = validate_resident_id(number)
    assert info.number == number
    assert info.birth_date == born
    assert info.sex == (Sex.MALE if sequence % 2 else Sex.FEMALE)
    assert info.address_code == number[:6]
    # Lower-case x, full-width digits and stray spaces mean the same number.
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c.lower() for c in number)
    assert validate_resident_id(f"  {fullwidth[:6]} {fullwidth[6:]} ").number == number


@given(id_numbers(), st.integers(min_value=0, max_value=17), st.sampled_from("0123456789XA"))
def test_any_single_character_change_is_rejected(case, position, replacement):
    number = case[0]
    if number[position] == replacement:
        replacement = "1" if replacement != "1" else "2"
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(IdNumberError):
        validate_resident_id(changed)


@given(id_numbers())
@settings(max_examples=50)
def test_check_character_agrees_with_python_stdnum(case):
    number = case[0]
    assert ric.calc_check_digit(number) == number[-1] == check_character(number[:17])


def test_sample_numbers_of_the_contract():
    assert validate_resident_id("210202198003158014").sex == Sex.MALE
    assert validate_resident_id("210202199003158027").birth_date == datetime.date(1990, 3, 15)


def test_bad_check_character_names_the_right_one():
    with pytest.raises(IdNumberError) as exc:
        validate_resident_id("210202198003158010")
    assert exc.value.code == "checksum"
    assert "按前 17 位计算校验码应为 4，现为 0" in exc.value.messages[0]


def test_impossible_birth_date():
    body = "21020219900231001"  # 31 February
    with pytest.raises(IdNumberError) as exc:
        validate_resident_id(body + check_character(body))
    assert exc.value.code == "birth_date"
    assert "2月31日" in exc.value.messages[0]
    future = f"210202{timezone.localdate().year + 1}0101001"
    with pytest.raises(IdNumberError, match="不可能"):
        validate_resident_id(future + check_character(future))


def test_address_code_must_be_real_but_not_tied_to_birth_year():
    # 普兰店区 (210214) exists only since 2015; a worker born in 1970 may hold a number issued there.
    assert validate_resident_id(make_id_number(11, address="210214", born=datetime.date(1970, 5, 1)))
    # 普兰店市 (210282) was retired in 2015; its numbers stay valid.
    assert validate_resident_id(make_id_number(11, address="210282", born=datetime.date(2000, 5, 1)))
    assert not ric.is_valid(make_id_number(11, address="210214", born=datetime.date(1970, 5, 1)))
    with pytest.raises(IdNumberError) as exc:
        validate_resident_id(make_id_number(11, address="219999"))
    assert exc.value.code == "address_code"
    assert division_code_name("210282") == "普兰店市"


def test_fifteen_digit_number_is_rejected_with_the_converted_suggestion():
    old = "210202800315801"
    with pytest.raises(IdNumberError) as exc:
        validate_resident_id(old)
    assert exc.value.code == "old_number"
    assert exc.value.suggestion == convert_fifteen_digit(old)
    assert exc.value.suggestion.startswith("21020219800315801")
    assert validate_resident_id(exc.value.suggestion)
    assert "15 位旧号码" in exc.value.messages[0] and exc.value.suggestion in exc.value.messages[0]


@pytest.mark.parametrize(
    "value", ["2.10202E+17", "2.10202198003158E+17", 2.10202198003158e17, 210202198003158016.0]
)
def test_excel_scientific_notation_is_rejected(value):
    with pytest.raises(IdNumberError) as exc:
        validate_resident_id(value)
    assert exc.value.code == "excel_number"
    assert EXCEL_NUMBER_MESSAGE in exc.value.messages[0]


def test_wrong_length_and_format():
    with pytest.raises(IdNumberError, match="证件号码应为 18 位，现为 16 位"):
        validate_resident_id("2102021990031580")
    with pytest.raises(IdNumberError, match="不能含“A”"):
        validate_resident_id("21020219900315802A")
    with pytest.raises(IdNumberError, match="不能为空"):
        validate_resident_id("  ")


def test_other_documents_have_their_own_formats():
    assert validate_identity(IdType.PASSPORT, "e1234 5678").number == "E12345678"
    assert validate_identity(IdType.HK_MACAO_PERMIT, "H12345678").number == "H12345678"
    assert validate_identity(IdType.TAIWAN_PERMIT, "12345678").number == "12345678"
    assert validate_identity(IdType.TAIWAN_PERMIT, "1234567890(B)").number == "1234567890B"
    for id_type, bad in [
        (IdType.PASSPORT, "ABCDEFG"),
        (IdType.HK_MACAO_PERMIT, "X12345678"),
        (IdType.TAIWAN_PERMIT, "1234567"),
        (IdType.PASSPORT, "E1"),
    ]:
        with pytest.raises(IdNumberError, match="格式不对"):
            validate_identity(id_type, bad)
    assert validate_identity(IdType.PASSPORT, "E12345678").birth_date is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("138 0000 0000", "13800000000"),
        ("+86 138-0000-0000", "13800000000"),
        ("008613800000000", "13800000000"),
        ("8613800000000", "13800000000"),
        ("１３８００００００００", "13800000000"),
        (13800000000.0, "13800000000"),
        ("0411-82345678", "041182345678"),
        ("(010) 1234 5678", "01012345678"),
        ("", ""),
    ],
)
def test_phone_is_normalised(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw", ["12800000000", "1380000000", "82345678", "138000000001", "phone", "1.38E+10"]
)
def test_bad_phones_are_rejected(raw):
    with pytest.raises(ValidationError):
        normalize_phone(raw)


def test_masks():
    assert mask_id_number("210202198003158014") == "210202********8014"
    assert mask_id_number("E12345678") == "*******78"
    assert mask_phone("13800000000") == "138****0000"
    assert mask_phone("041182345678") == "041*****5678"
    assert mask_phone("") == ""
