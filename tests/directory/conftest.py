"""Helpers of the directory tests: a network, and valid form data to spoil one field at a time."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from hub.directory.models import Organisation, Role
from hub.extensions import db


@pytest.fixture
def new_client(app: Flask):  # type: ignore[no-untyped-def]
    """Another browser, with its own cookies."""
    return app.test_client


def fresh(obj: Any) -> Any:
    """The object as the database has it now (the requests committed in other sessions)."""
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)




def person_data(organisation: Organisation, **overrides: Any) -> dict[str, Any]:
    """A valid POST of the person form."""
    data = {
        "surname": "Ёлкина", "first_name": "Алёна", "patronymic": "Фёдоровна",
        "email": "elkina@example.org", "phone": "8 (912) 345-67-89",
        "organisation_id": str(organisation.id), "position": "воспитатель",
        "category": "2", "role": str(int(Role.TEACHER)), "timezone_override": "",
        "locale": "",
    }
    data.update(overrides)
    return data


def organisation_data(**overrides: Any) -> dict[str, Any]:
    """A valid POST of the organisation form."""
    data = {
        "full_name": "МБДОУ «Детский сад № 40 «Пчёлка»»", "short_name": "Детский сад № 40",
        "kind": "1", "municipality": "г. Лесной", "timezone": "Asia/Yekaterinburg",
    }
    data.update(overrides)
    return data


def network_data(rows: list[tuple[Any, Any]], **overrides: Any) -> dict[str, Any]:
    """A valid POST of the network form with (organisation id, coordinator id) rows."""
    data: dict[str, Any] = {"name": "Пчёлки Bee-Bot", "school_year": "2026/2027",
                            "description": "Робототехника для малышей", "submit": "Save"}
    for i, (org, coordinator) in enumerate(rows):
        data[f"members-{i}-organisation"] = "" if org is None else str(org)
        data[f"members-{i}-coordinator"] = "" if coordinator is None else str(coordinator)
    data.update(overrides)
    return data
