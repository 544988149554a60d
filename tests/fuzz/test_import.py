"""People import (hub/directory/importing): any bytes, and hostile rows in CSV (every encoding
and delimiter it reads) or XLSX, give rows or a FileRejected that says why — never another
exception; valid generated people go through the downloadable templates and come back the same.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from dataclasses import dataclass

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from hub.directory import importing
from hub.directory.importing import FileRejected, RowAction, plan_import, read_table, run_import
from hub.directory.importing.columns import TEMPLATE_HEADERS
from hub.directory.importing.templates import CATEGORY_CHOICES_RU
from hub.directory.models import Category, Organisation, Person
from hub.directory.validation import parse_category
from hub.extensions import db
from tests.fuzz.conftest import new_rows
from tests.fuzz.text import name_part, nasty_text

ENGLISH_HEADERS = ("Full name", "Organisation", "Position", "Email", "Phone", "Category")
PART_HEADERS = ("Фамилия", "Имя", "Отчество", "Организация", "E-mail", "Должность")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1251", "koi8_r", "cp866")
PREFIXES = (b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, b"PK\x03\x04", b"PK\x05\x06",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"<html>", b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n",
            "ФИО;Организация;Email\r\n".encode())


@pytest.fixture
def organisations(make_org) -> list[Organisation]:  # type: ignore[no-untyped-def]
    return [make_org(short_name="Детский сад № 22", full_name="МБДОУ «Детский сад № 22»"),
            make_org(short_name="Школа № 5", full_name="МБОУ «СОШ № 5»")]


def _check_plan(data: bytes, filename: str) -> None:
    """Read and plan a file: rows or FileRejected; every bad row says why, by its line."""
    try:
        table = read_table(data, filename)
    except FileRejected as error:
        assert str(error).strip()
        return
    assert table.rows and table.header_line >= 1
    plan = plan_import(table)
    for row in plan.rows:
        assert row.line > table.header_line
        if row.action is RowAction.ERROR:
            assert row.reason.strip() and row.report_line.startswith(f"line {row.line}: ")
        else:
            assert row.values is not None and "@" in row.values.email


@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=2048),
       name=st.sampled_from(["people.csv", "people.xlsx", "", "list.txt"]))
@example(prefix=b"", body=b"\xff\xfe\x00", name="people.csv")  # a UTF-16 BOM then half a char
@example(prefix=b"", body="ФИО;Email;Организация\n\"open".encode(), name="")
def test_any_bytes_give_rows_or_a_clear_error(organisations, prefix, body, name):
    _check_plan(prefix + body, name)


@st.composite
def hostile_csv(draw: st.DrawFn) -> bytes:
    headers = list(draw(st.sampled_from([TEMPLATE_HEADERS, ENGLISH_HEADERS, PART_HEADERS])))
    headers = draw(st.permutations(headers))
    organisations = ["Детский сад № 22", "мбоу «сош №5»", ""]
    cell = st.one_of(nasty_text, st.sampled_from(organisations),
                     st.sampled_from(["ivanova@example.org", "mailto:x@example.org", "@", "a@b"]),
                     st.text(min_size=300, max_size=3000))
    rows = draw(st.lists(st.lists(cell, max_size=len(headers) + 2), min_size=0, max_size=6))
    delimiter = draw(st.sampled_from([";", ",", "\t", "|"]))
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter,
                        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])))
    if draw(st.booleans()):
        out.write("Список педагогов\r\n")  # a title above the header
    writer.writerow(headers)
    writer.writerows(rows)
    encoding = draw(st.sampled_from(ENCODINGS))
    return out.getvalue().encode(encoding, errors="replace")


@given(hostile_csv())
@example("ФИО;Email;Организация\r\n\x00;;\r\n".encode())
def test_hostile_csv_rows_give_rows_or_a_clear_error(organisations, data):
    _check_plan(data, "people.csv")


def _xlsx(rows: list[list[str]]) -> bytes:
    """The downloadable template with these rows under its header."""
    workbook = load_workbook(io.BytesIO(importing.template_xlsx(["Детский сад № 22"])))
    for row in rows:
        workbook.worksheets[0].append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


#: Text openpyxl can store (XML 1.0 has no C0 controls) that it does not take for a formula.
_sheet_text = nasty_text.map(lambda s: "".join(ch for ch in s if ch >= " " or ch in "\t\n\r")
                             .lstrip("=").replace("\ud800", ""))


@given(st.lists(st.lists(_sheet_text, max_size=8), min_size=1, max_size=5))
def test_hostile_xlsx_rows_give_rows_or_a_clear_error(organisations, rows):
    _check_plan(_xlsx(rows), "people.xlsx")


@dataclass
class Row:
    """A valid person as a coordinator would type them."""

    surname: str
    first_name: str
    patronymic: str
    organisation: int
    position: str
    phone: str
    category: str

    def cells(self, email: str, organisations: list[Organisation]) -> list[str]:
        name = " ".join(p for p in (self.surname, self.first_name, self.patronymic) if p)
        return [name, organisations[self.organisation].short_name, self.position, email,
                self.phone, self.category]


_phone = st.one_of(st.just(""), st.from_regex(r"8 \(9\d\d\) \d{3}-\d\d-\d\d", fullmatch=True),
                   st.from_regex(r"\+\d{5,15}", fullmatch=True))
_position = st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "Zs", "P"]),
                    max_size=200).map(lambda s: " ".join(s.split()).lstrip("=+-@"))
_row = st.builds(Row, name_part, name_part, st.one_of(st.just(""), name_part),
                 st.integers(0, 1), _position, _phone, st.sampled_from(CATEGORY_CHOICES_RU))


def _expected_phone(typed: str) -> str:
    digits = typed.replace(" ", "").replace("(", "").replace(")", "").replace("-", "")
    return "+7" + digits[1:] if len(digits) == 11 and digits.startswith("8") else digits


@given(rows=st.lists(_row, min_size=1, max_size=8), kind=st.sampled_from(["csv", "xlsx"]),
       encoding=st.sampled_from(["utf-8-sig", "utf-8", "utf-16", "cp1251"]))
def test_valid_rows_through_the_template_come_back_the_same(organisations, rows, kind,
                                                            encoding):
    emails = [f"fuzz.{i}.{len(rows)}@sad22.example.org" for i in range(len(rows))]
    cells = [row.cells(email, organisations) for row, email in zip(rows, emails, strict=True)]
    if kind == "xlsx":
        data = _xlsx(cells)
    else:
        text = codecs.decode(importing.template_csv(), "utf-8-sig") + "".join(
            ";".join('"' + c.replace('"', '""') + '"' for c in line) + "\r\n" for line in cells)
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            data = text.encode("utf-8-sig")  # Windows-1251 cannot hold every letter
    with new_rows():
        plan, result = run_import(data, f"people.{kind}")
        assert plan.bad_rows == [] and result is not None and result.created == len(rows)
        found = {p.email: p for p in _people(emails)}
        for row, email in zip(rows, emails, strict=True):
            person = found[email]
            assert (person.surname, person.first_name, person.patronymic) == (
                row.surname, row.first_name, row.patronymic)
            assert person.organisation_id == organisations[row.organisation].id
            assert person.position == " ".join(unicodedata.normalize("NFC", row.position)
                                               .split())
            assert person.phone == _expected_phone(row.phone)
            assert person.category == (parse_category(row.category) if row.category
                                       else Category.NONE)
    assert _people(emails) == []


def _people(emails: list[str]) -> list[Person]:
    return list(db.session.scalars(select(Person).where(Person.email.in_(emails))))
