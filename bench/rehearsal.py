"""The rehearsal: a whole municipal webinar against the real server processes on loopback, with
a server killed and the mail server down in the middle, then every figure checked.

One run, per deployment:

1. a fresh database (`flask db upgrade`, as a deployment does), ten organisations in four time
   zones with 50 people each (one of them the organisation's coordinator), an organiser at the
   house of children's creativity and the municipal coordinator;
2. the servers (gunicorn, `-k gevent`, HUB_CONFIG=production), a real SMTP server on loopback
   (aiosmtpd) and, for the scaled deployment, HAProxy with sticky sessions in front of two
   server processes, PostgreSQL, the Redis message queue and two `flask outbox work` workers;
3. the organiser signs in and schedules the webinar through the event form for the ten
   organisations (credit 2 hours, starting at the next minute after a minute and a half);
   the invitations go out through the outbox to the SMTP server;
4. `--joins` teachers open the /j/ link of their own letter within two minutes around the start
   (each from a new browser; a few tap it twice); `--board` of them open the event's board
   from that browser and stay: 1,000 posts and 5,000 likes over the load phase (ten minutes
   of a real meeting, compressed);
5. in the middle: the organiser extends the webinar by a minute (the changed invitations go
   out), the SMTP server refuses mail for a minute (451), and a server process is killed with
   SIGKILL and started again; clients reconnect and send again what got no answer;
6. after the end: the organiser opens the attendance sheet (which finalises the event: credit,
   certificates), the coordinators draft their organisations' reports, the municipal
   coordinator exports them.

It exits non-zero unless each holds: every letter in the outbox delivered exactly once (none
lost, none twice after the restart, none unknown); each join recorded once; every post stored
once and every connected page's board equal to the database; the credited hours equal to the
rule applied to the simulated join times (80 % of the event; a join stands until the end);
report totals equal to the sum of the portfolios. It prints the board's fan-out latency p50/p99
and posts/s, beside the same latency with no faults and no load (the baseline: one post to
everyone, before the load begins).

    .venv/bin/python bench/rehearsal.py                       (both deployments, ~20 minutes)
    .venv/bin/python bench/rehearsal.py --deployment embedded --logs /tmp/rehearsal
    .venv/bin/python bench/rehearsal.py --quick               (small and short: development)
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import queue
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _browser import Browser, json_block
from _crowd import Crowd
from _mailsink import MailSink
from _servers import (
    Server,
    bench_database,
    free_port,
    gunicorn,
    percentile,
    postgres_reachable,
    start_server,
)
from _teachers import Teachers

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_DB = "rehearsal"
PASSWORD = "rehearsal-пароль-2026"
ZONE = "Asia/Yekaterinburg"
CREDIT_HOURS = 2.0
#: Share of the event a join must cover to be credited (the default rule, docs/attendance.md).
CREDIT_SHARE = 0.8
#: The report export's first figure column (after organisation, status, submitted, by).
HOURS_COLUMN = 4
ORGANISATIONS = [
    ("МБДОУ «Детский сад № 22 «Яблонька»»", "Детский сад № 22", "KINDERGARTEN", ZONE),
    ("МБДОУ «Детский сад № 5 «Солнышко»»", "Детский сад № 5", "KINDERGARTEN", ZONE),
    ("МАДОУ «Детский сад № 14 «Берёзка»»", "Детский сад № 14", "KINDERGARTEN", "Europe/Moscow"),
    ("МБДОУ «Детский сад № 31 «Радуга»»", "Детский сад № 31", "KINDERGARTEN", "Europe/Moscow"),
    ("МАОУ «СОШ № 8»", "СОШ № 8", "SCHOOL", ZONE),
    ("МБОУ «СОШ № 3»", "СОШ № 3", "SCHOOL", "Asia/Krasnoyarsk"),
    ("МБОУ «ООШ № 12»", "ООШ № 12", "SCHOOL", "Asia/Krasnoyarsk"),
    ("МАУ ДО «Центр детского технического творчества»", "ЦДТТ", "SUPPLEMENTARY",
     "Asia/Vladivostok"),
    ("МБДОУ «Детский сад № 40 «Ромашка»»", "Детский сад № 40", "KINDERGARTEN",
     "Asia/Vladivostok"),
    ("МБОУ «Лицей № 1»", "Лицей № 1", "SCHOOL", ZONE),
]


# -- the deployments -------------------------------------------------------------------------

@dataclass(frozen=True)
class Deployment:
    """How the hub is run: processes, database, proxy, message queue, outbox workers."""

    name: str
    servers: int
    postgres: bool
    outbox_workers: int
    board: int
    late_joins: int
    #: Share of board clients that start with long polling (they need the sticky sessions).
    polling_share: float

    @property
    def summary(self) -> str:
        if self.servers == 1:
            return "one process, SQLite, in-process outbox worker and board"
        return (f"{self.servers} processes behind HAProxy (sticky sessions), PostgreSQL, Redis "
                f"message queue, {self.outbox_workers} outbox workers")


DEPLOYMENTS = {
    "embedded": Deployment("embedded", 1, False, 0, 300, 0, 0.0),
    "scaled": Deployment("scaled", 2, True, 2, 500, 50, 0.1),
}


@dataclass
class Plan:
    """The run's sizes and its timeline, in seconds from the webinar's start (S)."""

    teachers: int
    joins: int
    late_joins: int
    board: int
    posts: int
    likes: int
    minutes: int  # the webinar as scheduled; the organiser adds one more in the middle
    outage: float

    @property
    def length(self) -> float:
        """The webinar's length after the extension, in seconds."""
        return (self.minutes + 1) * 60.0

    def at(self, share: float) -> float:
        return share * self.length

    @property
    def credit_line(self) -> float:
        """Joins up to here are credited (they cover 80 % of the event)."""
        return (1 - CREDIT_SHARE) * self.length


# -- database and people ---------------------------------------------------------------------

