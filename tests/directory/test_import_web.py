"""The import pages: upload → preview → confirm → result, for coordinators only."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask

from hub.directory import importing
from hub.directory.models import Person, Role
from hub.extensions import db

from .conftest import count, text
from .test_import import BAD_LINES, file_of_500
from .test_import_helpers import HEADER, make_network, person_row, png_bytes, to_csv, to_xlsx


@pytest.fixture(autouse=True)
def _uploads_in_tmp(app: Flask, tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    """Uploads go to a temporary folder, not the developer's instance/."""
    monkeypatch.setattr(importing.uploads, "uploads_root", lambda: tmp_path / "imports")


def upload(client, data: bytes, name: str = "people.csv", **fields):  # type: ignore[no-untyped-def]
    return client.post("/people/import", data={"file": (io.BytesIO(data), name), **fields},
                       content_type="multipart/form-data")


def token_of(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, text(response)[:2000]
    match = re.fullmatch(r"/people/import/([A-Za-z0-9_-]{32})", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def test_500_rows_with_3_bad_preview_lists_them_and_nothing_is_imported(login_as, people,
                                                                      client):
    orgs = make_network()
    login_as(people.municipal)
    token = token_of(upload(client, file_of_500(orgs)))

    page = client.get(f"/people/import/{token}")
    assert page.status_code == 200
    html = text(page)
    listed = re.search(r'<ul id="bad-rows">(.*?)</ul>', html, re.S).group(1)
    assert [int(n) for n in re.findall(r"line (\d+):", listed)] == sorted(BAD_LINES)
    assert "500 rows" in html and "497 new" in html and "3 bad" in html
    assert re.search(r'id="import-button"[^>]*disabled', html)
    assert 'name="only_valid"' in html
    before = count(Person)

    refused = client.post(f"/people/import/{token}", data={})
    assert refused.status_code == 302
    assert count(Person) == before
    assert "Nothing was imported: the file has 3 bad rows" in text(client.get(
        f"/people/import/{token}"))

    done = client.post(f"/people/import/{token}", data={"only_valid": "1"})
    assert done.headers["Location"] == f"/people/import/{token}/result"
    assert count(Person) == before + 497
    result = text(client.get(done.headers["Location"]))
    assert '<dd id="created">497</dd>' in result and '<dd id="skipped">3</dd>' in result
    assert "line 402: The email teacher00008@sad.example.ru is already on line 10." in result

    # Confirming again (a double click, the back button) imports nothing more.
    again = client.post(f"/people/import/{token}", data={"only_valid": "1"})
    assert again.headers["Location"] == f"/people/import/{token}/result"
    assert count(Person) == before + 497


def test_clean_file_preview_filters_pages_and_import(login_as, people, client):
    orgs = make_network(2)
    rows = [person_row(i, orgs[i % 2].short_name) for i in range(150)]
    rows.append(["Попова Мария Петровна", people.teacher.organisation.short_name,
                 "старший воспитатель", people.teacher.email, "", ""])
    login_as(people.municipal)
    token = token_of(upload(client, to_csv(rows, delimiter=",", encoding="cp1251"),
                            "Педагоги.csv"))
    html = text(client.get(f"/people/import/{token}"))
    assert "Windows-1251" in html and "Педагоги.csv" in html
    assert "Page 1 of 2" in html
    assert not re.search(r'id="import-button"[^>]*disabled', html)
    updates = text(client.get(f"/people/import/{token}?show=update"))
    assert updates.count('data-action="update"') == 1
    assert "воспитатель → старший воспитатель" in updates
    second = text(client.get(f"/people/import/{token}?page=2"))
    assert 'data-line="152"' in second
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', html).group(1)

    done = client.post(f"/people/import/{token}", data={"fingerprint": fingerprint})
    assert done.status_code == 302 and done.headers["Location"].endswith("/result")
    assert count(Person) == 4 + 150
    db.session.expire_all()
    assert db.session.get(Person, people.teacher.id).position == "старший воспитатель"


def test_a_stale_preview_is_not_imported(login_as, people, client):
    orgs = make_network(1)
    login_as(people.municipal)
    token = token_of(upload(client, to_csv([person_row(1, orgs[0].short_name)])))
    html = text(client.get(f"/people/import/{token}"))
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', html).group(1)
    # Someone adds the same person by hand meanwhile: the row would now update, not create.
    db.session.add(Person(surname="Смирнова", first_name="Анна",
                          email="teacher00001@sad.example.ru", organisation_id=orgs[0].id))
    db.session.commit()
    response = client.post(f"/people/import/{token}", data={"fingerprint": fingerprint})
    assert response.headers["Location"] == f"/people/import/{token}"
    assert "The directory has changed since the preview" in text(client.get(
        response.headers["Location"]))
    assert count(Person) == 5


def test_xlsx_upload_with_default_organisation(login_as, people, client):
    orgs = make_network(2)
    header = ("Фамилия", "Имя", "Отчество", "E-mail", "Должность")
    rows = [["Ёлкина", "Алёна", "Фёдоровна", "elkina@example.org", "воспитатель"]]
    login_as(people.municipal)
    missing = upload(client, to_xlsx(rows, header=header), "people.xlsx")
    assert missing.status_code == 400
    assert "A required column is missing: Организация / organisation." in text(missing)

    token = token_of(upload(client, to_xlsx(rows, header=header), "people.xlsx",
                            organisation=str(orgs[1].id)))
    html = text(client.get(f"/people/import/{token}"))
    assert "XLSX" in html and "Ёлкина Алёна Фёдоровна" in html and "Детский сад № 21" in html
    client.post(f"/people/import/{token}", data={})
    person = db.session.query(Person).filter_by(email="elkina@example.org").one()
    assert person.organisation_id == orgs[1].id and person.role == Role.TEACHER


@pytest.mark.parametrize("data,name,message", [
    (png_bytes(), "people.csv", "This is not a CSV or XLSX file"),
    (b"", "people.csv", "The file is empty."),
    (to_xlsx([["Иванова Мария", "Детский сад № 20"]], header=("ФИО", "Организация")),
     "people.xlsx", "A required column is missing: Email."),
    (b"PK\x03\x04" + b"\x00" * 100, "people.xlsx", "damaged"),
])
def test_rejected_files_are_explained_on_the_form(login_as, people, client, data, name, message):
    login_as(people.municipal)
    response = upload(client, data, name)
    assert response.status_code == 400
    assert message in text(response)
    assert 'id="import-error"' in text(response)
    assert count(Person) == 4


def test_no_file_chosen(login_as, people, client):
    login_as(people.municipal)
    response = client.post("/people/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a CSV or XLSX file" in text(response)


def test_a_20_mb_upload_gets_a_friendly_413(login_as, people, client):
    login_as(people.coordinator)
    big = b"a;b;c\n" * (20 * 1024 * 1024 // 6)
    response = upload(client, big, "big.csv")
    assert response.status_code == 413
    html = text(response)
    assert "The file is too large" in html and "Import people" in html
    assert count(Person) == 4


def test_file_over_the_import_limit_is_rejected(login_as, people, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1024)
    login_as(people.municipal)
    response = upload(client, to_csv([person_row(i, "Детский сад № 1") for i in range(50)]))
    assert response.status_code == 400
    assert "The file is larger than 1 KB" in text(response)


def test_html_in_cells_is_escaped_on_the_preview(login_as, people, client):
    make_network(1)
    evil = "<script>alert('x')</script>"
    rows = [[evil] * 6, ["Иванова Мария", "Детский сад № 20", evil, "ok@example.org", "", ""]]
    login_as(people.municipal)
    token = token_of(upload(client, to_csv(rows)))
    html = text(client.get(f"/people/import/{token}"))
    assert evil not in html
    assert "&lt;script&gt;" in html


def test_coordinator_rows_for_other_organisations_are_bad(login_as, people, client):
    own = people.coordinator.organisation
    other = people.other_teacher.organisation
    rows = [person_row(1, own.short_name), person_row(2, other.full_name), person_row(3, "")]
    login_as(people.coordinator)
    form = text(client.get("/people/import"))
    assert f"Rows without an organisation go to {own.short_name}" in form
    assert 'name="organisation"' not in form
    token = token_of(upload(client, to_csv(rows), organisation=str(other.id)))
    html = text(client.get(f"/people/import/{token}"))
    assert "line 3:</strong> You may import people only into your own organisation" in html
    client.post(f"/people/import/{token}", data={"only_valid": "1"})
    imported = db.session.query(Person).filter(Person.email.like("teacher0%")).all()
    assert sorted(p.email for p in imported) == ["teacher00001@sad.example.ru",
                                                 "teacher00003@sad.example.ru"]
    assert {p.organisation_id for p in imported} == {own.id}


def test_an_upload_belongs_to_its_uploader(login_as, people, client, new_client):
    make_network(1)
    login_as(people.municipal)
    token = token_of(upload(client, to_csv([person_row(1, "Детский сад № 20")])))
    other = new_client()
    other.post("/login", data={"email": people.coordinator.email,
                               "password": "correct horse battery staple"})
    assert other.get(f"/people/import/{token}").status_code == 404
    assert other.post(f"/people/import/{token}", data={}).status_code == 404
    assert client.get("/people/import/" + "A" * 32).status_code == 404
    assert client.get("/people/import/..%2F..%2Fetc").status_code == 404
    assert count(Person) == 4

    cancelled = client.post(f"/people/import/{token}/cancel")
    assert cancelled.headers["Location"] == "/people/import"
    assert client.get(f"/people/import/{token}").status_code == 404


@pytest.mark.parametrize("path", ["/people/import", "/people/import/template.csv",
                                  "/people/import/template.xlsx"])
def test_teacher_gets_403_and_anonymous_signs_in(login_as, people, client, path):
    assert client.get(path).status_code == 302
    login_as(people.teacher)
    assert client.get(path).status_code == 403


def test_teacher_cannot_upload_or_confirm(login_as, people, client, new_client):
    make_network(1)
    login_as(people.teacher)
    assert upload(client, to_csv([person_row(1, "Детский сад № 20")])).status_code == 403
    coordinator = new_client()
    coordinator.post("/login", data={"email": people.municipal.email,
                                     "password": "correct horse battery staple"})
    token = token_of(upload(coordinator, to_csv([person_row(1, "Детский сад № 20")])))
    for method, path in [("GET", f"/people/import/{token}"), ("POST", f"/people/import/{token}"),
                         ("GET", f"/people/import/{token}/result"),
                         ("POST", f"/people/import/{token}/cancel")]:
        assert client.open(path, method=method).status_code == 403
    assert count(Person) == 4


def test_templates_download(login_as, people, client):
    login_as(people.coordinator)
    csv_file = client.get("/people/import/template.csv")
    assert csv_file.status_code == 200
    assert csv_file.mimetype == "text/csv"
    assert csv_file.data.decode("utf-8-sig").strip() == ";".join(HEADER)
    assert "attachment" in csv_file.headers["Content-Disposition"]
    xlsx = client.get("/people/import/template.xlsx")
    assert xlsx.status_code == 200 and xlsx.data.startswith(b"PK")

    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(xlsx.data))
    assert [c.value for c in workbook.worksheets[0][1]] == list(HEADER)
    assert [r[0].value for r in workbook["Организации"].iter_rows(min_row=2)] == [
        people.coordinator.organisation.short_name]
    assert client.get("/people/import/template.pdf").status_code == 404
    page = text(client.get("/people/import"))
    assert "/people/import/template.xlsx" in page and "/people/import/template.csv" in page


def test_a_20_mb_upload_with_csrf_on_still_gets_the_friendly_page(login_as, people, client, app,
                                                                  monkeypatch):
    login_as(people.municipal)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = upload(client, b"x" * (20 * 1024 * 1024), "big.csv")
    assert response.status_code == 413
    assert "The file is too large" in text(response)
