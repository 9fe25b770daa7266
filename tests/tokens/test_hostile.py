"""Deliberately hostile or broken authorization servers: every one ends in one clear TokenError,
fast, with bounded memory, and without any secret in the message, the output or the logs."""

from __future__ import annotations

import re
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwk

from nv_conformance.errors import TokenError
from nv_conformance.http import HttpSettings
from nv_conformance.tokens import TokenKind, build_token_provider

from .servers import FakeServer, Reply, json_reply, silent_server

VERIFY = "number-verification:verify"
OPERATOR_TOKEN = "op-token-SECRET-4711-abcdef"
SHORT = HttpSettings(connect_timeout=0.5, read_timeout=0.5, total_timeout=2.0)


def jwt_bearer_config(token_endpoint: str, key_path: Path) -> dict[str, Any]:
    return {"valid": {"method": "jwt-bearer", "token_endpoint": token_endpoint, "client_id": "app",
                      "private_key_file": str(key_path), "subject": f"operatortoken:{OPERATOR_TOKEN}",
                      "purpose": "dpv:FraudPreventionAndDetection"}}


def fail_within(config: dict[str, Any], seconds: float, http: HttpSettings = SHORT) -> tuple[TokenError, float, int]:
    """Run one get() that must fail; returns the error, the elapsed time and the peak Python memory."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with build_token_provider(config, http=http, kit=None) as provider, pytest.raises(TokenError) as caught:
            provider.get(TokenKind.VALID, VERIFY)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400
    assert OPERATOR_TOKEN not in message and not re.search(r"eyJ[A-Za-z0-9_-]{4,}", message)  # no JWT
    return caught.value, elapsed, peak


@pytest.fixture
def hostile(request: pytest.FixtureRequest) -> Iterator[FakeServer]:
    with FakeServer(request.param) as server:
        yield server


def test_a_50_mb_token_response_is_cut_off(client_key: tuple[Path, Any], leaks: Any) -> None:
    leaks.add(OPERATOR_TOKEN)
    routes = {"/token": lambda r: Reply(200, headers={"content-type": "application/json"}, stream_bytes=50 * 1024 * 1024)}
    with FakeServer(routes) as server:
        error, elapsed, peak = fail_within(jwt_bearer_config(server.url + "/token", client_key[0]), 5)
    assert "byte limit" in str(error) and server.url + "/token" in str(error)
    assert peak < 8 * 1024 * 1024, f"peak memory {peak} bytes"


def test_a_declared_50_mb_body_is_refused_before_reading(client_key: tuple[Path, Any]) -> None:
    routes = {"/token": lambda r: Reply(200, headers={"content-type": "application/json", "content-length": str(50 << 20)},
                                        stream_bytes=50 << 20)}
    with FakeServer(routes) as server:
        error, _, peak = fail_within(jwt_bearer_config(server.url + "/token", client_key[0]), 3)
    assert "exceeds the 1048576-byte limit" in str(error)
    assert peak < 4 * 1024 * 1024


def test_a_server_that_never_answers(client_key: tuple[Path, Any], leaks: Any) -> None:
    leaks.add(OPERATOR_TOKEN)
    with silent_server() as url:
        error, elapsed, _ = fail_within(jwt_bearer_config(url + "/token", client_key[0]), 3)
    assert "no answer within the timeout" in str(error) and url + "/token" in str(error)


def test_a_body_that_drips_forever_hits_the_total_deadline(client_key: tuple[Path, Any]) -> None:
    routes = {"/token": lambda r: Reply(200, headers={"content-type": "application/json"}, drip_seconds=0.05)}
    with FakeServer(routes) as server:
        error, elapsed, _ = fail_within(jwt_bearer_config(server.url + "/token", client_key[0]), 3,
                                        http=HttpSettings(connect_timeout=0.5, read_timeout=0.5, total_timeout=1.0))
    assert "not complete within 1 s" in str(error)


def test_an_unreachable_token_endpoint(client_key: tuple[Path, Any]) -> None:
    with FakeServer({}) as server:
        url = server.url
    error, _, _ = fail_within(jwt_bearer_config(url + "/token", client_key[0]), 3)
    assert "ConnectError" in str(error) and url in str(error)


def echo_assertion(request: Any) -> Reply:
    return json_reply({"error": "invalid_grant", "error_description": "bad assertion " + request.form.get("assertion", "")}, 400)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (lambda r: Reply(200, "<html>login</html>", {"content-type": "text/html"}), "HTTP 200, no OAuth JSON answer (text/html"),
        (lambda r: json_reply(["access_token", "x"]), "HTTP 200, no OAuth JSON answer (application/json"),
        (lambda r: json_reply({"token_type": "Bearer", "expires_in": 300}), "no access_token"),
        (lambda r: json_reply({"access_token": "abcdefgh-token", "token_type": "MAC"}), "is not Bearer"),
        (lambda r: Reply(500, "Internal Server Error <pre>Traceback...</pre>", {"content-type": "text/html"}), "HTTP 500, no OAuth JSON"),
        (lambda r: Reply(502, b""), "HTTP 502, no OAuth JSON answer (no content-type, 0 bytes)"),
        (lambda r: Reply(200, b"\xff\xfe{not json", {"content-type": "application/json"}), "HTTP 200, no OAuth JSON"),
        (echo_assertion, "HTTP 400, OAuth error invalid_grant: bad assertion eyJ…(redacted)"),
        (lambda r: json_reply({"error": "x" * 5000 + "\n\x1b[31m"}, 401), "HTTP 401, OAuth error xxxxx"),
        (lambda r: Reply(302, b"", {"location": "http://127.0.0.9:1/steal"}), "HTTP 302 redirect (not followed)"),
    ],
)
def test_broken_token_responses(client_key: tuple[Path, Any], leaks: Any, reply: Any, expected: str) -> None:
    leaks.add(OPERATOR_TOKEN)
    with FakeServer({"/token": reply}) as server:
        error, _, _ = fail_within(jwt_bearer_config(server.url + "/token", client_key[0]), 3)
    assert expected in str(error), str(error)
    assert server.url + "/token" in str(error)
    assert "\x1b" not in str(error)


def test_the_jwt_bearer_request_follows_the_camara_profile(client_key: tuple[Path, jwk.ECKey]) -> None:
    from joserfc import jwt

    with FakeServer({"/token": lambda r: json_reply({"access_token": "t-" + r.form["assertion"][-12:], "token_type": "Bearer",
                                                     "expires_in": 300, "refresh_token": "refresh-abcdef"})}) as server:
        endpoint = server.url + "/token"
        with build_token_provider(jwt_bearer_config(endpoint, client_key[0]), http=SHORT, kit=None) as provider:
            first = provider.get(TokenKind.VALID, VERIFY)
            provider.get(TokenKind.VALID, VERIFY)
    assert first.refresh_token_issued is True and first.expires_in == 300
    forms = [request.form for request in server.hits("/token")]
    assert all(set(form) == {"grant_type", "assertion"} for form in forms)  # no scope form parameter
    assert forms[0]["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = [jwt.decode(form["assertion"], client_key[1], algorithms=["ES256"]).claims for form in forms]
    header = jwt.decode(forms[0]["assertion"], client_key[1], algorithms=["ES256"]).header
    assert header["alg"] == "ES256"
    for claim in claims:
        assert claim["iss"] == "app" and claim["aud"] == endpoint
        assert claim["sub"] == f"operatortoken:{OPERATOR_TOKEN}"
        assert claim["scope"] == f"dpv:FraudPreventionAndDetection {VERIFY}"
        assert 0 < claim["exp"] - claim["iat"] <= 300 and abs(claim["iat"] - time.time()) < 5
    assert claims[0]["jti"] != claims[1]["jti"]


# -- discovery ------------------------------------------------------------------------------------


def discovery_config(issuer: str, key_path: Path) -> dict[str, Any]:
    config = jwt_bearer_config("", key_path)
    del config["valid"]["token_endpoint"]
    config["valid"]["issuer"] = issuer
    return config


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (lambda url: {"issuer": url, "token_endpoint": "http://attacker.example/token"}, "token_endpoint plain http"),
        (lambda url: {"issuer": url}, "has no token_endpoint"),
        (lambda url: {"issuer": "https://someone-else.example", "token_endpoint": url + "/token"}, "does not match"),
        (lambda url: ["not", "an", "object"], "not a JSON object"),
    ],
)
def test_hostile_discovery_documents(client_key: tuple[Path, Any], document: Any, expected: str) -> None:
    holder: dict[str, str] = {}
    routes = {"/.well-known/openid-configuration": lambda r: json_reply(document(holder["url"])),
              "/token": lambda r: json_reply({"access_token": "should-not-get-here"})}
    with FakeServer(routes) as server:
        holder["url"] = server.url
        error, _, _ = fail_within(discovery_config(server.url, client_key[0]), 3)
        assert not server.hits("/token")
    assert expected in str(error)
    assert "/.well-known/openid-configuration" in str(error)


def test_discovery_redirect_is_not_followed(client_key: tuple[Path, Any]) -> None:
    with FakeServer({}) as elsewhere, FakeServer({"/.well-known/openid-configuration": lambda r: Reply(
            301, b"", {"location": elsewhere.url + "/.well-known/openid-configuration"})}) as server:
        error, _, _ = fail_within(discovery_config(server.url, client_key[0]), 3)
        assert not elsewhere.requests
    assert "HTTP 301 (redirect not followed)" in str(error)


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_rsa_assertions_verify_with_the_public_key(tmp_path: Path, alg: str) -> None:
    from joserfc import jwt

    key = jwk.RSAKey.generate_key(2048)
    path = tmp_path / "rsa.pem"
    path.write_bytes(key.as_pem(private=True))
    with FakeServer({"/token": lambda r: json_reply({"access_token": "opaque-rsa-token-1", "token_type": "bearer"})}) as server:
        config = jwt_bearer_config(server.url + "/token", path)
        config["valid"]["signing_alg"] = alg
        with build_token_provider(config, http=SHORT, kit=None) as provider:
            assert provider.get(TokenKind.VALID, VERIFY).access_token == "opaque-rsa-token-1"
        assertion = server.hits("/token")[0].form["assertion"]
    decoded = jwt.decode(assertion, jwk.import_key(key.as_pem(private=False), "RSA"), algorithms=[alg])
    assert decoded.header["alg"] == alg and decoded.claims["iss"] == "app"


def test_headers_trickled_a_byte_at_a_time_hit_the_total_deadline_and_the_client_recovers() -> None:
    """Each byte arrives well within the read timeout, so only the total deadline can stop it."""
    import socket
    import threading

    from nv_conformance.errors import TargetError
    from nv_conformance.http import GuardedClient

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()

    def serve() -> None:
        first, _ = listener.accept()
        first.recv(65536)
        first.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while not stop.is_set():  # one header byte every 0.1 s, for ever
            try:
                first.sendall(b"a")
            except OSError:
                break
            time.sleep(0.1)
        first.close()

    def answer_second() -> None:
        second, _ = listener.accept()
        second.recv(65536)
        second.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
        second.close()

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/token"
    client = GuardedClient(HttpSettings(connect_timeout=0.5, read_timeout=0.5, total_timeout=1.0))
    try:
        started = time.monotonic()
        with pytest.raises(TargetError, match="no complete response headers within 1 s"):
            client.request("POST", url, data={"grant_type": "x"})
        assert time.monotonic() - started < 2
        threading.Thread(target=answer_second, daemon=True).start()
        assert client.request("GET", url).status == 204  # a fresh connection pool after the cut-off
    finally:
        stop.set()
        client.close()
        listener.close()
