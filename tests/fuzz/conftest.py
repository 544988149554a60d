"""Fuzz tests (Hypothesis): the parsers, builders and JSON endpoints fed generated input.

Profiles, chosen with the HYPOTHESIS_PROFILE environment variable:

- ``ci`` (the default): few examples, derandomized (the same examples on every run, so a CI
  failure reproduces), no deadline (the CI machine is shared), no example database. The whole
  folder takes a few seconds per database run.
- ``deep``: many more examples, random each run, the example database kept in
  .hypothesis/ so that a failure found is replayed first next time. For a local hunt:

      HYPOTHESIS_PROFILE=deep .venv/bin/python -m pytest -q tests/fuzz

Every failure found so far is pinned with ``@example`` in its test, whatever the profile.

Hypothesis runs many examples inside one test, while the suite's fixtures (tests/conftest.py)
are per test: `app`, `client` and the people are made once and shared by the examples, so each
example must leave the database as it found it. `new_rows` snapshots the highest id of every
table and deletes whatever an example added; `table_counts` lets a test assert that a refused
request added or removed nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, settings
from sqlalchemy import text

from hub.extensions import db

#: Function-scoped fixtures are shared by the examples on purpose (see the docstring).
_SHARED_FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          database=None, print_blob=True,
                          suppress_health_check=_SHARED_FIXTURES)
settings.register_profile("deep", max_examples=1000, deadline=None,
                          suppress_health_check=_SHARED_FIXTURES)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _snapshot_sql() -> str:
    return " UNION ALL ".join(
        f"SELECT '{table.name}', COALESCE(MAX(id), 0), COUNT(*) FROM {table.name}"
        for table in db.metadata.sorted_tables)


def table_counts() -> dict[str, tuple[int, int]]:
    """(highest id, row count) of every table, in one query."""
    db.session.flush()
    return {name: (int(top), int(count))
            for name, top, count in db.session.execute(text(_snapshot_sql()))}


@contextmanager
def new_rows() -> Iterator[dict[str, tuple[int, int]]]:
    """Delete every row added inside the block (by id, children first), whatever happened."""
    before = table_counts()
    try:
        yield before
    finally:
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete().where(table.c.id > before[table.name][0]))
        db.session.commit()
        db.session.expire_all()
