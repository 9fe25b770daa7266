"""A loopback API gateway: HTTPS with a required client certificate, an API key header, then the upstream.

Like a real operator gateway it answers 401 itself when the key is missing or wrong, and the TLS
handshake fails without a client certificate signed by its CA (``ssl.CERT_REQUIRED``). It records
what reached it, so a test can check that the key and the certificate arrived on every request.
"""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
from loopback import LoopbackServer, relay, server_tls

from .certs import Pki

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
              "proxy-connection", "content-length", "host"}


class Gateway(LoopbackServer):
    def __init__(self, upstream: str, pki: Pki, *, key_header: str = "X-API-Key", key: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.requests: list[dict[str, Any]] = []
        self.rejected = 0
        self.errors: list[str] = []
        gateway = self
        client = httpx.Client(timeout=30, trust_env=False)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # headers and body: no 40 ms Nagle wait

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                peer = self.connection.getpeercert()
                gateway.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                                         "client_cert": bool(peer)})
                if self.headers.get(key_header) != key or not peer:
                    gateway.rejected += 1
                    payload = b'{"message": "missing or invalid API key"}'
                    self.send_response(401)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                headers = [(k, v.encode("latin-1", "replace")) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {key_header.lower()}]
                try:
                    answer = client.request(self.command, gateway.upstream + self.path, headers=headers, content=body)
                except Exception as exc:  # noqa: BLE001 - recorded for the test to show
                    gateway.errors.append(f"{type(exc).__name__}: {exc}")
                    raise
                relay(self, answer, HOP_BY_HOP | {"content-encoding"})

            def __getattr__(self, name: str) -> Any:  # every method (fuzzing sends TRACE, QUERY, ...) is forwarded
                if name.startswith("do_"):
                    return self._handle
                raise AttributeError(name)

        tls = server_tls(pki.server_cert, pki.server_key, client_ca=pki.ca_cert)
        super().__init__(Handler, tls=tls, on_close=[client.close])

    def __enter__(self) -> Gateway:
        super().__enter__()
        return self
