"""The live board served by two processes, as in a scaled deployment: two gunicorn servers of
the app (production configuration, gevent) on one database, with Redis as the Socket.IO
message queue. Guests on different processes see each other's posts and likes, and a guest
who was away catches up with `sync`.

Both servers share a SQLite file of this test's own (the same on the PostgreSQL pass); the
Redis database below is used for presence. Skipped when Redis does not answer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import socketio
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import hub.models  # noqa: F401  (every table in the metadata)
from hub.board.models import Board, Visibility
from hub.extensions import db
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
#: A database of its own for each run of the suite (`make test` runs SQLite and PostgreSQL at once).
REDIS_URL = f"redis://127.0.0.1:6379/{15 if os.environ.get('HUB_TEST_DATABASE_URL') else 13}"
NS = "/board"
#: The longest wait for something to happen (a guard against hanging, not a timing check).
PATIENCE = 20.0


def redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({error}): start redis-server to "
                    "run the two-process board test")


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    """Poll until `condition()` is truthy and return it; fail saying what never happened."""
    deadline = time.monotonic() + PATIENCE
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.02)
    return result


# -- the two servers -------------------------------------------------------------------------

@dataclass
class Deployment:
    """Two server processes of one board."""

    board_id: int
    urls: tuple[str, str]


def make_database(path: Path) -> tuple[str, int]:
    """A SQLite file with every table and one board open to anyone with the link."""
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    db.metadata.create_all(engine)
    with Session(engine) as session:
        board = Board(title="Методическая неделя «Цифровая лаборатория»",
                      visibility=Visibility.LINK)
        session.add(board)
        session.commit()
        board_id = board.id
    engine.dispose()
    return url, board_id


def server_env(database: str) -> dict[str, str]:
    """Production configuration; both processes share the secret, so guest tokens work on
    either."""
    env = dict(os.environ)
    env.pop("HUB_TEST_DATABASE_URL", None)
    env.update({
        "HUB_CONFIG": "production", "SECRET_KEY": "integration-test-secret-0123456789",
        "DATABASE_URL": database, "SOCKETIO_MESSAGE_QUEUE": REDIS_URL,
        "SOCKETIO_ASYNC_MODE": "gevent", "RATELIMIT_STORAGE_URI": "memory://",
        "OUTBOX_WORKER_IN_PROCESS": "0", "PYTHONUNBUFFERED": "1",
    })
    return env


def start_server(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1", "-b",
             f"127.0.0.1:{port}", "--graceful-timeout", "2", "hub.wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> bool:
    if process.poll() is not None:
        pytest.fail(f"the server exited:\n{log.read_text(errors='replace')[-3000:]}")
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    redis_or_skip()
    folder = tmp_path_factory.mktemp("board-redis")
    database, board_id = make_database(folder / "board.sqlite3")
    env = server_env(database)
    ports = (free_port(), free_port())
    logs = [folder / f"server-{n}.log" for n in "ab"]
    processes = [start_server(port, env, log) for port, log in zip(ports, logs, strict=True)]
    urls = (f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}")
    try:
        for url, process, log in zip(urls, processes, logs, strict=True):
            wait_for(lambda u=url, p=process, lg=log: healthy(u, p, lg), f"{url}/healthz")
        yield Deployment(board_id, urls)
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# -- guests ----------------------------------------------------------------------------------

class Guest:
    """A guest's Socket.IO client on one server process, keeping every change it receives."""

    def __init__(self, url: str, board_id: int, *, name: str | None = None,
                 token: str | None = None) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.hello: dict[str, Any] | None = None
        self.changes: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.sio.on("hello", self._on_hello, namespace=NS)
        self.sio.on("changes", self._on_changes, namespace=NS)
        auth: dict[str, Any] = {"board": board_id}
        auth.update({"guest": token} if token else {"name": name})
        self.sio.connect(url, namespaces=[NS], transports=["websocket"], auth=auth,
                         wait_timeout=10)
        wait_for(lambda: self.hello, f"hello from {url}")

    def _on_hello(self, data: dict[str, Any]) -> None:
        self.hello = data

    def _on_changes(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.changes.extend(data["changes"])

    def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        answer = self.sio.call(event, data, namespace=NS, timeout=PATIENCE)
        assert answer["ok"], answer
        return answer

    def find(self, kind: str, post_id: int, **fields: Any) -> dict[str, Any] | None:
        """The received change of `kind` about the post, with these field values."""
        with self.lock:
            for change in self.changes:
                about = change.get("post", change)
                if change["kind"] == kind and about.get("id") == post_id and all(
                        about.get(k) == v for k, v in fields.items()):
                    return change
        return None

    def close(self) -> None:
        self.sio.disconnect()


@pytest.fixture
def guest(deployment: Deployment) -> Iterator[Callable[..., Guest]]:
    made: list[Guest] = []

    def connect(process: int, **auth: Any) -> Guest:
        made.append(Guest(deployment.urls[process], deployment.board_id, **auth))
        return made[-1]

    yield connect
    for one in made:
        one.close()


# -- tests -----------------------------------------------------------------------------------

def test_a_post_and_a_like_on_one_process_reach_a_guest_on_the_other(guest):
    anna, boris = guest(0, name="Анна Сергеевна"), guest(1, name="Борис")

    post = anna.call("post.create", {"body": "Наш проект «Пчёлки Bee-Bot»: фото с занятия"})["post"]
    received = wait_for(lambda: boris.find("post", post["id"]), "the post on the other process")
    assert received["post"]["body"] == "Наш проект «Пчёлки Bee-Bot»: фото с занятия"
    assert received["post"]["author_name"] == "Анна Сергеевна"

    anna.call("react", {"post_id": post["id"], "kind": "like"})
    counts = wait_for(lambda: boris.find("counts", post["id"], likes=1),
                      "the like's count on the other process")
    assert counts["seq"] == received["seq"] + 1


def test_a_guest_back_from_a_break_gets_exactly_what_it_missed(guest):
    anna, boris = guest(0, name="Анна Сергеевна"), guest(1, name="Борис")
    last, token = boris.hello["head"], boris.hello["guest_token"]
    boris.close()

    bodies = ["Первая идея, пока Бориса нет", "Вторая идея, пока Бориса нет"]
    posts = [anna.call("post.create", {"body": body})["post"] for body in bodies]

    boris = guest(1, token=token)
    assert boris.hello["viewer"]["name"] == "Борис"
    answer = boris.call("sync", {"after": last})
    assert answer["head"] == last + 2
    assert [c["seq"] for c in answer["changes"]] == [last + 1, last + 2]
    assert [c["kind"] for c in answer["changes"]] == ["post", "post"]
    assert [c["post"]["id"] for c in answer["changes"]] == [p["id"] for p in posts]
    assert [c["post"]["body"] for c in answer["changes"]] == bodies
