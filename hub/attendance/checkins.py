"""Presence checks with rotating codes (issue 6): the organiser opens a check round during the
meeting and shows a 6-digit code that changes every 30 seconds; participants type it in.

The code is derived, never stored: HMAC-SHA256 keyed with the app's SECRET_KEY and the round's
random secret, over "<round id>:<window>", where window = floor(server time / 30 s). Only the
server's clock counts, so a page refresh or a second screen shows the same code (no second batch
of codes), and the code of the previous window is accepted too (a code read just before it
changed, a slow phone, a clock that drifts): a code shown is valid for 30–60 seconds.

The numbers:
- a round is opened from OPENS_BEFORE (30 min) before the start until the end of the event and
  lasts 1–60 minutes (5 by default); one round is open at a time (opening again returns it);
- a round takes answers until it closes plus one window (ANSWER_GRACE, 30 s), so a code typed in
  the last seconds still counts;
- wrong codes per person: CHECKIN_WRONG_CODE_LIMIT, by default 5 per minute and 20 per hour
  (Flask-Limiter's storage). With two valid codes out of 10^6, 20 guesses an hour succeed with a
  probability of 4·10^-5: guessing is impractical; a teacher who mistypes still has several tries.
- every answer (right or wrong) per client address: CHECKIN_IP_LIMIT, 120 per minute (a school
  behind one address with a whole staff checking in at once stays well below it).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from limits import RateLimitItem, parse_many
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hub.attendance import services
from hub.attendance.models import Attendance, CheckIn, CheckRound
from hub.core.types import utcnow
from hub.directory.models import Person
from hub.extensions import db, limiter
from hub.scheduling.models import Event, EventStatus, Invitation, InvitationState

ROTATION_SECONDS = 30
CODE_DIGITS = 6
OPENS_BEFORE = timedelta(minutes=30)
ANSWER_GRACE = timedelta(seconds=ROTATION_SECONDS)
DEFAULT_MINUTES = 5
MAX_MINUTES = 60
WRONG_CODE_LIMIT = "5 per minute;20 per hour"
IP_LIMIT = "120 per minute"


class CheckinError(ValueError):
    """A round cannot be opened or closed; the message says why."""


class Result(enum.Enum):
    """The answer to a participant's code."""

    OK = "ok"
    ALREADY = "already"
    NO_ROUND = "no_round"
    BAD_FORMAT = "bad_format"
    WRONG_CODE = "wrong_code"
    NOT_PARTICIPANT = "not_participant"
    RATE_LIMITED = "rate_limited"

    @property
    def message(self) -> str:
        return {
            Result.OK: _("Thank you: you are checked in."),
            Result.ALREADY: _("You are already checked in for this check."),
            Result.NO_ROUND: _("No presence check is open now. Enter the code when the "
                               "organiser shows it."),
            Result.BAD_FORMAT: _("The code has 6 digits. Please type it again."),
            Result.WRONG_CODE: _("This code is wrong or has expired. Type the code shown "
                                 "on the screen now."),
            Result.NOT_PARTICIPANT: _("You are not among the participants of this event."),
            Result.RATE_LIMITED: _("Too many wrong codes. Please wait a few minutes and try "
                                   "again."),
        }[self]


@dataclass(frozen=True)
class Answer:
    """The result of a participant's code, and the round it was for (when one matched)."""

    result: Result
    round: CheckRound | None = None


# -- codes (pure) ------------------------------------------------------------------------------

def window_of(moment: datetime) -> int:
    """The number of the 30-second window `moment` falls in."""
    return int(moment.timestamp()) // ROTATION_SECONDS


def seconds_to_rotation(moment: datetime) -> float:
    """Seconds until the next window starts."""
    return ROTATION_SECONDS - moment.timestamp() % ROTATION_SECONDS


