"""A burst of join-link clicks against the running server, compared in the same run with a bare
route that does one INSERT.

What it does, in one run:

1. makes its own database (a PostgreSQL database `join_bench` on 127.0.0.1:5432, dropped
   afterwards; `--db sqlite`: a temporary SQLite file) with the app's tables, an event that
   started a few minutes ago (its join links open), its Jitsi room (no outside request),
   `--clicks` people (default 500) each invited with a personal link, and the baseline's table;
2. serves the hub with gunicorn as production does (HUB_CONFIG=production, `-k gevent -w 1`;
   `--mode threading`: `-k gthread`), and next to it bench/join_baseline.py (a bare Flask route:
   one INSERT, then a redirect) under the same gunicorn command on the same database, both
   running for the whole run;
3. `--clients` threads (default 50) click: every link once, each click from a new browser (its
   own cookies), and `--repeats` of them (default 100) a second time from the same browser
   (the cookie the first click set), as a person who taps the link again. Redirects are not
   followed: the latency is that of /j/<token> up to its redirect to the provider. The same
   clicks then go to the baseline (`/click/<token>`, each once);
   The baseline gets the same clicks (`/click/<token>`, each once from a new client) just
   before and just after the app's burst: its figures are of both (so 2 × `--clicks`);
4. counts the join intervals in the database.

`recorded` is the number of invitations with a recorded join; `duplicates` the join intervals
beyond one per invitation and browser (every link is clicked from one browser, so any second
interval of an invitation is a duplicate: a repeat click counted twice); `flagged` (printed
before) the records marked as a link used from two places at once, which must stay 0. The
latencies are of the first clicks (p50 and p99, in ms); ratio = the app's p99 / the baseline's.

The last line is `join clicks=N recorded=… duplicates=… p50_ms=… p99_ms=… baseline_p99_ms=…
ratio=…`.

    .venv/bin/python bench/join.py                 (PostgreSQL, gevent, 500 clicks, 50 clients)
    .venv/bin/python bench/join.py --db sqlite --mode threading
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from _servers import (
    bench_database,
    free_port,
    gunicorn,
    percentile,
    postgres_reachable,
    served,
)

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
PG_BENCH_DB = "join_bench"
USER_AGENT = "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Chrome/120 Mobile (join bench)"


def prepare(url: str, secret: str, count: int) -> tuple[int, list[str]]:
    """The app's tables, the baseline's table, an event in its join window with its room,
    `count` invited people; returns the event's id and their tokens."""
    sys.path[:0] = [str(ROOT), str(BENCH)]
    os.environ["DATABASE_URL"] = url
    import join_baseline

    from config import database_url
    from hub import create_app
    from hub.calendar.invitations import invitation_token, new_invitation
    from hub.conferencing import rooms
    from hub.core.types import utcnow
    from hub.directory.models import Category, Organisation, OrgKind, Person, Role
    from hub.extensions import db
    from hub.scheduling.models import Event, EventFormat, EventStatus

    join_baseline.metadata.create_all(join_baseline.engine)
    join_baseline.engine.dispose()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url(url), SECRET_KEY=secret)
    with app.app_context():
        db.create_all()
        org = Organisation(full_name="МБДОУ «Детский сад № 22 «Яблонька»»",
                           short_name="Детский сад № 22", kind=OrgKind.KINDERGARTEN,
                           municipality="г. Лесногорск", timezone="Asia/Yekaterinburg")
        people = [Person(surname="Иванова", first_name="Мария", patronymic=f"{n}",
                         email=f"teacher{n}@ds22.lesnogorsk.example.org", organisation=org,
                         position="воспитатель", category=Category.FIRST, role=Role.TEACHER)
                  for n in range(count)]
        start = utcnow() - timedelta(minutes=5)
        event = Event(title="Семинар-практикум «Образовательная робототехника в ДОУ»",
                      format=EventFormat.SEMINAR_PRACTICUM, description_html="",
                      start_at=start, end_at=start + timedelta(hours=2),
                      timezone="Asia/Yekaterinburg", status=EventStatus.SCHEDULED)
        db.session.add_all([org, *people, event])
        db.session.flush()
        invitations = [new_invitation(event, person) for person in people]
        rooms.reconcile(event)  # Jitsi: made at once, no outside request
        db.session.commit()
        tokens = [invitation_token(invitation) for invitation in invitations]
        event_id = event.id
        db.session.remove()
        db.engine.dispose()
    return event_id, tokens