def hub_app(url: str):  # type: ignore[no-untyped-def]
    """The app on the run's database, for seeding and reading back (no background work)."""
    from config import database_url
    from hub import create_app

    return create_app("testing", SQLALCHEMY_DATABASE_URI=database_url(url))


@dataclass
class People:
    """Who takes part: ids and addresses."""

    organisations: dict[int, str] = field(default_factory=dict)  # id → zone
    host_id: int = 0
    organiser: str = ""
    municipal: str = ""
    coordinators: dict[int, str] = field(default_factory=dict)  # organisation id → email
    teachers: dict[str, int] = field(default_factory=dict)  # email → person id


def seed(url: str, teachers: int) -> People:
    """The organisations and people, straight into the database (the directory's import is
    measured elsewhere)."""
    from hub.auth.passwords import hash_password
    from hub.directory.models import Category, Organisation, OrgKind, Person, Role
    from hub.extensions import db

    app = hub_app(url)
    people = People()
    password = hash_password(PASSWORD)
    with app.app_context():
        def org(full: str, short: str, kind: str, zone: str) -> Organisation:
            row = Organisation(full_name=full, short_name=short, kind=OrgKind[kind],
                               municipality="г. Лесногорск", timezone=zone)
            db.session.add(row)
            db.session.flush()
            return row

        def person(organisation: Organisation, n: int, role: Role, email: str,
                   position: str) -> Person:
            row = Person(surname=random.choice(("Иванова", "Петрова", "Смирнова", "Кузнецова")),
                         first_name=random.choice(("Мария", "Анна", "Ольга", "Елена")),
                         patronymic=random.choice(("Петровна", "Сергеевна", "Ивановна")),
                         email=email, organisation=organisation, position=position,
                         category=Category.FIRST, role=role,
                         password_hash=password if role != Role.TEACHER else "")
            db.session.add(row)
            return row

        office = org("МКУ «Управление образования г. Лесногорска»", "Управление образования",
                     "EDUCATION_OFFICE", ZONE)
        people.municipal = "metodist@uo.lesnogorsk.example.org"
        person(office, 0, Role.MUNICIPAL_COORDINATOR, people.municipal, "методист")
        host = org("МАУ ДО «Дом детского творчества»", "Дом детского творчества",
                   "SUPPLEMENTARY", ZONE)
        people.host_id = host.id
        people.organiser = "organiser@ddt.lesnogorsk.example.org"
        person(host, 0, Role.ORG_COORDINATOR, people.organiser, "методист")
        per_org = math.ceil(teachers / len(ORGANISATIONS))
        rows = []
        for k, spec in enumerate(ORGANISATIONS):
            organisation = org(*spec)
            people.organisations[organisation.id] = organisation.timezone
            for n in range(min(per_org, teachers - k * per_org)):
                email = f"teacher{n}@org{k}.lesnogorsk.example.org"
                coordinator = n == 0
                rows.append(person(organisation, n, Role.ORG_COORDINATOR if coordinator
                                   else Role.TEACHER, email,
                                   "старший воспитатель" if coordinator else "воспитатель"))
                if coordinator:
                    people.coordinators[organisation.id] = email
        db.session.commit()
        people.teachers = {row.email: row.id for row in rows}
        db.session.remove()
        db.engine.dispose()
    return people


# -- the servers -----------------------------------------------------------------------------

def ensure_haproxy() -> str:
    """HAProxy's path, installed from Debian's packages when missing and we are root."""
    found = shutil.which("haproxy") or (os.path.exists("/usr/sbin/haproxy") and
                                        "/usr/sbin/haproxy")
    if not found and os.geteuid() == 0:
        print("rehearsal: installing HAProxy (apt-get install haproxy)", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "haproxy"], check=False,
                       stdout=subprocess.DEVNULL, env=dict(os.environ,
                                                          DEBIAN_FRONTEND="noninteractive"))
        found = shutil.which("haproxy") or (os.path.exists("/usr/sbin/haproxy")
                                            and "/usr/sbin/haproxy")
    if not found:
        raise SystemExit("rehearsal: the scaled deployment needs HAProxy (apt-get install "
                         "haproxy)")
    return str(found)


HAPROXY_CONFIG = """global
    maxconn 5000
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout tunnel 1h
    option redispatch
    retries 3
frontend hub
    bind 127.0.0.1:{port}
    option forwardfor
    default_backend servers
backend servers
    balance roundrobin
    cookie HUBSERVER insert indirect nocache httponly
    option httpchk GET /healthz
{servers}
"""


