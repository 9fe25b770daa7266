"""The one HTTP client's transport settings: User-Agent, Accept-Encoding, extra headers bound to
their origin, mutual TLS (key from a file, an environment variable, under a passphrase), proxies,
and bounded decoding of bodies a target compresses anyway."""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import pytest
from loopback import server_tls
from tokens.servers import FakeServer, Reply, json_reply

from nv_conformance import __version__
from nv_conformance.errors import ConfigError, TargetError
from nv_conformance.http import (
    ClientCertificate,
    GuardedClient,
    HttpSettings,
    ResponseTooLargeError,
    origin_of,
)

from .certs import PASSPHRASE, Pki, make_pki
from .hostile import HostileServer, gzip_bomb_body, stacked_gzip_body
from .proxy import ForwardProxy

KEY = "gw-key-SECRET-0123456789"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def echo_server() -> FakeServer:
    return FakeServer({"/echo": lambda r: json_reply({"headers": {k.lower(): v for k, v in r.headers.items()}})})


def test_default_user_agent_and_identity_encoding() -> None:
    with echo_server() as server, GuardedClient(HttpSettings()) as client:
        seen = client.request("GET", server.url + "/echo").json["headers"]
    assert seen["user-agent"] == f"nv-conformance/{__version__}"
    assert seen["accept-encoding"] == "identity"


def test_configured_user_agent_wins() -> None:
    with echo_server() as server, GuardedClient(HttpSettings(user_agent="acme-probe/2")) as client:
        assert client.request("GET", server.url + "/echo").json["headers"]["user-agent"] == "acme-probe/2"


def test_extra_headers_go_to_their_origin_only() -> None:
    with echo_server() as api, echo_server() as elsewhere:
        settings = HttpSettings(headers=(("X-API-Key", KEY),), headers_origin=origin_of(api.url))
        with GuardedClient(settings) as client:
            at_api = client.request("GET", api.url + "/echo").json["headers"]
            at_other = client.request("GET", elsewhere.url + "/echo").json["headers"]
            caller_wins = client.request("GET", api.url + "/echo", headers={"x-api-key": "per-call"}).json["headers"]
    assert at_api["x-api-key"] == KEY
    assert "x-api-key" not in at_other
    assert caller_wins["x-api-key"] == "per-call"


def test_origin_makes_default_ports_explicit() -> None:
    assert origin_of("https://API.example.com/x?y") == origin_of("https://api.example.com:443/") == "https://api.example.com:443"
    assert origin_of("http://127.0.0.1:8080/a") != origin_of("http://127.0.0.1:8081/a")


# -- compressed bodies: decoded in bounded steps ------------------------------------------------

@pytest.mark.parametrize("encoding, encode", [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),
    ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send it
    ("gzip, gzip", lambda b: gzip.compress(gzip.compress(b))),
])
def test_a_target_that_compresses_anyway_is_understood(encoding: str, encode: Any) -> None:
    payload = json.dumps({"devicePhoneNumber": "+447700900001", "pad": "x" * 5000}).encode()
    routes = {"/c": lambda r: Reply(200, body=encode(payload),
                                    headers={"content-type": "application/json", "content-encoding": encoding})}
    with FakeServer(routes) as server, GuardedClient(HttpSettings()) as client:
        result = client.request("GET", server.url + "/c")
    assert result.body == payload


@pytest.mark.parametrize("behaviour", ["stacked-gzip", "gzip-bomb"])
def test_compression_bombs_stop_at_the_cap_with_little_memory(behaviour: str) -> None:
    stacked_gzip_body(), gzip_bomb_body()  # built before measuring (the server's side)
    with HostileServer(behaviour) as server, GuardedClient(HttpSettings()) as client:
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError, match="response body exceeds the 1048576-byte limit"):
                client.request("GET", server.url + "/bomb")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 << 20, f"peak {peak} bytes"


def test_an_undecodable_body_is_the_targets_failure() -> None:
    routes = {"/c": lambda r: Reply(200, body=b"not gzip at all", headers={"content-encoding": "gzip"})}
    with FakeServer(routes) as server, GuardedClient(HttpSettings()) as client, \
            pytest.raises(TargetError, match="response body is not valid gzip"):
        client.request("GET", server.url + "/c")


def test_a_10_mb_header_is_one_clear_error() -> None:
    with HostileServer("header-10mb") as server, GuardedClient(HttpSettings()) as client, \
            pytest.raises(TargetError, match="response headers exceed the 100 KiB limit"):
        client.request("GET", server.url + "/")


