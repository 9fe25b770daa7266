"""The rules of the multi-step flows, proved against small scripted servers:
CIBA waiting (interval, slow_down, overall timeout) and the authorization-code redirect walk
(same host only, stop at redirect_uri without requesting it, state, PKCE, source address)."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from joserfc import jwk, jwt

from nv_conformance.errors import TokenError
from nv_conformance.http import HttpSettings
from nv_conformance.tokens import TokenKind, build_token_provider

from .servers import FakeServer, Reply, json_reply

VERIFY = "number-verification:verify"
SHORT = HttpSettings(connect_timeout=0.5, read_timeout=1, total_timeout=2)
OPERATOR_TOKEN = "op-token-SECRET-0815-xyz"


# -- CIBA -----------------------------------------------------------------------------------------


class FakeClock:
    """Stands in for sleep + monotonic so the waiting rules are proved without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def ciba_server(poll_answers: list[Reply], start: Reply | None = None) -> FakeServer:
    answers = iter(poll_answers)
    start = start or json_reply({"auth_req_id": "req-id-secret-123456", "expires_in": 120, "interval": 2})
    return FakeServer({"/bc": lambda r: start, "/token": lambda r: next(answers)})


def ciba_provider(server: FakeServer, key: Path, clock: FakeClock, **extra: Any) -> Any:
    config = {"valid": {"method": "ciba", "issuer": server.url, "token_endpoint": server.url + "/token",
                        "backchannel_authentication_endpoint": server.url + "/bc", "client_id": "app",
                        "private_key_file": str(key), "login_hint": f"operatortoken:{OPERATOR_TOKEN}",
                        "purpose": "dpv:FraudPreventionAndDetection", **extra}}
    provider = build_token_provider(config, http=SHORT, kit=None)
    method = provider._methods[TokenKind.VALID]
    method.sleep, method.clock = clock.sleep, clock.monotonic
    return provider


def pending(error: str = "authorization_pending") -> Reply:
    return json_reply({"error": error}, 400)


def test_ciba_waits_the_interval_and_backs_off_on_slow_down(client_key: tuple[Path, jwk.ECKey], leaks: Any) -> None:
    leaks.add(OPERATOR_TOKEN, "req-id-secret-123456")
    clock = FakeClock()
    token = json_reply({"access_token": "ciba-token-abcdef", "token_type": "Bearer", "expires_in": 300})
    with ciba_server([pending(), pending("slow_down"), pending(), token]) as server:
        with ciba_provider(server, client_key[0], clock) as provider:
            issued = provider.get(TokenKind.VALID, VERIFY)
        start, *polls = server.requests
    assert issued.access_token == "ciba-token-abcdef" and issued.expires_in == 300
    assert clock.sleeps == [2, 2, 7, 7]  # interval before every poll, +5 s after slow_down
    assert start.form["login_hint"] == f"operatortoken:{OPERATOR_TOKEN}"
    assert start.form["scope"] == f"openid dpv:FraudPreventionAndDetection {VERIFY}"
    assert start.form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert {p.form["grant_type"] for p in polls} == {"urn:openid:params:grant-type:ciba"}
    assert {p.form["auth_req_id"] for p in polls} == {"req-id-secret-123456"}
    claims = [jwt.decode(r.form["client_assertion"], client_key[1], algorithms=["ES256"]).claims for r in server.requests]
    assert len({c["jti"] for c in claims}) == len(claims)  # a fresh assertion for every request
    assert claims[0]["aud"] == server.url and claims[0]["iss"] == claims[0]["sub"] == "app"


def test_ciba_interval_zero_polls_at_once_then_paces_itself(client_key: tuple[Path, Any]) -> None:
    clock = FakeClock()
    start = json_reply({"auth_req_id": "req-id-secret-123456", "expires_in": 120, "interval": 0})
    token = json_reply({"access_token": "ciba-token-abcdef", "token_type": "Bearer"})
    with ciba_server([pending(), pending(), token], start) as server, ciba_provider(server, client_key[0], clock) as provider:
        provider.get(TokenKind.VALID, VERIFY)
    assert clock.sleeps == [0.25, 0.25]  # no busy loop even when the server allows any pace


