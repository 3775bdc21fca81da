"""Cleaning what people type and what spreadsheets hold: full-width characters, stray spaces, dates."""

from __future__ import annotations

import datetime
import re
import unicodedata

_SPACES = re.compile(r"\s+")
_DATE_PATTERNS = [
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
]


def clean_text(value: object) -> str:
    """Full-width letters and digits to half-width (NFKC), every run of whitespace to one space, trimmed.

    For codes, numbers, dates, choices and search terms only: NFKC also turns Chinese full-width punctuation
    (：，（）) into ASCII, so what people wrote is stored with :func:`clean_free_text` or :func:`clean_name`.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value))
    return _SPACES.sub(" ", text).strip()


def clean_free_text(value: object) -> str:
    """What a person wrote (a statement, a note, a reason), stored exactly as typed: only the whitespace
    around it goes, and Windows/old-Mac line endings (CR LF, CR) become LF. No width folding: "：，（）１２３"
    stay as they were typed."""
    if value is None:
        return ""
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def clean_name(value: object) -> str:
    """A name of a person as typed, on one line: outer whitespace trimmed, runs of whitespace inside (a
    line break pasted from a spreadsheet cell, a doubled space) made one space. No width folding."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def clean_code(value: object) -> str:
    """A code (credit code, division code, ID number): half-width, no spaces at all, upper case."""
    return clean_text(value).replace(" ", "").upper()


def parse_date(value: object) -> datetime.date:
    """A date from a cell: a spreadsheet date, or YYYY-MM-DD, YYYY/MM/DD, YYYY年MM月DD日.

    Raises ValueError with a Chinese message.
    """
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = clean_text(value).replace(" ", "")
    # A datetime written as text by a spreadsheet ("2012-01-01 00:00:00") keeps only its date.
    text = re.sub(r"[T ]?00:00(:00)?$", "", text)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return datetime.date(year, month, day)
            except ValueError:
                raise ValueError(f"“{text}”不是有效日期（{year}年没有{month}月{day}日）") from None
    raise ValueError(f"“{text}”不是可识别的日期，请写成 2012-03-15、2012/03/15 或 2012年03月15日")


def parse_yes_no(value: object) -> bool:
    text = clean_text(value)
    if text in {"是", "Y", "y", "1", "TRUE", "True", "true", "√"}:
        return True
    if text in {"否", "N", "n", "0", "FALSE", "False", "false", "", "×"}:
        return False
    raise ValueError(f"“{text}”应填“是”或“否”")


def chinese(label: object) -> str:
    """A label in the product's own language (zh-hans), whatever language the request is in: what files,
    exports, the audit trail and service messages hold must not change with a user's language switch."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        return str(label)
