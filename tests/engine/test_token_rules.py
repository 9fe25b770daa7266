"""Token rules at every version: ICM's JWT-bearer rule is mandatory everywhere, the later versions' rules
are warnings where not demanded (mandatory when the target declares them), and a token that came
without a token response is never judged as if it had one."""

from __future__ import annotations

import pytest

from nv_conformance.bdd import actions
from nv_conformance.checks import AdvisoryRuleBroken, CheckFailed
from nv_conformance.exchange import NotApplicable

from .conftest import FakeTokens, make_state


def obtained(version: str, *, strict: bool = False, **token_options) -> actions.ScenarioState:
    state, _ = make_state(tokens=FakeTokens(**token_options), version=version, strict_tokens=strict)
    return state


@pytest.mark.parametrize("version", ["v1.0.0", "v2.0.0", "v2.1.0", "vwip"])
def test_a_refresh_token_from_the_jwt_bearer_grant_fails_at_every_version(version: str) -> None:
    state = obtained(version, refresh=True, grant="jwt-bearer")
    actions.require_token_policy(state, "refresh_tokens")
    actions.obtain_valid_token(state, "phoneNumberVerify")
    with pytest.raises(CheckFailed, match="refresh_token.*ICM"):
        actions.expect_no_refresh_token(state)
    assert not state.checks[-1].advisory and not state.advisory_only  # mandatory: counts for the verdict


def test_a_refresh_token_from_another_flow_is_a_warning_where_the_version_does_not_forbid_it() -> None:
    state = obtained("v2.1.0", refresh=True, grant="ciba")
    actions.require_token_policy(state, "refresh_tokens")
    actions.obtain_valid_token(state, "phoneNumberVerify")
    with pytest.raises(AdvisoryRuleBroken, match="refresh_token"):
        actions.expect_no_refresh_token(state)
    assert state.checks[-1].warns and state.advisory_only
    assert any("advisory at v2.1.0" in clause and "rule of v2.1.1" in clause for clause in state.clauses)
    forbidding = obtained("vwip", refresh=True, grant="ciba")
    actions.require_token_policy(forbidding, "refresh_tokens")
    actions.obtain_valid_token(forbidding, "phoneNumberVerify")
    with pytest.raises(CheckFailed):
        actions.expect_no_refresh_token(forbidding)


def test_a_declared_strict_token_policy_makes_the_later_rules_mandatory() -> None:
    state = obtained("v2.1.0", strict=True, refresh=True, grant="ciba", expires_in=3600)
    actions.require_token_policy(state, "refresh_tokens")
    actions.require_token_policy(state, "max_lifetime")
    assert not state.advisory_rules and any("declared by the target" in c for c in state.clauses)
    actions.obtain_valid_token(state, "phoneNumberVerify")
    with pytest.raises(CheckFailed):
        actions.expect_no_refresh_token(state)
    with pytest.raises(CheckFailed, match="3600 s"):
        actions.expect_lifetime_at_most(state, 300)


@pytest.mark.parametrize(("version", "raised"), [("v2.1.0", AdvisoryRuleBroken), ("vwip", CheckFailed)])
def test_a_one_hour_token_fails_at_vwip_and_warns_at_v2_1_0(version: str, raised: type[Exception]) -> None:
    state = obtained(version, expires_in=3600, grant="jwt-bearer")
    actions.require_token_policy(state, "max_lifetime")
    actions.obtain_valid_token(state, "phoneNumberVerify")
    with pytest.raises(raised, match="3600 s"):
        actions.expect_lifetime_at_most(state, 300)


@pytest.mark.parametrize("version", ["v2.1.0", "vwip"])
def test_a_token_without_a_token_response_is_not_applicable_never_passed(version: str) -> None:
    state = obtained(version, from_token_response=False, expires_in=None)
    actions.require_token_policy(state, "refresh_tokens")
    actions.obtain_valid_token(state, "phoneNumberShare")
    with pytest.raises(NotApplicable, match="without a token response"):
        actions.expect_no_refresh_token(state)
    with pytest.raises(NotApplicable, match="without a token response"):
        actions.expect_lifetime_at_most(state, 300)
    assert not state.checks  # nothing was recorded as held


def test_what_a_reused_token_gets_is_advisory_where_single_use_is_a_later_rule() -> None:
    from nv_conformance.results import CheckRecord
    from nv_conformance.tokens.base import TokenKind

    state, _ = make_state(version="v2.1.0")
    actions.require_token_policy(state, "single_use")
    actions.use_token(state, TokenKind.VALID)
    actions.request_sent(state, "phoneNumberShare")
    actions.expect_status(state, 200)  # before the reuse: mandatory as ever
    assert not state.checks[-1].advisory
    actions.resend_with_same_token(state)
    with pytest.raises(AdvisoryRuleBroken, match="expected 401, got 200"):
        actions.expect_status(state, 401)
    record: CheckRecord = state.checks[-1]
    assert record.warns and "single-use" in record.clause and "advisory at v2.1.0" in record.clause
