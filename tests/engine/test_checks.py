import base64

import httpx

from nv_conformance import checks
from nv_conformance.contract import Contract
from nv_conformance.http import HttpResult
from nv_conformance.results import CheckRecord
from nv_conformance.tokens.base import IssuedToken, OffNetworkOutcome, TokenKind

from .conftest import fake_jwt


def result(status=200, body=b'{"devicePhoneNumber": "+447700900001"}', headers=None, request_headers=None):
    headers = {"content-type": "application/json; charset=utf-8", **(headers or {})}
    return HttpResult(method="GET", url="http://x/device-phone-number", status=status,
                      headers=httpx.Headers(headers), body=body, elapsed=0.01,
                      request_headers=request_headers or {})


def test_status_code_failure_says_expected_actual_and_redacts_the_body():
    record = checks.status_code(result(500), 200, "contract:#/x")
    assert not record.passed
    assert "expected 200, got 500" in record.detail
    assert "+447700900001" not in record.detail and "+44770090****" in record.detail
    assert record.clause == "contract:#/x"


def test_enforce_raises_with_the_clause():
    record = CheckRecord("thing holds", "Commonalities 0.6 x-correlator", False, "expected a, got b")
    try:
        checks.enforce(record)
    except checks.CheckFailed as exc:
        assert "expected a, got b" in str(exc) and "Commonalities 0.6 x-correlator" in str(exc)
    else:
        raise AssertionError("enforce did not raise")


def test_content_type_is_compared_without_parameters_and_header_names_case_insensitively():
    assert checks.header_is(result(), "Content-Type", "application/json", "c").passed
    assert checks.header_is(result(), "CONTENT-TYPE", "application/json", "c").passed
    bad = checks.header_is(result(headers={"content-type": "text/plain"}), "content-type", "application/json", "c")
    assert not bad.passed and "text/plain" in bad.detail


def test_header_echo_requires_the_request_value_only_when_one_was_sent():
    sent = {"X-Correlator": "abc-123"}
    assert checks.header_echoes(result(headers={"x-correlator": "abc-123"}, request_headers=sent),
                                "x-correlator", "x-correlator", "c").passed
    missing = checks.header_echoes(result(request_headers=sent), "x-correlator", "x-correlator", "c")
    assert not missing.passed and "(absent)" in missing.detail
    assert checks.header_echoes(result(), "x-correlator", "x-correlator", "c").passed


def test_response_complies_validates_against_the_operation_and_status_schema():
    contract = Contract.for_version("vwip")
    assert checks.response_complies(contract, "phoneNumberShare", result()).passed
    wrong = checks.response_complies(contract, "phoneNumberShare", result(body=b'{"devicePhoneNumber": "447700900001"}'))
    assert not wrong.passed and "devicePhoneNumber" in wrong.detail
    undocumented = checks.response_complies(contract, "phoneNumberShare", result(status=418))
    assert not undocumented.passed and "documents" in undocumented.detail
    not_json = checks.response_complies(contract, "phoneNumberShare", result(body=b"<html>"))
    assert not not_json.passed


def test_error_code_allowed_uses_the_contract_enum():
    contract = Contract.for_version("vwip")
    good = result(401, b'{"status": 401, "code": "UNAUTHENTICATED", "message": "no"}')
    bad = result(401, b'{"status": 401, "code": "UNAUTHORIZED", "message": "no"}')
    assert checks.error_code_allowed(contract, "phoneNumberShare", good).passed
    assert not checks.error_code_allowed(contract, "phoneNumberShare", bad).passed


def test_a_code_that_is_not_a_string_fails_instead_of_crashing():
    allowed = frozenset({"UNAUTHENTICATED"})
    for hostile in (["UNAUTHENTICATED"], {"a": 1}, 401, None):
        record = checks.code_allowed(hostile, allowed, "code allowed", "c")
        assert not record.passed and "allowed ['UNAUTHENTICATED']" in record.detail


def test_property_checks():
    body = {"status": 400, "code": "INVALID_ARGUMENT", "message": " "}
    assert checks.property_equals(body, "$.status", 400, "c").passed
    assert checks.property_equals(body, "$.status", "400", "c", quoted=True).passed
    assert not checks.property_equals(body, "$.code", "OTHER", "c").passed
    assert not checks.property_is_text(body, "$.message", "c").passed  # blank is not a text
    assert checks.property_exists(body, "$.code", "c").passed
    assert not checks.property_absent(body, "$.code", "c").passed
    assert checks.property_absent(body, "$.nothing", "c").passed


def test_token_lifetime_from_expires_in_or_jwt_claims():
    jwt = fake_jwt({"iat": 100, "exp": 500})
    assert checks.lifetime_at_most(IssuedToken(jwt, TokenKind.VALID, "s", expires_in=300), 300, "c").passed
    from_claims = checks.lifetime_at_most(IssuedToken(jwt, TokenKind.VALID, "s", expires_in=None), 300, "c")
    assert not from_claims.passed and "400 s (JWT exp - iat)" in from_claims.detail
    unknown = checks.lifetime_at_most(IssuedToken("opaque", TokenKind.VALID, "s"), 300, "c")
    assert not unknown.passed and "unknown" in unknown.detail


def test_token_lifetime_from_a_hostile_jwt_payload_is_unknown_not_a_crash():
    def token(payload: bytes) -> str:
        encode = lambda data: base64.urlsafe_b64encode(data).decode().rstrip("=")  # noqa: E731
        return f"{encode(b'{}')}.{encode(payload)}.{encode(b'sig')}"

    for payload in (b"[1, 2]", b'"text"', b'{"exp": Infinity, "iat": 0}', b'{"exp": true, "iat": 0}', b"\xff\xfe"):
        record = checks.lifetime_at_most(IssuedToken(token(payload), TokenKind.VALID, "s"), 300, "c")
        assert not record.passed and "unknown" in record.detail


def test_refresh_token_and_off_network_checks():
    assert not checks.no_refresh_token(IssuedToken("t", TokenKind.VALID, "s", refresh_token_issued=True), "c").passed
    assert checks.no_token_off_network(OffNetworkOutcome(False, "access_denied"), "c").passed
    assert not checks.no_token_off_network(OffNetworkOutcome(True, None), "c").passed
    assert not checks.off_network_error_given(OffNetworkOutcome(False, None), "c").passed


def test_error_body_shape_is_errorinfo_with_the_http_status():
    assert checks.error_body_shape(401, {"status": 401, "code": "UNAUTHENTICATED", "message": "m"}).passed
    differs = checks.error_body_shape(401, {"status": 400, "code": "UNAUTHENTICATED", "message": "m"})
    assert not differs.passed and "body status 400 differs from the HTTP status 401" in differs.detail
    assert checks.error_body_problems(403, {"status": True, "code": 1}) == [
        "403 body 'status' is not an integer", "403 body 'code' is not a string", "403 body lacks 'message'"]
    assert checks.error_body_problems(400, None) == ["400 body is not a JSON object"]
    assert "ErrorInfo" in differs.clause
