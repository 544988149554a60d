"""The credit rule and the merging of intervals, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.attendance.credit import DEFAULT_RULE, Rule, evaluate, merge
from hub.attendance.models import GrowthRole, Status

START = datetime(2026, 12, 3, 5, 0, tzinfo=UTC)
END = START + timedelta(minutes=100)


def t(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def outcome(spans, *, checks=0, required=0, role=GrowthRole.PARTICIPANT, rule=DEFAULT_RULE,
            held=True, override=None):  # type: ignore[no-untyped-def]
    return evaluate(intervals=[(t(a), t(b)) for a, b in spans], start=START, end=END,
                    checks_passed=checks, required_checks=required, role=role, rule=rule,
                    held=held, override=override)


def test_overlapping_intervals_from_several_sources_count_once() -> None:
    merged = merge([(t(0), t(50)), (t(40), t(60)), (t(60), t(70)), (t(80), t(90))], START, END)
    assert merged == [(t(0), t(70)), (t(80), t(90))]
    assert outcome([(0, 50), (40, 60), (60, 70), (80, 90)]).minutes == 80


def test_time_outside_the_event_is_not_counted() -> None:
    assert outcome([(-30, 10), (95, 200)]).minutes == 15


def test_eighty_percent_earns_credit_and_less_does_not() -> None:
    assert outcome([(0, 80)]).credited
    assert not outcome([(0, 79)]).credited
    assert outcome([(0, 60)], rule=Rule(min_presence_percent=60)).credited


def test_statuses_follow_the_evidence() -> None:
    assert outcome([]).status == Status.ABSENT
    assert outcome([(0, 100)]).status == Status.PRESENT
    assert outcome([(5, 100)]).status == Status.PRESENT  # within the 10 minutes
    assert outcome([(15, 100)]).status == Status.LATE
    assert outcome([(0, 70)]).status == Status.LEFT_EARLY
    assert outcome([(15, 100)]).credited  # 85 %: late, and still credited


def test_checks_replace_time_when_the_event_requires_them() -> None:
    assert outcome([], checks=2, required=2).credited
    assert not outcome([(0, 100)], checks=1, required=2).credited
    relaxed = Rule(checks_instead=False)
    assert outcome([(0, 100)], checks=0, required=2, rule=relaxed).credited


def test_nothing_is_credited_before_the_event_is_held() -> None:
    assert not outcome([(0, 100)], held=False).credited


def test_hosts_are_credited_for_a_held_event() -> None:
    host = outcome([], role=GrowthRole.SPEAKER)
    assert host.credited and host.status == Status.PRESENT
    assert not outcome([], role=GrowthRole.INTERN).credited


def test_the_organisers_mark_decides_the_credit() -> None:
    assert outcome([], override=Status.PRESENT).credited
    assert not outcome([(0, 100)], override=Status.EXCUSED).credited
    assert not outcome([(0, 100)], override=Status.ABSENT).credited
    assert outcome([(15, 100)], override=Status.LATE).credited
    assert outcome([], override=Status.PRESENT).status == Status.ABSENT  # computed kept apart
