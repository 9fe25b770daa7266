"""Small raw-ASGI helpers shared by the API and the guards: CAMARA error bodies, bounded body reads.

The API's hot path is plain ASGI rather than a framework route: it is the part measured
against the 2,500 requests/s target.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ASGIApp", "Message", "Receive", "Scope", "Send"]  # the ASGI types, as Starlette (the server's framework) spells them

JSON_CONTENT_TYPE = (b"content-type", b"application/json")
NO_STORE = (b"cache-control", b"no-store")


class BodyTooLarge(Exception):
    """The request body exceeds the limit; raised before the rest of it is read."""


class ClientGone(Exception):
    """The client disconnected while its body was being read."""


def header(scope: Scope, name: bytes) -> bytes | None:
    """First value of header ``name`` (lower-case bytes), None when absent."""
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole request body, refusing early (by Content-Length, then while streaming) above ``limit``."""
    declared = header(scope, b"content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise BodyTooLarge
        except ValueError:
            pass  # the server already refused a malformed Content-Length
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def camara_error_body(status: int, code: str, message: str) -> bytes:
    return json.dumps({"status": status, "code": code, "message": message}).encode()


async def send_json(send: Send, status: int, body: bytes, extra_headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    headers = [JSON_CONTENT_TYPE, NO_STORE, (b"content-length", str(len(body)).encode()), *extra_headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
