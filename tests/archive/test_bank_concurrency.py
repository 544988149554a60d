"""The bank's jobs in several workers at once (PostgreSQL): one board export per event, one
digest per subscriber."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from hub.archive import digest
from hub.archive.after_event import export_due_boards
from hub.archive.models import Material, MaterialKind
from hub.core.types import utcnow
from hub.extensions import db
from hub.outbox.models import OutboxMessage
from tests.archive import bank_fixtures
from tests.archive.test_after_event import _post

pytestmark = pytest.mark.postgres
make_material = bank_fixtures.make_material
WORKERS = 4


def run_at_once(app, job: Callable[[], int]) -> list[int]:  # type: ignore[no-untyped-def]
    """`job` in WORKERS threads started at the same moment, each with its own session."""
    start = threading.Barrier(WORKERS)
    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                start.wait()
                results.append(job())
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, name=f"bank-test-{i}") for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)  # a guard against a hang, not a timing assertion
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    assert errors == []
    db.session.expire_all()
    return results


def test_four_workers_make_one_board_export(app, event, people):
    _post(event, people.coordinator)
    with time_machine.travel(event.end_at + timedelta(minutes=10)):
        results = run_at_once(app, export_due_boards)
    assert sorted(results) == [0] * (WORKERS - 1) + [1]
    assert len(db.session.scalars(select(Material).where(
        Material.kind == MaterialKind.BOARD_EXPORT)).all()) == 1


def test_four_workers_send_one_digest_per_subscriber(app, people, network, make_material):
    make_material("Слайды семинара", created_at=utcnow() - timedelta(days=1))
    for person in (people.teacher, people.other_teacher, people.coordinator):
        digest.set_subscribed(person, True)
    db.session.commit()
    results = run_at_once(app, digest.send_due_digests)
    assert sum(results) == 3
    recipients = [m.to_addr for m in db.session.scalars(select(OutboxMessage))]
    assert sorted(recipients) == sorted(
        p.email for p in (people.teacher, people.other_teacher, people.coordinator))
