"""The steerable TCP proxy of the scale-out tests: it routes, and it stops cleanly (every task
of its loop ended and awaited, even with connections still open)."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import socketserver
import threading

import pytest

from tests.support.tcp_proxy import SteerableProxy


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def echo_port():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def receive(sock: socket.socket, size: int) -> bytes:
    got = b""
    while len(got) < size:
        chunk = sock.recv(size - len(got))
        if not chunk:
            break
        got += chunk
    return got


def test_the_proxy_stops_with_open_connections_and_leaves_no_task_pending(echo_port, caplog):
    proxy = SteerableProxy([echo_port]).start()
    line = b"GET /_event/?token=tab-1 HTTP/1.1\r\n"
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as client:
        client.sendall(line)
        assert receive(client, len(line)) == line  # routed to the echo server and back
        assert proxy.tokens_on(0) == ["tab-1"]
        caplog.set_level(logging.ERROR, logger="asyncio")
        proxy.stop()  # the connection is still open: its pumps are mid-read
        assert not proxy._thread.is_alive()
        assert asyncio.all_tasks(proxy._loop) == set()  # every task ended, none left pending
    del proxy
    gc.collect()
    assert "Task was destroyed but it is pending" not in caplog.text
