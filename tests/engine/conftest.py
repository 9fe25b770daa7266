"""Fakes for engine tests: a scripted token provider and a session on an httpx.MockTransport."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest

from nv_conformance.bdd.session import ScenarioState, Session, TestData, new_run
from nv_conformance.contract import Contract
from nv_conformance.http import GuardedClient
from nv_conformance.profiles import get_profile
from nv_conformance.tokens.base import IssuedToken, OffNetworkOutcome, TokenKind

SUBSCRIBER = "+447700900001"
OTHER = "+447700900002"
BASE = "http://nv.test/number-verification/vwip"


def fake_jwt(claims: dict, signature: bytes = b"\x01" * 32) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    return ".".join([b64(b'{"alg":"ES256"}'), b64(json.dumps(claims).encode()), b64(signature)])


class FakeTokens:
    """Issues numbered JWT-shaped tokens per kind; records what was asked."""

    def __init__(self, supported=tuple(TokenKind), off_network: OffNetworkOutcome | None = None,
                 expires_in: int | None = 300, refresh: bool = False, from_token_response: bool = True,
                 grant: str = "") -> None:
        self.supported = set(supported)
        self.requests: list[tuple[TokenKind, str]] = []
        self.off_network = off_network
        self.expires_in = expires_in
        self.refresh = refresh
        self.from_token_response = from_token_response
        self.grant = grant

    def supports(self, kind: TokenKind) -> bool:
        return kind in self.supported

    def reason_unsupported(self, kind: TokenKind) -> str:
        return f"tokens.{kind.value}: not configured"

    def get(self, kind: TokenKind, scope: str) -> IssuedToken:
        self.requests.append((kind, scope))
        token = fake_jwt({"kind": kind.value, "n": len(self.requests), "scope": scope, "iat": 1000, "exp": 1300})
        return IssuedToken(token, kind, scope, expires_in=self.expires_in, refresh_token_issued=self.refresh,
                           method="fake", from_token_response=self.from_token_response, grant=self.grant)

    def supports_off_network(self) -> bool:
        return self.off_network is not None

    def try_off_network(self, scope: str) -> OffNetworkOutcome:
        assert self.off_network is not None
        return self.off_network

    def close(self) -> None:
        pass


class Recorder:
    """A MockTransport handler that records requests and answers with ``respond(request)``."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response]) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.respond(request)


def ok_share(request: httpx.Request) -> httpx.Response:
    headers = {"x-correlator": request.headers["x-correlator"]} if "x-correlator" in request.headers else {}
    return httpx.Response(200, json={"devicePhoneNumber": SUBSCRIBER}, headers=headers)


def make_state(respond=ok_share, tokens: FakeTokens | None = None, version: str = "vwip",
               test_data: TestData | None = None, contract: Contract | None = None, strict_tokens: bool = False):
    recorder = Recorder(respond)
    session = Session(
        base_url=BASE, api_root="http://nv.test", api_version=version,
        contract=contract or Contract.for_version(version), profile=get_profile(version),
        client=GuardedClient(transport=httpx.MockTransport(recorder)),
        tokens=tokens if tokens is not None else FakeTokens(),
        run=new_run("test", version, {}), test_data=test_data or TestData(SUBSCRIBER, OTHER),
        strict_token_policy=strict_tokens,
    )
    return ScenarioState(session), recorder


@pytest.fixture
def state_and_recorder():
    return make_state()
