"""The teachers on the live board during the rehearsal (bench/rehearsal.py), run in the client
processes of bench/_crowd.py: each one a python-socketio client that opened the board from its
personal join link (the session cookie the link set), keeps the board as the browser does
(the page's state, then every numbered change, a `sync` after a reconnect or a gap), and posts
and likes as a person does when the network drops: again, with the same key, until answered."""

from __future__ import annotations

import asyncio
import random
import re
import secrets
import time
from collections import Counter
from typing import Any

NAMESPACE = "/board"
#: Every rehearsal post carries rehearsal:<client>:<number>:<time.time() at the first send>.
MARKER = re.compile(r"rehearsal:(\d+):(\d+):(\d+\.\d+)")
ACK_TIMEOUT = 10.0
#: How long a post or like is tried again before it counts as failed.
GIVE_UP_SECONDS = 180.0
#: Answers after which the same request is sent again (the others are final).
RETRY_CODES = {"no_ack", "not_connected", "busy", "error", "rate_limited", "disconnected"}
TEXTS = ("Делимся опытом: конструируем с детьми старшей группы по схемам.",
         "Вопрос к спикеру: как вы оцениваете результаты проекта?",
         "Спасибо за вебинар! Возьмём идею с Bee-Bot в работу.",
         "У нас в саду похожая лаборатория, готовы принять коллег.")


