"""One way to call a provider's HTTP API (httpx) and turn its failures into ProviderErrors.

- a timeout, a refused connection, HTTP 5xx → ProviderUnavailable (the worker retries);
- HTTP 429 → ProviderUnavailable with `retry_after` from the Retry-After header;
- HTTP 401/403 → ProviderAuthError; 404 → RoomGone; other 4xx → ProviderError;
- a body that is not the JSON (or XML) expected → ProviderError.

`with_backoff` retries a call a few times in place when the provider says 429, for
operations made of many calls (Zoom registrants in batches).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from integrations.conferencing.base import (
    ProviderAuthError,
    ProviderError,
    ProviderUnavailable,
    RoomGone,
)

T = TypeVar("T")

#: How many times `with_backoff` tries, and the longest it waits between tries (seconds).
BACKOFF_TRIES = 4
BACKOFF_MAX_WAIT = 30.0


def client(timeout: float, **kwargs: Any) -> httpx.Client:
    """An httpx client with the timeout for every phase and no redirects followed silently."""
    return httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, **kwargs)


def send(http: httpx.Client, method: str, url: str, *, what: str,
         **kwargs: Any) -> httpx.Response:
    """Send a request; raise the matching ProviderError for failures (`what` names the call
    in messages, e.g. "Zoom: create meeting")."""
    try:
        response = http.request(method, url, **kwargs)
    except httpx.TimeoutException as error:
        raise ProviderUnavailable(f"{what}: the service did not answer in time") from error
    except httpx.TransportError as error:
        raise ProviderUnavailable(f"{what}: the service cannot be reached "
                                  f"({type(error).__name__})") from error
    raise_for_status(response, what=what)
    return response


def raise_for_status(response: httpx.Response, *, what: str,
                     detail: str | None = None) -> None:
    """Raise the ProviderError for a failed response (nothing for 2xx/3xx)."""
    status = response.status_code
    if status < 400:
        return
    reason = detail or provider_message(response)
    suffix = f": {reason}" if reason else ""
    if status == 429:
        raise ProviderUnavailable(f"{what}: too many requests, will retry{suffix}",
                                  status=status, retry_after=retry_after(response))
    if status >= 500:
        raise ProviderUnavailable(f"{what}: the service answered HTTP {status}{suffix}",
                                  status=status)
    if status in (401, 403):
        raise ProviderAuthError(f"{what}: access denied (HTTP {status}){suffix}", status=status)
    if status == 404:
        raise RoomGone(f"{what}: not found (HTTP 404){suffix}", status=status)
    raise ProviderError(f"{what}: the service refused the request (HTTP {status}){suffix}",
                        status=status)


def json_body(response: httpx.Response, *, what: str) -> Any:
    """The response's JSON; ProviderError when it is not JSON."""
    try:
        return response.json()
    except ValueError as error:
        raise ProviderError(f"{what}: the service answered something that is not JSON") \
            from error


def json_object(response: httpx.Response, *, what: str, keys: tuple[str, ...] = ()) -> dict:
    """The response's JSON object, with `keys` present; ProviderError otherwise."""
    body = json_body(response, what=what)
    if not isinstance(body, dict) or any(k not in body for k in keys):
        raise ProviderError(f"{what}: the service's answer lacks "
                            f"{', '.join(keys) or 'a JSON object'}")
    return body


def provider_message(response: httpx.Response) -> str:
    """The provider's own short error message from a JSON body ("message", "description",
    "error_description", "error"), cut to 200 characters; "" if none."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, Mapping):
        return ""
    for key in ("message", "description", "error_description", "error"):
        value = body.get(key)
        if isinstance(value, Mapping):
            value = value.get("message")
        if isinstance(value, str) and value:
            return value[:200]
    return ""


def retry_after(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header, given in seconds or as an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        until = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    return max(0.0, (until - (now or datetime.now(UTC))).total_seconds())


def with_backoff(call: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep,
                 tries: int = BACKOFF_TRIES) -> T:
    """Run `call`, waiting and trying again (up to `tries` times) when it is rate-limited."""
    for attempt in range(1, tries + 1):
        try:
            return call()
        except ProviderUnavailable as error:
            wait = error.retry_after if error.retry_after is not None else 2.0 ** attempt
            if error.status != 429 or attempt == tries or wait > BACKOFF_MAX_WAIT:
                raise  # a long wait (a daily limit) is left to the worker's own back-off
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
