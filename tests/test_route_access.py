"""Every route of the app with every role: who gets 200, 302 or 403 (and 404/405/410 where
that is the answer). Each domain lists its routes in tests/<domain>/test_access*.py (a ROUTES
table of the same shape as below); this file lists the rest, and fails when a route is in no
table."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from hub.directory.importing import save_upload
from hub.extensions import db
from hub.outbox.services import enqueue_email
from tests.directory.test_access import ROLES

# (method, path template, municipal, coordinator, teacher, anonymous)
# {upload}: an import upload of the coordinator's; {mail}: a message in the outbox.
ROUTES = [
    ("GET", "/", 200, 200, 200, 302),
    ("GET", "/healthz", 200, 200, 200, 200),
    ("GET", "/lang/en?next=/organisations", 302, 302, 302, 302),
    ("GET", "/lang/xx", 302, 302, 302, 302),
    ("GET", "/login", 302, 302, 302, 200),  # signed in: straight to the home page
    ("POST", "/login", 200, 200, 200, 200),  # empty form: errors shown
    ("GET", "/login/link", 200, 200, 200, 200),
    ("POST", "/login/link", 200, 200, 200, 200),
    ("GET", "/login/check-email", 200, 200, 200, 200),
    ("GET", "/login/link/not-a-real-token", 410, 410, 410, 410),
    ("POST", "/login/link/not-a-real-token", 410, 410, 410, 410),
    ("GET", "/password/forgot", 200, 200, 200, 200),
    ("POST", "/password/forgot", 200, 200, 200, 200),
    ("GET", "/password/reset/not-a-real-token", 410, 410, 410, 410),
    ("POST", "/password/reset/not-a-real-token", 410, 410, 410, 410),
    ("GET", "/account/password", 200, 200, 200, 302),
    ("POST", "/account/password", 200, 200, 200, 302),
    ("GET", "/logout", 405, 405, 405, 405),
    ("GET", "/people/import", 200, 200, 403, 302),
    ("POST", "/people/import", 400, 400, 403, 302),  # no file: the form says so
    ("GET", "/people/import/template.csv", 200, 200, 403, 302),
    ("GET", "/people/import/template.xlsx", 200, 200, 403, 302),
    ("GET", "/people/import/template.exe", 404, 404, 403, 302),
    # An upload is its uploader's alone: anyone else gets 404, as for a token that never was.
    ("GET", "/people/import/{upload}", 404, 200, 403, 302),
    ("POST", "/people/import/{upload}", 404, 302, 403, 302),  # imports the one good row
    ("GET", "/people/import/{upload}/result", 404, 200, 403, 302),
    ("POST", "/people/import/{upload}/cancel", 404, 302, 403, 302),
    ("GET", "/people/import/no-such-upload-token-0000000000000", 404, 404, 403, 302),
    # /dev/mail is a development tool, open without sign-in (it is absent in production).
    ("GET", "/dev/mail/", 200, 200, 200, 200),
    ("GET", "/dev/mail/{mail}", 200, 200, 200, 200),
    ("GET", "/dev/mail/{mail}/raw", 200, 200, 200, 200),
    ("GET", "/dev/mail/{mail}/parts/0", 200, 200, 200, 200),
    ("POST", "/dev/mail/{mail}/retry", 302, 302, 302, 302),
    ("GET", "/static/css/hub.css", 200, 200, 200, 200),
    ("POST", "/logout", 302, 302, 302, 302),  # last: it signs out
]


def domain_tables() -> list[tuple]:
    """The ROUTES of every tests/<domain>/test_access*.py."""
    rows: list[tuple] = []
    for path in sorted(Path(__file__).parent.glob("*/test_access*.py")):
        module = importlib.import_module(f"tests.{path.parent.name}.{path.stem}")
        rows += getattr(module, "ROUTES", [])
    return rows


def _sample(template: str) -> str:
    """The template with every {placeholder} replaced by a value of the right shape."""
    return re.sub(r"\{(\w+)\}", lambda m: "A" * 32 if m.group(1) in TOKEN_PLACEHOLDERS
                  else "1", template)


#: Placeholders that stand for tokens (the rest stand for ids).
TOKEN_PLACEHOLDERS = {"upload", "token", "feed", "invite"}


def _endpoint(app, method: str, path: str) -> str:  # type: ignore[no-untyped-def]
    adapter = app.url_map.bind("localhost")
    return adapter.match(path.split("?")[0], method=method)[0]


def test_every_route_is_in_a_table(app):
    """A new route must be added to a table, with the answer each role should get."""
    covered = set()
    for method, template, *_ in ROUTES + domain_tables():
        try:
            covered.add((_endpoint(app, method, _sample(template)), method))
        except (NotFound, MethodNotAllowed):
            continue
    missing = sorted(
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
        if (rule.endpoint, method) not in covered
    )
    assert not missing, "routes missing from the access tables:\n" + "\n".join(missing)


@pytest.mark.parametrize("role", ROLES)
def test_every_other_route_answers_each_role_as_designed(role, client, people, login_as):
    if role != "anonymous":
        login_as(getattr(people, role))
    organisation = people.coordinator.organisation.short_name
    csv = f"ФИО;организация;email\nОрлова Анна Ильинична;{organisation};anna@example.org\n"
    upload = save_upload(csv.encode(), owner_id=people.coordinator.id, filename="people.csv")
    mail = enqueue_email("teacher@example.org", "Приглашение", "Текст", "<p>Текст</p>")
    db.session.commit()
    ids = {"upload": upload.token, "mail": mail.id}
    wrong = []
    for method, template, *expected in ROUTES:
        path = template.format(**ids)
        response = client.open(path, method=method, data={})
        want = expected[ROLES.index(role)]
        if response.status_code != want:
            wrong.append(f"{method} {path}: {response.status_code}, expected {want}")
        elif role == "anonymous" and want == 302 and path.startswith(("/people", "/account")):
            assert "/login" in response.headers["Location"], path
    assert not wrong, "\n".join(wrong)
