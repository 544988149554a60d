"""Limits on the board (Flask-Limiter covers HTTP only, not socket events).

Per person (posts, reactions): the `limits` library (Flask-Limiter's own) on the same storage
as Flask-Limiter (RATELIMIT_STORAGE_URI: memory in development, Redis when several processes
serve), because one person may be on several processes at once. Per socket (every event, a
guard against floods): a token bucket kept with the connection, since a socket lives in one
process; it costs no storage and no scan of expired keys.
"""

from __future__ import annotations

import math
import time

from flask import current_app
from flask_babel import gettext as _
from limits import RateLimitItem, parse, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

#: Config key of each kind of per-person limit.
KINDS = {"write": "BOARD_POST_LIMIT", "react": "BOARD_REACTION_LIMIT"}


class Bucket:
    """A token bucket: up to `amount` events at once, refilled at `amount` per `seconds`."""

    def __init__(self, amount: int, seconds: float) -> None:
        self.capacity = float(amount)
        self.rate = amount / seconds
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def socket_bucket() -> Bucket:
    """A new socket's bucket, from BOARD_EVENT_LIMIT (e.g. "20 per second")."""
    item = parse(current_app.config["BOARD_EVENT_LIMIT"])
    return Bucket(item.amount, item.get_expiry())


def _limiter() -> tuple[MovingWindowRateLimiter, Storage]:
    state = current_app.extensions.get("board_limits")
    if state is None:
        storage = storage_from_string(current_app.config["RATELIMIT_STORAGE_URI"])
        state = current_app.extensions["board_limits"] = (MovingWindowRateLimiter(storage),
                                                          storage)
    return state


def _items(kind: str) -> list[RateLimitItem]:
    return parse_many(current_app.config[KINDS[kind]])


def hit(kind: str, key: str) -> None:
    """Count one action of `key`; refuse with a message saying when to try again."""
    from hub.board.services import BoardError

    limiter, _storage = _limiter()
    for item in _items(kind):
        if not limiter.hit(item, "board", kind, key):
            reset = limiter.get_window_stats(item, "board", kind, key).reset_time
            wait = max(1, math.ceil(reset - time.time()))
            raise BoardError(_("Too fast: wait %(seconds)s s and try again.", seconds=wait),
                             "rate_limited")


def reset() -> None:
    """Forget every count (tests)."""
    _limiter()[1].reset()
