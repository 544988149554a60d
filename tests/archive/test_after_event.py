"""After an event its board's export comes into the bank by itself: once, refreshed when the
board changes, left unpublished when the organiser unpublished it, nothing for events without
posts, cancelled or long past."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from hub.archive import services
from hub.archive.after_event import WINDOW, export_due_boards
from hub.archive.models import Material, MaterialKind
from hub.board import services as board_services
from hub.board.access import Viewer, person_key
from hub.extensions import db
from hub.scheduling.models import Event, EventStatus


def _post(event: Event, person, body: str = "Идея: квест с Bee-Bot") -> None:  # type: ignore[no-untyped-def]
    """A post on the event's board, written during the event."""
    with time_machine.travel(event.start_at + timedelta(minutes=10)):
        board = board_services.ensure_board(event)
        viewer = Viewer(key=person_key(person), name=person.full_name, person_id=person.id,
                        moderator=True, can_post=True)
        board_services.create_post(board, viewer, {"body": body})
        db.session.commit()


def _exports(event: Event) -> list[Material]:
    db.session.expire_all()
    return list(db.session.scalars(select(Material).where(
        Material.event_id == event.id, Material.kind == MaterialKind.BOARD_EXPORT)))


def test_the_export_is_made_once_after_the_end(event, people):
    _post(event, people.coordinator)
    with time_machine.travel(event.end_at - timedelta(minutes=5)):
        assert export_due_boards() == 0  # not over yet
    with time_machine.travel(event.end_at + timedelta(minutes=10)):
        assert export_due_boards() == 1
        assert export_due_boards() == 0  # nothing changed: nothing done
    [export] = _exports(event)
    assert export.published and export.content_type == "application/pdf" and export.size > 0
    assert export.title and event.title in export.title


def test_a_board_change_refreshes_it_and_unpublished_stays_unpublished(event, people):
    _post(event, people.coordinator)
    with time_machine.travel(event.end_at + timedelta(minutes=10)):
        export_due_boards()
    [export] = _exports(event)
    first_key = export.storage_key
    services.set_published(export, False)  # the organiser unpublished it
    db.session.commit()
    with time_machine.travel(event.end_at + timedelta(minutes=20)):
        board = board_services.ensure_board(event)
        viewer = Viewer(key=person_key(people.coordinator), name="", moderator=True,
                        person_id=people.coordinator.id, can_post=True)
        board_services.create_post(board, viewer, {"body": "Итоги: ссылка на запись"})
        db.session.commit()
    with time_machine.travel(event.end_at + timedelta(minutes=30)):
        assert export_due_boards() == 1
        assert export_due_boards() == 0
    [export] = _exports(event)
    assert export.storage_key != first_key
    assert not export.published


def test_events_without_posts_cancelled_or_long_past_get_nothing(make_event, people):
    empty = make_event(title="Без постов")
    board_services.ensure_board(empty)
    db.session.commit()
    cancelled = make_event(title="Отменённый круглый стол")
    _post(cancelled, people.coordinator)
    cancelled.status = EventStatus.CANCELLED
    old = make_event(title="Давний семинар", start=empty.start_at - WINDOW - timedelta(days=1))
    _post(old, people.coordinator)
    db.session.commit()
    with time_machine.travel(empty.end_at + timedelta(hours=1)):
        assert export_due_boards() == 0
    assert not _exports(old) and not _exports(empty) and not _exports(cancelled)
    with time_machine.travel(old.end_at + timedelta(hours=1)):
        assert export_due_boards() == 1  # within its week, the old one was due


def test_the_job_is_registered(app):
    from hub.outbox.worker import _jobs

    assert {"archive.after_event", "archive.digest"} <= set(_jobs)