def derive_code(key: bytes, round_id: int, window: int) -> str:
    """The round's code in a window: HMAC-SHA256 over "<round id>:<window>", as 6 digits."""
    digest = hmac.new(key, f"{round_id}:{window}".encode(), hashlib.sha256).digest()
    return str(int.from_bytes(digest[:8], "big") % 10 ** CODE_DIGITS).zfill(CODE_DIGITS)


def clean_code(value: object) -> str | None:
    """The digits a person typed (spaces and dashes ignored), or None unless exactly 6."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    digits = "".join(ch for ch in value if ch not in " -\u00a0\t")
    return digits if len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit() \
        else None


def _key(check_round: CheckRound) -> bytes:
    return (current_app.config["SECRET_KEY"] + check_round.secret).encode()


def current_code(check_round: CheckRound, now: datetime | None = None) -> str:
    """The code to show now."""
    return derive_code(_key(check_round), check_round.id, window_of(now or utcnow()))


def code_matches(check_round: CheckRound, code: str, now: datetime | None = None) -> bool:
    """Whether `code` is the round's code of the current or the previous window."""
    window = window_of(now or utcnow())
    key = _key(check_round)
    return any(hmac.compare_digest(derive_code(key, check_round.id, w), code)
               for w in (window, window - 1))


# -- rounds ------------------------------------------------------------------------------------

def open_round_of(event: Event, now: datetime | None = None) -> CheckRound | None:
    """The round open now (the latest, should there be more)."""
    now = now or utcnow()
    return db.session.scalar(select(CheckRound).where(
        CheckRound.event_id == event.id, CheckRound.opened_at <= now,
        CheckRound.closes_at > now).order_by(CheckRound.opened_at.desc()).limit(1))


def answerable_rounds(event: Event, now: datetime | None = None) -> list[CheckRound]:
    """Rounds taking answers now: open, or closed less than ANSWER_GRACE ago."""
    now = now or utcnow()
    return list(db.session.scalars(select(CheckRound).where(
        CheckRound.event_id == event.id, CheckRound.opened_at <= now,
        CheckRound.closes_at > now - ANSWER_GRACE).order_by(CheckRound.opened_at.desc())))


def why_not_open(event: Event, now: datetime | None = None) -> str | None:
    """Why a round cannot be opened now, or None when it can."""
    now = now or utcnow()
    if event.status not in (EventStatus.SCHEDULED, EventStatus.COMPLETED):
        return _("Presence checks are held only at published events.")
    if now < event.start_at - OPENS_BEFORE:
        return _("Presence checks open 30 minutes before the start.")
    if now >= event.end_at:
        return _("The event has ended: presence checks are closed.")
    return None


def open_round(event: Event, actor: Person, minutes: int = DEFAULT_MINUTES,
               now: datetime | None = None) -> CheckRound:
    """Open a round for `minutes`, or return the one already open (never two at once)."""
    now = now or utcnow()
    reason = why_not_open(event, now)
    if reason is not None:
        raise CheckinError(reason)
    if not 1 <= minutes <= MAX_MINUTES:
        raise CheckinError(_("A check lasts from 1 to %(n)d minutes.", n=MAX_MINUTES))
    running = open_round_of(event, now)
    if running is not None:
        return running
    check_round = CheckRound(event_id=event.id, secret=secrets.token_hex(32), opened_at=now,
                             closes_at=now + timedelta(minutes=minutes), opened_by_id=actor.id)
    db.session.add(check_round)
    db.session.flush()
    return check_round


def close_round(check_round: CheckRound, now: datetime | None = None) -> None:
    """Close the round now (it still takes answers for ANSWER_GRACE)."""
    now = now or utcnow()
    if check_round.closes_at > now:
        check_round.closes_at = max(now, check_round.opened_at)
        db.session.flush()


def count_of(check_round: CheckRound) -> int:
    """People who answered the round."""
    return db.session.scalar(select(func.count(CheckIn.id)).where(
        CheckIn.round_id == check_round.id)) or 0