def count_joins(url: str, event_id: int) -> tuple[int, int, int, int]:
    """(join intervals, invitations with a join, records flagged as shared, baseline rows)."""
    from sqlalchemy import create_engine, text

    from config import database_url

    engine = create_engine(database_url(url))
    with engine.connect() as conn:
        intervals, recorded, flagged = conn.execute(text(
            "SELECT count(i.id), count(DISTINCT a.id), "
            "count(DISTINCT CASE WHEN a.shared_link THEN a.id END) "
            "FROM attendance a JOIN attendance_interval i ON i.attendance_id = a.id "
            "WHERE a.event_id = :event AND i.source = 1"), {"event": event_id}).one()
        baseline = conn.execute(text("SELECT count(*) FROM join_baseline_click")).scalar_one()
    engine.dispose()
    return intervals, recorded, flagged, baseline


# -- clicking --------------------------------------------------------------------------------

@dataclass
class Burst:
    """What one burst of clicks measured."""

    latencies: list[float] = field(default_factory=list)
    repeat_latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def merge(self, other: Burst) -> None:
        """Add another burst's figures to these."""
        self.latencies += other.latencies
        self.repeat_latencies += other.repeat_latencies
        self.statuses.update(other.statuses)
        self.failures += other.failures
        self.seconds += other.seconds


def session_cookie(response: httpx.Response) -> str | None:
    """The `session=…` pair the response set. Sent back by hand: production marks cookies
    Secure, which a client over plain http would otherwise keep to itself."""
    for header in response.headers.get_list("set-cookie"):
        pair = header.split(";", 1)[0]
        if pair.startswith("session="):
            return pair
    return None


def burst(base: str, paths: list[str], clients: int, repeats: int) -> Burst:
    """`clients` threads click every path once, each from a new browser; the first `repeats`
    paths are clicked again with the cookie their first click set."""
    result = Burst()
    work: queue.Queue[tuple[int, str]] = queue.Queue()
    for number, path in enumerate(paths):
        work.put((number, path))
    lock = threading.Lock()

    def one(client: httpx.Client, path: str, cookie: str | None) -> tuple[float, httpx.Response]:
        headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
        started = time.perf_counter()
        response = client.get(base + path, headers=headers)
        return (time.perf_counter() - started) * 1000, response

    def worker() -> None:
        with httpx.Client(follow_redirects=False, timeout=60) as client:
            while True:
                try:
                    number, path = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    client.cookies.clear()
                    took, response = one(client, path, None)
                    again = None
                    if number < repeats:
                        again = one(client, path, session_cookie(response))
                except httpx.HTTPError as error:
                    with lock:
                        result.failures.append(f"{path[:12]}…: {error!r}")
                    continue
                with lock:
                    result.latencies.append(took)
                    result.statuses[response.status_code] += 1
                    if again is not None:
                        result.repeat_latencies.append(again[0])
                        result.statuses[again[1].status_code] += 1

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


