"""A log line whenever garbage collection stops the process long enough to show in latency.

Every tab this process serves keeps its page state here between events, trees of objects
with cycles: a full collection walks them all, and the event loop stands still meanwhile.
At 1,000 tabs under load such pauses reached half a second (measured with `gc.callbacks`),
so an operator who sees a slow p99 should see them too.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)
SLOW = 0.2  # seconds: a collection at least this long is logged

_started = 0.0


def install() -> None:
    if _watch not in gc.callbacks:
        gc.callbacks.append(_watch)


def _watch(phase: str, info: dict) -> None:
    global _started
    if phase == "start":
        _started = time.perf_counter()
        return
    took = time.perf_counter() - _started
    if took >= SLOW:
        log.warning(
            "garbage collection (generation %d) stopped the process for %.0f ms",
            info.get("generation", -1),
            took * 1000,
        )
