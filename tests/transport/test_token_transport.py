"""The authorization server gets its own extra headers (tokens.defaults.headers or per kind) and the
client certificate; the API's headers never go to it, and its headers never go anywhere else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from joserfc import jwk
from loopback import server_tls
from tokens.servers import FakeServer, json_reply

from nv_conformance.config import load_config
from nv_conformance.errors import ConfigError
from nv_conformance.redact import redact
from nv_conformance.tokens import TokenKind, build_token_provider

from .certs import Pki, make_pki

AS_KEY = "as-gateway-key-SECRET-5521"
API_KEY = "api-gateway-key-SECRET-9934"
VERIFY = "number-verification:verify"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def token_server(pki: Pki | None, routes: dict[str, Any] | None = None) -> FakeServer:
    tls = server_tls(pki.server_cert, pki.server_key, client_ca=pki.ca_cert) if pki is not None else None
    return FakeServer(routes or {"/token": lambda r: json_reply({"access_token": "at-0123456789", "token_type": "Bearer"})},
                      tls=tls)


def write_config(folder: Path, text: str) -> Path:
    key = folder / "signing.pem"
    if not key.exists():
        key.write_bytes(jwk.ECKey.generate_key("P-256").as_pem(private=True))
    path = folder / "target.yaml"
    path.write_text(text)
    return path


def test_token_requests_carry_the_authorization_servers_headers_and_client_certificate(pki: Pki, tmp_path: Path) -> None:
    with token_server(pki) as server:
        config = load_config(write_config(tmp_path, f"""
api_root: https://127.0.0.1:1
tls: {{ca_bundle: {pki.ca_cert}, client_cert: {pki.client_cert}, client_key: {pki.client_key}}}
http: {{headers: {{X-API-Key: {API_KEY}}}}}
tokens:
  defaults:
    token_endpoint: {server.url}/token
    client_id: app
    private_key_file: signing.pem
    headers: {{X-Gateway-Key: {AS_KEY}}}
  valid: {{method: jwt-bearer, subject: "tel:+447700900001"}}
"""))
        with build_token_provider(dict(config.tokens), http=config.http, kit=None) as provider:
            assert provider.get(TokenKind.VALID, VERIFY).access_token == "at-0123456789"
    headers = {k.lower(): v for k, v in server.hits("/token")[0].headers.items()}
    assert headers["x-gateway-key"] == AS_KEY
    assert "x-api-key" not in headers  # the API's key stays with the API
    assert headers["user-agent"].startswith("nv-conformance/")
    assert AS_KEY not in redact(f"sent {AS_KEY}") and API_KEY not in redact(f"sent {API_KEY}")


def test_a_kinds_own_headers_win_and_a_discovered_endpoint_elsewhere_gets_none(tmp_path: Path) -> None:
    with token_server(None) as elsewhere:
        discovery = {"/.well-known/openid-configuration": lambda r: json_reply(
            {"issuer": issuer.url, "token_endpoint": elsewhere.url + "/token"})}
        with token_server(None, discovery) as issuer:
            config = load_config(write_config(tmp_path, f"""
api_root: http://127.0.0.1:1
tokens:
  defaults: {{issuer: "{issuer.url}", client_id: app, private_key_file: signing.pem,
             headers: {{X-Gateway-Key: default-value-123}}}}
  valid: {{method: jwt-bearer, subject: "tel:+447700900001", headers: {{X-Gateway-Key: {AS_KEY}}}}}
"""))
            with build_token_provider(dict(config.tokens), http=config.http, kit=None) as provider:
                provider.get(TokenKind.VALID, VERIFY)
    discovered = {k.lower(): v for k, v in issuer.requests[0].headers.items()}
    at_other_host = {k.lower(): v for k, v in elsewhere.hits("/token")[0].headers.items()}
    assert discovered["x-gateway-key"] == AS_KEY
    assert "x-gateway-key" not in at_other_host


@pytest.mark.parametrize("section, setting, problem", [
    ("http: {headers: {Host: x}}", "http.headers.Host", "set by the HTTP client"),
    ('http: {headers: {"Bad Name": x}}', "http.headers.Bad Name", "not a valid header name"),
    ('http: {headers: {X-Key: "a\\nb"}}', "http.headers.X-Key", "one line"),
    ("http: {headers: [x]}", "http.headers", "mapping"),
    ("http: {headers: {Authorization: Basic eA==}}", "http.headers.Authorization", "another header"),
    ("http: {proxy: socks5://127.0.0.1:1080}", "http.proxy", "http:// or https://"),
    ("http: {trust_env: yes please}", "http.trust_env", "true or false"),
    ("tls: {client_key: key.pem}", "tls.client_key", "needs tls.client_cert"),
    ("tls: {client_cert: missing.pem}", "tls.client_cert", "file not found"),
    ("tls: {client_cert: cert.pem, client_key_env: NV_TEST_UNSET_KEY}", "tls.client_key_env", "NV_TEST_UNSET_KEY is not set"),
    ("tls: {client_cert: cert.pem, client_key: signing.pem}", "tls.client_cert", "cannot load"),
])
def test_transport_settings_name_the_bad_setting(section: str, setting: str, problem: str, tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    path = write_config(tmp_path, f"api_root: http://127.0.0.1:1\n{section}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.setting == setting and problem in caught.value.problem, str(caught.value)


def test_statement_names_headers_and_proxy_host_but_no_values(pki: Pki, tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, f"""
api_root: https://api.example.com
tls: {{client_cert: {pki.client_cert}, client_key: {pki.client_key}}}
http: {{headers: {{X-API-Key: {API_KEY}}}, proxy: "http://user:proxy-pw-SECRET-1@proxy.example.com:3128", user_agent: acme/1}}
"""))
    options = config.declared_options()
    assert options["http.headers"] == ["X-API-Key"] and options["http.user_agent"] == "acme/1"
    assert options["http.proxy"] == "http://proxy.example.com:3128"
    assert options["tls.client_cert"] == str(pki.client_cert)
    assert "proxy-pw-SECRET-1" not in redact(config.http.proxy)
    assert API_KEY not in repr(config) and API_KEY not in str(options)
