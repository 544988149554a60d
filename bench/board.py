"""The live board under a crowd: real python-socketio clients on one board of a running server,
compared in the same run with a bare python-socketio server of the same protocol.

What it does, in one run:

1. makes its own database (a PostgreSQL database `board_bench` on 127.0.0.1:5432, dropped
   afterwards; `--db sqlite`: a temporary SQLite file) with the app's models and a standalone
   board open to anyone with the link, and serves the app with gunicorn as production does
   (`-k gevent -w 1`; `--mode threading`: `-k gthread --threads …` with
   SOCKETIO_ASYNC_MODE=threading, the async mode of `flask run`); next to it, the baseline
   (bench/board_baseline.py: no Flask, no database) under the same gunicorn command;
2. connects `--clients` guests (default 500) to each server's /board namespace, websocket
   only, from `--workers` processes of asyncio clients (one process cannot drive 500
   websockets);
3. latency: `--rounds` times one guest emits `post.create`, on the app and on the baseline in
   turn (so that both meet the same machine); every client stamps, with time.time() (the same
   clock in every process), the `changes` message carrying that post. Reported: p50, p95, p99
   and max of the per-client delivery latencies over all rounds;
4. load (the app; `--baseline-load`: the baseline too): `--load-seconds` of
   `--posts-per-second` posts and `--likes-per-second` likes on a fixed schedule, spread over
   all the guests round robin (so that nobody reaches the per-person limits), while every
   client records every sequence number it receives;
5. delivery: the clients then get `--drain-seconds` at most to receive the tail (the run goes
   on once the head stops moving and every client holds every seq, or nothing moved for 3 s).
   Per client, `missed live` counts the seqs from the board's first change to its head that
   never arrived in a `changes` message; each client with a gap then emits `sync {after:
   <before its first gap>}` as the browser does, and `lost` counts what is still missing after
   that catch-up (a `state` answer counts as having everything).

CPU seconds of the servers, of the client processes, of PostgreSQL and of everything else
(other programs, the kernel) are printed per phase: with 500 clients on the same 2 cores, the
clients' own work is a large share, and a machine busy with other programs makes the
latencies unreliable (the run says so).

The last line is `board clients=N p50_ms=… p99_ms=… lost=… baseline_p99_ms=… ratio=…`
(ratio = the app's p99 / the baseline's p99; lost = after catch-up). Targets on a 2-core
machine: 500 clients, p99 ≤ 300 ms, lost = 0, ratio ≤ 1.5.

    .venv/bin/python bench/board.py                  (gevent, PostgreSQL, 500 clients, 60 s)
    .venv/bin/python bench/board.py --mode threading --baseline-load --logs /tmp/board-logs
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
import secrets
import socket
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _crowd import Crowd
from _servers import (
    Server,
    free_port,
    gunicorn,
    percentile,
    postgres_reachable,
    processes,
    served,
)

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
NAMESPACE = "/board"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "board_bench"
#: The marker every bench post carries: bench:<tag>:<number>:<time.time() at the emit>.
MARKER = re.compile(r"bench:(\w+):(\d+):(\d+\.\d+)")
FILLER = ("Делимся опытом сетевого проекта «Растим инженеров»: конструируем с детьми "
          "старшей группы по схемам, а потом программируем Bee-Bot пройти лабиринт. ")
#: Posts a person may make per minute by default (BOARD_POST_LIMIT).
POST_LIMIT_PER_MINUTE = 10
ACK_TIMEOUT = 30


# -- client side (runs in the worker processes) ----------------------------------------------

def post_body(tag: str, number: int) -> str:
    """A post's text of typical length, with the marker and the emit time."""
    return f"{FILLER}Идея № {number}. bench:{tag}:{number}:{time.time():.6f}"


