"""Series: the rule, its sessions across DST and New Year, edits of one, the following or all
sessions, cancellations, programs with a cohort."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hub.core.types import utcnow
from hub.directory.models import Role
from hub.extensions import db
from hub.scheduling import recurrence as rec
from hub.scheduling import services
from hub.scheduling.models import Event, EventStatus, Series
from hub.scheduling.recurrence import FREQ_MONTHLY, FREQ_WEEKLY, Recurrence
from hub.scheduling.services import Scope
from hub.scheduling.spec import SchedulingError

from .conftest import NEXT_YEAR, invited, last_sunday, spec

TU, TH, FR = 1, 3, 4
#: The first day of the series made by make_series, and its weekday.
D0 = date(NEXT_YEAR, 2, 3)
WD = D0.weekday()


def weekly(*days: int, **values) -> Recurrence:  # type: ignore[no-untyped-def]
    return Recurrence(freq=FREQ_WEEKLY, weekdays=list(days), **values)


def sessions(series: Series) -> list[Event]:
    db.session.flush()
    return list(db.session.scalars(select(Event).where(Event.series_id == series.id)
                                   .order_by(Event.start_at)))


def wall(event: Event) -> datetime:
    return event.start_at.astimezone(ZoneInfo(event.timezone)).replace(tzinfo=None)


def test_weekly_sessions_keep_their_wall_time_across_a_dst_change(people):
    change = last_sunday(NEXT_YEAR, 3)  # Europe/Berlin moves to CEST that night
    first = change - timedelta(days=12)  # a Tuesday two weeks before
    event = services.create_event(people.municipal, spec(
        timezone="Europe/Berlin", start_date=first, start_time=time(15),
        end_time=time(16, 30), host_ids=[people.coordinator.organisation_id],
        recurrence=weekly(TU, TH, count=6)))
    series = event.series
    assert series.rrule == "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU,TH;COUNT=6"
    rows = sessions(series)
    assert len(rows) == 6
    assert all(wall(e).time() == time(15) for e in rows)
    assert [wall(e).date().weekday() for e in rows] == [TU, TH] * 3
    offsets = [e.start_at.astimezone(ZoneInfo("Europe/Berlin")).utcoffset() for e in rows]
    assert offsets[:4] == [timedelta(hours=1)] * 4 and offsets[4:] == [timedelta(hours=2)] * 2
    assert [e.start_at.hour for e in rows] == [14, 14, 14, 14, 13, 13]  # in UTC
    assert all(e.end_at - e.start_at == timedelta(minutes=90) for e in rows)
    assert all(e.uid == series.uid and e.original_start == e.start_at for e in rows)
    assert series.first_start == rows[0].start_at and series.duration_minutes == 90


def test_a_session_in_the_dst_gap_moves_forward_by_the_gap(people):
    change = last_sunday(NEXT_YEAR, 3)
    event = services.create_event(people.municipal, spec(
        timezone="Europe/Berlin", start_date=change - timedelta(days=7), start_time=time(2, 30),
        end_time=time(3), host_ids=[people.coordinator.organisation_id],
        recurrence=weekly(6, count=2)))
    rows = sessions(event.series)
    assert rows[1].start_at == datetime.combine(change, time(1, 30), tzinfo=UTC)  # 03:30 CEST


def test_every_two_weeks_across_new_year_in_vladivostok(people):
    first_tuesday = min(date(NEXT_YEAR, 12, d) for d in range(1, 8)
                        if date(NEXT_YEAR, 12, d).weekday() == TU)
    event = services.create_event(people.municipal, spec(
        timezone="Asia/Vladivostok", start_date=first_tuesday, start_time=time(9),
        end_time=time(10, 30), host_ids=[people.coordinator.organisation_id],
        recurrence=weekly(TU, interval=2, until=date(NEXT_YEAR + 1, 2, 1))))
    rows = sessions(event.series)
    days = [wall(e).date() for e in rows]
    assert days[0] == first_tuesday
    assert all(b - a == timedelta(days=14) for a, b in zip(days, days[1:], strict=False))
    assert days[-1] <= date(NEXT_YEAR + 1, 2, 1) < days[-1] + timedelta(days=14)
    assert any(d.year == NEXT_YEAR + 1 for d in days) and any(d.year == NEXT_YEAR for d in days)
    assert all(e.start_at.astimezone(UTC).time() == time(23) for e in rows)  # 09:00 +10
    assert all(e.start_at.astimezone(UTC).date() == d - timedelta(days=1)
               for e, d in zip(rows, days, strict=True))
    assert "UNTIL=" in event.series.rrule and event.series.rrule.endswith("Z")


@pytest.mark.parametrize(("setpos", "weekday", "expected_days"), [
    (2, TU, None), (-1, FR, None),
])
def test_monthly_by_weekday(people, setpos, weekday, expected_days):
    event = services.create_event(people.municipal, spec(
        start_date=date(NEXT_YEAR, 1, 1), host_ids=[people.coordinator.organisation_id],
        recurrence=Recurrence(freq=FREQ_MONTHLY, weekdays=[weekday], setpos=setpos,
                              count=5)))
    rows = sessions(event.series)
    assert len(rows) == 5
    for n, row in enumerate(rows):
        day = wall(row).date()
        assert day.month == n + 1 and day.weekday() == weekday
        if setpos == 2:
            assert 8 <= day.day <= 14
        else:
            assert (day + timedelta(days=7)).month != day.month


@pytest.mark.parametrize(("recurrence", "words"), [
    (weekly(TU), "needs an end"),
    (weekly(TU, count=201), "1 to 200"),
    (weekly(TU, until=date(NEXT_YEAR + 3, 1, 1)), "two years"),
    (weekly(TU, until=date(NEXT_YEAR - 1, 1, 1)), "before its first"),
    (weekly(count=3), "at least one weekday"),
    (weekly(0, 1, 2, 3, 4, 5, 6, until=date(NEXT_YEAR + 1, 12, 1)), "more than 200"),
    (weekly(TU, interval=53, count=3), "1 to 52"),
    (Recurrence(freq=FREQ_MONTHLY, weekdays=[TU], setpos=7, count=3), "which weekday"),
    (Recurrence(freq="DAILY", weekdays=[TU], count=3), "how the event repeats"),
])
def test_rules_that_cannot_be_are_refused_with_a_reason(people, recurrence, words):
    with pytest.raises(SchedulingError) as error:
        services.create_event(people.municipal, spec(
            host_ids=[people.coordinator.organisation_id], recurrence=recurrence))
    assert words in error.value.errors["repeat"]
    assert db.session.scalar(select(Event.id)) is None


def test_expanding_an_endless_rule_stops_at_once():
    start = datetime(NEXT_YEAR, 1, 1, 12, tzinfo=UTC)
    with pytest.raises(rec.InvalidValue, match="needs an end"):
        rec.expand("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU", start, "Europe/Moscow")
    with pytest.raises(rec.InvalidValue, match="more than 200"):
        rec.expand("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;COUNT=100000", start,
                   "Europe/Moscow")


def test_parse_rrule_gives_back_the_form(people):
    recurrence = Recurrence(freq=FREQ_MONTHLY, interval=2, weekdays=[TU], setpos=-1,
                            until=date(NEXT_YEAR, 12, 31))
    rule = recurrence.to_rrule("Asia/Vladivostok")
    assert rule.startswith("FREQ=MONTHLY;INTERVAL=2;BYDAY=-1TU;UNTIL=")
    assert rec.parse_rrule(rule, "Asia/Vladivostok") == recurrence


def make_series(people, calendar_calls, count=6, publish=True, **values):  # type: ignore[no-untyped-def]
    own = people.coordinator.organisation_id
    values.setdefault("start_date", D0)  # weekly sessions from here on
    event = services.create_event(people.coordinator, spec(
        host_ids=[own], audience_organisation_ids=[own],
        recurrence=weekly(WD, count=count), **values),
        publish=publish)
    db.session.commit()
    calendar_calls.clear()
    return event.series


def test_publishing_a_series_invites_everyone_to_every_session_in_one_letter(
        people, calendar_calls):
    series = make_series(people, calendar_calls, publish=False)
    services.publish_event(sessions(series)[2])
    assert {e.status for e in sessions(series)} == {EventStatus.SCHEDULED}
    for row in sessions(series):
        assert invited(row) == {people.coordinator.id, people.teacher.id}
    [(target, ids)] = calendar_calls.of("requests")
    assert target is series and len(ids) == 12  # an invitation per person per session


def test_editing_one_session_detaches_it(people, calendar_calls):
    series = make_series(people, calendar_calls)
    third = sessions(series)[2]
    original = third.original_start
    services.update_event(people.coordinator, third, spec(
        start_date=wall(third).date() + timedelta(days=1), start_time=time(17),
        end_time=time(18), title="Перенесённое занятие",
        host_ids=[people.coordinator.organisation_id],
        audience_organisation_ids=[people.coordinator.organisation_id],
        recurrence=weekly(WD, count=6)), Scope.ONE)
    db.session.commit()
    assert third.detached and third.original_start == original and third.uid == series.uid
    assert wall(third).time() == time(17) and third.sequence == 1
    assert [e.title for e in sessions(series)].count("Перенесённое занятие") == 1
    assert calendar_calls.of("updates") == [(third, [])]
    assert series.rrule.endswith("COUNT=6") and series.sequence == 0


def test_editing_all_sessions_in_place_keeps_the_uid(people, calendar_calls):
    series = make_series(people, calendar_calls)
    uid, before = series.uid, [e.id for e in sessions(series)]
    second = sessions(series)[1]
    services.update_event(people.coordinator, second, spec(
        start_date=wall(second).date(), start_time=time(16), end_time=time(17, 30),
        host_ids=[people.coordinator.organisation_id],
        audience_organisation_ids=[people.coordinator.organisation_id],
        recurrence=weekly(WD, count=6)), Scope.ALL)
    db.session.commit()
    rows = sessions(series)
    assert [e.id for e in rows] == before and all(e.uid == uid for e in rows)
    assert all(wall(e).time() == time(16) and e.original_start == e.start_at for e in rows)
    assert series.sequence == 1 and series.first_start == rows[0].start_at
    assert calendar_calls.kinds() == ["updates"] and calendar_calls.log[0][1] is series


def test_a_change_of_content_for_all_is_one_update_of_the_series(people, calendar_calls):
    series = make_series(people, calendar_calls)
    first = sessions(series)[0]
    services.update_event(people.coordinator, first, spec(
        start_date=wall(first).date(), title="Цифровая лаборатория",
        host_ids=[people.coordinator.organisation_id],
        audience_organisation_ids=[people.coordinator.organisation_id,
                                   people.other_teacher.organisation_id],
        recurrence=weekly(WD, count=6)), Scope.ALL)
    db.session.commit()
    assert {e.title for e in sessions(series)} == {"Цифровая лаборатория"}
    assert series.title == "Цифровая лаборатория" and series.sequence == 1
    assert all(people.other_teacher.id in invited(e) for e in sessions(series))
    requests = calendar_calls.of("requests")
    assert [(t, set(ids)) for t, ids in requests] == [(series, {people.other_teacher.id})]
    assert calendar_calls.of("updates") == [(series, [])]


def test_this_and_following_splits_the_series(people, calendar_calls):
    series = make_series(people, calendar_calls)
    rows = sessions(series)
    fourth = rows[3]
    pivot = fourth.start_at
    services.update_event(people.coordinator, fourth, spec(
        start_date=wall(fourth).date(), start_time=time(10), end_time=time(11),
        host_ids=[people.coordinator.organisation_id],
        audience_organisation_ids=[people.coordinator.organisation_id],
        recurrence=weekly(WD, count=3)), Scope.FOLLOWING)
    db.session.commit()
    old, new = sessions(series), sessions(fourth.series)
    assert fourth.series is not series and fourth.uid == fourth.series.uid != series.uid
    assert [e.id for e in old] == [e.id for e in rows[:3]]
    assert [e.id for e in new] == [e.id for e in rows[3:]]
    assert all(wall(e).time() == time(15) for e in old)
    assert all(wall(e).time() == time(10) for e in new)
    until = datetime.strptime(series.rrule.split("UNTIL=")[1], "%Y%m%dT%H%M%SZ")
    assert until.replace(tzinfo=UTC) == rows[2].start_at < pivot  # UNTIL is inclusive
    assert "COUNT" not in series.rrule and series.sequence == 1
    assert rec.expand(series.rrule, series.first_start, series.timezone) == [
        e.start_at for e in old]
    assert fourth.series.rrule.endswith("COUNT=3")
    kinds = [(k, t) for k, t, _ids in calendar_calls.log]
    assert kinds == [("updates", series), ("requests", fourth.series)]
    assert len(calendar_calls.of("requests")[0][1]) == 6  # 2 people × 3 moved sessions


def test_fewer_sessions_cancel_the_rest_and_more_add_new_ones(people, calendar_calls):
    series = make_series(people, calendar_calls)
    first = sessions(series)[0]
    changes = {"start_date": wall(first).date(),
               "host_ids": [people.coordinator.organisation_id],
               "audience_organisation_ids": [people.coordinator.organisation_id]}
    services.update_event(people.coordinator, first, spec(
        recurrence=weekly(WD, count=4), **changes), Scope.ALL)
    db.session.commit()
    statuses = [e.status for e in sessions(series)]
    assert statuses == [EventStatus.SCHEDULED] * 4 + [EventStatus.CANCELLED] * 2
    calendar_calls.clear()
    services.update_event(people.coordinator, first, spec(
        recurrence=weekly(WD, count=8), **changes), Scope.ALL)
    db.session.commit()
    rows = sessions(series)
    assert [e.status for e in rows] == [EventStatus.SCHEDULED] * 8
    assert all(invited(e) == {people.coordinator.id, people.teacher.id} for e in rows)
    assert calendar_calls.kinds() == ["updates"]  # everyone already had the series


def test_all_with_sessions_already_held_splits_at_the_first_upcoming(people, calendar_calls):
    today = date.today()
    start = today - timedelta(days=14)
    own = people.coordinator.organisation_id
    event = services.create_event(people.coordinator, spec(
        start_date=start, host_ids=[own], audience_organisation_ids=[own],
        recurrence=weekly(start.weekday(), count=5)), publish=True)
    series = event.series
    db.session.commit()
    calendar_calls.clear()
    rows = sessions(series)
    upcoming = [e for e in rows if e.end_at > utcnow()]
    assert len(upcoming) in (2, 3)
    services.update_event(people.coordinator, upcoming[-1], spec(
        start_date=wall(upcoming[-1]).date(), start_time=time(12), end_time=time(13),
        host_ids=[own], audience_organisation_ids=[own],
        recurrence=weekly(start.weekday(), count=len(upcoming))), Scope.ALL)
    db.session.commit()
    held = [e for e in rows if e.end_at <= utcnow()]
    assert all(e.series_id == series.id and wall(e).time() == time(15) for e in held)
    assert all(e.series_id != series.id and wall(e).time() == time(12) for e in upcoming)


def test_cancelling_sessions(people, calendar_calls):
    series = make_series(people, calendar_calls)
    rows = sessions(series)
    services.cancel_event(rows[1])
    assert [e.status for e in rows][:3] == [EventStatus.SCHEDULED, EventStatus.CANCELLED,
                                            EventStatus.SCHEDULED]
    assert calendar_calls.of("event_cancelled") == [(rows[1], [])]
    calendar_calls.clear()
    services.cancel_event(rows[3], Scope.FOLLOWING)
    assert [e.status == EventStatus.CANCELLED for e in rows] == [
        False, True, False, True, True, True]
    assert calendar_calls.of("updates") == [(series, [])]
    calendar_calls.clear()
    services.cancel_event(rows[0], Scope.ALL)
    assert all(e.status == EventStatus.CANCELLED for e in rows)
    assert calendar_calls.of("event_cancelled") == [(series, [])]


def test_a_cancelled_session_stays_cancelled_when_all_are_retitled(people, calendar_calls):
    series = make_series(people, calendar_calls)
    rows = sessions(series)
    services.cancel_event(rows[2])
    services.update_event(people.coordinator, rows[0], spec(
        start_date=wall(rows[0]).date(), title="Новое", start_time=time(16), end_time=time(17),
        host_ids=[people.coordinator.organisation_id],
        recurrence=weekly(WD, count=6)), Scope.ALL)
    assert rows[2].status == EventStatus.CANCELLED and rows[2].title == "Новое"
    assert wall(rows[2]).time() == time(16)


def test_a_single_event_becomes_a_series_with_its_uid(people, calendar_calls):
    own = people.coordinator.organisation_id
    event = services.create_event(people.coordinator, spec(
        host_ids=[own], audience_organisation_ids=[own]), publish=True)
    uid = event.uid
    calendar_calls.clear()
    services.update_event(people.coordinator, event, spec(
        host_ids=[own], audience_organisation_ids=[own],
        recurrence=weekly(wall(event).weekday(), count=3)))
    db.session.commit()
    rows = sessions(event.series)
    assert event.series.uid == uid and rows[0] is event and len(rows) == 3
    assert all(invited(e) == {people.coordinator.id, people.teacher.id} for e in rows)
    assert calendar_calls.kinds() == ["updates"]


def test_a_program_invites_its_cohort_to_every_session(people, make_person, calendar_calls):
    own = people.coordinator.organisation_id
    mentor = make_person(Role.TEACHER, people.coordinator.organisation, surname="Наставникова")
    interns = [make_person(Role.TEACHER, people.other_teacher.organisation) for _ in range(2)]
    event = services.create_event(people.coordinator, spec(
        title="Цифровая педагогическая интернатура", host_ids=[own],
        recurrence=weekly(WD, count=4), is_program=True,
        cohort=[(mentor.id, interns[0].id), (mentor.id, interns[1].id)]), publish=True)
    series = event.series
    assert series.is_program
    assert {(m.person_id, m.role.name, m.mentor_id) for m in series.cohort} == {
        (mentor.id, "MENTOR", None), (interns[0].id, "INTERN", mentor.id),
        (interns[1].id, "INTERN", mentor.id)}
    for row in sessions(series):
        assert invited(row) == {mentor.id, interns[0].id, interns[1].id}

    with pytest.raises(SchedulingError) as error:
        services.create_event(people.coordinator, spec(
            host_ids=[own], is_program=True, cohort=[(mentor.id, None)]))
    assert "series" in error.value.errors["is_program"]
    with pytest.raises(SchedulingError) as error:
        services.create_event(people.coordinator, spec(
            host_ids=[own], recurrence=weekly(WD, count=2), is_program=True,
            cohort=[(mentor.id, interns[0].id), (interns[1].id, interns[0].id)]))
    assert "only one mentor" in error.value.errors["cohort"]