class Cluster:
    """The hub's processes for one deployment, and the faults done to them."""

    def __init__(self, deployment: Deployment, url: str, smtp_port: int, folder: Path,
                 clients: int) -> None:
        self.deployment = deployment
        self.folder = folder
        self.clients = clients
        self.ports = [free_port() for _ in range(deployment.servers)]
        self.proxy_port = free_port() if deployment.servers > 1 else None
        self.base_url = f"http://127.0.0.1:{self.proxy_port or self.ports[0]}"
        self.env = self._env(url, smtp_port)
        self.servers: list[Server] = []
        self.others: list[subprocess.Popen[bytes]] = []
        self.restarts: list[float] = []

    def _env(self, url: str, smtp_port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("SOCKETIO_MESSAGE_QUEUE", "HUB_TEST_DATABASE_URL")}
        scaled = self.deployment.servers > 1
        env.update(
            HUB_CONFIG="production", SECRET_KEY=secrets.token_urlsafe(32), DATABASE_URL=url,
            BASE_URL=self.base_url, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port),
            SMTP_STARTTLS="false", MAIL_FROM="Vmeste hub <no-reply@hub.lesnogorsk.example.org>",
            JITSI_BASE_URL="https://meet.jit.si", PYTHONUNBUFFERED="1", FLASK_APP="hub",
            # The compressed day: a dead worker's letters are taken over after a minute, and
            # letters refused are tried again after 5 s, 10 s, 20 s …
            OUTBOX_LEASE_SECONDS="60", OUTBOX_BACKOFF_SECONDS="5",
            OUTBOX_BACKOFF_MAX_SECONDS="20", OUTBOX_POLL_SECONDS="1",
            OUTBOX_WORKER_IN_PROCESS="0" if scaled else "1",
            RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/11" if scaled else "memory://",
            PROXY_COUNT="1" if scaled else "0")
        if scaled:
            env["SOCKETIO_MESSAGE_QUEUE"] = "redis://127.0.0.1:6379/10"
        return env

    def start(self) -> None:
        for index in range(self.deployment.servers):
            self.servers.append(self._server(index))
        if self.proxy_port:
            config = self.folder / "haproxy.cfg"
            config.write_text(HAPROXY_CONFIG.format(port=self.proxy_port, servers="\n".join(
                f"    server s{i} 127.0.0.1:{port} check cookie s{i} inter 2s fall 5 rise 1"
                for i, port in enumerate(self.ports))))
            self._spawn("haproxy", [ensure_haproxy(), "-f", str(config), "-db"])
        for index in range(self.deployment.outbox_workers):
            self._spawn(f"outbox-{index}", [str(Path(sys.executable).parent / "flask"),
                                            "outbox", "work"])
        wait_for(self.base_url + "/healthz", 30)

    def _server(self, index: int) -> Server:
        command = gunicorn("hub.wsgi:app", self.ports[index], "gevent", self.clients)
        return start_server(f"server-{index}", command, self.env, self.folder, "/healthz")

    def _spawn(self, name: str, command: list[str]) -> None:
        log = (self.folder / f"{name}.log").open("ab")
        self.others.append(subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True))

    def kill_and_restart(self, index: int) -> float:
        """SIGKILL a server's processes (master and worker), start it again; the seconds it was
        down."""
        began = time.time()
        self.servers[index].kill()
        self.servers[index] = self._server(index)
        down = time.time() - began
        self.restarts.append(down)
        return down

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        for process in self.others:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def problems(self) -> list[str]:
        """Tracebacks in the logs (the killed server's log is kept by each restart's)."""
        found = []
        for log in sorted(self.folder.glob("*.log")):
            text = log.read_text(errors="replace")
            for match in re.finditer(r"Traceback[\s\S]{0,1500}?\n(\w[\w.]*(Error|Exception)"
                                     r"[^\n]*)", text):
                found.append(f"{log.name}: {match.group(1)[:200]}")
        return found


def wait_for(url: str, seconds: float) -> None:
    import httpx

    deadline = time.time() + seconds
    while time.time() < deadline:
        with suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise SystemExit(f"rehearsal: {url} did not answer within {seconds:.0f} s")


def migrate(env: dict[str, str]) -> None:
    """`flask db upgrade` on the run's database, as a deployment does."""
    done = subprocess.run([str(Path(sys.executable).parent / "flask"), "db", "upgrade"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"rehearsal: flask db upgrade failed:\n{done.stderr[-3000:]}")


# -- the day ---------------------------------------------------------------------------------

@dataclass
class Click:
    """A teacher's tap on their join link."""

    email: str
    due: float
    at: float = 0.0
    status: int = 0
    location: str = ""
    again: bool = False


@dataclass
class Day:
    """What happened, for the checks."""

    #: The client processes' group of this deployment's teachers.
    group: str = "board"
    event_id: int = 0
    board_id: int = 0
    start: datetime | None = None
    end: datetime | None = None
    clicks: list[Click] = field(default_factory=list)
    boards: dict[int, dict[int, int]] = field(default_factory=dict)  # teacher → post → likes
    reports: list[dict[str, Any]] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    load_window: tuple[float, float] = (0.0, 0.0)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def say(self, text: str) -> None:
        print(f"rehearsal: {text}", flush=True)

    def fail(self, text: str) -> None:
        self.failures.append(text)
        self.say(f"FAILED: {text}")


def local(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(ZONE))


def schedule(organiser: Browser, people: People, plan: Plan, day: Day) -> None:
    """The organiser fills the event form and publishes: the invitations go out."""
    start = (datetime.now(UTC) + timedelta(seconds=100)).replace(second=0, microsecond=0) \
        + timedelta(minutes=1)
    end = start + timedelta(minutes=plan.minutes)
    answer = organiser.submit("/events/new", {
        "format": str(webinar_format()), "title": "Вебинар «Цифровая лаборатория в детском "
        "саду и школе»", "description": "Муниципальный вебинар сетевого проекта «Растим "
        "инженеров»: опыт, вопросы, идеи на доске.", "timezone": ZONE,
        "start_date": f"{local(start):%Y-%m-%d}", "start_time": f"{local(start):%H:%M}",
        "end_time": f"{local(end):%H:%M}", "hosts": [str(people.host_id)],
        "audience_organisations": [str(i) for i in people.organisations],
        "credit_hours": f"{CREDIT_HOURS:.1f}", "level": str(municipal_level()),
        "provider": "jitsi"}, button="publish")
    answer = confirm_if_asked(organiser, answer, "publish")
    match = re.search(r"/events/(\d+)$", str(answer.url))
    if match is None:
        raise SystemExit(f"rehearsal: the event form did not save ({answer.status_code}): "
                         f"{form_errors(answer.text)}")
    day.event_id, day.start, day.end = int(match.group(1)), start, end
    day.say(f"the organiser published event {day.event_id}, {local(start):%H:%M}–"
            f"{local(end):%H:%M} {ZONE}, for {len(people.organisations)} organisations")


def webinar_format() -> int:
    from hub.scheduling.models import EventFormat
    return EventFormat.WEBINAR.value


def municipal_level() -> int:
    from hub.scheduling.models import Level
    return Level.MUNICIPAL.value


def confirm_if_asked(browser: Browser, answer: Any, button: str) -> Any:
    """The form asks to confirm its warnings (e.g. a clash): confirm, as the organiser does."""
    if 'name="confirmed"' in answer.text and "/edit" in str(answer.url) or \
            str(answer.url).endswith("/events/new"):
        return browser.submit(str(answer.url), {"confirmed": "1"}, button=button,
                              page=answer.text)
    return answer


def form_errors(html: str) -> str:
    return "; ".join(re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]{3,200})<', html))[:600]


