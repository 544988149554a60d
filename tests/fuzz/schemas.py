"""JSON Schemas (draft 2020-12) of the JSON bodies the hub accepts, as the providers document
them and as the hub needs them to store something, and Hypothesis strategies for bodies that
match a schema and for bodies that match none (checked with jsonschema).

hypothesis-jsonschema would generate these, but its latest release (0.23.1, 2024) fails with
current Hypothesis ("'many' object has no attribute 'more'"), so `valid` below covers the small
part of JSON Schema these schemas use and refuses any other keyword."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tests.fuzz.text import NASTY

Schema = dict[str, Any]
_KNOWN = {"type", "properties", "required", "items", "minItems", "maxItems", "minLength",
          "maxLength", "enum", "const", "format", "pattern", "minimum", "maximum", "$comment"}

#: Strings as JSON can carry them: NUL, controls, a lone surrogate (from a \\ud800 escape).
json_text = st.text(st.one_of(st.sampled_from(NASTY), st.characters()), max_size=40)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), json_text),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(json_text, inner, max_size=4)),
    max_leaves=12)
#: Times a provider reports: RFC 3339 in any zone, within the years a meeting can be held.
_times = st.datetimes(datetime(1970, 1, 2), datetime(2100, 1, 1),
                      timezones=st.timezones()).map(lambda d: d.isoformat())


def valid(schema: Schema) -> st.SearchStrategy[Any]:
    """Values that match `schema` (the keywords in _KNOWN only)."""
    unknown = set(schema) - _KNOWN
    assert not unknown, f"valid() does not handle {unknown}"
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema["type"]
    if kind == "object":
        required = set(schema.get("required", ()))
        fields = schema.get("properties", {})
        return st.fixed_dictionaries(
            {k: valid(v) for k, v in fields.items() if k in required},
            optional={k: valid(v) for k, v in fields.items() if k not in required})
    if kind == "array":
        return st.lists(valid(schema["items"]), min_size=schema.get("minItems", 0),
                        max_size=schema.get("maxItems", 5))
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if schema.get("format") == "date-time":
        return _times
    if "pattern" in schema:
        return st.from_regex(schema["pattern"])
    return st.text(st.one_of(st.sampled_from(NASTY), st.characters()),
                   min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 60))


def _mutations(value: Any, schema: Schema) -> st.SearchStrategy[Any]:
    """`value` with one part dropped or replaced by any JSON (often no longer valid)."""
    if not isinstance(value, dict) or not value:
        return json_values
    key = st.sampled_from(sorted(value))
    inner = schema.get("properties", {})
    return st.one_of(
        key.map(lambda k: {n: v for n, v in value.items() if n != k}),
        st.tuples(key, json_values).map(lambda kv: {**value, kv[0]: kv[1]}),
        key.flatmap(lambda k: _mutations(value[k], inner.get(k, {})).map(
            lambda v: {**value, k: v})))


def invalid(schemas: list[Schema]) -> st.SearchStrategy[Any]:
    """JSON values that match none of `schemas`: mutated valid ones, or anything at all."""
    validators = [Draft202012Validator(s, format_checker=Draft202012Validator.FORMAT_CHECKER)
                  for s in schemas]
    mutated = st.sampled_from(schemas).flatmap(
        lambda s: valid(s).flatmap(lambda v: _mutations(v, s)))
    return st.one_of(mutated, json_values).filter(
        lambda v: not any(check.is_valid(v) for check in validators))


def body(value: Any) -> bytes:
    """The JSON text of a value; lone surrogates travel as \\u escapes, as JSON allows."""
    return json.dumps(value, ensure_ascii=True).encode()


# -- Zoom webhooks (developers.zoom.us, "Webhooks"; the hub's integrations/conferencing/zoom.py)

ZOOM_MEETING = "85746065432"
_STAMP = {"type": "integer", "minimum": 0, "maximum": 10**13}
#: The hub's room, or a meeting it does not know (accepted and ignored).
_MEETING = {"enum": [ZOOM_MEETING, "11111111111"]}


def _zoom(event: str, meeting: Schema | None = None, **payload: Schema) -> Schema:
    if meeting is not None:
        payload["object"] = meeting
    return {"type": "object", "required": ["event", "payload"], "properties": {
        "event": {"const": event}, "event_ts": _STAMP,
        "payload": {"type": "object", "required": sorted(payload), "properties": {
            "account_id": {"type": "string"}, **payload}}}}


def _zoom_meeting(**fields: Schema) -> Schema:
    return {"type": "object", "required": ["id", *sorted(k for k in fields if k != "topic")],
            "properties": {"id": _MEETING, "uuid": {"type": "string", "minLength": 1},
                           "topic": {"type": "string"}, **fields}}


def _participant(field: str) -> Schema:
    return {"type": "object", "required": [field], "properties": {
        "user_id": {"type": "string"}, "user_name": {"type": "string"},
        "participant_uuid": {"type": "string"}, "email": {"type": "string"},
        "registrant_id": {"type": "string"}, "join_time": {"type": "string",
                                                           "format": "date-time"},
        field: {"type": "string", "format": "date-time"}}}


ZOOM = [
    _zoom("endpoint.url_validation",
          plainToken={"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,64}$"}),
    _zoom("meeting.participant_joined", _zoom_meeting(participant=_participant("join_time"))),
    _zoom("meeting.participant_left", _zoom_meeting(participant=_participant("leave_time"))),
    _zoom("meeting.ended", _zoom_meeting()),
    _zoom("recording.completed", _zoom_meeting(
        share_url={"type": "string", "pattern": r"^https://[a-z0-9-]+(\.[a-z0-9-]+)+/[!-~]{0,80}$"},
        recording_files={"type": "array", "items": {"type": "object", "properties": {
            "recording_start": {"type": "string", "format": "date-time"}}}})),
]

# -- BigBlueButton's analytics callback (post_events_analytics_callback.rb) ----------------

BBB_MEETING = "vmeste-r1-1a2b3c4d"
BBB_ANALYTICS = {"type": "object", "required": ["meeting_id", "internal_meeting_id", "data"],
                 "properties": {
    "meeting_id": {"enum": [BBB_MEETING, "vmeste-other-0000"]},
    "internal_meeting_id": {"type": "string", "minLength": 1},
    "data": {"type": "object", "required": ["attendees"], "properties": {"attendees": {
        "type": "array", "maxItems": 4, "items": {"type": "object", "properties": {
            "ext_user_id": {"type": "string"}, "name": {"type": "string"},
            "joins": {"type": "array", "items": {"type": "string", "format": "date-time"}},
            "leaves": {"type": "array", "items": {"type": "string",
                                                  "format": "date-time"}}}}}}}}}

#: The presence beacon (static/js/presence.js) sends an empty object.
PRESENCE = {"const": {}}