def rounds_with_counts(event: Event) -> list[tuple[CheckRound, int]]:
    """Every round of the event, first first, with how many answered it."""
    rows = db.session.execute(
        select(CheckRound, func.count(CheckIn.id)).outerjoin(
            CheckIn, CheckIn.round_id == CheckRound.id)
        .where(CheckRound.event_id == event.id).group_by(CheckRound.id)
        .order_by(CheckRound.opened_at, CheckRound.id))
    return [(check_round, count) for check_round, count in rows]


# -- answers -----------------------------------------------------------------------------------

def is_participant(event: Event, person: Person) -> bool:
    """Invited to the event, or already with an attendance record of it."""
    invited = select(Invitation.id).where(
        Invitation.event_id == event.id, Invitation.person_id == person.id,
        Invitation.state == InvitationState.INVITED).exists()
    recorded = select(Attendance.id).where(
        Attendance.event_id == event.id, Attendance.person_id == person.id).exists()
    return bool(db.session.scalar(select(invited | recorded)))


def record_for(event: Event, person: Person) -> Attendance | None:
    """The person's record of the event, if there is one (nothing is made)."""
    return db.session.scalar(select(Attendance).where(
        Attendance.event_id == event.id, Attendance.person_id == person.id))


def answered(record: Attendance | None, rounds: list[CheckRound]) -> set[int]:
    """Ids of these rounds the record has answered."""
    if record is None or not rounds:
        return set()
    return set(db.session.scalars(select(CheckIn.round_id).where(
        CheckIn.attendance_id == record.id,
        CheckIn.round_id.in_([r.id for r in rounds]))))


def _limit_items() -> list[RateLimitItem]:
    return parse_many(current_app.config.get("CHECKIN_WRONG_CODE_LIMIT") or WRONG_CODE_LIMIT)


def _limited(key: str) -> bool:
    return limiter.enabled and not all(
        limiter.limiter.test(item, "checkin-wrong", key) for item in _limit_items())


def _count_wrong(key: str) -> None:
    if limiter.enabled:
        for item in _limit_items():
            limiter.limiter.hit(item, "checkin-wrong", key)


def verify_and_record(event: Event, who: Person | Attendance, code: object, ip: str,
                      now: datetime | None = None) -> Answer:
    """Check a participant's code and, when right, record their check-in and derive their
    record again. `who` is a person (signed in, or by their join link) or a guest's record."""
    now = now or utcnow()
    if isinstance(who, Attendance):
        if who.event_id != event.id:
            return Answer(Result.NOT_PARTICIPANT)
        record: Attendance | None = who
        key = f"a{who.id}"
    else:
        if not is_participant(event, who):
            return Answer(Result.NOT_PARTICIPANT)
        record = record_for(event, who)
        key = f"p{who.id}"
    rounds = answerable_rounds(event, now)
    if not rounds:
        return Answer(Result.NO_ROUND)
    if answered(record, rounds) >= {r.id for r in rounds}:
        return Answer(Result.ALREADY, rounds[0])
    if _limited(key):
        return Answer(Result.RATE_LIMITED)
    digits = clean_code(code)
    if digits is None:
        return Answer(Result.BAD_FORMAT)
    matched = next((r for r in rounds if code_matches(r, digits, now)), None)
    if matched is None:
        _count_wrong(key)
        return Answer(Result.WRONG_CODE)
    if record is None:
        assert isinstance(who, Person)
        record = services.record_of(event, who)
        db.session.flush()
    try:
        with db.session.begin_nested():
            db.session.add(CheckIn(round_id=matched.id, attendance_id=record.id, checked_at=now,
                                   ip=(ip or "")[:64]))
    except IntegrityError:  # the same person answered twice at once
        return Answer(Result.ALREADY, matched)
    services.recompute(record, now=now)
    return Answer(Result.OK, matched)
