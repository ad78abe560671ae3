"""The floor of the fan-out benchmark: a bare python-socketio relay, nothing else.

A client connects with `?token=<id>`; `send {to, text}` is emitted to the client with
that token as `message {text}`. No state, no storage, no auth: what any live chat
over Socket.IO must at least cost on this machine. Served by Granian, like the app.

    python -m granian --interface asgi benchmarks.relay:app --port 8400
"""

from __future__ import annotations

import urllib.parse

import socketio

sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")
app = socketio.ASGIApp(sio, socketio_path="/_event")
_sid_of: dict[str, str] = {}


@sio.event
async def connect(sid, environ, auth=None):
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    token = (query.get("token") or [""])[0]
    _sid_of[token] = sid


@sio.event
async def disconnect(sid, reason=None):
    for token, known in list(_sid_of.items()):
        if known == sid:
            del _sid_of[token]


@sio.event
async def send(sid, data):
    target = _sid_of.get(data.get("to", ""))
    if target is not None:
        await sio.emit("message", {"text": data.get("text", "")}, to=target)
