"""The sentences of the Commonalities 0.9.0 testing templates, in the kit's own feature file, against the reference.

Every sentence FACTS lists for the 0.9.0 templates (with the variants real files use) must be
defined; array-body and 429-threshold sentences are recognised and not applicable; a rule the
kit cannot evaluate makes its scenario defective, never passed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nv_conformance.bdd.runner import run_features as run_behave_in_process
from nv_conformance.results import Outcome

FEATURES = Path(__file__).parent / "commonalities_0_9_0"

# The 0.9.0 sentences (and the variants of real files) the file must use, each at least once.
SENTENCES = [
    r'the header "Authorization" is not sent',
    r'the header "Authorization" is removed',
    r'has the same value as the request header "x-correlator"',
    r'has same value as the request header "x-correlator"',
    r"the request body is set to \{\}$",
    r'the request body is set to "\{\}"',
    r'the request body property "[^"]+" is set to \{\}',
    r'the request body property "[^"]+" is not included',
    r'the header "x-correlator" does not comply with the schema at "#/components/schemas/XCorrelator"',
    r'the request body is included but is not compliant with the schema at "#/',
    r'the request body is compliant with the schema at "/components',
    r'the request body is set by default to a request body compliant with the schema at "#/',
    r'matches the rule: (?:==|is greater than or equal to|\$\.status <)',
    r'matches the rule: matches (?:the regular expression )?"',
    r"matches the rule: (?:exists|is not empty|the value is not empty)",
    r'the response body is an array whose items comply with the OAS schema at "#/',
    r'the response body is an empty array "\[\]"',
    r'the response property "\$\.code" is "[A-Z_]+" OR "[A-Z_]+"',
    r'the header "Authorization" is set to an access token that does not include scope "[^"]+"',
    r"the threshold of requests has been reached",
    r'complies with the OAS schema at "/components',
]

NOT_APPLICABLE = {"cm090_13_array_items", "cm090_14_empty_array", "cm090_15_too_many_requests"}
DEFECTIVE = {"cm090_16_rule_not_evaluable": "cannot evaluate the rule"}


def _scenario_id(scenario) -> str:
    return next((t for t in scenario.tags if t.startswith("cm090_")), scenario.name)


def test_the_feature_file_uses_every_listed_sentence():
    text = "\n".join(line.strip() for line in (FEATURES / "nv_commonalities_0_9_0.feature").read_text().splitlines())
    missing = [s for s in SENTENCES if not re.search(s, text, re.MULTILINE)]
    assert missing == []


@pytest.mark.slow
def test_the_commonalities_0_9_0_sentences_run_against_the_reference():
    run = run_behave_in_process(FEATURES, tags=[], names=[], userdata={"progress": "off", "api_version": "v2.1.1"})
    assert run.undefined_steps == []
    outcomes = {_scenario_id(s): s for s in run.scenarios}
    assert len(outcomes) == 16
    for scenario_id, scenario in outcomes.items():
        if scenario_id in NOT_APPLICABLE:
            assert scenario.outcome == Outcome.NOT_APPLICABLE, scenario_id
            assert "not applicable to the Number Verification API" in scenario.reason
        elif scenario_id in DEFECTIVE:
            assert scenario.outcome == Outcome.DEFECTIVE and DEFECTIVE[scenario_id] in scenario.reason
        else:
            assert scenario.outcome == Outcome.PASSED, (scenario_id, scenario.outcome, scenario.reason)
    passed_checks = [c.description for s in run.scenarios for c in s.checks if c.passed]
    assert any("matches the rule" in c for c in passed_checks)