def extend(organiser: Browser, day: Day) -> None:
    """The webinar runs over: the organiser moves its end a minute later (everyone gets the
    changed invitation)."""
    assert day.end is not None
    new_end = day.end + timedelta(minutes=1)
    path = f"/events/{day.event_id}/edit"
    answer = organiser.submit(path, {"end_time": f"{local(new_end):%H:%M}"},
                              button="save_changes")
    answer = confirm_if_asked(organiser, answer, "save_changes")
    if not re.search(rf"/events/{day.event_id}$", str(answer.url)):
        day.fail(f"the organiser could not extend the webinar: {form_errors(answer.text)}")
        return
    day.end = new_end
    day.say(f"the organiser extended the webinar to {local(new_end):%H:%M}")


def join_links(sink: MailSink, people: People, timeout: float, day: Day) -> dict[str, str]:
    """Each teacher's /j/ link, read from the invitation in their mailbox."""
    wanted = set(people.teachers)
    links: dict[str, str] = {}
    deadline = time.time() + timeout
    while time.time() < deadline:
        for delivery in sink.snapshot():
            if delivery.to in wanted and delivery.to not in links:
                match = re.search(r"https?://\S+/j/[\w-]+", delivery.text)
                if match:
                    links[delivery.to] = match.group(0)
        if len(links) == len(wanted):
            break
        time.sleep(0.5)
    day.say(f"{len(links)} of {len(wanted)} invitations arrived with a join link")
    return links


def click(base_url: str, link: str, email: str, due: float, again: bool) -> tuple[Click, str]:
    """A teacher taps their link (a second time from the same browser when `again`); the
    click and the browser's cookies."""
    browser = Browser(base_url)
    try:
        time.sleep(max(0.0, due - time.time()))
        record = Click(email, due, time.time(), again=again)
        answer = browser.get(link.replace(link.split("/j/")[0], base_url))
        record.status, record.location = answer.status_code, answer.headers.get("location", "")
        if again:
            browser.get(link.replace(link.split("/j/")[0], base_url))
        return record, browser.cookie_header()
    finally:
        browser.close()


def open_board(base_url: str, cookie: str, event_id: int) -> dict[str, Any]:
    """The board page, as the teacher's browser opens it: the state it starts from."""
    browser = Browser(base_url)
    browser.cookies = dict(pair.split("=", 1) for pair in cookie.split("; ") if "=" in pair)
    try:
        page = browser.get(f"/events/{event_id}/board", follow=True)
        return json_block(page.text, "board-boot")
    finally:
        browser.close()


class Joins:
    """The join clicks at their times, and the teachers who go on to the board."""

    def __init__(self, cluster: Cluster, crowd: Crowd, plan: Plan, deployment: Deployment,
                 links: dict[str, str], day: Day) -> None:
        self.cluster, self.crowd, self.plan, self.day = cluster, crowd, plan, day
        self.deployment = deployment
        self.links = links
        self.arrivals: queue.Queue[tuple[int, str, dict, bool] | None] = queue.Queue()
        self.rng = random.Random(2026)

    def timetable(self, start: float) -> list[tuple[str, float, bool, bool]]:
        """(email, when, taps twice, goes on the board) for every teacher who joins: early
        joins spread over two minutes around the start, none near the credit line, late
        joins after them."""
        plan = self.plan
        emails = sorted(self.links)
        self.rng.shuffle(emails)
        early, late = emails[:plan.joins], emails[plan.joins:plan.joins + plan.late_joins]
        first, last = -plan.at(0.1), plan.at(0.3)
        line = plan.credit_line
        times = []
        for n in range(len(early)):
            moment = first + (last - first) * n / max(1, len(early) - 1)
            if abs(moment - line) < 5:
                moment = line - 5 if moment < line else line + 5
            times.append(moment)
        board_early = plan.board - len(late)
        rows = [(email, start + moment, n % 10 == 3, n < board_early)
                for n, (email, moment) in enumerate(zip(early, times, strict=True))]
        rows += [(email, start + plan.at(0.32) + plan.at(0.05) * n / max(1, len(late)), False,
                  True) for n, email in enumerate(late)]
        return rows

    def run(self, start: float) -> None:
        """Click at the times of the timetable (threads), hand the board-goers to the client
        processes as they arrive."""
        rows = self.timetable(start)
        dispatcher = threading.Thread(target=self._dispatch, daemon=True)
        dispatcher.start()
        with ThreadPoolExecutor(96) as pool:
            for n, (email, due, again, board) in enumerate(sorted(rows, key=lambda r: r[1])):
                pool.submit(self._one, n, email, due, again, board)
        self.arrivals.put(None)
        dispatcher.join()
        clicks = self.day.clicks
        ok = sum(c.status == 302 and "meet.jit.si" in c.location for c in clicks)
        spread = max(c.at for c in clicks) - min(c.at for c in clicks)
        self.day.say(f"{len(clicks)} join clicks over {spread:.0f} s ({ok} sent to the room, "
                     f"{sum(c.again for c in clicks)} tapped twice)")

    def _one(self, n: int, email: str, due: float, again: bool, board: bool) -> None:
        try:
            record, cookie = click(self.cluster.base_url, self.links[email], email, due, again)
            self.day.clicks.append(record)
            if board and record.status == 302:
                boot = open_board(self.cluster.base_url, cookie, self.day.event_id)
                self.day.board_id = boot["board_id"]
                polling = self.rng.random() < self.deployment.polling_share
                self.arrivals.put((n, cookie, boot["state"], polling))
        except Exception as error:  # noqa: BLE001 - a failed click is counted by the checks
            self.day.notes.append(f"join of {email}: {type(error).__name__}: {error}")

    def _dispatch(self) -> None:
        """Every half second, give the new arrivals to the client processes, round robin."""
        workers = len(self.crowd.pipes)
        turn, done = 0, False
        while not done:
            batch: list[list[tuple[int, str, dict, bool]]] = [[] for _ in range(workers)]
            deadline = time.time() + 0.5
            while time.time() < deadline:
                try:
                    item = self.arrivals.get(timeout=max(0.01, deadline - time.time()))
                except queue.Empty:
                    continue
                if item is None:
                    done = True
                    break
                batch[turn % workers].append(item)
                turn += 1
            if any(batch):
                url = self.cluster.base_url
                self.crowd.ask_each("add", [(self.day.group, url, self.day.board_id, b)
                                            for b in batch])


