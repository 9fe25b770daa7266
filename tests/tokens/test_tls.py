"""TLS to the authorization server: verified by default, a CA bundle makes a private CA work,
``insecure`` switches verification off only when asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from joserfc import jwk
from loopback import self_signed, server_tls

from nv_conformance.errors import TokenError
from nv_conformance.http import HttpSettings
from nv_conformance.tokens import TokenKind, build_token_provider

from .servers import FakeServer, json_reply


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A token endpoint on https://127.0.0.1 with a self-signed certificate (its own CA)."""
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = self_signed(folder)
    server = FakeServer({"/token": lambda r: json_reply({"access_token": "tls-token-abcdef", "token_type": "Bearer"})},
                        tls=server_tls(cert_file, key_file))
    client_key = folder / "client.pem"
    client_key.write_bytes(jwk.ECKey.generate_key("P-256").as_pem(private=True))
    with server:
        yield server, cert_file, client_key


def config(server: FakeServer, client_key: Path) -> dict[str, Any]:
    return {"valid": {"method": "jwt-bearer", "token_endpoint": server.url + "/token", "client_id": "app",
                      "private_key_file": str(client_key), "subject": "tel:+447700900001"}}


def test_unknown_ca_is_refused_by_default(tls_server: Any) -> None:
    server, _, client_key = tls_server
    with build_token_provider(config(server, client_key), http=HttpSettings(), kit=None) as provider:
        with pytest.raises(TokenError) as caught:
            provider.get(TokenKind.VALID, "s")
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value) and server.url + "/token" in str(caught.value)
    assert server.hits("/token") == []


@pytest.mark.parametrize("settings", ["ca_bundle", "insecure"])
def test_ca_bundle_or_explicit_insecure(tls_server: Any, settings: str) -> None:
    server, cert_file, client_key = tls_server
    http = HttpSettings(ca_bundle=str(cert_file)) if settings == "ca_bundle" else HttpSettings(insecure=True)
    with build_token_provider(config(server, client_key), http=http, kit=None) as provider:
        assert provider.get(TokenKind.VALID, "s").access_token == "tls-token-abcdef"
