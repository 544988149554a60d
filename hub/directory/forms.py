"""Forms of the directory pages. Field checks come from hub.directory.validation (shared with the
people import) through the small `Cleaned` validator; rules that need the database (a unique
email, a coordinator of that organisation) are checked again by hub.directory.services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields import EmailField, FieldList, FormField, TelField
from wtforms.validators import ValidationError

from hub.core.i18n import timezone_choices
from hub.directory import services
from hub.directory.models import Category, OrgKind
from hub.directory.validation import (
    NAME_MAX,
    InvalidValue,
    clean_name_part,
    clean_text,
    normalize_email,
    normalize_phone,
)

#: How many member rows a new network form starts with, and how many "more rows" adds.
NETWORK_ROWS_MIN = 4
NETWORK_ROWS_ADD = 3
NETWORK_ROWS_MAX = 100


class Cleaned:
    """Run a check of hub.directory.validation: keep its clean value or show its message.

    The field's label names the field in the message («Фамилия is required.»).
    """

    def __init__(self, clean: Callable[..., Any], *, label_arg: str | None = "field",
                 **kwargs: Any) -> None:
        self.clean = clean
        self.label_arg = label_arg
        self.kwargs = kwargs

    def __call__(self, form: Form, field: Any) -> None:
        kwargs = dict(self.kwargs)
        if self.label_arg:
            kwargs[self.label_arg] = str(field.label.text)
        try:
            field.data = self.clean(field.data, **kwargs)
        except InvalidValue as error:
            raise ValidationError(str(error)) from None


def optional_int(value: Any) -> int | None:
    """Coerce a select's value: "" is no choice, anything else must be a whole number."""
    if value in (None, ""):
        return None
    return int(value)


