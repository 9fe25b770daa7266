"""Every misconfiguration is one ConfigError naming the exact setting, found before any request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwk

from nv_conformance.errors import ConfigError
from nv_conformance.http import HttpSettings
from nv_conformance.redact import redact
from nv_conformance.tokens import (
    TokenKind,
    build_token_provider,
    off_network_unsupported_reason,
    unsupported_reason,
)

ISSUER = "https://auth.example.com"


@pytest.fixture
def ec_pem(tmp_path: Path) -> Path:
    path = tmp_path / "client.pem"
    path.write_bytes(jwk.ECKey.generate_key("P-256").as_pem(private=True))
    return path


def jwt_bearer(key: Path, **extra: Any) -> dict[str, Any]:
    return {"defaults": {"method": "jwt-bearer", "issuer": ISSUER, "client_id": "app", "private_key_file": str(key),
                         "subject": "operatortoken:abcdef123"},
            "valid": {}, **extra}


def error_for(config: dict[str, Any], kit: dict[str, Any] | None = None, http: HttpSettings | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        build_token_provider(config, http=http or HttpSettings(), kit=kit)
    assert "\n" not in str(caught.value)
    return caught.value


def test_a_valid_config_builds_without_network(ec_pem: Path) -> None:
    with build_token_provider(jwt_bearer(ec_pem), http=HttpSettings(), kit=None) as provider:
        assert provider.supports(TokenKind.VALID) and provider.supports(TokenKind.INVALID)
        assert not provider.supports(TokenKind.NON_NETWORK)
        assert "tokens.non_network.subject is not set" in unsupported_reason(provider, TokenKind.NON_NETWORK)
        assert "tokens.off_network" in off_network_unsupported_reason(provider)


@pytest.mark.parametrize(
    ("mutate", "setting", "words"),
    [
        (lambda c, k: c["defaults"].update(private_key_file=str(k) + ".missing"), "tokens.valid.private_key_file", "cannot read"),
        (lambda c, k: c["defaults"].pop("private_key_file"), "tokens.valid.private_key_file", "required"),
        (lambda c, k: c["defaults"].pop("client_id"), "tokens.valid.client_id", "required"),
        (lambda c, k: c["defaults"].pop("issuer"), "tokens.valid.issuer", "required"),
        (lambda c, k: c["defaults"].update(method="ciba", login_hint="tel:+447700900001", issuer=None,
                                           token_endpoint="https://as.example/token"),
         "tokens.valid.backchannel_authentication_endpoint", "discovery"),
        (lambda c, k: c["defaults"].update(issuer="http://auth.example.com"), "tokens.valid.issuer", "plain http"),
        (lambda c, k: c["defaults"].update(issuer="ftp://x"), "tokens.valid.issuer", "http(s) URL"),
        (lambda c, k: c["defaults"].update(signing_alg="HS256"), "tokens.valid.signing_alg", "ES256"),
        (lambda c, k: c["defaults"].update(signing_alg="RS256"), "tokens.valid.signing_alg", "RSA"),
        (lambda c, k: c["defaults"].update(assertion_lifetime=301), "tokens.valid.assertion_lifetime", "300"),
        (lambda c, k: c["defaults"].update(method="magic"), "tokens.defaults.method", "one of"),
        (lambda c, k: c["defaults"].update(privat_key_file="x"), "tokens.defaults.privat_key_file", "unknown"),
        (lambda c, k: c["valid"].update(subject="+447700900001"), "tokens.valid.subject", "operatortoken"),
        (lambda c, k: c["valid"].update(subject="tel:0770090001"), "tokens.valid.subject", "tel:+E164"),
        (lambda c, k: c["valid"].update(token="x"), "tokens.valid.token", "unknown setting"),
        (lambda c, k: c.update(non_network={"subject": "operatortoken:abcdef"}), "tokens.non_network.subject", "tel:+E164"),
        (lambda c, k: c.update(expired={"method": "jwt-bearer"}), "tokens.expired.method", "static"),
        (lambda c, k: c.update(invalid={"method": "ciba"}), "tokens.invalid.method", "local"),
        (lambda c, k: c.update(non_network={"method": "authorization-code"}), "tokens.non_network.method", "network"),
        (lambda c, k: c.update(expired={"method": "static"}), "tokens.expired.token", "required"),
        (lambda c, k: c.update(expired={"method": "static", "token": "${NV_TEST_UNSET_VARIABLE}"}), "tokens.expired.token", "NV_TEST_UNSET_VARIABLE"),
        (lambda c, k: c.update(expired={"method": "command", "argv": ["no-such-program-nv"]}), "tokens.expired.argv[0]", "not found"),
        (lambda c, k: c.update(expired={"method": "command", "argv": "echo hi"}), "tokens.expired.argv", "list"),
        (lambda c, k: c.update(off_network={"source_address": "10.0.0.1"}), "tokens.off_network.method", "required"),
        (lambda c, k: c.update(off_network={"method": "jwt-bearer"}), "tokens.off_network.method", "one of"),
        (lambda c, k: c.update(valid="yes"), "tokens.valid", "mapping"),
        (lambda c, k: c.update(vaild={}), "tokens.vaild", "unknown section"),
        (lambda c, k: c.update(defaults={**c["defaults"], "method": "reference"}), "tokens.valid.method", "tester kit"),
    ],
)
def test_each_mistake_names_its_setting(ec_pem: Path, mutate: Any, setting: str, words: str) -> None:
    config = jwt_bearer(ec_pem)
    mutate(config, ec_pem)
    error = error_for(config)
    assert error.setting == setting
    assert words in error.problem


@pytest.mark.filterwarnings("ignore:Key size")
def test_key_problems(tmp_path: Path, ec_pem: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    public = tmp_path / "public.pem"
    public.write_bytes(jwk.ECKey.generate_key("P-256").as_pem(private=False))
    assert "public key" in error_for(jwt_bearer(public)).problem
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    error = error_for(jwt_bearer(garbage))
    assert "not a readable" in error.problem and "not a key" not in str(error)
    small = tmp_path / "small.pem"
    small.write_bytes(jwk.RSAKey.generate_key(1024).as_pem(private=True))
    assert "2048" in error_for(jwt_bearer(small)).problem
    config = jwt_bearer(ec_pem)
    config["defaults"]["private_key_env"] = "NV_TEST_KEY"
    assert "only one of" in error_for(config).problem
    del config["defaults"]["private_key_file"]
    assert "NV_TEST_KEY is not set" in error_for(config).problem
    monkeypatch.setenv("NV_TEST_KEY", ec_pem.read_text())
    build_token_provider(config, http=HttpSettings(), kit=None).close()


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_rsa_keys_from_a_jwk_file(tmp_path: Path, alg: str) -> None:
    key = jwk.RSAKey.generate_key(2048)
    path = tmp_path / "client.jwk.json"
    path.write_text(json.dumps(key.as_dict(private=True)))
    config = jwt_bearer(path)
    config["defaults"]["signing_alg"] = alg
    build_token_provider(config, http=HttpSettings(), kit=None).close()
    assert key.as_dict(private=True)["d"] not in redact(path.read_text())  # the key material is now a registered secret


def test_plain_http_to_other_hosts_needs_the_loud_insecure_switch(ec_pem: Path) -> None:
    config = jwt_bearer(ec_pem)
    config["defaults"]["issuer"] = "http://auth.example.com"
    assert error_for(config).setting == "tokens.valid.issuer"
    build_token_provider(config, http=HttpSettings(insecure=True), kit=None).close()


def test_environment_references_are_expanded(ec_pem: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NV_TEST_EXPIRED", "expired-token-value-123")
    config = jwt_bearer(ec_pem, expired={"method": "static", "token": "${NV_TEST_EXPIRED}"})
    with build_token_provider(config, http=HttpSettings(), kit=None) as provider:
        token = provider.get(TokenKind.EXPIRED, "number-verification:verify")
    assert token.access_token == "expired-token-value-123"
    assert "expired-token-value-123" not in redact(f"sent {token.access_token}")


def test_no_config_and_no_kit_supports_only_invalid_tokens() -> None:
    with build_token_provider(None, http=HttpSettings(), kit=None) as provider:
        assert [kind for kind in TokenKind if provider.supports(kind)] == [TokenKind.INVALID]
        assert not provider.supports_off_network()


@pytest.mark.parametrize(
    ("kit", "setting"),
    [
        ({"kit_format": "something-else"}, "kit.kit_format"),
        ({"kit_format": "nv-conformance-tester-kit/1", "client": {}}, "kit.client.client_id"),
        ({"kit_format": "nv-conformance-tester-kit/1", "client": {"client_id": "c"}, "subscribers": []}, "kit.subscribers"),
    ],
)
def test_broken_kits(kit: dict[str, Any], setting: str) -> None:
    assert error_for({}, kit=kit).setting == setting
