"""Engine functions of the Commonalities 0.9.0 sentences, strictness and length limits (no behave)."""

from __future__ import annotations

import json

import httpx
import pytest

from nv_conformance.bdd import actions
from nv_conformance.bdd.rules import MISSING, parse_rule
from nv_conformance.checks import CheckFailed
from nv_conformance.exchange import DefectiveDefinition, NotApplicable
from nv_conformance.tokens.base import TokenKind

from .conftest import SUBSCRIBER, make_state


def _answer(status: int, body: dict):
    return lambda request: httpx.Response(status, json=body)


# -- "matches the rule:" -------------------------------------------------------------------------

@pytest.mark.parametrize(("condition", "kind", "value", "holds"), [
    ("== 400", "compare", 400, True),
    ("== 400", "compare", "400", False),
    ('is not "X"', "compare", "Y", True),
    ("the value is greater than or equal to 400", "compare", 401, True),
    ("$.status < 500", "compare", 503, False),
    ("is at most 3", "compare", "abc", False),  # a text is not compared with a number
    ('matches "^[A-Z_]+$"', "regex", "INVALID_ARGUMENT", True),
    ('matches the regular expression "^[A-Z_]+$"', "regex", "INVALID_ARGUMENT\n", False),  # ECMA-262 $
    ("value matches /^\\+/", "regex", 447700900001, False),
    ("exists", "presence", MISSING, False),
    ("does not exist", "presence", MISSING, True),
    ("is not empty", "presence", "", False),
    ("is not null", "presence", None, False),
])
def test_rules_the_kit_evaluates(condition, kind, value, holds):
    rule = parse_rule(condition)
    assert rule.kind == kind
    assert rule.holds(value)[0] is holds


@pytest.mark.parametrize("condition", ["is a UUID", "is a valid date-time in the past", "is consistent with $.a",
                                       "matches \"[\""])
def test_a_rule_the_kit_cannot_evaluate_is_a_defect(condition):
    with pytest.raises(DefectiveDefinition, match="cannot evaluate the rule|invalid regular expression"):
        parse_rule(condition)


def test_rule_and_one_of_assertions_record_their_verdict():
    state, _ = make_state(respond=_answer(400, {"status": 400, "code": "OUT_OF_RANGE", "message": "m"}))
    actions.request_sent(state, "phoneNumberShare")
    actions.expect_property_rule(state, "$.status", "== 400")
    actions.expect_property_one_of(state, "$.code", ['"INVALID_ARGUMENT"', '"OUT_OF_RANGE"'])
    with pytest.raises(CheckFailed, match='expected "INVALID_ARGUMENT" or "UNAUTHENTICATED", got "OUT_OF_RANGE"'):
        actions.expect_property_one_of(state, "$.code", ['"INVALID_ARGUMENT"', '"UNAUTHENTICATED"'])
    with pytest.raises(CheckFailed, match="does not hold for absent"):
        actions.expect_property_rule(state, "$.missing", "exists")


def test_an_unevaluable_rule_sends_nothing_and_is_a_defect():
    state, recorder = make_state()
    actions.request_sent(state, "phoneNumberShare")
    with pytest.raises(DefectiveDefinition):
        actions.expect_property_rule(state, "$.devicePhoneNumber", "is the subscriber's")
    assert recorder.requests == []


def test_array_and_threshold_sentences_are_not_applicable():
    state, _ = make_state()
    with pytest.raises(NotApplicable, match="not applicable to the Number Verification API"):
        actions.not_applicable_to_this_api(state, "an array response body", "every response body is a JSON object")


# -- request bodies at a schema pointer ------------------------------------------------------------

def test_bodies_compliant_and_not_compliant_with_a_schema():
    state, recorder = make_state(version="v2.1.1", respond=_answer(200, {"devicePhoneNumberVerified": True}))
    pointer = "/components/schemas/NumberVerificationRequestBody"
    actions.body_compliant_at(state, pointer)
    assert state.conversation.draft.body.current() == {"phoneNumber": SUBSCRIBER}
    actions.body_noncompliant_at(state, "#" + pointer)
    assert state.session.contract.errors_at(pointer, state.conversation.draft.body.current())
    actions.request_sent(state, "phoneNumberVerify")
    actions.expect_status(state, 200)
    assert json.loads(recorder.requests[0].content) == {}


def test_a_compliant_body_for_a_schema_it_breaks_is_a_defect():
    state, _ = make_state()
    with pytest.raises(DefectiveDefinition, match="is not the request body's"):
        actions.body_compliant_at(state, "#/components/schemas/HashedPhoneNumber")


def test_a_token_without_a_named_scope():
    state, _ = make_state()
    actions.use_token_without_scope(state, "number-verification:verify")
    assert state.conversation.draft.auth.kind is TokenKind.OTHER_SCOPE
    actions.request_sent(state, "phoneNumberVerify")
    other, _ = make_state()
    actions.use_token_without_scope(other, "number-verification:verify")
    with pytest.raises(DefectiveDefinition, match="does not need"):
        actions.request_sent(other, "phoneNumberShare")
    with pytest.raises(DefectiveDefinition, match="not a scope of any operation"):
        actions.use_token_without_scope(other, "openid")


# -- strictness and length limits -------------------------------------------------------------------

def test_strictness_gate_follows_the_profile():
    actions.require_request_body_strictness(make_state(version="v2.1.1")[0])
    actions.require_request_body_strictness(make_state(version="vwip")[0])
    with pytest.raises(NotApplicable, match="does not state request body strictness"):
        actions.require_request_body_strictness(make_state(version="v2.1.0")[0])


def test_values_over_the_contract_maximum_length():
    state, _ = make_state(version="v2.1.1")
    actions.set_body_property_too_long(state, "$.phoneNumber", "#/components/schemas/PhoneNumber")
    value = state.conversation.draft.body.current()["phoneNumber"]
    assert len(value) == 17 and value.startswith("+") and value[1:].isdigit()
    actions.set_header_too_long(state, "x-correlator", "#/components/schemas/XCorrelator")
    assert len(state.conversation.draft.header("x-correlator") or "") == 257
    assert any("maxLength: 16" in c for c in state.clauses)
    with pytest.raises(NotApplicable, match="no maximum length"):
        actions.set_body_property_too_long(make_state(version="v2.1.0")[0], "$.phoneNumber",
                                           "#/components/schemas/PhoneNumber")
