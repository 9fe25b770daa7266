"""Engine functions behind the sentences: test data, gates, defects and assertions."""

import httpx
import pytest

from nv_conformance.bdd import actions
from nv_conformance.bdd.session import TestData
from nv_conformance.checks import CheckFailed
from nv_conformance.contract import Contract
from nv_conformance.exchange import DefectiveDefinition, NotApplicable, SkipScenario
from nv_conformance.profiles import get_profile, versions
from nv_conformance.tokens.base import OffNetworkOutcome

from .conftest import SUBSCRIBER, FakeTokens, make_state


def error(status, code, message="explained"):
    return lambda request: httpx.Response(status, json={"status": status, "code": code, "message": message})


def test_missing_test_data_skips_with_the_setting_name():
    state, _ = make_state(test_data=TestData(SUBSCRIBER, None))
    actions.require_subscriber(state)
    with pytest.raises(SkipScenario, match="test_data.other_phone_number"):
        actions.set_body_property_number(state, "$.phoneNumber", "other")


def test_a_schema_pointer_missing_from_the_contract_is_a_defect():
    official_like = Contract({"paths": {}, "components": {"schemas": {"XCorrelator": {"type": "string"}}}})
    state, _ = make_state(contract=official_like)
    with pytest.raises(DefectiveDefinition, match='"#/components/schemas/PhoneNumber" names nothing'):
        actions.set_body_property_noncompliant(state, "$.phoneNumber", "#/components/schemas/PhoneNumber")


def test_noncompliant_value_really_breaks_the_schema():
    state, _ = make_state()
    actions.set_body_property_noncompliant(state, "$.phoneNumber", "#/components/schemas/PhoneNumber")
    value = state.conversation.draft.body.current()["phoneNumber"]
    assert state.session.contract.errors_at("#/components/schemas/PhoneNumber", value)


def test_valid_number_compliant_with_a_hashed_schema_is_hashed():
    state, _ = make_state()
    actions.set_body_property_number(state, "$.hashedPhoneNumber", "subscriber",
                                     pointer="#/components/schemas/HashedPhoneNumber")
    value = state.conversation.draft.body.current()["hashedPhoneNumber"]
    assert len(value) == 64
    actions.body_property_complies(state, None, "#/components/schemas/HashedPhoneNumber")


def test_x_correlator_values_follow_the_contract_pattern():
    state, _ = make_state(version="v2.0.0")
    actions.set_header_compliant(state, "x-correlator", "#/components/schemas/XCorrelator")
    good = state.conversation.draft.header("X-Correlator")
    assert not state.session.contract.errors_at("#/components/schemas/XCorrelator", good)
    actions.set_header_noncompliant(state, "x-correlator", "#/components/schemas/XCorrelator")
    bad = state.conversation.draft.header("x-correlator")
    assert state.session.contract.errors_at("#/components/schemas/XCorrelator", bad)


def test_version_gates_come_from_the_profile_and_contract():
    v2, _ = make_state(version="v2.0.0")
    with pytest.raises(NotApplicable, match="does not require 400"):
        actions.require_invalid_x_correlator_400(v2)
    actions.require_token_policy(v2, "single_use")  # a later version's rule: advisory here, not skipped
    assert v2.advisory_rules == {"single_use"} and v2.clauses[-1].endswith("advisory at v2.0.0")
    with pytest.raises(NotApplicable, match="no pattern"):
        actions.require_contract_pattern(v2, "phoneNumberVerify", "$.hashedPhoneNumber")
    wip, _ = make_state(version="vwip")
    actions.require_invalid_x_correlator_400(wip)
    actions.require_token_policy(wip, "single_use")
    actions.require_contract_pattern(wip, "phoneNumberVerify", "$.hashedPhoneNumber")
    assert any("x-correlator" in c for c in wip.clauses)


def test_error_assertions_pass_and_fail_with_clear_messages():
    state, _ = make_state(respond=error(401, "UNAUTHORIZED"))
    actions.request_sent(state, "phoneNumberShare")
    actions.expect_status(state, 401)
    actions.expect_property_value(state, "$.status", "401")
    actions.expect_property_value(state, "$.status", '"401"')  # quoted numbers are forgiven
    actions.expect_property_text(state, "$.message")
    with pytest.raises(CheckFailed, match=r"expected \"UNAUTHENTICATED\", got \"UNAUTHORIZED\""):
        actions.expect_property_value(state, "$.code", '"UNAUTHENTICATED"')
    with pytest.raises(CheckFailed, match="allowed \\['UNAUTHENTICATED'\\]"):
        actions.expect_code_allowed(state, "$.code")
    assert state.checks[0].clause == "contract:#/components/responses/Unauthenticated401"
    assert [c.passed for c in state.checks].count(False) == 2


@pytest.mark.parametrize("code", [["UNAUTHENTICATED"], {"code": "UNAUTHENTICATED"}])
def test_a_code_of_the_wrong_json_type_is_a_failed_check_not_a_kit_crash(code):
    state, _ = make_state(respond=error(401, code))
    actions.request_sent(state, "phoneNumberShare")
    with pytest.raises(CheckFailed, match="is a code the contract allows for 401"):
        actions.expect_code_allowed(state, "$.code")
    assert state.checks[-1].passed is False


