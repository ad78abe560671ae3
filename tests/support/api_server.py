"""The REST API alone behind a real HTTP server, configured by the environment like the app.

    granian --interface asgi --host 127.0.0.1 --port 8100 tests.support.api_server:app

The same FastAPI app that Reflex mounts, with a lifespan that owns the services; for tools
that need a real server (the fuzz run) without starting the whole Reflex app.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from chat_web import container
from chat_web.api.app import PREFIX, create_api
from chat_web.config import get_settings

ROOT = Path(__file__).resolve().parents[2]


def _create_app():
    api = create_api()

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        async with container.running(get_settings()):
            yield

    api.router.lifespan_context = lifespan
    return api


app = _create_app()


class ApiServer:
    """`granian` serving `app` on a free port of 127.0.0.1, in a subprocess with its own settings."""

    def __init__(self, data_dir: Path, **env: str):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.data_dir = data_dir
        self.base = f"http://127.0.0.1:{self.port}{PREFIX}"
        self.env = {**os.environ, "DATA_DIR": str(data_dir), "REFLEX_ENV_MODE": "dev", **env}
        self.log = data_dir / "api-server.log"
        self._process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> ApiServer:
        command = [
            sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
            "--port", str(self.port), "--log-level", "warning", "tests.support.api_server:app",
        ]  # fmt: skip
        with self.log.open("a") as out:
            self._process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"the API server exited:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/openapi.json", timeout=2).status_code == 200:
                    return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the API server did not answer:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=20)
