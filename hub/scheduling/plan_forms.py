"""The form of a plan item. The view fills in the months of the network's school year and its
member organisations; hub.scheduling.plan checks everything again (tampered values included)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField, TextAreaField

from hub.directory.forms import ChoiceField, Cleaned, optional_int
from hub.directory.validation import clean_text
from hub.scheduling.plan import TOPIC_MAX


class PlanItemForm(FlaskForm):
    month = ChoiceField(_l("Month"), message=_l("Choose a month of the school year from the list."))
    topic = TextAreaField(
        _l("Topic"), validators=[Cleaned(clean_text, max_length=TOPIC_MAX, required=True)],
        render_kw={"maxlength": TOPIC_MAX, "rows": 2, "required": True},
        description=_l("e.g. семинар-практикум «Образовательная робототехника в ДОУ»"))
    format = ChoiceField(_l("Format"), coerce=optional_int,
                         message=_l("Choose a format from the list."))
    responsible = ChoiceField(_l("Responsible organisation"), coerce=optional_int,
                              message=_l("Choose a member organisation from the list."))
    submit = SubmitField(_l("Save"))


class ApproveForm(FlaskForm):
    #: The version the approver was shown.
    version = HiddenField()
