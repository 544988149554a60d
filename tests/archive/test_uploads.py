"""Uploads are judged by their content and size, never by the name; names are cleaned; bad
files get a clear message and nothing is stored."""

from __future__ import annotations

import io

import pytest

from hub.archive import uploads
from hub.archive.material_views import upload_limit
from hub.archive.models import Material
from hub.archive.storage import storage
from hub.archive.uploads import UploadRejected, check_upload, clean_filename, sniff
from hub.extensions import db
from tests.archive import material_files as files


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


@pytest.mark.parametrize(("build", "content_type", "extension"), [
    (files.pdf, "application/pdf", "pdf"),
    (files.xlsx, uploads.XLSX.content_type, "xlsx"),
    (files.docx, uploads.DOCX.content_type, "docx"),
    (files.pptx, uploads.PPTX.content_type, "pptx"),
    (files.odt, "application/vnd.oasis.opendocument.text", "odt"),
    (lambda: files.ole("WordDocument", "1Table"), "application/msword", "doc"),
    (lambda: files.ole("Workbook"), "application/vnd.ms-excel", "xls"),
    (lambda: files.ole("Current User", "PowerPoint Document"), "application/vnd.ms-powerpoint",
     "ppt"),
    (lambda: files.picture("PNG"), "image/png", "png"),
    (lambda: files.picture("JPEG"), "image/jpeg", "jpg"),
    (lambda: files.picture("GIF"), "image/gif", "gif"),
    (lambda: files.picture("WEBP"), "image/webp", "webp"),
    (files.mp4, "video/mp4", "mp4"),
])
def test_accepted_types_are_recognised_by_content(build, content_type, extension):
    found = sniff(io.BytesIO(build()))
    assert (found.content_type, found.extension) == (content_type, extension)


@pytest.mark.parametrize(("data", "message"), [
    (files.ELF, "Programs and scripts"),
    (files.MZ, "Programs and scripts"),
    (b"#!/bin/sh\nrm -rf /\n", "Programs and scripts"),
    (files.HTML, "add the page as a link"),
    (files.HTML_LATE, "add the page as a link"),
    (files.SVG, "add the page as a link"),
    (b"\xef\xbb\xbf  <html><body>hi</body></html>", "add the page as a link"),
    (files.plain_zip(), "not accepted"),
    (files.docm(), "macros"),
    (files.ooxml(uploads.DOCX.content_type + ".main+xml", "word/document.xml",
                 with_part=False), "not accepted"),  # the main part is missing
    (files.ole("\x05SummaryInformation", "_StringData"), "not accepted"),  # e.g. an .msi
    (b"PK\x03\x04 broken zip", "damaged"),
    (b"just some text notes", "not accepted"),
])
def test_other_content_is_refused_with_the_reason(app, data, message):
    with pytest.raises(UploadRejected) as refused:
        sniff(io.BytesIO(data))
    assert message in str(refused.value.message)


def test_size_is_checked_while_copying_and_empty_files_refused(app):
    with pytest.raises(UploadRejected) as refused:
        check_upload(io.BytesIO(b"%PDF-" + bytes(5000)), "a.pdf", max_bytes=4096)
    assert refused.value.too_large and "too large" in str(refused.value.message)
    with pytest.raises(UploadRejected, match="empty"):
        check_upload(io.BytesIO(b""), "a.pdf", max_bytes=4096)


@pytest.mark.parametrize(("name", "extension", "expected"), [
    ("../../etc/passwd.pdf", "pdf", "passwd.pdf"),
    ("..\\..\\Windows\\system32\\evil.pdf", "pdf", "evil.pdf"),
    ("C:\\Users\\Мария\\Документы\\План работы.docx", "docx", "План работы.docx"),
    ("bad\x00name\x01\x1f.pdf", "pdf", "badname.pdf"),
    ("report\u202egpj.exe", "pdf", "reportgpj.pdf"),  # the right-to-left override trick
    ('a<b>c:d"e|f?g*h.pdf', "pdf", "a_b_c_d_e_f_g_h.pdf"),
    ("program.exe", "pdf", "program.pdf"),
    ("photo.JPEG", "jpg", "photo.JPEG"),
    ("photo", "png", "photo.png"),
    ("...", "pdf", "material.pdf"),
    ("", "pdf", "material.pdf"),
    ("CON.pdf", "pdf", "_CON.pdf"),
    (".hidden.pdf", "pdf", "hidden.pdf"),
])
def test_names_are_cleaned(name, extension, expected):
    aliases = ("jpeg", "jpe") if extension == "jpg" else ()
    assert clean_filename(name, extension, aliases) == expected


def test_long_names_are_cut_to_255_keeping_the_extension():
    name = clean_filename("Я" * 400 + ".pdf.exe", "pdf")
    assert len(name) == 255 and name.endswith("Я.pdf")


# -- through the form ----------------------------------------------------------------------

