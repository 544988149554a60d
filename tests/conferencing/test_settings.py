"""An organisation's provider settings: saved with their secrets encrypted, never shown back
or logged, checked against the provider, kept when left empty; and the event form offering
the providers the host organisations can use."""

from __future__ import annotations

import logging
from datetime import date, time

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from hub.conferencing import accounts
from hub.conferencing.models import ProviderAccount
from hub.core import secrets
from hub.extensions import db
from hub.scheduling.models import Event
from hub.scheduling.services import SchedulingError, create_event
from hub.scheduling.spec import EventSpec
from tests.conferencing.conftest import TELEMOST_TOKEN

SETTINGS = "/organisations/{}/conferencing"


def _yandex_answers(endpoints, status: int = 200) -> None:  # type: ignore[no-untyped-def]
    body = ({"login": "metodist", "default_email": "metodist@ds22.example.org"} if status == 200
            else {"error": "invalid token"})
    endpoints.expect_request("/yandex/info").respond_with_json(body, status=status)


def test_a_coordinator_saves_a_token_that_is_stored_encrypted_and_never_shown(
        client, people, login_as, endpoints, caplog):
    _yandex_answers(endpoints)
    login_as(people.coordinator)
    org = people.coordinator.organisation_id
    caplog.set_level(logging.DEBUG)
    response = client.post(f"{SETTINGS.format(org)}/telemost",
                           data={"telemost-oauth_token": TELEMOST_TOKEN,
                                 "telemost-waiting_room_level": "organization"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "the connection works" in page and "metodist@ds22.example.org" in page
    assert TELEMOST_TOKEN not in page
    assert "saved — leave empty to keep" in page
    assert TELEMOST_TOKEN not in caplog.text

    account = db.session.query(ProviderAccount).one()
    assert account.settings == {"waiting_room_level": "organization"}
    assert account.secret_names == ["oauth_token"]
    raw = db.session.execute(text("SELECT secrets_encrypted, settings FROM provider_account"))
    stored = " ".join(str(v) for v in raw.one())
    assert TELEMOST_TOKEN not in stored and "y0_" not in stored
    assert accounts.settings_of(account)["oauth_token"] == TELEMOST_TOKEN
    [request, *_] = endpoints.log[0]
    assert request.headers["Authorization"] == f"OAuth {TELEMOST_TOKEN}"


def test_an_empty_secret_keeps_the_saved_one_and_a_new_one_replaces_it(
        client, people, login_as, telemost_account, endpoints):
    _yandex_answers(endpoints)
    login_as(people.coordinator)
    org = people.coordinator.organisation_id
    client.post(f"{SETTINGS.format(org)}/telemost", data={"telemost-oauth_token": ""})
    db.session.expire_all()
    assert accounts.settings_of(telemost_account)["oauth_token"] == TELEMOST_TOKEN
    client.post(f"{SETTINGS.format(org)}/telemost", data={"telemost-oauth_token": "y0_new"})
    db.session.expire_all()
    assert accounts.settings_of(telemost_account)["oauth_token"] == "y0_new"


def test_a_token_the_provider_refuses_is_saved_with_the_reason_shown(
        client, people, login_as, endpoints):
    _yandex_answers(endpoints, status=401)
    login_as(people.coordinator)
    org = people.coordinator.organisation_id
    response = client.post(f"{SETTINGS.format(org)}/telemost",
                           data={"telemost-oauth_token": "y0_revoked"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "the connection does not work" in page and "issue a new one" in page
    assert "y0_revoked" not in page
    account = db.session.query(ProviderAccount).one()
    assert account.check_ok is False


def test_missing_required_settings_are_named_and_nothing_is_saved(client, people, login_as):
    login_as(people.coordinator)
    org = people.coordinator.organisation_id
    response = client.post(f"{SETTINGS.format(org)}/bigbluebutton", data={})
    assert response.status_code == 400
    assert "Fill this in." in response.get_data(as_text=True)
    assert db.session.query(ProviderAccount).count() == 0


def test_the_settings_page_lists_every_provider_and_its_webhook_address(
        client, people, login_as, telemost_account):
    login_as(people.coordinator)
    page = client.get(SETTINGS.format(people.coordinator.organisation_id)).get_data(as_text=True)
    for label in ("Jitsi Meet", "BigBlueButton", "Google Meet", "Zoom", "Яндекс Телемост"):
        assert label in page
    assert TELEMOST_TOKEN not in page


def test_removing_settings_detaches_their_rooms(client, people, login_as, telemost_account):
    login_as(people.coordinator)
    org = people.coordinator.organisation_id
    client.post(f"{SETTINGS.format(org)}/telemost/delete")
    assert db.session.query(ProviderAccount).count() == 0


def test_production_without_keys_refuses_to_store_secrets(app, people):
    app.config["SETTINGS_KEY_FROM_SECRET"] = False
    try:
        with pytest.raises(accounts.SettingsError, match="SETTINGS_ENCRYPTION_KEYS"):
            accounts.save_account(people.coordinator.organisation, "telemost",
                                  {"oauth_token": TELEMOST_TOKEN}, people.coordinator)
    finally:
        app.config["SETTINGS_KEY_FROM_SECRET"] = True
    db.session.rollback()
    assert db.session.query(ProviderAccount).count() == 0


def test_keys_rotate_old_values_stay_readable(app):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["SETTINGS_ENCRYPTION_KEYS"] = old
    try:
        token = secrets.encrypt({"client_secret": "s3cr3t"})
        app.config["SETTINGS_ENCRYPTION_KEYS"] = f"{new},{old}"
        assert secrets.decrypt(token) == {"client_secret": "s3cr3t"}
        rotated = secrets.rotate(token)
        app.config["SETTINGS_ENCRYPTION_KEYS"] = new
        assert secrets.decrypt(rotated) == {"client_secret": "s3cr3t"}
        with pytest.raises(secrets.SecretsUnavailable, match="enter them again"):
            secrets.decrypt(token)
    finally:
        app.config["SETTINGS_ENCRYPTION_KEYS"] = ""


# -- choosing a provider for an event ---------------------------------------------------------


def _spec(people, provider: str) -> EventSpec:  # type: ignore[no-untyped-def]
    return EventSpec(format=1, title="Вебинар «Цифровая лаборатория»", timezone="Europe/Moscow",
                     start_date=date(2026, 12, 15), start_time=time(15), end_time=time(16, 30),
                     host_ids=[people.coordinator.organisation_id], provider=provider)


def test_a_provider_the_hosts_have_not_set_up_cannot_be_chosen(people):
    with pytest.raises(SchedulingError) as error:
        create_event(people.coordinator, _spec(people, "zoom"))
    assert "cannot be used" in error.value.errors["provider"]
    with pytest.raises(SchedulingError) as error:
        create_event(people.coordinator, _spec(people, "skype"))
    assert "Unknown" in error.value.errors["provider"]


def test_a_provider_the_hosts_have_set_up_is_used(people, telemost_account, conference):
    conference()
    event = create_event(people.coordinator, _spec(people, "telemost"), publish=True)
    db.session.commit()
    assert db.session.get(Event, event.id).provider == "telemost"


def test_the_event_form_offers_the_providers_with_their_state(client, people, login_as,
                                                              telemost_account):
    login_as(people.coordinator)
    page = client.get("/events/new").get_data(as_text=True)
    assert '<option selected value="jitsi">Jitsi Meet</option>' in page
    assert '<option value="telemost">Яндекс Телемост</option>' in page
    assert "Zoom — not set up for the host organisations" in page


def test_rekey_re_encrypts_stored_settings_with_the_new_first_key(app, runner, people,
                                                                  telemost_account):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["SETTINGS_ENCRYPTION_KEYS"] = old
    try:
        accounts.save_account(people.coordinator.organisation, "telemost",
                              {"oauth_token": TELEMOST_TOKEN}, people.coordinator)
        db.session.commit()
        app.config["SETTINGS_ENCRYPTION_KEYS"] = f"{new},{old}"
        result = runner.invoke(args=["conferencing", "rekey"])
        assert result.exit_code == 0, result.output
        assert "1 provider accounts" in result.output
        app.config["SETTINGS_ENCRYPTION_KEYS"] = new
        db.session.expire_all()
        assert accounts.settings_of(telemost_account)["oauth_token"] == TELEMOST_TOKEN
        status = runner.invoke(args=["conferencing", "status"]).output
        assert "jitsi" in status and "available" in status
    finally:
        app.config["SETTINGS_ENCRYPTION_KEYS"] = ""
