"""Bounded HTTP/1.1 transport for the reference provider: uvicorn's httptools protocol with limits.

uvicorn (with httptools) keeps a request head in memory however large it grows and waits
forever for a body that never completes. This protocol class adds what an operator's edge
would enforce, without touching the parser:

- the request head (request line + headers) is at most ``MAX_HEAD_BYTES``: the bytes received
  before the head is complete are counted, so a header flood is cut off after one read;
- at most ``MAX_HEADERS`` header fields;
- a request must be complete (head and body) within ``REQUEST_TIMEOUT_SECONDS`` of its first byte,
  and a new connection must start its request within that time; a stalled one is closed;
- errors found by the parser (two Content-Length headers, NUL in a header, an HTTP/2 preface on
  the plain port, a head too large, ...) are answered with a CAMARA error body instead of
  uvicorn's ``text/plain``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 32 * 1024
MAX_HEADERS = 64
REQUEST_TIMEOUT_ENV = "NV_REFERENCE_REQUEST_TIMEOUT"  # `serve --request-timeout` sets it for the workers
REQUEST_TIMEOUT_SECONDS = float(os.environ.get(REQUEST_TIMEOUT_ENV) or 10.0)

log = logging.getLogger("reference_impl")


class HeadTooLarge(Exception):
    """Raised from a parser callback; httptools turns it into HttpParserCallbackError (a parser error)."""


def parser_error_response(status: int, message: str) -> bytes:
    """A complete HTTP/1.1 response with a CAMARA error body; the connection is closed after it."""
    body = json.dumps({"status": status, "code": "INVALID_ARGUMENT", "message": message}).encode()
    reason = {400: b"Bad Request", 431: b"Request Header Fields Too Large"}.get(status, b"Bad Request")
    return b"".join([
        b"HTTP/1.1 ", str(status).encode(), b" ", reason, b"\r\n",
        b"content-type: application/json\r\ncache-control: no-store\r\nconnection: close\r\n",
        b"content-length: ", str(len(body)).encode(), b"\r\n\r\n", body,
    ])


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol with head size and count limits, a request timeout and CAMARA-shaped 400s.

    The timeout costs one clock read per request: each connection keeps the deadline of its request in
    progress, and one sweeper per server closes the connections past theirs (no timer per request).
    """

    max_head_bytes = MAX_HEAD_BYTES
    max_headers = MAX_HEADERS
    request_timeout_seconds = REQUEST_TIMEOUT_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        HttpToolsProtocol.connection_made(self, transport)
        self._reading_head = True
        self._head_bytes = 0
        self._rejection: tuple[int, str] | None = None
        self._deadline: float | None = self.loop.time() + self.request_timeout_seconds  # the first request
        _ensure_sweeper(self)

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            self._head_bytes += len(data)
        HttpToolsProtocol.data_received(self, data)
        if self._reading_head and self._head_bytes > self.max_head_bytes and not self.transport.is_closing():
            self._reject(431, f"the request head exceeds {self.max_head_bytes} bytes")

    def on_message_begin(self) -> None:
        HttpToolsProtocol.on_message_begin(self)
        if self._deadline is None:
            self._deadline = self.loop.time() + self.request_timeout_seconds

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._head_bytes = 0
        if len(self.headers) > self.max_headers:  # memory was bounded by the head size meanwhile
            self._rejection = (431, f"the request has more than {self.max_headers} header fields")
            raise HeadTooLarge
        HttpToolsProtocol.on_headers_complete(self)

    def on_message_complete(self) -> None:
        self._reading_head = True
        self._deadline = None
        HttpToolsProtocol.on_message_complete(self)

    def send_400_response(self, msg: str) -> None:
        status, message = self._rejection or (400, "the request is not valid HTTP/1.1")
        self._reject(status, message)

    # -- helpers ----------------------------------------------------------------------
    def _reject(self, status: int, message: str) -> None:
        self._deadline = None
        if self.cycle is None or self.cycle.response_complete or not self.cycle.response_started:
            self.transport.write(parser_error_response(status, message))
        self.transport.close()

    def _close_if_stalled(self, now: float) -> None:
        """The request did not complete in time: close (the app, if it waits for the body, sees a disconnect)."""
        if self._deadline is not None and now > self._deadline and not self.transport.is_closing():
            self._deadline = None
            log.warning("closing a connection whose request did not complete within %.1f s",
                        self.request_timeout_seconds)
            self.transport.close()


def _ensure_sweeper(protocol: BoundedHttpToolsProtocol) -> None:
    """One periodic check per server (its connection set) closes stalled requests."""
    state = protocol.server_state
    if getattr(state, "_nv_sweeper", False):
        return
    state._nv_sweeper = True  # type: ignore[attr-defined]
    loop = protocol.loop
    interval = max(0.05, min(1.0, protocol.request_timeout_seconds / 4))

    def sweep() -> None:
        now = loop.time()
        for connection in list(state.connections):
            if isinstance(connection, BoundedHttpToolsProtocol):
                connection._close_if_stalled(now)
        loop.call_later(interval, sweep)

    loop.call_later(interval, sweep)
