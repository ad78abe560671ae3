"""Driving the chat page's state without a browser: a real ChatState in a real Reflex state
tree, over the in-memory adapters, driven the way the page and the live hub drive it.

The `world` fixture (tests/conftest.py) gives every test module one of these worlds.
"""

from __future__ import annotations

from datetime import timedelta

from reflex.istate.data import RouterData
from reflex.state import State
from reflex_base import constants

from chat_web import container
from chat_web.adapters.auth.memory import InMemoryOtpStore, InMemoryRateLimiter
from chat_web.adapters.fanout.inprocess import InProcessFanOut
from chat_web.adapters.mail.memory import RecordingMailQueue
from chat_web.adapters.media.memory import InMemoryMediaStore
from chat_web.adapters.presence.memory import InMemoryPresence
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.config import Settings
from chat_web.services.accounts import AccountService
from chat_web.services.auth import AuthService
from chat_web.services.chats import ChatService
from chat_web.services.limits import LimitGate
from chat_web.services.live import LiveHub
from chat_web.services.media import MediaService
from chat_web.services.presence import PresenceService
from chat_web.services.stream import EventStreams
from chat_web.services.sync import SyncService
from chat_web.services.tokens import TokenService
from chat_web.state.chat import ChatState
from chat_web.state.chat_list import ChatListState
from chat_web.state.composer import ComposerState
from chat_web.state.session import SessionState


class World:
    def __init__(self, clock):
        self.clock = clock
        self.store = InMemoryStore(clock)
        self.fanout = InProcessFanOut()
        self.tokens = TokenService("t" * 40, timedelta(days=1), clock)
        self.mail = RecordingMailQueue()
        auth = AuthService(
            self.store.users,
            InMemoryOtpStore(clock),
            InMemoryRateLimiter(clock),
            self.mail,
            self.tokens,
            clock,
            b"k" * 32,
        )
        media = MediaService(InMemoryMediaStore(), self.store.chats)
        self.chats = ChatService(
            self.store.users, self.store.chats, self.store.messages, self.fanout, clock, media=media
        )
        presence = PresenceService(InMemoryPresence(), self.store.chats, self.fanout, clock)
        self.live = LiveHub(self.fanout, presence, clock, sweep_every=3600)
        streams = EventStreams(self.fanout, self.live, auth)
        sync = SyncService(self.store.users, self.store.chats, self.store.messages, clock)
        self.container = container.Container(
            Settings(_env_file=None),
            clock,
            self.store,
            self.fanout,
            auth,
            self.chats,
            presence,
            self.live,
            streams,
            sync,
            media,
        )
        gate = LimitGate(InMemoryRateLimiter(clock))
        self.accounts = AccountService(auth, self.store, self.fanout, gate, media)

    async def user(self, name):
        return await self.store.users.get_or_create(f"{name}@example.com", name)

    def tab(self, user, path="/chat", tab_id="tab-1") -> ChatState:
        root = State(_reflex_internal_init=True)
        session = root.substates[SessionState.get_name()]
        state = session.substates[ChatListState.get_name()].substates[ChatState.get_name()]
        root.router_data = {
            constants.RouteVar.PATH: "/chat/[chat_id]",
            constants.RouteVar.ORIGIN: path,
            constants.RouteVar.CLIENT_TOKEN: tab_id,
            constants.RouteVar.HEADERS: {"origin": "http://test"},
        }
        root.router = RouterData.from_router_data(root.router_data)
        state.token = self.tokens.issue(user.id)
        state.tz = "Europe/Paris"
        return state

    async def send(self, user, chat_id, text):
        message, _ = await self.chats.send_text(user, chat_id, text, f"{user.id}-{text}")
        return message


def session_of(state) -> SessionState:
    """The tab's SessionState, whose substates are every page's state."""
    while type(state) is not SessionState:
        state = state.parent_state
    return state


def composer(state: ChatState) -> ComposerState:
    """The tab's composer: ChatState's substate (editing, replying, deleting, sending)."""
    return state.substates[ComposerState.get_name()]


async def open_page(state, path=None):
    if path is not None:
        state.router = RouterData.from_router_data({**state.router_data, constants.RouteVar.ORIGIN: path})
    return await ChatState.open_page.fn(state)


async def run(handler, state, *args):
    """Run an event handler to its end, whatever its kind; the last thing it yields."""
    result = handler.fn(state, *args)
    last = None
    if hasattr(result, "__aiter__"):
        async for item in result:
            last = item if item is not None else last
        return last
    return await result if hasattr(result, "__await__") else result