def board_phase(crowd: Crowd, cluster: Cluster, organiser: Browser, sink: MailSink,
                plan: Plan, start: float, day: Day) -> None:
    """The load, with the faults in the middle; then every page catches up."""
    wait_until(start + plan.at(0.2) - 8)
    on_board = sum(crowd.ask("on_board", day.group))
    day.say(f"{on_board} teachers on the board; the baseline: one post to everyone")
    day.baseline = baseline_round(crowd, day)
    load_start = start + plan.at(0.2)
    load_seconds = plan.at(0.6) - plan.at(0.2)
    workers = len(crowd.pipes)
    likes = [plan.likes // workers + (w < plan.likes % workers) for w in range(workers)]
    crowd.ask_each("load", [(day.group, load_start, load_seconds,
                             list(range(w, plan.posts, workers)), plan.posts, likes[w])
                            for w in range(workers)])
    day.load_window = (load_start, load_start + load_seconds)
    day.say(f"load: {plan.posts} posts and {plan.likes} likes over {load_seconds:.0f} s")
    wait_until(start + plan.at(0.35))
    extend(organiser, day)
    time.sleep(1)  # while the changed invitations are going out
    sink.refuse_for(plan.outage)
    day.say(f"the SMTP server refuses mail for {plan.outage:.0f} s")
    time.sleep(min(10.0, plan.outage / 3))
    day.figures["killed_at"] = time.time()
    down = cluster.kill_and_restart(0)
    day.say(f"server-0 killed with SIGKILL and started again ({down:.1f} s down)")
    while sum(crowd.ask("busy", day.group)) and time.time() < load_start + load_seconds + 150:
        time.sleep(1)
    day.figures["load_end"] = time.time()
    head = max(crowd.ask("head", day.group))
    settled = crowd.ask("settle", day.group, head, 120.0)
    behind = sum(answer["behind"] for answer in settled)
    for answer in settled:
        day.boards.update(answer["boards"])
    if behind:
        day.fail(f"{behind} pages could not catch up to change {head} within two minutes")


def baseline_round(crowd: Crowd, day: Day) -> list[float]:
    """Nothing to measure with no load: the fan-out of one post is measured inside the load
    (every post carries its send time); this is the same for one post alone."""
    crowd.ask_each("load", [(day.group, time.time() + 0.5, 1.0, [0] if w == 0 else [], 1, 0)
                            for w in range(len(crowd.pipes))])
    time.sleep(4)
    latencies: list[float] = []
    for answer in crowd.ask("report", day.group):
        latencies += [t for t, _sent in answer["latencies"]]
    crowd.ask("reset_latencies", day.group)
    return latencies


def wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def after_the_end(cluster: Cluster, organiser: Browser, people: People, day: Day,
                  plan: Plan) -> None:
    """The organiser opens the sheet (finalising); coordinators draft; the municipal
    coordinator exports the reports."""
    assert day.end is not None
    wait_until(day.end.timestamp() + 2)
    sheet = organiser.get(f"/events/{day.event_id}/attendance", follow=True)
    day.say(f"the organiser opened the attendance sheet ({sheet.status_code})")
    municipal = Browser(cluster.base_url)
    municipal.sign_in(people.municipal, PASSWORD)
    today = local(day.end).date()
    answer = municipal.submit("/reports/periods", {
        "title": "Отчёт о сетевом взаимодействии (репетиция)",
        "starts_on": f"{today - timedelta(days=1):%Y-%m-%d}",
        "ends_on": f"{today + timedelta(days=1):%Y-%m-%d}",
        "deadline": f"{today + timedelta(days=10):%Y-%m-%d}"})
    match = re.search(r"/reports/periods/(\d+)$", str(answer.url))
    if match is None:
        day.fail(f"the municipal coordinator could not open a report period: "
                 f"{form_errors(answer.text)}")
        return
    period = int(match.group(1))
    signed_in = time.time()
    for n, (organisation_id, email) in enumerate(sorted(people.coordinators.items())):
        # All sign in from one address: 7 s apart stays under its limit (10 a minute).
        wait_until(signed_in + 7 * (n + 1))
        coordinator = Browser(cluster.base_url)
        try:
            coordinator.sign_in(email, PASSWORD)
        except RuntimeError as error:
            day.fail(str(error))
            continue
        path = f"/reports/periods/{period}/organisations/{organisation_id}"
        saved = coordinator.submit(path, {"comment": "Черновик: вебинар «Цифровая "
                                                     "лаборатория», репетиция", "action": "save"})
        if saved.status_code != 200:
            day.fail(f"the coordinator of organisation {organisation_id} could not draft "
                     f"the report ({saved.status_code})")
        coordinator.close()
    export = municipal.get(f"/reports/periods/{period}.csv")
    day.reports = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")),
                                  delimiter=sniff(export.content)))
    day.figures["period"] = (today - timedelta(days=1), today + timedelta(days=1))
    day.say(f"{len(people.coordinators)} reports drafted; the export has "
            f"{len(day.reports) - 1} organisations")
    municipal.close()


