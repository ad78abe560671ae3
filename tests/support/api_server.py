"""The REST API alone behind a real HTTP server, configured by the environment like the app.

    granian --interface asgi --host 127.0.0.1 --port 8100 tests.support.api_server:app

The same FastAPI app that Reflex mounts, with a lifespan that owns the services; for tools
that need a real server (the fuzz run) without starting the whole Reflex app.
"""

from __future__ import annotations

import contextlib
import sys

from chat_web import container
from chat_web.api.app import create_api
from chat_web.config import get_settings

COMMAND = [
    sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", "{port}",
    "--log-level", "warning", "tests.support.api_server:app",
]  # fmt: skip


def _create_app():
    api = create_api()

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        async with container.running(get_settings()):
            yield

    api.router.lifespan_context = lifespan
    return api


app = _create_app()
