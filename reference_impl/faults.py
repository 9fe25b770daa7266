"""Catalogue of deliberately faulty (and benign) variants of the reference provider.

Each variant is data: a name, a one-line description of what a real implementation would
get wrong, and how it is produced from the correct reference:
- ``overrides``: flags of the typed :class:`~reference_impl.behaviour.Behaviour` switchboard;
- ``middleware``: a small raw-ASGI wrapper that rewrites requests or responses of the
  Number Verification API (paths under ``/number-verification/``) for what no flag covers.

Select one with ``EmbeddedReference(fault=NAME)`` or ``nv-conformance serve --fault NAME``.
``create_app`` applies both parts. The kit's self-test runs every *faulty* variant and expects a
finding, and every *benign* one (``benign=True``: a legal variation) and expects none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .asgi_util import Receive, Scope, Send, camara_error_body, header, send_json
from .behaviour import CORRECT, Behaviour

Asgi = Callable[[Scope, Receive, Send], Any]
Middleware = Callable[[Asgi], Asgi]


@dataclass(frozen=True)
class Fault:
    """One variant: what is wrong (or legally different) and how it is produced."""

    name: str
    description: str
    overrides: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    middleware: Middleware | None = None
    benign: bool = False  # a legal variation: a conformance tool must NOT report it


# -- helpers for the middlewares ----------------------------------------------------------
def _is_nv_call(scope: Scope) -> bool:
    return scope.get("type") == "http" and "/number-verification/" in scope.get("path", "")


def _operation(scope: Scope) -> str | None:
    path = scope.get("path", "")
    if path.endswith("/verify"):
        return "verify"
    if path.endswith("/device-phone-number"):
        return "share"
    return None


async def _read_all(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields ``body`` once, then defers to the real one (disconnects)."""
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_content_length(scope: Scope, length: int) -> Scope:
    headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
    headers.append((b"content-length", str(length).encode()))
    return {**scope, "headers": headers}


def _correlator(scope: Scope) -> list[tuple[bytes, bytes]]:
    value = header(scope, b"x-correlator")
    return [(b"x-correlator", value)] if value else []


# -- the middlewares ----------------------------------------------------------------------
def crash_on_malformed_json(app: Asgi) -> Asgi:
    """POST /verify with a body that is not JSON -> 500 (the parser's exception escapes)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if not (_is_nv_call(scope) and scope["method"] == "POST" and _operation(scope) == "verify"):
            await app(scope, receive, send)
            return
        body = await _read_all(receive)
        if body.strip():
            try:
                json.loads(body)
            except (ValueError, RecursionError):
                await send_json(send, 500, camara_error_body(500, "INTERNAL", "unexpected error"), _correlator(scope))
                return
        await app(scope, _replay(body, receive), send)

    return middleware


_DIGITS_ONLY = re.compile(r"^[1-9][0-9]{4,14}$")


def accept_number_without_plus(app: Asgi) -> Asgi:
    """POST /verify normalises ``phoneNumber`` "447700900001" to "+447700900001" instead of refusing it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if not (_is_nv_call(scope) and scope["method"] == "POST" and _operation(scope) == "verify"):
            await app(scope, receive, send)
            return
        body = await _read_all(receive)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("phoneNumber"), str) and _DIGITS_ONLY.match(data["phoneNumber"]):
            body = json.dumps({**data, "phoneNumber": "+" + data["phoneNumber"]}).encode()
            scope = _with_content_length(scope, len(body))
        await app(scope, _replay(body, receive), send)

    return middleware


def wrong_401_code(app: Asgi) -> Asgi:
    """401 bodies carry code "UNAUTHORIZED", which no version allows (UNAUTHENTICATED is the code)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_nv_call(scope):
            await app(scope, receive, send)
            return
        held: dict[str, Any] | None = None

        async def rewriting_send(message: dict[str, Any]) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and message["status"] == 401:
                held = message
                return
            if held is not None and message["type"] == "http.response.body":
                try:
                    data = json.loads(message.get("body", b""))
                    data["code"] = "UNAUTHORIZED"
                    body = json.dumps(data).encode()
                except (ValueError, TypeError):
                    body = message.get("body", b"")
                headers = [(k, v) for k, v in held["headers"] if k != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                await send({**held, "headers": headers})
                held = None
                await send({**message, "body": body, "more_body": False})
                return
            await send(message)

        await app(scope, receive, rewriting_send)

    return middleware


def answer_without_token(app: Asgi) -> Asgi:
    """A call without any Authorization header is answered 200 as if from the first subscriber."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        operation = _operation(scope) if _is_nv_call(scope) else None
        if operation is None or header(scope, b"authorization") is not None:
            await app(scope, receive, send)
            return
        await _read_all(receive)
        payload = {"devicePhoneNumberVerified": True} if operation == "verify" else {"devicePhoneNumber": "+447700900001"}
        await send_json(send, 200, json.dumps(payload).encode(), _correlator(scope))

    return middleware


# -- the catalogue ------------------------------------------------------------------------
_CATALOGUE: tuple[Fault, ...] = (
    Fault(
        "malformed-json-500",
        "POST /verify answers a body that is not JSON with 500 instead of 400 INVALID_ARGUMENT",
        middleware=crash_on_malformed_json,
    ),
    Fault(
        "number-without-plus-200",
        "POST /verify accepts a phoneNumber without the leading '+' (200) instead of 400 INVALID_ARGUMENT",
        middleware=accept_number_without_plus,
    ),
    Fault(
        "x-correlator-not-echoed",
        "responses never carry the request's x-correlator",
        overrides=MappingProxyType({"echo_x_correlator": False}),
    ),
    Fault(
        "wrong-401-code",
        "401 bodies carry code UNAUTHORIZED instead of UNAUTHENTICATED",
        middleware=wrong_401_code,
    ),
    Fault(
        "no-token-200",
        "a call without any access token is answered 200 (for the first subscriber)",
        middleware=answer_without_token,
    ),
)
FAULTS: Mapping[str, Fault] = MappingProxyType({fault.name: fault for fault in _CATALOGUE})


def get_fault(name: str) -> Fault:
    """The variant called ``name``; KeyError (listing the known names) when there is none."""
    try:
        return FAULTS[name]
    except KeyError:
        raise KeyError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}") from None


def faulty_names() -> list[str]:
    return [f.name for f in _CATALOGUE if not f.benign]


def benign_names() -> list[str]:
    return [f.name for f in _CATALOGUE if f.benign]


def behaviour_for(name: str, base: Behaviour = CORRECT) -> Behaviour:
    """``base`` with the variant's flag overrides applied."""
    fault = get_fault(name)
    return base.with_changes(**fault.overrides) if fault.overrides else base


def wrap_app(name: str, app: Asgi) -> Asgi:
    """``app`` wrapped in the variant's middleware (unchanged when it has none)."""
    fault = get_fault(name)
    return fault.middleware(app) if fault.middleware is not None else app
