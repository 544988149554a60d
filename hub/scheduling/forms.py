"""The event form: one form for a single event and for a series (with a program's cohort).

The form parses what the browser sends (dates, times, choices, lists of addresses) and turns it
into an EventSpec; hub.scheduling.spec checks the rest. People are given by email, one per line
or separated by commas («Иванова Мария <ivanova@example.org>» is fine), so that a list of 5,000
addresses can be pasted and nothing on the page depends on the size of the directory.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from hub.core.i18n import timezone_choices
from hub.directory.forms import ChoiceField, optional_int
from hub.directory.models import Person
from hub.directory.validation import InvalidValue
from hub.extensions import db
from hub.scheduling import recurrence as rec
from hub.scheduling.models import Event, EventFormat, EventRole, Level, Series
from hub.scheduling.spec import REQUIRED_CHECKS_MAX, TITLE_MAX, EventSpec
from hub.scheduling.validation import (
    DESCRIPTION_MAX,
    description_text,
    is_plain_html,
    parse_cohort,
    parse_email_list,
    sanitize_description,
)

#: Longest text accepted in a list-of-addresses field (10,000 addresses of 60 characters).
EMAILS_TEXT_MAX = 600_000


class MultiChoiceField(SelectMultipleField):
    """A multiple select whose tampered values get a plain message, never a 500."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        message = kwargs.pop("message", None) or _l("Choose values from the list.")
        kwargs.setdefault("invalid_value_message", message)
        kwargs.setdefault("invalid_choice_message", message)
        kwargs.setdefault("coerce", int)
        super().__init__(label, validators, **kwargs)