def sniff(content: bytes) -> str:
    head = content.decode("utf-8-sig").split("\n", 1)[0]
    return ";" if head.count(";") > head.count(",") else ","


def drain_outbox(url: str, seconds: float, day: Day) -> None:
    """Wait until the outbox has sent everything (or given up on something)."""
    from sqlalchemy import func, select

    from hub.extensions import db
    from hub.outbox.models import MessageStatus, OutboxMessage

    app = hub_app(url)
    deadline = time.time() + seconds
    with app.app_context():
        while True:
            waiting = db.session.scalar(select(func.count(OutboxMessage.id)).where(
                OutboxMessage.status.in_((MessageStatus.PENDING, MessageStatus.SENDING))))
            db.session.remove()
            if not waiting or time.time() > deadline:
                break
            time.sleep(1)
        db.engine.dispose()
    if waiting:
        day.fail(f"{waiting} letters still waiting in the outbox after {seconds:.0f} s")


# -- the checks ------------------------------------------------------------------------------

def check_mail(sink: MailSink, day: Day) -> None:
    """Every letter of the outbox delivered exactly once; nothing delivered that it lacks."""
    from email import message_from_string

    from sqlalchemy import select

    from hub.extensions import db
    from hub.outbox.models import MessageStatus, OutboxMessage

    copies = sink.copies()
    rows = db.session.execute(select(OutboxMessage.to_addr, OutboxMessage.kind,
                                     OutboxMessage.status, OutboxMessage.mime)).all()
    known: set[tuple[str, str]] = set()
    kinds: Counter[str] = Counter()
    lost = twice = unsent = 0
    for to, kind, status, mime in rows:
        key = (to.lower(), str(message_from_string(mime)["Message-ID"]))
        known.add(key)
        kinds[kind.split(":")[0]] += 1
        unsent += status != MessageStatus.SENT
        lost += copies[key] == 0
        twice += copies[key] > 1
    unknown = sum(n for key, n in copies.items() if key not in known)
    day.figures.update(letters=len(rows), refused=sink.refused)
    by_kind = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    day.say(f"mail: {len(rows)} letters in the outbox ({by_kind}); {sum(copies.values())} "
            f"delivered, {sink.refused} refused during the outage; "
            f"lost={lost} duplicated={twice} unknown={unknown} not marked sent={unsent}")
    if lost or twice or unknown or unsent:
        day.fail(f"mail not delivered exactly once: lost={lost} duplicated={twice} "
                 f"unknown={unknown} not marked sent={unsent}")
    if not kinds.get("invitation-update"):
        day.fail("no changed invitation was sent after the extension")


def check_joins(people: People, day: Day) -> None:
    """One join interval per teacher who clicked (double taps included), at the click."""
    from sqlalchemy import select

    from hub.attendance.models import Attendance, AttendanceInterval, Source
    from hub.extensions import db

    rows = db.session.execute(
        select(Attendance.person_id, AttendanceInterval.started_at)
        .join(AttendanceInterval, AttendanceInterval.attendance_id == Attendance.id)
        .where(Attendance.event_id == day.event_id,
               AttendanceInterval.source == Source.JOIN_LINK)).all()
    by_person: dict[int, list[datetime]] = defaultdict(list)
    for person_id, started in rows:
        by_person[person_id].append(started)
    clicked = {people.teachers[c.email]: c for c in day.clicks if c.status == 302}
    refused = [c for c in day.clicks if c.status != 302]
    twice = sum(len(v) > 1 for v in by_person.values())
    missing = sum(1 for pid in clicked if pid not in by_person)
    stray = sum(1 for pid in by_person if pid not in clicked)
    off = sum(1 for pid, c in clicked.items() if pid in by_person and
              abs(by_person[pid][0].replace(tzinfo=UTC).timestamp() - c.at) > 5)
    day.say(f"joins: {len(day.clicks)} clicks, {len(clicked)} let in, {len(by_person)} joins "
            f"recorded; twice={twice} missing={missing} stray={stray} time off={off}")
    if refused:
        day.fail(f"{len(refused)} join clicks were not sent to the room, e.g. "
                 f"{refused[0].status}")
    if twice or missing or stray or off:
        day.fail(f"joins not recorded exactly once: twice={twice} missing={missing} "
                 f"stray={stray} time off={off}")


def check_board(reports: list[dict[str, Any]], day: Day, plan: Plan) -> None:
    """Every post answered ok stored once, every like counted; every page equal to the
    database."""
    from sqlalchemy import func, select

    from hub.board.models import Post, PostState
    from hub.extensions import db

    answered: dict[str, int] = {}
    likes: Counter[int] = Counter()
    outcomes: Counter[str] = Counter()
    for report in reports:
        answered.update(report["posts"])
        for _teacher, post_id in report["likes"]:
            likes[post_id] += 1
        outcomes.update(report["outcomes"])
    stored = {row.client_key: (row.id, row.likes) for row in db.session.execute(
        select(Post.client_key, Post.id, Post.likes).where(
            Post.board_id == day.board_id, Post.deleted_at.is_(None),
            Post.state == PostState.PUBLISHED))}
    extra = db.session.scalar(select(func.count(Post.id)).where(
        Post.board_id == day.board_id, Post.client_key.is_(None)))
    lost = [k for k in answered if k not in stored]
    unanswered = [k for k in stored if k not in answered]
    wrong_likes = sum(1 for _key, (pid, n) in stored.items() if likes[pid] != n)
    database = {pid: n for pid, n in stored.values()}
    unequal = sum(1 for board in day.boards.values() if board != database)
    if unequal:
        sample = next(board for board in day.boards.values() if board != database)
        day.notes.append(f"a page that differs: {len(set(database) - set(sample))} posts "
                         f"missing, {len(set(sample) - set(database))} extra, "
                         f"{sum(sample.get(p) != n for p, n in database.items())} counts")
    day.say(f"board: {len(answered)} posts answered ok ({plan.posts} planned, and the baseline "
            f"post), {len(stored)} stored; {sum(likes.values())} likes answered ok, "
            f"{sum(database.values())} counted; outcomes {dict(outcomes)}")
    day.say(f"board: {len(day.boards)} pages at the end, {unequal} differ from the database")
    if lost or unanswered or extra or len(answered) != plan.posts + 1:
        day.fail(f"posts not stored exactly once: lost={len(lost)} stored without an answer="
                 f"{len(unanswered)} without a key={extra} answered={len(answered)}")
    if wrong_likes:
        day.fail(f"{wrong_likes} posts have a like count other than the likes answered ok")
    if unequal:
        day.fail(f"{unequal} pages show a board other than the database's")


