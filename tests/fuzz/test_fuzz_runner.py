"""The runner's safety machinery against a tiny live provider: token guard, hard stop, rate, 429, errors."""

import time

import httpx
import pytest

from nv_conformance.contract import Contract
from nv_conformance.errors import ConfigError, TokenError
from nv_conformance.fuzz.runner import FuzzOptions, FuzzTarget, run_fuzz
from nv_conformance.profiles import get_profile

from .mini_provider import MiniServer, MiniState


def target_for(server, fetch=None):
    client = httpx.Client()

    def fetch_token(scope):
        return client.post(server.base_url + "/token").json()["access_token"]

    return FuzzTarget(api_base_url=server.api_base_url, contract=Contract.for_version("vwip"),
                      profile=get_profile("vwip"), fetch_token=fetch or fetch_token, label="mini")


def test_a_run_where_tokens_are_rejected_fails_and_stops_early():
    with MiniServer(MiniState(reject_tokens=True)) as server:
        outcome = run_fuzz(target_for(server), FuzzOptions(duration_s=20))
    assert outcome.failed
    assert any("401" in p and "token layer broken" in p for p in outcome.run_problems)
    assert outcome.stats.elapsed_s < 15 and "token layer broken" in outcome.stats.stop_reason
    assert outcome.stats.ratio_401 >= 0.9


def test_every_request_gets_its_own_token_and_the_duration_is_a_hard_stop():
    state = MiniState()
    with MiniServer(state) as server:
        outcome = run_fuzz(target_for(server), FuzzOptions(duration_s=2.5))
    s = outcome.stats
    assert s.elapsed_s < 2.5 + 1.0
    assert s.cases > 20 and s.authenticated_401 == 0 and not outcome.run_problems
    sent = [t for t in state.used_tokens if t]
    assert len(sent) == len(set(sent))  # no token was ever sent twice
    assert outcome.tokens_issued >= len(sent)
    assert s.no_token_probes == 6  # three per operation


def test_rate_limit_is_honoured():
    state = MiniState()
    with MiniServer(state) as server:
        outcome = run_fuzz(target_for(server), FuzzOptions(duration_s=3, rate=10))
    times = state.call_times
    assert outcome.stats.cases <= 10 * 3 + 2
    # no 1-second window holds more than rate + 1 calls (the first slot is free)
    assert max(sum(1 for t in times if start <= t < start + 1) for start in times) <= 11


def test_429s_are_waited_out_not_judged():
    state = MiniState(rate_limit_first=3, retry_after="0")
    with MiniServer(state) as server:
        outcome = run_fuzz(target_for(server), FuzzOptions(duration_s=2))
    assert outcome.stats.rate_limited == 3
    assert 429 not in outcome.stats.statuses
    assert outcome.stats.authenticated_401 == 0 and not outcome.findings.findings


def test_a_token_layer_that_cannot_issue_tokens_is_one_clear_error():
    def broken(scope):
        raise TokenError("token endpoint http://127.0.0.1:1/token: 400 invalid_client")

    with MiniServer(MiniState()) as server, pytest.raises(TokenError, match="invalid_client"):
        run_fuzz(target_for(server, fetch=broken), FuzzOptions(duration_s=5))


@pytest.mark.parametrize("options, setting", [
    (FuzzOptions(rate=0), "--rate"),
    (FuzzOptions(rate=float("nan")), "--rate"),  # argparse's float() reads "nan": the pacer would wait for nothing
    (FuzzOptions(rate=float("inf")), "--rate"),
    (FuzzOptions(duration_s=float("nan")), "--duration"),
    (FuzzOptions(duration_s=0), "--duration"),
    (FuzzOptions(max_examples=0), "--max-examples"),
    (FuzzOptions(max_failures=0), "--max-failures"),
])
def test_bad_options_name_the_setting(options, setting):
    with pytest.raises(ConfigError, match=setting):
        options.validate()


def test_progress_lines_while_running():
    import io

    stream = io.StringIO()
    with MiniServer(MiniState()) as server:
        started = time.monotonic()
        run_fuzz(target_for(server), FuzzOptions(duration_s=2.2, progress_interval_s=1), progress=stream)
    lines = stream.getvalue().splitlines()
    assert time.monotonic() - started < 5
    assert lines[0].startswith("fuzz: mini") and "seed" in lines[0]
    assert sum("cases (" in line for line in lines) >= 1
    assert lines[-1].startswith("fuzz: done") and "cases/s" in lines[-1]