class BoardModel:
    """What one browser shows: posts (published and not removed) and their likes, kept by the
    sequence number of the change that last set each."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.posts: dict[int, dict[str, Any]] = {}
        self.seen: set[int] = set()
        #: Every change received, in short (a tuple of plain values: the garbage collector
        #: skips it), so that a whole state (older than some of them: it was asked before
        #: they arrived) is followed by the ones after it, as the browser does.
        self.changes: dict[int, tuple] = {}
        self.load_state(state)

    def load_state(self, state: dict[str, Any]) -> None:
        head = int(state["head"])
        self.posts = {p["id"]: {"rev": p["rev"], "likes": p["likes"], "likes_seq": head,
                                "state": p["state"], "removed": False}
                      for p in state["posts"]}
        self.seen |= set(range(1, head + 1))
        for seq in sorted(s for s in self.changes if s > head):
            self._apply(seq, *self.changes[seq])

    def apply(self, change: dict[str, Any]) -> None:
        """One numbered change, as it came."""
        kind = change.get("kind")
        if kind == "post":
            short: tuple = ("post", change["post"]["id"], change["post"]["state"],
                            change["post"]["likes"])
        elif kind == "counts":
            short = ("counts", change["id"], "", change["likes"])
        elif kind == "post.removed":
            short = ("removed", change["id"], "", 0)
        else:
            short = ("other", 0, "", 0)
        self.changes[change["seq"]] = short
        self._apply(change["seq"], *short)

    def _apply(self, seq: int, kind: str, post_id: int, state: str, likes: int) -> None:
        self.seen.add(seq)
        if kind in ("post", "counts"):
            entry = self.posts.setdefault(post_id, {"rev": 0, "likes": 0, "likes_seq": 0,
                                                    "state": state or "published",
                                                    "removed": False})
            if kind == "post" and seq >= entry["rev"]:
                entry.update(rev=seq, state=state)
            if seq >= entry["likes_seq"]:
                entry.update(likes=likes, likes_seq=seq)
        elif kind == "removed" and post_id in self.posts:
            self.posts[post_id]["removed"] = True

    def contiguous(self) -> int:
        """The last seq up to which nothing is missing."""
        seq = 0
        while seq + 1 in self.seen:
            seq += 1
        return seq

    def shown(self) -> dict[int, int]:
        """Post id → likes, of what the page shows."""
        return {pid: p["likes"] for pid, p in self.posts.items()
                if not p["removed"] and p["state"] == "published"}


class Teacher:
    """One teacher's board socket."""

    def __init__(self, group: Teachers, number: int, cookie: str, state: dict[str, Any],
                 polling: bool) -> None:
        import aiohttp
        import socketio

        self.group = group
        self.number = number
        self.polling = polling
        # The browser's cookies (its session from the join link; behind the proxy, the
        # proxy's sticky-session cookie) in a jar that takes them from an address too. A Cookie
        # header would do for the first connection only: python-engineio moves it into a jar
        # of its own, which a reconnection replaces with an empty one.
        self.browser = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.browser.cookie_jar.update_cookies(
            dict(pair.split("=", 1) for pair in cookie.split("; ") if "=" in pair))
        self.model = BoardModel(state)
        self.sio = socketio.AsyncClient(reconnection_delay=0.5, reconnection_delay_max=3,
                                        request_timeout=20, http_session=self.browser)
        self.connected = asyncio.Event()
        self.hellos = 0
        self.liked: set[int] = set()
        self.sio.on("hello", self.on_hello, namespace=NAMESPACE)
        self.sio.on("changes", self.on_changes, namespace=NAMESPACE)
        self.sio.on("disconnect", self.on_disconnect, namespace=NAMESPACE)
        self.sio.on("connect_error", self.on_connect_error, namespace=NAMESPACE)

    async def connect(self, url: str, board_id: int) -> None:
        transports = ["polling", "websocket"] if self.polling else ["websocket"]
        await self.sio.connect(url, namespaces=[NAMESPACE], transports=transports,
                               auth={"board": board_id}, wait_timeout=30)

    async def on_hello(self, _data: dict[str, Any]) -> None:
        """Connected (again): catch up from the last change held, as the browser does."""
        self.hellos += 1
        self.connected.set()
        asyncio.create_task(self.catch_up())

    async def on_disconnect(self, *args: Any) -> None:
        self.connected.clear()
        self.group.failures[f"disconnected: {args}"[:120]] += 1

    async def on_connect_error(self, data: Any) -> None:
        self.group.failures[f"connect refused: {data}"[:160]] += 1

    async def on_changes(self, data: dict[str, Any]) -> None:
        now = time.time()
        for change in data["changes"]:
            if change["seq"] not in self.model.seen:
                self.group.live_changes += 1
            self.model.apply(change)
            if change.get("kind") == "post":
                match = MARKER.search(change["post"].get("body") or "")
                if match and self.group.measuring:
                    sent = float(match.group(3))
                    self.group.latencies.append((now - sent, sent))

    async def catch_up(self) -> int:
        """Ask for what came after the last contiguous change; the head, or -1."""
        answer = await self.call("sync", {"after": self.model.contiguous()}, retry=False)
        if not answer.get("ok"):
            return -1
        if "state" in answer:
            self.model.load_state(answer["state"])
        for change in answer.get("changes", []):
            self.model.apply(change)
        return int(answer["head"])

    async def call(self, event: str, data: dict[str, Any], *, retry: bool = True
                   ) -> dict[str, Any]:
        """Emit and wait for the answer; with `retry`, send the same again after a lost
        connection, a timeout or a refusal that may pass, until GIVE_UP_SECONDS."""
        import socketio

        began, tries = time.time(), 0
        while True:
            try:
                await asyncio.wait_for(self.connected.wait(), GIVE_UP_SECONDS)
                answer = await self.sio.call(event, data, namespace=NAMESPACE,
                                             timeout=ACK_TIMEOUT)
                if not isinstance(answer, dict):
                    answer = {"ok": False, "code": "bad_answer"}
            except (TimeoutError, socketio.exceptions.TimeoutError):
                answer = {"ok": False, "code": "no_ack"}
            except socketio.exceptions.BadNamespaceError:
                answer = {"ok": False, "code": "disconnected"}
            except Exception as error:  # noqa: BLE001 - counted by kind
                answer = {"ok": False, "code": type(error).__name__}
            if answer.get("ok") or not retry or answer.get("code") not in RETRY_CODES \
                    or time.time() - began > GIVE_UP_SECONDS:
                return answer
            self.group.resent[event] += 1
            tries += 1  # as a person does: again soon, then less and less often
            await asyncio.sleep(min(15.0, 2.0 ** tries) * (0.5 + random.random()))


