"""The CAMARA fuzz checks as plain functions: each one fed exchanges that must pass and must fail."""

import copy
import json

import pytest

from nv_conformance.contract import Contract
from nv_conformance.fuzz.checks import (
    NO_TOKEN_PROBE,
    CheckEnv,
    RequestKind,
    classify_request,
    error_body,
    json_media_type,
    missing_token_rejected,
    negative_data_rejected,
    no_server_error,
    run_all,
    success_schema,
    valid_data_accepted,
    x_correlator_echo,
)
from nv_conformance.fuzz.exchange import FuzzExchange
from nv_conformance.profiles import get_profile

XC = "7d5f3c0e-1b2a-4c8e"


def env(version="vwip"):
    return CheckEnv(Contract.for_version(version), get_profile(version))


def exchange(status=200, body=None, *, op="phoneNumberVerify", request=None, raw_request=None, headers=None,
             response_headers=None, method=None, probe="", token=True, content_type="application/json"):
    op_method = "POST" if op == "phoneNumberVerify" else "GET"
    req_headers = {"x-correlator": XC}
    if token:
        req_headers["Authorization"] = "Bearer abc"
    if content_type and op_method == "POST":
        req_headers["Content-Type"] = content_type
    req_headers.update(headers or {})
    if raw_request is None and request is not None:
        raw_request = json.dumps(request)
    if raw_request is None and op_method == "POST":
        raw_request = json.dumps({"phoneNumber": "+447700900001"})
    resp_headers = {"content-type": "application/json", "x-correlator": XC}
    if response_headers is not None:
        resp_headers = response_headers
    if body is None:
        body = {"devicePhoneNumberVerified": True} if op == "phoneNumberVerify" else {"devicePhoneNumber": "+447700900001"}
    return FuzzExchange.build(
        operation_id=op, operation_method=op_method, method=method or op_method,
        url="http://t/number-verification/vwip/verify", request_headers=req_headers, request_body=raw_request,
        status=status, response_headers=resp_headers,
        response_body=body if isinstance(body, bytes) else json.dumps(body).encode(), probe=probe,
    )


def err(status, code, message="m"):
    return {"status": status, "code": code, "message": message}


def test_a_correct_success_passes_every_check():
    results = run_all(env(), exchange())
    assert all(r in (None, []) for r in results.values()), results


def test_server_error_is_found():
    assert no_server_error(env(), exchange(500, err(500, "INTERNAL")))
    assert no_server_error(env(), exchange(400, err(400, "INVALID_ARGUMENT"))) == []


@pytest.mark.parametrize("headers, expect_problem", [
    ({"content-type": "application/json; charset=utf-8"}, False),
    ({"content-type": "text/html"}, True),
    ({}, True),
])
def test_media_type(headers, expect_problem):
    assert bool(json_media_type(env(), exchange(response_headers=headers))) is expect_problem


@pytest.mark.parametrize("status, body, ok", [
    (400, err(400, "INVALID_ARGUMENT"), True),
    (401, err(401, "UNAUTHENTICATED"), True),
    (401, err(401, "UNAUTHORIZED"), False),         # code the version does not allow
    (401, err(400, "UNAUTHENTICATED"), False),      # status differs from HTTP status
    (403, {"status": 403, "code": "PERMISSION_DENIED"}, False),  # message missing
    (400, ["not", "an", "object"], False),
    (405, err(405, "METHOD_NOT_ALLOWED"), True),    # undocumented status: any code, shape still required
    (400, {"status": "400", "code": "INVALID_ARGUMENT", "message": "m"}, False),
])
def test_error_body(status, body, ok):
    assert (error_body(env(), exchange(status, body)) == []) is ok


def test_error_body_codes_follow_the_version():
    body = err(401, "AUTHENTICATION_REQUIRED")
    assert error_body(env("v1.0.0"), exchange(401, body)) == []
    assert error_body(env("vwip"), exchange(401, body))


