"""Importing the spreadsheets people bring (CSV or XLSX, Chinese header row): the generic framework.

Each kind of file (``units``, ``enterprises``, ...) is an :class:`Importer` subclass that an app registers
with :func:`register_importer` in its ``importers`` module; :func:`autodiscover` imports those modules.

The run (:func:`run_import`) has four steps:

1. read: the file is opened by content (a zip is XLSX, anything else textual is CSV), the first non-empty row
   is the header, every later non-empty row goes through ``Importer.clean_row`` (no database access);
2. check: ``Importer.check`` looks at all cleaned rows at once (duplicates in the file, lookups in the
   database in a few queries) and marks each record ``create``, ``update`` or ``unchanged``; rows that
   already have mistakes are looked up too, so that every mistake of a row is reported at once;
3. save (unless ``dry_run``, and only when no row was rejected or ``keep_valid`` is set): ``Importer.save``
   writes the valid records set-based, in one transaction;
4. report: an :class:`ImportResult` with the counts, the rejected rows (row number as the spreadsheet shows
   it, column, Chinese reason) and ``write_error_file``.

Files of up to millions of rows (the member roster) use a :class:`StreamingImporter` instead: the file is
read twice, checked in batches in the first pass and written in batches in the second, so memory does not
grow with the file. ``run_import`` is the same for both kinds.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import decimal
import gc
import importlib
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.module_loading import module_has_submodule

from safetynet.core.normalize import clean_code, clean_name, clean_text, parse_date, parse_yes_no
from safetynet.core.scope import user_scope_path
from safetynet.core.writes import after_write_schedule

Progress = Callable[[str, int, int | None], None]

ERROR_ROW_HEADER = "行号"
ERROR_REASON_HEADER = "错误原因"
PROGRESS_EVERY = 5000

# What Excel writes for a number too long to show: 9.1210202E+17, 1.10101E+17. Excel always writes the
# point or the sign: without them "91210202E015811284" is a real credit code, not a mangled number.
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d*E[+-]?|E[+-])\d+$")
# Excel keeps 15 significant digits of a number: longer codes typed as numbers have lost their tail.
_EXACT_DIGITS = 15
_CSV_DELIMITERS = (",", "\t", ";")


class ImportUnusable(Exception):
    """The file or the arguments cannot be used at all: nothing is read or saved (exit code 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- the registry of kinds ---------------------------------------------------------------------

_REGISTRY: dict[str, type[Importer]] = {}


def register_importer(kind: str, importer_class: type[Importer]) -> None:
    """Make ``safetynet import KIND`` use this importer. Registering the same class again is harmless."""
    _REGISTRY[kind] = importer_class


def autodiscover() -> None:
    """Import ``<app>.importers`` for every installed safetynet app, so each registers its kinds."""
    for config in apps.get_app_configs():
        if not config.name.startswith("safetynet."):
            continue
        if module_has_submodule(config.module, "importers"):
            # Errors inside an existing importers module are real bugs: let them surface.
            importlib.import_module(f"{config.name}.importers")


def known_kinds() -> dict[str, str]:
    """Kind → its Chinese label, in registration order."""
    return {kind: importer.label for kind, importer in _REGISTRY.items()}


def get_importer(kind: str) -> type[Importer]:
    try:
        return _REGISTRY[kind]
    except KeyError:
        listed = "、".join(f"{k}（{label}）" for k, label in known_kinds().items()) or "（无）"
        raise ImportUnusable(f"未知的导入类型“{kind}”。可用的类型：{listed}。") from None


# --- columns, rows, records, errors --------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of the file: ``key`` for the program, ``header`` as people write it (plus ``aliases``)."""

    key: str
    header: str
    required: bool = False
    aliases: tuple[str, ...] = ()


def clean_cell(value: object) -> str:
    """Exactly :func:`safetynet.core.normalize.clean_text`, several times faster on the usual cells.

    A million-row file has ten million cells: plain text that is already half-width (ASCII, or NFKC-normal)
    and has no whitespace to fold skips the normalisation and the regular expression.
    """
    if type(value) is str:
        if not value.isascii() and not unicodedata.is_normalized("NFKC", value):
            value = unicodedata.normalize("NFKC", value)
        if value.isalnum():
            return value
        # str.split() folds exactly the characters the regular expression \s+ of clean_text matches.
        return " ".join(value.split())
    return clean_text(value)


def header_key(value: object) -> str:
    """A header cell made comparable: half-width, no spaces, no required-marks such as ``*`` or ``（必填）``."""
    text = clean_text(value).replace(" ", "")
    text = re.sub(r"\(必填\)$", "", text)
    return text.strip("*")


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"第 {self.row} 行，列“{self.column}”：{self.message}"


@dataclass(eq=False)
class Record:
    """One cleaned row. ``action`` is set by the importer's check: ``create``, ``update`` or ``unchanged``.

    ``ok`` is False when cleaning already found errors; such records are still handed to ``check`` so that
    duplicates in the file can name every row involved and the lookups (区划代码, credit codes) report the
    row's other mistakes too, but they are never saved.
    """

    row: int
    data: dict[str, Any]
    ok: bool = True
    action: str = ""
    target: Any = None
    changes: dict[str, Any] = field(default_factory=dict)


class Issues:
    """The rejected rows and their reasons."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.rejected: set[int] = set()
        # row → the columns (headers) with an error: a later check skips a value that is already wrong.
        self.columns: dict[int, set[str]] = {}

    def add(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row, column, message))
        self.rejected.add(row)
        self.columns.setdefault(row, set()).add(column)

    def __bool__(self) -> bool:
        return bool(self.errors)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Row:
    """A data row with typed accessors. Each accessor records a Chinese error on a bad value and returns None."""

    __slots__ = ("_cells", "_columns", "_index", "errors", "number")

    def __init__(
        self, number: int, cells: list[Any], index: dict[str, int], columns: dict[str, Column]
    ) -> None:
        self.number = number
        self._cells = cells
        self._index = index
        self._columns = columns
        self.errors: list[RowError] = []

    # plumbing
    @property
    def cells(self) -> list[Any]:
        """The cells as read (for importers' fast paths; the typed accessors below are the normal way)."""
        return self._cells

    @property
    def positions(self) -> dict[str, int]:
        """Column key → position of the column in the row, for the columns the file has."""
        return self._index

    def has(self, key: str) -> bool:
        """Whether the file has this column at all (an absent optional column leaves stored values alone)."""
        return key in self._index

    def raw(self, key: str) -> Any:
        position = self._index.get(key)
        if position is None or position >= len(self._cells):
            return ""
        value = self._cells[position]
        return "" if value is None else value

    def error(self, key: str, message: str) -> None:
        self.errors.append(RowError(self.number, self._columns[key].header, message))

    def _empty(self, key: str, required: bool) -> None:
        if required:
            self.error(key, f"{self._columns[key].header}不能为空，请填写。")

    # typed values
    def text(
        self, key: str, *, required: bool = False, max_length: int | None = None, as_typed: bool = False
    ) -> str | None:
        """``as_typed`` for what people wrote (addresses, persons' names): no width folding, see clean_name."""
        value = clean_name(self.raw(key)) if as_typed else clean_cell(self.raw(key))
        if not value:
            self._empty(key, required)
            return None if required else ""
        if max_length is not None and len(value) > max_length:
            self.error(key, f"内容有 {len(value)} 个字，最多 {max_length} 个字，请缩短。")
            return None
        return value

    def code(self, key: str, *, required: bool = False, what: str = "") -> str | None:
        """A code kept as text. A code that a spreadsheet stored as a number is refused when digits may be lost
        (:func:`number_cell_problem`; ``what`` names the code in the message, by default the column's header)."""
        value = self.raw(key)
        if isinstance(value, bool):
            self.error(key, f"“{value}”不是代码，请填写代码。")
            return None
        problem = number_cell_problem(value, what or self._columns[key].header)
        if problem:
            self.error(key, problem)
            return None
        if _is_number(value):
            value = int(value)
        text = clean_cell(value).replace(" ", "").upper()
        if not text:
            self._empty(key, required)
            return None if required else ""
        return text

    def phone(self, key: str, *, max_length: int = 30, what: str = "") -> str | None:
        """A phone number kept as text; one a spreadsheet stored as a number is taken only when it is whole
        and can be a mobile number (a landline stored as a number has lost its leading 0)."""
        value = self.raw(key)
        what = what or self._columns[key].header
        if isinstance(value, bool):
            self.error(key, f"“{value}”不是电话号码，请填写电话号码。")
            return None
        problem = number_cell_problem(value, what)
        if problem:
            self.error(key, problem)
            return None
        if _is_number(value):
            digits = format(int(value), "d")
            if not digits.startswith("1"):
                self.error(key, number_cell_message(what, digits, LOST_LEADING_ZERO))
                return None
            return digits
        return self.text(key, max_length=max_length)

    def integer(self, key: str, *, required: bool = False, default: int | None = 0) -> int | None:
        value = self.raw(key)
        header = self._columns[key].header
        if isinstance(value, bool):
            self.error(key, f"“{value}”不是人数，请填写不小于 0 的整数。")
            return None
        if _is_number(value):
            number: float | int = value
        else:
            text = clean_code(value).replace(",", "")
            if not text:
                self._empty(key, required)
                return None if required else default
            try:
                number = int(text)
            except ValueError:
                try:
                    number = float(text)
                except ValueError:
                    self.error(key, f"“{clean_text(value)}”不是数字，{header}应填不小于 0 的整数。")
                    return None
        if isinstance(number, float) and not number.is_integer():
            self.error(key, f"“{clean_text(value)}”不是整数，{header}应填不小于 0 的整数。")
            return None
        number = int(number)
        if number < 0:
            self.error(key, f"“{number}”是负数，{header}应填不小于 0 的整数。")
            return None
        return number

    def date(self, key: str, *, required: bool = False) -> datetime.date | None:
        value = self.raw(key)
        if _is_number(value):
            self.error(
                key,
                f"“{clean_text(value)}”是数字而不是日期：请把该列设置为日期格式，或写成 2012-03-15、2012/03/15、"
                "2012年03月15日。",
            )
            return None
        if isinstance(value, datetime.time | datetime.timedelta):
            self.error(key, f"“{value}”是时间而不是日期，请写成 2012-03-15。")
            return None
        if not isinstance(value, datetime.date) and not clean_text(value):
            self._empty(key, required)
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            self.error(key, f"{exc}。")
            return None

    def yes_no(self, key: str, *, default: bool = False) -> bool | None:
        value = self.raw(key)
        if not clean_text(value):
            return default
        try:
            return parse_yes_no(value)
        except ValueError as exc:
            self.error(key, f"{exc}。")
            return None

    def choice(self, key: str, mapping: dict[str, Any], *, required: bool = False, hint: str = "") -> Any:
        """A value from a fixed list, matched after removing spaces; ``hint`` lists what may be written."""
        text = clean_cell(self.raw(key)).replace(" ", "")
        if not text:
            self._empty(key, required)
            return None
        if text in mapping:
            return mapping[text]
        self.error(key, f"“{text}”不是可选的值，应填{hint or '、'.join(mapping)}之一。")
        return None


# --- codes that a spreadsheet stored as numbers ----------------------------------------------------
#
# A credit code, ID number, phone or division code typed into a cell of the General format becomes a
# number: 15 significant digits are kept (an 18-digit code loses its tail), a leading 0 is dropped, and a
# CSV saved from such a sheet holds "9.12102111000002E+017". Every importer words this the same way, and
# shows the cell as the spreadsheet shows it, never the float expanded into a plausible-looking code.

LOST_DIGITS = "，数字最多只保留 15 位有效数字，后几位已经丢失"
LOST_LEADING_ZERO = "，开头的 0 已经丢失"
NOT_WHOLE = "，带有小数"


def spreadsheet_number(value: object) -> str | None:
    """How a spreadsheet shows a cell holding a number ("2.1020319600101E+17", "13800001111"), also a text
    cell in scientific notation as a CSV saved from a sheet has it; None for any other cell."""
    if _is_number(value):
        return format(float(value), ".15G") if isinstance(value, float) else format(value, "d")
    if type(value) is str and "E" in value.upper():
        text = clean_cell(value).replace(" ", "").upper()
        if _SCIENTIFIC.match(text):
            return text
    return None


def number_cell_message(what: str, shown: str, why: str = LOST_DIGITS) -> str:
    """The one message for a code column read as a number: ``what`` names the code (统一社会信用代码,
    身份证号, 手机号, 区划代码), ``shown`` is the cell as the spreadsheet shows it, ``why`` what was lost."""
    return (
        f"{what}被表格软件当作数字保存了（显示为“{shown}”）{why}。"
        f"请把该列设置为“文本”格式，重新填写完整的{what}后再导入。"
    )


def number_cell_problem(value: object, what: str) -> str | None:
    """The message for a cell whose number cannot be the code it stood for: digits lost (15 significant
    digits at most, or written in scientific notation) or a fraction; None for any other cell, including a
    whole number short enough to be exact (the caller takes it as its digits)."""
    shown = spreadsheet_number(value)
    if shown is None:
        return None
    if not _is_number(value):
        return number_cell_message(what, shown)  # scientific notation in a text cell
    if isinstance(value, float) and not value.is_integer():
        return number_cell_message(what, shown, NOT_WHOLE)
    if abs(int(value)) >= 10**_EXACT_DIGITS:
        return number_cell_message(what, shown)
    return None


LOOKUP_CHUNK = 900


def chunked(items: list[Any], size: int = LOOKUP_CHUNK) -> Iterator[list[Any]]:
    """``items`` in slices of ``size``: the lookups of a file's codes go to the database a slice at a time
    (SQLite allows 32,766 parameters to a statement)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- importers ---------------------------------------------------------------------------------


class Importer:
    """One kind of file. Subclasses set ``kind``, ``label``, ``columns`` and implement the three steps."""

    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""
    columns: ClassVar[tuple[Column, ...]] = ()
    # Besides "import", what the acting user must be allowed (e.g. "edit_units").
    capabilities: ClassVar[tuple[str, ...]] = ("import",)

    def __init__(
        self,
        *,
        actor: Any,
        today: datetime.date,
        present: frozenset[str],
        issues: Issues,
        progress: Progress | None = None,
    ) -> None:
        self.actor = actor
        self.today = today
        self.present = present
        self.issues = issues
        self._progress = progress
        # "" sees everything: the system (no actor) or a superuser without a unit.
        self.scope_path: str = "" if actor is None else (user_scope_path(actor) or "")
        self._headers = {column.key: column.header for column in self.columns}

    # --- to implement
    def clean_row(self, row: Row) -> Record | None:
        """Clean one row without touching the database. Return a Record even for a row with mistakes (the
        values that were wrong are None), so that ``check`` reports its other mistakes too; None drops it."""
        raise NotImplementedError

    def check(self, records: list[Record]) -> None:
        """Check all records set-based (duplicates, lookups); set each valid record's ``action``."""
        raise NotImplementedError

    def save(self, records: list[Record]) -> None:
        """Write the valid records (called inside a transaction). May ``reject`` a record it cannot save."""
        raise NotImplementedError

    # --- helpers for subclasses
    def header(self, key: str) -> str:
        return self._headers[key]

    def reject(self, record: Record, key: str, message: str) -> None:
        self.issues.add(record.row, self.header(key), message)
        record.ok = False

    def valid(self, records: Iterable[Record]) -> list[Record]:
        return [r for r in records if r.ok and r.row not in self.issues.rejected]

    def alive(self, record: Record) -> bool:
        """Whether the record may still be saved (no error on its row so far)."""
        return record.ok and record.row not in self.issues.rejected

    def failed(self, record: Record, *keys: str) -> bool:
        """Whether the row already has an error in one of these columns (its value there is None or unusable).

        A row with mistakes still goes through every check of ``check`` that its other values allow, so
        that all its mistakes are reported at once (people fix a file once, not once per mistake).
        """
        columns = self.issues.columns.get(record.row)
        return bool(columns) and any(self._headers[key] in columns for key in keys)

    def in_scope(self, path: str) -> bool:
        return path.startswith(self.scope_path)

    def progress(self, stage: str, done: int, total: int | None) -> None:
        if self._progress is not None:
            self._progress(stage, done, total)

    def reject_duplicates(
        self,
        records: Iterable[Record],
        key: Callable[[Record], Any],
        column: str,
        describe: Callable[[Any], str],
    ) -> None:
        """Rows of the file with the same key: every one of them is rejected, naming the others."""
        rows_by_key: dict[Any, list[Record]] = {}
        for record in records:
            value = key(record)
            if value:
                rows_by_key.setdefault(value, []).append(record)
        for value, group in rows_by_key.items():
            if len(group) < 2:
                continue
            for record in group:
                others = "、".join(str(r.row) for r in group if r is not record)
                self.reject(
                    record,
                    column,
                    f"{describe(value)}在本文件中重复出现（另见第 {others} 行），请只保留一行。",
                )


class StreamingImporter(Importer):
    """An importer for files of up to millions of rows, read twice so that memory stays bounded.

    Pass 1 cleans the rows and hands them to ``check_batch`` in batches of ``batch_size``; the importer
    checks them against the database (a few queries per batch) and keeps only what its checks across rows
    need, compactly. ``finish_check`` then runs those checks and decides each row's action. Pass 2 (only
    when saving) reads the file again, cleans the rows that were not rejected once more and hands them to
    ``save_batch`` inside the one transaction; ``finish_save`` ends it. ``counts`` gives the actions.
    """

    batch_size: ClassVar[int] = 20000

    def check_batch(self, records: list[Record]) -> None:
        raise NotImplementedError

    def finish_check(self) -> None:
        raise NotImplementedError

    def save_batch(self, records: list[Record]) -> None:
        raise NotImplementedError

    def finish_save(self) -> None:
        """Called once after the last ``save_batch`` (audit rows, statistics)."""

    def abandon_save(self) -> None:
        """Called instead of ``finish_save`` when pass 2 fails, before the transaction is rolled back
        (e.g. to stop a writer thread)."""

    def counts(self) -> tuple[int, int, int]:
        """(created, updated, unchanged) among the rows not rejected."""
        raise NotImplementedError


# --- fast writing helpers for importers ----------------------------------------------------------

_PLAIN_FIELDS = (
    models.IntegerField,
    models.ForeignKey,
    models.CharField,
    models.TextField,
    models.BooleanField,
)


def insert_rows(model: type[models.Model], fields: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert plain rows (no primary keys needed back) with one ``executemany`` per batch.

    For the big secondary tables of an import (history rows) this is several times cheaper than
    ``bulk_create``, which compiles every value of every row. Values go through the fields' own database
    preparation where they need one (dates, JSON), so it works on SQLite and PostgreSQL alike.
    """
    if not rows:
        return
    meta = model._meta
    model_fields = [meta.get_field(name) for name in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES ({placeholders})"
    prepared = [(i, f) for i, f in enumerate(model_fields) if not isinstance(f, _PLAIN_FIELDS)]
    if prepared:
        rows = [list(row) for row in rows]
        for row in rows:
            for i, model_field in prepared:
                row[i] = model_field.get_db_prep_save(row[i], connection)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start : start + 5000])


def copy_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
    """PostgreSQL only: plain rows (values in the order of ``fields``, attribute names such as ``unit_id``; Python
    numbers, strings, dates, bytes, booleans or None) written by COPY in its binary format, streamed. Returns
    the rows written. Runs inside the caller's transaction, on its connection: ``rows`` must not read from the
    database while the COPY is open.

    Binary skips turning every value into text and parsing it back: 9,780 of the indicator counters' unit runs
    took 53 ms against 70 ms through COPY's text format built in Python (``bench/bench_copy_formats.py``)."""
    meta = model._meta
    quote = connection.ops.quote_name
    model_fields = [meta.get_field(name) for name in fields]
    columns = ", ".join(quote(f.column) for f in model_fields)
    # A binary value must be of the column's exact type (eight bytes for a bigint, four for an integer), so the
    # types come from the columns, not from the Python values: "varchar(8)" is psycopg's "varchar".
    types = [f.db_type(connection).split("(")[0] for f in model_fields]
    written = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
                written += 1
    return written


def snapshotter(model: type[models.Model], fields: Iterable[str]) -> Callable[[models.Model], dict[str, Any]]:
    """A function giving exactly what ``core.services.audit_snapshot(instance, fields)`` gives, with the field
    lookups done once: for 200,000 imported rows the per-row lookups are what costs."""
    plan = []
    for name in fields:
        model_field = model._meta.get_field(name)
        choices = dict(model_field.flatchoices) if getattr(model_field, "choices", None) else None
        plan.append((name, choices))

    def snapshot(instance: models.Model) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, choices in plan:
            value = getattr(instance, name)
            if choices is not None and value not in (None, ""):
                value = f"{choices.get(value, value)}"
            if isinstance(value, models.Model):
                value = str(value)
            elif isinstance(value, datetime.date):
                value = value.isoformat()
            elif isinstance(value, decimal.Decimal):
                value = str(value)
            result[name] = value
        return result

    return snapshot


# --- checking a file before reading it -------------------------------------------------------------
#
# A file is refused before any parser sees it when it is too big, or when it is an XLSX (a zip of XML) that
# unpacks to far more than a spreadsheet could (a "zip bomb"), lies about its sizes, or carries an XML
# document type declaration (the "billion laughs": entities that expand to gigabytes). Excel never writes a
# DOCTYPE. The check streams each member in 1 MB pieces, so its memory does not grow with the file.

_MB = 1024 * 1024
# Defaults of the settings IMPORT_MAX_MB and IMPORT_MAX_UNPACKED_MB (see settings.py and the README): a
# million-row roster is about 110 MB as CSV, and its sheet unpacks to 300–600 MB of XML.
DEFAULT_MAX_MB = 200
DEFAULT_MAX_UNPACKED_MB = 2000
# Spreadsheet XML compresses 5–20 times (a roster of identical rows: 17 times); deflate at its most ~1000.
MAX_COMPRESSION_RATIO = 200
# Small members (styles, themes) may compress better than sheets; their ratio does not matter.
RATIO_APPLIES_ABOVE = 1 * _MB
MAX_ZIP_MEMBERS = 10_000
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_CHUNK = 1 * _MB
# A DTD, in the encodings XML may use (Excel writes UTF-8; UTF-16 is legal XML).
_DTD_MARKS = tuple(
    mark.encode(encoding)
    for mark in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
_MARK_OVERLAP = max(len(mark) for mark in _DTD_MARKS)


def max_file_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_MB", DEFAULT_MAX_MB)) * _MB


def _megabytes(size: int) -> str:
    return f"{size / _MB:,.1f} MB"


def size_problem(name: str, size: int, *, limit_bytes: int | None = None) -> str | None:
    """The Chinese reason a file of ``size`` bytes is too big to import, or None."""
    limit = max_file_bytes() if limit_bytes is None else limit_bytes
    if size <= limit:
        return None
    return (
        f"文件“{name}”有 {_megabytes(size)}，超过了导入文件 {limit // _MB} MB 的上限，未读取。"
        "请把数据分成几个文件分别导入（每个文件保留表头）。"
    )


class _Refused(Exception):
    """A member of a zip that must not be read; ``reason`` completes the Chinese sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def xlsx_problem(source: Any, name: str, *, thorough: bool = True) -> str | None:
    """Why an XLSX (a path or a seekable binary file) must not be parsed, in Chinese; None when it may be.

    Reads the zip directory, then every XML member once, unpacking it here in 1 MB pieces: it must unpack
    to exactly the size and checksum it declares, all of them within ``IMPORT_MAX_UNPACKED_MB`` and
    ``MAX_COMPRESSION_RATIO``, and no member may declare a DTD. Not ``thorough`` (the upload form, which
    answers at once): the directory and the first 64 KB of each member, where a DTD stands in any file a
    program wrote; the run then checks thoroughly before anything parses the file.
    """
    limit = int(getattr(settings, "IMPORT_MAX_UNPACKED_MB", DEFAULT_MAX_UNPACKED_MB)) * _MB
    damaged = f"文件“{name}”不是可读取的 XLSX 表格（压缩包已损坏或不完整）。请用 Excel 打开后重新保存为 .xlsx 再导入。"
    refuse = "，不像是 Excel 保存的表格，为安全起见已拒绝读取。请用 Excel 打开后“另存为”.xlsx 再导入。"
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return damaged
    if len(members) > MAX_ZIP_MEMBERS:
        return f"文件“{name}”的压缩包里有 {len(members):,} 个部件{refuse}"
    declared = sum(info.file_size for info in members)
    if declared > limit:
        return (
            f"文件“{name}”解压后有 {_megabytes(declared)}，超过了 {limit // _MB} MB 的上限，未读取。"
            "请把数据分成几个文件分别导入。"
        )
    for info in members:
        if info.flag_bits & 0x1:
            return f"文件“{name}”设置了打开密码（已加密），无法读取。请在 Excel 中取消密码后重新保存再导入。"
        if info.file_size > RATIO_APPLIES_ABOVE and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            return (
                f"文件“{name}”中的“{info.filename}”由 {_megabytes(info.compress_size)} 解压为 "
                f"{_megabytes(info.file_size)}（压缩比 {info.file_size // max(info.compress_size, 1):,} 倍）{refuse}"
            )
    handle = open(source, "rb") if isinstance(source, str | Path) else source
    try:
        for info in members:
            if info.is_dir() or not info.filename.lower().endswith(_XML_SUFFIXES):
                continue
            try:
                if _declares_dtd(handle, info, thorough=thorough):
                    return (
                        f"文件“{name}”中的“{info.filename}”含有 XML 文档类型声明（DOCTYPE/ENTITY，可被用来"
                        f"制造“实体膨胀”攻击）{refuse}"
                    )
            except _Refused as exc:
                return f"文件“{name}”中的“{info.filename}”{exc.reason}{refuse}"
            except (zlib.error, OSError, struct.error):
                return damaged
    finally:
        if handle is not source:
            handle.close()
        else:
            handle.seek(0)
    return None


def _declares_dtd(handle: Any, info: zipfile.ZipInfo, *, thorough: bool) -> bool:
    """Whether the member declares a DTD (all of it when ``thorough``, else its first 64 KB)."""
    tail = b""
    for chunk in _member_chunks(handle, info, verify=thorough, piece=_CHUNK if thorough else 65536):
        window = tail + chunk
        if any(mark in window for mark in _DTD_MARKS):
            return True
        if not thorough:
            return False
        tail = window[-_MARK_OVERLAP:]
    return False


def _member_chunks(
    handle: Any, info: zipfile.ZipInfo, *, verify: bool, piece: int = _CHUNK
) -> Iterator[bytes]:
    """A member's content, unpacked here in pieces of at most ``piece`` bytes, from after its local header
    (PKWARE APPNOTE 4.3.7); unpacking more than it declares stops at once. ``verify``: at its end, the size
    and CRC-32 must be the declared ones."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _Refused(f"使用了 Excel 不会使用的压缩方式（{info.compress_type}）")
    handle.seek(info.header_offset)
    header = handle.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise _Refused("的位置与压缩包目录不符")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    handle.seek(info.header_offset + 30 + name_length + extra_length)
    inflate = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type == zipfile.ZIP_DEFLATED else None
    left = info.compress_size
    produced = 0
    checksum = 0
    while True:
        if inflate is not None and inflate.unconsumed_tail:
            out = inflate.decompress(inflate.unconsumed_tail, piece)
        elif left > 0:
            data = handle.read(min(piece, left))
            if not data:
                raise _Refused("不完整（压缩包被截断）")
            left -= len(data)
            out = data if inflate is None else inflate.decompress(data, piece)
        else:
            break
        produced += len(out)
        if produced > info.file_size:
            raise _Refused(f"解压出的内容多于它声明的 {_megabytes(info.file_size)}")
        if verify:
            checksum = zlib.crc32(out, checksum)
        yield out
        if inflate is not None and inflate.eof:
            break
    if verify and (
        produced != info.file_size or checksum != info.CRC or (inflate is not None and not inflate.eof)
    ):
        raise _Refused("解压后的大小或校验和与声明的不符（已损坏或被篡改）")


def file_problem(path: Path, *, limit_bytes: int | None = None) -> str | None:
    """Size and (for an XLSX) :func:`xlsx_problem` of a stored file, before it is parsed."""
    problem = size_problem(path.name, path.stat().st_size, limit_bytes=limit_bytes)
    if problem:
        return problem
    with path.open("rb") as handle:
        if handle.read(4) != b"PK\x03\x04":
            return None
    return xlsx_problem(path, path.name)


# --- reading files -----------------------------------------------------------------------------


@dataclass
class SourceFile:
    """A file to import, with its format found from its content rather than its name."""

    path: Path
    format: str  # "csv" or "xlsx"
    encoding: str = ""
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, path: str | Path, *, max_bytes: int | None = None) -> SourceFile:
        """The file, checked (:func:`file_problem`) before anything parses it; ``max_bytes`` overrides
        the ``IMPORT_MAX_MB`` setting."""
        path = Path(path)
        if not path.exists():
            raise ImportUnusable(f"找不到文件“{path}”。")
        if not path.is_file():
            raise ImportUnusable(f"“{path}”不是文件。")
        size = path.stat().st_size
        if size == 0:
            raise ImportUnusable(f"文件“{path.name}”是空的（0 字节），请检查是否选错了文件。")
        problem = size_problem(path.name, size, limit_bytes=max_bytes)
        if problem:
            raise ImportUnusable(problem)
        with path.open("rb") as handle:
            head = handle.read(65536)
        if head.startswith(b"PK\x03\x04"):
            problem = xlsx_problem(path, path.name)
            if problem:
                raise ImportUnusable(problem)
            return cls(path, "xlsx")
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise ImportUnusable(
                f"文件“{path.name}”是旧版 Excel 97-2003（.xls）文件，请在 Excel 中“另存为”.xlsx 或 CSV UTF-8 后再导入。"
            )
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            # Excel's "Unicode text" export: UTF-16, tab separated.
            return cls(path, "csv", encoding="utf-16", delimiter="\t")
        if b"\x00" in head or head.startswith(b"%PDF"):
            raise ImportUnusable(
                f"文件“{path.name}”既不是 CSV 也不是 XLSX 文件，请上传 Excel 表格（.xlsx）或 CSV 文件。"
            )
        source = cls(path, "csv", encoding=_detect_text_encoding(path))
        if source.encoding == "gb18030":
            source.notes.append("文件不是 UTF-8 编码，已按 GB18030（GBK）编码读取。")
        source.delimiter = source._detect_delimiter()
        return source

    def _detect_delimiter(self) -> str:
        with self.path.open(encoding=self.encoding, newline="") as handle:
            first = next((line for line in handle if line.strip()), "")
        counts = {d: first.count(d) for d in _CSV_DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(row number as a spreadsheet shows it, cells) for every row, blank ones included."""
        if self.format == "xlsx":
            yield from self._xlsx_rows()
        else:
            yield from self._csv_rows()

    def _csv_rows(self) -> Iterator[tuple[int, list[Any]]]:
        with self.path.open(encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            number = 0
            try:
                for number, cells in enumerate(reader, start=1):
                    yield number, cells
            except csv.Error as exc:
                raise ImportUnusable(
                    f"第 {number + 1} 行不是有效的 CSV 格式（{exc}），请用 Excel 重新另存为 CSV。"
                ) from None

    def _xlsx_rows(self) -> Iterator[tuple[int, list[Any]]]:
        from python_calamine import CalamineWorkbook

        try:
            workbook = CalamineWorkbook.from_path(str(self.path))
            sheet = workbook.get_sheet_by_index(0)
            rows = sheet.iter_rows()
        except Exception as exc:  # calamine raises several types for damaged or foreign zip files
            raise ImportUnusable(
                f"文件“{self.path.name}”不是可读取的 XLSX 表格（{type(exc).__name__}），可能已损坏或是其他压缩文件。"
                "请用 Excel 重新保存为 .xlsx 后再导入。"
            ) from None
        # calamine pads the rows above the first used one, so the index is the row number Excel shows.
        yield from enumerate(rows, start=1)


def _detect_text_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as such, else GB18030 (Excel on Chinese Windows)."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportUnusable(
        f"无法识别文件“{path.name}”的文字编码。请在 Excel 中“另存为”CSV UTF-8（逗号分隔）或 .xlsx 后再导入。"
    )


def _blank(cells: list[Any]) -> bool:
    # str.strip() knows the full-width space too; this runs for every row, so no NFKC here.
    if cells and type(cells[0]) is str and cells[0] and not cells[0][0].isspace():
        return False  # the usual row: its first cell begins with a character
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _map_header(
    cells: list[Any], row_number: int, importer_class: type[Importer]
) -> tuple[dict[str, int], list[str]]:
    """Column key → position in the row; plus the header cells nobody asked for (reported as a note)."""
    by_header: dict[str, Column] = {}
    for column in importer_class.columns:
        for name in (column.header, *column.aliases):
            by_header[header_key(name)] = column
    index: dict[str, int] = {}
    unknown: list[str] = []
    for position, cell in enumerate(cells):
        name = header_key(cell)
        if not name:
            continue
        column = by_header.get(name)
        if column is None:
            unknown.append(clean_text(cell))
            continue
        if column.key in index:
            raise ImportUnusable(
                f"表头（第 {row_number} 行）中“{column.header}”列出现了不止一次（第 {index[column.key] + 1} 列和第 "
                f"{position + 1} 列），请删去多余的一列。"
            )
        index[column.key] = position
    missing = [c.header for c in importer_class.columns if c.required and c.key not in index]
    if missing:
        expected = "、".join(f"“{c.header}”" for c in importer_class.columns)
        raise ImportUnusable(
            f"表头（第 {row_number} 行）缺少必需的列：{'、'.join(f'“{m}”' for m in missing)}。"
            f"{importer_class.label}导入文件的第一行应是表头，可用的列为：{expected}。"
        )
    return index, unknown


# --- the result --------------------------------------------------------------------------------


@dataclass
class ImportResult:
    kind: str
    label: str
    source: SourceFile | None = None
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False
    saved: bool = False
    header_row: int = 1

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})

    @property
    def rejected(self) -> int:
        return len(self.rejected_rows)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    def summary(self) -> str:
        counts = f"新增 {self.created}，更新 {self.updated}，未变 {self.unchanged}"
        head = f"{self.label}：共 {self.rows} 行数据"
        if self.rejected:
            head += f"，其中 {self.rejected} 行有错误"
        if self.dry_run and self.rejected:
            return f"{head}。试运行，未写入数据库；其余正确的行导入时将{counts}。"
        if self.dry_run:
            return f"{head}。试运行，未写入数据库；正式导入将{counts}。"
        if self.saved:
            if self.rejected:
                return f"{head}。已导入正确的行：{counts}；有错误的 {self.rejected} 行未导入。"
            return f"{head}。{counts}。"
        return (
            f"{head}。数据库未作任何修改。请改正后重新导入，或加 --keep-valid 只导入正确的行（将{counts}）。"
        )

    def write_error_file(self, path: str | Path) -> None:
        """The rejected rows as the file had them, plus 行号 and 错误原因 (XLSX, written streaming).

        The source file is read again, so it must still exist.
        """
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        reasons: dict[int, list[str]] = {}
        for error in self.errors:
            reasons.setdefault(error.row, []).append(f"列“{error.column}”：{error.message}")
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("错误行")

        def cell(value: Any) -> Any:
            if isinstance(value, str):
                # Keep text as text: a value beginning with "=" must not become a formula.
                written = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
                written.data_type = "s"
                return written
            return value

        if self.source is not None:
            for number, cells in self.source.rows():
                if number == self.header_row:
                    sheet.append([cell(c) for c in cells] + [ERROR_ROW_HEADER, ERROR_REASON_HEADER])
                elif number in reasons:
                    sheet.append([cell(c) for c in cells] + [number, cell("；".join(reasons[number]))])
        workbook.save(str(path))


# --- running -----------------------------------------------------------------------------------


def _check_actor(actor: Any, importer_class: type[Importer]) -> None:
    if actor is None:
        return
    name = actor.get_username()
    if not actor.is_active:
        raise ImportUnusable(f"用户“{name}”已停用，不能导入。")
    if user_scope_path(actor) is None:
        raise ImportUnusable(f"用户“{name}”没有所属单位，不能导入。")
    for capability in ("import", *importer_class.capabilities):
        if not actor.can(capability):
            raise ImportUnusable(
                f"用户“{name}”的角色无权导入{importer_class.label}（缺少“{capability}”权限）。"
            )


def run_import(
    kind: str,
    path: str | Path,
    *,
    actor: Any = None,
    dry_run: bool = False,
    keep_valid: bool = False,
    progress: Progress | None = None,
    max_bytes: int | None = None,
    before_commit: Callable[[], None] | None = None,
) -> ImportResult:
    """Import a file of ``kind``. Raises :class:`ImportUnusable` for an unusable file or arguments.

    Without ``keep_valid`` a file with any rejected row changes nothing; with it the valid rows are saved.
    ``actor`` None runs as the system (full scope); otherwise the user's scope and capabilities apply.
    ``progress(stage, done, total)`` is called now and then (``total`` None while reading).
    ``max_bytes`` overrides the ``IMPORT_MAX_MB`` limit of the file's size. ``before_commit`` is called
    inside the saving transaction just before it commits; an exception from it undoes the whole save.
    """
    # Hundreds of thousands of live records make each cyclic collection slower than the last; an import
    # creates no garbage cycles worth collecting, so the collector rests until it is done.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run_import(
            kind,
            path,
            actor=actor,
            dry_run=dry_run,
            keep_valid=keep_valid,
            progress=progress,
            max_bytes=max_bytes,
            before_commit=before_commit,
        )
    finally:
        if collecting:
            gc.enable()


def _run_import(
    kind: str,
    path: str | Path,
    *,
    actor: Any,
    dry_run: bool,
    keep_valid: bool,
    progress: Progress | None,
    max_bytes: int | None,
    before_commit: Callable[[], None] | None,
) -> ImportResult:
    autodiscover()
    importer_class = get_importer(kind)
    _check_actor(actor, importer_class)
    source = SourceFile.open(path, max_bytes=max_bytes)
    result = ImportResult(
        kind=kind, label=importer_class.label, source=source, dry_run=dry_run, notes=list(source.notes)
    )
    issues = Issues()
    columns = {c.key: c for c in importer_class.columns}

    rows = source.rows()
    index: dict[str, int] | None = None
    for number, cells in rows:
        if not _blank(cells):
            index, unknown = _map_header(cells, number, importer_class)
            result.header_row = number
            if unknown:
                result.notes.append(f"忽略了无法识别的列：{'、'.join(unknown)}。")
            break
    if index is None:
        raise ImportUnusable(f"文件“{source.path.name}”里没有任何内容。")

    importer = importer_class(
        actor=actor, today=timezone.localdate(), present=frozenset(index), issues=issues, progress=progress
    )
    if isinstance(importer, StreamingImporter):
        _run_streaming(
            importer,
            rows,
            index,
            columns,
            result,
            dry_run=dry_run,
            keep_valid=keep_valid,
            before_commit=before_commit,
        )
        result.errors = sorted(issues.errors, key=lambda e: e.row)
        return result
    records: list[Record] = []
    for number, cells in rows:
        if _blank(cells):
            continue
        result.rows += 1
        row = Row(number, cells, index, columns)
        record = importer.clean_row(row)
        for error in row.errors:
            issues.add(error.row, error.column, error.message)
        if record is not None:
            record.ok = record.ok and not row.errors
            records.append(record)
        if progress is not None and result.rows % PROGRESS_EVERY == 0:
            progress("读取", result.rows, None)
    if result.rows == 0:
        raise ImportUnusable(f"文件“{source.path.name}”只有表头，没有数据行。")
    if progress is not None:
        progress("读取", result.rows, result.rows)

    importer.check(records)
    may_save = not dry_run and (keep_valid or not issues)
    if may_save:
        valid = importer.valid(records)
        with transaction.atomic():
            importer.save(valid)
            after_write_schedule(background=True)
            if issues and not keep_valid:
                # A record refused while saving: leave the database as it was.
                transaction.set_rollback(True)
            else:
                if before_commit is not None:
                    before_commit()
                result.saved = True
    valid = importer.valid(records)
    result.created = sum(1 for r in valid if r.action == "create")
    result.updated = sum(1 for r in valid if r.action == "update")
    result.unchanged = sum(1 for r in valid if r.action == "unchanged")
    result.errors = sorted(issues.errors, key=lambda e: e.row)
    return result


def _run_streaming(
    importer: StreamingImporter,
    rows: Iterator[tuple[int, list[Any]]],
    index: dict[str, int],
    columns: dict[str, Column],
    result: ImportResult,
    *,
    dry_run: bool,
    keep_valid: bool,
    before_commit: Callable[[], None] | None = None,
) -> None:
    """The two passes of a :class:`StreamingImporter` (see there); ``rows`` continues after the header."""
    issues, source = importer.issues, result.source
    assert source is not None
    batch: list[Record] = []
    for number, cells in rows:
        if _blank(cells):
            continue
        result.rows += 1
        row = Row(number, cells, index, columns)
        record = importer.clean_row(row)
        if row.errors:
            for error in row.errors:
                issues.add(error.row, error.column, error.message)
        if record is not None:
            record.ok = record.ok and not row.errors
            batch.append(record)
            if len(batch) >= importer.batch_size:
                importer.check_batch(batch)
                batch = []
        if result.rows % PROGRESS_EVERY == 0:
            importer.progress("读取", result.rows, None)
    if result.rows == 0:
        raise ImportUnusable(f"文件“{source.path.name}”只有表头，没有数据行。")
    if batch:
        importer.check_batch(batch)
        batch = []
    importer.progress("读取", result.rows, result.rows)
    importer.finish_check()

    if not dry_run and (keep_valid or not issues):
        rejected = issues.rejected
        done = 0
        with transaction.atomic():
            try:
                for number, cells in source.rows():
                    if number <= result.header_row or number in rejected or _blank(cells):
                        continue
                    # Cleaned again rather than kept from pass 1: that is what keeps the memory bounded.
                    record = importer.clean_row(Row(number, cells, index, columns))
                    if record is None:
                        continue
                    batch.append(record)
                    if len(batch) >= importer.batch_size:
                        importer.save_batch(batch)
                        done += len(batch)
                        batch = []
                        importer.progress("保存", done, None)
                if batch:
                    importer.save_batch(batch)
                    done += len(batch)
                importer.finish_save()
                after_write_schedule(background=True)
            except BaseException:
                importer.abandon_save()
                raise
            importer.progress("保存", done, done)
            if issues and not keep_valid:
                # A record refused while saving: leave the database as it was.
                transaction.set_rollback(True)
            else:
                if before_commit is not None:
                    before_commit()
                result.saved = True
    result.created, result.updated, result.unchanged = importer.counts()
