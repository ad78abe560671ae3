"""A collection long enough to show in latency is logged; a short one is not."""

from __future__ import annotations

import gc
import logging

from chat_web import gc_watch


def test_a_long_collection_is_logged_and_a_short_one_is_not(caplog, monkeypatch):
    gc_watch.install()
    gc_watch.install()  # once is enough: no second callback
    try:
        assert gc.callbacks.count(gc_watch._watch) == 1
        with caplog.at_level(logging.WARNING, logger="chat_web.gc_watch"):
            monkeypatch.setattr(gc_watch, "SLOW", 3600.0)
            gc.collect()
            assert not caplog.records
            monkeypatch.setattr(gc_watch, "SLOW", 0.0)
            gc.collect()
        assert "garbage collection (generation 2) stopped the process for" in caplog.records[-1].getMessage()
    finally:
        gc.callbacks.remove(gc_watch._watch)