def test_a_static_token_is_named_as_the_cause_of_the_401s():
    with MiniServer(MiniState()) as server:
        client = httpx.Client()
        token = client.post(server.base_url + "/token").json()["access_token"]
        outcome = run_fuzz(target_for(server, fetch=lambda scope: token), FuzzOptions(duration_s=15))
    assert outcome.tokens_repeated > 0
    # The kit reused the token, not the target's fault: the tester's side, inconclusive (exit 3), never "not conformant".
    assert any("more than once" in p and "static" in p for p in outcome.environment_problems)
    assert not outcome.run_problems and not outcome.failed
    from nv_conformance.fuzz.report import to_run_result

    run = to_run_result(outcome)
    assert run.verdict.value == "inconclusive" and run.exit_status() == 3


def test_a_token_endpoint_of_the_target_that_issues_one_token_again_fails_the_run():
    """Not the tester's doing: the target's own authorization server handed out a used token."""
    import dataclasses

    with MiniServer(MiniState()) as server:
        token = httpx.Client().post(server.base_url + "/token").json()["access_token"]
        target = dataclasses.replace(target_for(server, fetch=lambda scope: token), tokens_from_tester=False)
        outcome = run_fuzz(target, FuzzOptions(duration_s=15))
    assert outcome.tokens_repeated > 0 and not outcome.environment_problems
    assert any("token endpoint issued" in p for p in outcome.run_problems) and outcome.failed


def test_the_fuzz_target_knows_whose_tokens_it_sends(tmp_path):
    from nv_conformance.config import load_config
    from nv_conformance.fuzz.target import fuzz_target
    from nv_conformance.target import open_target

    for method, testers in (("static", True), ("reference", False)):
        config = tmp_path / f"{method}.yaml"
        config.write_text("embedded: true\ntokens:\n  valid: " +
                          ("{method: static, token: some-token}" if method == "static" else "{method: reference}") + "\n")
        with open_target(load_config(config)) as target:
            assert fuzz_target(target).tokens_from_tester is testers, method


def test_a_run_where_valid_requests_never_succeed_proves_nothing():
    with MiniServer(MiniState(forbid=True)) as server:
        outcome = run_fuzz(target_for(server), FuzzOptions(duration_s=2))
    assert outcome.stats.authenticated_401 == 0
    assert any("valid requests with a fresh token succeeded" in p and "403" in p for p in outcome.run_problems)


def test_a_response_nested_too_deep_to_parse_is_a_finding_not_a_lost_case():
    """json.loads raises RecursionError, not ValueError: the check must still judge the response."""
    with MiniServer(MiniState(deep_json_errors=True)) as server:
        outcome = run_fuzz(target_for(server), FuzzOptions(duration_s=3))
    assert outcome.stats.statuses[400] > 0 and not outcome.stats.errors
    failed = outcome.findings.failed
    assert failed[("error_body", "phoneNumberVerify")] + failed[("error_body", "phoneNumberShare")] == \
        outcome.stats.statuses[400]
    finding = outcome.findings.findings[("error_body", "phoneNumberVerify")]
    assert "400 body is not a JSON object" in finding.problem


def test_a_check_that_breaks_fails_the_run_instead_of_skipping_responses(monkeypatch):
    from nv_conformance.fuzz import checks

    def broken(env, ex):
        raise KeyError("kit bug")

    monkeypatch.setattr(checks, "CAMARA_CHECKS", (*checks.CAMARA_CHECKS, checks.CamaraCheck("broken", broken, "d", "c")))
    with MiniServer(MiniState()) as server:
        outcome = run_fuzz(target_for(server), FuzzOptions(duration_s=1.5))
    assert outcome.stats.unjudged == outcome.stats.cases > 0
    assert outcome.failed and any("could not be judged" in p for p in outcome.run_problems)
    assert any("kit check error: KeyError" in e for e in outcome.stats.errors)


def test_an_operation_that_got_no_judged_response_fails_the_run():
    """Its checks would all be 'skipped, not mandatory': the verdict must not say the operation conforms."""
    from nv_conformance.fuzz.runner import _run_problems, _RunState

    state = _RunState(target_for(MiniServer(MiniState())), FuzzOptions(), time.monotonic() + 1)
    try:
        state.stats.authenticated = state.stats.valid_authenticated = 12
        state.stats.valid_statuses[200] = 12
        state.collector.applied[("no_server_error", "phoneNumberVerify")] = 12
        assert _run_problems(state) == ["no response of phoneNumberShare was judged: that operation was not tested"]
        state.collector.applied[("no_server_error", "phoneNumberShare")] = 1
        assert _run_problems(state) == []
    finally:
        state.close()
