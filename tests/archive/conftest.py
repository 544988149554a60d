"""Archive fixtures: a seminar with two invited teachers (from the calendar tests)."""

from __future__ import annotations

import pytest

from hub.scheduling.models import Event
from tests.calendar.conftest import at, invite, make_event, make_series  # noqa: F401


@pytest.fixture
def event(make_event, invite, people) -> Event:  # type: ignore[no-untyped-def]  # noqa: F811
    """A 90-minute seminar on 3 December 2026, 10:00 in Yekaterinburg (05:00–06:30 UTC),
    organised by the coordinator; the teacher and the other teacher invited."""
    event = make_event()
    invite(event, [people.teacher, people.other_teacher])
    return event
