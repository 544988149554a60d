"""Repeat rules (hub/scheduling/recurrence.py): any string gives sessions or an InvalidValue,
never another exception and never more than MAX_OCCURRENCES sessions or MAX_SPAN; rules the
event form can make expand correctly in the Russian zones (one UTC offset all year since 2014)
and keep their wall time, and read back as the form gave them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from hub.directory.validation import InvalidValue
from hub.scheduling import recurrence as rec

#: dateutil warns of a rule with both COUNT and UNTIL, which the strings below may have.
pytestmark = pytest.mark.filterwarnings("ignore:Using both 'count' and 'until':UserWarning")

#: The zones of the demo's networks and their one offset (no DST in Russia since October 2014).
RUSSIAN_ZONES = {"Europe/Moscow": 3, "Asia/Yekaterinburg": 5, "Asia/Krasnoyarsk": 7,
                 "Asia/Vladivostok": 10}
FIRST = datetime(2026, 12, 15, 15, 0, tzinfo=ZoneInfo("Asia/Vladivostok"))

_freq = st.sampled_from(["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY",
                         "YEARLY", "FORTNIGHTLY", ""])
_number = st.one_of(st.integers(-3, 400), st.integers(), st.sampled_from(["", "x", "1.5", "١"]))
_until = st.one_of(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))
                   .map(lambda d: d.strftime("%Y%m%dT%H%M%S") + "Z"),
                   st.dates().map(lambda d: d.strftime("%Y%m%d")), st.text(max_size=12))
_part = st.one_of(
    st.builds("FREQ={}".format, _freq), st.builds("INTERVAL={}".format, _number),
    st.builds("COUNT={}".format, _number), st.builds("UNTIL={}".format, _until),
    st.builds("BYDAY={}".format, st.from_regex(r"([+-]?\d{0,2}(MO|TU|WE|TH|FR|SA|SU|XX),?){1,4}",
                                               fullmatch=True)),
    st.builds(lambda key, value: f"{key}={value}",
              st.sampled_from(["BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYSETPOS",
                               "BYHOUR", "BYMINUTE", "BYSECOND", "WKST", "BYEASTER", "X-NAME"]),
              st.one_of(_number.map(str), st.from_regex(r"-?\d{1,3}(,-?\d{1,3}){0,3}",
                                                        fullmatch=True))),
    st.text(max_size=20))
rule_strings = st.one_of(
    st.lists(_part, min_size=1, max_size=6).map(";".join),
    st.lists(_part, min_size=1, max_size=4).map(lambda p: "RRULE:" + ";".join(p)),
    st.text(max_size=80))


def _check_expansion(rule: str, first: datetime, zone: str) -> list[datetime]:
    try:
        starts = rec.expand(rule, first, zone)
    except InvalidValue as error:
        assert str(error).strip()
        return []
    assert 1 <= len(starts) <= rec.MAX_OCCURRENCES
    assert starts == sorted(starts) and starts[-1] - starts[0] <= rec.MAX_SPAN
    assert all(s.tzinfo == UTC for s in starts)
    return starts


@given(rule=rule_strings, zone=st.sampled_from(sorted(RUSSIAN_ZONES)))
@example(rule="FREQ=DAILY;COUNT=2\nRRULE:FREQ=WEEKLY;COUNT=2", zone="Europe/Moscow")
@example(rule="DTSTART:20270101T100000\nRRULE:FREQ=DAILY;COUNT=3", zone="Europe/Moscow")
@example(rule="FREQ=YEARLY;INTERVAL=9999999999;COUNT=3", zone="Asia/Vladivostok")
@example(rule="FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30;COUNT=1", zone="Europe/Moscow")
@example(rule="FREQ=DAILY;UNTIL=99991231T235959Z", zone="Europe/Moscow")
@example(rule="FREQ=DAILY;UNTIL=20270101", zone="Europe/Moscow")
def test_any_rule_string_gives_sessions_or_a_clear_error(rule, zone):
    _check_expansion(rule, FIRST, zone)


@st.composite
def form_rules(draw: st.DrawFn) -> tuple[rec.Recurrence, datetime, str]:
    """A rule as the event form sends it (sometimes out of its bounds), its first start, zone."""
    zone = draw(st.sampled_from([*sorted(RUSSIAN_ZONES), "Europe/Berlin"]))
    day = draw(st.dates(min_value=date(2026, 11, 25), max_value=date(2029, 12, 31)))
    clock = draw(st.times().map(lambda t: t.replace(second=0, microsecond=0)))
    # Europe/Berlin: a time outside the night of the DST change (that one is its own test).
    assume(zone != "Europe/Berlin" or not time(1, 0) <= clock <= time(3, 30))
    freq = draw(st.sampled_from([rec.FREQ_WEEKLY, rec.FREQ_MONTHLY]))
    if freq == rec.FREQ_WEEKLY:
        weekdays = sorted(draw(st.sets(st.integers(0, 6), min_size=1, max_size=7))
                          | {day.weekday()})
        setpos = None
    else:
        weekdays, setpos = [day.weekday()], rec.nth_weekday_of(day)
    ends = draw(st.sampled_from(["count", "until"]))
    count = draw(st.integers(0, rec.MAX_OCCURRENCES + 5)) if ends == "count" else None
    until = (day + timedelta(days=draw(st.integers(-3, 800)))) if ends == "until" else None
    recurrence = rec.Recurrence(freq=freq, interval=draw(st.integers(0, rec.MAX_INTERVAL + 1)),
                                weekdays=weekdays, setpos=setpos, until=until, count=count)
    first = datetime.combine(day, clock, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return recurrence, first, zone


def _weeks_between(a: date, b: date) -> int:
    return ((b - timedelta(days=b.weekday())) - (a - timedelta(days=a.weekday()))).days // 7


@given(form_rules())
@example((rec.Recurrence(freq="MONTHLY", interval=1, weekdays=[1], setpos=-1, count=24),
          datetime(2026, 12, 29, 7, 0, tzinfo=UTC), "Asia/Krasnoyarsk"))
def test_form_rules_expand_correctly_in_every_zone(case):
    recurrence, first, zone = case
    tz = ZoneInfo(zone)
    try:
        starts = rec.build(recurrence, first, zone)
    except InvalidValue as error:
        assert str(error).strip()
        return
    assert 1 <= recurrence.interval <= rec.MAX_INTERVAL
    assert starts[0] == first and 1 <= len(starts) <= rec.MAX_OCCURRENCES
    assert starts[-1] - starts[0] <= rec.MAX_SPAN
    if recurrence.count is not None:
        assert len(starts) == recurrence.count
    wall = first.astimezone(tz).time()
    first_day = first.astimezone(tz).date()
    for start in starts:
        local = start.astimezone(tz)
        assert local.time() == wall  # the organiser's wall time, whatever the date
        if zone in RUSSIAN_ZONES:
            assert local.utcoffset() == timedelta(hours=RUSSIAN_ZONES[zone])
        day = local.date()
        assert day.weekday() in recurrence.weekdays
        if recurrence.until is not None:
            assert day <= recurrence.until
        if recurrence.freq == rec.FREQ_WEEKLY:
            assert _weeks_between(first_day, day) % recurrence.interval == 0
        else:
            months = (day.year - first_day.year) * 12 + day.month - first_day.month
            assert months % recurrence.interval == 0
            if recurrence.setpos == -1:
                assert rec.is_last_weekday_of_month(day)
            else:
                assert rec.nth_weekday_of(day) == recurrence.setpos
    # The stored rule reads back as the form gave it, and expands to the same sessions.
    rule = recurrence.to_rrule(zone)
    assert rec.parse_rrule(rule, zone) == recurrence
    assert rec.expand(rule, first, zone) == starts