def describe(name: str, result: Burst) -> None:
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(result.statuses.items()))
    print(f"join: {name}: {len(result.latencies)} clicks in {result.seconds:.2f} s "
          f"({len(result.latencies) / max(result.seconds, 1e-9):.0f}/s); "
          f"p50 {percentile(result.latencies, 50):.1f} ms, "
          f"p99 {percentile(result.latencies, 99):.1f} ms, "
          f"max {max(result.latencies, default=0):.1f} ms; answers {statuses}")
    if result.repeat_latencies:
        print(f"join: {name}: {len(result.repeat_latencies)} repeat clicks, p50 "
              f"{percentile(result.repeat_latencies, 50):.1f} ms, "
              f"p99 {percentile(result.repeat_latencies, 99):.1f} ms")
    for failure in result.failures[:10]:
        print(f"join: {name}: request failed: {failure}")


# -- the run ---------------------------------------------------------------------------------

def app_env(url: str, secret: str, mode: str) -> dict[str, str]:
    """Production settings on the bench database, no outbox worker in the server."""
    env = dict(os.environ)
    for name in ("SOCKETIO_MESSAGE_QUEUE", "HUB_TEST_DATABASE_URL"):
        env.pop(name, None)
    env.update(HUB_CONFIG="production", SECRET_KEY=secret, DATABASE_URL=url,
               SOCKETIO_ASYNC_MODE=mode, OUTBOX_WORKER_IN_PROCESS="0",
               RATELIMIT_STORAGE_URI="memory://", PYTHONUNBUFFERED="1")
    return env


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=500)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=100,
                        help="links clicked a second time from the same browser")
    parser.add_argument("--mode", choices=("gevent", "threading"), default="gevent")
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres",
                        help=f"postgres: a database {PG_BENCH_DB} on 127.0.0.1:5432 (SQLite "
                        "when unreachable); sqlite: a temporary file")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # create_app logs at INFO
    if args.db == "postgres" and not postgres_reachable():
        print("join: PostgreSQL is not reachable on 127.0.0.1:5432: using SQLite")
        args.db = "sqlite"
    secret = secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory(prefix="join-bench-") as tmp, \
            bench_database(PG_BENCH_DB, args.db == "postgres", Path(tmp)) as url:
        folder = Path(tmp)
        event_id, tokens = prepare(url, secret, args.clicks)
        print(f"join: {args.clicks} invitations to one event, {args.clients} clients, "
              f"{args.repeats} repeat clicks, gunicorn {args.mode}, {args.db}")
        env = app_env(url, secret, args.mode)
        app_command = gunicorn("hub.wsgi:app", free_port(), args.mode, args.clients)
        base_command = gunicorn("join_baseline:app", free_port(), args.mode, args.clients)
        with served("join", "app", app_command, env, folder, "/healthz") as hub, \
                served("join", "baseline", base_command, dict(env, PYTHONPATH=str(BENCH)),
                       folder, "/healthz") as bare:
            for server in (hub, bare):  # warm-up: connections, imports, the pools
                burst(server.url, ["/healthz"] * args.clients, args.clients, 0)
            # The baseline's clicks before and after the app's, so that both meet the
            # machine as busy (other programs run on it too).
            baseline = burst(bare.url, [f"/click/{token}" for token in tokens],
                             args.clients, 0)
            app = burst(hub.url, [f"/j/{token}" for token in tokens], args.clients,
                        args.repeats)
            baseline.merge(burst(bare.url, [f"/click/{token}" for token in tokens],
                                 args.clients, 0))
        describe("app /j/<token>", app)
        describe("baseline (one INSERT)", baseline)
        intervals, recorded, flagged, rows = count_joins(url, event_id)
    duplicates = intervals - recorded
    print(f"join: database: {intervals} join intervals for {recorded} invitations, "
          f"{flagged} flagged as shared; {rows} baseline rows")
    p99, base_p99 = percentile(app.latencies, 99), percentile(baseline.latencies, 99)
    print(f"join clicks={len(app.latencies)} recorded={recorded} duplicates={duplicates} "
          f"p50_ms={percentile(app.latencies, 50):.1f} p99_ms={p99:.1f} "
          f"baseline_p99_ms={base_p99:.1f} ratio={p99 / base_p99 if base_p99 else 0:.2f}")


if __name__ == "__main__":
    main()
