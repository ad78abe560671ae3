"""Servers run as subprocesses on a free port of 127.0.0.1, for tests, fuzz runs and benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Served:
    port: int
    process: subprocess.Popen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def stop_group(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the process's whole group (a server and its workers), SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def _start(command: list[str], log: Path, env: dict[str, str]) -> tuple[int, list[str], subprocess.Popen]:
    port = free_port()
    command = [part.replace("{port}", str(port)) for part in command]
    with log.open("a") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return port, command, process


def _wait_ready(port: int, command: list[str], process: subprocess.Popen, ready_path: str, log: Path) -> None:
    deadline = time.monotonic() + 180
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{' '.join(command[:4])} exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://{HOST}:{port}{ready_path}", timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{' '.join(command[:4])} did not answer:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


@contextlib.contextmanager
def serve(command: list[str], ready_path: str, log: Path, env: dict[str, str]) -> Iterator[Served]:
    """Run `command` ("{port}" in it becomes a free port) until the block ends; yields the
    port and the process once GET ready_path answers 200."""
    with serve_together([command], ready_path, log, env) as (served,):
        yield served


@contextlib.contextmanager
def serve_together(
    commands: list[list[str]], ready_path: str, log: Path, env: dict[str, str]
) -> Iterator[list[Served]]:
    """`serve` for several servers started at the same moment (say, workers racing at start-up);
    yields them once every one answers GET ready_path with 200."""
    started = []
    try:
        for command in commands:
            started.append(_start(command, log, env))
        for port, command, process in started:
            _wait_ready(port, command, process, ready_path, log)
        yield [Served(port, process) for port, _, process in started]
    finally:
        for _, _, process in started:
            stop_group(process)


@contextlib.contextmanager
def serving(command: list[str], ready_path: str, log: Path, env: dict[str, str]) -> Iterator[int]:
    """`serve`, for callers that need only the port."""
    with serve(command, ready_path, log, env) as served:
        yield served.port


def resident_kb(root_pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB."""
    total, pending = 0, [root_pid]
    while pending:
        pid = pending.pop()
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        pending += [int(c) for c in children]
    return total
