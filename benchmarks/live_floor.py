"""The lean floor of the fan-out benchmark: the same work as a live send, in the least code.

    DATABASE_URL=postgresql://... REDIS_URL=redis://127.0.0.1:6379/13 JWT_SECRET=... \\
        python -m granian --interface asgi --workers 2 benchmarks.live_floor:app

python-socketio (ASGI) with its Redis manager, so that any number of workers share the rooms.
A client connects to /_event with `?token=<session JWT>` (the claims of
chat_web/services/tokens.py, the token version checked and cached per process as in
benchmarks/lean_floor.py) and joins its user's room. `send {chatId, text, clientId}` is the
one-statement send of benchmarks/lean_floor.py on asyncpg (membership, gap-free seq,
idempotent clientId, the sender's read cursor and seen stamps, the per-user limits), and after
the commit the stored message is emitted as `message` to every other member's room (again for
a retry: readers merge by seq). The sender gets the message back as the event's answer.
"""

from __future__ import annotations

import os
import urllib.parse

import socketio

from benchmarks.lean_floor import Limits, PgStore, Refused, Sessions

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13")
CHANNEL = os.environ.get("LIVE_FLOOR_CHANNEL", "live-floor")

store = PgStore(os.environ.get("DATABASE_URL", ""), int(os.environ.get("LEAN_POOL_SIZE", "10")))
sessions = Sessions(
    os.environ.get("JWT_SECRET", ""),
    os.environ.get("JWT_ISSUER", "chat_web"),
    os.environ.get("JWT_AUDIENCE", "chat_web"),
    store,
)
limits = Limits(
    int(os.environ.get("LIMIT_MESSAGES_PER_10_SECONDS", "20")),
    int(os.environ.get("LIMIT_MESSAGES_PER_HOUR", "600")),
)
sio = socketio.AsyncServer(
    async_mode="asgi",
    client_manager=socketio.AsyncRedisManager(REDIS_URL, channel=CHANNEL),
    cors_allowed_origins="*",
)
_user_of: dict[str, str] = {}  # sid -> user id, in this worker


def room(user: str) -> str:
    return f"user:{user}"


@sio.event
async def connect(sid, environ, auth=None):
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    token = (query.get("token") or [""])[0]
    try:
        user = await sessions.user_of(b"Bearer " + token.encode())
    except Refused as refused:
        raise socketio.exceptions.ConnectionRefusedError(refused.detail) from None
    _user_of[sid] = user
    await sio.enter_room(sid, room(user))


@sio.event
async def disconnect(sid, reason=None):
    _user_of.pop(sid, None)


@sio.event
async def send(sid, data):
    user = _user_of.get(sid)
    if user is None or not isinstance(data, dict):
        return {"error": 400}
    chat, text, client_id = data.get("chatId"), data.get("text"), data.get("clientId") or None
    if not isinstance(chat, str) or not isinstance(text, str) or not text.strip() or len(text) > 4000:
        return {"error": 400}
    if client_id is not None and (not isinstance(client_id, str) or len(client_id) > 64):
        return {"error": 400}
    try:
        limits.take(user)
    except Refused as refused:
        return {"error": refused.status, "detail": refused.detail}
    found = await store.send(user, chat, text.strip(), client_id)
    if found is None or not found[1]:
        limits.give_back(user)  # stored nothing: an outsider, or a retry
    if found is None:
        return {"error": 403}
    message, _, others = found
    for other in others:  # after the commit: what is stored is announced
        await sio.emit("message", message, room=room(other))
    return message


app = socketio.ASGIApp(sio, socketio_path="/_event", on_startup=store.open, on_shutdown=store.close)
