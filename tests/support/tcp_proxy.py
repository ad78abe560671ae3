"""A TCP proxy whose target the test chooses: a load balancer that tests can steer.

Each new connection goes to the current target and stays there, like a sticky
load balancer; the proxy remembers where each one went (and its first request
line, which for a Reflex websocket names the tab's token).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class Routed:
    target: int
    first_line: str


@dataclass
class SteerableProxy:
    targets: list[int]  # backend ports
    current: int = 0  # index into targets
    routed: list[Routed] = field(default_factory=list)
    port: int = 0

    def start(self) -> SteerableProxy:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def steer(self, index: int) -> None:
        self.current = index

    def tokens_on(self, index: int) -> list[str]:
        """The tab tokens of the websockets routed to targets[index]."""
        found = []
        for routed in self.routed:
            if routed.target == index and "/_event/" in routed.first_line and "token=" in routed.first_line:
                found.append(routed.first_line.split("token=", 1)[1].split("&", 1)[0].split(" ", 1)[0])
        return found

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)

        async def main():
            self._stopping = asyncio.Event()
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
            ready.set()
            await self._stopping.wait()
            self._server.close()
            # Every connection's task is cancelled AND awaited: a task left pending when the
            # loop closes is "destroyed but pending" (a traceback in every test run's output).
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            await self._server.wait_closed()

        try:
            self._loop.run_until_complete(main())
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        finally:
            self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = self.current
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.targets[index])
        except OSError:
            writer.close()
            return
        try:
            first = await reader.readline()
            self.routed.append(Routed(index, first.decode(errors="replace").strip()))
            upstream_writer.write(first)
            await asyncio.gather(_pump(reader, upstream_writer), _pump(upstream_reader, writer))
        finally:
            # Also when the proxy stops: both sockets close with the connection's task.
            for side in (writer, upstream_writer):
                side.close()

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # stopped already: its loop is closed
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)


async def _pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while chunk := await src.read(65536):
            dst.write(chunk)
            await dst.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            dst.close()
