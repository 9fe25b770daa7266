"""Tiny local HTTP servers for the token tests: fake and hostile authorization servers.

Each route is a function ``(request) -> Reply``; the server records every request so a test can
prove what was (not) sent where. Everything binds to loopback and stops with the context manager.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from loopback import LoopbackServer


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    client_ip: str

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict | list = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream_bytes: int = 0  # send this many filler bytes after the headers (no Content-Length unless given in headers)
    drip_seconds: float = 0.0  # pause between 1-byte writes: a body that never completes


def json_reply(value: Any, status: int = 200, **headers: str) -> Reply:
    return Reply(status, json.dumps(value), {"content-type": "application/json", **headers})


Route = Callable[[Request], Reply]


class FakeServer(LoopbackServer):
    def __init__(self, routes: dict[str, Route], host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.routes = routes
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                request = Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()),
                                  self.rfile.read(length) if length else b"", self.client_address[0])
                server.requests.append(request)
                route = server.routes.get(parts.path)
                reply = route(request) if route else Reply(404, "not found")
                body = reply.body
                if isinstance(body, dict | list):
                    body = json.dumps(body)
                if isinstance(body, str):
                    body = body.encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    if reply.drip_seconds:
                        self.send_header("content-length", "1000000")
                        self.end_headers()
                        for _ in range(int(30 / reply.drip_seconds)):
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(reply.drip_seconds)
                        return
                    if reply.stream_bytes:
                        self.send_header("connection", "close")
                        self.end_headers()
                        chunk = b"x" * 65536
                        sent = 0
                        while sent < reply.stream_bytes:
                            self.wfile.write(chunk)
                            sent += len(chunk)
                        return
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = _handle

        super().__init__(Handler, host=host, tls=tls, poll_interval=0.02)

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def __enter__(self) -> FakeServer:
        super().__enter__()
        return self


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers: the hung target."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()
