"""Outcomes the hooks derive from behave: skipped, defective, undefined, clauses from comments."""

from __future__ import annotations

import pytest

from nv_conformance.bdd.runner import run_features as run_behave_in_process
from nv_conformance.results import Outcome

pytestmark = pytest.mark.slow

FEATURE = '''Feature: hook outcomes

  Background:
    Given the resource of the API version under test as base url
    And the header "Authorization" is set to a valid access token

  # clause: my clause one
  # an ordinary comment
  # clause: my clause two
  @t_01_passes
  Scenario: passes
    When the request "phoneNumberShare" is sent
    Then the response status code is 200

  @t_02_not_applicable
  Scenario: a gate skips, and an undefined step after it is still found
    Given the API version under test requires 400 INVALID_ARGUMENT for an invalid x-correlator
    And a sentence nobody ever defined
    When the request "phoneNumberShare" is sent
    Then the response status code is 400

  @t_03_no_when
  Scenario: no When step
    Then the response status code is 200

  @t_04_nothing_checked
  Scenario: nothing is asserted
    When the request "phoneNumberShare" is sent

  @t_04b_trailing_when
  Scenario: a When step after the last Then
    When the request "phoneNumberShare" is sent
    Then the response status code is 200
    When the request "phoneNumberShare" is sent

  @t_05_fails
  Scenario: a wrong expectation fails with a clear reason
    When the request "phoneNumberShare" is sent
    Then the response status code is 404

  @t_06_missing_pointer
  Scenario: a schema pointer that names nothing
    When the request "phoneNumberShare" is sent
    Then the response body complies with the OAS schema at "#/components/schemas/Nope"
'''


def test_hook_outcomes(tmp_path):
    (tmp_path / "hooks.feature").write_text(FEATURE)
    run = run_behave_in_process(tmp_path, tags=[], names=[], userdata={"progress": "off", "api_version": "v2.0.0"})
    by_id = {s.scenario_id: s for s in run.scenarios}
    assert by_id["t_01_passes"].outcome == Outcome.PASSED
    assert by_id["t_01_passes"].clauses == ["my clause one", "my clause two"]
    assert by_id["t_01_passes"].exchanges[0].status == 200

    gated = by_id["t_02_not_applicable"]
    assert gated.outcome == Outcome.DEFECTIVE and "a sentence nobody ever defined" in gated.reason
    assert run.undefined_steps == ["And a sentence nobody ever defined"]

    assert by_id["t_03_no_when"].outcome == Outcome.DEFECTIVE
    assert "no When step" in by_id["t_03_no_when"].reason
    assert by_id["t_04_nothing_checked"].outcome == Outcome.DEFECTIVE
    assert "asserts nothing" in by_id["t_04_nothing_checked"].reason

    assert by_id["t_04b_trailing_when"].outcome == Outcome.DEFECTIVE
    assert "followed by no assertion" in by_id["t_04b_trailing_when"].reason

    failed = by_id["t_05_fails"]
    assert failed.outcome == Outcome.FAILED
    assert "expected 404, got 200" in failed.reason and failed.reason.startswith("Then the response status code is 404")
    assert failed.checks[-1].passed is False

    assert by_id["t_06_missing_pointer"].outcome == Outcome.DEFECTIVE
    assert "#/components/schemas/Nope" in by_id["t_06_missing_pointer"].reason


def test_not_applicable_skips_are_not_mandatory_and_missing_inputs_are(tmp_path):
    (tmp_path / "gates.feature").write_text('''Feature: gates
  @g_01
  Scenario: not applicable on v2.0.0
    Given the API version under test requires 400 INVALID_ARGUMENT for an invalid x-correlator
    When the request "phoneNumberShare" is sent
    Then the response status code is 200
''')
    run = run_behave_in_process(tmp_path, tags=[], names=[], userdata={"progress": "off", "api_version": "v2.0.0"})
    (scenario,) = run.scenarios
    assert scenario.outcome == Outcome.NOT_APPLICABLE and not scenario.mandatory
    assert "v2.0.0" in scenario.reason


def test_a_malformed_jsonpath_is_a_defect_not_a_crash(tmp_path):
    (tmp_path / "paths.feature").write_text('''Feature: paths
  @p_01
  Scenario: malformed path
    Given the header "Authorization" is set to a valid access token
    When the request "phoneNumberShare" is sent
    Then the response property "$.[[" exists
''')
    run = run_behave_in_process(tmp_path, tags=[], names=[], userdata={"progress": "off"})
    (scenario,) = run.scenarios
    assert scenario.outcome == Outcome.DEFECTIVE and "not a valid JSONPath" in scenario.reason


def test_outline_examples_carry_the_clause_comments_above_the_outline(tmp_path):
    from behave.parser import parse_file

    from nv_conformance.bdd.hooks import scenario_clauses

    path = tmp_path / "outline.feature"
    path.write_text('''Feature: outline clauses

  # clause: the pattern of the outline
  @o_<id>
  Scenario Outline: case <id>
    When the request "phoneNumberShare" is sent

    Examples:
      | id |
      | 1  |
      | 2  |

  # clause: a plain one
  Scenario: plain
    When the request "phoneNumberShare" is sent
''')
    examples = list(parse_file(str(path)).walk_scenarios())
    assert [scenario_clauses(s) for s in examples] == [["the pattern of the outline"]] * 2 + [["a plain one"]]
