"""Forms of the sign-in pages. Field names are part of the contract: tests and the browser post
`email` and `password`."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, Field, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

#: Longest password accepted when signing in (a longer one cannot match: see NEW_PASSWORD_MAX).
LOGIN_PASSWORD_MAX = 1000
NEW_PASSWORD_MIN = 10
NEW_PASSWORD_MAX = 200
EMAIL_MAX = 254

#: One "@", something on both sides, no spaces or control characters. Deliberately lenient:
#: the address is only looked up, never stored, so an unusual but real address must still work.
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

#: Passwords of ten characters and more that people pick most often (Latin and Russian layout).
_COMMON_PASSWORDS = frozenset({
    "1234567890", "0987654321", "12345678910", "123456789a", "9876543210", "1111111111",
    "0000000000", "qwertyuiop", "1q2w3e4r5t", "1qaz2wsx3edc", "qwerty1234", "qwerty12345",
    "qwerty123456", "password12", "password123", "password1234", "zxcvbnm123", "asdfghjkl1",
    "йцукенгшщз", "йцукенгшщзхъ", "пароль1234", "пароль12345", "1q2w3e4r5t6y", "a1b2c3d4e5",
})


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def normalize_login_email(value: str | None) -> str:
    """The address as stored in the directory (trimmed, lower case)."""
    return (value or "").strip().lower()


def email_address(form: FlaskForm, field: Field) -> None:
    """A plausible address: the hub only looks it up, so the check is lenient but strict on junk."""
    value = field.data or ""
    if len(value) > EMAIL_MAX:
        raise ValidationError(_l("The email address is too long (at most %(n)d characters).",
                                 n=EMAIL_MAX))
    if not _EMAIL.match(value):
        raise ValidationError(_l("Enter an email address like name@example.ru."))


def no_control_characters(form: FlaskForm, field: Field) -> None:
    if field.data and _CONTROL.search(field.data):
        raise ValidationError(_l("The password contains characters that cannot be typed."))


def strong_enough(form: FlaskForm, field: Field) -> None:
    """Rules for a new password beyond its length: not blank, not a well-known password."""
    value = field.data or ""
    if not value.strip():
        raise ValidationError(_l("The password cannot consist of spaces only."))
    if len(set(value)) == 1 or value.lower() in _COMMON_PASSWORDS:
        raise ValidationError(_l("This password is too easy to guess. Please choose another."))
    email = getattr(form, "account_email", "")
    if email and value.strip().lower() == email.lower():
        raise ValidationError(_l("The password must not be your email address."))


def _email_field(label: str | None = None) -> EmailField:
    return EmailField(
        label or _l("Email"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter your email address.")), email_address],
        render_kw={"autocomplete": "username", "inputmode": "email", "autocapitalize": "none",
                   "spellcheck": "false", "maxlength": EMAIL_MAX},
    )


def _new_password_fields() -> tuple[PasswordField, PasswordField]:
    new = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Enter a new password.")),
            Length(min=NEW_PASSWORD_MIN, max=NEW_PASSWORD_MAX,
                   message=_l("The password must be %(min)d to %(max)d characters long.",
                              min=NEW_PASSWORD_MIN, max=NEW_PASSWORD_MAX)),
            no_control_characters,
            strong_enough,
        ],
        render_kw={"autocomplete": "new-password", "minlength": NEW_PASSWORD_MIN,
                   "maxlength": NEW_PASSWORD_MAX},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(_l("Repeat the new password.")),
                    EqualTo("new_password", _l("The two passwords do not match."))],
        render_kw={"autocomplete": "new-password", "maxlength": NEW_PASSWORD_MAX},
    )
    return new, confirm


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")),
                    Length(max=LOGIN_PASSWORD_MAX, message=_l("The password is too long."))],
        render_kw={"autocomplete": "current-password", "maxlength": LOGIN_PASSWORD_MAX},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))
    submit = SubmitField(_l("Sign in"))


class EmailLinkForm(FlaskForm):
    """Ask for an emailed link: a sign-in link or a password reset link."""

    email = _email_field()
    submit = SubmitField(_l("Send the link"))


class ConfirmForm(FlaskForm):
    """A single button (with its CSRF token): used where a GET must not change anything."""

    submit = SubmitField(_l("Sign in"))


class ResetPasswordForm(FlaskForm):
    new_password, confirm = _new_password_fields()
    submit = SubmitField(_l("Save the password and sign in"))

    def __init__(self, *args, account_email: str = "", **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.account_email = account_email


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[Length(max=LOGIN_PASSWORD_MAX, message=_l("The password is too long."))],
        render_kw={"autocomplete": "current-password", "maxlength": LOGIN_PASSWORD_MAX},
    )
    new_password, confirm = _new_password_fields()
    submit = SubmitField(_l("Change the password"))

    def __init__(self, *args, account_email: str = "", needs_current: bool = True,  # type: ignore[no-untyped-def]
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.account_email = account_email
        self.needs_current = needs_current
        if not needs_current:
            del self.current_password

    def validate_current_password(self, field: Field) -> None:
        if self.needs_current and not field.data:
            raise ValidationError(_l("Enter your current password."))
