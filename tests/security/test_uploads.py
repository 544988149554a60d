"""Every upload endpoint against the same hostile files, over HTTP: programs and pages disguised
by their name and content type, SVG and HTML, decompression bombs, files over the limit and
names that climb out of their folder. Each is refused with a reason and nothing is stored; what
is served back is an attachment (or a re-encoded picture) with nosniff.

The checks themselves are unit-tested by the domains: tests/archive/test_uploads.py (the bank's
content sniffing and names), tests/board/test_images.py (re-encoding, bombs),
tests/directory/test_import_web.py (the import's files).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from hub.archive.models import Material
from hub.board.models import BoardImage
from hub.extensions import db
from tests.archive import material_files as files
from tests.board.conftest import _fresh_limits  # noqa: F401
from tests.board.test_images import declared_png, picture
from tests.conftest import login

MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(200)
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
       b'onload="alert(document.cookie)"><rect width="9" height="9"/></svg>')
CSV = "ФИО;организация;email\nОрлова Анна Ильинична;{org};anna@example.org\n"

#: (endpoint, path, form field, extra form fields, who uploads, limit config key)
UPLOADS = {
    "people_import.upload": ("/people/import", "file", {}, "coordinator",
                                "IMPORT_MAX_BYTES"),
    "board.upload_image": ("/boards/{board}/images", "image", {}, "teacher",
                           "BOARD_IMAGE_MAX_BYTES"),
    "archive.material_new": ("/materials/new", "file",
                             {"kind": "file", "title": "Конспект", "visibility": "2"},
                             "teacher", "ARCHIVE_MAX_BYTES"),
    "archive.material_edit": ("/materials/{material}/edit", "file",
                              {"kind": "file", "title": "Конспект", "visibility": "2"},
                              "coordinator", "ARCHIVE_MAX_BYTES"),
}
#: Hostile files: (name, content type the browser claims, bytes).
HOSTILE = {
    "program named .png": ("photo.png", "image/png", MZ),
    "program named .pdf": ("plan.pdf", "application/pdf", MZ),
    "program named .csv": ("people.csv", "text/csv", MZ),
    "page named .pdf": ("plan.pdf", "application/pdf", HTML),
    "page named .jpg": ("photo.jpg", "image/jpeg", HTML),
    "page": ("page.html", "text/html", HTML),
    "svg": ("drawing.svg", "image/svg+xml", SVG),
    "svg named .png": ("drawing.png", "image/png", SVG),
    "10-gigapixel png": ("huge.png", "image/png", declared_png(100_000, 100_000)),
}
#: The bank never decodes a picture (no preview, no thumbnail): it keeps it as a file served
#: as an attachment, so a picture of many pixels is no bomb there.
NOT_DECODED = {"archive.material_new", "archive.material_edit"}
#: POST endpoints of the modules above that take no file.
NO_FILES = {"people_import.confirm", "people_import.cancel", "archive.material_publish",
            "archive.material_unpublish", "archive.material_delete", "board.create_board"}


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def stored(app: Flask) -> list[Path]:
    """Every file the uploads left on disk (imports and the bank's local storage)."""
    root = Path(app.instance_path)
    return sorted(p for folder in ("imports", "materials") if (root / folder).exists()
                  for p in (root / folder).rglob("*") if p.is_file())


@pytest.fixture(autouse=True)
def _many_posts(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-person post limit (test_rate_limits.py) out of the way of the content checks."""
    monkeypatch.setitem(app.config, "BOARD_POST_LIMIT", "1000 per minute")


def test_every_endpoint_reading_files_is_in_the_table(app):
    """Every POST endpoint of a view module that reads request.files or has a FileField is an
    upload of UPLOADS or is listed in NO_FILES."""
    root = Path(app.root_path)
    readers = {path.relative_to(root.parent).with_suffix("").as_posix().replace("/", ".")
               for path in root.rglob("*.py")
               if re.search(r"request\.files|FileField\(", path.read_text(encoding="utf-8"))}
    views = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    posting = {endpoint for endpoint in views
               if app.view_functions[endpoint].__module__ in readers}
    assert readers and posting
    assert posting - NO_FILES <= set(UPLOADS), sorted(posting - NO_FILES - set(UPLOADS))


@pytest.fixture
def ids(people, event, board):  # type: ignore[no-untyped-def]
    from hub.archive import services
    from hub.archive.models import Visibility
    from hub.archive.services import Details

    material = services.create_file_material(
        people.coordinator, Details(title="Конспект", visibility=Visibility.ORGANISATION),
        io.BytesIO(files.pdf()), "plan.pdf", event=event)
    db.session.commit()
    return {"board": board.id, "material": material.id}


def _post(app, people, endpoint, ids, name, content_type, data):  # type: ignore[no-untyped-def]
    path, field, extra, who, _limit = UPLOADS[endpoint]
    client = app.test_client()
    login(client, getattr(people, who))
    form = {**extra, field: (io.BytesIO(data), name, content_type)}
    return client.post(path.format(**ids), data=form, content_type="multipart/form-data")


def _accepted(endpoint: str, response) -> bool:  # type: ignore[no-untyped-def]
    if endpoint == "board.upload_image":
        return response.status_code == 200 and response.get_json().get("ok") is True
    return response.status_code == 302


def _state(app: Flask) -> tuple:
    return count(Material), count(BoardImage), stored(app), _material_files()


def _material_files() -> list[tuple]:
    db.session.expire_all()
    return sorted((m.id, m.filename, m.size) for m in db.session.scalars(select(Material)))


@pytest.mark.parametrize("endpoint", sorted(UPLOADS))
def test_hostile_files_are_refused_and_nothing_is_stored(app, people, ids, endpoint):
    before = _state(app)
    wrong = []
    for kind, (name, content_type, data) in HOSTILE.items():
        if kind == "10-gigapixel png" and endpoint in NOT_DECODED:
            continue
        response = _post(app, people, endpoint, ids, name, content_type, data)
        body = response.get_data(as_text=True)
        if _accepted(endpoint, response) or response.status_code not in (200, 400, 413) \
                or "Traceback" in body:
            wrong.append(f"{kind}: {response.status_code} {body[:200]!r}")
        elif _state(app) != before:
            wrong.append(f"{kind}: something was stored")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("endpoint", sorted(UPLOADS))
def test_a_file_over_the_limit_is_refused_with_413_or_a_reason(app, people, ids, endpoint,
                                                               monkeypatch):
    limit_key = UPLOADS[endpoint][4]
    monkeypatch.setitem(app.config, limit_key, 64 * 1024)
    before = _state(app)
    big = picture(size=(1200, 1200), fmt="BMP") if endpoint == "board.upload_image" \
        else b"%PDF-1.4\n" + bytes(200 * 1024)
    response = _post(app, people, endpoint, ids, "big.pdf", "application/pdf", big)
    assert not _accepted(endpoint, response)
    assert response.status_code in (400, 413)
    assert re.search(r"too large|larger than", response.get_data(as_text=True))
    assert _state(app) == before


def test_names_climbing_out_of_their_folder_are_cleaned(app, people, ids):
    """The bank and the import keep a clean name; nothing lands outside their folders."""
    instance = Path(app.instance_path)
    outside = set(instance.parent.rglob("passwd*"))
    material = _post(app, people, "archive.material_new", ids, "../../../etc/passwd.pdf",
                     "application/pdf", files.pdf())
    assert material.status_code == 302
    name = db.session.scalars(select(Material.filename).order_by(Material.id.desc())).first()
    assert name and "/" not in name and "\\" not in name and ".." not in name
    org = people.coordinator.organisation.short_name
    imported = _post(app, people, "people_import.upload", ids, "..\\..\\people.csv",
                     "text/csv", CSV.format(org=org).encode())
    assert imported.status_code == 302
    assert all(instance in p.parents for p in stored(app))
    assert set(instance.parent.rglob("passwd*")) == outside


def test_files_are_served_back_as_attachments_with_nosniff(app, people, ids, client):
    login(client, people.coordinator)
    response = client.get(f"/materials/{ids['material']}/download")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "\n" not in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    upload = _post(app, people, "board.upload_image", ids, "p.png", "image/png",
                   picture(fmt="PNG"))
    image = client.get(upload.get_json()["image"]["url"])
    assert image.status_code == 200 and image.mimetype.startswith("image/")
    assert image.mimetype != "image/svg+xml"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert image.headers["Content-Security-Policy"] == "default-src 'none'"
