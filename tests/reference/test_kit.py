"""The tester kit: the fields docs/interfaces.md promises, each usable as it stands."""

from __future__ import annotations

import time

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from nv_conformance.redact import redact_json
from reference_impl.embedded import EmbeddedReference

PROMISED = {"kit_format", "warning", "issuer", "openid_configuration_url", "authorization_endpoint",
            "token_endpoint", "backchannel_authentication_endpoint", "jwks_uri", "ts43_entitlement_endpoint",
            "api_root", "base_paths", "client", "purpose", "scopes", "subscribers", "off_network_ip",
            "expired_access_token", "revocation_endpoint", "token_policies"}


def test_kit_has_every_promised_field(reference):
    kit = reference.kit
    assert PROMISED <= set(kit)
    assert kit["kit_format"] == "nv-conformance-tester-kit/1"
    assert kit["base_paths"] == {"v1.0.0": "/number-verification/v1", "v2.1.0": "/number-verification/v2",
                                 "vwip": "/number-verification/vwip"}
    assert kit["scopes"] == {"phoneNumberVerify": "number-verification:verify",
                             "phoneNumberShare": "number-verification:device-phone-number:read"}
    client = kit["client"]
    assert client["client_id"] == "nv-demo-client" and client["signing_alg"] == "ES256"
    assert ECKey.import_key(client["private_key_jwk"]).is_private
    assert client["redirect_uri"] == kit["issuer"] + "/demo-callback"
    assert len(kit["subscribers"]) >= 2
    for subscriber in kit["subscribers"]:
        assert subscriber["phone_number"].startswith("+447700900")
        assert subscriber["device_ip"].startswith("127.0.0.") and subscriber["operator_token"]
        assert subscriber["imsi"].startswith("00101")  # the test network 001-01 (TS.43 entitlement)
    assert kit["off_network_ip"] not in {s["device_ip"] for s in kit["subscribers"]}


def test_kit_says_which_token_policy_each_base_path_applies():
    with EmbeddedReference() as ref:
        policies = ref.kit["token_policies"]
    assert policies["/number-verification/vwip"] == {"single_use": True, "max_lifetime_seconds": 300,
                                                     "no_refresh_tokens": True}
    assert policies["/number-verification/v2"]["single_use"] is False  # v2.1.0: reuse until expiry
    with EmbeddedReference(token_policy="strict") as ref:
        strict = ref.kit["token_policies"]
    assert all(p["single_use"] and p["max_lifetime_seconds"] == 300 for p in strict.values())


def test_expired_token_is_genuine_and_expired(reference, http):
    kit = reference.kit
    keys = KeySet.import_key_set(http.get(kit["jwks_uri"]).json())
    claims = jwt.decode(kit["expired_access_token"], keys, algorithms=["RS256"]).claims
    assert claims["exp"] < time.time() - 600
    assert claims["iss"] == kit["issuer"] and claims["amr"] == ["sim"]


def test_kit_endpoints_match_discovery(reference, http):
    kit = reference.kit
    doc = http.get(kit["openid_configuration_url"]).json()
    assert doc["ts43_entitlement_endpoint"] == kit["ts43_entitlement_endpoint"]
    assert doc["jwks_uri"] == kit["jwks_uri"]
    assert doc["revocation_endpoint"] == kit["revocation_endpoint"]


def test_kit_secrets_are_redacted_when_printed(reference):
    text = str(redact_json(reference.kit))
    assert reference.kit["expired_access_token"] not in text
    assert reference.kit["client"]["private_key_jwk"]["d"] not in text
    assert reference.kit["subscribers"][0]["phone_number"] not in text


def test_kit_is_stable_across_restarts_of_the_same_database(tmp_path):
    with EmbeddedReference(db_path=tmp_path / "db.sqlite3") as first:
        kit1 = first.kit
    with EmbeddedReference(db_path=tmp_path / "db.sqlite3") as second:
        kit2 = second.kit
    assert kit1["subscribers"] == kit2["subscribers"]
    assert kit1["client"] == {**kit2["client"], "redirect_uri": kit1["client"]["redirect_uri"]}
