"""Importing people from a CSV or XLSX file, the way education offices keep their lists.

Three steps, shared by the web pages (import_views.py) and `flask directory import`:

1. read_table(data, filename)  — recognise the file (CSV in UTF-8/UTF-16/Windows-1251/KOI8-R,
   `;` `,` or tab; XLSX, first sheet), find the header and the columns, keep each row with its
   line in the file (the header is line 1). A file that cannot be read at all raises FileRejected.
2. plan_import(table, actor=...) — check every row with the directory's shared validation and
   decide what it would do: create, update (matched by email), unchanged, or error with the
   reasons. Organisations and existing people are loaded in bulk: no query per row.
3. apply_import(plan, only_valid=...) — write everything in one transaction, or nothing when a
   row is bad and "only the valid rows" was not chosen.

The upsert writes Person rows directly (see _create_person / _update_person) because a region's
file has tens of thousands of rows; switch these two functions to hub.directory.services once it
offers bulk-friendly create/update.

Uploads waiting between the preview and the confirmation are kept under instance/imports/
(see the "Stored uploads" section): the client only ever sees a random token.
"""

from __future__ import annotations

import codecs
import csv
import enum
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import filetype
from flask import current_app, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from hub.auth.permissions import can_edit_person, can_manage_people_of
from hub.directory.models import Category, Organisation, Person, Role
from hub.directory.validation import (
    InvalidValue,
    clean_name_part,
    clean_text,
    normalize_email,
    normalize_phone,
    organisation_key,
    parse_category,
    parse_full_name,
)
from hub.extensions import db

#: Defaults for settings that config.py may override.
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_ROWS = 50_000
#: An XLSX is a ZIP: refuse one that unpacks to more than this (a "zip bomb").
DEFAULT_MAX_UNPACKED_BYTES = 200 * 1024 * 1024
#: How long an uploaded file waits for its confirmation.
DEFAULT_UPLOAD_TTL = timedelta(hours=2)
#: The header is looked for among the first rows (a title may sit above it).
HEADER_SEARCH_ROWS = 20
#: Rows of people are fetched this many emails at a time (well under every database's limit).
EMAIL_CHUNK = 500

POSITION_MAX = 200
ORGANISATION_MAX = 300


def _setting(name: str, default: Any) -> Any:
    return current_app.config.get(name, default) if has_app_context() else default


# --------------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------------

class Column(enum.StrEnum):
    FULL_NAME = "full_name"
    SURNAME = "surname"
    FIRST_NAME = "first_name"
    PATRONYMIC = "patronymic"
    ORGANISATION = "organisation"
    POSITION = "position"
    EMAIL = "email"
    PHONE = "phone"
    CATEGORY = "category"


#: The headers of the downloadable template, in order.
TEMPLATE_HEADERS = ("ФИО", "Организация", "Должность", "Email", "Телефон", "Категория")
#: How a column is named in messages: the Russian header, then the English one.
COLUMN_TITLES = {
    Column.FULL_NAME: "ФИО / full name",
    Column.SURNAME: "Фамилия / surname",
    Column.FIRST_NAME: "Имя / first name",
    Column.PATRONYMIC: "Отчество / patronymic",
    Column.ORGANISATION: "Организация / organisation",
    Column.POSITION: "Должность / position",
    Column.EMAIL: "Email",
    Column.PHONE: "Телефон / phone",
    Column.CATEGORY: "Категория / category",
}


def header_key(value: str) -> str:
    """Header names compared without case, spaces, punctuation and ё: «Ф.И.О.» = «фио»."""
    text = unicodedata.normalize("NFC", value).casefold().replace("ё", "е")
    return re.sub(r"[^0-9a-zа-я]", "", text)


#: Accepted headers (as header_key gives them).
_HEADER_ALIASES: dict[Column, tuple[str, ...]] = {
    Column.FULL_NAME: ("фио", "фамилияимяотчество", "фамилияиимяотчество", "фамилияимя",
                       "фамилияиимя", "фиопедагога",
                       "фиосотрудника", "fullname", "name", "fio", "personname"),
    Column.SURNAME: ("фамилия", "surname", "lastname", "familyname"),
    Column.FIRST_NAME: ("имя", "firstname", "givenname", "forename"),
    Column.PATRONYMIC: ("отчество", "patronymic", "middlename"),
    Column.ORGANISATION: ("организация", "образовательнаяорганизация", "оо", "оу", "доу",
                          "учреждение", "образовательноеучреждение", "наименованиеоо",
                          "наименованиеорганизации", "наименованиеобразовательнойорганизации",
                          "наименованиеучреждения", "местоработы", "organisation",
                          "organization", "org", "school"),
    Column.POSITION: ("должность", "занимаемаядолжность", "position", "jobtitle", "title",
                      "post"),
    Column.EMAIL: ("email", "mail", "emailaddress", "электроннаяпочта", "элпочта",
                   "адресэлектроннойпочты", "адресэлпочты", "почта", "емейл", "емэйл", "имейл",
                   "эпочта", "эладрес", "электронныйадрес"),
    Column.PHONE: ("телефон", "тел", "контактныйтелефон", "мобильныйтелефон", "номертелефона",
                   "сотовыйтелефон", "phone", "phonenumber", "telephone", "mobile", "tel"),
    Column.CATEGORY: ("категория", "квалификационнаякатегория", "квкатегория", "category",
                      "qualificationcategory", "qualification"),
}
_EXACT_HEADERS = {alias: column for column, aliases in _HEADER_ALIASES.items() for alias in aliases}
#: Headers that may go on: «Телефон (мобильный)», «Электронная почта (e-mail)», «ФИО педагога».
_PREFIX_HEADERS = tuple(
    (alias, column) for alias, column in sorted(_EXACT_HEADERS.items(), key=lambda i: -len(i[0]))
    if len(alias) >= 5 or alias == "фио"
)


