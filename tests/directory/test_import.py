"""Importing people: reading CSV/XLSX, checking rows, applying, and `flask directory import`."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import event, select

from hub.directory import importing
from hub.directory.importing import Column, FileRejected, RowAction
from hub.directory.models import Category, Organisation, OrgKind, Person, Role
from hub.extensions import db

from .conftest import count, fresh
from .test_import_helpers import (
    HEADER,
    make_network,
    people_rows,
    person_row,
    png_bytes,
    to_csv,
    to_xlsx,
)

# Lines (in the file; the header is line 1) spoiled in the 500-row file, and why.
BAD_LINES = {57: "malformed email", 204: "unknown organisation", 402: "duplicate email"}


def file_of_500(orgs: list[Organisation]) -> bytes:
    rows = people_rows(500, orgs)
    rows[57 - 2][3] = "ivanova.m@@sad22"                         # line 57
    rows[204 - 2][1] = "Детский сад № 999"                        # line 204
    rows[402 - 2][3] = rows[10 - 2][3].upper()                    # line 402 repeats line 10
    return to_csv(rows)


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def run_cli(runner, path: str, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(args=["directory", "import", path, *args])


def plan_of(data: bytes, **kwargs):  # type: ignore[no-untyped-def]
    default = kwargs.pop("default_organisation", None)
    table = importing.read_table(data, "file", has_default_organisation=default is not None)
    return importing.plan_import(table, default_organisation=default, **kwargs)


def by_email(email: str) -> Person:
    return db.session.scalar(select(Person).where(Person.email == email))


def reasons(plan) -> dict[int, str]:  # type: ignore[no-untyped-def]
    return {row.line: row.reason for row in plan.bad_rows}


# --- the 500-row file ------------------------------------------------------------------------

def test_cli_reports_exactly_the_three_bad_lines_and_imports_nothing(runner, tmp_path):
    orgs = make_network()
    path = write(tmp_path, "педагоги.csv", file_of_500(orgs))

    result = run_cli(runner, path)

    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    bad = [line for line in lines if line.startswith("line ")]
    assert [int(line.split()[1].rstrip(":")) for line in bad] == sorted(BAD_LINES)
    assert bad[0].startswith("line 57: ") and "ivanova.m@@sad22" in bad[0]
    assert bad[1].startswith("line 204: ") and "Детский сад № 999" in bad[1]
    assert bad[2] == "line 402: The email teacher00008@sad.example.ru is already on line 10."
    assert lines[-1].startswith("500 rows: 497 valid (497 new, 0 to update, 0 unchanged), 3 bad.")
    assert "Nothing imported" in lines[-1]
    assert len(lines) == 4
    assert count(Person) == 0


def test_cli_only_valid_imports_the_497_then_reimport_updates_by_email(runner, tmp_path):
    orgs = make_network()
    data = file_of_500(orgs)
    path = write(tmp_path, "педагоги.csv", data)

    result = run_cli(runner, path, "--only-valid")

    assert result.exit_code == 0, result.output
    assert result.stdout.count("\nline ") + result.stdout.startswith("line ") == 3
    assert "Imported: 497 created, 0 updated, 0 unchanged. 3 bad rows skipped." in result.stdout
    assert count(Person) == 497
    people = db.session.scalars(select(Person)).all()
    assert {p.role for p in people} == {Role.TEACHER}
    ivanova = by_email("teacher00000@sad.example.ru")
    assert (ivanova.surname, ivanova.first_name, ivanova.patronymic) == (
        "Иванова", "Мария", "Петровна")
    assert ivanova.organisation_id == orgs[0].id
    assert ivanova.phone == "+79120000000"
    assert ivanova.category == Category.HIGHEST

    # The same file again: nothing new, nothing changed.
    again = run_cli(runner, path, "--only-valid")
    assert again.exit_code == 0
    assert "Imported: 0 created, 0 updated, 497 unchanged." in again.stdout
    assert count(Person) == 497

    # A corrected file where some people changed position, one changed organisation and one
    # is now a coordinator in the hub: updated by email, never duplicated, role kept.
    promoted = by_email("teacher00001@sad.example.ru")
    promoted.role = Role.ORG_COORDINATOR
    db.session.commit()
    rows = people_rows(500, orgs)
    for i in (0, 1, 2):
        rows[i][2] = "заведующий методическим кабинетом"
    rows[3][1] = orgs[4].short_name
    rows[3][3] = rows[3][3].upper()  # the same mailbox, whatever the case
    fixed = write(tmp_path, "fixed.csv", to_csv(rows))
    third = run_cli(runner, fixed)
    assert third.exit_code == 0, third.output
    assert "Imported: 3 created, 4 updated, 493 unchanged." in third.stdout
    assert count(Person) == 500
    assert fresh(promoted).role == Role.ORG_COORDINATOR
    assert fresh(promoted).position == "заведующий методическим кабинетом"
    moved = by_email("teacher00003@sad.example.ru")
    assert moved.organisation_id == orgs[4].id


def test_cli_dry_run_and_default_organisation(runner, tmp_path):
    orgs = make_network(2)
    data = to_csv([["Ёлкина Алёна Фёдоровна", "ira@example.org"]], header=("ФИО", "Email"))
    path = write(tmp_path, "no-org.csv", data)

    missing = run_cli(runner, path)
    assert missing.exit_code == 1
    assert "Организация / organisation" in missing.stderr
    assert count(Person) == 0

    dry = run_cli(runner, path, "--organisation", "детский сад №21", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Dry run: nothing imported." in dry.stdout
    assert count(Person) == 0

    done = run_cli(runner, path, "--organisation", "детский сад №21")
    assert done.exit_code == 0, done.output
    assert db.session.scalar(select(Person)).organisation_id == orgs[1].id

    unknown = run_cli(runner, path, "--organisation", "Школа № 1")
    assert unknown.exit_code == 1
    assert "Unknown organisation" in unknown.stderr


def test_cli_rejects_a_png_renamed_csv(runner, tmp_path):
    path = write(tmp_path, "people.csv", png_bytes())
    result = run_cli(runner, path)
    assert result.exit_code == 1
    assert "not a CSV or XLSX" in result.stderr and "PNG" in result.stderr
    assert count(Person) == 0


# --- encodings, delimiters, formats ------------------------------------------------------------

def test_windows_1251_csv_is_detected(runner, tmp_path):
    orgs = make_network(1)
    rows = [person_row(i, "МБДОУ «Детский сад № 20 «Яблонька»»") for i in range(5)]
    rows[0][0] = "Фёдорова Алёна Сергеевна"
    data = to_csv(rows, encoding="cp1251")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    table = importing.read_table(data, "people.csv")
    assert table.encoding == "Windows-1251"
    assert table.rows[0].cells[Column.FULL_NAME] == "Фёдорова Алёна Сергеевна"

    result = run_cli(runner, write(tmp_path, "cp1251.csv", data))
    assert result.exit_code == 0, result.output
    person = db.session.scalar(select(Person).where(Person.surname == "Фёдорова"))
    assert person.first_name == "Алёна" and person.organisation_id == orgs[0].id


@pytest.mark.parametrize("encoding,expected", [("koi8_r", "KOI8-R"), ("cp866", "CP866")])
def test_other_russian_code_pages(encoding, expected):
    make_network(1)
    data = to_csv([person_row(1, "Детский сад N 20")], encoding=encoding)
    table = importing.read_table(data)
    assert table.encoding == expected
    assert table.rows[0].cells[Column.FULL_NAME].startswith("Смирнова Анна")


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
@pytest.mark.parametrize("bom", [True, False])
def test_delimiters_and_bom(delimiter, bom):
    make_network(1)
    rows = [person_row(i, "МБДОУ «Детский сад № 20 «Яблонька»», г. Лесной") for i in range(3)]
    table = importing.read_table(to_csv(rows, delimiter=delimiter, bom=bom))
    assert table.delimiter == delimiter
    assert table.encoding == "UTF-8"
    assert [r.line for r in table.rows] == [2, 3, 4]
    assert table.rows[0].cells[Column.ORGANISATION].endswith("г. Лесной")
    assert table.rows[0].cells[Column.FULL_NAME] == "Иванова Мария Петровна"


def test_utf16_tab_text_as_excel_saves_unicode_text():
    make_network(1)
    data = to_csv([person_row(1, "Детский сад № 20")], delimiter="\t", encoding="utf-16")
    table = importing.read_table(data)
    assert (table.encoding, table.delimiter) == ("UTF-16", "\t")
    assert table.rows[0].cells[Column.EMAIL] == "teacher00001@sad.example.ru"


def test_xlsx_happy_path(runner, tmp_path):
    orgs = make_network(2)
    rows: list[list[object]] = [person_row(i, orgs[i % 2].full_name) for i in range(6)]
    rows[0][4] = 89123456789          # a phone typed as a number
    rows[1][4] = 79120001122.0        # ... or kept as a float by another program
    rows[2][5] = "Высшая квалификационная категория"
    data = to_xlsx(rows, title="Список педагогических работников на 01.09.2026",
                   blank_rows_at=[6])
    table = importing.read_table(data, "people.xlsx")
    assert table.kind == "xlsx"
    assert table.header_line == 3           # the title, an empty row, then the header
    assert [r.line for r in table.rows] == [4, 5, 7, 8, 9, 10]  # row 6 is empty, still counted

    result = run_cli(runner, write(tmp_path, "people.xlsx", data))
    assert result.exit_code == 0, result.output
    assert "Imported: 6 created" in result.stdout
    first = by_email("teacher00000@sad.example.ru")
    assert first.phone == "+79123456789"
    second = by_email("teacher00001@sad.example.ru")
    assert second.phone == "+79120001122" and second.organisation_id == orgs[1].id
    third = by_email("teacher00002@sad.example.ru")
    assert third.category == Category.HIGHEST


def test_xlsx_bad_row_lines_are_sheet_rows():
    make_network(1)
    rows = [person_row(i, "Детский сад № 20") for i in range(4)]
    rows[2][3] = "не почта"
    plan = plan_of(to_xlsx(rows, blank_rows_at=[3]))
    assert list(reasons(plan)) == [5]


def test_xlsx_with_a_missing_column_is_rejected():
    make_network(1)
    header = ("ФИО", "Организация", "Должность", "Телефон")
    data = to_xlsx([["Иванова Мария", "Детский сад № 20", "воспитатель", "89120000000"]],
                   header=header)
    with pytest.raises(FileRejected) as error:
        importing.read_table(data, "people.xlsx")
    assert str(error.value) == "A required column is missing: Email."

    with pytest.raises(FileRejected) as error:
        importing.read_table(to_xlsx([["воспитатель", "a@b.ru"]], header=("Должность", "Email")))
    assert "Required columns are missing" in str(error.value)
    assert "ФИО / full name" in str(error.value)
    assert "Организация / organisation" in str(error.value)


def test_headers_in_english_in_parts_and_in_any_case():
    orgs = make_network(1)
    header = ("  ФАМИЛИЯ ", "имя", "Отчество", "E-mail", "Organization", "Job title",
              "Телефон (мобильный)", "Квалификационная категория", "№ п/п")
    rows = [["Семёнова", "Алёна", "", "semenova@example.org", orgs[0].short_name, "логопед",
             "", "первая", "1"]]
    plan = plan_of(to_csv(rows, header=header, delimiter=","))
    row = plan.rows[0]
    assert row.action is RowAction.CREATE, row.reason
    assert (row.values.surname, row.values.first_name, row.values.patronymic) == (
        "Семёнова", "Алёна", "")
    assert row.values.category == Category.FIRST
    assert plan.table.ignored_columns == ["№ п/п"]

    english = to_csv([["Petrova Anna", "Детский сад № 20", "teacher", "anna@example.org",
                       "", "Highest"]],
                     header=("Full name", "Organisation", "Position", "Email", "Phone",
                             "Category"), delimiter=",")
    assert plan_of(english).rows[0].action is RowAction.CREATE


def test_organisation_is_matched_by_short_or_full_name_whatever_the_quotes():
    orgs = make_network(2)
    db.session.add(Organisation(full_name="МАОУ «СОШ № 8»", short_name="СОШ № 8",
                                kind=OrgKind.SCHOOL, municipality="г. Лесной"))
    db.session.commit()
    spellings = ["детский сад №20", "ДЕТСКИЙ САД  № 20", 'МБДОУ "Детский сад № 20 "Яблонька""',
                 "мбдоу “детский сад № 20 „яблонька“”", "Детский сад № 20.", "маоу сош №8",
                 "Детский сад № 2"]
    rows = [person_row(i, name) for i, name in enumerate(spellings)]
    plan = plan_of(to_csv(rows))
    assert [r.action for r in plan.rows[:6]] == [RowAction.CREATE] * 6
    assert {r.values.organisation_id for r in plan.rows[:5]} == {orgs[0].id}
    assert plan.rows[6].reason == "Unknown organisation “Детский сад № 2”."


def test_deactivated_and_ambiguous_organisations():
    orgs = make_network(2)
    orgs[1].active = False
    twin = Organisation(full_name="МБДОУ «Детский сад № 20» (пос. Горный)",
                        short_name="Детский сад № 20", kind=OrgKind.KINDERGARTEN,
                        municipality="пос. Горный")
    db.session.add(twin)
    db.session.commit()
    plan = plan_of(to_csv([person_row(1, "Детский сад № 21"), person_row(2, "Детский сад № 20"),
                           person_row(3, twin.full_name)]))
    assert reasons(plan) == {
        2: "The organisation “Детский сад № 21” is deactivated.",
        3: "“Детский сад № 20” matches several organisations; write its full name.",
    }


def test_multiline_quoted_cell_keeps_file_line_numbers():
    make_network(1)
    rows = [person_row(0, "Детский сад № 20"), person_row(1, "Детский сад № 20"),
            person_row(2, "Детский сад № 20")]
    rows[0][2] = "воспитатель\nпо совместительству"   # the record spans lines 2 and 3
    rows[2][3] = "broken"
    data = to_csv(rows, newline="\n")
    plan = plan_of(data)
    assert [r.line for r in plan.rows] == [2, 4, 5]
    assert list(reasons(plan)) == [5]


def test_empty_lines_are_skipped_but_counted():
    make_network(1)
    text = ("ФИО;Организация;Email\n\n"
            "Иванова Мария;Детский сад № 20;a@example.org\n;;\n\n"
            "Петрова Анна;Детский сад № 20;bad\n")
    plan = plan_of(text.encode())
    assert [r.line for r in plan.rows] == [3, 6]
    assert [r.report_line for r in plan.bad_rows] == ["line 6: “bad” is not a valid email address."]


# --- whole-file rejections -----------------------------------------------------------------------

@pytest.mark.parametrize("data,message", [
    (b"", "The file is empty."),
    (b"\xef\xbb\xbf \r\n\r\n", "The file is empty."),
    ("ФИО;Организация;Email\r\n".encode(), "The file has a header but no rows of people under it."),
    ("ФИО;Организация;Email\r\n;;\r\n".encode(),
     "The file has a header but no rows of people under it."),
    ("просто текст\nещё строка\n".encode(), "No header row found"),
    (b"<html><body><table><tr><td>x</td></tr></table></body></html>", "web page"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old Excel (.xls)"),
    (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04", "GIF"),
    (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)), "ELF"),
    (b"ab" + bytes(range(256)) * 4, "its content is binary, not text"),
])
def test_files_rejected_as_a_whole(data, message):
    with pytest.raises(FileRejected) as error:
        importing.read_table(data, "people.csv")
    assert message in str(error.value)


def test_png_renamed_csv_is_rejected_by_its_content():
    with pytest.raises(FileRejected) as error:
        importing.read_table(png_bytes(), "people.csv")
    assert str(error.value).startswith("This is not a CSV or XLSX file")
    assert "PNG" in str(error.value) and "image/png" in str(error.value)


def test_broken_and_foreign_zip_files_are_rejected():
    broken = to_xlsx([["Иванова Мария", "Детский сад", "", "a@b.ru", "", ""]])[:3000]
    with pytest.raises(FileRejected, match="damaged"):
        importing.read_table(broken, "people.xlsx")

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "this is not xml")
    with pytest.raises(FileRejected, match="cannot be opened"):
        importing.read_table(buffer.getvalue(), "people.xlsx")

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(FileRejected, match="Word document"):
        importing.read_table(buffer.getvalue(), "people.xlsx")


def test_too_big_and_too_many_rows(app):
    with pytest.raises(FileRejected, match="larger than 5 MB"):
        importing.read_table(b"x" * (5 * 1024 * 1024 + 1), "people.csv")
    data = to_csv([person_row(i, "Детский сад № 20") for i in range(11)])
    with pytest.raises(FileRejected, match="more than 10 rows"):
        importing.read_table(data, max_rows=10)


def test_zip_bomb_is_refused(app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_UNPACKED_BYTES", 10_000)
    data = to_xlsx([person_row(i, "Детский сад № 20") for i in range(200)])
    with pytest.raises(FileRejected, match="unpacks to too much data"):
        importing.read_table(data, "people.xlsx")


# --- bad values ----------------------------------------------------------------------------------

def test_empty_and_10000_character_fields():
    make_network(1)
    long = "а" * 10_000
    rows = [
        ["", "Детский сад № 20", "", "", "", ""],
        [long, "Детский сад № 20", "", "long@example.org", "", ""],
        ["Иванова Мария", long, "", "org@example.org", "", ""],
        ["Иванова Мария", "Детский сад № 20", long, "pos@example.org", "", ""],
        ["Иванова Мария", "Детский сад № 20", "", "x" * 10_000 + "@example.org", "", ""],
        ["Иванова Мария", "Детский сад № 20", "", "phone@example.org", "1" * 10_000, ""],
        ["Иванова Мария", "Детский сад № 20", "", "cat@example.org", "", long],
        ["Иванова Мария", "", "", "empty-org@example.org", "", ""],
        ["Иванова Мария", "Детский сад № 20", "", "fine@example.org", "", ""],
    ]
    plan = plan_of(to_csv(rows))
    found = reasons(plan)
    assert sorted(found) == list(range(2, 10))
    assert "Surname, first name, patronymic is required." in found[2]
    assert "Email is required." in found[2]
    assert found[3] == "Surname, first name, patronymic is longer than 300 characters."
    assert found[4] == "Organisation is longer than 300 characters."
    assert found[5] == "Position is longer than 200 characters."
    assert found[6] == "Email is longer than 254 characters."
    assert found[7] == "Phone is longer than 40 characters."
    assert found[8] == "Category is longer than 60 characters."
    assert found[9] == "Organisation is required."
    assert all(len(reason) < 400 for reason in found.values())
    assert plan.rows[-1].action is RowAction.CREATE


@pytest.mark.parametrize("email", [
    "ivanova", "ivanova@", "@sad.ru", "ivanova@@sad.ru", "иванова@сад", "a b@sad.ru",
    "ivanova@sad..ru", "ivanova@sad.ru; petrova@sad.ru", "<script>@sad.ru", "ivanova@sad.ru'--",
])
def test_malformed_emails_are_bad_rows(email):
    make_network(1)
    plan = plan_of(to_csv([["Иванова Мария", "Детский сад № 20", "", email, "", ""]]))
    assert plan.rows[0].action is RowAction.ERROR
    assert "is not a valid email address" in plan.rows[0].reason


def test_email_is_normalised_and_duplicates_are_reported_on_the_later_line():
    make_network(1)
    rows = [["Иванова Мария", "Детский сад № 20", "", "mailto:Ivanova@Sad.Example.RU", "", ""],
            ["Петрова Анна", "Детский сад № 20", "", "other@sad.example.ru", "", ""],
            ["Иванова Мария", "Детский сад № 20", "", " ivanova@sad.example.ru ", "", ""]]
    plan = plan_of(to_csv(rows))
    assert plan.rows[0].values.email == "ivanova@sad.example.ru"
    assert [r.report_line for r in plan.bad_rows] == [
        "line 4: The email ivanova@sad.example.ru is already on line 2."]


def test_name_with_yo_is_kept_and_an_emoji_is_a_bad_row(runner, tmp_path):
    make_network(1)
    rows = [["Ёлкина Алёна Фёдоровна", "Детский сад № 20", "", "elkina@example.org", "", ""],
            ["Ёжикова Алёна 😀", "Детский сад № 20", "", "emoji@example.org", "", ""]]
    result = run_cli(runner, write(tmp_path, "yo.csv", to_csv(rows)), "--only-valid")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == (
        "line 3: Patronymic may contain only letters, spaces, hyphens and apostrophes.")
    person = db.session.scalar(select(Person))
    assert (person.surname, person.first_name, person.patronymic) == (
        "Ёлкина", "Алёна", "Фёдоровна")
    # Imported people are found by the directory's search like everyone else (ё = е).
    from hub.directory.services import search_people

    assert db.session.scalars(search_people("елкина алена")).all() == [person]


def test_invisible_characters_and_non_breaking_spaces_from_copy_paste():
    make_network(1)
    rows = [["Иванова\u00a0Мария\u200b Петровна", "Детский\u00a0сад № 20",
             "воспитатель\u00ad", "\ufeffivanova@example.org\u00a0", "", ""]]
    row = plan_of(to_csv(rows)).rows[0]
    assert row.action is RowAction.CREATE, row.reason
    assert (row.values.surname, row.values.first_name, row.values.patronymic,
            row.values.email, row.values.position) == (
        "Иванова", "Мария", "Петровна", "ivanova@example.org", "воспитатель")


def test_html_and_sql_in_every_cell(runner, tmp_path):
    make_network(1)
    evil = ["<script>alert(1)</script>", "'; DROP TABLE person; --", "<img src=x onerror=alert(1)>",
            "Robert'); DELETE FROM organisation;--", "\" OR 1=1 --"]
    rows = [[e, e, e, e, e, e] for e in evil]
    # HTML in a free-text cell of an otherwise good row is kept as text (shown escaped).
    rows.append(["Иванова Мария", "Детский сад № 20", "<b>воспитатель</b>'; DROP TABLE person;--",
                 "safe@example.org", "", ""])
    result = run_cli(runner, write(tmp_path, "evil.csv", to_csv(rows)))
    assert result.exit_code == 1
    assert [line.split(":")[0] for line in result.stdout.splitlines()[:-1]] == [
        f"line {n}" for n in range(2, 7)]
    assert count(Person) == 0

    result = run_cli(runner, write(tmp_path, "evil.csv", to_csv(rows)), "--only-valid")
    assert result.exit_code == 0
    assert count(Person) == 1 and count(Organisation) == 1
    assert db.session.scalar(select(Person)).position == (
        "<b>воспитатель</b>'; DROP TABLE person;--")


def test_control_characters_are_bad_rows():
    make_network(1)
    rows = [["Иванова\x07 Мария", "Детский сад № 20", "воспитатель\x1b", "a@example.org", "", ""]]
    plan = plan_of(to_csv(rows))
    assert "control characters" in plan.rows[0].reason


# --- who may import what ---------------------------------------------------------------------

def test_coordinator_imports_only_into_own_organisation(people):
    own = people.coordinator.organisation
    other = people.other_teacher.organisation
    rows = [person_row(1, own.short_name), person_row(2, other.short_name),
            person_row(3, ""),                                  # no organisation: their own
            ["Соколова Мария", own.short_name, "", people.other_teacher.email, "", ""],
            ["Смирнова Мария", own.short_name, "", people.municipal.email, "", ""],
            ["Попова Мария Петровна", "", "музыкальный руководитель", people.teacher.email, "",
             ""]]
    plan = plan_of(to_csv(rows), actor=people.coordinator, default_organisation=own)
    assert [r.action for r in plan.rows] == [
        RowAction.CREATE, RowAction.ERROR, RowAction.CREATE, RowAction.ERROR, RowAction.ERROR,
        RowAction.UPDATE]
    assert plan.rows[1].reason.startswith("You may import people only into your own organisation")
    assert plan.rows[2].values.organisation_id == own.id
    assert "belongs to a person of another organisation" in plan.rows[3].reason
    assert people.municipal.email in plan.rows[4].reason

    # The municipal coordinator may import for any organisation (and move people).
    plan = plan_of(to_csv(rows[:2] + rows[3:4]), actor=people.municipal)
    assert [r.action for r in plan.rows] == [RowAction.CREATE] * 2 + [RowAction.UPDATE]


# --- applying ------------------------------------------------------------------------------------

def test_a_bad_row_means_nothing_is_applied_unless_only_valid():
    make_network(1)
    rows = [person_row(1, "Детский сад № 20"), person_row(2, "Нет такого")]
    plan = plan_of(to_csv(rows))
    assert importing.apply_import(plan) == importing.ImportResult(imported=False, skipped=1)
    assert count(Person) == 0
    result = importing.apply_import(plan, only_valid=True)
    assert (result.imported, result.created, result.skipped) == (True, 1, 1)
    assert count(Person) == 1


def test_empty_cells_keep_existing_values(people):
    teacher = people.teacher
    teacher.phone = "+79120000001"
    db.session.commit()
    rows = [["Попова Мария Петровна", teacher.organisation.short_name, "", teacher.email, "", ""]]
    plan = plan_of(to_csv(rows))
    assert plan.rows[0].action is RowAction.UNCHANGED
    rows[0][2] = "старший воспитатель"
    plan = plan_of(to_csv(rows))
    row = plan.rows[0]
    assert row.action is RowAction.UPDATE
    assert [(c.field, c.old, c.new) for c in row.changes] == [
        ("Position", "воспитатель", "старший воспитатель")]
    importing.apply_import(plan)
    teacher = fresh(teacher)
    assert (teacher.position, teacher.phone, teacher.category, teacher.role) == (
        "старший воспитатель", "+79120000001", Category.FIRST, Role.TEACHER)


def test_checking_does_not_query_per_row():
    """5,000 rows (a region's file) are checked with a handful of queries, not one per row."""
    orgs = make_network(5)
    data = to_csv(people_rows(5000, orgs))
    first = importing.run_import(data)[1]
    assert first is not None and first.created == 5000
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    db.session.expire_all()
    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        plan, result = importing.run_import(data)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert result is not None and result.unchanged == 5000
    assert len(statements) <= 20, len(statements)


def test_template_files_read_back():
    orgs = make_network(1)
    csv_template = importing.template_csv()
    assert csv_template.startswith(b"\xef\xbb\xbf")
    assert csv_template.decode("utf-8-sig").strip() == ";".join(HEADER)

    from openpyxl import load_workbook

    xlsx = importing.template_xlsx([orgs[0].short_name])
    workbook = load_workbook(io.BytesIO(xlsx))
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == list(HEADER)
    assert workbook["Организации"]["A2"].value == orgs[0].short_name
    sheet.append(["Иванова Мария", orgs[0].short_name, "воспитатель", "iv@example.org",
                  "89120000000", "первая"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    plan = plan_of(buffer.getvalue())
    assert [r.action for r in plan.rows] == [RowAction.CREATE]


def test_stored_uploads_belong_to_their_owner_and_expire(tmp_path):
    from datetime import timedelta

    stored = importing.save_upload(b"data", owner_id=7, filename="../../etc/passwd",
                                   root=tmp_path)
    assert stored.filename == "passwd"
    assert importing.load_upload(stored.token, owner_id=7, root=tmp_path) is not None
    assert importing.load_upload(stored.token, owner_id=8, root=tmp_path) is None
    assert importing.load_upload("../" + stored.token, owner_id=7, root=tmp_path) is None
    assert importing.load_upload("x" * 32, owner_id=7, root=tmp_path) is None
    assert importing.read_upload(stored, root=tmp_path) == b"data"
    assert importing.claim_upload(stored, root=tmp_path)
    assert not importing.claim_upload(stored, root=tmp_path)
    importing.release_upload(stored, root=tmp_path)
    assert importing.claim_upload(stored, root=tmp_path)

    old = importing.save_upload(b"old", owner_id=7, filename="a.csv", root=tmp_path,
                                ttl=timedelta(seconds=-1))
    assert importing.load_upload(old.token, owner_id=7, root=tmp_path) is None
    assert importing.sweep_expired_uploads(tmp_path) == 1
    assert not (tmp_path / old.token).exists()
    assert (tmp_path / stored.token).exists()
