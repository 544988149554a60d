"""Forms of the attendance sheet: overrides, guests, merges and manual intervals."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, StringField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from hub.attendance.models import Status
from hub.directory.forms import ChoiceField, optional_int
from hub.directory.validation import InvalidValue, normalize_email

#: The value of the override select that clears the organiser's mark.
CLEAR = ""


def _email(form: Any, field: Any) -> None:
    if field.data and field.data.strip():
        try:
            field.data = normalize_email(field.data)
        except InvalidValue as error:
            raise ValidationError(str(error)) from None


class OverrideForm(FlaskForm):
    status = ChoiceField(_l("Mark"), choices=[], validate_choice=True)
    reason = StringField(_l("Reason"), validators=[
        InputRequired(_l("Give the reason for the change.")), Length(max=500)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [(CLEAR, _l("As computed (clear the mark)"))] + [
            (str(s.value), s.label) for s in Status]

    def validate_reason(self, field: Any) -> None:
        field.data = (field.data or "").strip()
        if not field.data:
            raise ValidationError(_l("Give the reason for the change."))

    def chosen(self) -> Status | None:
        return Status(int(self.status.data)) if self.status.data != CLEAR else None


class GuestForm(FlaskForm):
    name = StringField(_l("Guest's name"), validators=[
        InputRequired(_l("Give the guest's name.")), Length(max=300)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254), _email])

    def validate_name(self, field: Any) -> None:
        field.data = " ".join((field.data or "").split())
        if not field.data:
            raise ValidationError(_l("Give the guest's name."))


class MergeForm(FlaskForm):
    person_id = ChoiceField(_l("Invited person"), choices=[], coerce=optional_int,
                            validate_choice=True)
    email = StringField(_l("or the person's email"), validators=[Optional(), Length(max=254),
                                                                  _email])

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.person_id.data is None and not self.email.data:
            self.email.errors.append(_l("Choose an invited person or give an email."))
            return False
        return True


class IntervalForm(FlaskForm):
    """Times in the event's zone (the form's labels name it)."""

    started = DateTimeLocalField(_l("From"), format="%Y-%m-%dT%H:%M", validators=[
        InputRequired(_l("Give the time the person came."))])
    ended = DateTimeLocalField(_l("Until"), format="%Y-%m-%dT%H:%M", validators=[
        InputRequired(_l("Give the time the person left."))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
