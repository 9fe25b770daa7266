"""Every token method against the reference authorization server, over real HTTP.

The proof that a token is right is the API's answer: valid -> 200, other_scope -> 403,
non_network -> 403 ...USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK, expired/invalid -> 401.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwk

from nv_conformance.errors import ConfigError, TokenError
from nv_conformance.tokens import TokenKind, build_token_provider, unsupported_reason

from .conftest import FAST, READ, VERIFY, call_verify, kit_secrets

NETWORK_CODE = "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK"


def explicit(kit: dict[str, Any], key_file: Path, **settings: Any) -> dict[str, Any]:
    """Settings as a CSP would write them (no kit): issuer, client id, key file, purpose."""
    return {"issuer": kit["issuer"], "client_id": kit["client"]["client_id"], "private_key_file": str(key_file),
            "purpose": kit["purpose"], **settings}


def operator_subject(kit: dict[str, Any]) -> str:
    return "operatortoken:" + kit["subscribers"][0]["operator_token"]


def tel_subject(kit: dict[str, Any]) -> str:
    return "tel:" + kit["subscribers"][0]["phone_number"]


def assert_verdicts(kit: dict[str, Any], provider: Any, leaks: Any, kinds: tuple[TokenKind, ...]) -> None:
    expected = {
        TokenKind.VALID: (VERIFY, 200, None),
        TokenKind.OTHER_SCOPE: (READ, 403, "PERMISSION_DENIED"),
        TokenKind.NON_NETWORK: (VERIFY, 403, NETWORK_CODE),
        TokenKind.EXPIRED: (VERIFY, 401, "UNAUTHENTICATED"),
        TokenKind.INVALID: (VERIFY, 401, "UNAUTHENTICATED"),
    }
    for kind in kinds:
        scope, status, code = expected[kind]
        token = provider.get(kind, scope)
        leaks.add(token.access_token)
        assert token.kind is kind
        assert token.access_token not in repr(token)
        response = call_verify(kit, token.access_token)
        assert response.status_code == status, (kind, response.text)
        if code:
            assert response.json()["code"] == code


def test_reference_method_gives_every_kind_and_the_off_network_attempt(kit: dict[str, Any], leaks: Any) -> None:
    leaks.add(*kit_secrets(kit))
    with build_token_provider({}, http=FAST, kit=kit) as provider:
        assert all(provider.supports(kind) for kind in TokenKind)
        assert_verdicts(kit, provider, leaks, tuple(TokenKind))
        valid = provider.get(TokenKind.VALID, VERIFY)
        assert valid.method == "reference/jwt-bearer"
        assert valid.expires_in == 300 and valid.refresh_token_issued is False
        outcome = provider.try_off_network(VERIFY)
        assert outcome.token_issued is False and outcome.error == "login_required"
        leaks.assert_clean(provider.describe())


def test_each_get_is_a_fresh_single_use_token(kit: dict[str, Any], leaks: Any) -> None:
    with build_token_provider({}, http=FAST, kit=kit) as provider:
        first, second = provider.get(TokenKind.VALID, VERIFY), provider.get(TokenKind.VALID, VERIFY)
        leaks.add(first.access_token, second.access_token)
        assert first.access_token != second.access_token
        assert call_verify(kit, first.access_token).status_code == 200
        assert call_verify(kit, first.access_token).status_code == 401  # the reference's tokens are single-use
        assert call_verify(kit, second.access_token).status_code == 200


def test_jwt_bearer_as_a_csp_configures_it(kit: dict[str, Any], key_file: Path, leaks: Any) -> None:
    leaks.add(*kit_secrets(kit))
    config = {
        "defaults": {"method": "jwt-bearer", **explicit(kit, key_file)},
        "valid": {"subject": operator_subject(kit)},
        "other_scope": {"subject": operator_subject(kit)},
        "non_network": {"subject": tel_subject(kit)},
        "expired": {"method": "static", "token": kit["expired_access_token"]},
    }
    with build_token_provider(config, http=FAST, kit=None) as provider:
        assert_verdicts(kit, provider, leaks, tuple(TokenKind))
        assert not provider.supports_off_network()


def test_ciba_polls_until_the_token_is_ready(kit: dict[str, Any], key_file: Path, leaks: Any) -> None:
    leaks.add(*kit_secrets(kit))
    config = {
        "defaults": {"method": "ciba", **explicit(kit, key_file), "poll_timeout": 10},
        "valid": {"login_hint": operator_subject(kit)},
        "other_scope": {"login_hint": operator_subject(kit)},
        "non_network": {"login_hint": tel_subject(kit)},
        "off_network": {"method": "ciba", "login_hint": "ipport:" + kit["off_network_ip"]},
    }
    with build_token_provider(config, http=FAST, kit=None) as provider:
        assert_verdicts(kit, provider, leaks, (TokenKind.VALID, TokenKind.OTHER_SCOPE, TokenKind.NON_NETWORK))
        outcome = provider.try_off_network(VERIFY)
        assert outcome.token_issued is False and outcome.error


@pytest.mark.parametrize("pkce", ["auto", "none"])
def test_authorization_code_from_the_device_address(kit: dict[str, Any], key_file: Path, leaks: Any, pkce: str) -> None:
    leaks.add(*kit_secrets(kit))
    device = kit["subscribers"][0]["device_ip"]
    config = {
        "defaults": {"method": "authorization-code", **explicit(kit, key_file), "pkce": pkce,
                     "redirect_uri": kit["client"]["redirect_uri"]},
        "valid": {"source_address": device},
        "other_scope": {"source_address": device},
        "off_network": {"method": "authorization-code", "source_address": kit["off_network_ip"]},
    }
    with build_token_provider(config, http=FAST, kit=None) as provider:
        assert_verdicts(kit, provider, leaks, (TokenKind.VALID, TokenKind.OTHER_SCOPE))
        assert not provider.supports(TokenKind.NON_NETWORK)
        assert "authorization-code" in unsupported_reason(provider, TokenKind.NON_NETWORK)
        outcome = provider.try_off_network(VERIFY)
        assert (outcome.token_issued, outcome.error) == (False, "login_required")


def test_kit_fills_a_method_chosen_by_config_alone(kit: dict[str, Any], leaks: Any) -> None:
    leaks.add(*kit_secrets(kit))
    for method in ("jwt-bearer", "ciba", "authorization-code"):
        with build_token_provider({"defaults": {"method": method}}, http=FAST, kit=kit) as provider:
            kinds = {"jwt-bearer": (TokenKind.VALID, TokenKind.OTHER_SCOPE, TokenKind.NON_NETWORK),
                     "ciba": (TokenKind.VALID,),  # 1 s per CIBA token; the other kinds are in the CIBA test
                     "authorization-code": (TokenKind.VALID, TokenKind.OTHER_SCOPE)}[method]
            assert_verdicts(kit, provider, leaks, kinds)
            assert not provider.supports(TokenKind.EXPIRED)
            assert "static or command" in unsupported_reason(provider, TokenKind.EXPIRED)
            assert provider.supports_off_network()


def test_command_method_prints_a_token_response(kit: dict[str, Any], tmp_path: Path, leaks: Any) -> None:
    script = tmp_path / "token.py"
    script.write_text(
        "import json, sys\n"
        f"kit = json.load(open({str(tmp_path / 'kit.json')!r}))\n"
        "assert sys.argv[1:] == ['--kind', 'expired', '--scope', 'number-verification:verify'], sys.argv\n"
        "print(json.dumps({'access_token': kit['expired_access_token'], 'expires_in': 0}))\n"
    )
    (tmp_path / "kit.json").write_text(json.dumps(kit))
    leaks.add(*kit_secrets(kit))
    config = {"expired": {"method": "command", "argv": [sys.executable, str(script), "--kind", "{kind}", "--scope", "{scope}"]}}
    with build_token_provider(config, http=FAST, kit=None) as provider:
        assert_verdicts(kit, provider, leaks, (TokenKind.EXPIRED,))
        assert provider.get(TokenKind.EXPIRED, VERIFY).expires_in == 0


def test_unknown_operator_token_is_one_line_with_endpoint_status_and_oauth_error(kit: dict[str, Any], key_file: Path, leaks: Any) -> None:
    secret = "Zq-unknown-operator-token-123456"
    leaks.add(secret, *kit_secrets(kit))
    config = {"valid": {"method": "jwt-bearer", **explicit(kit, key_file), "subject": "operatortoken:" + secret}}
    with build_token_provider(config, http=FAST, kit=None) as provider, pytest.raises(TokenError) as caught:
        provider.get(TokenKind.VALID, VERIFY)
    message = str(caught.value)
    assert kit["token_endpoint"] in message and "HTTP 400" in message and "invalid_grant" in message
    assert "\n" not in message
    leaks.assert_clean(message, repr(caught.value))


@pytest.mark.parametrize(("method", "expected"), [("jwt-bearer", "HTTP 400, OAuth error invalid_grant"),
                                                  ("ciba", "HTTP 401, OAuth error invalid_client")])
def test_wrong_client_key_is_refused_in_one_line(kit: dict[str, Any], tmp_path: Path, leaks: Any, method: str, expected: str) -> None:
    """RFC 7523 3.1: a bad grant assertion is invalid_grant; a bad client assertion is invalid_client."""
    other = tmp_path / "other.pem"
    other.write_bytes(jwk.ECKey.generate_key("P-256").as_pem(private=True))
    hint = "subject" if method == "jwt-bearer" else "login_hint"
    config = {"valid": {"method": method, "issuer": kit["issuer"], "client_id": kit["client"]["client_id"],
                        "private_key_file": str(other), hint: operator_subject(kit)}}
    leaks.add(*kit_secrets(kit), other.read_text().strip())
    with build_token_provider(config, http=FAST, kit=None) as provider, pytest.raises(TokenError) as caught:
        provider.get(TokenKind.VALID, VERIFY)
    assert expected in str(caught.value)
    leaks.assert_clean(caught.value)


def test_reference_method_without_a_kit_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        build_token_provider({"defaults": {"method": "reference"}}, http=FAST, kit=None)
    assert caught.value.setting == "tokens.valid.method"


def test_configured_key_and_endpoint_replace_the_kits(kit: dict[str, Any], tmp_path: Path) -> None:
    """With a kit, a configured key file wins over the kit's key (no 'only one of' clash)."""
    missing = tmp_path / "missing.pem"
    with pytest.raises(ConfigError) as caught:
        build_token_provider({"defaults": {"method": "jwt-bearer", "private_key_file": str(missing)}}, http=FAST, kit=kit)
    assert caught.value.setting == "tokens.valid.private_key_file" and "cannot read" in caught.value.problem
    config = {"defaults": {"method": "jwt-bearer", "token_endpoint": "http://127.0.0.1:9/token"}}
    with build_token_provider(config, http=FAST, kit=kit) as provider, pytest.raises(TokenError) as failed:
        provider.get(TokenKind.VALID, VERIFY)
    assert str(failed.value).startswith("tokens.valid: jwt-bearer: token endpoint failed:")
    assert "http://127.0.0.1:9/token" in str(failed.value) and "ConnectError" in str(failed.value)
