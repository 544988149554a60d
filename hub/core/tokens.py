"""Personal link tokens that can be repeated in later emails but are stored only as hashes.

token = HMAC-SHA256(SECRET_KEY, purpose:nonce), base64url; the database keeps the nonce (random)
and sha256(token) for look-up. A new nonce revokes the old token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import current_app


def new_nonce() -> str:
    return secrets.token_hex(16)


def derive_token(purpose: str, nonce: str) -> str:
    """The token for `nonce`, the same every time (for as long as SECRET_KEY stays)."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"{purpose}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    """hex SHA-256: what the database stores and looks tokens up by."""
    return hashlib.sha256(token.encode()).hexdigest()