def test_message_wording_assertions_are_defects_not_failures():
    state, _ = make_state(respond=error(403, "PERMISSION_DENIED", "Not allowed here."))
    actions.request_sent(state, "phoneNumberShare")
    with pytest.raises(DefectiveDefinition, match="wording"):
        actions.expect_property_value(state, "$.message", '"Client does not have sufficient permissions."')
    actions.expect_property_value(state, "$.message", '"Not allowed here."')  # equal wording passes


def test_response_property_number_compares_with_the_subscriber():
    state, _ = make_state(respond=lambda r: httpx.Response(200, json={"devicePhoneNumber": "+447700900009"}))
    actions.request_sent(state, "phoneNumberShare")
    with pytest.raises(CheckFailed) as failure:
        actions.expect_property_is_number(state, "$.devicePhoneNumber", "subscriber")
    assert "+447700900009" not in str(failure.value)  # redacted
    assert "the phone number the access token identifies" in str(failure.value)


def test_schema_assertions_and_status_mismatch():
    state, _ = make_state(respond=lambda r: httpx.Response(500, text="boom"))
    actions.request_sent(state, "phoneNumberShare")
    with pytest.raises(CheckFailed, match="expected 200, got 500"):
        actions.expect_status(state, 200)
    with pytest.raises(CheckFailed, match="not JSON|documents"):
        actions.expect_schema_for_operation(state)


def test_an_error_body_whose_status_differs_fails_the_schema_step_as_in_the_fuzzer():
    """A contract whose ErrorInfo does not pin "status" (a --spec may not) accepts "status": 400 on a 401;
    the shared shape judgement does not."""
    import copy

    document = copy.deepcopy(Contract.for_version("v2.1.0").document)  # a released contract: its names stay
    generic_401 = document["components"]["responses"]["Generic401"]["content"]["application/json"]["schema"]
    for part in generic_401.get("allOf", []):
        part.get("properties", {}).get("status", {}).pop("enum", None)
    loose = Contract(document)
    state, _ = make_state(respond=error(401, "UNAUTHENTICATED"), contract=loose)
    actions.request_sent(state, "phoneNumberShare")
    actions.expect_schema_for_operation(state)
    wrong, _ = make_state(contract=loose, respond=lambda r: httpx.Response(
        401, json={"status": 400, "code": "UNAUTHENTICATED", "message": "m"}))
    actions.request_sent(wrong, "phoneNumberShare")
    with pytest.raises(CheckFailed, match="differs from the HTTP status 401"):
        actions.expect_schema_for_operation(wrong)


def test_token_policy_and_off_network_actions():
    tokens = FakeTokens(expires_in=3600, refresh=True, off_network=OffNetworkOutcome(True, None))
    state, _ = make_state(tokens=tokens)
    actions.obtain_valid_token(state, "phoneNumberVerify")
    with pytest.raises(CheckFailed, match="refresh_token"):
        actions.expect_no_refresh_token(state)
    with pytest.raises(CheckFailed, match="3600 s"):
        actions.expect_lifetime_at_most(state, 300)
    actions.request_off_network_token(state, "phoneNumberVerify")
    with pytest.raises(CheckFailed, match="issued to a connection"):
        actions.expect_no_token_off_network(state)
    no_sim, _ = make_state(tokens=FakeTokens())
    with pytest.raises(SkipScenario):
        actions.require_off_network(no_sim)


def test_the_lifetime_limit_is_the_version_s_from_its_profile():
    limit = get_profile("vwip").token_policy.max_lifetime_seconds
    assert limit is not None
    long_lived, _ = make_state(tokens=FakeTokens(expires_in=limit + 1))
    actions.obtain_valid_token(long_lived, "phoneNumberVerify")
    with pytest.raises(CheckFailed, match=f"at most {limit} s.*got {limit + 1} s"):
        actions.expect_lifetime_within_policy(long_lived)
    at_limit, _ = make_state(tokens=FakeTokens(expires_in=limit))
    actions.obtain_valid_token(at_limit, "phoneNumberVerify")
    assert actions.expect_lifetime_within_policy(at_limit).passed
    unlimited = next(v for v in versions() if get_profile(v).token_policy.max_lifetime_seconds is None)
    hour, _ = make_state(version=unlimited, tokens=FakeTokens(expires_in=3600))
    actions.obtain_valid_token(hour, "phoneNumberVerify")
    with pytest.raises(NotApplicable, match="does not require a limit on the access token lifetime"):
        actions.expect_lifetime_within_policy(hour)


def test_every_recorded_check_is_redacted_whoever_built_it():
    from nv_conformance.results import CheckRecord

    state, _ = make_state()
    token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    raw = CheckRecord(description=f"number {SUBSCRIBER}", clause="c", passed=False, detail=f"got {SUBSCRIBER} with {token}")
    with pytest.raises(CheckFailed) as failure:
        state.check(raw)
    for text in (str(failure.value), state.checks[-1].description, state.checks[-1].detail):
        assert SUBSCRIBER not in text and token not in text
    assert "+44770090****" in state.checks[-1].detail


def test_a_body_nested_too_deep_to_parse_fails_as_not_json_instead_of_crashing():
    deep = b"[" * 200_000 + b"]" * 200_000  # well under the 1 MiB cap
    state, _ = make_state(respond=lambda r: httpx.Response(200, content=deep,
                                                           headers={"content-type": "application/json"}))
    actions.request_sent(state, "phoneNumberShare")
    with pytest.raises(CheckFailed, match="response body is JSON"):
        actions.expect_schema_for_operation(state)
    with pytest.raises(CheckFailed, match="response body is JSON"):
        actions.expect_property_exists(state, "$.devicePhoneNumber")
