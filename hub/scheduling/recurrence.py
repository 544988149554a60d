"""Recurrence rules: what the event form offers, as an RFC 5545 RRULE, expanded in a zone.

The form offers weekly on chosen weekdays every N weeks, and monthly by weekday (the 2nd
Tuesday, the last Friday) every N months, until a date or after a count. `Recurrence` holds that
choice, `to_rrule()` writes the RRULE value (without "RRULE:") and `expand()` gives the starts.

Expansion keeps the local wall time in the event's own zone: a 15:00 session in Europe/Berlin is
at 15:00 both sides of a DST change (14:00 UTC in winter, 13:00 UTC in summer). A start that
falls into a DST gap moves forward by the gap (RFC 5545, 3.3.5), which zoneinfo's fold=0 gives.
A series is at most MAX_OCCURRENCES sessions within MAX_SPAN; a rule without an end, or one
that goes beyond that, is refused with a message that says so (never silently cut).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hub.directory.validation import InvalidValue
from hub.scheduling.validation import end_of_local_day

MAX_OCCURRENCES = 200
MAX_SPAN = timedelta(days=2 * 366)
MAX_INTERVAL = 52

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_LABELS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))
WEEKDAY_NAMES = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
                 _l("Saturday"), _l("Sunday"))
#: Which weekday of the month: 1st … 4th, or the last (-1).
SETPOS_LABELS = {1: _l("first"), 2: _l("second"), 3: _l("third"), 4: _l("fourth"),
                 -1: _l("last")}

FREQ_WEEKLY = "WEEKLY"
FREQ_MONTHLY = "MONTHLY"

_DAY = r"[+-]?[1-5]?(?:MO|TU|WE|TH|FR|SA|SU)"
#: The parts a series' rule may have (what to_rrule writes). Others, such as FREQ=SECONDLY or
#: BYMONTH=2;BYMONTHDAY=30, are refused: dateutil would spend seconds to year 9999 looking for
#: sessions that never come.
_RULE_PART = re.compile(rf"FREQ=(?:WEEKLY|MONTHLY)|INTERVAL=\d{{1,9}}|COUNT=\d{{1,9}}"
                        rf"|UNTIL=\d{{8}}(?:T\d{{6}}Z?)?|WKST=(?:MO|SU)|BYDAY={_DAY}(?:,{_DAY})*")


@dataclass
class Recurrence:
    """A repeat rule as the event form offers it."""

    freq: str  # FREQ_WEEKLY or FREQ_MONTHLY
    interval: int = 1
    #: Weekly: weekday numbers 0 (Monday) … 6; monthly: the one weekday.
    weekdays: list[int] = field(default_factory=list)
    #: Monthly only: 1 … 4 or -1 (last).
    setpos: int | None = None
    #: The last day a session may fall on (local date in the event's zone), or None.
    until: date | None = None
    #: The number of sessions, or None.
    count: int | None = None

    def to_rrule(self, zone: str) -> str:
        """The RRULE value; UNTIL is written in UTC (RFC 5545 with a zoned DTSTART)."""
        parts = [f"FREQ={self.freq}", f"INTERVAL={self.interval}"]
        if self.freq == FREQ_WEEKLY:
            parts.append("BYDAY=" + ",".join(WEEKDAYS[d] for d in sorted(self.weekdays)))
        else:
            parts.append(f"BYDAY={self.setpos}{WEEKDAYS[self.weekdays[0]]}")
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        elif self.until is not None:
            parts.append("UNTIL=" + end_of_local_day(self.until, zone).strftime("%Y%m%dT%H%M%SZ"))
        return ";".join(parts)

    def describe(self) -> str:
        """«Every 2 weeks on Tue, Thu, until 31 May 2027» for pages."""
        from flask_babel import format_date

        if self.freq == FREQ_WEEKLY:
            days = ", ".join(str(WEEKDAY_LABELS[d]) for d in sorted(self.weekdays))
            if self.interval == 1:
                text = _("Weekly on %(days)s", days=days)
            else:
                text = _("Every %(n)d weeks on %(days)s", n=self.interval, days=days)
        else:
            # "The Tuesday of week 2" rather than "the second Tuesday": Russian ordinals agree
            # with the weekday's gender, and a week number needs no agreement.
            day = WEEKDAY_NAMES[self.weekdays[0]]
            if self.setpos == -1:
                which = _("%(day)s of the last week of the month", day=day)
            else:
                which = _("%(day)s of week %(n)d of the month", day=day, n=self.setpos or 1)
            if self.interval == 1:
                text = _("Monthly on %(which)s", which=which)
            else:
                text = _("Every %(n)d months on %(which)s", n=self.interval, which=which)
        if self.count is not None:
            return _("%(rule)s, %(n)d sessions", rule=text, n=self.count)
        if self.until is not None:
            return _("%(rule)s, until %(date)s", rule=text, date=format_date(self.until))
        return text


def nth_weekday_of(day: date) -> int:
    """Which occurrence of its weekday `day` is in its month: 1 … 4, or -1 for a 5th."""
    n = (day.day - 1) // 7 + 1
    return -1 if n == 5 else n


def is_last_weekday_of_month(day: date) -> bool:
    return (day + timedelta(days=7)).month != day.month


def parse_rrule(value: str, zone: str) -> Recurrence:
    """The Recurrence of a stored RRULE (one this module wrote)."""
    parts = dict(p.split("=", 1) for p in value.split(";") if "=" in p)
    freq = parts.get("FREQ", FREQ_WEEKLY)
    interval = int(parts.get("INTERVAL", "1"))
    byday = [d for d in parts.get("BYDAY", "").split(",") if d]
    weekdays: list[int] = []
    setpos: int | None = None
    for item in byday:
        match = re.fullmatch(r"([+-]?\d)?([A-Z]{2})", item)
        if match is None:
            continue
        if match.group(1):
            setpos = int(match.group(1))
        weekdays.append(WEEKDAYS.index(match.group(2)))
    until = None
    if "UNTIL" in parts:
        moment = datetime.strptime(parts["UNTIL"].rstrip("Z"), "%Y%m%dT%H%M%S")
        until = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()
    count = int(parts["COUNT"]) if "COUNT" in parts else None
    return Recurrence(freq=freq, interval=interval, weekdays=weekdays, setpos=setpos,
                      until=until, count=count)


def check(recurrence: Recurrence, first_day: date) -> None:
    """Refuse a rule the form could not have meant (InvalidValue with the reason)."""
    if recurrence.freq not in (FREQ_WEEKLY, FREQ_MONTHLY):
        raise InvalidValue(_("Choose how the event repeats."))
    if not 1 <= recurrence.interval <= MAX_INTERVAL:
        raise InvalidValue(_("Repeat every 1 to %(n)d weeks or months.", n=MAX_INTERVAL))
    if not recurrence.weekdays or any(not 0 <= d <= 6 for d in recurrence.weekdays):
        raise InvalidValue(_("Choose at least one weekday."))
    if recurrence.freq == FREQ_MONTHLY and (
            len(recurrence.weekdays) != 1 or recurrence.setpos not in SETPOS_LABELS):
        raise InvalidValue(_("Choose which weekday of the month."))
    if recurrence.count is None and recurrence.until is None:
        raise InvalidValue(_(
            "A series needs an end: a last date or a number of sessions (at most %(n)d "
            "sessions within two years).", n=MAX_OCCURRENCES))
    if recurrence.count is not None and recurrence.until is not None:
        raise InvalidValue(_("Give either a last date or a number of sessions, not both."))
    if recurrence.count is not None and not 1 <= recurrence.count <= MAX_OCCURRENCES:
        raise InvalidValue(_("A series has 1 to %(n)d sessions.", n=MAX_OCCURRENCES))
    if recurrence.until is not None:
        if recurrence.until < first_day:
            raise InvalidValue(_("The last date of the series is before its first session."))
        if recurrence.until - first_day > MAX_SPAN:
            raise InvalidValue(_("A series can span at most two years; choose an earlier last "
                                 "date."))


def expand(rule: str, first_start: datetime, zone: str, *,
           limit: int = MAX_OCCURRENCES) -> list[datetime]:
    """The starts (UTC) of a rule's sessions from `first_start` (an instant), in `zone`'s wall
    time. Refuses (InvalidValue) a rule without an end, with more than `limit` sessions, or one
    running past two years."""
    if "COUNT=" not in rule and "UNTIL=" not in rule:
        raise InvalidValue(_(
            "A series needs an end: a last date or a number of sessions (at most %(n)d "
            "sessions within two years).", n=MAX_OCCURRENCES))
    parts = rule.strip().upper().removeprefix("RRULE:").split(";")
    if not all(_RULE_PART.fullmatch(part) for part in parts):
        raise InvalidValue(_("This repeat rule cannot be read."))
    tz = ZoneInfo(zone)
    local = first_start.astimezone(tz)
    try:
        rule_set = rrulestr(rule, dtstart=local)
        assert isinstance(rule_set, rrule)  # one RRULE line, as the parts above allow
        starts = list(islice(rule_set, limit + 1))
    except (ValueError, TypeError):
        raise InvalidValue(_("This repeat rule cannot be read.")) from None
    if len(starts) > limit:
        raise InvalidValue(_(
            "This rule gives more than %(n)d sessions. A series has at most %(n)d sessions "
            "within two years: choose an earlier last date or fewer sessions.", n=limit))
    if starts and starts[-1] - starts[0] > MAX_SPAN:
        raise InvalidValue(_("A series can span at most two years; choose an earlier last "
                             "date or fewer sessions."))
    if not starts:
        raise InvalidValue(_("This rule gives no sessions: check the weekdays and the last "
                             "date."))
    # fold=0 in a DST gap gives the offset before the change: the time moves forward by it.
    return [s.replace(fold=0).astimezone(UTC) for s in starts]


def build(recurrence: Recurrence, first_start: datetime, zone: str) -> list[datetime]:
    """check() and expand() in one step (the rule as the form gave it)."""
    check(recurrence, first_start.astimezone(ZoneInfo(zone)).date())
    return expand(recurrence.to_rrule(zone), first_start, zone)


def with_end(rule: str, *, until: datetime | None = None, count: int | None = None) -> str:
    """The rule with its COUNT/UNTIL replaced (UNTIL an instant, written in UTC)."""
    parts = [p for p in rule.split(";") if not p.startswith(("COUNT=", "UNTIL="))]
    if count is not None:
        parts.append(f"COUNT={count}")
    elif until is not None:
        parts.append("UNTIL=" + until.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"))
    return ";".join(parts)


__all__ = ["Recurrence", "MAX_OCCURRENCES", "FREQ_WEEKLY", "FREQ_MONTHLY", "build", "check",
           "expand", "parse_rrule", "with_end", "nth_weekday_of", "is_last_weekday_of_month"]
