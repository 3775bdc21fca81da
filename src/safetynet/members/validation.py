"""Checks on identity documents and phone numbers, with Chinese messages that say how to fix the value.

The resident ID number (居民身份证号码, GB 11643-1999) is 18 characters: a 6-digit address code, the birth
date YYYYMMDD, a 3-digit sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check character.
The address code names where the number was first issued; it must be a real division code of some year,
but it can be younger than its holder (district codes are renamed and re-issued), so it is never tied to
the birth year — python-stdnum's ``ric.validate`` does tie them, which is why we check the parts ourselves.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from stdnum import numdb
from stdnum.cn import ric

from safetynet.core.importing import NOT_WHOLE, number_cell_message, spreadsheet_number
from safetynet.core.normalize import clean_code, clean_name, clean_text

# The shared wording of a code typed or pasted as a spreadsheet number (see core.importing).
EXCEL_NUMBER_MESSAGE = "被表格软件当作数字保存了"
EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)
NAME_MAX_LENGTH = 50


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", "居民身份证"
    PASSPORT = "passport", "护照"
    HK_MACAO_PERMIT = "hk_macao_permit", "港澳居民来往内地通行证"
    TAIWAN_PERMIT = "taiwan_permit", "台湾居民来往大陆通行证"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class IdNumberError(ValidationError):
    """A refused identity document number; ``suggestion`` is a corrected number when one is computable."""

    def __init__(self, message: str, *, code: str, suggestion: str = "") -> None:
        super().__init__(message, code=code)
        self.suggestion = suggestion


@dataclass(frozen=True)
class IdentityInfo:
    """A checked document number and what a resident ID number tells about its holder."""

    id_type: str
    number: str
    birth_date: datetime.date | None = None
    sex: str = ""
    address_code: str = ""


# --- cleaning --------------------------------------------------------------------------------

_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?E\+?\d+$")


def _looks_like_excel_number(value: object) -> bool:
    """True when a spreadsheet turned the number into a float: the trailing digits are already lost."""
    if isinstance(value, bool):
        return False
    if isinstance(value, float | int) and not isinstance(value, bool):
        # A cell can hold 15 significant digits; an 18-digit number in a numeric cell has lost 3 of them.
        return len(str(int(value))) > 15
    text = clean_code(value)
    return bool(_SCIENTIFIC.match(text))


def clean_document_number(value: object) -> str:
    """Half-width, no spaces or separators, upper case ('x' → 'X'); raises on spreadsheet-mangled numbers."""
    if _looks_like_excel_number(value):
        # One wording everywhere (forms, API, imports): the cell as the spreadsheet shows it, what was lost.
        shown = spreadsheet_number(value) or clean_text(value)
        raise IdNumberError(number_cell_message("证件号码", shown), code="excel_number")
    return clean_code(value).replace("-", "").replace("(", "").replace(")", "")


# --- resident ID numbers ---------------------------------------------------------------------


def check_character(first_seventeen: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    return ric.calc_check_digit(first_seventeen + "0")


@functools.lru_cache(maxsize=8192)
def division_code_name(code: str) -> str | None:
    """The name of a 6-digit GB/T 2260 code valid in ANY year (python-stdnum's numdb ``cn/loc``), else None."""
    if len(code) != 6 or not code.isdigit():
        return None
    for _part, props in numdb.get("cn/loc").info(code)[1:]:
        if "county" in props:
            # '[1991-2015]普兰店市' or '[-1980]旅大市,[1981-]大连市': keep the names, drop the years.
            return ",".join(re.sub(r"^\[[^\]]*\]", "", name) for name in props["county"].split(","))
    return None


def _birth_date_problem(digits: str) -> tuple[datetime.date | None, str]:
    """The birth date of the 8 digits YYYYMMDD, or what is wrong with it."""
    year, month, day = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
    try:
        born = datetime.date(year, month, day)
    except ValueError:
        return None, f"出生日期 {digits} 不是有效日期（{year}年没有{month}月{day}日）"
    if born < EARLIEST_BIRTH_DATE or born > timezone.localdate():
        return None, f"出生日期 {born:%Y-%m-%d} 不可能（早于 1900 年或晚于今天）"
    return born, ""


def _birth_date(digits: str, where: str) -> datetime.date:
    born, problem = _birth_date_problem(digits)
    if born is None:
        raise IdNumberError(f"{where}有误：{problem}。请核对号码。", code="birth_date")
    return born


def convert_fifteen_digit(number: str) -> str:
    """The 18-digit number by the standard rule: '19' inserted before the 2-digit year, check appended."""
    body = number[:6] + "19" + number[6:]
    return body + check_character(body)


ADVICE = "请与本人居民身份证逐位核对。"


def resident_id_problems(number: str) -> list[tuple[str, str]]:
    """Everything wrong with a cleaned 18-character-or-not resident ID number, as (code, Chinese text):
    length and characters first; the birth date, check character and address code once those are right."""
    problems: list[tuple[str, str]] = []
    allowed = set("0123456789")
    wrong = [c for i, c in enumerate(number) if c not in allowed and not (c == "X" and i == len(number) - 1)]
    if len(number) != 18:
        problems.append(("length", f"证件号码应为 18 位，现为 {len(number)} 位"))
    if wrong:
        shown = "".join(f"“{c}”" for c in dict.fromkeys(wrong))
        problems.append(("format", f"只能由数字组成（最后一位可以是 X），不能含{shown}"))
    if problems:
        return problems
    born, problem = _birth_date_problem(number[6:14])
    if born is None:
        problems.append(("birth_date", problem))
    expected = check_character(number[:17])
    if number[17] != expected:
        hint = (
            "（末尾是 000，可能是 Excel 把号码当作数字截断了：请把该列设为文本后重新填写）"
            if number.endswith("000")
            else ""
        )
        problems.append(("checksum", f"按前 17 位计算校验码应为 {expected}，现为 {number[17]}{hint}"))
    if not problems and division_code_name(number[:6]) is None:
        problems.append(("address_code", f"前 6 位地址码 {number[:6]} 不是有效的行政区划代码"))
    return problems


def validate_resident_id(value: object) -> IdentityInfo:
    """A resident ID number checked character by character; raises :class:`IdNumberError` whose message says
    every thing that is wrong ("“12345”：证件号码应为 18 位，现为 5 位。…"), with the first one's code."""
    number = clean_document_number(value)
    if not number:
        raise IdNumberError("身份证号码不能为空。", code="required")
    if len(number) == 15 and number.isdigit():
        suggestion = ""
        try:
            _birth_date("19" + number[6:12], "15 位号码")
            suggestion = convert_fifteen_digit(number)
        except IdNumberError:
            pass
        hint = (
            f"按国家标准规则换算应为“{suggestion}”，但无法核实，请与本人身份证核对后填写"
            if suggestion
            else ""
        )
        raise IdNumberError(
            f"身份证号“{number}”是 15 位旧号码，请填写 18 位号码（本人到公安机关户籍窗口可查询；"
            f"{hint or '旧号码中的出生日期无效，无法换算'}）。",
            code="old_number",
            suggestion=suggestion,
        )
    problems = resident_id_problems(number)
    if problems:
        raise IdNumberError(
            f"“{number}”：{'；'.join(text for _code, text in problems)}。{ADVICE}", code=problems[0][0]
        )
    born = _birth_date(number[6:14], "身份证号")
    sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    return IdentityInfo(IdType.RESIDENT_ID, number, birth_date=born, sex=sex, address_code=number[:6])


# --- other identity documents ----------------------------------------------------------------

_PASSPORT = re.compile(r"^[A-Z0-9]{5,17}$")
_HK_MACAO = re.compile(r"^[HM]\d{8}(\d{2})?$")
_TAIWAN = re.compile(r"^\d{8}(\d{2}[A-Z]?)?$")

_OTHER_FORMATS = {
    IdType.PASSPORT: (_PASSPORT, "护照号码应为 5 至 17 位字母或数字"),
    IdType.HK_MACAO_PERMIT: (
        _HK_MACAO,
        "港澳居民来往内地通行证号码应为 H 或 M 加 8 位数字（旧证为 10 位数字）",
    ),
    IdType.TAIWAN_PERMIT: (
        _TAIWAN,
        "台湾居民来往大陆通行证号码应为 8 位数字（旧证为 10 位数字，可带 1 位字母）",
    ),
}


def validate_identity(id_type: str, value: object) -> IdentityInfo:
    """Any accepted identity document: the resident ID number, or a typed alternative with its own format."""
    if id_type == IdType.RESIDENT_ID:
        return validate_resident_id(value)
    if id_type not in _OTHER_FORMATS:
        raise IdNumberError(f"不支持的证件类型“{id_type}”。", code="id_type")
    number = clean_document_number(value)
    if not number:
        raise IdNumberError("证件号码不能为空。", code="required")
    pattern, rule = _OTHER_FORMATS[IdType(id_type)]
    if not pattern.match(number) or (id_type == IdType.PASSPORT and not any(c.isdigit() for c in number)):
        raise IdNumberError(f"证件号码“{number}”格式不对：{rule}。", code="format")
    return IdentityInfo(id_type, number)


# --- names ----------------------------------------------------------------------------------


def clean_person_name(value: object) -> str:
    """A person's name as typed (no width folding: "阿依古丽·买买提" keeps its dot), on one line; the same
    rule and messages for the forms, the API (through the services) and the roster import."""
    name = clean_name(value)
    if not name:
        raise ValidationError("姓名不能为空，请填写。", code="name_required")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            f"姓名有 {len(name)} 个字，最多 {NAME_MAX_LENGTH} 个字，请核对。", code="name_length"
        )
    return name