def test_a_deadline_shortens_the_request() -> None:
    import time

    with HostileServer("trickled-body") as server, GuardedClient(HttpSettings(total_timeout=30)) as client:
        started = time.monotonic()
        with pytest.raises(TargetError, match="not complete within"):
            client.request("GET", server.url + "/", deadline=time.monotonic() + 1)
    assert time.monotonic() - started < 3


# -- mutual TLS ---------------------------------------------------------------------------------

def mtls_server(pki: Pki) -> FakeServer:
    return FakeServer({"/who": lambda r: json_reply({"ok": True})},
                      tls=server_tls(pki.server_cert, pki.server_key, client_ca=pki.ca_cert))


@pytest.mark.parametrize("source", ["file", "env", "encrypted"])
def test_client_certificate_is_presented(pki: Pki, source: str) -> None:
    cert = {
        "file": ClientCertificate(str(pki.client_cert), str(pki.client_key)),
        "env": ClientCertificate(str(pki.client_cert), key_pem=pki.client_key_pem),
        "encrypted": ClientCertificate(str(pki.client_cert), str(pki.client_key_encrypted), password=PASSPHRASE),
    }[source]
    with mtls_server(pki) as server, GuardedClient(HttpSettings(ca_bundle=str(pki.ca_cert), client_cert=cert)) as client:
        assert client.request("GET", server.url + "/who").json == {"ok": True}


def test_without_a_client_certificate_the_handshake_fails(pki: Pki) -> None:
    with mtls_server(pki) as server, GuardedClient(HttpSettings(ca_bundle=str(pki.ca_cert))) as client, \
            pytest.raises(TargetError):
        client.request("GET", server.url + "/who")


def test_a_wrong_passphrase_names_the_setting(pki: Pki) -> None:
    from nv_conformance.http import ssl_context

    with pytest.raises(ConfigError, match="tls.client_cert: .*passphrase"):
        ssl_context(True, ClientCertificate(str(pki.client_cert), str(pki.client_key_encrypted), password="wrong"))


# -- proxies ------------------------------------------------------------------------------------

def via_proxy_server() -> tuple[FakeServer, list[dict[str, str]]]:
    """A target that notes, per request, whether it came through the test proxy (which adds ``Via``)."""
    seen: list[dict[str, str]] = []

    def route(request: Any) -> Reply:
        seen.append({k.lower(): v for k, v in request.headers.items()})
        return json_reply({"ok": True})

    return FakeServer({"/p": route}), seen


def test_http_requests_go_through_the_configured_proxy_and_nowhere_else() -> None:
    target, seen = via_proxy_server()
    with target, ForwardProxy() as proxy, GuardedClient(HttpSettings(proxy=proxy.url)) as client:
        for _ in range(3):
            assert client.request("GET", target.url + "/p", headers={"authorization": "Bearer t0k3n-abcdef"}).status == 200
    assert [(m, t) for m, t, _ in proxy.seen] == [("GET", target.url + "/p")] * 3
    assert len(seen) == 3 and all(h.get("via") == "1.1 test-proxy" for h in seen)  # none reached it directly
    assert all("proxy-authorization" not in h for _, _, h in proxy.seen)


def test_https_goes_through_a_connect_tunnel(pki: Pki) -> None:
    server = mtls_server(pki)
    cert = ClientCertificate(str(pki.client_cert), str(pki.client_key))
    with server, ForwardProxy() as proxy, GuardedClient(
            HttpSettings(proxy=proxy.url, ca_bundle=str(pki.ca_cert), client_cert=cert)) as client:
        assert client.request("GET", server.url + "/who", headers={"authorization": "Bearer t0k3n-abcdef"}).status == 200
    host_port = server.url.removeprefix("https://")
    assert [(m, t) for m, t, _ in proxy.seen] == [("CONNECT", host_port)]
    assert all("authorization" not in {k.lower() for k in h} for _, _, h in proxy.seen)  # the token stays in the tunnel


def test_environment_proxies_only_when_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    target, seen = via_proxy_server()
    with target, ForwardProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with GuardedClient(HttpSettings()) as client:
            client.request("GET", target.url + "/p")
        assert proxy.seen == []  # the default ignores HTTP_PROXY
        with GuardedClient(HttpSettings(trust_env=True)) as client:
            client.request("GET", target.url + "/p")
        assert len(proxy.seen) == 1
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        with GuardedClient(HttpSettings(trust_env=True)) as client:
            client.request("GET", target.url + "/p")
        assert len(proxy.seen) == 1  # NO_PROXY is honoured
    assert [h.get("via") for h in seen] == [None, "1.1 test-proxy", None]


def test_netrc_credentials_are_never_sent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login user password netrc-SECRET-pw\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with echo_server() as server, GuardedClient(HttpSettings(trust_env=True)) as client:
        assert "authorization" not in client.request("GET", server.url + "/echo").json["headers"]
