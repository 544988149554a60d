"""The settings form of one provider, built from its `settings_fields`."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, TextAreaField
from wtforms.validators import Length

from hub.conferencing.models import ProviderAccount
from integrations.conferencing.base import Provider, SettingField

#: The longest value of a setting (a service account's JSON key is about 2.4 KB).
VALUE_MAX = 20_000


class SettingsForm(FlaskForm):
    """Fields are added per provider by `settings_form`; `secret_fields` names the secrets."""

    secret_fields: tuple[str, ...] = ()

    def values(self) -> dict[str, Any]:
        """What was entered, plus clear_<name> flags for secrets to remove."""
        return {field.short_name: field.data or ("" if not isinstance(field.data, bool) else False)
                for field in self if field.short_name != "csrf_token"}

    def add_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            field = getattr(self, name, None) if name else None
            if field is None:
                self.form_errors.append(message)
            else:
                field.errors = [*field.errors, message]


def _field(setting: SettingField) -> Any:
    kwargs: dict[str, Any] = {
        "validators": [Length(max=VALUE_MAX)],
        "description": _l(setting.help) if setting.help else "",
        "render_kw": {"autocomplete": "off", "spellcheck": "false"},
    }
    label = _l(setting.label)
    if setting.secret and setting.multiline:
        kwargs["render_kw"]["rows"] = 6
        return TextAreaField(label, **kwargs)
    if setting.secret:
        kwargs["render_kw"]["autocomplete"] = "new-password"
        return PasswordField(label, **kwargs)
    if setting.multiline:
        return TextAreaField(label, **kwargs)
    return StringField(label, **kwargs)


def settings_form(cls: type[Provider], account: ProviderAccount | None,
                  formdata: Any = None) -> SettingsForm:
    """The form for `cls`'s settings, filled with the account's plain settings (secrets are
    never put back into a form)."""
    attributes: dict[str, Any] = {"secret_fields": tuple(
        f.name for f in cls.settings_fields if f.secret)}
    saved = set(account.secret_names) if account is not None else set()
    for setting in cls.settings_fields:
        attributes[setting.name] = _field(setting)
        if setting.secret and setting.name in saved and not setting.required:
            attributes[f"clear_{setting.name}"] = BooleanField(_l("Remove the saved value"))
    form_class = type(f"{cls.__name__}SettingsForm", (SettingsForm,), attributes)
    plain = dict(account.settings or {}) if account is not None else {}
    form = form_class(formdata=formdata, prefix=cls.key,
                      data={k: v for k, v in plain.items() if k not in attributes["secret_fields"]})
    for name in attributes["secret_fields"]:
        field = getattr(form, name)
        if name in saved:
            field.render_kw = {**(field.render_kw or {}),
                               "placeholder": str(_l("saved — leave empty to keep"))}
    return form
