"""Helpers of the bank's tests: materials written directly (the services are tested apart)."""

from __future__ import annotations

from datetime import datetime

import pytest

from hub.archive.models import Material, MaterialKind, MaterialTag, TagKind, Visibility
from hub.directory.models import Organisation, fold_for_search
from hub.extensions import db
from hub.scheduling.models import Event, EventFormat


@pytest.fixture
def make_material(people):  # type: ignore[no-untyped-def]
    """A link material of the coordinator's organisation (public, published, 2026/2027)."""

    def make(title: str = "Методические рекомендации по робототехнике", *,
             organisation: Organisation | None = None, event: Event | None = None,
             visibility: Visibility = Visibility.PUBLIC, published: bool = True,
             created_at: datetime | None = None, year: int = 2026,
             fmt: EventFormat | None = EventFormat.SEMINAR_PRACTICUM,
             topics: tuple[str, ...] = (), ages: tuple[str, ...] = (),
             kind: MaterialKind = MaterialKind.LINK, **values) -> Material:  # type: ignore[no-untyped-def]
        material = Material(
            kind=kind, title=title, description=values.pop("description", "Описание"),
            url=values.pop("url", "https://video.example.org/1"),
            organisation=organisation or people.coordinator.organisation, event=event,
            format=fmt, year=year, visibility=visibility, published=published,
            created_by=values.pop("created_by", people.coordinator), **values)
        if created_at is not None:
            material.created_at = material.updated_at = created_at
        material.tags = [MaterialTag(kind=TagKind.TOPIC, label=t, value=fold_for_search(t))
                         for t in topics] + [
            MaterialTag(kind=TagKind.AGE_GROUP, label=a, value=fold_for_search(a)) for a in ages]
        db.session.add(material)
        db.session.commit()
        return material

    return make
