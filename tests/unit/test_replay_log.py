"""The in-process replay log: memory follows the active topics, and a reader resuming on a
topic whose log was dropped is told to resync, never that it missed nothing."""

from __future__ import annotations

from chat_web.adapters.fanout.inprocess import InProcessFanOut
from chat_web.adapters.fanout.replay import ReplayLogs

WINDOW = 600.0


class Time:
    """A wall clock the test moves (seconds, as time.time gives them)."""

    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_logs_of_topics_idle_past_the_window_are_dropped():
    clock = Time()
    logs = ReplayLogs(WINDOW, 1000, clock)
    for n in range(500):
        logs.append(f"user:{n}", {"type": "message.new"})
    assert len(logs) == 500
    clock.now += WINDOW - 1
    logs.append("user:7", {"type": "message.new"})  # still active
    assert len(logs) == 500  # nobody idle yet: within the window everything is kept
    clock.now += 2
    logs.append("user:new", {"type": "message.new"})
    assert len(logs) == 2  # user:7 and user:new; the 499 idle topics are gone


async def test_replay_on_a_dropped_log_says_resync_even_after_new_events():
    clock = Time()
    fanout = InProcessFanOut(replay_seconds=WINDOW, clock=clock)
    await fanout.publish("user:a", {"type": "message.new", "n": 1}, replayable=True)
    async with fanout.subscribe("user:a") as events:
        await fanout.publish("user:a", {"type": "message.new", "n": 2}, replayable=True)
        seen = (await anext(events))["id"]
    assert await fanout.replay("user:a", seen) == []  # within the window: nothing since

    clock.now += WINDOW + 1
    await fanout.publish("user:other", {"type": "chat.read"}, replayable=True)  # drops user:a's log
    assert await fanout.replay("user:a", seen) is None  # no longer kept: resync

    await fanout.publish("user:a", {"type": "message.new", "n": 3}, replayable=True)
    # A fresh log holds only n=3: whatever came between is unknown, so resync, not "n=3 only".
    assert await fanout.replay("user:a", seen) is None


async def test_an_active_topic_keeps_its_replay_across_the_drop_of_idle_ones():
    clock = Time()
    fanout = InProcessFanOut(replay_seconds=WINDOW, clock=clock)
    async with fanout.subscribe("user:a") as events:
        await fanout.publish("user:idle", {"type": "chat.read"}, replayable=True)
        clock.now += 100
        await fanout.publish("user:a", {"type": "message.new", "n": 1}, replayable=True)
        seen = (await anext(events))["id"]
        clock.now += 100
        await fanout.publish("user:a", {"type": "message.new", "n": 2}, replayable=True)
        clock.now += WINDOW - 150  # user:idle is idle now; user:a's events are within the window
        await fanout.publish("user:b", {"type": "chat.read"}, replayable=True)
    missed = await fanout.replay("user:a", seen)
    assert [e["n"] for e in missed] == [2]
    assert await fanout.replay("user:idle", "0-0") is None
