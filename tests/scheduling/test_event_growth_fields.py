"""The event's level, required presence checks and automatic certificates: from the form (new
and edit, a series' sessions too) through the spec to the event, with bad values explained,
and shown on the event page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hub.extensions import db
from hub.scheduling import services
from hub.scheduling.models import Event, Level, Series
from hub.scheduling.spec import SchedulingError

from .conftest import form_data, spec, text


@pytest.fixture
def coordinator(people, login_as):  # type: ignore[no-untyped-def]
    return login_as(people.coordinator)


def own(people) -> str:  # type: ignore[no-untyped-def]
    return str(people.coordinator.organisation_id)


def only_event() -> Event:
    db.session.expire_all()
    return db.session.scalar(select(Event))


def errors(response) -> list[str]:  # type: ignore[no-untyped-def]
    return re.findall(r'class="error"[^>]*>([^<]*)<', text(response))


def test_the_new_form_offers_the_fields_with_defaults(coordinator):
    page = text(coordinator.get("/events/new"))
    assert re.search(r'<option selected value="2">|<option value="2" selected', page)
    assert 'name="required_checks"' in page and 'value="0"' in page
    assert re.search(r'<input[^>]*checked[^>]*name="auto_certificates"|'
                     r'<input[^>]*name="auto_certificates"[^>]*checked', page)


def test_the_form_saves_the_fields_and_shows_them_again(coordinator, people):
    response = coordinator.post("/events/new", data=form_data(
        hosts=[own(people)], level=str(int(Level.REGIONAL)), required_checks="2",
        auto_certificates=""))
    assert response.status_code == 302, errors(response)
    event = only_event()
    assert (event.level, event.required_checks, event.auto_certificates) == (
        Level.REGIONAL, 2, False)

    edit = text(coordinator.get(f"/events/{event.id}/edit"))
    assert re.search(r'<option selected value="3">|<option value="3" selected', edit)
    assert re.search(r'name="required_checks"[^>]*value="2"|value="2"[^>]*name="required_checks"',
                     edit)
    response = coordinator.post(f"/events/{event.id}/edit", data=form_data(
        hosts=[own(people)], level=str(int(Level.FEDERAL)), required_checks="",
        auto_certificates="y", save="", save_changes="1"))
    assert response.status_code == 302, errors(response)
    event = only_event()
    assert (event.level, event.required_checks, event.auto_certificates) == (
        Level.FEDERAL, 0, True)

    page = text(coordinator.get(f"/events/{event.id}"))
    assert "Level" in page and "Federal" in page and "Automatic" in page
    assert "Presence checks required" not in page  # none required: not shown


def test_a_form_without_the_fields_keeps_the_defaults(coordinator, people):
    response = coordinator.post("/events/new", data=form_data(hosts=[own(people)]))
    assert response.status_code == 302
    event = only_event()
    assert (event.level, event.required_checks) == (Level.MUNICIPAL, 0)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("required_checks", "11", "Presence checks: a number from 0 to 10."),
    ("required_checks", "-1", "Presence checks: a number from 0 to 10."),
    ("required_checks", "два", "Not a valid integer value."),
    ("level", "9", "Choose a level from the list."),
    ("level", "abc", "Choose a level from the list."),
])
def test_bad_values_are_explained_and_nothing_is_saved(coordinator, people, field, value,
                                                       message):
    response = coordinator.post("/events/new", data=form_data(hosts=[own(people)],
                                                              **{field: value}))
    assert response.status_code == 200
    assert message in errors(response)
    assert only_event() is None


def test_a_series_gives_every_session_the_fields(coordinator, people):
    response = coordinator.post("/events/new", data=form_data(
        hosts=[own(people)], repeat="WEEKLY", count="3", level=str(int(Level.ORGANISATION)),
        required_checks="1", auto_certificates="y"))
    assert response.status_code == 302, errors(response)
    series = db.session.scalar(select(Series))
    assert {(e.level, e.required_checks, e.auto_certificates) for e in series.events} == {
        (Level.ORGANISATION, 1, True)}


def test_the_spec_checks_the_values_too(people):
    good = services.check(people.coordinator, spec(
        host_ids=[people.coordinator.organisation_id], level=Level.REGIONAL, required_checks=3,
        auto_certificates=False))
    assert (good.level, good.required_checks, good.auto_certificates) == (
        Level.REGIONAL, 3, False)
    with pytest.raises(SchedulingError) as refused:
        services.check(people.coordinator, spec(
            host_ids=[people.coordinator.organisation_id], level=7, required_checks=12))
    assert set(refused.value.errors) == {"level", "required_checks"}


def test_the_event_page_lists_required_checks(coordinator, people):
    coordinator.post("/events/new", data=form_data(hosts=[own(people)], required_checks="3"))
    page = text(coordinator.get(f"/events/{only_event().id}"))
    assert re.search(r"Presence checks required</dt><dd>3</dd>", page)
    assert "Municipal" in page
