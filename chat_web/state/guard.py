"""What a websocket client may make the server keep, before any handler runs (issue 18).

Reflex's socket takes `event` messages that name any state handler with any payload, and
its own handlers (`hydrate_and_load`, `update_vars_internal`, `handle_frontend_exception`)
store or log what the client sends. Here, in the app's middleware and its state manager:

* a tab without a session cookie runs only the handlers of the sign-in pages, the pages'
  on_load and Reflex's own; everything else is dropped before it can change the state;
* the client-storage values a client sends (the session cookie, the zone cookie) are capped,
  and no other key is taken;
* a tab that hydrates with another session than the one its state holds (signed out, or
  someone else) starts from empty states: the previous user's chats never reach it;
* frontend exceptions are taken from signed-in tabs only, at most FRONTEND_ERRORS_PER_MINUTE
  per tab, cut to FRONTEND_ERROR_MAX characters;
* a signed-out tab's state is never written to disk, its old files are removed, and it is
  forgotten SIGNED_OUT_TTL seconds after its last event (Redis: that key expiry).
"""

from __future__ import annotations

import contextvars
import logging
import random
import time
from collections import OrderedDict, deque
from typing import Any

import reflex as rx
from reflex.istate.manager.disk import StateManagerDisk
from reflex.istate.manager.token import BaseStateToken
from reflex.middleware import Middleware
from reflex.state import (
    BaseState,
    FrontendEventExceptionState,
    OnLoadInternalState,
    State,
    StateUpdate,
    UpdateVarsInternalState,
)
from reflex.utils.misc import run_in_thread
from reflex_base.utils.exceptions import LockExpiredError

from chat_web.config import get_settings
from chat_web.state.auth import AuthState
from chat_web.state.outbox import OutboxState
from chat_web.state.profile import ProfileState
from chat_web.state.rows import ZONE_NAME_MAX
from chat_web.state.session import SessionState

log = logging.getLogger(__name__)

SIGNED_OUT_TTL = 300  # seconds: a signed-out tab's state is forgotten this long after its last event
LEASE_SPREAD = 0.5  # a tab's Redis lease lasts between this share of the hold time and all of it
TOKEN_MAX = 4096  # a session cookie longer than this is not one of ours (ours are ~250 characters)
FRONTEND_ERROR_MAX = 2048  # characters of a frontend exception that reach the log
FRONTEND_ERRORS_PER_MINUTE = 10  # per tab
_RATE_TABS_MAX = 10_000  # tabs whose frontend-exception count is remembered (oldest forgotten)
_RATE_ADDRESSES_MAX = 10_000  # client addresses whose hydrates are counted (oldest forgotten)

_TOKEN_VAR = f"{SessionState.get_full_name()}.token_rx_state_"


def _client_vars() -> dict[str, int]:
    """Every client-storage var the app has, and the longest value each may hold."""
    from chat_web.state.chat_list import ChatListState

    return {_TOKEN_VAR: TOKEN_MAX, f"{ChatListState.get_full_name()}.tz_rx_state_": ZONE_NAME_MAX}


def _names(cls: type[BaseState], *handlers: str) -> set[str]:
    return {f"{cls.get_full_name()}.{name}" for name in handlers or cls.event_handlers if name != "setvar"}


def _open_to_signed_out() -> frozenset[str]:
    """Handlers a tab without a session may run: Reflex's own, the sign-in pages', on_load."""
    from chat_web.state.chat import ChatState

    allowed = set()
    for cls in (State, OnLoadInternalState, UpdateVarsInternalState, SessionState, AuthState, OutboxState):
        allowed |= _names(cls)
    allowed |= _names(ChatState, "open_page")  # it sends the signed-out to /login
    allowed |= _names(ProfileState, "open_profile")  # so does this one
    return frozenset(allowed)


def signed_in(root: BaseState) -> bool:
    """Whether this tab's state holds a checked session (SessionState sets user_id)."""
    session = root.substates.get(SessionState.get_name())
    return bool(session is not None and session.user_id)