def test_x_correlator_must_be_echoed():
    assert x_correlator_echo(env(), exchange()) == []
    (problem,) = x_correlator_echo(env(), exchange(response_headers={"content-type": "application/json"}))
    assert problem.startswith("x-correlator not echoed")
    wrong = {"content-type": "application/json", "x-correlator": "other"}
    assert x_correlator_echo(env(), exchange(response_headers=wrong))
    # an x-correlator the contract rejects need not be echoed
    assert x_correlator_echo(env(), exchange(headers={"x-correlator": "bad value!"})) is None


def test_whitespace_around_a_header_value_is_not_part_of_it():
    """RFC 9110 5.5: 'x-correlator: abc ' carries the value 'abc'; a server that answers 200 and echoes 'abc' is right."""
    padded = exchange(headers={"x-correlator": XC + " "})
    assert classify_request(env(), padded)[0] is RequestKind.VALID
    assert {name: problems for name, problems in run_all(env(), padded).items() if problems} == {}
    tabbed = exchange(headers={"x-correlator": "\t" + XC}, response_headers={"content-type": "application/json"})
    (problem,) = x_correlator_echo(env(), tabbed)
    assert problem.startswith("x-correlator not echoed")


def test_the_fuzzer_and_the_scenarios_share_their_judgements():
    """One rule, one function: the fuzz checks call nv_conformance.checks for what scenarios also judge."""
    import inspect

    import nv_conformance.fuzz.checks as fuzz_checks
    from nv_conformance.bdd import actions

    source = {name: inspect.getsource(getattr(fuzz_checks, name)) for name in
              ("x_correlator_echo", "success_schema", "error_body")}
    assert "checks.value_echoed(" in source["x_correlator_echo"]
    assert "checks.body_complies(" in source["success_schema"]
    assert "checks.error_code_in_contract(" in source["error_body"]
    assert "checks.error_body_problems(" in source["error_body"] and "isinstance(value" not in source["error_body"]
    scenario = inspect.getsource(actions.expect_schema_for_operation)
    assert "checks.error_body_shape(" in scenario and "checks.error_code_allowed(" in scenario
    assert "errors_at" not in "".join(source.values()) and "allowed_error_codes" not in "".join(source.values())


def test_success_schema():
    assert success_schema(env(), exchange(body={"devicePhoneNumberVerified": "yes"}))
    assert success_schema(env(), exchange(body={"devicePhoneNumber": "447700900001"}, op="phoneNumberShare"))
    assert success_schema(env(), exchange(201))  # undocumented 2xx
    assert success_schema(env(), exchange(400, err(400, "INVALID_ARGUMENT"))) is None


@pytest.mark.parametrize("request_body, kind", [
    ({"phoneNumber": "+447700900001"}, RequestKind.VALID),
    ({"phoneNumber": "447700900001"}, RequestKind.INVALID),
    ({"hashedPhoneNumber": "a" * 63}, RequestKind.INVALID),
    ({"phoneNumber": "+447700900001", "hashedPhoneNumber": "a" * 64}, RequestKind.INVALID),
    ({}, RequestKind.INVALID),
])
def test_classification_follows_the_contract(request_body, kind):
    assert classify_request(env(), exchange(request=request_body))[0] is kind


def test_classification_of_headers_media_types_and_methods():
    assert classify_request(env(), exchange(raw_request="{not json"))[0] is RequestKind.INVALID
    assert classify_request(env(), exchange(headers={"x-correlator": "bad value!"}))[0] is RequestKind.INVALID
    # before Commonalities 0.6 a bad x-correlator is not a 400 the version demands
    assert classify_request(env("v2.0.0"), exchange(headers={"x-correlator": "bad:value"}))[0] is RequestKind.TOLERATED
    assert classify_request(env(), exchange(content_type="text/plain"))[0] is RequestKind.MEDIA_TYPE
    assert classify_request(env(), exchange(content_type=None))[0] is RequestKind.VALID  # no type: read as JSON
    assert classify_request(env(), exchange(method="PUT"))[0] is RequestKind.OTHER_METHOD


