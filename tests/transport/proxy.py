"""A loopback forward proxy (absolute-form HTTP and CONNECT tunnels) that records every target it was asked for."""

from __future__ import annotations

import select
import socket
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

import httpx
from loopback import LoopbackServer, relay


class ForwardProxy(LoopbackServer):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []  # (method, target, headers)
        proxy = self
        client = httpx.Client(timeout=30, trust_env=False)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_CONNECT(self) -> None:  # noqa: N802 - http.server's naming
                proxy.seen.append(("CONNECT", self.path, dict(self.headers.items())))
                host, _, port = self.path.rpartition(":")
                upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
                self.send_response(200, "Connection established")
                self.end_headers()
                self.close_connection = True
                sockets = [self.connection, upstream]
                try:
                    while True:
                        readable, _, _ = select.select(sockets, [], [], 30)
                        if not readable:
                            return
                        for sock in readable:
                            data = sock.recv(65536)
                            if not data:
                                return
                            (upstream if sock is self.connection else self.connection).sendall(data)
                except OSError:
                    return
                finally:
                    upstream.close()

            def _forward(self) -> None:
                proxy.seen.append((self.command, self.path, dict(self.headers.items())))
                if not urlsplit(self.path).scheme:
                    self.send_error(400, "absolute-form request target expected")
                    return
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = [(k, v.encode("latin-1", "replace")) for k, v in self.headers.items()
                           if k.lower() not in ("host", "proxy-connection", "connection", "content-length")]
                headers.append(("via", "1.1 test-proxy"))
                answer = client.request(self.command, self.path, headers=headers, content=body)
                relay(self, answer, ("transfer-encoding", "connection", "content-encoding"))

            do_GET = do_POST = _forward

        super().__init__(Handler, on_close=[client.close])

    def __enter__(self) -> ForwardProxy:
        super().__enter__()
        return self
