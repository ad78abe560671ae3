"""The production build served the way the container serves it: scripts/build.sh once, then
scripts/serve.sh per app process (one port each), for the smoke and scale-out tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from chat_web.adapters.push.keys import new_keys
from tests.support.processes import HOST, ROOT, free_port, stop_group

BUILD_TIMEOUT = 600  # a first build installs the frontend packages
START_TIMEOUT = 60
SECRET = "production-test-secret-" + "x" * 24
VAPID = new_keys()  # a pair of its own for each test session
METRICS_TOKEN = "production-test-metrics-token"  # production serves /metrics only with it
METRICS_AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def build() -> None:
    """scripts/build.sh, as the Dockerfile runs it; raises with its output if it fails."""
    done = subprocess.run(
        ["bash", "scripts/build.sh"], cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/build.sh failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def production_env(data: Path, **settings: str) -> dict[str, str]:
    """The environment of a production app process: fresh data, a real secret, these settings."""
    return {
        **os.environ,
        "DATA_DIR": str(data),
        "JWT_SECRET": SECRET,
        # Production refuses push without a VAPID pair (README "Push notifications").
        "VAPID_PRIVATE_KEY": VAPID.private,
        "VAPID_PUBLIC_KEY": VAPID.public,
        "METRICS_TOKEN": METRICS_TOKEN,
        "REFLEX_BACKEND_HOST": HOST,
        "PROMETHEUS_MULTIPROC_DIR": str(data / "metrics"),
        **dict.fromkeys(("REDIS_URL", "DATABASE_URL", "MONGODB_URI", "RABBITMQ_URL", "SMTP_HOST"), ""),
        **settings,
    }


class ProductionServer:
    """`scripts/serve.sh` on a free port, in its own process group, logging to a file."""

    def __init__(self, env: dict[str, str], log: Path, port: int | None = None):
        self.port = port or free_port()
        self.log = log
        self.env = {**env, "PORT": str(self.port)}
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> ProductionServer:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                ["bash", "scripts/serve.sh"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> ProductionServer:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app exited ({self.process.returncode}):\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/v1/ready", timeout=2).status_code == 200:
                    return self
            time.sleep(0.2)
        raise RuntimeError(f"the app was not ready at {self.url}:\n{self.tail()}")

    def signal(self, signum: int) -> None:
        """SIGTERM to the server process alone (as `docker stop` does); SIGKILL to all of it."""
        if signum == signal.SIGKILL:
            os.killpg(self.process.pid, signal.SIGKILL)
        else:
            self.process.send_signal(signum)

    def wait_exit(self, timeout: float = 30) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop_group(self.process, timeout=20)
        elif self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # workers a SIGKILL left behind

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text()[-chars:] if self.log.exists() else ""
