"""`flask demo`'s methodical bank: about 200 materials with Russian titles over the term's events
and standing alone, last year's among them, files kept in the store like real uploads."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from hub.archive.models import Material, MaterialKind, TagKind, Visibility
from hub.archive.storage import storage
from hub.extensions import db


def test_the_demo_has_about_200_materials(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    materials = db.session.scalars(select(Material)).all()
    assert 180 <= len(materials) <= 230
    kinds = Counter(m.kind for m in materials)
    assert kinds[MaterialKind.FILE] >= 5 and kinds[MaterialKind.LINK] >= 100
    assert kinds[MaterialKind.BOARD_EXPORT] >= 1 and kinds[MaterialKind.RECORDING] >= 1
    assert {m.year for m in materials} == {2025, 2026}
    assert len({m.visibility for m in materials}) == len(Visibility)
    assert sum(m.event_id is not None for m in materials) > 100
    assert all(any("а" <= c <= "я" for c in m.title.lower()) for m in materials)
    tags = Counter(t.kind for m in materials for t in m.tags)
    assert tags[TagKind.TOPIC] >= len(materials) and tags[TagKind.AGE_GROUP] >= len(materials) - 10
    slides = [m for m in materials if m.title.startswith("Слайды мастер-класса «Мультипликация")]
    assert any(m.year == 2025 and m.created_at.year == 2025 and m.published
               and m.visibility == Visibility.PUBLIC and m.event_id is None for m in slides)
    files = [m for m in materials if m.kind in (MaterialKind.FILE, MaterialKind.BOARD_EXPORT)]
    assert all(m.content_type == "application/pdf" and m.size > 0 for m in files)
    assert all(storage().exists(m.storage_key) for m in files)
    assert all("example.org" in m.url for m in materials if m.kind == MaterialKind.RECORDING)