class Client:
    """One guest on the board: a python-socketio asyncio client and what it received."""

    def __init__(self, group: Group, number: int) -> None:
        import socketio

        self.group = group
        self.number = number
        self.sio = socketio.AsyncClient(reconnection_delay=0.5, reconnection_delay_max=2)
        self.seqs: set[int] = set()
        self.liked: set[int] = set()
        self.hellos = 0
        self.hello = asyncio.Event()
        self.sio.on("hello", self.on_hello, namespace=NAMESPACE)
        self.sio.on("changes", self.on_changes, namespace=NAMESPACE)
        self.sio.on("head", self.on_ignored, namespace=NAMESPACE)
        self.sio.on("presence", self.on_ignored, namespace=NAMESPACE)

    async def connect(self, url: str, board_id: int) -> None:
        """Connect as a new guest and wait for `hello`."""
        await self.sio.connect(url, namespaces=[NAMESPACE], transports=["websocket"],
                               auth={"board": board_id, "name": f"Гость {self.number}"},
                               wait_timeout=60)
        await asyncio.wait_for(self.hello.wait(), 60)

    async def on_hello(self, data: dict[str, Any]) -> None:
        """Keep the guest token, so that a reconnect comes back as the same guest."""
        self.hellos += 1
        if data.get("guest_token"):
            self.sio.connection_auth = {"board": data["board"], "guest": data["guest_token"]}
        self.hello.set()

    async def on_changes(self, data: dict[str, Any]) -> None:
        """Record every seq; stamp the delivery of every bench post."""
        now = time.time()
        group = self.group
        group.messages += 1
        group.last_delivery = now
        for change in data["changes"]:
            self.seqs.add(change["seq"])
            if change.get("kind") == "post":
                group.saw_post(change["post"], now)

    async def on_ignored(self, data: Any) -> None:
        """`head` and `presence`: not measured."""

    async def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Emit with an ack; a timeout or a lost connection is an answer too."""
        import socketio

        try:
            answer = await self.sio.call(event, data, namespace=NAMESPACE, timeout=ACK_TIMEOUT)
        except socketio.exceptions.TimeoutError:
            return {"ok": False, "code": f"no_ack_in_{ACK_TIMEOUT}s"}
        except Exception as error:  # noqa: BLE001 - counted by kind, not raised
            return {"ok": False, "code": type(error).__name__}
        return answer if isinstance(answer, dict) else {"ok": False, "code": "bad_ack"}


class Group:
    """One worker process's clients of one server, and what they received."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.clients: list[Client] = []
        self.load_latencies: list[float] = []
        self.round_got: Counter[int] = Counter()
        self.round_latencies: dict[int, list[float]] = defaultdict(list)
        self.round_done: dict[int, asyncio.Event] = {}
        self.post_ids: list[int] = []
        self.known_posts: set[int] = set()
        self.messages = 0
        self.last_delivery = 0.0
        self.next_poster = 0
        self.next_liker = 0

    def saw_post(self, post: dict[str, Any], now: float) -> None:
        """One client received a post: note its latency if it is one of ours."""
        if post["id"] not in self.known_posts:
            self.known_posts.add(post["id"])
            self.post_ids.append(post["id"])
        match = MARKER.search(post.get("body") or "")
        if match is None:
            return
        tag, number, sent = match.group(1), int(match.group(2)), float(match.group(3))
        if tag == "load":
            self.load_latencies.append(now - sent)
            return
        self.round_latencies[number].append(now - sent)
        self.round_got[number] += 1
        if self.round_got[number] >= len(self.clients):
            self._round_event(number).set()

    def _round_event(self, number: int) -> asyncio.Event:
        return self.round_done.setdefault(number, asyncio.Event())

    async def connect(self, url: str, board_id: int, numbers: list[int]) -> dict[str, Any]:
        """Connect new clients, a few at a time."""
        self.clients = [Client(self, n) for n in numbers]
        gate = asyncio.Semaphore(20)
        failures: Counter[str] = Counter()

        async def one(client: Client) -> None:
            async with gate:
                try:
                    await client.connect(url, board_id)
                except Exception as error:  # noqa: BLE001 - reported
                    failures[f"{type(error).__name__}: {error}"[:200]] += 1

        await asyncio.gather(*(one(c) for c in self.clients))
        self.clients = [c for c in self.clients if c.hello.is_set()]
        return {"connected": len(self.clients), "failures": dict(failures)}

    async def round(self, number: int, poster: int | None, timeout: float) -> dict[str, Any]:
        """One latency round: maybe post, then wait until every local client has the post."""
        ack: dict[str, Any] | None = None
        if poster is not None:
            client = self.clients[poster % len(self.clients)]
            ack = await client.call("post.create", {"body": post_body("round", number)})
        with suppress(TimeoutError):
            await asyncio.wait_for(self._round_event(number).wait(), timeout)
        return {"missing": len(self.clients) - self.round_got[number], "ack": ack,
                "latencies": self.round_latencies.pop(number, [])}

    async def load(self, start: float, seconds: float, posts_per_s: float,
                   likes_per_s: float, workers: int) -> dict[str, Any]:
        """This worker's share of the posts and likes, on a fixed schedule from `start`."""
        plan = sorted([(start + k / posts_per_s, "post") for k in
                       range(self.index, int(posts_per_s * seconds), workers)]
                      + [(start + k / likes_per_s, "like") for k in
                         range(self.index, int(likes_per_s * seconds), workers)])
        results: dict[str, Counter[str]] = {"post": Counter(), "like": Counter()}
        acks: dict[str, list[float]] = {"post": [], "like": []}
        late: list[float] = []
        tasks = []
        for due, kind in plan:
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                late.append(-delay)
            tasks.append(asyncio.create_task(self._act(kind, results[kind], acks[kind])))
        await asyncio.gather(*tasks)
        return {"results": {k: dict(v) for k, v in results.items()}, "acks": acks,
                "behind_schedule_s": max(late, default=0.0)}

    async def _act(self, kind: str, results: Counter[str], acks: list[float]) -> None:
        """One post or one like by the next client in turn; count the answer."""
        began = time.time()
        if kind == "post":
            client = self.clients[self.next_poster % len(self.clients)]
            self.next_poster += 1
            answer = await client.call("post.create", {"body": post_body("load", 0)})
        else:
            client = self.clients[self.next_liker % len(self.clients)]
            self.next_liker += 1
            choices = [p for p in self.post_ids[-100:] if p not in client.liked]
            if not choices:
                results["no_post_to_like"] += 1
                return
            post_id = random.choice(choices)
            client.liked.add(post_id)
            answer = await client.call("react", {"post_id": post_id, "kind": "like"})
        acks.append(time.time() - began)
        results["ok" if answer.get("ok") else str(answer.get("code"))] += 1

    async def progress(self) -> dict[str, Any]:
        """How many seqs the clients hold, and when the last `changes` arrived."""
        return {"held": sum(len(c.seqs) for c in self.clients),
                "last_delivery": self.last_delivery, "messages": self.messages}

    async def head(self) -> int | None:
        """The board's head, asked by one client with `sync` (None: no answer)."""
        client = self.clients[0]
        answer = await client.call("sync", {"after": max(client.seqs, default=0)})
        return int(answer["head"]) if answer.get("ok") else None

    async def check(self, first: int, last: int) -> dict[str, Any]:
        """Per client: seqs in (first, last] missed live; catch up with `sync`; still lost."""
        expected = set(range(first + 1, last + 1))
        gate = asyncio.Semaphore(10)
        totals: Counter[str] = Counter()

        async def one(client: Client) -> None:
            missing = expected - client.seqs
            totals["missed_live"] += len(missing)
            if not missing:
                return
            totals["clients_with_gaps"] += 1
            async with gate:
                answer = await client.call("sync", {"after": min(missing) - 1})
            if not answer.get("ok"):
                totals[f"sync_failed_{answer.get('code')}"] += 1
            elif "state" in answer:
                totals["state_answers"] += 1
                missing = set()
            else:
                missing -= {c["seq"] for c in answer.get("changes", [])}
            totals["lost"] += len(missing)

        await asyncio.gather(*(one(c) for c in self.clients))
        totals["reconnects"] = sum(max(0, c.hellos - 1) for c in self.clients)
        return {"totals": dict(totals), "load_latencies": self.load_latencies}

    async def disconnect(self) -> int:
        """Disconnect every client."""
        await asyncio.gather(*(c.sio.disconnect() for c in self.clients),
                             return_exceptions=True)
        return len(self.clients)


