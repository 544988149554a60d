"""The report's figures, each asserted exactly on a small world (tests/reports/conftest.py):
events by format and level, participants, teachers, hours, the share of teachers, the
internship, and the period's dates read in each organisation's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine

from hub.extensions import db
from hub.reports.figures import Dates, bounds, distinct_events, figures
from hub.scheduling.models import EventStatus

AFTER = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)


def test_each_figure_of_both_organisations(world) -> None:
    result = figures(world.period, now=AFTER)
    assert set(result) == {world.kindergarten.id, world.other.id}  # not the education office
    assert result[world.kindergarten.id] == {
        "events": 2,
        "events_by_format": {"SEMINAR_PRACTICUM": 1, "ROUND_TABLE": 1},
        "events_by_level": {"MUNICIPAL": 2},
        "participants": 5, "participants_people": 4, "participants_guests": 1,
        "teachers_credited": 3, "credited_records": 7, "hours": 8.5,
        "active_teachers": 3, "active_teachers_credited": 2, "teacher_share_percent": 66.7,
        "interns": 2, "interns_completed": 1, "intern_attendance_percent": 50.0,
    }
    assert result[world.other.id] == {
        "events": 2,
        "events_by_format": {"WEBINAR": 1, "MASTER_CLASS": 1},
        "events_by_level": {"REGIONAL": 1, "MUNICIPAL": 1},
        "participants": 1, "participants_people": 1, "participants_guests": 0,
        "teachers_credited": 1, "credited_records": 1, "hours": 1.0,
        "active_teachers": 1, "active_teachers_credited": 1, "teacher_share_percent": 100.0,
        "interns": 0, "interns_completed": 0, "intern_attendance_percent": None,
    }


def test_internship_attendance_counts_only_the_sessions_held_so_far(world) -> None:
    on_2_december = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # two sessions held
    row = figures(world.period, [world.kindergarten.id], now=on_2_december)
    # the teacher: 2 of 2, the novice: 0 of 2 (her credited session is on 8 December)
    assert row[world.kindergarten.id]["intern_attendance_percent"] == 50.0
    assert row[world.kindergarten.id]["interns"] == 2


def test_the_period_dates_are_read_in_each_organisation_zone(world) -> None:
    moscow = bounds(world.period, "Europe/Moscow")
    assert moscow == (datetime(2026, 8, 31, 21, 0, tzinfo=UTC),
                      datetime(2026, 12, 13, 21, 0, tzinfo=UTC))
    assert bounds(world.period, "Asia/Yekaterinburg")[1] == datetime(2026, 12, 13, 19, 0,
                                                                     tzinfo=UTC)
    assert bounds(world.period, "") == moscow  # no zone: Moscow time
    # the round table at 13 Dec 22:30 Moscow is 14 Dec 00:30 in Yekaterinburg
    one_day = Dates(date(2026, 12, 14), date(2026, 12, 14))
    result = figures(one_day, now=AFTER)
    assert result[world.other.id]["events_by_format"] == {"ROUND_TABLE": 1}
    assert result[world.kindergarten.id]["events"] == 0
    assert result[world.other.id]["hours"] == 1.0  # the other teacher's credit there


def test_cancelling_an_event_takes_it_out_of_every_figure(world) -> None:
    world.webinar.status = EventStatus.CANCELLED
    db.session.commit()
    other = figures(world.period, now=AFTER)[world.other.id]
    assert (other["events"], other["participants"], other["hours"]) == (1, 0, 0.0)


def test_distinct_events_count_a_co_hosted_event_once(world) -> None:
    year = Dates(date(2026, 8, 1), date(2027, 8, 31))
    rows = distinct_events(year, [world.kindergarten.id, world.other.id])
    assert len(rows) == 4  # seminar, webinar, round table, master class
    assert len({r[0] for r in rows}) == 4


def test_figures_without_any_data(people) -> None:
    with time_machine.travel(AFTER):
        result = figures(Dates(date(2026, 9, 1), date(2026, 12, 13)))
    assert result[people.teacher.organisation_id]["events"] == 0
    assert result[people.teacher.organisation_id]["teacher_share_percent"] == 0.0
