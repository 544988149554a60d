"""The bank's search: words in any form (a search for «игра» finds «игры», «игровые»: each query
word's stem matches as a prefix, and every word must match), filters by format, topic, age group,
organisation, network and school year, ranked and highlighted, over what the viewer may find
(access.visible).

PostgreSQL matches a tsquery of its `russian` configuration against `material.search_vector`
and ranks with ts_rank_cd; SQLite matches the same lexemes in the FTS5 table `material_fts` and
ranks with bm25 (hub/archive/search_schema.py, search_text.py). Both find the same materials
(tests/archive/test_search.py runs on each); titles and snippets are highlighted here, in
Python, the same way on both. A blank query lists the filtered materials, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import (
    ColumnElement,
    and_,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import selectinload

from hub.archive.access import visible
from hub.archive.models import Material, MaterialAuthor, MaterialTag, TagKind
from hub.archive.search_schema import FTS_TABLE, VECTOR_COLUMN
from hub.archive.search_text import highlight, lexeme, lexemes, snippet, words
from hub.directory.models import NetworkMember, Person, fold_for_search
from hub.extensions import db
from hub.scheduling.models import EventFormat

#: The longest query taken, in characters.
QUERY_MAX = 200
#: ts_rank_cd's weights of D, C (tags), B (description), A (title): as bm25's 10 : 5 : 2 below.
PG_WEIGHTS = "'{0.1, 0.2, 0.5, 1.0}'::float4[]"
FTS_WEIGHTS = (10.0, 5.0, 2.0)


class QueryError(ValueError):
    """A query that cannot be searched; the message tells the person what to change."""


@dataclass(frozen=True)
class Hit:
    """One material found, its rank (higher is better) and its highlighted title and snippet."""

    material: Material
    rank: float
    title_html: Markup
    snippet_html: Markup


@dataclass(frozen=True)
class SearchPage:
    """One page of results, the number of all the results, and the query as searched."""

    items: list[Hit]
    total: int
    query: str


def clean_query(text: str) -> str:
    """The query's folded words separated by spaces ("" for a blank query); QueryError for a
    query too long or without a word to search for."""
    text = (text or "").strip()
    if len(text) > QUERY_MAX:
        raise QueryError(_("The search is too long: shorten it to %(max)d characters or fewer.",
                           max=QUERY_MAX))
    found = words(text)
    if text and not lexemes(found):
        raise QueryError(_("Type a word to search for: punctuation and short words such as "
                           "«и», «в», «на» find nothing on their own."))
    return " ".join(found)


def search(text: str, *, viewer: Person | None, fmt: EventFormat | None = None,
           topic: str | None = None, age_group: str | None = None,
           organisation_id: int | None = None, network_id: int | None = None,
           year: int | None = None, limit: int = 20, offset: int = 0) -> SearchPage:
    """A page of the materials `viewer` may find that match `text` and the filters, best first
    (newest first for a blank `text`)."""
    query = clean_query(text)
    wanted = set(lexemes(query.split()))
    where = [visible(viewer), *_filters(fmt, topic, age_group, organisation_id, network_id,
                                        year)]
    rows = select(Material)
    count = select(func.count(Material.id))
    rank: ColumnElement[Any] = literal(0.0)
    if query and db.engine.dialect.name == "postgresql":
        tsquery = func.to_tsquery(literal_column("'russian'::regconfig"), " & ".join(
            f"{w}:*" for w in query.split() if lexeme(w) is not None))
        vector = literal_column(f"material.{VECTOR_COLUMN}", TSVECTOR)
        where.append(vector.op("@@")(tsquery))
        rank = func.ts_rank_cd(literal_column(PG_WEIGHTS), vector, tsquery)
    elif query:
        fts = table(FTS_TABLE, column("rowid"))
        rows = rows.join_from(Material, fts, fts.c.rowid == Material.id)
        count = count.join_from(Material, fts, fts.c.rowid == Material.id)
        where.append(literal_column(FTS_TABLE).op("MATCH")(
            " ".join(f'"{x}"*' for x in sorted(wanted))))
        rank = -func.bm25(literal_column(FTS_TABLE), *FTS_WEIGHTS)
    order = [Material.created_at.desc(), Material.id.desc()]
    statement = (rows.add_columns(rank.label("rank")).where(*where)
                 .order_by(*([rank.desc()] if query else []), *order)
                 .limit(max(1, limit)).offset(max(0, offset))
                 .options(selectinload(Material.tags), selectinload(Material.organisation),
                          selectinload(Material.event),
                          selectinload(Material.authors).selectinload(MaterialAuthor.person)))
    items = [Hit(material, float(score or 0.0), highlight(material.title, wanted),
                 snippet(material.description or "", wanted))
             for material, score in db.session.execute(statement)]
    total = db.session.scalar(count.where(*where)) or 0
    return SearchPage(items, total, query)


def _filters(fmt: EventFormat | None, topic: str | None, age_group: str | None,
             organisation_id: int | None, network_id: int | None,
             year: int | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if fmt is not None:
        where.append(Material.format == fmt)
    for kind, label in ((TagKind.TOPIC, topic), (TagKind.AGE_GROUP, age_group)):
        if label and label.strip():
            where.append(select(MaterialTag.id).where(
                MaterialTag.material_id == Material.id, MaterialTag.kind == kind,
                MaterialTag.value == fold_for_search(label).replace("\x00", "")).exists())
    if organisation_id is not None:
        where.append(Material.organisation_id == organisation_id)
    if network_id is not None:
        members = select(NetworkMember.organisation_id).where(
            NetworkMember.network_id == network_id)
        where.append(or_(Material.network_id == network_id,
                         and_(Material.network_id.is_(None),
                              Material.organisation_id.in_(members))))
    if year is not None:
        where.append(Material.year == year)
    return where