class Teachers:
    """A client process's teachers and what they did and saw."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.teachers: list[Teacher] = []
        self.failures: Counter[str] = Counter()
        self.latencies: list[tuple[float, float]] = []  # (delivery latency, sent at)
        self.live_changes = 0
        self.measuring = True
        self.resent: Counter[str] = Counter()
        self.posts: dict[str, int] = {}  # key → post id, for every post answered ok
        self.likes: dict[tuple[int, int], bool] = {}  # (teacher, post) → liked, answered ok
        self.outcomes: Counter[str] = Counter()
        self.tasks: set[asyncio.Task[None]] = set()

    async def add(self, url: str, board_id: int, arrivals: list[tuple[int, str, dict, bool]]
                  ) -> int:
        """New teachers open the board (in the background); how many are on it so far."""
        for number, cookie, state, polling in arrivals:
            teacher = Teacher(self, number, cookie, state, polling)
            self.teachers.append(teacher)
            task = asyncio.create_task(self._connect(teacher, url, board_id))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return sum(t.connected.is_set() for t in self.teachers)

    async def _connect(self, teacher: Teacher, url: str, board_id: int) -> None:
        for attempt in range(5):
            try:
                await teacher.connect(url, board_id)
                return
            except Exception as error:  # noqa: BLE001 - counted, tried again
                self.failures[f"{type(error).__name__}: {error}"[:160]] += 1
                await asyncio.sleep(1 + attempt)

    async def on_board(self) -> int:
        return sum(t.connected.is_set() for t in self.teachers)

    async def load(self, start: float, seconds: float, posts: list[int], all_posts: int,
                   likes: int) -> None:
        """Post the numbered `posts` (of `all_posts`) and give `likes` likes at even intervals
        from `start`, by this process's teachers in turn (in the background)."""
        plan = sorted([(start + seconds * (n + 0.5) / all_posts, "post", n) for n in posts] +
                      [(start + seconds * (k + 0.5) / max(1, likes), "like", k)
                       for k in range(likes)])
        task = asyncio.create_task(self._run(plan))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, plan: list[tuple[float, str, int]]) -> None:
        rng = random.Random(self.index)
        actions = []
        for turn, (due, kind, number) in enumerate(plan):
            await asyncio.sleep(max(0.0, due - time.time()))
            teacher = self.teachers[turn % len(self.teachers)]
            if kind == "post":
                actions.append(asyncio.create_task(self._post(teacher, number)))
            else:
                actions.append(asyncio.create_task(self._like(teacher, rng)))
        await asyncio.gather(*actions)

    async def _post(self, teacher: Teacher, number: int) -> None:
        key = secrets.token_hex(16)
        body = f"{TEXTS[number % len(TEXTS)]} rehearsal:{teacher.number}:{number}:{time.time():.6f}"
        answer = await teacher.call("post.create", {"body": body, "client_key": key})
        self.outcomes[f"post {answer.get('code', 'ok') if not answer.get('ok') else 'ok'}"] += 1
        if answer.get("ok"):
            self.posts[key] = answer["post"]["id"]

    async def _like(self, teacher: Teacher, rng: random.Random) -> None:
        """A like of a recent post this teacher has not liked (waiting for one if need be)."""
        for _wait in range(20):
            choices = [pid for pid in list(teacher.model.shown())[-200:]
                       if pid not in teacher.liked]
            if choices:
                break
            await asyncio.sleep(1)
        else:
            self.outcomes["like: nothing to like"] += 1
            return
        post_id = rng.choice(choices)
        teacher.liked.add(post_id)
        answer = await teacher.call("react", {"post_id": post_id, "kind": "like", "like": True})
        self.outcomes[f"like {answer.get('code', 'ok') if not answer.get('ok') else 'ok'}"] += 1
        if answer.get("ok"):
            self.likes[(teacher.number, post_id)] = True

    async def busy(self) -> int:
        """Actions still running."""
        return len(self.tasks)

    async def settle(self, head: int, seconds: float) -> dict[str, Any]:
        """Stop measuring; every teacher catches up to `head` (asking again while the server
        is still sending its backlog, up to `seconds`); what each one's page shows."""
        self.measuring = False
        deadline = time.time() + seconds
        behind = self.teachers
        while behind and time.time() < deadline:
            await asyncio.gather(*(t.catch_up() for t in behind))
            behind = [t for t in behind if t.model.contiguous() < head]
            if behind:
                await asyncio.sleep(1)
        return {"boards": {t.number: t.model.shown() for t in self.teachers},
                "behind": len(behind)}

    async def head(self) -> int:
        """The board's head, as one teacher's `sync` tells it (-1: no answer)."""
        return await self.teachers[0].catch_up() if self.teachers else -1

    async def report(self) -> dict[str, Any]:
        return {"latencies": self.latencies, "posts": self.posts, "likes": list(self.likes),
                "outcomes": dict(self.outcomes), "resent": dict(self.resent),
                "failures": dict(self.failures), "live_changes": self.live_changes,
                "teachers": len(self.teachers),
                "reconnects": sum(max(0, t.hellos - 1) for t in self.teachers),
                "polling": sum(t.polling for t in self.teachers)}

    async def reset_latencies(self) -> None:
        self.latencies = []

    async def leave(self) -> int:
        await asyncio.gather(*(t.sio.disconnect() for t in self.teachers),
                             return_exceptions=True)
        await asyncio.gather(*(t.browser.close() for t in self.teachers),
                             return_exceptions=True)
        return len(self.teachers)