class SocketGuard(Middleware):
    """The app's middleware: runs under the tab's state lock before every event's handler."""

    def __init__(self) -> None:
        self._open = _open_to_signed_out()
        self._client_vars = _client_vars()
        self._hydrate = f"{State.get_full_name()}.hydrate_and_load"
        self._update_vars = f"{UpdateVarsInternalState.get_full_name()}.update_vars_internal"
        self._frontend_error = f"{FrontendEventExceptionState.get_full_name()}.handle_frontend_exception"
        self._errors: OrderedDict[str, deque[float]] = OrderedDict()
        self._hydrates: OrderedDict[str, deque[float]] = OrderedDict()
        self._hydrates_per_minute = get_settings().limit_hydrates_per_client_per_minute

    async def preprocess(self, app, state: BaseState, event) -> StateUpdate | None:
        name = event.name
        if name in (self._hydrate, self._update_vars):
            self._bound_client_vars(event.payload)
            if name == self._hydrate:
                if not self.admit_hydrate(state.router.session.client_ip or "", time.monotonic()):
                    return StateUpdate()  # one address opening tabs without end: not this one
                await self._forget_other_session(state, event.payload)
            return None
        if name == self._frontend_error:
            return None if await self._take_frontend_error(state, event) else StateUpdate()
        if name in self._open:
            return None
        session = await state.get_state(SessionState)
        if not session.token or name.endswith(".setvar"):
            return StateUpdate()  # dropped: no handler runs, nothing changes
        return None

    def admit_hydrate(self, address: str, now: float) -> bool:
        """Count a tab opened from `address`; False past the per-minute cap (a new tab id per
        reconnect is a state tree kept for minutes, so the rate of them is bounded)."""
        recent = _within_minute(_touch(self._hydrates, address, _RATE_ADDRESSES_MAX), now)
        if len(recent) >= self._hydrates_per_minute:
            return False
        recent.append(now)
        return True

    def _bound_client_vars(self, payload: dict[str, Any]) -> None:
        values = payload.get("vars")
        if not isinstance(values, dict):
            payload["vars"] = {}
            return
        payload["vars"] = {
            key: value
            for key, value in values.items()
            if key in self._client_vars and isinstance(value, str) and len(value) <= self._client_vars[key]
        }

    async def _forget_other_session(self, state: BaseState, payload: dict[str, Any]) -> None:
        """A tab whose state belongs to another session than its cookie now says starts empty."""
        if not signed_in(state):
            return
        session = await state.get_state(SessionState)
        if payload["vars"].get(_TOKEN_VAR, "") != session.token:
            await session._clear_tab()

    async def _take_frontend_error(self, state: BaseState, event) -> bool:
        session = await state.get_state(SessionState)
        if not session.token:
            return False  # signed-out sockets do not write to the log
        now = time.monotonic()
        recent = _within_minute(_touch(self._errors, state.router.session.client_token, _RATE_TABS_MAX), now)
        if len(recent) >= FRONTEND_ERRORS_PER_MINUTE:
            return False
        recent.append(now)
        info = event.payload.get("info")
        event.payload["info"] = info[:FRONTEND_ERROR_MAX] if isinstance(info, str) else ""
        event.payload["component_stack"] = ""  # the handler does not log it; never kept either
        return True


def _touch(counts: OrderedDict[str, deque[float]], key: str, most: int) -> deque[float]:
    """`key`'s recent times, moved to the newest end; the oldest keys go past `most`."""
    recent = counts.pop(key, None) or deque()
    counts[key] = recent
    while len(counts) > most:
        counts.popitem(last=False)
    return recent


def _within_minute(recent: deque[float], now: float) -> deque[float]:
    while recent and now - recent[0] > 60:
        recent.popleft()
    return recent


def log_frontend_exception(exception: Exception) -> None:
    """The app's frontend exception handler: one bounded line (logs.py escapes and redacts it)."""
    text = str(exception)
    if len(text) > FRONTEND_ERROR_MAX:
        text = text[:FRONTEND_ERROR_MAX] + f"… ({len(text) - FRONTEND_ERROR_MAX} more characters)"
    log.warning("frontend exception: %s", text)


# --- the state manager ---------------------------------------------------------------------------

_expiry_override: contextvars.ContextVar[int | None] = contextvars.ContextVar("expiry_override", default=None)