class CheckboxesField(MultiChoiceField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _max_text(limit: int):  # type: ignore[no-untyped-def]
    def check(form: FlaskForm, field: Any) -> None:
        if field.data and len(field.data) > limit:
            raise ValidationError(_("%(field)s is longer than %(n)d characters.",
                                    field=field.label.text, n=limit))
    return check


def _emails_field(label: Any, description: Any) -> TextAreaField:
    return TextAreaField(label, validators=[_max_text(EMAILS_TEXT_MAX)], description=description,
                         render_kw={"rows": 2, "class": "emails", "autocomplete": "off",
                                    "spellcheck": "false"})


REPEAT_CHOICES = [("", _l("Does not repeat")), (rec.FREQ_WEEKLY, _l("Weekly")),
                  (rec.FREQ_MONTHLY, _l("Monthly, on a weekday"))]
ENDS_CHOICES = [("until", _l("On a date")), ("count", _l("After a number of sessions"))]
SCOPE_CHOICES = [("one", _l("This session only")),
                 ("following", _l("This and the following sessions")),
                 ("all", _l("All upcoming sessions"))]


class EventForm(FlaskForm):
    format = ChoiceField(_l("Format"), coerce=int, choices=EventFormat.choices)
    title = StringField(_l("Title"), validators=[_max_text(TITLE_MAX)],
                        render_kw={"maxlength": TITLE_MAX, "required": True},
                        description=_l("e.g. Семинар-практикум «Образовательная робототехника "
                                       "в ДОУ»"))
    description = TextAreaField(
        _l("Description"), validators=[_max_text(DESCRIPTION_MAX)],
        render_kw={"rows": 6, "maxlength": DESCRIPTION_MAX},
        description=_l("Plain text, or simple HTML: paragraphs, bold, italics, lists, links."))
    timezone = ChoiceField(_l("Time zone of the event"), choices=timezone_choices,
                           message=_l("Choose a time zone from the list."),
                           description=_l("Date and time below are in this zone; everyone "
                                          "sees them in their own."))
    start_date = DateField(_l("Date"), validators=[InputRequired(_l("Give the date."))],
                           render_kw={"required": True})
    start_time = TimeField(_l("Starts at"),
                           validators=[InputRequired(_l("Give the time it starts."))],
                           render_kw={"required": True})
    end_date = DateField(_l("Ends on (if another day)"), validators=[Optional()])
    end_time = TimeField(_l("Ends at"), validators=[InputRequired(_l("Give the time it ends."))],
                         render_kw={"required": True})

    hosts = MultiChoiceField(_l("Host organisations"), render_kw={"size": 6},
                             description=_l("Ctrl-click (⌘ on a Mac) to choose several."))
    network_id = ChoiceField(_l("Network association"), coerce=optional_int,
                             message=_l("Choose a network from the list."))
    speakers = _emails_field(_l("Speakers"), _l("Email addresses, one per line."))
    moderators = _emails_field(_l("Moderators"), _l("Email addresses, one per line."))

    audience_organisations = MultiChoiceField(
        _l("Invite whole organisations"), render_kw={"size": 6},
        description=_l("Every active person of these organisations is invited."))
    audience_networks = MultiChoiceField(
        _l("Invite whole networks"), render_kw={"size": 4},
        description=_l("Every active person of every member organisation is invited."))
    audience_people = _emails_field(_l("Invite people"),
                                    _l("Email addresses, one per line or separated by commas."))
    open_registration = BooleanField(
        _l("Open event: anyone signed in may register"),
        description=_l("Open events are listed for everyone and have a public page."))
    capacity = IntegerField(_l("Places"), validators=[Optional()],
                            render_kw={"min": 1, "inputmode": "numeric"},
                            description=_l("Empty: no limit. Past it, registrations wait in "
                                           "line."))
    credit_hours = DecimalField(_l("Credit hours"), validators=[Optional()], places=1,
                                render_kw={"inputmode": "decimal"},
                                description=_l("Empty: the duration."))
    board_enabled = BooleanField(_l("Live board during the event"), default=True)
    level = ChoiceField(_l("Level"), coerce=int, choices=Level.choices,
                        default=int(Level.MUNICIPAL),
                        message=_l("Choose a level from the list."))
    required_checks = IntegerField(
        _l("Presence checks required"), default=0,
        validators=[Optional(), NumberRange(0, REQUIRED_CHECKS_MAX, _l(
            "Presence checks: a number from 0 to %(max)d."))],
        render_kw={"min": 0, "max": REQUIRED_CHECKS_MAX, "inputmode": "numeric"},
        description=_l("Codes shown during the meeting that a participant must enter to be "
                       "credited; 0: credit by the time present."))
    auto_certificates = BooleanField(_l("Issue certificates automatically"), default=True,
                                     description=_l("To everyone credited for the event."))
    provider = ChoiceField(_l("Conferencing"), default="jitsi",
                           message=_l("Choose a conferencing service from the list."),
                           description=_l("Each invitee gets a personal link; it leads to the "
                                          "room whatever service you choose."))
    reminder_minutes = StringField(_l("Reminders, minutes before"),
                                   validators=[_max_text(100)], render_kw={"maxlength": 100},
                                   description=_l("e.g. 1440, 60 (a day and an hour before); "
                                                  "empty: none."))

    repeat = RadioField(_l("Repeat"), choices=REPEAT_CHOICES, default="")
    interval = IntegerField(_l("Every"), default=1, validators=[
        Optional(), NumberRange(1, rec.MAX_INTERVAL)], render_kw={"min": 1,
                                                                "max": rec.MAX_INTERVAL})
    weekdays = CheckboxesField(_l("On these days"), choices=list(enumerate(rec.WEEKDAY_LABELS)),
                               message=_l("Choose weekdays from the list."))
    monthly_setpos = ChoiceField(
        _l("Which one"), coerce=optional_int,
        choices=[("", "—")] + [(k, v) for k, v in rec.SETPOS_LABELS.items()],
        description=_l("e.g. the second Tuesday of every month"))
    ends = RadioField(_l("Ends"), choices=ENDS_CHOICES, default="count")
    until = DateField(_l("Last date"), validators=[Optional()])
    count = IntegerField(_l("Sessions"), validators=[Optional(),
                                                     NumberRange(1, rec.MAX_OCCURRENCES)],
                         render_kw={"min": 1, "max": rec.MAX_OCCURRENCES},
                         description=_l("At most 200 sessions within two years. When you change "
                                        "a series, counted from the first session changed."))
    is_program = BooleanField(_l("A program with a cohort (e.g. the digital internship)"))
    cohort = TextAreaField(
        _l("Cohort: mentor and intern"), validators=[_max_text(EMAILS_TEXT_MAX)],
        render_kw={"rows": 4, "class": "emails", "spellcheck": "false"},
        description=_l("One pair per line: the mentor's email, a comma, the intern's email. "
                       "Every member is invited to every session."))

    scope = RadioField(_l("Apply the changes to"), choices=SCOPE_CHOICES, default="one")
    confirmed = HiddenField()
    save = SubmitField(_l("Save as draft"))
    publish = SubmitField(_l("Publish and send invitations"))
    save_changes = SubmitField(_l("Save changes"))

    # --- to and from the services -----------------------------------------------------------

    def to_spec(self) -> EventSpec | None:
        """The spec of the submitted form, or None (with the errors on their fields)."""
        people = {name: self._people(getattr(self, name))
                  for name in ("speakers", "moderators", "audience_people")}
        cohort = self._cohort() if self.is_program.data else []
        recurrence = self._recurrence()
        if any(v is None for v in people.values()) or cohort is None or self.errors:
            return None
        assert self.start_date.data and self.start_time.data and self.end_time.data
        credit = self.credit_hours.data
        return EventSpec(
            format=self.format.data, title=self.title.data or "",
            description=self.description.data or "", timezone=self.timezone.data,
            start_date=self.start_date.data, start_time=self.start_time.data,
            end_date=self.end_date.data, end_time=self.end_time.data,
            host_ids=list(self.hosts.data or []), network_id=self.network_id.data,
            speaker_ids=people["speakers"] or [], moderator_ids=people["moderators"] or [],
            audience_organisation_ids=list(self.audience_organisations.data or []),
            audience_network_ids=list(self.audience_networks.data or []),
            audience_person_ids=people["audience_people"] or [],
            open_registration=bool(self.open_registration.data),
            capacity=self.capacity.data,
            credit_hours=float(credit) if isinstance(credit, Decimal) and credit.is_finite()
            else (None if credit is None else -1.0),
            board_enabled=bool(self.board_enabled.data),
            level=self.level.data, required_checks=self.required_checks.data or 0,
            auto_certificates=bool(self.auto_certificates.data),
            reminder_minutes=self.reminder_minutes.data or "",
            provider=self.provider.data or "jitsi", recurrence=recurrence,
            is_program=bool(self.is_program.data) and bool(recurrence),
            cohort=cohort)

    def _people(self, field: Any) -> list[int] | None:
        try:
            emails = parse_email_list(field.data)
        except InvalidValue as error:
            field.errors = [*field.errors, str(error)]
            return None
        found = people_by_email(emails)
        missing = [e for e in emails if e not in found]
        inactive = [e for e in emails if e in found and not found[e].active]
        if missing:
            field.errors = [*field.errors, _(
                "Nobody in the hub has these addresses: %(emails)s.",
                emails=", ".join(missing[:5]) + (" …" if len(missing) > 5 else ""))]
        if inactive:
            field.errors = [*field.errors, _(
                "These people are deactivated: %(emails)s.", emails=", ".join(inactive[:5]))]
        if missing or inactive:
            return None
        return [found[e].id for e in emails]

    def _cohort(self) -> list[tuple[int, int | None]] | None:
        try:
            pairs = parse_cohort(self.cohort.data)
        except InvalidValue as error:
            self.cohort.errors = [*self.cohort.errors, str(error)]
            return None
        emails = [e for pair in pairs for e in pair if e]
        found = people_by_email(emails)
        missing = [e for e in emails if e not in found or not found[e].active]
        if missing:
            self.cohort.errors = [*self.cohort.errors, _(
                "Nobody active in the hub has these addresses: %(emails)s.",
                emails=", ".join(dict.fromkeys(missing[:5])))]
            return None
        if not pairs:
            self.cohort.errors = [*self.cohort.errors,
                                  _("List the mentors and interns of the program.")]
            return None
        return [(found[m].id, found[i].id if i else None) for m, i in pairs]

    def _recurrence(self) -> rec.Recurrence | None:
        if not self.repeat.data:
            return None
        start: date | None = self.start_date.data
        weekdays = list(self.weekdays.data or [])
        setpos = self.monthly_setpos.data
        if self.repeat.data == rec.FREQ_WEEKLY and not weekdays and start:
            weekdays = [start.weekday()]
        if self.repeat.data == rec.FREQ_MONTHLY and start:
            weekdays = [start.weekday()]
            if setpos is None:
                setpos = rec.nth_weekday_of(start)
        until = self.until.data if self.ends.data == "until" else None
        count = self.count.data if self.ends.data == "count" else None
        if self.ends.data == "until" and until is None and not self.until.errors:
            self.until.errors = [*self.until.errors, _("Give the last date of the series.")]
        if self.ends.data == "count" and count is None and not self.count.errors:
            self.count.errors = [*self.count.errors, _("Give the number of sessions.")]
        return rec.Recurrence(freq=self.repeat.data, interval=self.interval.data or 1,
                              weekdays=weekdays, setpos=setpos, until=until, count=count)

    def fill_from(self, event: Event) -> None:
        """Show an event (and its series' rule) in the form."""
        zone = event.timezone
        start = event.start_at.astimezone(_zone(zone))
        end = event.end_at.astimezone(_zone(zone))
        self.format.data = int(event.format)
        self.title.data = event.title
        self.description.data = editable_description(event.description_html)
        self.timezone.data = zone
        self.start_date.data, self.start_time.data = start.date(), _hm(start.time())
        self.end_date.data = end.date() if end.date() != start.date() else None
        self.end_time.data = _hm(end.time())
        self.hosts.data = [h.organisation_id for h in event.hosts]
        self.network_id.data = event.network_id
        people = sorted(event.people, key=lambda p: p.id)
        self.speakers.data = "\n".join(p.person.email for p in people
                                       if p.role == EventRole.SPEAKER)
        self.moderators.data = "\n".join(p.person.email for p in people
                                         if p.role == EventRole.MODERATOR)
        self.audience_organisations.data = [a.organisation_id for a in event.audience
                                            if a.organisation_id]
        self.audience_networks.data = [a.network_id for a in event.audience if a.network_id]
        self.audience_people.data = "\n".join(a.person.email for a in event.audience
                                              if a.person_id and a.person is not None)
        self.open_registration.data = event.open_registration
        self.capacity.data = event.capacity
        self.credit_hours.data = (Decimal(str(event.credit_hours))
                                  if event.credit_hours is not None else None)
        self.board_enabled.data = event.board_enabled
        self.level.data = int(event.level)
        self.required_checks.data = event.required_checks
        self.auto_certificates.data = event.auto_certificates
        self.provider.data = event.provider
        self.reminder_minutes.data = ", ".join(
            m for m in (event.reminder_minutes or "").split(",") if m)
        if event.series is not None:
            self.fill_series(event.series)

    def fill_series(self, series: Series) -> None:
        rule = rec.parse_rrule(series.rrule, series.timezone)
        self.repeat.data = rule.freq
        self.interval.data = rule.interval
        self.weekdays.data = rule.weekdays if rule.freq == rec.FREQ_WEEKLY else []
        self.monthly_setpos.data = rule.setpos
        last = max((e.original_start or e.start_at) for e in series.events)
        self.ends.data = "until"
        self.until.data = last.astimezone(_zone(series.timezone)).date()
        self.count.data = None
        self.is_program.data = series.is_program
        lines = []
        members = sorted(series.cohort, key=lambda m: m.id)
        mentors_with_interns = {m.mentor_id for m in members if m.mentor_id}
        for member in members:
            if member.role == EventRole.INTERN and member.mentor is not None:
                lines.append(f"{member.mentor.email}, {member.person.email}")
            elif member.role == EventRole.MENTOR and member.person_id not in mentors_with_interns:
                lines.append(member.person.email)
        self.cohort.data = "\n".join(lines)


def editable_description(description_html: str) -> str:
    """What the form shows of a stored description: the text typed, when it was plain text
    (and reads back the same), else the sanitised HTML."""
    if is_plain_html(description_html):
        plain = description_text(description_html)
        if sanitize_description(plain) == description_html:
            return plain
    return description_html


def people_by_email(emails: list[str]) -> dict[str, Person]:
    """People (active or not) with these addresses, by address (one query)."""
    if not emails:
        return {}
    return {p.email: p for p in db.session.scalars(select(Person).where(
        Person.email.in_(emails)))}


def _zone(name: str):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _hm(value: time) -> time:
    return value.replace(second=0, microsecond=0, tzinfo=None, fold=0)


class CancelForm(FlaskForm):
    """Cancel an event; for a series, which sessions."""

    scope = RadioField(_l("Cancel"), choices=[
        ("one", _l("This session only")), ("following", _l("This and the following sessions")),
        ("all", _l("All upcoming sessions"))], default="one")
    submit = SubmitField(_l("Cancel the event"))
