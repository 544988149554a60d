"""The route tables of tests/test_route_access.py and tests/<domain>/test_access*.py, each with
the ids its placeholders stand for, built from the same fixtures the table's own test uses."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.exceptions import MethodNotAllowed, NotFound

from hub.archive.digest import unsubscribe_token
from hub.directory.importing import save_upload
from hub.extensions import db
from hub.growth import certificates
from hub.outbox.services import enqueue_email
from hub.scheduling import plan
from tests.growth.records import after, attend

TESTS = Path(__file__).resolve().parent.parent
Ids = dict[str, Any]


def _people_ids(request: pytest.FixtureRequest) -> Ids:
    people = request.getfixturevalue("people")
    network = request.getfixturevalue("network")
    return {"own_org": people.coordinator.organisation_id,
            "other_org": people.other_teacher.organisation_id, "net": network.id,
            **{name: getattr(people, name).id
               for name in ("teacher", "other_teacher", "municipal", "coordinator")}}


def _core_ids(request: pytest.FixtureRequest) -> Ids:
    people = request.getfixturevalue("people")
    organisation = people.coordinator.organisation.short_name
    csv = f"ФИО;организация;email\nОрлова Анна Ильинична;{organisation};anna@example.org\n"
    upload = save_upload(csv.encode(), owner_id=people.coordinator.id, filename="people.csv")
    mail = enqueue_email("teacher@example.org", "Приглашение", "Текст", "<p>Текст</p>")
    db.session.commit()
    return {"upload": upload.token, "mail": mail.id}


def _bank_ids(request: pytest.FixtureRequest) -> Ids:
    people, event = request.getfixturevalue("people"), request.getfixturevalue("event")
    request.getfixturevalue("make_material")("Слайды семинара", event=event)
    return {"event": event.id, "network": request.getfixturevalue("network").id,
            "org": people.coordinator.organisation_id, "token": unsubscribe_token(people.teacher)}


def _certificate_ids(request: pytest.FixtureRequest) -> Ids:
    people, event = request.getfixturevalue("people"), request.getfixturevalue("event")
    with after(event):
        mine = certificates.issue_for(attend(event, people.teacher, people.coordinator))
        other = certificates.issue_for(attend(event, people.other_teacher, people.coordinator))
        db.session.commit()
    return {"event": event.id, "mine": mine.id, "other": other.id, "code": mine.code,
            "teacher": people.teacher.id, "other_teacher": people.other_teacher.id}


def _plan_ids(request: pytest.FixtureRequest) -> Ids:
    people, network = request.getfixturevalue("people"), request.getfixturevalue("network")
    item = plan.add_item(network, month="2026-10", topic="Круглый стол", format=3,
                         responsible=people.coordinator.organisation)
    db.session.commit()
    return {"net": network.id, "item": item.id}


def _fixture(name: str) -> Callable[[pytest.FixtureRequest], Ids]:
    return lambda request: request.getfixturevalue(name)


#: How each table's ids are made (the same objects as in the table's own test).
BUILDERS: dict[str, Callable[[pytest.FixtureRequest], Ids]] = {
    "test_route_access": _core_ids,
    "archive.test_access_bank": _bank_ids,
    "archive.test_access_materials": _fixture("material_ids"),
    "attendance.test_access_checkin": _fixture("checkin_ids"),
    "attendance.test_access_join": _fixture("join_ids"),
    "attendance.test_access_sheet": _fixture("sheet_ids"),
    "board.test_access": _fixture("board_ids"),
    "calendar.test_access": _fixture("calendar_ids"),
    "calendar_views.test_access": _people_ids,
    "conferencing.test_access": _fixture("conferencing_ids"),
    "directory.test_access": _people_ids,
    "growth.test_access_certificates": _certificate_ids,
    "growth.test_access_internship_feedback": _fixture("growth_ids"),
    "plan.test_access": _plan_ids,
    "reports.test_access": _fixture("report_ids"),
    "scheduling.test_access": _fixture("events"),
}


def table_names() -> list[str]:
    """Every route table: tests/test_route_access.py and tests/<domain>/test_access*.py."""
    return ["test_route_access"] + [
        f"{path.parent.name}.{path.stem}" for path in sorted(TESTS.glob("*/test_access*.py"))
        if hasattr(importlib.import_module(f"tests.{path.parent.name}.{path.stem}"), "ROUTES")]


def routes_of(name: str) -> list[tuple]:
    return list(importlib.import_module(f"tests.{name}").ROUTES)


def endpoint_of(app: Flask, method: str, path: str) -> str | None:
    """The endpoint `method path` reaches, None when no rule takes it."""
    try:
        return app.url_map.bind("localhost").match(path.split("?")[0], method=method)[0]
    except (NotFound, MethodNotAllowed):
        return None
