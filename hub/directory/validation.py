"""Checks and normalisation of directory fields, shared by the forms and the people import.

Each function returns the clean value or raises InvalidValue with a message fit for the user.
"""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hub.directory.models import Category

NAME_MAX = 100
TEXT_MAX = 300
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
#: Letters of any script (ё too), spaces, hyphens, apostrophes: «Салтыкова-Щедрина».
_NAME = re.compile(r"^[^\W\d_]+(?:[ '\-’][^\W\d_]+)*$")


class InvalidValue(ValueError):
    """A field value the hub cannot accept; str(error) is the message for the user."""


def clean_text(value: str | None, *, max_length: int = TEXT_MAX, required: bool = False,
               field: str = "") -> str:
    """Trim, collapse whitespace, refuse control characters and over-long text."""
    text = unicodedata.normalize("NFC", value or "")
    if _CONTROL.search(text):
        raise InvalidValue(_("%(field)s contains control characters.", field=field or _("Text")))
    text = _SPACES.sub(" ", text).strip()
    if required and not text:
        raise InvalidValue(_("%(field)s is required.", field=field or _("This field")))
    if len(text) > max_length:
        raise InvalidValue(_("%(field)s is longer than %(n)d characters.",
                             field=field or _("Text"), n=max_length))
    return text


def normalize_email(value: str | None) -> str:
    """A valid address, lower-cased (one mailbox, one person)."""
    raw = (value or "").strip()
    if not raw:
        raise InvalidValue(_("Email is required."))
    if len(raw) > 254:
        raise InvalidValue(_("Email is longer than 254 characters."))
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidValue(_("“%(value)s” is not a valid email address.", value=raw[:80])) from None
    return result.normalized.lower()


def clean_name_part(value: str | None, field: str, *, required: bool = True) -> str:
    """A surname, first name or patronymic: letters of any script, hyphens, apostrophes."""
    text = clean_text(value, max_length=NAME_MAX, required=required, field=field)
    if text and not _NAME.match(text):
        raise InvalidValue(_("%(field)s may contain only letters, spaces, hyphens and apostrophes.",
                             field=field))
    return text


def parse_full_name(value: str | None) -> tuple[str, str, str]:
    """«Фамилия Имя Отчество» → (surname, first name, patronymic); the patronymic is optional."""
    text = clean_text(value, max_length=3 * NAME_MAX, required=True,
                      field=_l("Surname, first name, patronymic"))
    parts = text.split(" ")
    if len(parts) < 2:
        raise InvalidValue(_("Full name needs at least a surname and a first name."))
    surname, first_name, patronymic = parts[0], parts[1], " ".join(parts[2:])
    return (clean_name_part(surname, _l("Surname")),
            clean_name_part(first_name, _l("First name")),
            clean_name_part(patronymic, _l("Patronymic"), required=False))


def normalize_phone(value: str | None) -> str:
    """Digits with an optional leading +; 8XXXXXXXXXX becomes +7XXXXXXXXXX. Empty is allowed."""
    text = clean_text(value, max_length=40, field=_l("Phone"))
    if not text:
        return ""
    digits = re.sub(r"[\s()\-.]", "", text)
    if not re.fullmatch(r"\+?\d{5,15}", digits):
        raise InvalidValue(_("“%(value)s” is not a phone number.", value=text))
    if len(digits) == 11 and digits.startswith("8"):
        digits = "+7" + digits[1:]
    elif len(digits) == 11 and digits.startswith("7"):
        digits = "+" + digits
    return digits


#: How spreadsheets name the categories (lower case, ё as е).
_CATEGORY_WORDS = {
    "": Category.NONE, "нет": Category.NONE, "без категории": Category.NONE,
    "соответствие": Category.NONE, "соответствие занимаемой должности": Category.NONE,
    "сзд": Category.NONE, "none": Category.NONE, "no category": Category.NONE,
    "первая": Category.FIRST, "первая категория": Category.FIRST, "1": Category.FIRST,
    "first": Category.FIRST,
    "высшая": Category.HIGHEST, "высшая категория": Category.HIGHEST, "highest": Category.HIGHEST,
    "педагог-методист": Category.METHODIST, "методист": Category.METHODIST,
    "methodist": Category.METHODIST, "teacher-methodologist": Category.METHODIST,
    "педагог-наставник": Category.MENTOR, "наставник": Category.MENTOR, "mentor": Category.MENTOR,
    "teacher-mentor": Category.MENTOR,
    # Abbreviations seen in education offices' spreadsheets.
    "вкк": Category.HIGHEST, "высшая кк": Category.HIGHEST,
    "высшая квалификационная": Category.HIGHEST,
    "1 кк": Category.FIRST, "1кк": Category.FIRST, "первая кк": Category.FIRST,
    "первая квалификационная": Category.FIRST, "без кк": Category.NONE, "-": Category.NONE,
}


def parse_category(value: str | None) -> Category:
    key = clean_text(value, max_length=60, field=_l("Category")).lower().replace("ё", "е")
    key = key.removesuffix(" квалификационная категория").removesuffix(" кв. категория")
    try:
        return _CATEGORY_WORDS[key]
    except KeyError:
        raise InvalidValue(_("Unknown qualification category “%(value)s”.", value=key)) from None


_QUOTES = re.compile(r"[«»“”„‟\"'‘’‚‛`]")
_DASHES = re.compile(r"[‐‑‒–—―−]")
_NUMBER_SIGN = re.compile(r"№\s*")


def organisation_key(value: str | None) -> str:
    """A key to match organisation names as people type them: case, ё/е, quotes («»“”"),
    dashes, spaces and the space after № do not matter («Детский сад №22» = «детский сад № 22»)."""
    text = unicodedata.normalize("NFC", value or "").casefold().replace("ё", "е")
    text = _QUOTES.sub(" ", text)
    text = _DASHES.sub("-", text)
    text = _NUMBER_SIGN.sub("№ ", text)
    return _SPACES.sub(" ", text).strip(" .,;")
