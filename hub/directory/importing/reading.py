"""Reading a CSV or XLSX file into a Table: what kind of file it is, its encoding and delimiter,
where the header is and which column is which. A file that cannot be read raises FileRejected."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import filetype
from flask_babel import gettext as _
from flask_babel import ngettext

from hub.directory.importing.columns import (
    COLUMN_TITLES,
    TEMPLATE_HEADERS,
    Column,
    recognise_header,
)
from hub.directory.importing.settings import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ROWS,
    DEFAULT_MAX_UNPACKED_BYTES,
    setting,
)
from hub.directory.validation import clean_text

#: The header is looked for among the first rows (a title may sit above it).
HEADER_SEARCH_ROWS = 20


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
    max_bytes = max_bytes or setting("IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)
    max_rows = max_rows or setting("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)
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
    if unpacked > setting("IMPORT_MAX_UNPACKED_BYTES", DEFAULT_MAX_UNPACKED_BYTES):
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