# -- servers ---------------------------------------------------------------------------------

def database_cpu() -> float:
    """CPU seconds of PostgreSQL's processes (the local server, if any)."""
    return sum(int(fields[11]) + int(fields[12]) for _pid, name, fields in processes()
               if name.startswith("postgres")) / os.sysconf("SC_CLK_TCK")


def limits_storage() -> str:
    """Redis for the per-person limits, as production has them, when it is running here."""
    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", 6379)) == 0:
            return "redis://127.0.0.1:6379/14"
    return "memory://"


def app_env(database: str, mode: str, raise_post_limit: bool) -> dict[str, str]:
    """The production configuration on the bench database, no outbox worker in the server."""
    env = dict(os.environ)
    for name in ("SOCKETIO_MESSAGE_QUEUE", "HUB_TEST_DATABASE_URL"):
        env.pop(name, None)
    env.update(HUB_CONFIG="production", SECRET_KEY=secrets.token_urlsafe(32),
               DATABASE_URL=database, SOCKETIO_ASYNC_MODE=mode, OUTBOX_WORKER_IN_PROCESS="0",
               RATELIMIT_STORAGE_URI=limits_storage(), PYTHONUNBUFFERED="1")
    if raise_post_limit:
        env["BOARD_POST_LIMIT"] = "1000 per minute"
    return env