class GuardedDiskStateManager(StateManagerDisk):
    """Reflex's disk manager, except that a signed-out tab is kept in memory only (its old
    files removed) and forgotten SIGNED_OUT_TTL seconds after its last event."""

    async def set_state(self, token, state, **context):
        token = self._coerce_token(token)
        if not (isinstance(token, BaseStateToken) and isinstance(state, BaseState)) or signed_in(state):
            self._signed_out_keys().discard(token.cache_key)
            await super().set_state(token, state, **context)
            return
        self._write_queue.pop(token, None)
        self.states[token.cache_key] = state
        # Backdated, so the manager's own sweep forgets it SIGNED_OUT_TTL from now.
        self._token_last_touched[token.cache_key] = (
            time.time() - self.token_expiration + min(SIGNED_OUT_TTL, self.token_expiration),
            token,
        )
        known = self._signed_out_keys()
        if token.cache_key not in known:
            known.add(token.cache_key)
            paths = [self.token_path(token.with_cls(type(s))) for s in _tree(state)]
            await run_in_thread(lambda: [path.unlink(missing_ok=True) for path in paths])
        await self._schedule_process_write_queue()

    def _signed_out_keys(self) -> set[str]:
        known = self.__dict__.get("_signed_out")
        if known is None:
            known = self.__dict__["_signed_out"] = set()
        return known

    def _purge_token(self, token):
        self._signed_out_keys().discard(token.cache_key)
        super()._purge_token(token)


def _tree(state: BaseState) -> list[BaseState]:
    states, pending = [], [state]
    while pending:
        current = pending.pop()
        states.append(current)
        pending.extend(current.substates.values())
    return states


def _guarded_redis_manager(manager):
    """Reflex's Redis manager, except that a signed-out tab's keys expire after SIGNED_OUT_TTL."""
    from reflex.istate.manager.redis import StateManagerRedis

    class GuardedRedisStateManager(type(manager)):
        @property
        def token_expiration(self) -> int:
            override = _expiry_override.get()
            return override if override is not None else self.__dict__["token_expiration"]

        @token_expiration.setter
        def token_expiration(self, value: int) -> None:
            self.__dict__["token_expiration"] = value

        @property
        def oplock_hold_time_ms(self) -> int:
            # Each lease a random share of the hold time: tabs that began together (a deploy,
            # a reconnect wave) would otherwise flush and re-lock together every hold time.
            return int(self.__dict__["oplock_hold_time_ms"] * random.uniform(LEASE_SPREAD, 1.0))

        @oplock_hold_time_ms.setter
        def oplock_hold_time_ms(self, value: int) -> None:
            self.__dict__["oplock_hold_time_ms"] = value

        async def set_state(self, token, state, **context):
            try:
                return await self._set_state(token, state, **context)
            except LockExpiredError:
                # The lock expired before the state was written back: the event loop was too
                # busy (a lease's write comes at its end). If no other process took the lock
                # meanwhile, this one takes it back and writes: only a tab's own process
                # changes its state, and dropping the write would put the tab back to its
                # last saved state, which was before it signed in if that was its first
                # lease: the live hub would then drop it as signed out, and it would get
                # nothing more (overload runs lost messages that way).
                lock_id = context.get("lock_id")
                token = self._coerce_token(token)
                if lock_id is not None and await self._try_get_lock(self._lock_key(token), lock_id):
                    log.warning("tab %s: its state lock expired before the write; taken back", token.ident)
                    return await self._set_state(token, state, **context)
                _resync_after_lost_write(token)  # someone else holds it: storage has the truth
                raise

        async def _set_state(self, token, state, **context):
            if isinstance(state, BaseState) and not signed_in(state._get_root_state()):
                reset = _expiry_override.set(min(SIGNED_OUT_TTL, self.__dict__["token_expiration"]))
                try:
                    return await super().set_state(token, state, **context)
                finally:
                    _expiry_override.reset(reset)
            return await super().set_state(token, state, **context)

    assert isinstance(manager, StateManagerRedis)
    manager.__class__ = GuardedRedisStateManager
    return manager


def _resync_after_lost_write(token) -> None:
    tab = getattr(token, "ident", None)
    log.warning("the page state of tab %s was not saved in time: it resyncs from storage", tab)
    try:
        from chat_web import container

        container.current().live.resync_tab(tab)
    except Exception:  # noqa: BLE001 - starting or stopping: the next reload shows storage anyway
        log.exception("tab %s not resynced after a lost write", tab)


def guard(app: rx.App) -> None:
    """Install the middleware, the bounded frontend exception handler and the state manager."""
    app.add_middleware(SocketGuard())
    app.frontend_exception_handler = log_frontend_exception
    manager = app._state_manager  # Reflex 0.10 has no public way to choose the manager's class
    if type(manager) is StateManagerDisk:
        manager.__class__ = GuardedDiskStateManager
    elif manager is not None and type(manager).__name__ == "StateManagerRedis":
        _guarded_redis_manager(manager)
    elif manager is not None:
        log.warning("state manager %s is not guarded: signed-out tabs expire with the rest", type(manager))