def recognise_header(value: str) -> Column | None:
    key = header_key(value)
    if not key:
        return None
    if key in _EXACT_HEADERS:
        return _EXACT_HEADERS[key]
    for alias, column in _PREFIX_HEADERS:
        if key.startswith(alias):
            return column
    return None


# --------------------------------------------------------------------------------------------
# Reading the file
# --------------------------------------------------------------------------------------------

class FileRejected(ValueError):
    """The whole file cannot be imported; str(error) says why, for the user."""


@dataclass
class SourceRow:
    """One non-empty row under the header: its line in the file and its cells by column."""

    line: int
    cells: dict[Column, str]


@dataclass
class Table:
    """What read_table found in a file."""

    kind: str  # "csv" or "xlsx"
    header_line: int
    columns: dict[Column, int]
    rows: list[SourceRow]
    #: Headers that were not recognised (or repeated a column), as written in the file.
    ignored_columns: list[str] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""

    def has(self, column: Column) -> bool:
        return column in self.columns


def read_table(data: bytes, filename: str = "", *, max_bytes: int | None = None,
               max_rows: int | None = None,
               has_default_organisation: bool = False) -> Table:
    """Recognise a CSV or XLSX file and return its rows, or raise FileRejected.

    `has_default_organisation`: rows without an organisation go to a chosen one, so the
    organisation column is not required.
    """
    max_bytes = max_bytes or _setting("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)
    max_rows = max_rows or _setting("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)
    if len(data) > max_bytes:
        raise FileRejected(_("The file is larger than %(size)s; split it into smaller files.",
                             size=format_size(max_bytes)))
    if not data.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise FileRejected(_("The file is empty."))

    kind = _sniff_kind(data, filename)
    if kind == "xlsx":
        raw_rows = _xlsx_rows(data)
        encoding = delimiter = ""
    else:
        text, encoding = decode_text(data)
        delimiter = sniff_delimiter(text)
        raw_rows = _csv_rows(text, delimiter)
    return _build_table(raw_rows, kind=kind, encoding=encoding, delimiter=delimiter,
                        max_rows=max_rows, has_default_organisation=has_default_organisation)


def format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return _("%(n)s MB", n=f"{size / 1024 / 1024:.0f}")
    return _("%(n)s KB", n=f"{max(1, size // 1024)}")


_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _sniff_kind(data: bytes, filename: str) -> str:
    """"xlsx" or "csv", judged by the content (the name is only a hint for messages)."""
    if data.startswith(_ZIP_MAGIC) or data.startswith(b"PK\x05\x06"):
        return "xlsx"
    if data.startswith(_OLE2_MAGIC):
        raise FileRejected(_("This is an old Excel (.xls) file or a password-protected workbook. "
                             "Open it in Excel and save it as .xlsx or CSV without a password."))
    head = data[:4096]
    if _looks_binary(head):
        guessed = filetype.guess(head)
        if guessed is not None:
            raise FileRejected(_("This is not a CSV or XLSX file: its content is %(kind)s "
                                 "(%(mime)s), whatever its name says.",
                                 kind=guessed.extension.upper(), mime=guessed.mime))
        raise FileRejected(_("This is not a CSV or XLSX file: its content is binary, not text."))
    stripped = head.lstrip(codecs.BOM_UTF8 + b" \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml", b"<meta")):
        raise FileRejected(_("This file is a web page or XML saved under a spreadsheet name. "
                             "Open it in Excel and save it as .xlsx or CSV."))
    if stripped.startswith(b"%pdf") or stripped.startswith(b"{\\rtf"):
        raise FileRejected(_("This is not a CSV or XLSX file: it looks like a document."))
    return "csv"


def _looks_binary(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False  # "Unicode text" as Excel saves it
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > max(2, len(head) // 100)


#: Russian letters that Windows-1251, KOI8-R and DOS-866 place differently.
_CYR_LOWER = re.compile(r"[а-яё]")
_CYR_UPPER = re.compile(r"[А-ЯЁ]")
_ODD = re.compile(r"[^\w\s.,;:!?()\[\]{}<>\"'«»“”„‘’–—№%@#&*+=/\\|~^`$€₽-]")


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of a CSV and the encoding it was in: UTF-8 (with or without BOM), UTF-16 with
    BOM, or a single-byte Cyrillic code page (Windows-1251 as Russian Excel saves CSV, KOI8-R,
    DOS 866), told apart by how Russian text looks in each."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            raise FileRejected(_("The file says it is UTF-8 but is not; save it again as "
                                 "CSV UTF-8.")) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").lstrip("\ufeff"), "UTF-16"
        except UnicodeDecodeError:
            raise FileRejected(_("The file says it is UTF-16 but is not; save it again as "
                                 "CSV UTF-8.")) from None
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    best: tuple[int, str, str] | None = None
    for encoding, name in (("cp1251", "Windows-1251"), ("koi8_r", "KOI8-R"), ("cp866", "CP866")):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Russian text is mostly lower-case letters; a wrong code page swaps case or
        # gives box-drawing symbols.
        sample = text[:65536]
        score = (len(_CYR_LOWER.findall(sample)) - len(_CYR_UPPER.findall(sample)) // 2
                 - 3 * len(_ODD.findall(sample)))
        if best is None or score > best[0]:
            best = (score, name, text)
    if best is not None and best[0] > 0:
        return best[2], best[1]
    guess = _charset_normalizer_guess(data)
    if guess is not None:
        return guess
    raise FileRejected(_("Cannot tell the file's encoding. Save it as CSV UTF-8."))


def _charset_normalizer_guess(data: bytes) -> tuple[str, str] | None:
    from charset_normalizer import from_bytes

    match = from_bytes(data).best()
    if match is None:
        return None
    text = str(match)
    if _looks_binary(text[:4096].encode("utf-8", "replace")):
        return None
    return text, match.encoding


_DELIMITERS = (";", ",", "\t")


def sniff_delimiter(text: str) -> str:
    """`;`, `,` or tab: the one under which the header's cells are recognised best
    (then the one that splits the first lines into the most columns)."""
    sample_lines = text[:65536].splitlines()[:HEADER_SEARCH_ROWS]
    sample = "\n".join(sample_lines)
    best = (-1, -1, ";")
    for delimiter in _DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(sample), delimiter=delimiter))
        except csv.Error:
            continue
        recognised = max((_score_header(r) for r in rows), default=0)
        widths = sorted(len(r) for r in rows if any(c.strip() for c in r))
        width = widths[len(widths) // 2] if widths else 0
        if (recognised, width) > best[:2]:
            best = (recognised, width, delimiter)
    return best[2]


def _score_header(cells: Sequence[str]) -> int:
    return len({c for c in (recognise_header(cell) for cell in cells) if c is not None})


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells); a quoted cell may span several lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as error:
        raise FileRejected(_("line %(line)d: the CSV cannot be read (%(error)s).",
                             line=reader.line_num or line, error=str(error))) from None


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """The first sheet's rows as text, numbered as Excel numbers them."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRejected(_("The file looks like an XLSX workbook but is damaged and cannot be "
                             "opened.")) from None
    if "xl/workbook.xml" not in names:
        if "word/document.xml" in names:
            raise FileRejected(_("This is a Word document, not a spreadsheet. Put the list in "
                                 "an Excel sheet and save it as .xlsx or CSV."))
        if "mimetype" in names and "content.xml" in names:
            raise FileRejected(_("This is an OpenDocument (.ods) spreadsheet. Save it as .xlsx "
                                 "or CSV."))
        raise FileRejected(_("This is a ZIP archive, not an XLSX workbook or a CSV file."))
    if unpacked > _setting("IMPORT_MAX_UNPACKED_BYTES", DEFAULT_MAX_UNPACKED_BYTES):
        raise FileRejected(_("The workbook unpacks to too much data (%(size)s); keep only the "
                             "list of people in it.", size=format_size(unpacked)))

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds of errors for broken files
        raise FileRejected(_("The XLSX workbook cannot be opened; it may be damaged. Open it "
                             "in Excel, save it again and retry.")) from None
    try:
        if not workbook.worksheets:
            raise FileRejected(_("The workbook has no sheets with data."))
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some programs write wrong sizes; read what is there
        try:
            for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True),
                                            start=1):
                yield number, [_cell_text(v) for v in values]
        except FileRejected:
            raise
        except Exception:  # noqa: BLE001 - a damaged sheet
            raise FileRejected(_("The first sheet of the workbook is damaged and cannot be "
                                 "read.")) from None
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _build_table(raw_rows: Iterable[tuple[int, list[str]]], *, kind: str, encoding: str,
                 delimiter: str, max_rows: int, has_default_organisation: bool) -> Table:
    rows_iter = iter(raw_rows)
    # The header: among the first non-empty rows, the one with the most recognised columns
    # (a title such as «Список педагогов» may stand above it).
    candidates: list[tuple[int, list[str]]] = []
    for line, cells in rows_iter:
        if any(c.strip() for c in cells):
            candidates.append((line, cells))
            if len(candidates) >= HEADER_SEARCH_ROWS or _is_complete_header(cells):
                break
    if not candidates:
        raise FileRejected(_("The file is empty."))
    scores = [_score_header(cells) for _line, cells in candidates]
    best = max(range(len(candidates)), key=lambda i: (scores[i], -i))
    if scores[best] == 0:
        raise FileRejected(_("No header row found. The first line must name the columns: "
                             "%(columns)s.", columns=", ".join(TEMPLATE_HEADERS)))
    header_line, header = candidates[best]
    columns, ignored = _map_columns(header)
    _check_required(columns, has_default_organisation)

    rows: list[SourceRow] = []

    def take(line: int, cells: list[str]) -> None:
        if not any(c.strip() for c in cells):
            return  # empty rows are skipped; line numbers still count them
        if len(rows) >= max_rows:
            raise FileRejected(_("The file has more than %(n)s rows of people; split it into "
                                 "smaller files.", n=f"{max_rows:,}".replace(",", " ")))
        rows.append(SourceRow(line, {
            column: _INVISIBLE.sub("", cells[index]) if index < len(cells) else ""
            for column, index in columns.items()
        }))

    for line, cells in candidates[best + 1:]:
        take(line, cells)
    for line, cells in rows_iter:
        take(line, cells)
    if not rows:
        raise FileRejected(_("The file has a header but no rows of people under it."))
    return Table(kind=kind, header_line=header_line, columns=columns, rows=rows,
                 ignored_columns=ignored, encoding=encoding, delimiter=delimiter)


#: Invisible characters that copying from web pages and Word leaves in cells.
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")


def _is_complete_header(cells: Sequence[str]) -> bool:
    found = {recognise_header(c) for c in cells}
    return Column.EMAIL in found and (Column.FULL_NAME in found or Column.SURNAME in found)


def _map_columns(header: Sequence[str]) -> tuple[dict[Column, int], list[str]]:
    columns: dict[Column, int] = {}
    ignored: list[str] = []
    for index, title in enumerate(header):
        column = recognise_header(title)
        if column is None or column in columns:
            if title.strip():
                ignored.append(clean_text(title, max_length=10_000)[:60])
            continue
        columns[column] = index
    return columns, ignored


def _check_required(columns: dict[Column, int], has_default_organisation: bool) -> None:
    missing: list[str] = []
    has_parts = Column.SURNAME in columns and Column.FIRST_NAME in columns
    if Column.FULL_NAME not in columns and not has_parts:
        if Column.SURNAME in columns:
            missing.append(COLUMN_TITLES[Column.FIRST_NAME])
        elif Column.FIRST_NAME in columns:
            missing.append(COLUMN_TITLES[Column.SURNAME])
        else:
            missing.append(_("%(full)s (or separate %(surname)s and %(first)s)",
                             full=COLUMN_TITLES[Column.FULL_NAME],
                             surname=COLUMN_TITLES[Column.SURNAME],
                             first=COLUMN_TITLES[Column.FIRST_NAME]))
    if Column.EMAIL not in columns:
        missing.append(COLUMN_TITLES[Column.EMAIL])
    if Column.ORGANISATION not in columns and not has_default_organisation:
        missing.append(COLUMN_TITLES[Column.ORGANISATION])
    if missing:
        raise FileRejected(ngettext("A required column is missing: %(columns)s.",
                                    "Required columns are missing: %(columns)s.",
                                    len(missing), columns="; ".join(missing)))


# --------------------------------------------------------------------------------------------
# Checking the rows and deciding what each would do
# --------------------------------------------------------------------------------------------

class RowAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass
class PersonValues:
    """A row's clean values; None means "not given": an update keeps what the hub has."""

    surname: str
    first_name: str
    patronymic: str
    email: str
    organisation_id: int
    position: str | None = None
    phone: str | None = None
    category: Category | None = None


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class RowResult:
    """What one row of the file would do (and, for the preview, what it says)."""

    line: int
    action: RowAction
    errors: list[str] = field(default_factory=list)
    full_name: str = ""
    email: str = ""
    organisation: str = ""
    position: str = ""
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    values: PersonValues | None = None
    person: Person | None = None

    @property
    def reason(self) -> str:
        return " ".join(self.errors)

    @property
    def report_line(self) -> str:
        """`line N: reason` — the prefix stays exactly this in every language."""
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportPlan:
    table: Table
    rows: list[RowResult]

    @property
    def bad_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.action is RowAction.ERROR]

    @property
    def valid_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.action is not RowAction.ERROR]

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((a.value for a in RowAction), 0)
        for row in self.rows:
            counts[row.action.value] += 1
        counts["total"] = len(self.rows)
        return counts

    def fingerprint(self) -> str:
        """Changes when what the rows would do changes (to notice a stale preview)."""
        digest = hashlib.sha256()
        for row in self.rows:
            digest.update(f"{row.line}:{row.action.value};".encode())
        return digest.hexdigest()[:32]


