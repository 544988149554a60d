"""Signals other domains subscribe to (blinker): `credited` is sent when the records of an
event that has ended were derived again, so that certificates and surveys follow.

    from hub.attendance.signals import credited

    @credited.connect
    def issue(event, records):  # event: scheduling Event; records: list[Attendance]
        ...

Receivers run inside the sender's transaction (the sender commits), each in a savepoint: one
that raises is logged and rolled back alone. They must be idempotent: the same event is sent
again after a late provider report, an override or a recompute.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from blinker import Namespace

from hub.attendance.models import Attendance
from hub.extensions import db
from hub.scheduling.models import Event

log = logging.getLogger(__name__)

_signals = Namespace()

#: Sent with the event as sender and `records`, the event's records just derived again.
credited = _signals.signal("attendance-credited")


def send_credited(event: Event, records: Sequence[Attendance]) -> None:
    """Call every receiver of `credited`, each in its own savepoint (a failure is logged);
    nothing is sent for an event without records."""
    if not records:
        return
    for receiver in credited.receivers_for(event):
        try:
            with db.session.begin_nested():
                receiver(event, records=list(records))
        except Exception:  # noqa: BLE001 - a broken receiver must not undo the attendance
            log.exception("attendance: a receiver of `credited` failed for event %s", event.id)