def expected_credit(people: People, day: Day) -> dict[int, float]:
    """Hours by the rule, from the simulated joins: a join stands until the end; credited when
    it covers 80 % of the event."""
    assert day.start and day.end
    start, end = day.start.timestamp(), day.end.timestamp()
    hours = dict.fromkeys(people.teachers.values(), 0.0)
    for c in day.clicks:
        if c.status == 302 and end - max(c.at, start) >= CREDIT_SHARE * (end - start):
            hours[people.teachers[c.email]] = CREDIT_HOURS
    return hours


def check_credit(people: People, day: Day, base_url: str) -> None:
    """Credited hours as the rule gives them; one certificate per credited teacher; a
    certificate's code verifies."""
    from sqlalchemy import select

    from hub.attendance.models import Attendance
    from hub.extensions import db
    from hub.growth.models import Certificate

    expected = expected_credit(people, day)
    got = {pid: (hours if credited else 0.0) for pid, credited, hours in db.session.execute(
        select(Attendance.person_id, Attendance.credited, Attendance.hours)
        .where(Attendance.event_id == day.event_id))}
    wrong = [pid for pid, hours in expected.items() if abs(got.get(pid, 0.0) - hours) > 1e-6]
    certificates = db.session.execute(select(Certificate.person_id, Certificate.code).where(
        Certificate.event_id == day.event_id, Certificate.revoked_at.is_(None))).all()
    credited = {pid for pid, hours in expected.items() if hours}
    organiser_hours = sum(h for pid, h in got.items() if pid not in expected)
    day.figures["credited"] = len(credited)
    day.say(f"credit: {len(credited)} teachers credited by the rule ({sum(expected.values()):.0f}"
            f" h), {sum(got.get(p, 0) for p in expected):.0f} h in the records, {len(wrong)} "
            f"differ; the organiser {organiser_hours:.0f} h; {len(certificates)} certificates")
    if wrong:
        day.fail(f"{len(wrong)} teachers' credit differs from the rule")
    teachers_certified = {pid for pid, _code in certificates if pid in expected}
    if teachers_certified != credited:
        day.fail(f"certificates: {len(teachers_certified)} teachers hold one, {len(credited)} "
                 "were credited")
    verifier = Browser(base_url)
    for _pid, code in certificates[:3]:
        if verifier.get(f"/verify/{code}").status_code != 200:
            day.fail(f"certificate {code} does not verify")
    verifier.close()


def check_reports(people: People, day: Day) -> None:
    """Each organisation's report hours equal the sum of its people's portfolios."""
    from sqlalchemy import select

    from hub.directory.models import Organisation, Person
    from hub.extensions import db
    from hub.growth.portfolio import Period, portfolio_of
    from hub.reports.export import MAIN

    if not day.reports:
        day.fail("no report export to check")
        return
    first, last = day.figures["period"]
    names = dict(db.session.execute(select(Organisation.short_name, Organisation.id)).all())
    hours_column = HOURS_COLUMN + [name for name, _label in MAIN].index("hours")
    report_hours = {names[row[0]]: float(row[hours_column].replace(",", "."))
                    for row in day.reports[1:] if row and row[0] in names}
    portfolio_hours: Counter[int] = Counter()
    for person in db.session.scalars(select(Person)):
        portfolio_hours[person.organisation_id] += portfolio_of(
            person, Period(first, last)).summary.hours
    wrong = {org: (report_hours.get(org), hours) for org, hours in portfolio_hours.items()
             if abs(report_hours.get(org, 0.0) - hours) > 1e-6}
    total = float(day.reports[-1][hours_column].replace(",", "."))  # the export's last line
    if abs(total - sum(portfolio_hours.values())) > 1e-6:
        wrong["total"] = (total, sum(portfolio_hours.values()))
    day.say(f"reports: {len(report_hours)} organisations, {sum(report_hours.values()):.0f} h "
            f"in the reports, {sum(portfolio_hours.values()):.0f} h in the portfolios; "
            f"{len(wrong)} differ")
    if wrong:
        day.fail(f"report totals differ from the portfolios: {wrong}")


# -- one deployment --------------------------------------------------------------------------

