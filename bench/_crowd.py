"""Client processes for the benchmarks that need hundreds of Socket.IO clients (one process
cannot drive 500 websockets): each worker process runs an asyncio loop with groups of clients
and answers the orchestrator's commands over a pipe."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import resource
import signal
import threading
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.connection import Connection
from typing import Any

#: Makes a worker's group of clients from the worker's index; its async methods are the
#: commands, called as `(command, group name, *args)`.
GroupFactory = Callable[[int], Any]


class Worker:
    """One client process: its groups of clients, serving the orchestrator's commands."""

    def __init__(self, conn: Connection, index: int, make_group: GroupFactory) -> None:
        self.conn = conn
        self.index = index
        self.make_group = make_group
        self.groups: dict[str, Any] = {}

    async def serve(self) -> None:
        """Run `(command, group, *args)` until told to stop; answer each over the pipe."""
        loop = asyncio.get_running_loop()
        while True:
            command, *args = await loop.run_in_executor(None, self.conn.recv)
            if command == "stop":
                break
            if command == "cpu":
                usage = resource.getrusage(resource.RUSAGE_SELF)
                self.conn.send(usage.ru_utime + usage.ru_stime)
                continue
            name, *rest = args
            group = self.groups.get(name)
            if group is None:
                group = self.groups[name] = self.make_group(self.index)
            self.conn.send(await getattr(group, command)(*rest))


def worker_main(conn: Connection, index: int, make_group: GroupFactory) -> None:
    """A worker process: its own event loop and clients (lost connections are counted as
    reconnects, not logged one by one)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("engineio.client", "socketio.client"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    asyncio.run(Worker(conn, index, make_group).serve())


class Crowd:
    """The worker processes and the commands sent to them (from any thread of the
    orchestrator: one command at a time). Fork them before the orchestrator opens anything
    (databases, servers, threads)."""

    def __init__(self, workers: int, make_group: GroupFactory) -> None:
        self.lock = threading.Lock()
        context = mp.get_context("fork")
        self.pipes: list[Connection] = []
        self.processes = []
        for index in range(workers):
            ours, theirs = context.Pipe()
            process = context.Process(target=worker_main, args=(theirs, index, make_group),
                                      daemon=True)
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)

    def ask(self, command: str, *args: Any) -> list[Any]:
        """Send a command to every worker and collect their answers."""
        return self.ask_each(command, [args] * len(self.pipes))

    def ask_each(self, command: str, per_worker: list[tuple[Any, ...]]) -> list[Any]:
        """Send each worker its own arguments and collect their answers."""
        with self.lock:
            for pipe, args in zip(self.pipes, per_worker, strict=True):
                pipe.send((command, *args))
            return [pipe.recv() for pipe in self.pipes]

    def ask_one(self, index: int, command: str, *args: Any) -> Any:
        """Send a command to one worker."""
        with self.lock:
            self.pipes[index].send((command, *args))
            return self.pipes[index].recv()

    def close(self) -> None:
        """Stop the workers."""
        for pipe in self.pipes:
            with suppress(OSError):
                pipe.send(("stop",))
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.terminate()