@dataclass
class _OrganisationIndex:
    by_key: dict[str, list[Organisation]]
    by_id: dict[int, Organisation]

    @classmethod
    def load(cls) -> _OrganisationIndex:
        by_key: dict[str, list[Organisation]] = defaultdict(list)
        by_id: dict[int, Organisation] = {}
        for org in db.session.scalars(select(Organisation).order_by(Organisation.id)):
            by_id[org.id] = org
            for key in {organisation_key(org.short_name), organisation_key(org.full_name)}:
                if key:
                    by_key[key].append(org)
        return cls(dict(by_key), by_id)

    def find(self, name: str) -> list[Organisation]:
        """Organisations called `name`; an active one wins over deactivated namesakes."""
        found = self.by_key.get(organisation_key(name), [])
        if len(found) > 1:
            active = [org for org in found if org.active]
            if len(active) == 1:
                return active
        return found


def plan_import(table: Table, *, actor: Person | None = None,
                default_organisation: Organisation | None = None,
                progress: Callable[[int], None] | None = None) -> ImportPlan:
    """Check every row and decide what it would do. `actor` is the coordinator importing
    (None: the command line, which may import into any organisation). Nothing is written."""
    organisations = _OrganisationIndex.load()
    results: list[RowResult] = []
    first_line_of_email: dict[str, int] = {}
    for row in table.rows:
        result = _check_row(row, table, organisations, default_organisation, actor)
        if result.values is not None:
            email = result.values.email
            if email in first_line_of_email:
                result.errors.append(_("The email %(email)s is already on line %(line)d.",
                                       email=email, line=first_line_of_email[email]))
            else:
                first_line_of_email[email] = row.line
        results.append(result)
        if progress is not None:
            progress(1)

    existing = _people_by_email([r.values.email for r in results if r.values and not r.errors])
    for result in results:
        if result.errors:
            result.action = RowAction.ERROR
            result.values = None
            continue
        assert result.values is not None
        person = existing.get(result.values.email)
        if person is None:
            result.action = RowAction.CREATE
            continue
        if actor is not None and not can_edit_person(actor, person):
            if person.organisation_id != actor.organisation_id:
                result.errors.append(_(
                    "%(email)s belongs to a person of another organisation (%(organisation)s); "
                    "only the municipal coordinator can move people between organisations.",
                    email=person.email,
                    organisation=_short_name(organisations, person.organisation_id)))
            else:
                result.errors.append(_("%(email)s belongs to a person (%(role)s) whom you may "
                                       "not change.", email=person.email,
                                       role=person.role.label))
            result.action = RowAction.ERROR
            result.values = None
            continue
        result.person = person
        result.changes = _changes(person, result.values, organisations)
        result.action = RowAction.UPDATE if result.changes else RowAction.UNCHANGED
        if not person.active:
            result.notes.append(_("This person is deactivated and stays so."))
    return ImportPlan(table, results)