def test_ciba_without_an_interval_waits_the_default_5_s(client_key: tuple[Path, Any]) -> None:
    clock = FakeClock()
    start = json_reply({"auth_req_id": "req-id-secret-123456", "expires_in": 120})
    token = json_reply({"access_token": "ciba-token-abcdef", "token_type": "Bearer"})
    with ciba_server([token], start) as server, ciba_provider(server, client_key[0], clock) as provider:
        provider.get(TokenKind.VALID, VERIFY)
    assert clock.sleeps == [5]


def test_ciba_gives_up_at_the_overall_timeout(client_key: tuple[Path, Any], leaks: Any) -> None:
    leaks.add(OPERATOR_TOKEN, "req-id-secret-123456")
    clock = FakeClock()
    with ciba_server([pending()] * 100) as server, ciba_provider(server, client_key[0], clock, poll_timeout=9) as provider:
        with pytest.raises(TokenError) as caught:
            provider.get(TokenKind.VALID, VERIFY)
    assert sum(clock.sleeps) <= 9
    assert "no token within 9 s" in str(caught.value) and "authorization_pending" in str(caught.value)
    leaks.assert_clean(caught.value)


def test_ciba_refuses_an_absurd_interval_without_waiting(client_key: tuple[Path, Any]) -> None:
    clock = FakeClock()
    start = json_reply({"auth_req_id": "req-id-secret-123456", "expires_in": 120, "interval": 10**9})
    with ciba_server([], start) as server, ciba_provider(server, client_key[0], clock) as provider:
        with pytest.raises(TokenError) as caught:
            provider.get(TokenKind.VALID, VERIFY)
    assert clock.sleeps == [] and "poll interval 1000000000 s" in str(caught.value)


@pytest.mark.parametrize(
    ("start", "polls", "expected"),
    [
        (json_reply({"error": "unknown_user_id"}, 400), [], "backchannel authentication endpoint"),
        (None, [pending("access_denied")], "HTTP 400, OAuth error access_denied"),
        (None, [pending("expired_token")], "OAuth error expired_token"),
        (json_reply({"expires_in": 120}), [], "without auth_req_id"),
    ],
)
def test_ciba_failures_are_one_line(client_key: tuple[Path, Any], start: Any, polls: list[Reply], expected: str) -> None:
    with ciba_server(polls, start) as server, ciba_provider(server, client_key[0], FakeClock()) as provider:
        with pytest.raises(TokenError) as caught:
            provider.get(TokenKind.VALID, VERIFY)
    assert expected in str(caught.value) and "\n" not in str(caught.value)
    assert OPERATOR_TOKEN not in str(caught.value)


# -- authorization code -----------------------------------------------------------------------


class AuthCodeWorld:
    """An authorization server on 127.0.0.1, the client's callback on 127.0.0.4, a stranger on 127.0.0.3."""

    def __init__(self, walk: str) -> None:
        self.walk = walk
        self.challenges: dict[str, str] = {}
        self.callback = FakeServer({}, host="127.0.0.4")
        self.stranger = FakeServer({}, host="127.0.0.3")
        self.server = FakeServer({
            "/.well-known/openid-configuration": self.discovery,
            "/authorize": self.authorize,
            "/hop": self.hop,
            "/token": self.token,
        })

    def __enter__(self) -> AuthCodeWorld:
        for server in (self.callback, self.stranger, self.server):
            server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in (self.callback, self.stranger, self.server):
            server.__exit__(*exc)

    @property
    def redirect_uri(self) -> str:
        return self.callback.url + "/cb"

    def discovery(self, request: Any) -> Reply:
        url = self.server.url
        return json_reply({"issuer": url, "authorization_endpoint": url + "/authorize", "token_endpoint": url + "/token",
                           "code_challenge_methods_supported": ["S256"]})

    def authorize(self, request: Any) -> Reply:
        q = {k: v[0] for k, v in request.query.items()}
        self.challenges["code-secret-42"] = q.get("code_challenge", "")
        back = {"code": "code-secret-42", "state": "forged" if self.walk == "bad-state" else q["state"]}
        if self.walk == "page":
            return Reply(200, "<html><form>log in</form></html>", {"content-type": "text/html"})
        if self.walk == "error":
            return Reply(302, b"", {"location": self.redirect_uri + "?" + urlencode({"error": "login_required", "state": q["state"]})})
        if self.walk == "loop":
            return Reply(302, b"", {"location": "/authorize?" + urlencode(q)})
        if self.walk == "stranger":
            return Reply(302, b"", {"location": "/hop?next=" + self.stranger.url})
        return Reply(302, b"", {"location": "/hop?" + urlencode({"to": self.redirect_uri + "?" + urlencode(back)})})

    def hop(self, request: Any) -> Reply:
        if "next" in request.query:
            return Reply(302, b"", {"location": request.query["next"][0] + "/collect?code=code-secret-42"})
        return Reply(302, b"", {"location": request.query["to"][0]})

    def token(self, request: Any) -> Reply:
        form = request.form
        digest = base64.urlsafe_b64encode(hashlib.sha256(form.get("code_verifier", "").encode()).digest()).rstrip(b"=").decode()
        if form.get("code") != "code-secret-42" or digest != self.challenges.get("code-secret-42"):
            return json_reply({"error": "invalid_grant"}, 400)
        return json_reply({"access_token": "authcode-token-abcdef", "token_type": "Bearer", "expires_in": 300})


