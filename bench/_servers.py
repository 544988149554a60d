"""Shared by the benchmarks that run the hub as production does: gunicorn server processes on
loopback, their CPU time and logged errors, and percentiles."""

from __future__ import annotations

import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_reachable() -> bool:
    """Whether something listens on PostgreSQL's port."""
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", 5432)) == 0


PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def bench_database(name: str, postgres: bool, folder: Path) -> Iterator[str]:
    """A fresh database for a run, dropped afterwards: `name` on the local PostgreSQL, or the
    SQLite file `folder/name.sqlite3` (a kept logs folder's old file is replaced)."""
    if not postgres:
        path = folder / f"{name}.sqlite3"
        path.unlink(missing_ok=True)
        yield f"sqlite:///{path}"
        return
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def gunicorn(app: str, port: int, mode: str, clients: int) -> list[str]:
    """The gunicorn command line of one worker process in the given async mode."""
    command = [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}",
               "--graceful-timeout", "3", "--log-level", "warning",
               "--worker-connections", str(clients * 2 + 200)]
    if mode == "gevent":
        command += ["-k", "gevent"]
    else:
        command += ["-k", "gthread", "--threads", str(clients * 2 + 100)]
    return [*command, app]


def processes() -> Iterator[tuple[int, str, list[str]]]:
    """Every process: its pid, its name and the fields of /proc/<pid>/stat after the name."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, _, rest = text.partition("(")[2].rpartition(")")
        yield int(stat.parent.name), name, rest.split()


def children(pid: int) -> list[int]:
    """The child processes of `pid` (Linux: scans /proc)."""
    return [child for child, _name, fields in processes() if int(fields[1]) == pid]


def process_cpu(pid: int) -> float:
    """User and system CPU seconds of one process (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """A server subprocess and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        """Quick shutdown (SIGINT), then kill if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL the server's processes (gunicorn's master and worker): a crash."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's processes (gunicorn's master and worker)."""
        return sum(process_cpu(pid) for pid in [self.process.pid, *children(self.process.pid)])

    def problems(self, limit: int = 40) -> list[str]:
        """Error lines and tracebacks the server logged (the first `limit` lines)."""
        lines = self.log.read_text(errors="replace").splitlines()
        keep = [n for n, line in enumerate(lines)
                if re.search(r"Traceback|ERROR|CRITICAL|Exception|Error:", line)]
        if not keep:
            return []
        return lines[keep[0]:keep[0] + limit] + [f"… {len(keep)} error lines in all"]


def start_server(name: str, command: list[str], env: dict[str, str], folder: Path,
                 probe: str) -> Server:
    """Start a server and wait until `probe` answers 200."""
    port = int(command[command.index("-b") + 1].rsplit(":", 1)[1])
    log = folder / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(name, process, f"http://127.0.0.1:{port}", log)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} server exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + probe, timeout=2) as answer:
                if answer.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    server.stop()
    raise SystemExit(f"{name} server did not answer {probe} within 60 s")


@contextmanager
def served(tag: str, name: str, command: list[str], env: dict[str, str], folder: Path,
           probe: str) -> Iterator[Server]:
    """A server for the duration of the block; its logged errors are shown afterwards, each
    line prefixed with the bench's `tag`."""
    server = start_server(name, command, env, folder, probe)
    try:
        yield server
    finally:
        server.stop()
        problems = server.problems()
        if problems:
            print(f"{tag}: {server.name}: the server logged errors:")
            print("\n".join("    " + line for line in problems))


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]
