"""Jitsi Meet: the default conferencing provider, no credentials and nothing stored.

A meeting's room is derived from the event's iCalendar UID and the app secret (HMAC), so it is
unguessable, the same every time it is asked for (occurrences of a series share their series'
UID, hence one room) and never needs a column. Rotating SECRET_KEY moves every room.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from flask import current_app

#: Characters of the room name taken from the HMAC (base32: 5 bits each, so 120 bits).
ROOM_CHARS = 24


def room_name(event_uid: str) -> str:
    """The room of the event with this UID, e.g. ``vmeste-k3v…`` (lower-case letters, digits)."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"jitsi-room:{event_uid}".encode(), hashlib.sha256).digest()
    return "vmeste-" + base64.b32encode(digest).decode().lower()[:ROOM_CHARS]


def room_url(event_uid: str) -> str:
    """The join URL of the event's room: JITSI_BASE_URL (https://meet.jit.si) / room."""
    base = current_app.config.get("JITSI_BASE_URL") or "https://meet.jit.si"
    return f"{base.rstrip('/')}/{room_name(event_uid)}"
