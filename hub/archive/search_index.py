"""Keeps the bank search's index up to date, by itself: whenever a session flushes a material
or a tag, the material's search columns are recomputed (PostgreSQL's generated tsvector follows
them) and, on SQLite, its row of `material_fts` is rewritten (or removed with the material).

Nothing to call from the services. Only SQL that bypasses the ORM (bulk insert()/update()
statements over materials or tags) must be followed by `reindex_all(connection)`.
"""

from __future__ import annotations

from sqlalchemy import Connection, event, inspect, select, text
from sqlalchemy.orm import Session, UOWTransaction

from hub.archive.models import Material, MaterialTag
from hub.archive.search_schema import FTS_TABLE
from hub.archive.search_text import document, lexemes

_TOUCHED = "archive.search_touched"
_SEARCHED = ("title", "description", "tags")


def _tags_of(session: Session, material: Material) -> list[MaterialTag]:
    tags = [t for t in material.tags if t not in session.deleted]
    return tags + [t for t in session.new if isinstance(t, MaterialTag) and t not in tags
                   and t.material_id is not None and t.material_id == material.id]


def _touched(session: Session) -> set[Material]:
    touched = {m for m in session.new if isinstance(m, Material)}
    for material in session.dirty:
        if isinstance(material, Material) and any(
                inspect(material).attrs[name].history.has_changes() for name in _SEARCHED):
            touched.add(material)
    for tag in (*session.new, *session.dirty, *session.deleted):
        if isinstance(tag, MaterialTag):
            material = tag.material or (session.get(Material, tag.material_id)
                                        if tag.material_id is not None else None)
            if material is not None and material not in session.deleted:
                touched.add(material)
    return touched


@event.listens_for(Session, "before_flush")
def _fill_columns(session: Session, context: UOWTransaction, instances: object) -> None:
    touched = _touched(session)
    for material in touched:
        material.search_title = document(material.title or "")
        material.search_description = document(material.description or "")
        material.search_tags = document(*(t.label for t in _tags_of(session, material)))
    session.info[_TOUCHED] = touched


@event.listens_for(Session, "after_flush")
def _write_fts(session: Session, context: UOWTransaction) -> None:
    touched = session.info.pop(_TOUCHED, set())
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    gone = [m.id for m in session.deleted if isinstance(m, Material)]
    rows = [_fts_row(m.id, m.search_title, m.search_description, m.search_tags)
            for m in touched if m not in session.deleted]
    _replace(connection, [r["id"] for r in rows] + gone, rows)


def _fts_row(material_id: int, title: str, description: str, tags: str) -> dict:
    return {"id": material_id, "title": " ".join(lexemes(title.split())),
            "description": " ".join(lexemes(description.split())),
            "tags": " ".join(lexemes(tags.split()))}


def _replace(connection: Connection, remove: list[int], rows: list[dict]) -> None:
    if remove:
        connection.execute(text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"),
                           [{"id": i} for i in remove])
    if rows:
        connection.execute(text(f"INSERT INTO {FTS_TABLE} (rowid, title, description, tags) "
                                "VALUES (:id, :title, :description, :tags)"), rows)


def reindex_all(connection: Connection, batch: int = 2000) -> int:
    """Recompute every material's search columns and (SQLite) its FTS row; returns the count."""
    labels: dict[int, list[str]] = {}
    for material_id, label in connection.execute(
            select(MaterialTag.material_id, MaterialTag.label).order_by(MaterialTag.id)):
        labels.setdefault(material_id, []).append(label)
    if connection.dialect.name == "sqlite":
        connection.execute(text(f"DELETE FROM {FTS_TABLE}"))
    rows = connection.execute(select(Material.id, Material.title, Material.description)
                              .order_by(Material.id)).all()
    for start in range(0, len(rows), batch):
        values = [{"id": i, "t": document(title), "d": document(description or ""),
                   "g": document(*labels.get(i, []))} for i, title, description
                  in rows[start:start + batch]]
        connection.execute(text("UPDATE material SET search_title = :t, search_description = :d,"
                                " search_tags = :g WHERE id = :id"), values)
        if connection.dialect.name == "sqlite":
            _replace(connection, [], [_fts_row(v["id"], v["t"], v["d"], v["g"]) for v in values])
    return len(rows)
