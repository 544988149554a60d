"""Fixtures for the provider tests: a Context with a clock the test controls."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.conferencing.base import Context, RoomSpec


class Clock:
    """A settable clock: `clock.now` is passed as Context.now."""

    def __init__(self, start: datetime) -> None:
        self.value = start

    def now(self) -> datetime:
        return self.value


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 10, 6, 0, tzinfo=UTC))


@pytest.fixture
def context(clock: Clock) -> Context:
    return Context(secret="test-secret-key-for-providers", timeout=2.0, now=clock.now)


@pytest.fixture
def spec() -> RoomSpec:
    """A 90-minute seminar in Yekaterinburg time."""
    return RoomSpec(
        key="room-17", title="Семинар-практикум «Образовательная робототехника в ДОУ»",
        start=datetime(2026, 12, 10, 7, 0, tzinfo=UTC),
        end=datetime(2026, 12, 10, 8, 30, tzinfo=UTC), timezone="Asia/Yekaterinburg",
        description="Работа с наборами Bee-Bot.", organiser_email="coordinator@ds22.example.org",
        callback_url="https://hub.example.org/conferencing/hooks/3")
