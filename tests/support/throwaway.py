"""Throwaway PostgreSQL, Redis and RabbitMQ servers on free ports, for outage tests.

The machine's shared services are never stopped by a test: an outage test starts one of
these, stops it under traffic and starts it again on the same port. Each class says, via
`missing()`, what it needs that this machine lacks; the test then uses `need_service`.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.conftest import port_open
from tests.support.smtp_sink import free_port


def _wait_port(port: int, up: bool, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while port_open("127.0.0.1", port) != up:
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not {'start' if up else 'stop'} on port {port}")
        time.sleep(0.05)


def _scratch_dir(prefix: str, owner: str | None) -> Path:
    # Not under pytest's tmp_path: the server's own user must be able to reach it.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    if owner is not None:
        shutil.chown(path, owner, owner)
    return path


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class ThrowawayRedis:
    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen | None = None

    @staticmethod
    def missing() -> str:
        return (
            "" if shutil.which("redis-server") else "the redis-server binary (apt-get install redis-server)"
        )

    def start(self) -> ThrowawayRedis:
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port, True, 20, "Redis")
        return self

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=20)
        self._process = None
        _wait_port(self.port, False, 20, "Redis")

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=20)


class ThrowawayPostgres:
    """A temporary cluster (initdb + pg_ctl) run as the `postgres` user, since PostgreSQL refuses root."""

    def __init__(self):
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._bin = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)), "")
        self._dir: Path | None = None

    def missing(self) -> str:
        if not self._bin or not os.path.exists(f"{self._bin}/initdb"):
            return "PostgreSQL's initdb and pg_ctl (apt-get install postgresql)"
        if os.geteuid() == 0 and not (_user_exists("postgres") and shutil.which("runuser")):
            return "a `postgres` user and runuser to run a cluster as"
        return ""

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> ThrowawayPostgres:
        if self._dir is None:
            self._dir = _scratch_dir("chat-pg-", "postgres" if os.geteuid() == 0 else None)
            self._run(
                f"{self._bin}/initdb", "-D", f"{self._dir}/data", "-A", "trust", "-U", "postgres", "--no-sync"
            )
        options = f"-p {self.port} -k {self._dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            f"{self._bin}/pg_ctl",
            "-D",
            f"{self._dir}/data",
            "-l",
            f"{self._dir}/log",
            "-o",
            options,
            "-w",
            "start",
        )
        _wait_port(self.port, True, 30, "PostgreSQL")
        return self

    def stop(self) -> None:
        # Fast shutdown: open connections are cut, as in a crash or a failover.
        self._run(f"{self._bin}/pg_ctl", "-D", f"{self._dir}/data", "-m", "fast", "-w", "stop")
        _wait_port(self.port, False, 30, "PostgreSQL")

    def close(self) -> None:
        if self._dir is None:
            return
        if port_open("127.0.0.1", self.port):
            self._run(f"{self._bin}/pg_ctl", "-D", f"{self._dir}/data", "-m", "immediate", "-w", "stop")
        shutil.rmtree(self._dir, ignore_errors=True)


class ThrowawayRabbitMQ:
    """A second RabbitMQ node on free ports with its own data, log and config (no plugins)."""

    def __init__(self):
        self.port = free_port()
        self.node = f"chattest{self.port}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"
        self._dist_port = free_port()
        self._dir: Path | None = None

    @staticmethod
    def missing() -> str:
        if not (shutil.which("rabbitmq-server") and shutil.which("rabbitmqctl")):
            return "rabbitmq-server and rabbitmqctl (apt-get install rabbitmq-server)"
        return ""

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self._dist_port),
            "RABBITMQ_MNESIA_BASE": f"{self._dir}/mnesia",
            "RABBITMQ_LOG_BASE": f"{self._dir}/log",
            "RABBITMQ_PID_FILE": f"{self._dir}/pid",
            "RABBITMQ_ENABLED_PLUGINS_FILE": f"{self._dir}/enabled_plugins",
            # Its own config: the machine's names the shared node's listener port.
            "RABBITMQ_CONFIG_FILE": f"{self._dir}/rabbitmq.conf",
        }

    def start(self) -> ThrowawayRabbitMQ:
        if self._dir is None:
            owner = "rabbitmq" if os.geteuid() == 0 and _user_exists("rabbitmq") else None
            self._dir = _scratch_dir("chat-rabbit-", owner)
            (self._dir / "enabled_plugins").write_text("[].\n")
            (self._dir / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
            if owner:
                for name in ("enabled_plugins", "rabbitmq.conf"):
                    shutil.chown(self._dir / name, owner, owner)
        subprocess.run(["rabbitmq-server", "-detached"], env=self._env(), check=True, timeout=60)
        _wait_port(self.port, True, 120, "RabbitMQ")
        return self

    def stop(self) -> None:
        subprocess.run(["rabbitmqctl", "-n", self.node, "stop"], capture_output=True, timeout=120, check=True)
        _wait_port(self.port, False, 30, "RabbitMQ")

    def close(self) -> None:
        if self._dir is None:
            return
        if port_open("127.0.0.1", self.port):
            subprocess.run(["rabbitmqctl", "-n", self.node, "stop"], capture_output=True, timeout=120)
        shutil.rmtree(self._dir, ignore_errors=True)
