"""The municipal report for a whole school year: every organisation's figures at once
(hub/reports/figures.py), on SQLite and on PostgreSQL.

What it does, for each database:

1. makes a fresh database (a temporary SQLite file; the PostgreSQL database `report_bench` on
   127.0.0.1:5432, created and dropped; skipped, saying so, when PostgreSQL does not answer)
   with create_all from the app's models, and fills it with bulk inserts (executemany): 25
   organisations (Moscow and Yekaterinburg) and the education office, 500 teachers and 25
   coordinators, 200 events of the 2026/2027 school year (10 of them the sessions of an
   internship program with 10 interns, 3 completions) hosted by one or two organisations,
   and per event 170 records of 450 of the teachers (the other 50 take part in nothing):
   150 with evidence and 20 without (absent), 40,000 AttendanceInterval rows in all (100
   records with one interval and 50 with two, per event);
2. derives every record as the hub does, with the real hub.attendance.services.recompute_event
   per event after the year (timed apart: it is not part of the report);
3. times figures(period) for ALL organisations for the whole year: the first run on a fresh
   connection (cold), then 5 runs; reported: cold, best and median (the last line's seconds is
   the median);
4. checks the figures against plain counts of the same rows (hours, credited records,
   events, participants) and prints the totals and a few organisations.

Target: under 1 second on each database on a 2-core machine. The last lines are exactly

    report db=sqlite intervals=40000 seconds=…
    report db=postgresql intervals=40000 seconds=…

(`seconds=skipped` when PostgreSQL is unreachable). Run:

    .venv/bin/python bench/report.py
"""

from __future__ import annotations

import random
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import median
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from sqlalchemy.orm import selectinload  # noqa: E402

from config import database_url  # noqa: E402
from hub import create_app  # noqa: E402
from hub.attendance import credit, services  # noqa: E402
from hub.attendance.models import Attendance, AttendanceInterval, Source  # noqa: E402
from hub.directory.models import Category, Organisation, OrgKind, Person, Role  # noqa: E402
from hub.extensions import db  # noqa: E402
from hub.growth.models import InternshipCompletion  # noqa: E402
from hub.reports.figures import figures  # noqa: E402
from hub.reports.models import ReportPeriod  # noqa: E402
from hub.scheduling.models import (  # noqa: E402
    Event,
    EventFormat,
    EventHost,
    EventRole,
    EventStatus,
    Level,
    Series,
    SeriesPerson,
)

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "report_bench"
ORGANISATIONS, TEACHERS, EVENTS, SESSIONS, INTERNS = 25, 500, 200, 10, 10
RECORDS_PER_EVENT, WITH_EVIDENCE, TWO_INTERVALS = 170, 150, 50
#: Teachers who take part in anything (the other 10% never do).
PARTICIPATING = 450
INTERVALS = EVENTS * (WITH_EVIDENCE + TWO_INTERVALS)
#: The year is over: every event held, every session counted.
AFTER = datetime(2027, 9, 1, 9, 0, tzinfo=UTC)
RUNS = 5


# -- filling -----------------------------------------------------------------------------------

