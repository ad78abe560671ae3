"""A hostile browser tab: Reflex's websocket protocol spoken the way the page speaks it
(hydrate with the session cookie's state var, then `event` messages naming handlers), with
whatever arguments an attacker likes. The protocol is the one benchmarks/fanout.py uses."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import socketio


def folder_kb(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) // 1024 if folder.exists() else 0


class HostileTab:
    """One tab id on one socket; `deltas` collects every delta the server sends back."""

    def __init__(
        self,
        base_url: str,
        path: str = "/chat",
        cookie: str = "",
        tab: str | None = None,
        client_vars: dict[str, str] | None = None,
    ):
        from chat_web.state.session import SessionState

        self.base_url, self.path, self.cookie = base_url, path, cookie
        self.client_vars = client_vars or {}  # other cookies / localStorage the hydrate carries
        self.tab = tab or str(uuid.uuid4())
        self.session_var = f"{SessionState.get_full_name()}.token_rx_state_"
        self.deltas: list[dict[str, Any]] = []
        self.hydrated = asyncio.Event()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("event", self._on_event, namespace="/_event")

    def router(self) -> dict:
        return {"pathname": self.path, "asPath": self.path, "query": {}}

    async def _on_event(self, update: dict) -> None:
        delta = (update or {}).get("delta") or {}
        if delta:
            self.deltas.append(delta)
            self.hydrated.set()

    async def connect(self) -> None:
        variables = {self.session_var: self.cookie} if self.cookie else {}
        variables.update(self.client_vars)
        boot = {
            "name": "reflex___state____state.hydrate_and_load",
            "payload": {"vars": variables},
            "router_data": self.router(),
        }
        headers = {"Cookie": f"chat_session={self.cookie}"} if self.cookie else {}
        await self.sio.connect(
            f"{self.base_url}?token={self.tab}",
            socketio_path="/_event",
            namespaces=["/_event"],
            transports=["websocket"],
            auth={"event": boot},
            headers=headers,
            wait_timeout=30,
        )
        await asyncio.wait_for(self.hydrated.wait(), 30)

    async def send(self, handler: str, **payload: Any) -> bool:
        """Emit one event naming `handler` (a full name); False if the socket is gone."""
        if not self.sio.connected:
            return False
        try:
            await self.sio.emit(
                "event",
                {"name": handler, "payload": payload, "router_data": self.router()},
                namespace="/_event",
            )
        except socketio.exceptions.SocketIOError:
            return False
        return True

    def var(self, state_name: str, var: str) -> Any:
        """The latest value the server sent of one var (None if never sent)."""
        for delta in reversed(self.deltas):
            values = delta.get(state_name) or {}
            if f"{var}_rx_state_" in values:
                return values[f"{var}_rx_state_"]
        return None

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()