def _short_name(organisations: _OrganisationIndex, organisation_id: int) -> str:
    org = organisations.by_id.get(organisation_id)
    return org.short_name if org else ""


def _check_row(row: SourceRow, table: Table, organisations: _OrganisationIndex,
               default_organisation: Organisation | None, actor: Person | None) -> RowResult:
    cells = row.cells
    result = RowResult(line=row.line, action=RowAction.ERROR)
    errors = result.errors
    result.full_name = _preview_text(_raw_name(cells))
    result.email = _preview_text(cells.get(Column.EMAIL, ""))
    result.organisation = _preview_text(cells.get(Column.ORGANISATION, ""))
    result.position = _preview_text(cells.get(Column.POSITION, ""))

    surname = first_name = patronymic = ""
    try:
        surname, first_name, patronymic = _name_of(cells)
        result.full_name = " ".join(p for p in (surname, first_name, patronymic) if p)
    except InvalidValue as error:
        errors.append(str(error))

    email = ""
    try:
        raw_email = cells.get(Column.EMAIL, "").strip()
        if raw_email.lower().startswith("mailto:"):
            raw_email = raw_email[len("mailto:"):]
        email = normalize_email(raw_email)
        result.email = email
    except InvalidValue as error:
        errors.append(str(error))

    organisation = _organisation_of(cells, organisations, default_organisation, actor, errors)
    if organisation is not None:
        result.organisation = organisation.short_name

    position = phone = category = None
    if Column.POSITION in cells:
        try:
            position = clean_text(cells[Column.POSITION], max_length=POSITION_MAX,
                                  field=_l("Position")) or None
        except InvalidValue as error:
            errors.append(str(error))
    if Column.PHONE in cells:
        try:
            phone = normalize_phone(cells[Column.PHONE]) or None
        except InvalidValue as error:
            errors.append(str(error))
    if Column.CATEGORY in cells and cells[Column.CATEGORY].strip():
        try:
            category = parse_category(cells[Column.CATEGORY])
        except InvalidValue as error:
            errors.append(str(error))

    if email:  # keeps the duplicate check working even when another cell is bad
        result.values = PersonValues(
            surname=surname, first_name=first_name, patronymic=patronymic, email=email,
            organisation_id=organisation.id if organisation else 0,
            position=position, phone=phone, category=category)
    return result


