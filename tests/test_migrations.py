"""The migrations build the same schema as the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from config import database_url
from hub import create_app
from hub.archive import search_schema
from hub.extensions import db
from tests.conftest import PG_URL


@pytest.fixture
def empty_database(tmp_path) -> Iterator[str]:
    """A database of its own, empty: a new SQLite file, or a new PostgreSQL database."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"hub_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url(PG_URL)).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _diff(uri: str) -> list:
    engine = create_engine(uri)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "include_name": search_schema.include_name})
            return compare_metadata(context, db.metadata)
    finally:
        engine.dispose()


def test_upgrade_builds_the_models_schema_and_downgrade_removes_it(empty_database):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database)
    with app.app_context():
        upgrade()
        assert _diff(empty_database) == []
        downgrade(revision="base")
        engine = create_engine(empty_database)
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
        engine.dispose()
        assert tables == set()
        db.engine.dispose()
