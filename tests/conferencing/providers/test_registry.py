"""The registry: every built-in provider is listed, and one whose library is missing is
listed as unavailable with the reason instead of breaking start-up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.conferencing import base as conf


class _Needy(conf.Provider):
    key = "needy"
    label = "Needy"
    requires_modules = ("no_such_conferencing_library",)

    def create_room(self, spec: conf.RoomSpec, room: conf.Room) -> conf.Room:
        raise AssertionError("never called")

    def join_link(self, room: conf.Room, participant: conf.Participant) -> conf.JoinLink:
        raise AssertionError("never called")


@pytest.fixture
def needy() -> Iterator[type[conf.Provider]]:
    conf.register(_Needy)
    yield _Needy
    conf._registry.pop(_Needy.key)


def test_the_five_built_in_providers_are_registered_in_order():
    assert [s.key for s in conf.statuses()][:5] == list(conf.BUILTIN)


def test_a_provider_without_its_library_is_unavailable_with_the_reason(needy, app):
    status = next(s for s in conf.statuses() if s.key == "needy")
    assert not status.available
    assert status.unavailable_reason == "missing Python package: no_such_conferencing_library"
    from hub.conferencing.accounts import choices

    [choice] = [c for c in choices([]) if c.key == "needy"]
    assert "not installed on this server" in choice.reason


def test_a_dotted_module_whose_parent_is_missing_is_just_unavailable(needy, monkeypatch):
    monkeypatch.setattr(_Needy, "requires_modules", ("no_such_parent.oauth2",))
    assert _Needy.missing_modules() == ["no_such_parent.oauth2"]