# -- the bench database ----------------------------------------------------------------------

def postgres_database() -> str:
    """A fresh database `board_bench` on the local PostgreSQL."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_BENCH_DB}"


def drop_postgres_database() -> None:
    """Drop `board_bench` again."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")


def make_board(database: str) -> int:
    """The app's tables and one standalone board open to anyone with the link."""
    sys.path.insert(0, str(ROOT))
    from config import database_url
    from hub import create_app
    from hub.board.models import Board, Visibility
    from hub.extensions import db

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url(database))
    with app.app_context():
        db.create_all()
        board = Board(title="Круглый стол «Преемственность детского сада и школы»",
                      visibility=Visibility.LINK)
        db.session.add(board)
        db.session.commit()
        board_id = board.id
        db.session.remove()
        db.engine.dispose()
    return board_id


# -- the orchestrator ------------------------------------------------------------------------

def ms(values: list[float], p: float) -> float:
    """A percentile of latencies in seconds, in milliseconds."""
    return percentile(values, p) * 1000


@dataclass
class Result:
    """What one server's measurement gave."""

    clients: int = 0
    latencies: list[float] = field(default_factory=list)
    #: Per round, the latency of its last delivery (rounds that reached every client).
    round_all: list[float] = field(default_factory=list)
    round_missing: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    missed_live: int = 0
    lost: int = 0
    #: When the load began and was due to end (time.time()), and what was held before it.
    load_window: tuple[float, float] | None = None
    held_at_load: int = 0
    messages_at_load: int = 0

    @property
    def p99_ms(self) -> float:
        return ms(self.latencies, 99)


@dataclass
class Target:
    """One server under measurement: its clients' group name, its board, its results."""

    key: str
    server: Server
    board_id: int
    with_load: bool
    result: Result = field(default_factory=Result)

    @property
    def name(self) -> str:
        return self.server.name

    def say(self, text: str) -> None:
        print(f"board: {self.name}: {text}", flush=True)


def connect(crowd: Crowd, target: Target, clients: int) -> None:
    """Connect the clients, split over the workers; say how it went."""
    workers = len(crowd.pipes)
    began = time.time()
    answers = crowd.ask_each("connect", [
        (target.key, target.server.url, target.board_id, list(range(w, clients, workers)))
        for w in range(workers)])
    target.result.clients = sum(a["connected"] for a in answers)
    failures: Counter[str] = Counter()
    for answer in answers:
        failures.update(answer["failures"])
    target.say(f"{target.result.clients} of {clients} clients connected in "
               f"{time.time() - began:.1f} s" + (f"; failures: {dict(failures)}"
                                                 if failures else ""))
    if not target.result.clients:
        raise SystemExit(f"{target.name}: no client could connect")


