"""The survey form: a rating 1–5, what was useful, free text."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, Form, RadioField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from hub.growth.feedback import COMMENT_MAX, RATINGS, USEFUL


def _one_to_five(form: Form, field: Field) -> None:
    if field.data not in {str(r) for r in RATINGS}:
        raise ValidationError(_l("Choose a rating from 1 to 5."))


class SurveyForm(FlaskForm):
    """One participant's answer; every field is checked here, nothing else is trusted."""

    rating = RadioField(_l("How useful was the event for you?"),
                        choices=[SelectChoice(str(r), str(r)) for r in RATINGS],
                        validate_choice=False, validators=[_one_to_five])
    useful = SelectMultipleField(
        _l("What was useful?"), choices=[SelectChoice(k, v) for k, v in USEFUL.items()],
        option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))
    comment = TextAreaField(_l("Anything else you want to tell the organisers?"), validators=[
        Length(max=COMMENT_MAX, message=_l(
            "At most %(max)d characters, please (this text has %(length)d)."))])
