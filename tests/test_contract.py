"""The project's contracts: valid OpenAPI, and the facts each version must carry."""

import pytest
import yaml
from openapi_spec_validator import validate

from nv_conformance.contract import Contract, PointerNotFoundError
from nv_conformance.profiles import UnknownVersionError, get_profile, versions

VERIFY = "phoneNumberVerify"
SHARE = "phoneNumberShare"


@pytest.mark.parametrize("version", versions())
def test_contract_is_valid_openapi(version):
    validate(yaml.safe_load(get_profile(version).contract_path.read_text()))


@pytest.mark.parametrize("version", versions())
def test_base_path_matches_profile(version):
    assert Contract.for_version(version).server_base_path == get_profile(version).base_path


@pytest.mark.parametrize("version", versions())
def test_operations_and_scopes(version):
    c = Contract.for_version(version)
    assert c.operation(VERIFY).method == "POST" and c.operation(VERIFY).path == "/verify"
    assert c.operation(SHARE).method == "GET" and c.operation(SHARE).path == "/device-phone-number"
    assert c.operation(VERIFY).scopes == ("number-verification:verify",)
    assert c.operation(SHARE).scopes == ("number-verification:device-phone-number:read",)


@pytest.mark.parametrize(
    "body, ok",
    [
        ({"phoneNumber": "+447700900123"}, True),
        ({"hashedPhoneNumber": "A" * 64}, True),
        ({}, False),
        ({"foo": "bar"}, False),
        ({"phoneNumber": "+447700900123", "hashedPhoneNumber": "a" * 64}, False),
        ({"phoneNumber": "447700900123"}, False),
        ({"phoneNumber": "+0447700900"}, False),
        ({"phoneNumber": "+1234"}, False),
        ({"phoneNumber": "+1234567890123456"}, False),
        ({"phoneNumber": 447700900123}, False),
        ([], False),
    ],
)
@pytest.mark.parametrize("version", ["v2.1.0", "vwip"])
def test_request_body_rules(version, body, ok):
    c = Contract.for_version(version)
    assert (c.errors_at(c.request_body_pointer(VERIFY), body) == []) is ok


def test_hashed_pattern_only_from_v2_1_0():
    short = {"hashedPhoneNumber": "abc"}
    for version, ok in [("v2.0.0", True), ("v2.1.0", False), ("vwip", False)]:
        c = Contract.for_version(version)
        assert (c.errors_at(c.request_body_pointer(VERIFY), short) == []) is ok


def test_error_codes_per_version():
    assert Contract.for_version("v2.0.0").allowed_error_codes(VERIFY, 401) == {"UNAUTHENTICATED", "AUTHENTICATION_REQUIRED"}
    assert Contract.for_version("v2.1.0").allowed_error_codes(SHARE, 401) == {"UNAUTHENTICATED"}
    assert Contract.for_version("vwip").allowed_error_codes(VERIFY, 403) == {
        "PERMISSION_DENIED",
        "NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK",
    }
    assert Contract.for_version("vwip").allowed_error_codes(VERIFY, 400) == {"INVALID_ARGUMENT"}
    assert Contract.for_version("vwip").allowed_error_codes(VERIFY, 500) is None
    assert "INVALID_TOKEN_CONTEXT" in Contract.for_version("v1.0.0").allowed_error_codes(VERIFY, 403)


def test_x_correlator_patterns():
    assert Contract.for_version("v1.0.0").x_correlator_is_valid("any thing at all ?")
    v2 = Contract.for_version("v2.0.0")
    assert v2.x_correlator_is_valid("abc-123") and not v2.x_correlator_is_valid("a:b")
    assert not v2.x_correlator_is_valid("a" * 56)
    v21 = Contract.for_version("v2.1.0")
    assert v21.x_correlator_is_valid("a:b;c.d/e<f>{g}_h") and not v21.x_correlator_is_valid("a b")
    assert not v21.x_correlator_is_valid("a" * 257) and not v21.x_correlator_is_valid("a@b")


def test_response_validation():
    c = Contract.for_version("vwip")
    assert c.response_validator(SHARE, 200).is_valid({"devicePhoneNumber": "+447700900123"})
    assert not c.response_validator(SHARE, 200).is_valid({"devicePhoneNumber": "447700900123"})
    assert not c.response_validator(VERIFY, 200).is_valid({"devicePhoneNumberVerified": "true"})
    assert not c.response_validator(VERIFY, 401).is_valid({"status": 401, "code": "PERMISSION_DENIED", "message": "x"})
    assert not c.response_validator(VERIFY, 400).is_valid({"status": 400, "code": "INVALID_ARGUMENT"})
    assert c.response_validator(VERIFY, 404) is None


