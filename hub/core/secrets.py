"""Encrypting settings at rest (provider credentials) with Fernet keys from the environment.

SETTINGS_ENCRYPTION_KEYS holds one or more Fernet keys, comma-separated: the first encrypts,
every one decrypts, so a key is rotated by putting the new one first and re-saving (`flask
conferencing rekey`). Make a key with
``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``.

Development and tests, where the setting is empty, derive a key from SECRET_KEY; production
has no such fallback: saving a secret is refused with a message saying what to set.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class SecretsUnavailable(RuntimeError):
    """No key is configured, or the stored value was encrypted with a key no longer given."""


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in current_app.config.get("SETTINGS_ENCRYPTION_KEYS", "").split(",")
            if k.strip()]
    if not keys and current_app.config.get("SETTINGS_KEY_FROM_SECRET"):
        digest = hashlib.sha256(b"settings-encryption:" +
                                current_app.config["SECRET_KEY"].encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    if not keys:
        raise SecretsUnavailable("SETTINGS_ENCRYPTION_KEYS is not set: credentials cannot be "
                                 "stored. Ask the administrator to set it.")
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError as error:
        raise SecretsUnavailable("SETTINGS_ENCRYPTION_KEYS holds a value that is not a "
                                 "Fernet key.") from error


def encrypt(values: dict[str, Any]) -> str:
    """The values as one encrypted token (an empty dict gives "")."""
    if not values:
        return ""
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, Any]:
    """The values of `encrypt`'s token ("" gives {})."""
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as error:
        raise SecretsUnavailable("The stored credentials cannot be decrypted with the "
                                 "configured keys; enter them again.") from error


def rotate(token: str) -> str:
    """Re-encrypt a token with the first key."""
    return _fernet().rotate(token.encode()).decode() if token else ""
