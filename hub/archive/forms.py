"""The material form: a file or a link, its title, description, authors, tags and who sees it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, StringField, TextAreaField

from hub.archive.models import Visibility
from hub.archive.services import DESCRIPTION_MAX, TITLE_MAX, URL_MAX
from hub.directory.forms import ChoiceField, optional_int
from hub.scheduling.forms import CheckboxesField
from hub.scheduling.models import EventFormat

KIND_CHOICES = [("file", _l("A file")), ("link", _l("A link"))]


class MaterialForm(FlaskForm):
    kind = RadioField(_l("What are you adding?"), choices=KIND_CHOICES, default="file")
    file = FileField(_l("File"), description=_l(
        "PDF, Word, Excel, PowerPoint, OpenDocument, pictures or MP4 video."))
    url = StringField(_l("Link"), render_kw={"maxlength": URL_MAX, "inputmode": "url",
                                             "placeholder": "https://"},
                      description=_l("A video recording, a web page or another resource."))
    title = StringField(_l("Title"), render_kw={"maxlength": TITLE_MAX})
    description = TextAreaField(_l("Description"), render_kw={"rows": 4,
                                                               "maxlength": DESCRIPTION_MAX})
    event_authors = CheckboxesField(_l("Authors among the event's people"), choices=[])
    authors = TextAreaField(_l("Authors' email addresses"), render_kw={
        "rows": 2, "autocomplete": "off", "spellcheck": "false"},
        description=_l("One per line or separated by commas."))
    topics = StringField(_l("Topics"), description=_l(
        "Separated by commas, e.g. робототехника, ранняя профориентация."))
    age_groups = StringField(_l("Age groups"), description=_l(
        "Separated by commas, e.g. 5–6 лет, подготовительная группа."))
    format = ChoiceField(_l("Format"), coerce=optional_int,
                         choices=lambda: [("", "—"), *EventFormat.choices()])
    visibility = RadioField(_l("Who may see it"), coerce=int, choices=Visibility.choices,
                            default=int(Visibility.NETWORK))
    network_id = ChoiceField(_l("Network"), coerce=optional_int, choices=[])