# --- phones ----------------------------------------------------------------------------------

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Area codes: 010 and 020–029 have three digits, every other one four; local numbers 7 or 8 digits.
_LANDLINE = re.compile(r"^(0[12]\d)(\d{8})$|^(0[3-9]\d{2})(\d{7,8})$")


def normalize_phone(value: object) -> str:
    """A mobile (11 digits starting with 1) or a landline with its area code, digits only; '' when empty.

    '+86 138-0000-0000', '0086 13800000000', '(0411) 8234 5678' are all accepted.
    """
    if isinstance(value, float) and not value.is_integer():
        raise ValidationError(
            number_cell_message("电话号码", spreadsheet_number(value) or str(value), NOT_WHOLE),
            code="excel_number",
        )
    text = clean_code(value)
    if not text:
        return ""
    if _SCIENTIFIC.match(text):
        raise ValidationError(number_cell_message("电话号码", text), code="excel_number")
    digits = re.sub(r"[\s\-()（）.]", "", text)
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isdigit():
        raise ValidationError(f"电话号码“{text}”只能含数字（可带 +86、空格和短横线）。", code="phone_format")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if _MOBILE.match(digits) or _LANDLINE.match(digits):
        return digits
    raise ValidationError(
        f"电话号码“{text}”不对：手机号应为 1 开头的 11 位数字，固定电话应带区号（如 0411-82345678）。",
        code="phone_format",
    )


# --- masking ---------------------------------------------------------------------------------


def mask_id_number(number: str) -> str:
    """First 6 and last 4 characters visible: 210202********8014. Short numbers keep only their last 2."""
    if len(number) > 10:
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    return "*" * max(len(number) - 2, 0) + number[-2:]


def mask_phone(number: str) -> str:
    """First 3 and last 4 digits visible: 138****0000 (a landline shows its area code)."""
    if not number:
        return ""
    if len(number) > 7:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    return "*" * (len(number) - 2) + number[-2:]