def test_negative_data_must_get_400_invalid_argument():
    bad = {"phoneNumber": "447700900001"}
    assert negative_data_rejected(env(), exchange(request=bad))  # 200 for a number without '+'
    assert negative_data_rejected(env(), exchange(500, err(500, "INTERNAL"), raw_request="{"))
    assert negative_data_rejected(env(), exchange(400, err(400, "OUT_OF_RANGE"), request=bad))
    assert negative_data_rejected(env(), exchange(400, err(400, "INVALID_ARGUMENT"), request=bad)) == []
    assert negative_data_rejected(env(), exchange()) is None  # valid request: not this check's business
    media = exchange(415, err(415, "UNSUPPORTED_MEDIA_TYPE"), content_type="text/plain")
    assert negative_data_rejected(env(), media) is None  # another media type: other_media_type_refused judges it


def test_another_media_type_answered_2xx_is_a_warning_never_a_finding():
    from nv_conformance.fuzz.checks import ADVISORY_CHECKS, CAMARA_CHECKS, other_media_type_refused

    refused = exchange(415, err(415, "UNSUPPORTED_MEDIA_TYPE"), content_type="text/plain")
    assert other_media_type_refused(env(), refused) == []
    assert other_media_type_refused(env(), exchange(400, err(400, "INVALID_ARGUMENT"), content_type="text/plain")) == []
    served = other_media_type_refused(env(), exchange(content_type="text/plain"))
    assert served and "answered 200" in served[0] and "text/plain" in served[0]
    assert other_media_type_refused(env(), exchange()) is None  # application/json: not this check's business
    assert ADVISORY_CHECKS == {"other_media_type_refused"}
    assert all(check.clause for check in CAMARA_CHECKS)  # every finding cites a clause


def test_an_advisory_check_is_counted_as_a_warning_not_a_finding():
    from nv_conformance.fuzz.findings import FindingsCollector

    collector = FindingsCollector(advisory_checks=frozenset({"other_media_type_refused"}))
    assert not collector.record("other_media_type_refused", exchange(content_type="text/plain"), ["answered 200"])
    assert collector.finding_count == 0 and len(collector.sorted_warnings()) == 1
    assert collector.record("no_server_error", exchange(500, err(500, "INTERNAL")), ["server error 500"])
    assert collector.finding_count == 1 and [f.check for f in collector.sorted_findings()] == ["no_server_error"]


def test_valid_data_is_not_refused():
    assert valid_data_accepted(env(), exchange(400, err(400, "INVALID_ARGUMENT")))
    assert valid_data_accepted(env(), exchange()) == []
    assert valid_data_accepted(env(), exchange(400, err(400, "INVALID_ARGUMENT"), token=False)) is None


def test_missing_token_must_get_401():
    assert missing_token_rejected(env(), exchange(token=False, probe=NO_TOKEN_PROBE))
    no_token_401 = exchange(401, err(401, "UNAUTHENTICATED"), token=False, probe=NO_TOKEN_PROBE)
    assert missing_token_rejected(env(), no_token_401) == []
    assert missing_token_rejected(env(), exchange()) is None  # only judges the kit's own probe


def test_429_is_never_judged():
    assert run_all(env(), exchange(429, b"slow down", response_headers={})) == {}


def test_undeclared_properties_are_not_demanded_from_a_server():
    # The official contracts leave additional properties open; the prose still means "exactly one of the two".
    official = Contract(copy.deepcopy(Contract.for_version("vwip").document))  # never touch the cached one
    body = official.document["components"]["schemas"]["NumberVerificationRequestBody"]
    official.document["components"]["schemas"]["NumberVerificationRequestBody"] = {
        k: v for k, v in body.items() if k != "oneOf"}
    lenient = CheckEnv(official, get_profile("vwip"))
    unknown_only = exchange(400, err(400, "INVALID_ARGUMENT"), request={"msisdn": "+447700900001"})
    assert classify_request(lenient, unknown_only)[0] is RequestKind.VALID
    assert valid_data_accepted(lenient, unknown_only) is None
    declared = exchange(400, err(400, "INVALID_ARGUMENT"), request={"phoneNumber": "+447700900001"})
    assert valid_data_accepted(lenient, declared)
    assert "oneOf" in Contract.for_version("vwip").document["components"]["schemas"]["NumberVerificationRequestBody"]
