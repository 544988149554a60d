"""The layout of calendar pages: days shown, prev/next, events placed on local days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from hub.scheduling.calendar_grid import (
    add_months,
    build_page,
    parse_date,
    place_events,
)


def _event(start: datetime, minutes: int, ident: int = 1, zone: str = "Europe/Moscow"):  # type: ignore[no-untyped-def]
    return SimpleNamespace(id=ident, start_at=start, end_at=start + timedelta(minutes=minutes),
                           timezone=zone)


def test_a_month_is_whole_weeks_from_monday() -> None:
    page = build_page("month", date(2026, 11, 22), date(2026, 11, 22), "Europe/Moscow")
    assert page.first == date(2026, 10, 26) and page.first.weekday() == 0
    assert page.last == date(2026, 12, 6) and page.last.weekday() == 6
    assert len(page.weeks) == 6 and all(len(w) == 7 for w in page.weeks)
    inside = [d.day for d in page.days if d.in_range]
    assert inside[0] == date(2026, 11, 1) and inside[-1] == date(2026, 11, 30)
    assert [d.day for d in page.days if d.is_today] == [date(2026, 11, 22)]
    assert (page.previous, page.following) == (date(2026, 10, 1), date(2026, 12, 1))
    # Midnight to midnight in the viewer's zone.
    assert page.start_utc == datetime(2026, 10, 25, 21, tzinfo=UTC)
    assert page.end_utc == datetime(2026, 12, 6, 21, tzinfo=UTC)


def test_a_week_and_a_list() -> None:
    week = build_page("week", date(2027, 1, 1), date(2026, 11, 22), "Asia/Vladivostok")
    assert (week.first, week.last) == (date(2026, 12, 28), date(2027, 1, 3))
    assert (week.previous, week.following) == (date(2026, 12, 21), date(2027, 1, 4))
    assert not any(d.is_today for d in week.days)
    assert week.start_utc == datetime(2026, 12, 27, 14, tzinfo=UTC)
    listed = build_page("list", date(2027, 2, 14), date(2027, 2, 1), "Europe/Moscow")
    assert (listed.first, listed.last) == (date(2027, 2, 1), date(2027, 2, 28))
    assert (listed.previous, listed.following) == (date(2027, 1, 1), date(2027, 3, 1))
    assert build_page("year", date(2027, 2, 14), date(2027, 2, 1), "UTC").view == "month"


def test_dates_from_the_query_string() -> None:
    today = date(2026, 11, 22)
    assert parse_date("2026-12-05", today) == date(2026, 12, 5)
    assert parse_date("2026-12", today) == date(2026, 12, 1)
    for bad in ("", None, "2026-13-01", "2026-02-30", "yesterday", "2026-1-1", "\x00",
                "9" * 1000):
        assert parse_date(bad, today) == today
    assert parse_date("1066-10-14", today) == date(2000, 1, 1)
    assert parse_date("9999-12-31", today) == date(2099, 12, 31)
    assert add_months(date(2099, 12, 5), 1) == date(2099, 12, 31)
    assert add_months(date(2026, 1, 31), -1) == date(2025, 12, 1)
    # The edges of what a page may show still build.
    for view in ("month", "week", "list"):
        for edge in (date(2000, 1, 1), date(2099, 12, 31)):
            assert build_page(view, edge, today, "Asia/Vladivostok").days


def test_events_fall_on_the_viewers_local_day() -> None:
    page = build_page("month", date(2026, 11, 1), date(2026, 11, 22), "Asia/Vladivostok")
    # 20:00 Moscow on the 10th is 03:00 on the 11th in Vladivostok.
    late = _event(datetime(2026, 11, 10, 17, tzinfo=UTC), 60, 1)
    place_events(page, [late])
    (day,) = [d for d in page.days if d.events]
    assert day.day == date(2026, 11, 11)
    assert day.events[0].start.hour == 3
    # The event's own zone differs from the viewer's: its own time is offered too.
    assert day.events[0].own_start.hour == 20


def test_a_long_event_shows_on_every_day_it_covers() -> None:
    page = build_page("week", date(2026, 11, 16), date(2026, 11, 22), "Europe/Moscow")
    # A methodical week: Monday 09:00 to Friday 18:00, Moscow.
    week = _event(datetime(2026, 11, 16, 6, tzinfo=UTC), (4 * 24 + 9) * 60, 7)
    # Ends exactly at midnight: not on the next day.
    evening = _event(datetime(2026, 11, 21, 18, tzinfo=UTC), 180, 8)
    place_events(page, [week, evening])
    days = {d.day.day: d.events for d in page.days}
    assert [len(days[n]) for n in range(16, 23)] == [1, 1, 1, 1, 1, 1, 0]
    monday, tuesday, friday = days[16][0], days[17][0], days[20][0]
    assert (monday.continued, monday.continues) == (False, True)
    assert (tuesday.continued, tuesday.continues) == (True, True)
    assert (friday.continued, friday.continues) == (True, False)
    assert days[21][0].event.id == 8 and not days[21][0].continues
    assert page.event_count == 2


def test_an_event_that_began_before_the_page_starts_on_its_first_day() -> None:
    page = build_page("month", date(2026, 12, 1), date(2026, 12, 1), "Europe/Moscow")
    early = _event(datetime(2026, 11, 20, 6, tzinfo=UTC), 20 * 24 * 60, 1)
    place_events(page, [early])
    first = page.days[0]
    assert first.day == date(2026, 11, 30) and first.events[0].continued
    assert [d.day for d in page.days if d.events][-1] == date(2026, 12, 10)