def one_round(crowd: Crowd, target: Target, number: int, timeout: float) -> None:
    """One post from another client each time; its latency to every client."""
    workers = len(crowd.pipes)
    poster = number % workers
    answers = crowd.ask_each("round", [
        (target.key, number, number // workers if w == poster else None, timeout)
        for w in range(workers)])
    result = target.result
    missing = sum(a["missing"] for a in answers)
    latencies = [t for a in answers for t in a["latencies"]]
    result.round_missing += missing
    result.latencies += latencies
    if not missing:
        result.round_all.append(max(latencies, default=0.0))
    ack = answers[poster]["ack"]
    if not ack or not ack.get("ok"):
        result.refused[str(ack and ack.get("code"))] += 1


def report_rounds(target: Target, count: int, timeout: float) -> None:
    """The latency percentiles of the rounds."""
    result, lat = target.result, target.result.latencies
    target.say(f"a post to all {result.clients} clients, {count} rounds: "
               f"p50_ms={ms(lat, 50):.0f} p95_ms={ms(lat, 95):.0f} p99_ms={ms(lat, 99):.0f} "
               f"max_ms={ms(lat, 100):.0f}; every client had it after: median "
               f"{ms(result.round_all, 50):.0f} ms, worst {ms(result.round_all, 100):.0f} ms"
               + (f"; {result.round_missing} deliveries missing after {timeout:.0f} s"
                  if result.round_missing else "")
               + (f"; round posts not ok: {dict(result.refused)}" if result.refused else ""))


def load(crowd: Crowd, target: Target, args: argparse.Namespace) -> None:
    """Posts and likes at the given rates; what got through, and how fast it was answered."""
    result = target.result
    progress = crowd.ask("progress", target.key)
    result.held_at_load = sum(p["held"] for p in progress)
    result.messages_at_load = sum(p["messages"] for p in progress)
    start = time.time() + 1
    answers = crowd.ask("load", target.key, start, args.load_seconds, args.posts_per_second,
                        args.likes_per_second, len(crowd.pipes))
    result.load_window = (start, start + args.load_seconds)
    for kind in ("post", "like"):
        done: Counter[str] = Counter()
        acks: list[float] = []
        for answer in answers:
            done.update(answer["results"][kind])
            acks += answer["acks"][kind]
        not_ok = {code: n for code, n in done.items() if code != "ok"}
        target.say(f"load {kind}s: {sum(done.values())} sent, {done['ok']} ok "
                   f"({done['ok'] / args.load_seconds:.1f}/s); ack p50_ms={ms(acks, 50):.0f} "
                   f"p99_ms={ms(acks, 99):.0f}" + (f"; not ok: {not_ok}" if not_ok else ""))
    behind = max(a["behind_schedule_s"] for a in answers)
    if behind > 0.5:
        target.say(f"the clients fell {behind:.1f} s behind their schedule")


def drain(crowd: Crowd, target: Target, limit: float) -> int:
    """Wait until the board's head stops moving and every client holds every seq up to it,
    or nothing moved for 3 s, or `limit` s passed; return the head."""
    result = target.result
    began = moved = time.time()
    head = held = -1
    while True:
        now_head = crowd.ask_one(0, "head", target.key)
        progress = crowd.ask("progress", target.key)
        if now_head is None:
            target.say("the server did not answer `sync`: checking the seqs up to the last "
                       "head it gave")
            head = max(head, 0)
            break
        now_held = sum(p["held"] for p in progress)
        if (now_head, now_held) != (head, held):
            head, held, moved = now_head, now_held, time.time()
        if held >= result.clients * head or time.time() - moved > 3 \
                or time.time() - began > limit:
            break
        time.sleep(0.25)
    if result.load_window:
        report_throughput(target, progress, held)
    return head


def report_throughput(target: Target, progress: list[dict[str, Any]], held: int) -> None:
    """Changes and messages delivered per second from the start of the load."""
    result = target.result
    assert result.load_window
    start, end = result.load_window
    last = max(p["last_delivery"] for p in progress)
    deliveries = held - result.held_at_load
    messages = sum(p["messages"] for p in progress) - result.messages_at_load
    span = max(last, end) - start
    target.say(f"delivered {deliveries} changes in {messages} `changes` messages over "
               f"{span:.1f} s ({deliveries / span:.0f} changes/s, {messages / span:.0f} "
               f"messages/s); the last arrived {max(0.0, last - end):.1f} s after the load "
               "ended")


def check(crowd: Crowd, target: Target, head: int) -> None:
    """Missed live, and lost after each client's catch-up `sync`."""
    answers = crowd.ask("check", target.key, 0, head)
    totals: Counter[str] = Counter()
    under_load: list[float] = []
    for answer in answers:
        totals.update(answer["totals"])
        under_load += answer["load_latencies"]
    result = target.result
    result.missed_live, result.lost = totals.pop("missed_live", 0), totals.pop("lost", 0)
    if under_load:
        target.say(f"post delivery under load: p50_ms={ms(under_load, 50):.0f} "
                   f"p99_ms={ms(under_load, 99):.0f} max_ms={ms(under_load, 100):.0f}")
    extra = ", ".join(f"{k}={v}" for k, v in sorted(totals.items()))
    target.say(f"seqs 1..{head} to {result.clients} clients: missed live={result.missed_live}, "
               f"lost after catch-up={result.lost}" + (f" ({extra})" if extra else ""))


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot (Linux /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuUse:
    """CPU seconds of each server, the client processes and the whole machine at a moment."""

    servers: dict[str, float]
    clients: float
    database: float
    machine: float
    wall: float

    @classmethod
    def now(cls, crowd: Crowd, targets: list[Target]) -> CpuUse:
        return cls({t.name: t.server.cpu_seconds() for t in targets}, sum(crowd.ask("cpu")),
                   database_cpu(), machine_busy_seconds(), time.time())

    def report(self, phase: str, later: CpuUse) -> None:
        """Say how busy the servers, the clients and anything else were in between."""
        wall = later.wall - self.wall
        servers = {name: later.servers[name] - self.servers[name] for name in self.servers}
        clients = later.clients - self.clients
        database = later.database - self.database
        others = max(0.0, later.machine - self.machine - sum(servers.values()) - clients
                     - database)
        parts = [f"{name} {cpu:.1f} s ({cpu / wall:.0%} of a core)"
                 for name, cpu in servers.items()]
        print(f"board: CPU in the {phase} ({wall:.1f} s): {', '.join(parts)}; clients "
              f"{clients:.1f} s ({clients / wall:.0%}); PostgreSQL {database:.1f} s "
              f"({database / wall:.0%}); other programs and the kernel {others:.1f} s "
              f"({others / wall:.0%})", flush=True)
        if phase == "rounds" and others / wall > 0.25:
            print("board: warning: other programs kept the machine busy during the rounds; "
                  "the latencies are not reliable: run again on a quiet machine")


@contextmanager
def app_server(args: argparse.Namespace, folder: Path) -> Iterator[tuple[Server, int]]:
    """The hub under gunicorn on a database of its own, with one link board."""
    postgres = args.db == "postgres"
    database = postgres_database() if postgres else f"sqlite:///{folder / 'board.sqlite3'}"
    try:
        board_id = make_board(database)
        per_second = args.clients * POST_LIMIT_PER_MINUTE / 60
        raise_limit = args.posts_per_second > per_second * 0.8
        if raise_limit:
            print(f"board: {args.clients} guests may post {per_second:.0f}/s at most: the app "
                  "runs with BOARD_POST_LIMIT='1000 per minute'")
        name = f"app ({args.mode}, {'PostgreSQL' if postgres else 'SQLite'})"
        command = gunicorn("hub.wsgi:app", free_port(), args.mode, args.clients)
        with served("board", name, command, app_env(database, args.mode, raise_limit), folder,
                    "/healthz") as server:
            yield server, board_id
    finally:
        if postgres:
            drop_postgres_database()


@contextmanager
def baseline_server(args: argparse.Namespace, folder: Path) -> Iterator[tuple[Server, int]]:
    """bench/board_baseline.py under the same gunicorn command."""
    env = dict(os.environ, SOCKETIO_ASYNC_MODE=args.mode, PYTHONPATH=str(BENCH))
    command = gunicorn("board_baseline:app", free_port(), args.mode, args.clients)
    with served("board", f"baseline ({args.mode})", command, env, folder,
                "/socket.io/?EIO=4&transport=polling") as server:
        yield server, 1


def run(crowd: Crowd, targets: list[Target], args: argparse.Namespace) -> None:
    """Connect, the rounds in turn, then each server's load, delivery check and goodbye."""
    for target in targets:
        connect(crowd, target, args.clients)
    cpu = CpuUse.now(crowd, targets)
    for number in range(args.rounds):
        for target in targets:
            one_round(crowd, target, number, args.round_timeout)
            time.sleep(0.2)
    cpu.report("rounds", CpuUse.now(crowd, targets))
    for target in targets:
        report_rounds(target, args.rounds, args.round_timeout)
    for target in sorted(targets, key=lambda t: t.with_load):
        cpu = CpuUse.now(crowd, targets)
        loaded = target.with_load and args.load_seconds > 0
        if loaded:
            load(crowd, target, args)
        head = drain(crowd, target, args.drain_seconds)
        if loaded:
            cpu.report(f"load of the {target.key}", CpuUse.now(crowd, targets))
        check(crowd, target, head)
        crowd.ask("disconnect", target.key)


def raise_open_files(clients: int) -> None:
    """Every websocket is a file on both sides: allow enough of them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, clients * 8 + 1000))
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < clients * 4 + 200:
        print(f"board: warning: open files limited to {wanted}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--workers", type=int, default=4, help="client processes")
    parser.add_argument("--mode", choices=("gevent", "threading"), default="gevent")
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres",
                        help=f"postgres: a database {PG_BENCH_DB} on 127.0.0.1:5432 (falls back "
                        "to sqlite when unreachable); sqlite: a temporary file")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--round-timeout", type=float, default=15.0)
    parser.add_argument("--load-seconds", type=float, default=60.0)
    parser.add_argument("--posts-per-second", type=float, default=20.0)
    parser.add_argument("--likes-per-second", type=float, default=50.0)
    parser.add_argument("--drain-seconds", type=float, default=60.0)
    parser.add_argument("--baseline-load", action="store_true",
                        help="run the load against the baseline server too")
    parser.add_argument("--only", choices=("app", "baseline"),
                        help="measure one server only (development)")
    parser.add_argument("--logs", type=Path, help="keep the servers' logs in this folder")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    raise_open_files(args.clients)
    crowd = Crowd(args.workers, Group)  # forked before anything else is imported or opened
    if args.db == "postgres" and not postgres_reachable():
        print("board: PostgreSQL is not reachable on 127.0.0.1:5432: using SQLite")
        args.db = "sqlite"
    targets: list[Target] = []
    try:
        with tempfile.TemporaryDirectory(prefix="board-bench-") as tmp, ExitStack() as stack:
            folder = args.logs or Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            if args.only != "baseline":
                server, board_id = stack.enter_context(app_server(args, folder))
                targets.append(Target("app", server, board_id, with_load=True))
            if args.only != "app":
                server, board_id = stack.enter_context(baseline_server(args, folder))
                targets.append(Target("baseline", server, board_id, args.baseline_load))
            run(crowd, targets, args)
    finally:
        crowd.close()
    print_summary({t.key: t.result for t in targets})


def print_summary(results: dict[str, Result]) -> None:
    """The last line: the app's figures against the baseline's p99."""
    app, base = results.get("app"), results.get("baseline")
    clients = next((r.clients for r in (app, base) if r), 0)
    p50 = f"{ms(app.latencies, 50):.0f}" if app else "n/a"
    p99 = f"{app.p99_ms:.0f}" if app else "n/a"
    lost = str(app.lost) if app else "n/a"
    base_p99 = f"{base.p99_ms:.0f}" if base else "n/a"
    ratio = f"{app.p99_ms / base.p99_ms:.2f}" if app and base and base.p99_ms else "n/a"
    print(f"board clients={clients} p50_ms={p50} p99_ms={p99} lost={lost} "
          f"baseline_p99_ms={base_p99} ratio={ratio}")


if __name__ == "__main__":
    main()
