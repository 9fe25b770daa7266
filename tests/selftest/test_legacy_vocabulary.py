"""The older CAMARA vocabulary: unit behaviour of nv_conformance.bdd.legacy, and CAMARA's own v1.0.0/v2.0.0 files.

The official files are read from ../shared/camara when it exists (never copied into the kit);
otherwise those tests are skipped. Each of their scenarios must pass or be reported defective with
the exact defect listed in docs/errata.md.
"""

from __future__ import annotations

import json

import httpx
import pytest
from camara_files import OFFICIAL

from nv_conformance.bdd import actions, legacy
from nv_conformance.bdd.runner import run_features as run_behave_in_process
from nv_conformance.bdd.session import ScenarioState, Session, TestData, new_run
from nv_conformance.contract import Contract
from nv_conformance.exchange import DefectiveDefinition
from nv_conformance.http import GuardedClient
from nv_conformance.phone import sha256_hex
from nv_conformance.profiles import get_profile
from nv_conformance.results import Outcome
from nv_conformance.tokens.base import IssuedToken, TokenKind

SUBSCRIBER, OTHER = "+447700900001", "+447700900002"
ROOT = "http://nv.test"


class Tokens:
    def __init__(self) -> None:
        self.asked: list[tuple[TokenKind, str]] = []

    def supports(self, kind: TokenKind) -> bool:
        return True

    def get(self, kind: TokenKind, scope: str) -> IssuedToken:
        self.asked.append((kind, scope))
        return IssuedToken(f"token-{kind.value}-{len(self.asked)}", kind, scope)

    def close(self) -> None:
        pass


def make_state(version: str = "v1.0.0"):
    requests: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        request.read()
        requests.append(request)
        return httpx.Response(200, json={"devicePhoneNumberVerified": True})

    profile = get_profile(version)
    tokens = Tokens()
    session = Session(base_url=ROOT + profile.base_path, api_root=ROOT, api_version=version,
                      contract=Contract.for_version(version), profile=profile,
                      client=GuardedClient(transport=httpx.MockTransport(respond)), tokens=tokens,
                      run=new_run("test", version, {}), test_data=TestData(SUBSCRIBER, OTHER))
    return ScenarioState(session), requests, tokens


def test_setup_after_the_when_step_still_applies():
    state, requests, tokens = make_state()
    actions.use_resource(state, "/number-verification/v1")
    actions.use_token(state, TokenKind.VALID)
    legacy.body_compliant_with(state, "NumberVerificationRequestBody")
    legacy.resource(state, "/verify")
    legacy.scope_claim(state, "one", "number-verification:verify")
    legacy.send(state, "POST")
    legacy.body_field(state, "hashedPhoneNumber", "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER_HASHED2")
    legacy.token_kind(state, TokenKind.EXPIRED)
    assert requests == []  # nothing sent before the first response assertion
    actions.expect_status(state, 200)
    assert requests[0].method == "POST" and requests[0].url.path == "/number-verification/v1/verify"
    assert json.loads(requests[0].content) == {"hashedPhoneNumber": sha256_hex(OTHER)}
    assert tokens.asked == [(TokenKind.EXPIRED, "number-verification:verify")]


def test_scope_sentences_choose_the_token():
    state, requests, tokens = make_state()
    actions.use_token(state, TokenKind.VALID)
    legacy.resource(state, "/device-phone-number")
    legacy.scope_claim(state, "none", "number-verification:device-phone-number:read")
    legacy.send(state, "GET")
    actions.expect_status(state, 200)
    assert tokens.asked == [(TokenKind.OTHER_SCOPE, "number-verification:verify")]
    assert requests[0].content == b""  # the Background's stand-in body is not put on a GET


@pytest.mark.parametrize(("steps", "defect"), [
    (lambda s: (legacy.resource(s, "/verify"), legacy.send(s, "GET")), 'sends GET to "/verify"'),
    (lambda s: (actions.use_resource(s, "/device-phone-number/v1"), legacy.resource(s, "/device-phone-number"),
                legacy.send(s, "GET")), 'base path "/device-phone-number/v1" does not exist'),
    (lambda s: (legacy.resource(s, "/device-phone-number"), legacy.send(s, "GET"),
                legacy.body_field(s, "phoneNumber", "NUMBERVERIFY_SHARE_PHONENUMBER1")), "request body on GET"),
    (lambda s: legacy.body_field(s, "phoneNumber", "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER"),
     "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER is not defined"),
    (lambda s: (actions.use_token(s, TokenKind.VALID), legacy.resource(s, "/device-phone-number"),
                legacy.scope_claim(s, "one", "number-verification:verify"), legacy.send(s, "GET"),
                legacy.token_kind(s, TokenKind.NON_NETWORK)), "two faults at once"),
    (lambda s: legacy.scope_claim(s, "one", "number-verification:everything"), "not a scope of any operation"),
])
def test_defects_of_a_test_definition_are_named(steps, defect):
    state, requests, _ = make_state()
    with pytest.raises(DefectiveDefinition, match=defect.replace("(", r"\(").replace(")", r"\)")):
        steps(state)
    assert requests == []