def _raw_name(cells: dict[Column, str]) -> str:
    parts = [cells.get(c, "") for c in (Column.SURNAME, Column.FIRST_NAME, Column.PATRONYMIC)]
    if any(p.strip() for p in parts):
        return " ".join(p.strip() for p in parts if p.strip())
    return cells.get(Column.FULL_NAME, "")


def _name_of(cells: dict[Column, str]) -> tuple[str, str, str]:
    has_parts = Column.SURNAME in cells and Column.FIRST_NAME in cells
    if has_parts and (cells[Column.SURNAME].strip() or cells[Column.FIRST_NAME].strip()
                      or Column.FULL_NAME not in cells):
        return (clean_name_part(cells[Column.SURNAME], _l("Surname")),
                clean_name_part(cells[Column.FIRST_NAME], _l("First name")),
                clean_name_part(cells.get(Column.PATRONYMIC, ""), _l("Patronymic"),
                                required=False))
    return parse_full_name(cells.get(Column.FULL_NAME, ""))


def _organisation_of(cells: dict[Column, str], organisations: _OrganisationIndex,
                     default: Organisation | None, actor: Person | None,
                     errors: list[str]) -> Organisation | None:
    try:
        name = clean_text(cells.get(Column.ORGANISATION, ""), max_length=ORGANISATION_MAX,
                          field=_l("Organisation"))
    except InvalidValue as error:
        errors.append(str(error))
        return None
    if not name:
        if default is None:
            errors.append(_("Organisation is required."))
            return None
        organisation = default
    else:
        found = organisations.find(name)
        if not found:
            errors.append(_("Unknown organisation “%(name)s”.", name=name[:120]))
            return None
        if len(found) > 1:
            errors.append(_("“%(name)s” matches several organisations; write its full name.",
                            name=name[:120]))
            return None
        organisation = found[0]
    if not organisation.active:
        errors.append(_("The organisation “%(name)s” is deactivated.",
                        name=organisation.short_name))
        return None
    if actor is not None and not can_manage_people_of(actor, organisation.id):
        errors.append(_("You may import people only into your own organisation (%(own)s), "
                        "not into “%(name)s”.", own=actor.organisation.short_name,
                        name=organisation.short_name))
        return None
    return organisation