def test_pointer_forms_and_missing_pointer():
    c = Contract.for_version("vwip")
    for pointer in ("#/components/schemas/ErrorInfo", "/components/schemas/ErrorInfo", "components/schemas/ErrorInfo"):
        assert c.validator_at(pointer).is_valid({"status": 400, "code": "c", "message": "m"})
    with pytest.raises(PointerNotFoundError):
        c.validator_at("#/components/schemas/DoesNotExist")


def test_unknown_version_is_a_clear_error():
    with pytest.raises(UnknownVersionError, match="supported: v1.0.0"):
        get_profile("v9")
    assert get_profile("2.1.0").version == "v2.1.0" and get_profile("wip").version == "vwip"


@pytest.mark.parametrize("version", ["v2.0.0", "v2.1.0", "vwip"])
def test_patterns_follow_ecma_262_end_of_string(version):
    """'$' matches only at the very end (ECMA-262), not before a final newline as in Python's re."""
    c = Contract.for_version(version)
    assert c.errors_at(c.request_body_pointer(VERIFY), {"phoneNumber": "+447700900123\n"})
    assert not c.response_validator(SHARE, 200).is_valid({"devicePhoneNumber": "+447700900123\n"})
    assert not c.x_correlator_is_valid("abc\n")


def test_python_pattern_translation():
    from nv_conformance.contract import python_pattern

    assert python_pattern(r"^\+[1-9][0-9]{4,14}$") == r"^\+[1-9][0-9]{4,14}\Z"
    assert python_pattern(r"^[a$]\$x$") == r"^[a$]\$x\Z"  # `$` in a class and escaped `\$` stay literal
    assert python_pattern(r"^[]$]$") == r"^[]$]\Z"


def test_unquoted_status_code_keys_in_a_yaml_spec_work_like_quoted_ones(tmp_path):
    """Hand-written OpenAPI files often write ``200:`` (YAML int), not ``"200":``."""
    import re

    text = get_profile("vwip").contract_path.read_text()
    unquoted = re.sub(r'^(\s*)"(\d{3})":', r"\1\2:", text, flags=re.M)
    assert unquoted != text
    path = tmp_path / "spec.yaml"
    path.write_text(unquoted)
    c = Contract.from_file(path)
    assert c.documented_statuses(SHARE) == Contract.for_version("vwip").documented_statuses(SHARE)
    assert c.response_schema_pointer(SHARE, 200) is not None
    assert c.errors_at(c.response_schema_pointer(SHARE, 200), {"devicePhoneNumber": "+447700900001"}) == []
    assert c.allowed_error_codes(SHARE, 401)


def test_undeclared_request_properties_at_any_level():
    c = Contract.for_version("v2.1.1")
    assert c.undeclared_request_properties("phoneNumberVerify", {"phoneNumber": "+447700900001"}) == []
    assert c.undeclared_request_properties("phoneNumberVerify", {"phoneNumber": "+4477", "x": 1, "y": {}}) == ["$.x", "$.y"]
    assert c.undeclared_request_properties("phoneNumberShare", {"x": 1}) == []  # no request body
    nested = Contract({"paths": {"/p": {"post": {"operationId": "op", "requestBody": {"content": {"application/json": {
        "schema": {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {}}},
                                                    "free": {"type": "object"},
                                                    "list": {"type": "array", "items": {"properties": {"c": {}}}}}}}}}}}}})
    body = {"a": {"b": 1, "z": 2}, "free": {"anything": 1}, "list": [{"c": 1}, {"d": 1}]}
    assert nested.undeclared_request_properties("op", body) == ["$.a.z", "$.list[1].d"]


def test_max_length_from_the_contract():
    assert Contract.for_version("v2.1.1").max_length_at("#/components/schemas/PhoneNumber") == 16
    assert Contract.for_version("v2.1.1").max_length_at("/components/schemas/DevicePhoneNumber") == 16
    assert Contract.for_version("v2.1.0").max_length_at("#/components/schemas/PhoneNumber") is None


def test_required_response_properties_follow_refs_and_all_of():
    contract = Contract.for_version("vwip")
    assert contract.required_response_properties("phoneNumberVerify", 200) == {"devicePhoneNumberVerified"}
    assert contract.required_response_properties("phoneNumberShare", 200) == {"devicePhoneNumber"}
    assert {"status", "code", "message"} <= contract.required_response_properties("phoneNumberShare", 401)
    assert contract.required_response_properties("phoneNumberShare", 418) == frozenset()