def test_a_teacher_uploads_a_pdf(app, client, login_as, people):
    login_as(people.teacher)
    response = files.upload(client, files.pdf(), "../План.PDF")
    assert response.status_code == 302, text(response)[:2000]
    material = db.session.scalar(db.select(Material))
    assert (material.filename, material.content_type) == ("План.PDF", "application/pdf")
    assert material.organisation_id == people.teacher.organisation_id
    assert material.size == len(files.pdf()) and material.storage_key
    assert material.storage_key in {p.name for p in files.stored_files(app)}


@pytest.mark.parametrize(("data", "name", "message"), [
    (files.ELF, "lesson.pdf", "Programs and scripts cannot be added"),
    (files.MZ, "lesson.pdf", "Programs and scripts cannot be added"),
    (files.HTML, "page.html", "add the page as a link instead"),
    (b"", "empty.pdf", "The file is empty."),
])
def test_bad_files_get_a_message_and_nothing_is_stored(app, client, login_as, people, data,
                                                       name, message):
    login_as(people.teacher)
    before = files.stored_files(app)
    response = files.upload(client, data, name)
    assert response.status_code == 400
    assert message in text(response)
    assert db.session.scalar(db.select(db.func.count(Material.id))) == 0
    assert files.stored_files(app) == before


def test_a_file_over_the_bank_limit_gets_413_and_nothing_is_stored(app, client, login_as,
                                                                    people, monkeypatch):
    monkeypatch.setitem(app.config, "ARCHIVE_MAX_BYTES", 4096)
    login_as(people.teacher)
    before = files.stored_files(app)
    response = files.upload(client, b"%PDF-" + bytes(5000), "big.pdf")
    assert response.status_code == 413
    assert "The file is too large: at most" in text(response)
    assert "Add material" in text(response)
    assert files.stored_files(app) == before


def test_the_upload_routes_limit_is_derived_from_the_bank_limit(app, client, login_as, people,
                                                                 monkeypatch):
    """Over ARCHIVE_MAX_BYTES + the form's allowance the request is cut off before it is
    read; under it, a file larger than MAX_CONTENT_LENGTH (other routes' limit) is taken."""
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    monkeypatch.setitem(app.config, "ARCHIVE_MAX_BYTES", 8000)
    monkeypatch.setitem(app.config, "ARCHIVE_FORM_ALLOWANCE", 2000)
    with app.test_request_context():
        assert upload_limit() == 10_000
    login_as(people.teacher)
    taken = files.upload(client, files.pdf() + bytes(7000 - len(files.pdf())), "big.pdf")
    assert taken.status_code == 302
    response = files.upload(client, b"%PDF-" + bytes(12_000), "bigger.pdf")
    assert response.status_code == 413
    assert "The file is too large: at most" in text(response)
    assert db.session.scalar(db.select(db.func.count(Material.id))) == 1
    material = db.session.scalar(db.select(Material))
    replaced = files.upload(client, b"%PDF-" + bytes(12_000), "bigger.pdf",
                            url=f"/materials/{material.id}/edit")
    assert replaced.status_code == 413
    assert "The file is too large: at most" in text(replaced) and "Edit material" in text(replaced)
    assert storage().exists(material.storage_key)


def test_the_default_limits(app):
    assert app.config["ARCHIVE_MAX_BYTES"] == 100 * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024  # other uploads keep theirs
    with app.test_request_context():
        assert upload_limit() == 101 * 1024 * 1024


class LazyBody(io.RawIOBase):
    """A request body that would be `size` bytes, made only as far as it is read."""

    def __init__(self, size: int) -> None:
        self.size, self.position, self.read_so_far = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = {0: 0, 1: self.position, 2: self.size}[whence] + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = max(0, min(len(buffer), self.size - self.position))
        buffer[:n] = b"x" * n
        self.position += n
        self.read_so_far += n
        return n


@pytest.mark.parametrize("csrf", [False, True])
def test_a_200_mb_upload_is_cut_off_early_with_a_friendly_page(app, client, login_as, people,
                                                                monkeypatch, csrf):
    login_as(people.teacher)
    if csrf:
        monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    before = files.stored_files(app)
    body = LazyBody(200 * 1024 * 1024)
    response = client.post("/materials/new", input_stream=body,
                           content_type="multipart/form-data; boundary=b",
                           headers={"Content-Length": str(body.size)})
    assert response.status_code == 413
    assert "The file is too large: at most 100 MB." in text(response)
    assert body.read_so_far < 1024 * 1024
    assert files.stored_files(app) == before
    assert db.session.scalar(db.select(db.func.count(Material.id))) == 0


def test_with_csrf_on_a_good_upload_still_works(app, client, login_as, people, monkeypatch):
    login_as(people.teacher)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = client.get("/materials/new")
    token = text(page).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = files.upload(client, files.docx(), "plan.docx", csrf_token=token)
    assert response.status_code == 302
