"""A loopback API gateway: HTTPS with a required client certificate, an API key header, then the upstream.

Like a real operator gateway it answers 401 itself when the key is missing or wrong, and the TLS
handshake fails without a client certificate signed by its CA (``ssl.CERT_REQUIRED``). It records
what reached it, so a test can check that the key and the certificate arrived on every request.
"""

from __future__ import annotations

import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from .certs import Pki

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
              "proxy-connection", "content-length", "host"}


class Gateway:
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
                self.send_response(answer.status_code)
                for name, value in answer.headers.multi_items():
                    if name.lower() not in HOP_BY_HOP | {"content-encoding"}:
                        self.send_header(name, value)
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def __getattr__(self, name: str) -> Any:  # every method (fuzzing sends TRACE, QUERY, ...) is forwarded
                if name.startswith("do_"):
                    return self._handle
                raise AttributeError(name)

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(pki.server_cert, pki.server_key)
        context.load_verify_locations(pki.ca_cert)
        context.verify_mode = ssl.CERT_REQUIRED
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_port}"
        self._client = client
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Gateway:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._client.close()
