"""CSRF on every state-changing route and every form, with protection on as in production.

Flask-WTF's CSRFProtect guards every POST/PUT/PATCH/DELETE of the app before the view runs;
the only way out is `csrf.exempt`, allowed for the endpoints of EXEMPT alone. Without a token a
route answers 400 with the friendly page (JSON for API-style requests) and changes nothing; the
sign-in blueprint instead sends the visitor back to its form with an explanation
(hub/auth/views.py `_csrf_failed`; tests/auth/test_logout_csrf.py). Domain tests that check
their own forms: tests/directory/test_access.py, tests/calendar/test_rsvp.py,
tests/scheduling/test_pages.py, tests/reports/test_periods.py, tests/archive/test_uploads.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hub.extensions import csrf, db
from tests.conftest import login
from tests.directory.test_access import ROLES
from tests.security import worlds

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

#: Endpoints that take a state-changing request without a CSRF token, and why.
EXEMPT = {
    "conferencing.hook": "provider webhooks and callbacks (Zoom, BigBlueButton) come from the "
                         "provider's servers, not from a browser, and carry no session: each "
                         "is authenticated by the provider's signature or JWT "
                         "(tests/conferencing/test_webhooks.py)",
}
#: Not exempt: the sign-out (a forged sign-out is a nuisance, but it is protected all the
#: same), the presence reports (static/js/presence.js sends X-CSRFToken from the page's meta
#: tag), the board's image upload (board.js sends X-CSRFToken), RSVP and feedback forms opened
#: from a letter (their pages carry the token). The board's socket events are not HTTP forms:
#: the socket is authorised on connect and every event again (test_socket_roles.py).

CSRF_MESSAGE = "The form has expired or came from another site"


def _signed_in(app: Flask, people, role: str) -> FlaskClient:  # type: ignore[no-untyped-def]
    client = app.test_client()
    if role != "anonymous":
        assert login(client, getattr(people, role)).status_code == 302
    return client


@pytest.fixture
def csrf_on(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    yield


def snapshot() -> dict[str, list[str]]:
    """Every row of every table, for "nothing changed"."""
    db.session.expire_all()
    return {table.name: sorted(map(repr, db.session.execute(select(table)).all()))
            for table in db.metadata.sorted_tables}


def refused(response, endpoint: str, path: str) -> str | None:  # type: ignore[no-untyped-def]
    """None when the response is the documented refusal for a missing token, else why not."""
    body = response.get_data(as_text=True)
    if "Traceback" in body:
        return "a traceback"
    if endpoint.startswith("auth."):
        back = "/" if endpoint == "auth.logout" else path
        if response.status_code == 302 and response.headers["Location"] == back:
            return None
        return f"{response.status_code}, expected 302 back to the form"
    if response.status_code != 400:
        return f"{response.status_code}, expected 400"
    if CSRF_MESSAGE not in body:
        return "400 without the explanation"
    return None


def _sample_path(rule) -> str:  # type: ignore[no-untyped-def]
    """The rule's path with a value of the right shape for each argument."""
    def value(match: re.Match) -> str:
        converter = match.group(1) or "default"
        if converter == "int":
            return "1"
        if converter.startswith("any("):
            return converter[4:-1].split(",")[0].strip(" '\"")
        return "A" * 32

    return re.sub(r"<(?:([^:<>]+):)?(\w+)>", value, rule.rule)


def state_changing_rules(app: Flask) -> list[tuple[str, str, str]]:
    """(method, sample path, endpoint) of every state-changing method of every rule."""
    return sorted((method, _sample_path(rule), rule.endpoint)
                  for rule in app.url_map.iter_rules()
                  for method in (rule.methods or set()) & STATE_CHANGING)


def test_only_the_listed_endpoints_are_exempt(app):
    views = {f"{view.__module__}.{view.__name__}": endpoint
             for endpoint, view in app.view_functions.items()}
    assert {views.get(name, name) for name in csrf._exempt_views} == set(EXEMPT)
    assert not csrf._exempt_blueprints
    assert app.config.get("WTF_CSRF_CHECK_DEFAULT", True)
    assert set(app.config.get("WTF_CSRF_METHODS") or STATE_CHANGING) >= STATE_CHANGING


