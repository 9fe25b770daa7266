"""The whole suite through behave: our features against the reference, and CAMARA's official files.

The official files are read from ../shared/camara when it exists (never copied into the kit);
otherwise those tests are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from camara_files import OFFICIAL

from nv_conformance.bdd.runner import run_features as run_behave_in_process
from nv_conformance.resources import features_dir
from nv_conformance.results import Outcome

# The documented defects of the official files (docs/suite.md, errata): scenario name -> reason fragment.
OFFICIAL_DEFECTS = {
    "Error when request body contains a property but it is neither phoneNumber nor hashedPhoneNumber": "no When step",
}
# With the official OpenAPI file as --spec, two more scenarios cite schemas that file does not define.
OFFICIAL_SPEC_DEFECTS = {
    **OFFICIAL_DEFECTS,
    "Response error when phoneNumber and hashedPhoneNumber are provided together in the request body":
        '"#/components/schemas/PhoneNumber" names nothing',
    "Phone number value does not comply with the schema": '"#/components/schemas/PhoneNumber" names nothing',
}

pytestmark = pytest.mark.slow


def run(features: Path, **userdata: str):
    return run_behave_in_process(features, tags=[], names=[], userdata={"progress": "off", **userdata})


def assert_only(run_result, defects: dict[str, str]) -> None:
    assert run_result.undefined_steps == []
    unexpected = [(s.name, s.outcome, s.reason) for s in run_result.scenarios
                  if s.outcome != Outcome.PASSED and s.name not in defects]
    assert unexpected == []
    for scenario in run_result.scenarios:
        if scenario.name in defects:
            assert scenario.outcome == Outcome.DEFECTIVE
            assert defects[scenario.name] in scenario.reason


@pytest.mark.parametrize("version", ["vwip", "v2.1.1", "v2.1.0", "v2.0.0"])
def test_our_features_pass_against_the_reference(version):
    result = run(features_dir(), api_version=version)
    assert result.undefined_steps == []
    assert result.count(Outcome.FAILED) == 0 and result.count(Outcome.DEFECTIVE) == 0
    skipped = [s for s in result.scenarios if s.outcome == Outcome.SKIPPED]
    assert all(not s.mandatory for s in skipped)  # only rules the version lacks
    assert result.count(Outcome.PASSED) >= 38
    if version in ("vwip", "v2.1.1"):  # every rule applies: strictness, lengths and token policy included
        assert skipped == []
    passed = [s for s in result.scenarios if s.outcome == Outcome.PASSED]
    assert all(s.checks and s.exchanges or "nv_token" in s.scenario_id for s in passed)
    # every exchange is reproducible and carries no token and no full phone number
    dumped = json.dumps(result.to_dict())
    assert "eyJ" not in dumped.replace("eyJ…(redacted)", "")
    assert "+447700900001" not in dumped


@pytest.mark.skipif(not OFFICIAL.is_dir(), reason="CAMARA's official files are not available here")
@pytest.mark.parametrize("version", ["v2.1.0", "vwip"])
def test_official_feature_files_run_unmodified(version):
    result = run(OFFICIAL / version, api_version=version)
    assert len(result.scenarios) == 22
    assert_only(result, OFFICIAL_DEFECTS)


@pytest.mark.skipif(not OFFICIAL.is_dir(), reason="CAMARA's official files are not available here")
def test_official_files_against_the_official_spec_report_missing_schemas_as_defects():
    result = run(OFFICIAL / "v2.1.0", api_version="v2.1.0", spec=str(OFFICIAL / "v2.1.0" / "number-verification.yaml"))
    assert_only(result, OFFICIAL_SPEC_DEFECTS)


# Each faulty reference variant must make the named scenarios of our features fail (not skip, not pass).
FAULT_FINDINGS = {
    "malformed-json-500": {"nv_verify_07_invalid_json"},
    "number-without-plus-200": {"nv_verify_12_1_without_plus"},
    "x-correlator-not-echoed": {"nv_share_01_success_returns_number_of_token", "nv_verify_01_plain_number_true"},
    "wrong-401-code": {"nv_share_04_no_authorization_header", "nv_verify_18_garbage_token"},
    "no-token-200": {"nv_share_04_no_authorization_header", "nv_verify_16_no_authorization_header"},
}


@pytest.mark.parametrize("fault", sorted(FAULT_FINDINGS))
def test_our_features_fail_a_faulty_reference(fault, tmp_path):
    from reference_impl.embedded import EmbeddedReference

    with EmbeddedReference(fault=fault) as reference:
        kit = tmp_path / "kit.json"
        kit.write_text(json.dumps(reference.kit))
        config = tmp_path / "target.yaml"
        config.write_text("kit: kit.json\napi_version: vwip\n")
        result = run(features_dir(), config=str(config))
    failed = {s.scenario_id: s for s in result.scenarios if s.outcome == Outcome.FAILED}
    assert FAULT_FINDINGS[fault] <= set(failed), sorted(failed)
    for scenario_id in FAULT_FINDINGS[fault]:
        reason = failed[scenario_id].reason
        assert "[clause:" in reason and "ASSERT FAILED" not in reason
        assert not any(c.passed for c in failed[scenario_id].checks[-1:])