def rehearse(deployment: Deployment, plan: Plan, crowd: Crowd, logs: Path | None) -> Day:
    """The whole day on one deployment; what happened and what failed."""
    day = Day(group=f"board-{deployment.name}")
    day.say(f"== {deployment.name}: {deployment.summary}; {plan.teachers} invited, "
            f"{plan.joins} join in two minutes"
            + (f" and {plan.late_joins} later" if plan.late_joins else "")
            + f", {plan.board} on the board ==")
    with tempfile.TemporaryDirectory(prefix="rehearsal-") as tmp, ExitStack() as stack:
        folder = logs / deployment.name if logs else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        url = stack.enter_context(bench_database(PG_DB, deployment.postgres, folder))
        sink = MailSink(free_port())
        sink.start()
        stack.callback(sink.stop)
        cluster = Cluster(deployment, url, sink.port, folder, plan.board)
        migrate(cluster.env)
        people = seed(url, plan.teachers)
        stack.callback(cluster.stop)  # registered first: a start that fails half-way too
        cluster.start()
        day.say(f"serving on {cluster.base_url}")
        organiser = Browser(cluster.base_url)
        organiser.sign_in(people.organiser, PASSWORD)
        schedule(organiser, people, plan, day)
        assert day.start is not None
        start = day.start.timestamp()
        links = join_links(sink, people, max(30.0, start - plan.at(0.1) - time.time() - 5), day)
        joins = threading.Thread(target=Joins(cluster, crowd, plan, deployment, links,
                                              day).run, args=(start,), daemon=True)
        joins.start()  # the board fills up while people are still joining
        board_phase(crowd, cluster, organiser, sink, plan, start, day)
        joins.join()
        board_reports = crowd.ask("report", day.group)
        crowd.ask("leave", day.group)
        after_the_end(cluster, organiser, people, day, plan)
        drain_outbox(url, 240, day)
        app = hub_app(url)
        with app.app_context():
            check_mail(sink, day)
            check_joins(people, day)
            check_board(board_reports, day, plan)
            check_credit(people, day, cluster.base_url)
            check_reports(people, day)
        fan_out(board_reports, day)
        for problem in cluster.problems():
            day.notes.append(problem)
        organiser.close()
    for note in day.notes[:10]:
        day.say(f"note: {note}")
    return day


def fan_out(reports: list[dict[str, Any]], day: Day) -> None:
    """The board's delivery latency to every page, and posts stored per second."""
    latencies = [t for r in reports for t, _sent in r["latencies"]]
    killed = day.figures.get("killed_at", 0.0)
    steady = [t for r in reports for t, sent in r["latencies"]
              if not killed - 5 < sent < killed + 30]
    posts = sum(len(r["posts"]) for r in reports)
    start, end = day.load_window
    seconds = max(1.0, end - start)
    resent: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    for r in reports:
        resent.update(r["resent"])
        failures.update(r["failures"])
    for failure, count in failures.most_common(6):
        day.notes.append(f"{count} × {failure}")
    day.figures.update(
        p50_ms=percentile(latencies, 50) * 1000, p99_ms=percentile(latencies, 99) * 1000,
        steady_p99_ms=percentile(steady, 99) * 1000,
        baseline_p50_ms=percentile(day.baseline, 50) * 1000,
        baseline_p99_ms=percentile(day.baseline, 99) * 1000, posts_per_s=posts / seconds,
        deliveries=len(latencies), reconnects=sum(r["reconnects"] for r in reports),
        polling=sum(r["polling"] for r in reports), resent=dict(resent))
    f = day.figures
    day.say(f"fan-out: {f['deliveries']} deliveries p50_ms={f['p50_ms']:.0f} p99_ms="
            f"{f['p99_ms']:.0f}, away from the kill p99_ms={f['steady_p99_ms']:.0f} "
            f"(baseline, one post with no load: p50_ms="
            f"{f['baseline_p50_ms']:.0f} p99_ms={f['baseline_p99_ms']:.0f}); posts_per_s="
            f"{f['posts_per_s']:.1f}; {f['reconnects']} reconnects, {f['polling']} pages on "
            f"long polling, sent again: {f['resent']}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deployment", choices=("embedded", "scaled", "both"), default="both")
    parser.add_argument("--teachers", type=int, default=500)
    parser.add_argument("--joins", type=int, default=450, help="join within two minutes")
    parser.add_argument("--board", type=int, help="teachers on the board (default: 300 "
                        "embedded, 500 scaled)")
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--likes", type=int, default=5000)
    parser.add_argument("--minutes", type=int, default=4, help="the webinar's length as "
                        "scheduled (one more is added in the middle)")
    parser.add_argument("--outage", type=float, default=60.0, help="seconds without SMTP")
    parser.add_argument("--workers", type=int, default=4, help="client processes")
    parser.add_argument("--quick", action="store_true",
                        help="60 teachers, 40 on the board, 100 posts, a 2-minute webinar")
    parser.add_argument("--logs", type=Path, help="keep the servers' logs in this folder")
    return parser.parse_args()


def plan_for(deployment: Deployment, args: argparse.Namespace) -> Plan:
    if args.quick:
        return Plan(60, 45, 15 if deployment.late_joins else 0, 40 if deployment.servers > 1
                    else 30, 100, 400, 2, 30.0)
    board = args.board or deployment.board
    late = min(deployment.late_joins, args.teachers - args.joins)
    return Plan(args.teachers, args.joins, late, board, args.posts, args.likes, args.minutes,
                args.outage)


def main() -> None:
    args = parse_args()
    names = ["embedded", "scaled"] if args.deployment == "both" else [args.deployment]
    if "scaled" in names and not postgres_reachable():
        raise SystemExit("rehearsal: the scaled deployment needs PostgreSQL on 127.0.0.1:5432")
    crowd = Crowd(args.workers, Teachers)  # forked before anything else is opened
    results: dict[str, Day] = {}
    try:
        for name in names:
            results[name] = rehearse(DEPLOYMENTS[name], plan_for(DEPLOYMENTS[name], args),
                                     crowd, args.logs)
    finally:
        crowd.close()
    for name, day in results.items():
        f = day.figures
        print(f"rehearsal {name} {'ok' if not day.failures else 'FAILED'} "
              f"letters={f.get('letters', 0)} credited={f.get('credited', 0)} "
              f"p50_ms={f.get('p50_ms', 0):.0f} p99_ms={f.get('p99_ms', 0):.0f} "
              f"baseline_p99_ms={f.get('baseline_p99_ms', 0):.0f} "
              f"posts_per_s={f.get('posts_per_s', 0):.1f} failures={len(day.failures)}")
    if any(day.failures for day in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