class ChoiceField(SelectField):
    """A select whose wrong or tampered values get a plain message, never a 500."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        message = kwargs.pop("message", None) or _l("Choose a value from the list.")
        kwargs.setdefault("invalid_value_message", message)
        kwargs.setdefault("invalid_choice_message", message)
        super().__init__(label, validators, **kwargs)


def _required_choice(form: Form, field: Any) -> None:
    if field.data in (None, "") and not field.errors:
        raise ValidationError(_("Choose a value from the list."))


class _PlainName:
    """The name of an organisation or network (services.clean_plain_name)."""

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length

    def __call__(self, form: Form, field: Any) -> None:
        try:
            field.data = services.clean_plain_name(field.data, str(field.label.text),
                                                   self.max_length)
        except InvalidValue as error:
            raise ValidationError(str(error)) from None


def _timezone(allow_empty: bool) -> Callable[[Form, Any], None]:
    def check(form: Form, field: Any) -> None:
        try:
            field.data = services.clean_timezone(field.data, allow_empty=allow_empty)
        except InvalidValue as error:
            raise ValidationError(str(error)) from None

    return check


def _text_attrs(max_length: int, required: bool = False) -> dict[str, Any]:
    attrs: dict[str, Any] = {"maxlength": max_length}
    if required:
        attrs["required"] = True
    return attrs


# --- organisations ------------------------------------------------------------------------

class OrganisationForm(FlaskForm):
    full_name = StringField(
        _l("Full name"), validators=[_PlainName(services.ORG_FULL_NAME_MAX)],
        render_kw=_text_attrs(services.ORG_FULL_NAME_MAX, True),
        description=_l("As in the charter, e.g. МБДОУ «Детский сад № 22 «Яблонька»»"))
    short_name = StringField(
        _l("Short name"), validators=[_PlainName(services.ORG_SHORT_NAME_MAX)],
        render_kw=_text_attrs(services.ORG_SHORT_NAME_MAX, True),
        description=_l("Shown in lists, e.g. Детский сад № 22"))
    kind = ChoiceField(_l("Kind"), coerce=int, choices=OrgKind.choices)
    municipality = StringField(
        _l("Municipality"),
        validators=[Cleaned(clean_text, max_length=services.MUNICIPALITY_MAX, required=True)],
        render_kw=_text_attrs(services.MUNICIPALITY_MAX, True),
        description=_l("Town or district, e.g. г. Лесной"))
    timezone = ChoiceField(_l("Time zone"), choices=timezone_choices, validators=[_timezone(False)],
                           message=_l("Choose a time zone from the list."))
    submit = SubmitField(_l("Save"))


# --- people -------------------------------------------------------------------------------

def _name_part(label: Any, required: bool = True) -> StringField:
    return StringField(label, validators=[Cleaned(clean_name_part, required=required)],
                       render_kw=_text_attrs(NAME_MAX, required))


def locale_choices() -> list[tuple[str, str]]:
    return [("", str(_l("Hub default (Russian)"))), ("ru", "Русский"), ("en", "English")]


def person_timezone_choices(default_hint: str = "") -> list[tuple[str, str]]:
    label = str(_l("The organisation's time zone"))
    if default_hint:
        label = f"{label} ({default_hint})"
    return [("", label), *timezone_choices()]


class ProfileForm(FlaskForm):
    """What everyone may change about themselves."""

    phone = TelField(_l("Phone"), validators=[Cleaned(normalize_phone, label_arg=None)],
                     render_kw={"maxlength": 40, "autocomplete": "tel"},
                     description=_l("Optional, e.g. +7 912 345-67-89"))
    timezone_override = ChoiceField(
        _l("Time zone"), choices=person_timezone_choices, validators=[_timezone(True)],
        message=_l("Choose a time zone from the list."),
        description=_l("Times in the hub are shown in this zone."))
    locale = ChoiceField(_l("Interface language"), choices=locale_choices)
    submit = SubmitField(_l("Save"))


class PersonForm(ProfileForm):
    """Every field of a person; the view sets the organisation and role choices it allows."""

    surname = _name_part(_l("Surname"))
    first_name = _name_part(_l("First name"))
    patronymic = _name_part(_l("Patronymic"), required=False)
    email = EmailField(_l("Email"), validators=[Cleaned(normalize_email, label_arg=None)],
                       render_kw={"maxlength": 254, "required": True, "autocomplete": "off"},
                       description=_l("Also the sign-in name; unique in the hub."))
    organisation_id = ChoiceField(_l("Organisation"), coerce=optional_int,
                                  validators=[_required_choice],
                                  message=_l("Choose an organisation from the list."))
    position = StringField(
        _l("Position"),
        validators=[Cleaned(clean_text, max_length=services.POSITION_MAX)],
        render_kw=_text_attrs(services.POSITION_MAX),
        description=_l("e.g. воспитатель, учитель-логопед, старший воспитатель"))
    category = ChoiceField(_l("Qualification category"), coerce=int, choices=Category.choices)
    role = ChoiceField(_l("Role"), coerce=optional_int, validators=[_required_choice],
                       message=_l("Choose a role from the list."))

    FIELD_ORDER = ("surname", "first_name", "patronymic", "email", "phone", "organisation_id",
                   "position", "category", "role", "timezone_override", "locale")


# --- networks -----------------------------------------------------------------------------

class MemberRow(Form):
    """One member of a network: an organisation and its coordinator there."""

    organisation = ChoiceField(_l("Organisation"), coerce=optional_int,
                               message=_l("Choose an organisation from the list."))
    coordinator = ChoiceField(_l("Coordinator"), coerce=optional_int,
                              message=_l("Choose the coordinator from the list."))

    @property
    def is_blank(self) -> bool:
        return self.organisation.data is None and self.coordinator.data is None


class NetworkForm(FlaskForm):
    name = StringField(_l("Name"), validators=[_PlainName(services.NETWORK_NAME_MAX)],
                       render_kw=_text_attrs(services.NETWORK_NAME_MAX, True),
                       description=_l("e.g. «Растим инженеров»"))
    school_year = StringField(_l("School year"),
                              validators=[Cleaned(services.parse_school_year, label_arg=None)],
                              render_kw={"maxlength": 20, "required": True,
                                         "placeholder": "2026/2027"},
                              description=_l("Two consecutive years, e.g. 2026/2027"))
    description = TextAreaField(
        _l("Description"),
        validators=[Cleaned(clean_text, max_length=services.DESCRIPTION_MAX)],
        render_kw={"maxlength": services.DESCRIPTION_MAX, "rows": 4})
    members = FieldList(FormField(MemberRow), min_entries=0, max_entries=NETWORK_ROWS_MAX)
    add_rows = SubmitField(_l("More rows"))
    submit = SubmitField(_l("Save"))

    def member_specs(self) -> list[tuple[int | None, int | None]]:
        """(organisation id, coordinator id) of every row that is not blank."""
        return [(row.form.organisation.data, row.form.coordinator.data)
                for row in self.members if not row.form.is_blank]

    def validate_members(self, field: Any) -> None:
        chosen = {row.form.organisation.data for row in field if row.form.organisation.data}
        incomplete = False
        seen: set[int] = set()
        for row in field:
            organisation, coordinator = row.form.organisation, row.form.coordinator
            if organisation.data is not None and organisation.data in seen:
                organisation.errors = [*organisation.errors,
                                       _("This organisation is listed twice.")]
            seen.add(organisation.data)
            if organisation.errors or coordinator.errors:
                incomplete = True
            elif organisation.data is not None and coordinator.data is None:
                coordinator.errors = [*coordinator.errors, _("Choose the member's coordinator.")]
                incomplete = True
            elif coordinator.data is not None and organisation.data is None:
                organisation.errors = [*organisation.errors, _("Choose the organisation.")]
                incomplete = True
        if len(chosen) < 2:
            raise ValidationError(_("A network needs at least two member organisations."))
        if incomplete:
            raise ValidationError(_("Complete or clear the highlighted rows."))
