"""Without Redis, one app process per data folder: a second one would miss live events.

Tabs and live events stay inside the process that serves them unless Redis joins the
processes. A second app process on the same DATA_DIR (a second `reflex run`, a second
instance) would share the database but silently lose every event between the two,
so it is refused with a one-line reason.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sys
import time
from collections.abc import Iterator

from chat_web.config import Settings

log = logging.getLogger("chat_web")
WAIT_SECONDS = 15.0  # a hot reload starts the new process while the old one is stopping


@contextlib.contextmanager
def only_process(settings: Settings, wait: float = WAIT_SECONDS) -> Iterator[None]:
    if settings.redis_url:
        yield
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / ".app.lock"
    with path.open("a") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    print(
                        f"\nchat_web refuses to start: another app process already serves "
                        f"{settings.data_dir} without REDIS_URL; live events would not reach its tabs. "
                        "Set REDIS_URL to run several processes.\n",
                        file=sys.stderr,
                        flush=True,
                    )
                    os._exit(3)  # from inside the server's lifespan: no traceback, no respawn loop
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
