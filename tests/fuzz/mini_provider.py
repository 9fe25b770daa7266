"""A tiny, correct-enough vwip provider for testing the fuzz runner's machinery (not its checks).

Single-use opaque tokens from POST /token; optional misbehaviours a live target can show:
``rate_limit_first`` 429s (with Retry-After), ``reject_tokens`` (every token gets 401) and
``forbid`` (every token gets 403), ``deep_json_errors`` (400 bodies nested beyond any parser's recursion limit).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PHONE = re.compile(r"^\+[1-9][0-9]{4,14}$")
HASH = re.compile(r"^[a-fA-F0-9]{64}$")
XC = re.compile(r"^[a-zA-Z0-9-_:;.\/<>{}]{0,256}$")
SUBSCRIBER = "+447700900001"


@dataclass
class MiniState:
    rate_limit_first: int = 0      # answer this many API calls 429 before serving
    retry_after: str = "1"
    reject_tokens: bool = False
    forbid: bool = False           # every token lacks what the API needs: 403 for everything
    deep_json_errors: bool = False  # 400 bodies are JSON arrays nested 100,000 deep
    tokens: set[str] = field(default_factory=set)
    used_tokens: list[str] = field(default_factory=list)
    calls: int = 0
    limited: int = 0
    call_times: list[float] = field(default_factory=list)
    counter: itertools.count = field(default_factory=itertools.count)


def build_app(state: MiniState) -> Starlette:
    def error(status: int, code: str, message: str, xc: str | None) -> Response:
        headers = {"x-correlator": xc} if xc and XC.match(xc) else {}
        if state.deep_json_errors and status == 400:
            return Response(b"[" * 100_000 + b"]" * 100_000, status_code=400, media_type="application/json",
                            headers=headers)
        return JSONResponse({"status": status, "code": code, "message": message}, status_code=status, headers=headers)

    def ok(payload: dict, xc: str | None) -> Response:
        return JSONResponse(payload, headers={"x-correlator": xc} if xc else {})

    async def token(request: Request) -> Response:
        value = f"mini-token-{next(state.counter)}"
        state.tokens.add(value)
        return JSONResponse({"access_token": value, "token_type": "Bearer", "expires_in": 300})

    def gate(request: Request) -> Response | None:
        state.calls += 1
        state.call_times.append(time.monotonic())
        xc = request.headers.get("x-correlator")
        if state.limited < state.rate_limit_first:
            state.limited += 1
            return JSONResponse({"status": 429, "code": "TOO_MANY_REQUESTS", "message": "slow down"},
                                status_code=429, headers={"retry-after": state.retry_after})
        if xc is not None and not XC.match(xc):
            return error(400, "INVALID_ARGUMENT", "bad x-correlator", None)
        auth = request.headers.get("authorization", "")
        value = auth[7:] if auth.startswith("Bearer ") else ""
        state.used_tokens.append(value)
        if state.reject_tokens or value not in state.tokens:
            return error(401, "UNAUTHENTICATED", "no valid token", xc)
        state.tokens.discard(value)
        if state.forbid:
            return error(403, "PERMISSION_DENIED", "token not obtained by network-based authentication", xc)
        return None

    async def verify(request: Request) -> Response:
        refused = gate(request)
        if refused is not None:
            return refused
        xc = request.headers.get("x-correlator")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return error(400, "INVALID_ARGUMENT", "not JSON", xc)
        if request.headers.get("content-type", "application/json").split(";")[0] != "application/json":
            return error(400, "INVALID_ARGUMENT", "not JSON", xc)
        if not isinstance(body, dict) or len(body) != 1:
            return error(400, "INVALID_ARGUMENT", "exactly one property", xc)
        (name, value), = body.items()
        if name == "phoneNumber" and isinstance(value, str) and PHONE.match(value):
            return ok({"devicePhoneNumberVerified": value == SUBSCRIBER}, xc)
        if name == "hashedPhoneNumber" and isinstance(value, str) and HASH.match(value):
            return ok({"devicePhoneNumberVerified": False}, xc)
        return error(400, "INVALID_ARGUMENT", "invalid body", xc)

    async def share(request: Request) -> Response:
        refused = gate(request)
        if refused is not None:
            return refused
        return ok({"devicePhoneNumber": SUBSCRIBER}, request.headers.get("x-correlator"))

    async def not_allowed(request: Request) -> Response:
        return error(405, "METHOD_NOT_ALLOWED", "no", request.headers.get("x-correlator"))

    others = ["PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "QUERY"]
    return Starlette(routes=[
        Route("/token", token, methods=["POST"]),
        Route("/number-verification/vwip/verify", verify, methods=["POST"]),
        Route("/number-verification/vwip/verify", not_allowed, methods=["GET", *others]),
        Route("/number-verification/vwip/device-phone-number", share, methods=["GET"]),
        Route("/number-verification/vwip/device-phone-number", not_allowed, methods=["POST", *others]),
    ])


class MiniServer:
    """The mini provider on a free loopback port, in a background thread."""

    def __init__(self, state: MiniState) -> None:
        from reference_impl.embedded import free_port

        self.state = state
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.api_base_url = self.base_url + "/number-verification/vwip"
        config = uvicorn.Config(build_app(state), host="127.0.0.1", port=self.port, log_level="error",
                                access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> MiniServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
