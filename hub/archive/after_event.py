"""After an event, its board's export goes into the bank by itself (job "archive.after_event").

An event is due when it ended (scheduled or completed, not a draft or cancelled) within the
last WINDOW, its board has published posts, and it has no BOARD_EXPORT material yet or one
older than the board's last change. One query finds them (nothing else runs when nothing
changed); each is then handled in its own transaction: the event's row is locked (an UPDATE
that changes nothing: a row lock on PostgreSQL, the write lock on SQLite), the condition checked
again, and services.add_board_export makes or refreshes the material, so two workers never make
two. The export is published when made; an organiser who unpublished it keeps it unpublished
(a refresh leaves `published` alone).

The event's other materials need nothing here: the bank shows them once the event has ended
(access.visible)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, exists, func, or_, select, update

from hub.archive.models import Material, MaterialKind
from hub.board.models import Board, BoardChange, Post, PostState
from hub.core.types import utcnow
from hub.extensions import db
from hub.scheduling.models import Event, EventStatus

log = logging.getLogger(__name__)

#: Events that ended longer ago than this are left alone.
WINDOW = timedelta(days=7)
#: Events handled in one pass at most (the next pass does the rest).
BATCH = 20


def _due(now: datetime) -> ColumnElement[bool]:
    """The condition on Event (joined with its Board) for a board export to make or refresh."""
    has_posts = exists().where(Post.board_id == Board.id, Post.state == PostState.PUBLISHED,
                               Post.deleted_at.is_(None))
    last_change = (select(func.max(BoardChange.created_at))
                   .where(BoardChange.board_id == Board.id).scalar_subquery())
    exported = (select(func.max(Material.updated_at))
                .where(Material.event_id == Event.id,
                       Material.kind == MaterialKind.BOARD_EXPORT).scalar_subquery())
    return (Event.end_at <= now) & (Event.end_at > now - WINDOW) & Event.status.in_(
        (EventStatus.SCHEDULED, EventStatus.COMPLETED)) & has_posts & or_(
        exported.is_(None), exported < last_change)


def due_event_ids(now: datetime, event_id: int | None = None) -> list[int]:
    statement = (select(Event.id).join(Board, Board.event_id == Event.id).where(_due(now))
                 .order_by(Event.end_at).limit(BATCH))
    if event_id is not None:
        statement = statement.where(Event.id == event_id)
    return list(db.session.scalars(statement))


def _lock(event_id: int) -> None:
    db.session.execute(update(Event).where(Event.id == event_id)
                       .values(updated_at=Event.updated_at)
                       .execution_options(synchronize_session=False))


def export_due_boards(now: datetime | None = None) -> int:
    """Make or refresh the board export of every due event, committing each. Returns how many
    were made or refreshed."""
    from hub.archive import services

    now = now or utcnow()
    ids = due_event_ids(now)
    db.session.commit()
    done = 0
    for event_id in ids:
        _lock(event_id)
        if not due_event_ids(now, event_id):  # another worker did it meanwhile
            db.session.commit()
            continue
        try:
            services.add_board_export(db.session.get(Event, event_id))
            db.session.commit()
        except Exception:  # noqa: BLE001 - one broken board must not stop the others
            db.session.rollback()
            log.exception("archive: the board export of event %d failed", event_id)
            continue
        done += 1
    return done
