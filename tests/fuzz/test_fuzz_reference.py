"""Bounded fuzz runs of the embedded reference (part of the default test run).

The correct reference must come out clean; each deliberately faulty variant must be found,
with a reproducing curl command that carries a token placeholder, never a token.
"""

import json

import pytest
from camara_files import OFFICIAL

from nv_conformance.cli import main as cli_main
from nv_conformance.config import load_config
from nv_conformance.fuzz.report import to_run_result
from nv_conformance.fuzz.runner import FuzzOptions, run_fuzz
from nv_conformance.fuzz.target import fuzz_target
from nv_conformance.target import open_target

pytestmark = pytest.mark.slow

REFERENCE_SECONDS = 20


def test_the_reference_survives_a_bounded_fuzz(tmp_path, capsys):
    report_dir = tmp_path / "reports"
    code = cli_main(["fuzz", "--duration", str(REFERENCE_SECONDS), "--report-dir", str(report_dir)])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    fuzz = json.loads((report_dir / "fuzz.json").read_text())
    figures = fuzz["fuzz"]
    assert figures["findings"] == 0 and fuzz["findings"] == []
    assert figures["server_errors_5xx"] == 0 and figures["ratio_401"] == 0
    assert figures["cases"] >= 100 and figures["cases_per_s"] > 0
    assert figures["elapsed_s"] <= REFERENCE_SECONDS + 2
    assert figures["seed"] == 20251126 and figures["no_token_probes"] == 6
    assert figures["phases"].get("coverage") and figures["phases"].get("fuzzing")
    assert figures["request_kinds"].get("invalid", 0) >= 20  # negative data was sent, and rejected properly
    results = json.loads((report_dir / "results.json").read_text())
    assert results["verdict"] == "conformant" and results["options"]["mode"] == "fuzz"
    assert {s["outcome"] for s in results["scenarios"]} <= {"passed", "skipped"}
    assert (report_dir / "junit.xml").is_file() and (report_dir / "statement.html").is_file()
    assert "seed 20251126" in out.out and "cases/s" in out.out
    assert "fuzz:" in out.err  # progress lines while it ran


FAULTS = {
    "malformed-json-500": {("no_server_error", "phoneNumberVerify"), ("negative_data_rejected", "phoneNumberVerify")},
    "number-without-plus-200": {("negative_data_rejected", "phoneNumberVerify")},
    "x-correlator-not-echoed": {("x_correlator_echo", "phoneNumberVerify"), ("x_correlator_echo", "phoneNumberShare")},
    "wrong-401-code": {("error_body", "phoneNumberVerify"), ("error_body", "phoneNumberShare")},
    "no-token-200": {("missing_token_rejected", "phoneNumberVerify"), ("missing_token_rejected", "phoneNumberShare")},
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_is_found_with_a_reproduction(fault):
    expected = FAULTS[fault]
    # stops as soon as the expected number of findings is reached; the duration is only an upper bound
    options = FuzzOptions(duration_s=20, max_failures=len(expected))
    with open_target(load_config(None, api_version="vwip"), fault=fault) as target:
        outcome = run_fuzz(fuzz_target(target), options)
    found = {(f.check, f.operation_id) for f in outcome.findings.sorted_findings()}
    assert found == expected, [(f.check, f.operation_id, f.problem) for f in outcome.findings.sorted_findings()]
    for finding in outcome.findings.sorted_findings():
        command = finding.example.reproduce
        assert command.startswith("curl ") and "eyJ" not in command
        if "Authorization" in command:
            assert "Bearer $ACCESS_TOKEN" in command
        assert "+447700900001" not in command
    run = to_run_result(outcome)
    assert run.verdict.value == "not conformant" and run.exit_code == 1
    failed = [s for s in run.scenarios if s.outcome.value == "failed"]
    assert {(s.tags[2], s.tags[3]) for s in failed} == expected
    assert all(s.exchanges and s.exchanges[0].reproduce for s in failed)




def test_a_provider_reading_any_media_type_as_json_gets_a_warning_and_no_finding():
    """The benign variant serves a JSON body sent as text/plain (200): no CAMARA text forbids it."""
    with open_target(load_config(None, api_version="vwip"), fault="any-media-type-json-body") as target:
        outcome = run_fuzz(fuzz_target(target), FuzzOptions(duration_s=REFERENCE_SECONDS))
    assert outcome.findings.finding_count == 0, [(f.check, f.problem) for f in outcome.findings.sorted_findings()]
    warnings = outcome.findings.sorted_warnings()
    assert [w.check for w in warnings] == ["other_media_type_refused"] and "text/plain" in warnings[0].problem
    run = to_run_result(outcome)
    assert run.verdict.value == "conformant" and run.exit_code == 0
    (warned,) = [s for s in run.scenarios if s.outcome.value == "warning"]
    assert warned.warnings and warned.clauses[0].startswith("contract: requestBody content is application/json")


@pytest.mark.parametrize("version", ["v1.0.0", "vwip"])
def test_the_reference_is_clean_against_the_official_contract(version):
    spec = OFFICIAL / version / "number-verification.yaml"
    if not spec.is_file():
        pytest.skip("the official CAMARA files are not on this machine")
    with open_target(load_config(None, api_version=version, spec=spec)) as target:
        outcome = run_fuzz(fuzz_target(target), FuzzOptions(duration_s=3))
    assert outcome.stats.cases > 20 and not outcome.run_problems
    assert not outcome.findings.findings, [(f.check, f.operation_id, f.problem) for f in outcome.findings.sorted_findings()]