@pytest.fixture
def world(request: pytest.FixtureRequest) -> Iterator[AuthCodeWorld]:
    with AuthCodeWorld(request.param) as built:
        yield built


def authcode_config(world: AuthCodeWorld, key: Path, **extra: Any) -> dict[str, Any]:
    return {"valid": {"method": "authorization-code", "issuer": world.server.url, "client_id": "app",
                      "private_key_file": str(key), "redirect_uri": world.redirect_uri, "source_address": "127.0.0.2",
                      "purpose": "dpv:FraudPreventionAndDetection", **extra}}


@pytest.mark.parametrize("world", ["good"], indirect=True)
def test_authorization_code_walks_the_same_host_and_stops_at_the_redirect_uri(world: AuthCodeWorld, client_key: tuple[Path, Any], leaks: Any) -> None:
    leaks.add("code-secret-42")
    with build_token_provider(authcode_config(world, client_key[0]), http=SHORT, kit=None) as provider:
        issued = provider.get(TokenKind.VALID, VERIFY)
    assert issued.access_token == "authcode-token-abcdef"
    authorize = world.server.hits("/authorize")[0]
    query = {k: v[0] for k, v in authorize.query.items()}
    assert query["prompt"] == "none" and query["response_type"] == "code"
    assert query["scope"] == f"openid dpv:FraudPreventionAndDetection {VERIFY}"
    assert query["code_challenge_method"] == "S256"
    assert authorize.client_ip == "127.0.0.2" and world.server.hits("/hop")[0].client_ip == "127.0.0.2"
    assert world.callback.requests == []  # the redirect_uri itself is never requested
    exchange = world.server.hits("/token")[0]
    assert exchange.form["redirect_uri"] == world.redirect_uri and "client_assertion" in exchange.form


@pytest.mark.parametrize(
    ("world", "expected"),
    [
        ("stranger", "redirect to another host (127.0.0.3) not followed"),
        ("page", "HTTP 200 instead of a redirect"),
        ("loop", "more than 10 redirects"),
        ("bad-state", "wrong state"),
        ("error", "OAuth error login_required"),
    ],
    indirect=["world"],
)
def test_authorization_code_refuses_bad_walks(world: AuthCodeWorld, client_key: tuple[Path, Any], leaks: Any, expected: str) -> None:
    leaks.add("code-secret-42")
    started = time.monotonic()
    with build_token_provider(authcode_config(world, client_key[0]), http=SHORT, kit=None) as provider:
        with pytest.raises(TokenError) as caught:
            provider.get(TokenKind.VALID, VERIFY)
    assert time.monotonic() - started < 3
    assert expected in str(caught.value), str(caught.value)
    assert world.stranger.requests == [] and world.callback.requests == []
    assert world.server.hits("/token") == []
    leaks.assert_clean(caught.value)


@pytest.mark.parametrize("world", ["error"], indirect=True)
def test_off_network_attempt_reports_the_oauth_error(world: AuthCodeWorld, client_key: tuple[Path, Any]) -> None:
    config = authcode_config(world, client_key[0])
    config["off_network"] = {**config.pop("valid"), "source_address": "127.0.0.250"}
    with build_token_provider(config, http=SHORT, kit=None) as provider:
        outcome = provider.try_off_network(VERIFY)
    assert (outcome.token_issued, outcome.error) == (False, "login_required")
    assert world.server.hits("/authorize")[0].client_ip == "127.0.0.250"