def _preview_text(value: str) -> str:
    """A cell as the preview shows it: one line, at most 120 characters."""
    text = re.sub(r"\s+", " ", value).strip()
    return text if len(text) <= 120 else text[:119] + "…"


def _people_by_email(emails: Sequence[str]) -> dict[str, Person]:
    people: dict[str, Person] = {}
    unique = sorted(set(emails))
    for start in range(0, len(unique), EMAIL_CHUNK):
        chunk = unique[start:start + EMAIL_CHUNK]
        for person in db.session.scalars(select(Person).where(Person.email.in_(chunk))):
            people[person.email.lower()] = person
    return people


def _changes(person: Person, values: PersonValues,
             organisations: _OrganisationIndex) -> list[Change]:
    """What the row would change; unchanged fields cost no translation lookup."""
    changes: list[Change] = []

    def compare(label: Any, old: Any, new: Any) -> None:
        if new is not None and old != new:
            changes.append(Change(str(label), str(old or ""), str(new or "")))

    compare(_l("Surname"), person.surname, values.surname)
    compare(_l("First name"), person.first_name, values.first_name)
    compare(_l("Patronymic"), person.patronymic, values.patronymic)
    if person.organisation_id != values.organisation_id:
        compare(_l("Organisation"), _short_name(organisations, person.organisation_id),
                _short_name(organisations, values.organisation_id))
    compare(_l("Position"), person.position, values.position)
    compare(_l("Phone"), person.phone, values.phone)
    if values.category is not None and person.category != values.category:
        changes.append(Change(_("Category"), person.category.label, values.category.label))
    return changes


# --------------------------------------------------------------------------------------------
# Applying
# --------------------------------------------------------------------------------------------

class ImportFailed(RuntimeError):
    """The database refused the import; nothing was written. str(error) is for the user."""


@dataclass
class ImportResult:
    imported: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # bad rows left out with "only the valid rows"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def apply_import(plan: ImportPlan, *, only_valid: bool = False,
                 progress: Callable[[int], None] | None = None) -> ImportResult:
    """Write the plan in one transaction. Nothing is written when a row is bad and
    `only_valid` is not chosen. The plan must come from plan_import in this same session."""
    bad = len(plan.bad_rows)
    if bad and not only_valid:
        return ImportResult(imported=False, skipped=bad)
    result = ImportResult(imported=True, skipped=bad)
    try:
        new_people: list[Person] = []
        for row in plan.rows:
            if row.action is RowAction.CREATE:
                assert row.values is not None
                new_people.append(_create_person(row.values))
                result.created += 1
            elif row.action is RowAction.UPDATE:
                assert row.values is not None and row.person is not None
                _update_person(row.person, row.values)
                result.updated += 1
            elif row.action is RowAction.UNCHANGED:
                result.unchanged += 1
            if progress is not None:
                progress(1)
        db.session.add_all(new_people)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("people import failed")
        raise ImportFailed(_("The directory changed while the file was being imported (or the "
                             "database refused it). Nothing was imported; please try again.")
                           ) from None
    return result


