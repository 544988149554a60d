"""access.may_view (one material) and access.visible() (the SQL condition of lists and search)
agree over every kind of material and viewer. The bank (in_bank=True) also waits for the
event's end; the event's editors see unpublished materials only through may_view (on the
event's page and the material's own page), as access.py documents."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from hub.archive.access import may_manage, may_view, visible
from hub.archive.models import Material, MaterialAuthor, MaterialKind, Visibility
from hub.auth.permissions import can_edit_event
from hub.core.types import utcnow
from hub.directory.models import Network, NetworkMember, Role
from hub.extensions import db
from tests.calendar.conftest import at

VIEWERS = ("anonymous", "creator", "author", "teacher", "partner", "elsewhere", "coordinator",
           "other_coordinator", "municipal", "event_editor")


@pytest.fixture
def world(people, network, other_coordinator, make_org, make_person, make_event):  # type: ignore[no-untyped-def]
    """Materials of the coordinator's organisation (a member of the network) of every kind."""
    home = people.coordinator.organisation
    elsewhere_org = make_org(short_name="Детский сад № 99")
    other_net = Network(name="Мульти-пульти", school_year="2026/2027")
    other_net.members = [NetworkMember(organisation=elsewhere_org, coordinator=make_person(
        Role.ORG_COORDINATOR, elsewhere_org, email="elsewhere-coordinator@example.org"))]
    db.session.add(other_net)
    viewers = {
        "anonymous": None, "teacher": people.teacher, "partner": people.other_teacher,
        "coordinator": people.coordinator, "other_coordinator": other_coordinator,
        "municipal": people.municipal,
        "creator": make_person(Role.TEACHER, home, email="creator@example.org"),
        "author": make_person(Role.TEACHER, people.other_teacher.organisation,
                              email="author@example.org"),
        "elsewhere": make_person(Role.TEACHER, elsewhere_org, email="elsewhere@example.org"),
        "event_editor": make_person(Role.TEACHER, elsewhere_org, email="editor@example.org"),
    }
    ended = make_event(title="Круглый стол", start=at("Europe/Moscow", 2026, 11, 20, 10, 0),
                       organiser=viewers["event_editor"])
    upcoming = make_event(organiser=viewers["event_editor"])
    materials = []
    for visibility, published, event, network_id in itertools.product(
            Visibility, (True, False), (None, ended, upcoming), (None, network.id, other_net.id)):
        material = Material(
            kind=MaterialKind.LINK, title=f"{visibility.name} {published} {network_id}",
            url="https://example.org", event=event, organisation_id=home.id,
            network_id=network_id, year=2026, visibility=visibility, published=published,
            created_by=viewers["creator"])
        if network_id is None and event is None:
            material.authors = [MaterialAuthor(person=viewers["author"])]
        materials.append(material)
    db.session.add_all(materials)
    db.session.commit()
    return viewers, materials


def _ids(user, **kwargs) -> set[int]:  # type: ignore[no-untyped-def]
    return set(db.session.scalars(db.select(Material.id).where(visible(user, **kwargs))))


def _expected(user, material: Material) -> bool:  # type: ignore[no-untyped-def]
    """may_view, but for the event's editors who may see it only by that right: what they
    may see as anyone else (visible() leaves the event's editors out)."""
    if user is None or material.event is None or not can_edit_event(user, material.event):
        return may_view(user, material)
    saved, material.event = material.event, None
    try:
        return may_view(user, material)
    finally:
        material.event = saved


@pytest.mark.parametrize("who", VIEWERS)
def test_may_view_and_visible_agree(app, world, who):
    viewers, materials = world
    user = viewers[who]
    everywhere, bank = _ids(user, in_bank=False), _ids(user, in_bank=True)
    wrong = []
    for material in materials:
        expected = _expected(user, material)
        ended = material.event is None or material.event.end_at <= utcnow()
        label = f"{material.title} event={material.event_id} ended={ended}"
        if (material.id in everywhere) != expected:
            wrong.append(f"{label}: expected {expected}, visible(in_bank=False) "
                         f"{material.id in everywhere}")
        if (material.id in bank) != (expected and ended):
            wrong.append(f"{label}: expected {expected and ended}, visible(in_bank=True) "
                         f"{material.id in bank}")
    assert not wrong, "\n".join(wrong)


def test_event_editors_see_unpublished_materials_only_through_may_view(app, world):
    viewers, materials = world
    editor = viewers["event_editor"]
    hidden = next(m for m in materials if m.event is not None and not m.published)
    assert may_view(editor, hidden) and may_manage(editor, hidden)
    assert hidden.id not in _ids(editor, in_bank=False)


def test_the_expected_answers_for_a_few_cases(app, world):
    viewers, materials = world

    def find(visibility: Visibility, published: bool, network_id_is: str) -> Material:
        return next(m for m in materials if m.visibility == visibility
                    and m.published == published and m.event is None
                    and (m.network_id is None) == (network_id_is == "none"))

    network_only = find(Visibility.NETWORK, True, "none")
    assert may_view(viewers["partner"], network_only)
    assert not may_view(viewers["elsewhere"], network_only)
    assert not may_view(viewers["anonymous"], network_only)
    assert may_view(viewers["anonymous"], find(Visibility.PUBLIC, True, "none"))
    organisation_only = find(Visibility.ORGANISATION, True, "none")
    assert may_view(viewers["teacher"], organisation_only)
    assert not may_view(viewers["partner"], organisation_only)
    hidden = find(Visibility.PUBLIC, False, "none")
    assert not may_view(viewers["anonymous"], hidden) and not may_view(viewers["teacher"], hidden)
    assert all(may_view(viewers[w], hidden) for w in ("creator", "author", "coordinator",
                                                       "municipal"))


def test_the_bank_shows_an_events_materials_once_it_has_ended(app, world, people):
    import time_machine

    viewers, materials = world
    upcoming = next(m for m in materials if m.event is not None and m.published
                    and m.visibility == Visibility.PUBLIC and m.event.end_at > utcnow())
    assert upcoming.id not in _ids(None)
    with time_machine.travel(upcoming.event.end_at + timedelta(minutes=1), tick=False):
        assert upcoming.id in _ids(None)
