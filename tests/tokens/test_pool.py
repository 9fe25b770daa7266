"""The token pool: planned tokens acquired side by side and ahead of need, each used once, none too old,
never more than planned; and the request gate that bounds what is in flight (not what is waiting)."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

import pytest

from nv_conformance.errors import TokenError
from nv_conformance.http import HttpSettings, Pace, RequestGate
from nv_conformance.tokens import TokenKind, build_token_provider
from nv_conformance.tokens.base import IssuedToken, OffNetworkOutcome
from nv_conformance.tokens.pool import TokenPool

from .servers import FakeServer, json_reply

VERIFY = "number-verification:verify"
READ = "number-verification:device-phone-number:read"


class CountingProvider:
    """Issues numbered tokens; optionally every fetch waits at a barrier (proving they run side by side)."""

    def __init__(self, *, barrier: threading.Barrier | None = None, expires_in: int | None = 300,
                 fail: bool = False) -> None:
        self.barrier = barrier
        self.expires_in = expires_in
        self.fail = fail
        self.calls: list[tuple[TokenKind, str]] = []
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def supports(self, kind: TokenKind) -> bool:
        return kind is not TokenKind.EXPIRED

    def get(self, kind: TokenKind, scope: str) -> IssuedToken:
        with self._lock:
            self.calls.append((kind, scope))
            number = next(self._numbers)
        if self.barrier is not None:
            self.barrier.wait(timeout=10)
        if self.fail:
            raise TokenError("tokens.valid: token endpoint http://as/token: HTTP 503")
        return IssuedToken(f"token-{number}", kind, scope, expires_in=self.expires_in)

    def supports_off_network(self) -> bool:
        return False

    def try_off_network(self, scope: str) -> OffNetworkOutcome:
        raise AssertionError("not planned")

    def close(self) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_planned_tokens_are_fetched_side_by_side_and_each_is_handed_out_once() -> None:
    provider = CountingProvider(barrier=threading.Barrier(5))  # all five fetches must be under way at once
    pool = TokenPool(provider, {(TokenKind.VALID, VERIFY): 3, (TokenKind.OTHER_SCOPE, READ): 2})
    try:
        tokens = [pool.get(TokenKind.VALID, VERIFY) for _ in range(3)]
        tokens += [pool.get(TokenKind.OTHER_SCOPE, READ) for _ in range(2)]
    finally:
        pool.close()
    assert len({t.access_token for t in tokens}) == 5  # never one twice
    assert [t.kind for t in tokens] == [TokenKind.VALID] * 3 + [TokenKind.OTHER_SCOPE] * 2
    assert len(provider.calls) == 5 and pool.planned == 5


def test_the_pool_never_asks_for_more_than_planned_and_fetches_the_unforeseen_on_demand() -> None:
    provider = CountingProvider()
    pool = TokenPool(provider, {(TokenKind.VALID, VERIFY): 1})
    try:
        first = pool.get(TokenKind.VALID, VERIFY)
        assert len(provider.calls) == 1
        second = pool.get(TokenKind.VALID, VERIFY)  # beyond the plan: one fresh fetch, now
        other = pool.get(TokenKind.NON_NETWORK, VERIFY)
    finally:
        pool.close()
    assert first.access_token != second.access_token
    assert provider.calls == [(TokenKind.VALID, VERIFY)] * 2 + [(TokenKind.NON_NETWORK, VERIFY)]
    assert other.kind is TokenKind.NON_NETWORK


def test_an_unsupported_kind_is_not_planned() -> None:
    provider = CountingProvider()
    pool = TokenPool(provider, {(TokenKind.EXPIRED, VERIFY): 4})
    pool.close()
    assert pool.planned == 0 and provider.calls == []


def test_a_token_close_to_its_expiry_is_dropped_and_another_fetched() -> None:
    clock = Clock()
    provider = CountingProvider(expires_in=100)  # margin: a fifth of the lifetime, 20 s
    pool = TokenPool(provider, {(TokenKind.VALID, VERIFY): 2}, clock=clock)
    try:
        for queue in pool._waiting.values():  # both planned tokens arrive at clock 100
            for future in queue:
                future.result(timeout=10)
        fresh = pool.get(TokenKind.VALID, VERIFY)
        clock.now += 81  # 19 s left of the second planned token: too close
        late = pool.get(TokenKind.VALID, VERIFY)
    finally:
        pool.close()
    assert fresh.access_token in ("token-1", "token-2")
    assert late.access_token == "token-3" and len(provider.calls) == 3


def test_a_failed_acquisition_fails_the_get_that_would_have_used_it() -> None:
    pool = TokenPool(CountingProvider(fail=True), {(TokenKind.VALID, VERIFY): 1})
    try:
        with pytest.raises(TokenError, match="HTTP 503"):
            pool.get(TokenKind.VALID, VERIFY)
    finally:
        pool.close()


def test_the_gate_bounds_requests_in_flight() -> None:
    gate = RequestGate(2)
    inside, most = 0, 0
    lock = threading.Lock()
    release = threading.Event()

    def request() -> None:
        nonlocal inside, most
        with gate:
            with lock:
                inside += 1
                most = max(most, inside)
            release.wait(0.2)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=request) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert most == 2


def test_pace_spaces_request_starts() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))

    pace = Pace(4, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        pace.wait()
    assert slept == [0.25, 0.5]  # 4 per second: starts at 0, 0.25, 0.5


def test_ciba_requests_wait_out_their_interval_together_outside_the_gate(client_key: tuple[Path, Any]) -> None:
    """Six CIBA acquisitions, two requests in flight at most: all six are waiting their interval at once."""
    count = 6
    ids = itertools.count()
    lock = threading.Lock()

    def start(request: Any) -> Any:
        with lock:
            number = next(ids)
        return json_reply({"auth_req_id": f"req-{number}-secret-abcdef", "expires_in": 120, "interval": 5})

    routes = {"/bc": start,
              "/token": lambda r: json_reply({"access_token": f"ciba-{r.body.decode()[-12:]}", "token_type": "Bearer",
                                              "expires_in": 300})}
    barrier = threading.Barrier(count)
    waits: list[float] = []
    with FakeServer(routes) as server:
        config = {"valid": {"method": "ciba", "issuer": server.url, "token_endpoint": server.url + "/token",
                            "backchannel_authentication_endpoint": server.url + "/bc", "client_id": "app",
                            "private_key_file": str(client_key[0]), "login_hint": "operatortoken:op-SECRET-123"}}
        provider = build_token_provider(config, http=HttpSettings(connect_timeout=2, read_timeout=2, total_timeout=5))
        method = provider._methods[TokenKind.VALID]
        gate = RequestGate(2)

        def sleep(seconds: float) -> None:  # the interval: every acquisition must be here at the same time
            waits.append(seconds)
            barrier.wait(timeout=10)

        method.sleep = sleep
        provider.use_gate(gate)
        pool = TokenPool(provider, {(TokenKind.VALID, VERIFY): count})
        try:
            tokens = [pool.get(TokenKind.VALID, VERIFY) for _ in range(count)]
        finally:
            pool.close()
            provider.close()
    assert waits == [5] * count
    assert len({t.access_token for t in tokens}) == count