@pytest.mark.parametrize("role", ["anonymous", "municipal"])
def test_every_state_changing_rule_refuses_a_request_without_token(app, people, csrf_on, role):
    """Walks app.url_map itself, so a route added tomorrow is walked too."""
    app.config["WTF_CSRF_ENABLED"] = False
    client = _signed_in(app, people, role)
    app.config["WTF_CSRF_ENABLED"] = True
    before = snapshot()
    wrong = []
    rules = state_changing_rules(app)
    assert len(rules) > 60
    for method, path, endpoint in rules:
        if endpoint in EXEMPT:
            continue
        for headers in ({}, {"Accept": "application/json"}):
            response = client.open(path, method=method, data={"x": "1"}, headers=headers)
            if headers and not endpoint.startswith("auth."):
                if response.status_code != 400 or response.get_json(silent=True) is None:
                    wrong.append(f"{method} {path} (JSON): {response.status_code}")
                continue
            if headers:
                continue
            why = refused(response, endpoint, path)
            if why:
                wrong.append(f"{method} {path} ({endpoint}): {why}")
    assert not wrong, "\n".join(wrong)
    assert snapshot() == before


def _actor(row: tuple) -> str:
    """A role the table lets do it (the organiser first), else the municipal coordinator."""
    expected = dict(zip(ROLES, row[2:], strict=True))
    for role in ("coordinator", "municipal", "teacher"):
        if expected[role] in (200, 201, 204, 302, 303):
            return role
    return "municipal"


@pytest.mark.parametrize("table", worlds.table_names())
def test_with_real_objects_and_the_right_role_nothing_changes(app, people, request, table,
                                                              csrf_on):
    """Every state-changing row of each route table, posted with the table's own objects by a
    role allowed to do it, without a token: refused, and no row of any table changes."""
    ids = worlds.BUILDERS[table](request)
    rows = [row for row in worlds.routes_of(table) if row[0] in STATE_CHANGING]
    app.config["WTF_CSRF_ENABLED"] = False
    clients = {role: _signed_in(app, people, role) for role in ROLES}
    app.config["WTF_CSRF_ENABLED"] = True
    before = snapshot()
    wrong, walked = [], 0
    for row in rows:
        method, path = row[0], row[1].format(**ids)
        endpoint = worlds.endpoint_of(app, method, path)
        if endpoint is None or endpoint in EXEMPT:
            continue
        walked += 1
        response = clients[_actor(row)].open(path, method=method, data={"confirm": "1"})
        why = refused(response, endpoint, path.split("?")[0])
        if why:
            wrong.append(f"{method} {path} as {_actor(row)}: {why}")
    assert not wrong, "\n".join(wrong)
    assert snapshot() == before
    assert walked or not rows


def test_every_table_is_known(app):
    """A new route table needs its ids here (tests/security/worlds.py)."""
    assert set(worlds.table_names()) == set(worlds.BUILDERS)


FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
POST = re.compile(r"""method\s*=\s*["']?post""", re.I)
#: A prefixed form's field is "<prefix>-csrf_token"; CSRFProtect takes it too.
TOKEN_FIELD = re.compile(r"""<input[^>]*name=["'](?:[\w-]+-)?csrf_token["'][^>]*>""", re.I)


def forms_without_token(html: str) -> list[str]:
    """The opening tags of the POST forms of a page that carry no non-empty csrf_token."""
    missing = []
    for attributes, content in FORM.findall(html):
        if not POST.search(attributes):
            continue
        field = TOKEN_FIELD.search(content)
        if field is None or 'type="hidden"' not in field.group(0) \
                or re.search(r'value=""', field.group(0)) or "value=" not in field.group(0):
            missing.append(f"<form{attributes}>")
    return missing


@pytest.mark.parametrize("table", worlds.table_names())
def test_every_post_form_carries_the_token(app, people, request, table, csrf_on):
    """Every page of each route table, for every role: each <form method="post"> has the
    hidden csrf_token field."""
    ids = worlds.BUILDERS[table](request)
    app.config["WTF_CSRF_ENABLED"] = False
    clients = {role: _signed_in(app, people, role) for role in ROLES}
    app.config["WTF_CSRF_ENABLED"] = True
    wrong, forms = [], 0
    for method, template, *expected in worlds.routes_of(table):
        if method != "GET":
            continue
        path = template.format(**ids)
        for role, want in zip(ROLES, expected, strict=True):
            if want != 200:
                continue
            response = clients[role].get(path)
            if "text/html" not in response.content_type:
                continue
            html = response.get_data(as_text=True)
            forms += len(FORM.findall(html))
            wrong += [f"{path} as {role}: {tag}" for tag in forms_without_token(html)]
    assert not wrong, "\n".join(sorted(set(wrong)))
    assert forms or table == "attendance.test_access_join"


def test_the_form_check_sees_a_form_without_token():
    assert forms_without_token('<form method="post" action="/x"><button>x</button></form>')
    assert forms_without_token('<form method="POST"><input name="csrf_token" value=""></form>')
    assert not forms_without_token('<form method="get"><input name="q"></form>')
    assert not forms_without_token(
        '<form method="post"><input type="hidden" name="csrf_token" value="abc"></form>')
