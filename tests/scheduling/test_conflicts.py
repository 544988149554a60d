"""Conflicts: overlapping events of the same people or organisations are reported, never
blocked; touching, cancelled, draft and own-series events are not conflicts. The Jitsi room."""

from __future__ import annotations

from datetime import date, time, timedelta

from hub.extensions import db
from hub.scheduling import services
from hub.scheduling.recurrence import FREQ_WEEKLY, Recurrence
from hub.scheduling.spec import clean_spec

from .conftest import NEXT_YEAR, spec


def conflicts(actor, **values):  # type: ignore[no-untyped-def]
    clean = clean_spec(spec(**values), actor)
    return services.warnings_for(actor, clean).conflicts


def test_a_speaker_busy_elsewhere(people):
    other = people.other_teacher.organisation_id
    busy = services.create_event(people.municipal, spec(
        host_ids=[other], speaker_ids=[people.teacher.id], title="Занята"), publish=True)
    found = conflicts(people.coordinator, host_ids=[people.coordinator.organisation_id],
                      moderator_ids=[people.teacher.id], start_time=time(16),
                      end_time=time(17))
    assert [(c.event.id, c.who) for c in found] == [(busy.id, people.teacher.full_name)]
    assert conflicts(people.coordinator, host_ids=[people.coordinator.organisation_id],
                     moderator_ids=[people.teacher.id], start_time=time(16, 30),
                     end_time=time(17)) == []  # touching is not overlapping


def test_an_organiser_and_an_invited_organisation_busy(people, network):
    own = people.coordinator.organisation_id
    other = people.other_teacher.organisation_id
    services.create_event(people.coordinator, spec(host_ids=[own], title="Своё"), publish=True)
    services.create_event(people.municipal, spec(
        host_ids=[people.municipal.organisation_id], audience_network_ids=[network.id],
        title="Сетевое"), publish=True)
    found = conflicts(people.coordinator, host_ids=[own], audience_organisation_ids=[other],
                      start_time=time(15, 30), end_time=time(18))
    pairs = {(c.event.title, c.who) for c in found}
    assert ("Своё", people.coordinator.full_name) in pairs  # the organiser
    assert ("Своё", people.coordinator.organisation.short_name) in pairs  # the host
    assert ("Сетевое", people.other_teacher.organisation.short_name) in pairs  # via network


def test_cancelled_and_draft_events_are_no_conflict(people):
    own = people.coordinator.organisation_id
    cancelled = services.create_event(people.coordinator, spec(host_ids=[own]), publish=True)
    services.cancel_event(cancelled)
    services.create_event(people.coordinator, spec(host_ids=[own]))
    db.session.commit()
    assert conflicts(people.coordinator, host_ids=[own]) == []


def test_a_series_checks_every_session_but_not_itself(people):
    own = people.coordinator.organisation_id
    first = date(NEXT_YEAR, 2, 10)
    weekly = Recurrence(freq=FREQ_WEEKLY, weekdays=[first.weekday()], count=4)
    later = services.create_event(people.municipal, spec(
        host_ids=[people.other_teacher.organisation_id], speaker_ids=[people.teacher.id],
        start_date=first + timedelta(weeks=3), title="Через три недели"), publish=True)
    found = conflicts(people.coordinator, host_ids=[own], speaker_ids=[people.teacher.id],
                      start_date=first, recurrence=weekly)
    assert {c.event.id for c in found} == {later.id}
    session = services.create_event(people.coordinator, spec(
        host_ids=[own], start_date=first, recurrence=weekly), publish=True)
    db.session.commit()
    clean = clean_spec(spec(host_ids=[own], start_date=first, recurrence=weekly),
                       people.coordinator)
    found = services.warnings_for(people.coordinator, clean, session, services.Scope.ALL)
    assert all(c.event.series_id != session.series_id for c in found.conflicts)
    assert not found.conflicts
