"""Nothing secret or personal survives redaction."""

from nv_conformance.redact import mask_phone, redact, redact_headers, redact_json, register_secret

JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJl"


def test_phone_numbers_are_masked_but_distinguishable():
    assert mask_phone("+447700900123") == "+44770090****"
    out = redact("numbers +447700900123 and tel:+447700900124")
    assert "+447700900123" not in out and "447700900124" not in out
    assert "+44770090****" in out


def test_tokens_and_keys():
    text = f"Bearer {JWT} token={JWT} -----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----"
    out = redact(text)
    assert JWT not in out and "MIGH" not in out and "eyJ…(redacted)" in out


def test_operator_tokens_form_secrets_and_codes():
    out = redact("login_hint=operatortoken:Zx9-abc&client_secret=hunter22&assertion=abc.def https://cb/?code=SplxlOB&state=1")
    for secret in ("Zx9-abc", "hunter22", "abc.def", "SplxlOB"):
        assert secret not in out
    assert '"code": "INVALID_ARGUMENT"' in redact('{"code": "INVALID_ARGUMENT"}')


def test_registered_secret_and_hash():
    register_secret("opaque-token-1234567")
    assert "opaque-token-1234567" not in redact("auth opaque-token-1234567 here")
    digest = "ab" * 32
    assert digest not in redact(f"hashed {digest}")


def test_headers_and_json():
    assert redact_headers({"Authorization": f"Bearer {JWT}", "X-Correlator": "c1"}) == {
        "Authorization": "Bearer (redacted)",
        "X-Correlator": "c1",
    }
    assert redact_json({"phoneNumber": "+447700900123", "n": [JWT]}) == {
        "phoneNumber": "+44770090****",
        "n": ["eyJ…(redacted)"],
    }


def test_jwt_masking_is_linear_on_a_hostile_body_and_keeps_what_precedes_the_token():
    import time

    started = time.monotonic()
    redact("eyJ" * 350_000)  # ~1 MiB, the response cap: was quadratic (minutes)
    assert time.monotonic() - started < 3
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"
    assert redact(f"xyz{jwt} and a.{jwt}") == "xyzeyJ…(redacted) and a.eyJ…(redacted)"


def test_the_jwt_bearer_method_name_is_not_taken_for_a_bearer_credential():
    """Declared options say how tokens are obtained ("jwt-bearer (client ...)"): that must stay readable."""
    assert redact("jwt-bearer (client nv-demo-client, ES256)") == "jwt-bearer (client nv-demo-client, ES256)"
    assert "abc123secret" not in redact("Authorization: Bearer abc123secret")
    assert "abc123secret" not in redact('{"h": "bearer abc123secret"}')