def _create_person(values: PersonValues) -> Person:
    """A new teacher; they sign in by emailed link until they set a password."""
    return Person(
        surname=values.surname, first_name=values.first_name, patronymic=values.patronymic,
        email=values.email, organisation_id=values.organisation_id,
        position=values.position or "", phone=values.phone or "",
        category=values.category if values.category is not None else Category.NONE,
        role=Role.TEACHER, password_hash="", timezone_override="", locale="", active=True,
    )


def _update_person(person: Person, values: PersonValues) -> None:
    """Update what the file gives; the role, password and activity stay as they are."""
    person.surname = values.surname
    person.first_name = values.first_name
    person.patronymic = values.patronymic
    person.organisation_id = values.organisation_id
    if values.position is not None:
        person.position = values.position
    if values.phone is not None:
        person.phone = values.phone
    if values.category is not None:
        person.category = values.category


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

def summary_line(plan: ImportPlan, result: ImportResult | None = None, *,
                 dry_run: bool = False) -> str:
    counts = plan.counts
    bad = counts[RowAction.ERROR]
    seen = _("%(total)d rows: %(valid)d valid (%(create)d new, %(update)d to update, "
             "%(unchanged)d unchanged), %(bad)d bad.", total=counts["total"],
             valid=counts["total"] - bad, create=counts[RowAction.CREATE],
             update=counts[RowAction.UPDATE], unchanged=counts[RowAction.UNCHANGED], bad=bad)
    if dry_run or result is None:
        return seen + " " + _("Dry run: nothing imported.")
    if not result.imported:
        return seen + " " + _("Nothing imported: fix the bad rows, or import only the valid "
                              "rows (--only-valid).")
    done = _("Imported: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.",
             created=result.created, updated=result.updated, unchanged=result.unchanged)
    if result.skipped:
        done += " " + ngettext("%(num)d bad row skipped.", "%(num)d bad rows skipped.",
                               result.skipped)
    return seen + " " + done


# --------------------------------------------------------------------------------------------
# Templates to download
# --------------------------------------------------------------------------------------------

CATEGORY_CHOICES_RU = ("без категории", "первая", "высшая", "педагог-методист",
                       "педагог-наставник")


def template_csv() -> bytes:
    """The header row as Russian Excel opens it: UTF-8 with BOM, `;` between columns."""
    return codecs.BOM_UTF8 + (";".join(TEMPLATE_HEADERS) + "\r\n").encode("utf-8")


