"""Checks on codes of the registry, with Chinese messages that say how to fix the value."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from stdnum import numdb
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from safetynet.core.normalize import clean_code


def normalize_credit_code(value: object) -> str:
    """The 18-character unified social credit code (GB 32100), checked with its check character."""
    code = clean_code(value)
    if not code:
        raise ValidationError("统一社会信用代码不能为空。", code="required")
    try:
        return uscc.validate(code)
    except InvalidLength:
        raise ValidationError(
            f"统一社会信用代码“{code}”有 {len(code)} 位，应为 18 位。", code="length"
        ) from None
    except InvalidChecksum:
        expected = uscc.calc_check_digit(code[:17]) if len(code) == 18 else "?"
        raise ValidationError(
            f"统一社会信用代码“{code}”的校验位不对：按前 17 位计算应为“{expected}”，请核对是否抄错。",
            code="checksum",
        ) from None
    except (InvalidFormat, InvalidComponent):
        raise ValidationError(
            f"统一社会信用代码“{code}”格式不对：只能含数字和大写字母（不含 I、O、Z、S、V）。", code="format"
        ) from None


def county_code_info(code: str) -> str | None:
    """The county-level name in python-stdnum's GB/T 2260 data for a 6-digit code, e.g. '[1991-2015]普兰店市'."""
    if len(code) != 6 or not code.isdigit():
        return None
    info = numdb.get("cn/loc").info(code)
    for _part, props in info[1:]:
        if "county" in props:
            return props["county"]
    return None


def validate_division_code(code: str, level: int) -> None:
    """Codes follow GB/T 2260 and the statistical division codes: 4/6 digits above, 9 for streets, 12 for communities."""
    allowed = {1: (4, 6), 2: (6,), 3: (9,), 4: (12,)}[level]
    if not code.isdigit() or len(code) not in allowed:
        lengths = " 或 ".join(str(n) for n in allowed)
        raise ValidationError(f"区划代码“{code}”应为 {lengths} 位数字。", code="division_code")
