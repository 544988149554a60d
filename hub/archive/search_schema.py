"""The bank search's index on each database, as DDL that both create_all (tests, benches) and
the migration (migrations/versions/a7c3e9d41b20_bank_search_index.py) run.

- PostgreSQL: `material.search_vector`, a stored generated tsvector over the search columns
  (title weighted A, description B, tag labels C) with the `russian` configuration, and its
  GIN index;
- SQLite: the FTS5 table `material_fts` (rowid = material.id) holding the lexemes that
  hub/archive/search_text.py makes of the same columns, written by hub/archive/search_index.py.

Neither is a model column or table: `include_name` keeps Alembic's autogenerate (and
tests/test_migrations.py) from taking them for objects to drop.
"""

from __future__ import annotations

from sqlalchemy import DDL, Connection, Table, event

VECTOR_COLUMN = "search_vector"
VECTOR_INDEX = "ix_material_search_vector"
FTS_TABLE = "material_fts"

CREATE = {
    "postgresql": (
        f"ALTER TABLE material ADD COLUMN {VECTOR_COLUMN} tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('russian'::regconfig, search_title), 'A') || "
        "setweight(to_tsvector('russian'::regconfig, search_description), 'B') || "
        "setweight(to_tsvector('russian'::regconfig, search_tags), 'C')) STORED",
        f"CREATE INDEX {VECTOR_INDEX} ON material USING gin ({VECTOR_COLUMN})",
    ),
    "sqlite": (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} "
        "USING fts5(title, description, tags, tokenize='ascii')",
    ),
}
DROP = {
    "postgresql": (f"DROP INDEX IF EXISTS {VECTOR_INDEX}",
                   f"ALTER TABLE material DROP COLUMN IF EXISTS {VECTOR_COLUMN}"),
    "sqlite": (f"DROP TABLE IF EXISTS {FTS_TABLE}",),
}


def create(bind: Connection) -> None:
    """Make the index's objects (after the search columns exist)."""
    for statement in CREATE.get(bind.dialect.name, ()):
        bind.exec_driver_sql(statement)


def drop(bind: Connection) -> None:
    """Remove the index's objects."""
    for statement in DROP.get(bind.dialect.name, ()):
        bind.exec_driver_sql(statement)


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """For Alembic's compare: False for the index's objects, which no model declares."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    return name not in (VECTOR_COLUMN, VECTOR_INDEX)


def attach(table: Table) -> None:
    """Have create_all and drop_all make and remove the index with the material table."""
    for dialect, statements in CREATE.items():
        for statement in statements:
            event.listen(table, "after_create", DDL(statement).execute_if(dialect=dialect))
    event.listen(table, "after_drop", DDL(DROP["sqlite"][0]).execute_if(dialect="sqlite"))
