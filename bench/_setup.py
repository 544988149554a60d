"""Shared set-up of the calendar benchmarks: an app on a throwaway SQLite database (or
DATABASE_URL=postgresql://… for a PostgreSQL run), an organisation and people."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from statistics import median
from time import perf_counter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402

from config import database_url  # noqa: E402
from hub import create_app  # noqa: E402
from hub.directory.models import Category, Organisation, OrgKind, Person, Role  # noqa: E402
from hub.extensions import db  # noqa: E402


@contextmanager
def bench_app():  # type: ignore[no-untyped-def]
    """An app context on an empty database made for this run (dropped afterwards)."""
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("BENCH_DATABASE_URL")
        uri = database_url(url) if url else f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app: Flask = create_app("testing", SQLALCHEMY_DATABASE_URI=uri,
                                BABEL_DEFAULT_LOCALE="ru")
        with app.app_context():
            db.drop_all()
            db.create_all()
            try:
                yield app
            finally:
                db.session.remove()
                db.drop_all()
                db.engine.dispose()


def organisation(name: str = "МБДОУ «Детский сад № 22 «Яблонька»»",
                 zone: str = "Asia/Yekaterinburg") -> Organisation:
    org = Organisation(full_name=name, short_name="Детский сад № 22", kind=OrgKind.KINDERGARTEN,
                       municipality="г. Лесногорск", timezone=zone)
    db.session.add(org)
    db.session.flush()
    return org


def people(org: Organisation, count: int, prefix: str = "teacher") -> list[Person]:
    rows = [Person(surname="Иванова", first_name="Мария", patronymic="Петровна",
                   email=f"{prefix}{n}@ds22.lesnogorsk.example.org", organisation=org,
                   position="воспитатель", category=Category.FIRST, role=Role.TEACHER)
            for n in range(count)]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def timed(func, repeat: int = 7) -> float:  # type: ignore[no-untyped-def]
    """Median wall time of `func()` in milliseconds (after one warm-up call)."""
    func()
    samples = []
    for _ in range(repeat):
        start = perf_counter()
        func()
        samples.append((perf_counter() - start) * 1000)
    return median(samples)