def template_xlsx(organisation_names: Sequence[str] = ()) -> bytes:
    """A workbook with the header row, a category list, and the organisations on a second
    sheet (the import reads only the first one)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Педагоги"
    sheet.append(list(TEMPLATE_HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEF", (36, 34, 26, 30, 18, 20), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    categories = DataValidation(type="list", formula1='"' + ",".join(CATEGORY_CHOICES_RU) + '"',
                                allow_blank=True)
    sheet.add_data_validation(categories)
    categories.add("F2:F5000")
    for column in ("E",):  # phones stay text: Excel would drop the + and turn 8… into a number
        for row in range(2, 502):
            sheet[f"{column}{row}"].number_format = "@"
    if organisation_names:
        orgs = workbook.create_sheet("Организации")
        orgs.append(["Организация"])
        orgs["A1"].font = Font(bold=True)
        orgs.column_dimensions["A"].width = 60
        for name in organisation_names:
            orgs.append([name])
        choice = DataValidation(type="list",
                                formula1=f"'Организации'!$A$2:$A${len(organisation_names) + 1}",
                                allow_blank=True)
        sheet.add_data_validation(choice)
        choice.add("B2:B5000")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# Stored uploads: the file waits server-side between the preview and the confirmation
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass
class StoredUpload:
    token: str
    owner_id: int
    filename: str
    size: int
    created_at: str
    expires_at: str
    default_organisation_id: int | None = None
    #: "pending" until imported, then "done" with the result.
    status: str = "pending"
    result: dict[str, Any] | None = None
    bad_lines: list[str] = field(default_factory=list)

    @property
    def expired(self) -> bool:
        return datetime.fromisoformat(self.expires_at) <= datetime.now(UTC)


def uploads_root() -> Path:
    return Path(current_app.instance_path) / "imports"


def _upload_dir(root: Path, token: str) -> Path | None:
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    return root / token


def save_upload(data: bytes, *, owner_id: int, filename: str,
                default_organisation_id: int | None = None, root: Path | None = None,
                ttl: timedelta | None = None) -> StoredUpload:
    """Keep an uploaded file under a fresh random token, readable by the server only."""
    root = root or uploads_root()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    sweep_expired_uploads(root)
    ttl = ttl or _setting("IMPORT_UPLOAD_TTL", DEFAULT_UPLOAD_TTL)
    now = datetime.now(UTC)
    token = secrets.token_urlsafe(24)  # 32 characters
    directory = root / token
    directory.mkdir(mode=0o700)
    _write_private(directory / "data", data)
    upload = StoredUpload(
        token=token, owner_id=owner_id, filename=_safe_filename(filename), size=len(data),
        created_at=now.isoformat(), expires_at=(now + ttl).isoformat(),
        default_organisation_id=default_organisation_id)
    _write_meta(directory, upload)
    return upload


def load_upload(token: str, *, owner_id: int, root: Path | None = None) -> StoredUpload | None:
    """The upload of this token if it belongs to `owner_id` and has not expired."""
    directory = _upload_dir(root or uploads_root(), token)
    if directory is None:
        return None
    try:
        meta = json.loads((directory / "meta.json").read_text("utf-8"))
        upload = StoredUpload(**meta)
    except (OSError, ValueError, TypeError):
        return None
    if upload.token != token or upload.owner_id != owner_id or upload.expired:
        return None
    return upload


def read_upload(upload: StoredUpload, root: Path | None = None) -> bytes | None:
    directory = _upload_dir(root or uploads_root(), upload.token)
    try:
        return (directory / "data").read_bytes() if directory else None
    except OSError:
        return None


def claim_upload(upload: StoredUpload, root: Path | None = None) -> bool:
    """True for the one request that may import this upload now (double clicks, two tabs)."""
    directory = _upload_dir(root or uploads_root(), upload.token)
    if directory is None:
        return False
    try:
        os.close(os.open(directory / "importing", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False
    return True


def release_upload(upload: StoredUpload, root: Path | None = None) -> None:
    directory = _upload_dir(root or uploads_root(), upload.token)
    if directory is not None:
        (directory / "importing").unlink(missing_ok=True)


def finish_upload(upload: StoredUpload, result: ImportResult, bad_lines: list[str],
                  root: Path | None = None) -> None:
    """Remember the result (for the result page) and delete the file itself."""
    directory = _upload_dir(root or uploads_root(), upload.token)
    if directory is None:
        return
    upload.status = "done"
    upload.result = result.as_dict()
    upload.bad_lines = bad_lines[:1000]
    _write_meta(directory, upload)
    (directory / "data").unlink(missing_ok=True)
    (directory / "importing").unlink(missing_ok=True)


def discard_upload(upload: StoredUpload, root: Path | None = None) -> None:
    directory = _upload_dir(root or uploads_root(), upload.token)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


def sweep_expired_uploads(root: Path | None = None) -> int:
    """Delete uploads past their expiry; returns how many."""
    root = root or uploads_root()
    removed = 0
    if not root.is_dir():
        return 0
    now = datetime.now(UTC)
    for directory in root.iterdir():
        if not _TOKEN.fullmatch(directory.name):
            continue
        try:
            meta = json.loads((directory / "meta.json").read_text("utf-8"))
            expired = datetime.fromisoformat(meta["expires_at"]) <= now
        except (OSError, ValueError, KeyError, TypeError):
            # A half-written upload: give it an hour before removing it.
            try:
                expired = (now.timestamp() - directory.stat().st_mtime) > 3600
            except OSError:
                continue
        if expired:
            shutil.rmtree(directory, ignore_errors=True)
            removed += 1
    return removed


def _safe_filename(name: str) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable())
    return base.strip()[:120] or "file"


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _write_meta(directory: Path, upload: StoredUpload) -> None:
    temporary = directory / f"meta.{secrets.token_hex(4)}.tmp"
    _write_private(temporary, json.dumps(asdict(upload), ensure_ascii=False).encode("utf-8"))
    os.replace(temporary, directory / "meta.json")


# --------------------------------------------------------------------------------------------
# One call for the command line (and anyone else with bytes in hand)
# --------------------------------------------------------------------------------------------

def organisation_by_name(name: str) -> Organisation:
    """The one organisation called `name` (short or full), or InvalidValue."""
    found = _OrganisationIndex.load().find(name)
    if not found:
        raise InvalidValue(_("Unknown organisation “%(name)s”.", name=name[:120]))
    if len(found) > 1:
        raise InvalidValue(_("“%(name)s” matches several organisations; write its full name.",
                             name=name[:120]))
    return found[0]


def run_import(data: bytes, filename: str = "", *, actor: Person | None = None,
               only_valid: bool = False, dry_run: bool = False,
               default_organisation: Organisation | None = None,
               progress: Callable[[int], None] | None = None,
               on_table: Callable[[Table], None] | None = None,
               ) -> tuple[ImportPlan, ImportResult | None]:
    """Read, check and (unless dry_run) apply a file. Raises FileRejected or ImportFailed."""
    table = read_table(data, filename, has_default_organisation=default_organisation is not None)
    if on_table is not None:
        on_table(table)
    plan = plan_import(table, actor=actor, default_organisation=default_organisation,
                       progress=progress)
    if dry_run:
        return plan, None
    return plan, apply_import(plan, only_valid=only_valid, progress=progress)