def test_a_scenario_without_resource_uses_the_only_operation_of_its_method():
    state, requests, _ = make_state()
    actions.use_token(state, TokenKind.VALID)
    actions.set_body_property_literal(state, "$.phoneNumber", "123")
    legacy.send(state, "POST")
    actions.expect_status(state, 200)
    assert requests[0].url.path == "/number-verification/v1/verify"
    assert any("only POST operation" in c for c in state.clauses)


# -- CAMARA's own files ---------------------------------------------------------------------------

BASE_PATH = 'base path "/device-phone-number/{major}" does not exist'
WORDING = 'exact wording of "$.message"'
# scenario tag -> the defect the run must report (docs/errata.md); every other scenario must pass
DEFECTS = {
    "v1.0.0": {
        "NumberVerification_phone_number_share100_match_true": BASE_PATH.format(major="v1"),
        "NumberVerification_phone_number_share201_missing_scope": BASE_PATH.format(major="v1"),
        "NumberVerification_phone_number_share202_expired_access_token": BASE_PATH.format(major="v1"),
        "NumberVerification_phone_number_share203_no_phonenumber_associated_with_access_token":
            BASE_PATH.format(major="v1"),
        "NumberVerification_phone_number_share205_must_have_used_network_authentication":
            BASE_PATH.format(major="v1"),
        "NumberVerification_verify201_missing_scope": WORDING,
        "NumberVerification_verify202_expired_access_token": "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER is not defined",
        "NumberVerification_phone_number_verify204_no_phonenumber_associated_with_access_token":
            'sends GET to "/verify"',
        "NumberVerification_phone_number_verify205_must_have_used_network_authentication": 'sends GET to "/verify"',
    },
    "v2.0.0": {
        "NumberVerification_phone_number_share100_match_true": BASE_PATH.format(major="v2"),
        "NumberVerification_phone_number_share201_missing_scope": BASE_PATH.format(major="v2"),
        "NumberVerification_phone_number_share202_expired_access_token": BASE_PATH.format(major="v2"),
        "NumberVerification_phone_number_share205_must_have_used_network_or_sim_based_authentication":
            BASE_PATH.format(major="v2"),
        "NumberVerification_verify201_missing_scope": WORDING,
        "NumberVerification_verify202_expired_access_token": "NUMBERVERIFY_VERIFY_MATCH_PHONENUMBER is not defined",
        "NumberVerification_phone_number_verify205_must_have_used_network_or_sim_based_authentication":
            'sends GET to "/verify"',
    },
}


def own_id(scenario) -> str:
    """The scenario's own id tag (v1.0.0 tags the Feature too; only the scenarios' ids carry a number)."""
    return next(t for t in scenario.tags if t.startswith("NumberVerification_") and any(c.isdigit() for c in t))


official = pytest.mark.skipif(not OFFICIAL.is_dir(), reason="CAMARA's official files are not available here")


@official
@pytest.mark.slow
@pytest.mark.parametrize("version", ["v1.0.0", "v2.0.0"])
def test_official_older_files_run_unmodified(version):
    run = run_behave_in_process(OFFICIAL / version, tags=[], names=[],
                                userdata={"progress": "off", "api_version": version})
    assert run.undefined_steps == []
    outcomes = {}
    for scenario in run.scenarios:
        expected = DEFECTS[version].get(own_id(scenario))
        if expected is None:
            assert scenario.outcome == Outcome.PASSED, (scenario.name, scenario.outcome, scenario.reason)
        else:
            assert scenario.outcome == Outcome.DEFECTIVE and expected in scenario.reason, (scenario.name, scenario.reason)
        outcomes[own_id(scenario)] = scenario.outcome
    assert set(DEFECTS[version]) <= set(outcomes)
    assert run.count(Outcome.PASSED) == 12  # six outline examples + six single scenarios of the verify file


@official
@pytest.mark.slow
def test_official_older_files_catch_a_faulty_provider(tmp_path):
    from reference_impl.embedded import EmbeddedReference

    with EmbeddedReference(fault="verify-always-true") as reference:
        (tmp_path / "kit.json").write_text(json.dumps(reference.kit))
        (tmp_path / "target.yaml").write_text("kit: kit.json\napi_version: v1.0.0\n")
        run = run_behave_in_process(OFFICIAL / "v1.0.0", tags=[], names=[],
                                    userdata={"progress": "off", "config": str(tmp_path / "target.yaml")})
    failed = {own_id(s) for s in run.scenarios if s.outcome == Outcome.FAILED}
    assert failed == {"NumberVerification_verify101_match_false", "NumberVerification_verify301_match_false"}