def _insert(model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        db.session.execute(insert(model), rows)


def _organisations() -> list[tuple[int, str]]:
    rows = [{"id": 1, "full_name": "Управление образования", "short_name": "УО",
             "kind": OrgKind.EDUCATION_OFFICE, "municipality": "г. Лесногорск",
             "timezone": "Europe/Moscow", "sort_key": "уо"}]
    for n in range(1, ORGANISATIONS + 1):
        zone = "Asia/Yekaterinburg" if n % 5 == 0 else "Europe/Moscow"
        rows.append({"id": n + 1, "full_name": f"МБДОУ «Детский сад № {n}»",
                     "short_name": f"Детский сад № {n}", "kind": OrgKind.KINDERGARTEN,
                     "municipality": "г. Лесногорск", "timezone": zone,
                     "sort_key": f"детский сад № {n:08d}"})
    _insert(Organisation, rows)
    return [(r["id"], r["timezone"]) for r in rows[1:]]


def _people(orgs: list[tuple[int, str]]) -> list[int]:
    rows, teachers = [], []
    for n in range(TEACHERS):
        org_id = orgs[n % len(orgs)][0]
        rows.append({"id": n + 1, "surname": "Иванова", "first_name": "Мария",
                     "patronymic": "Петровна", "email": f"t{n}@ds.example.org",
                     "organisation_id": org_id, "position": "воспитатель",
                     "category": Category.FIRST, "role": Role.TEACHER})
        teachers.append(n + 1)
    for i, (org_id, _zone) in enumerate(orgs):
        rows.append({"id": TEACHERS + i + 1, "surname": "Кузнецова", "first_name": "Анна",
                     "patronymic": "", "email": f"c{i}@ds.example.org",
                     "organisation_id": org_id, "position": "старший воспитатель",
                     "category": Category.HIGHEST, "role": Role.ORG_COORDINATOR})
    _insert(Person, rows)
    return teachers


def _events(rng: random.Random, orgs: list[tuple[int, str]]) -> list[dict[str, Any]]:
    formats = [f for f in EventFormat if f != EventFormat.INTERNSHIP_SESSION]
    days = [date(2026, 9, 1) + timedelta(days=d) for d in range(272)]
    days = [d for d in days if d.weekday() < 5]
    _insert(Series, [{"id": 1, "title": "Цифровая интернатура", "rrule": "FREQ=WEEKLY;COUNT=10",
                      "timezone": "Europe/Moscow", "duration_minutes": 60, "is_program": True,
                      "first_start": datetime(2026, 10, 6, 12, 0, tzinfo=UTC)}])
    rows, hosts = [], []
    for n in range(EVENTS):
        session = n < SESSIONS
        org_id, zone = orgs[n % len(orgs)]
        day = date(2026, 10, 6) + timedelta(weeks=n) if session else rng.choice(days)
        local = datetime(day.year, day.month, day.day, rng.choice((10, 13, 15)), 0,
                         tzinfo=ZoneInfo(zone))
        minutes = 60 if session else rng.choice((60, 90, 120))
        start = local.astimezone(UTC)
        rows.append({"id": n + 1, "title": f"Семинар-практикум № {n + 1}",
                     "format": EventFormat.INTERNSHIP_SESSION if session else rng.choice(formats),
                     "level": rng.choice((Level.ORGANISATION, Level.MUNICIPAL, Level.MUNICIPAL,
                                          Level.REGIONAL)),
                     "start_at": start, "end_at": start + timedelta(minutes=minutes),
                     "timezone": zone, "status": EventStatus.COMPLETED,
                     "credit_hours": 2.0 if n % 7 == 0 else None,
                     "series_id": 1 if session else None})
        hosts.append({"event_id": n + 1, "organisation_id": org_id})
        if n % 3 == 0:
            partner = orgs[(n * 7 + 3) % len(orgs)][0]
            if partner != org_id:
                hosts.append({"event_id": n + 1, "organisation_id": partner})
    _insert(Event, rows)
    _insert(EventHost, hosts)
    return rows


def _internship(teachers: list[int]) -> list[int]:
    interns = teachers[:INTERNS]
    mentor = teachers[-1]
    _insert(SeriesPerson, [{"series_id": 1, "person_id": mentor, "role": EventRole.MENTOR}] + [
        {"series_id": 1, "person_id": p, "role": EventRole.INTERN, "mentor_id": mentor}
        for p in interns])
    _insert(InternshipCompletion, [{"series_id": 1, "intern_id": p, "mentor_id": mentor,
                                    "attended_percent": 90} for p in interns[:3]])
    return interns


def _records(rng: random.Random, events: list[dict[str, Any]], teachers: list[int],
             interns: list[int]) -> None:
    """Records and intervals: per event 100 with one interval (most of the event, or a part),
    50 with two (a rejoin), 20 without any."""
    records, intervals = [], []
    record_id = 0
    takers = teachers[:PARTICIPATING]
    for event in events:
        others = [t for t in takers if t not in interns] if event["series_id"] else takers
        chosen = (interns + rng.sample(others, RECORDS_PER_EVENT - len(interns))
                  if event["series_id"] else rng.sample(takers, RECORDS_PER_EVENT))
        start, end = event["start_at"], event["end_at"]
        length = end - start
        for i, person_id in enumerate(chosen):
            record_id += 1
            records.append({"id": record_id, "event_id": event["id"], "person_id": person_id})
            if i >= WITH_EVIDENCE:
                continue
            if i < TWO_INTERVALS:
                gap = timedelta(minutes=rng.choice((2, 5, 30)))
                middle = start + length / 2
                spans = [(start, middle), (middle + gap, end)]
            elif rng.random() < 0.8:
                spans = [(start + timedelta(minutes=rng.randint(0, 12)), end)]
            else:
                spans = [(start, start + length * rng.uniform(0.2, 0.7))]
            intervals += [{"attendance_id": record_id, "source": Source.PROVIDER,
                           "started_at": a, "ended_at": b} for a, b in spans]
    _insert(Attendance, records)
    for chunk in range(0, len(intervals), 10_000):
        _insert(AttendanceInterval, intervals[chunk:chunk + 10_000])
    assert len(intervals) == INTERVALS, len(intervals)


def fill() -> None:
    """The whole year's data, committed."""
    rng = random.Random(2026)
    orgs = _organisations()
    teachers = _people(orgs)
    events = _events(rng, orgs)
    interns = _internship(teachers)
    _records(rng, events, teachers, interns)
    _insert(ReportPeriod, [{"id": 1, "title": "2026/2027 учебный год",
                            "starts_on": date(2026, 9, 1), "ends_on": date(2027, 8, 31),
                            "deadline": date(2027, 9, 10)}])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:  # ids were given: move the sequences past them
            for table in ("organisation", "person", "event", "series", "attendance"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
            conn.execute(text("ANALYZE"))


def recompute_all() -> float:
    """Every record derived by the hub's own recompute_event; returns the seconds taken."""
    rules = credit.rules()
    started = perf_counter()
    for event_id in range(1, EVENTS + 1):
        event = db.session.get(Event, event_id)
        db.session.scalars(select(Attendance).where(Attendance.event_id == event_id)
                           .options(selectinload(Attendance.intervals))).all()
        services.recompute_event(event, rule=rules[event.format], now=AFTER)
        if event_id % 20 == 0:
            db.session.commit()
            db.session.expunge_all()
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE attendance"))
    return perf_counter() - started


# -- measuring ---------------------------------------------------------------------------------

def measure() -> tuple[float, float, float, dict[int, dict[str, Any]]]:
    """(cold, best, median) seconds of figures() for every organisation, and the figures."""
    db.session.remove()
    db.engine.dispose()
    period = db.session.get(ReportPeriod, 1)
    started = perf_counter()
    result = figures(period, now=AFTER)
    cold = perf_counter() - started
    samples = []
    for _ in range(RUNS):
        db.session.expire_all()
        started = perf_counter()
        result = figures(period, now=AFTER)
        samples.append(perf_counter() - started)
    return cold, min(samples), median(samples), result


def check(result: dict[int, dict[str, Any]]) -> list[str]:
    """The figures against plain counts of the same rows (every event is in the year)."""
    problems = []

    def expect(name: str, got: float, want: float, tolerance: float = 0.0) -> None:
        if abs(got - want) > tolerance:
            problems.append(f"{name}: figures give {got}, the rows {want}")

    total = db.session.scalar(select(func.sum(Attendance.hours))) or 0.0
    expect("hours", sum(r["hours"] for r in result.values()), total, 0.01 * len(result))
    expect("credited records", sum(r["credited_records"] for r in result.values()),
           db.session.scalar(select(func.count()).where(Attendance.credited.is_(True))))
    expect("events", sum(r["events"] for r in result.values()),
           db.session.scalar(select(func.count(EventHost.id))))
    expect("teachers credited", sum(r["teachers_credited"] for r in result.values()),
           db.session.scalar(select(func.count(func.distinct(Attendance.person_id)))
                             .where(Attendance.credited.is_(True))))
    expect("interns", sum(r["interns"] for r in result.values()), INTERNS)
    return problems


def run(name: str, uri: str) -> float:
    """Fill, derive, measure and check one database; returns the median seconds."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=uri)
    with app.app_context():
        db.create_all()
        started = perf_counter()
        fill()
        print(f"[{name}] filled in {perf_counter() - started:.1f} s: {ORGANISATIONS} "
              f"organisations, {TEACHERS} teachers, {EVENTS} events, "
              f"{db.session.scalar(select(func.count(Attendance.id)))} records, "
              f"{db.session.scalar(select(func.count(AttendanceInterval.id)))} intervals")
        print(f"[{name}] recompute_event for every event: {recompute_all():.1f} s")
        cold, best, middle, result = measure()
        problems = check(result)
        _print_figures(name, result)
        print(f"[{name}] figures() for all {len(result)} organisations: cold {cold:.3f} s, "
              f"best {best:.3f} s, median of {RUNS} {middle:.3f} s")
        print(f"[{name}] consistency: " + ("; ".join(problems) if problems else "ok (hours, "
              "credited records, events, teachers credited and interns match the rows)"))
        db.session.remove()
        db.engine.dispose()
    if problems:
        raise SystemExit(f"[{name}] the figures disagree with the rows")
    return middle


def _print_figures(name: str, result: dict[int, dict[str, Any]]) -> None:
    rows = list(result.values())
    share = [r["teacher_share_percent"] for r in rows if r["teacher_share_percent"] is not None]
    print(f"[{name}] totals: events (per host) {sum(r['events'] for r in rows)}, participants "
          f"{sum(r['participants'] for r in rows)}, teachers credited "
          f"{sum(r['teachers_credited'] for r in rows)}, credited records "
          f"{sum(r['credited_records'] for r in rows)}, hours "
          f"{round(sum(r['hours'] for r in rows), 2)}, share of teachers (mean) "
          f"{sum(share) / len(share):.1f} %, interns {sum(r['interns'] for r in rows)} "
          f"(completed {sum(r['interns_completed'] for r in rows)})")
    for org_id in sorted(result)[:3]:
        r = result[org_id]
        print(f"[{name}]   organisation {org_id}: events {r['events']} {r['events_by_level']}, "
              f"participants {r['participants']}, teachers credited {r['teachers_credited']}, "
              f"hours {r['hours']}, share {r['teacher_share_percent']} %, interns "
              f"{r['interns']} ({r['intern_attendance_percent']} %)")


def _postgres() -> str | None:
    """The bench database's URL after making it afresh; None when PostgreSQL does not answer."""
    try:
        admin = create_engine(database_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {PG_BENCH_DB}"))
            conn.execute(text(f"CREATE DATABASE {PG_BENCH_DB}"))
        admin.dispose()
    except OperationalError as error:
        print(f"[postgresql] skipped: PostgreSQL at 127.0.0.1:5432 does not answer "
              f"({str(error).splitlines()[0]})")
        return None
    return database_url(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_BENCH_DB)


def _drop_postgres() -> None:
    admin = create_engine(database_url(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {PG_BENCH_DB}"))
    admin.dispose()


def main() -> None:
    results: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as folder:
        seconds = run("sqlite", f"sqlite:///{Path(folder) / 'report.sqlite3'}")
        results["sqlite"] = f"{seconds:.3f}"
    uri = _postgres()
    if uri is None:
        results["postgresql"] = "skipped"
    else:
        try:
            results["postgresql"] = f"{run('postgresql', uri):.3f}"
        finally:
            _drop_postgres()
    for name, seconds in results.items():
        print(f"report db={name} intervals={INTERVALS} seconds={seconds}")


if __name__ == "__main__":
    main()
