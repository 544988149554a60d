"""Checks and conversions of event fields: local times in an IANA zone, safe descriptions,
reminder offsets, lists of people given by email.

Each function returns the clean value or raises InvalidValue with a message fit for the user
(the directory's convention, shared by the forms and the services).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import nh3
from flask_babel import gettext as _

from hub.directory.validation import InvalidValue, normalize_email

__all__ = [
    "InvalidValue", "local_to_utc", "utc_to_local", "sanitize_description", "parse_reminders",
    "parse_email_list", "parse_cohort", "DESCRIPTION_MAX", "REMINDERS_MAX",
]

#: Longest description accepted from a form (characters before sanitising).
DESCRIPTION_MAX = 20_000
#: At most this many reminders per event, each at most four weeks before.
REMINDERS_MAX = 5
REMINDER_MINUTES_MAX = 4 * 7 * 24 * 60

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}
_TAG = re.compile(r"<[a-zA-Z/!]")
#: An HTML character reference (&amp; &#171; &#xAB;): such text is HTML already.
_ENTITY = re.compile(r"&(#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,31});")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PARAGRAPHS = re.compile(r"\n\s*\n")


# --- time ---------------------------------------------------------------------------------

def local_to_utc(day: date, clock: time, zone: str, *, field: str = "") -> datetime:
    """The UTC instant of a wall-clock time in `zone`.

    A time skipped by a DST change (02:30 on the spring-forward night in Europe/Berlin) does not
    exist and is refused; a time that happens twice (the autumn night) means the first of the
    two (fold=0), as RFC 5545 and most calendars read it.
    """
    tz = ZoneInfo(zone)
    wall = datetime.combine(day, clock.replace(tzinfo=None, fold=0))
    aware = wall.replace(tzinfo=tz)
    instant = aware.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        raise InvalidValue(_(
            "%(field)s: %(time)s does not exist in %(zone)s on %(date)s (the clocks are moved "
            "forward that night). Choose another time.",
            field=field or _("Time"), time=clock.strftime("%H:%M"), zone=zone,
            date=day.isoformat()))
    return instant


def utc_to_local(moment: datetime, zone: str) -> datetime:
    """The wall-clock time of a UTC instant in `zone` (timezone-aware)."""
    return moment.astimezone(ZoneInfo(zone))


def end_of_local_day(day: date, zone: str) -> datetime:
    """The last second of `day` in `zone`, as UTC (for a recurrence's "until" date)."""
    tz = ZoneInfo(zone)
    next_midnight = datetime.combine(day + timedelta(days=1), time()).replace(tzinfo=tz)
    return next_midnight.astimezone(UTC) - timedelta(seconds=1)


# --- text ---------------------------------------------------------------------------------

def sanitize_description(value: str | None) -> str:
    """Safe HTML for a description: p, br, strong, em, ul, ol, li and links (http, https,
    mailto; rel="noopener"). Plain text (no tags, no character references) becomes paragraphs
    and line breaks."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > DESCRIPTION_MAX:
        raise InvalidValue(_("%(field)s is longer than %(n)d characters.",
                             field=_("Description"), n=DESCRIPTION_MAX))
    text = _CONTROL.sub("", text).strip()
    if not text:
        return ""
    if not _TAG.search(text) and not _ENTITY.search(text):
        paragraphs = [p.strip() for p in _PARAGRAPHS.split(text) if p.strip()]
        text = "".join(
            "<p>" + "<br>".join(html.escape(line, quote=False) for line in p.split("\n"))
            + "</p>" for p in paragraphs)
    cleaned = nh3.clean(text, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                        url_schemes=ALLOWED_SCHEMES, link_rel="noopener",
                        clean_content_tags={"script", "style"})
    return cleaned.strip()


def description_text(description_html: str) -> str:
    """The plain text of a sanitised description (for the edit form of plain descriptions)."""
    text = re.sub(r"<br\s*/?>", "\n", description_html)
    text = re.sub(r"</p>\s*<p>", "\n\n", text)
    text = re.sub(r"</?p>", "", text)
    return html.unescape(text)


def is_plain_html(description_html: str) -> bool:
    """True when the stored HTML is only paragraphs and line breaks (round-trips as text)."""
    return not re.search(r"<(?!/?p>|br>)", description_html)


# --- reminders ----------------------------------------------------------------------------

def parse_reminders(value: str | None) -> str:
    """"1440, 60" → "1440,60": minutes before the start, largest first, no repeats."""
    text = (value or "").strip()
    if not text:
        return ""
    parts = [p for p in re.split(r"[\s,;]+", text) if p]
    minutes: set[int] = set()
    for part in parts:
        if not part.isascii() or not part.isdigit() or len(part) > 6:
            raise InvalidValue(_("Reminders are minutes before the start, e.g. 1440, 60 "
                                 "(“%(value)s” is not a number).", value=part[:20]))
        number = int(part)
        if not 0 <= number <= REMINDER_MINUTES_MAX:
            raise InvalidValue(_("A reminder can be at most four weeks (%(n)d minutes) before "
                                 "the start.", n=REMINDER_MINUTES_MAX))
        minutes.add(number)
    if len(minutes) > REMINDERS_MAX:
        raise InvalidValue(_("At most %(n)d reminders per event.", n=REMINDERS_MAX))
    return ",".join(str(m) for m in sorted(minutes, reverse=True))


# --- people by email ----------------------------------------------------------------------

_ANGLE = re.compile(r"<([^<>]+)>")
#: An email list in a form may name this many people at most (an audience of people is
#: better given as organisations or networks beyond that).
EMAILS_MAX = 10_000


def parse_email_list(value: str | None) -> list[str]:
    """Addresses from text: one per line or separated by commas or semicolons; «Name <a@b>» is
    fine. Returns them normalised, in order, without repeats; a bad one is an InvalidValue."""
    text = value or ""
    found: list[str] = []
    bad: list[str] = []
    for item in re.split(r"[\n,;]+", text):
        item = item.strip()
        if not item:
            continue
        match = _ANGLE.search(item)
        raw = match.group(1) if match else item
        try:
            email = normalize_email(raw)
        except InvalidValue:
            bad.append(raw[:80])
            continue
        if email not in found:
            found.append(email)
        if len(found) > EMAILS_MAX:
            raise InvalidValue(_("At most %(n)d people can be listed here; invite whole "
                                 "organisations or networks instead.", n=EMAILS_MAX))
    if bad:
        shown = ", ".join(f"“{b}”" for b in bad[:5])
        raise InvalidValue(_("Not an email address: %(values)s.", values=shown))
    return found


def parse_cohort(value: str | None) -> list[tuple[str, str | None]]:
    """A program's cohort, one pair per line: «mentor email, intern email» (or a mentor alone).

    Returns (mentor email, intern email or None) pairs in order.
    """
    pairs: list[tuple[str, str | None]] = []
    for number, line in enumerate((value or "").splitlines(), start=1):
        if not line.strip():
            continue
        emails = parse_email_list(line.replace("—", ",").replace("–", ","))
        if len(emails) > 2:
            raise InvalidValue(_("Line %(n)d: write a mentor and at most one intern per line.",
                                 n=number))
        if len(emails) == 1:
            pairs.append((emails[0], None))
        elif len(emails) == 2:
            if emails[0] == emails[1]:
                raise InvalidValue(_("Line %(n)d: a mentor cannot be their own intern.",
                                     n=number))
            pairs.append((emails[0], emails[1]))
    return pairs
