"""Fixtures for the hub's side of conferencing: the calendar's events and invitations, and a
provider account of the coordinator's organisation whose API is a local HTTP server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer

from hub.conferencing import accounts
from hub.conferencing.models import ProviderAccount
from hub.extensions import db
from tests.calendar.conftest import deliver, invite, make_event, make_series  # noqa: F401

TELEMOST_TOKEN = "y0_AgAAAAB-telemost-secret-token-000000"


@pytest.fixture
def endpoints(app: Flask, httpserver: HTTPServer) -> Iterator[HTTPServer]:
    """Every provider's API (and Yandex ID) answered by the local `httpserver`."""
    base = httpserver.url_for("").rstrip("/")
    saved = app.config["CONFERENCING_ENDPOINTS"]
    app.config["CONFERENCING_ENDPOINTS"] = {
        "telemost": f"{base}/telemost", "yandex_login": f"{base}/yandex",
        "zoom": f"{base}/zoom", "zoom_oauth": f"{base}/zoom-oauth"}
    yield httpserver
    app.config["CONFERENCING_ENDPOINTS"] = saved


@pytest.fixture
def telemost_account(people, endpoints) -> ProviderAccount:  # type: ignore[no-untyped-def]
    """Yandex Telemost set up for the coordinator's organisation."""
    account = accounts.save_account(people.coordinator.organisation, "telemost",
                                    {"oauth_token": TELEMOST_TOKEN}, people.coordinator)
    db.session.commit()
    return account


@pytest.fixture
def conference(endpoints) -> Callable[..., None]:  # type: ignore[no-untyped-def]
    """Make the local Telemost answer conference creation: first with `failures` (HTTP
    statuses, each once), then with a conference, as Telemost's API documents them."""

    def answer(*failures: int, conference_id: str = "68031451") -> None:
        for status in failures:
            endpoints.expect_oneshot_request("/telemost/conferences", method="POST") \
                .respond_with_json({"error": "Error", "description": "try later"}, status=status)
        endpoints.expect_request("/telemost/conferences", method="POST").respond_with_json(
            {"id": conference_id, "join_url": f"https://telemost.yandex.ru/j/{conference_id}"},
            status=201)
        endpoints.expect_request(f"/telemost/conferences/{conference_id}/cohosts",
                                 method="PATCH").respond_with_json({})

    return answer
