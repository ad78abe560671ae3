"""What one delivered message costs a tab's page state, in-process: the bytes of the delta
Reflex would send, and the CPU to apply the event, compute that delta and encode it.

    python -m benchmarks.delivery                 # 20 chats, 400 messages
    python -m benchmarks.delivery --chats 50 --messages 1000

One user's tab lists --chats direct chats and has the oldest open, 40 messages in; messages
then arrive in the open chat, which nearly always is the one being talked in, and every
tenth in another chat (it moves to the top of the list). No socket, no Redis, no storage
round trip (the in-memory adapters of the unit tests): this is the page state's own share of
a delivery, the part that `ReflexTabs.deliver` spends inside the tab's lock, apart from the
load and save of the state. The floor in the same run: the message's own JSON, what a
lean server (benchmarks/live_floor.py) encodes and sends per message.

A second table: what each kind of event leaves the state manager to save, the pickled
substates it touched (Reflex writes only those: to disk, or to Redis when the tab's lock
moves), for a delivered message, someone's typing delivered, and the composer's typing signal
and reply banner. This is what splitting
the page's state into substates changes.
It runs against whatever revision is checked out, so the same command measures a before
and an after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Iterator

from benchmarks.common import percentile, table


async def measure(chats: int, messages: int) -> list[list[str]]:
    from unittest import mock

    from chat_web import container
    from chat_web.domain.events import message_new, user_typing
    from chat_web.domain.wire import message_json
    from chat_web.state.chat import ChatState

    clock_owner = next(c for c in ChatState.__mro__ if "_now" in c.__dict__)  # the list's state, or this one
    from tests.conftest import FakeClock
    from tests.support.chat_page import World, open_page

    clock = FakeClock()
    world = World(clock)
    with (
        mock.patch.object(container, "_current", world.container),
        mock.patch.object(clock_owner, "_now", lambda self: clock.now()),
    ):
        me = await world.user("reader")
        friends, listed = [], []
        for n in range(chats):
            friends.append(await world.user(f"friend{n:03d}"))
            listed.append(await world.chats.open_direct(me, friends[-1].id))
            clock.advance(seconds=1)
        talking, partner = listed[0], friends[0]
        for n in range(40):
            await world.chats.send_text(partner, talking.id, f"earlier {n}", f"e{n}")
        state = world.tab(me, f"/chat/{talking.id}")
        await open_page(state)
        root = state
        while root.parent_state is not None:
            root = root.parent_state
        app_bytes, app_cpu, floor_bytes, floor_cpu = [], [], [], []
        saved: dict[str, list[int]] = {
            "a delivered message": [],
            "someone's typing, delivered": [],
            "a typing signal": [],
            "a reply banner": [],
        }
        for n in range(messages):
            clock.advance(seconds=1)
            elsewhere = n % 10 == 9
            chat, sender = (
                (listed[1 + n % (chats - 1)], friends[1 + n % (chats - 1)])
                if elsewhere
                else (
                    talking,
                    partner,
                )
            )
            text = f"message {n} about the plan for today"
            message, _ = await world.chats.send_text(sender, chat.id, text, f"m{n}")
            untouch(root)
            started = time.process_time()
            events = [message_new(message)]
            await target(state, events)._apply_events(events)
            delta = await root._get_resolved_delta()
            encoded = json.dumps(delta, default=str)
            app_cpu.append(1000 * (time.process_time() - started))
            app_bytes.append(len(encoded.encode()))
            saved["a delivered message"].append(touched_bytes(root))
            started = time.process_time()
            floor = json.dumps(message_json(message))
            floor_cpu.append(1000 * (time.process_time() - started))
            floor_bytes.append(len(floor.encode()))
        # A live event that changes the chat list only: someone typing.
        for _ in range(50):
            clock.advance(seconds=6)  # past the last "typing…"
            untouch(root)
            typing = [user_typing(talking.id, partner.id, partner.name)]
            await target(state, typing)._apply_events(typing)
            await root._get_resolved_delta()
            saved["someone's typing, delivered"].append(touched_bytes(root))
        # The composer's events, on whichever state holds them in this revision.
        composer = next((s for s in state.substates.values() if hasattr(s, "notify_typing")), state)
        handlers = type(composer)
        now = [1000.0]
        with mock.patch.object(time, "monotonic", lambda: now[0]):
            for n in range(50):
                now[0] += 3  # past the typing signal's own pace
                untouch(root)
                await handlers.notify_typing.fn(composer, f"typing {n}")
                await root._get_resolved_delta()
                saved["a typing signal"].append(touched_bytes(root))
                untouch(root)
                handlers.start_reply.fn(composer, state._window()[-1].seq)
                await root._get_resolved_delta()
                saved["a reply banner"].append(touched_bytes(root))
                handlers.cancel_reply.fn(composer)
        await world.live.close()

    def row(label, sizes, cpu):
        return [
            label,
            f"{sum(sizes) / len(sizes) / 1024:.2f}",
            f"{percentile(sizes, 50) / 1024:.2f}",
            f"{max(sizes) / 1024:.1f}",
            f"{sum(cpu) / len(cpu):.3f}",
            f"{percentile(cpu, 99):.3f}",
        ]

    deliveries = [
        row(f"page state ({chats} chats)", app_bytes, app_cpu),
        row("floor: the message's JSON", floor_bytes, floor_cpu),
    ]
    saves = [[event, f"{sum(sizes) / len(sizes) / 1024:.2f}"] for event, sizes in saved.items()]
    return deliveries, saves


def target(state, events):
    """The state the live hub applies these events to (chat_web.state.live.ReflexTabs.deliver):
    the open conversation's, or for list-only events its parent, the chat list's."""
    try:
        from chat_web.state.chat_live import needs_conversation
    except ImportError:  # a revision whose chat list and window are one state
        return state
    return state if needs_conversation(events) else state.parent_state


def tree(state) -> Iterator:
    yield state
    for substate in state.substates.values():
        yield from tree(substate)


def untouch(root) -> None:
    """As after the state manager's last write: nothing dirty, nothing left to save."""
    root._clean()
    for state in tree(root):
        state._was_touched = False


def touched_bytes(root) -> int:
    """What the state manager would write for this event: every touched substate, pickled."""
    return sum(len(state._serialize() or b"") for state in tree(root) if state._was_touched)


HEADERS = ["run", "KB / message (mean)", "KB p50", "KB max", "CPU ms / message (mean)", "CPU ms p99"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--messages", type=int, default=400)
    args = parser.parse_args()
    deliveries, saves = asyncio.run(measure(max(2, args.chats), args.messages))
    print(table(HEADERS, deliveries))
    print()
    print(table(["event", "KB of touched state to save (mean)"], saves))


if __name__ == "__main__":
    main()
