"""JUnit XML for CI consumers: one testsuite per feature, one testcase per scenario.

Failed scenarios are ``<failure>``; skipped ones ``<skipped>``. A defective test definition
is also ``<skipped>`` (it says nothing about the target and does not fail the run), with its
reason prefixed ``defective:``. Undefined steps fail the run, so they are an ``<error>`` case.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from ..results import Outcome, RunResult, ScenarioResult
from .provenance import scenario_command
from .text import clauses_of, exchange_request, exchange_response, location_of, one_line, safe


def write_junit(run: RunResult, path: Path) -> Path:
    root = build_junit(run)
    ET.indent(root)
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
    return path


def build_junit(run: RunResult) -> ET.Element:
    by_feature: dict[str, list[ScenarioResult]] = defaultdict(list)
    for scenario in run.scenarios:
        by_feature[scenario.feature].append(scenario)

    root = ET.Element("testsuites", name=f"nv-conformance {run.api_version}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for feature, scenarios in by_feature.items():
        suite = _suite(run, feature, scenarios)
        root.append(suite)
        for key in ("tests", "failures", "errors", "skipped"):
            totals[key] += int(suite.get(key, "0"))
        totals["time"] += float(suite.get("time", "0"))
    if run.undefined_steps:
        suite = ET.SubElement(root, "testsuite", name="undefined steps", tests="1", failures="0", errors="1",
                              skipped="0", time="0")
        case = ET.SubElement(suite, "testcase", classname="nv-conformance", name="all steps are defined", time="0")
        error = ET.SubElement(case, "error", type="UndefinedStep",
                              message=one_line(f"{len(run.undefined_steps)} undefined step(s)"))
        error.text = "\n".join(safe(step) for step in run.undefined_steps)
        totals["tests"] += 1
        totals["errors"] += 1
    for key, value in totals.items():
        root.set(key, f"{value:.3f}" if key == "time" else str(value))
    return root


def _suite(run: RunResult, feature: str, scenarios: list[ScenarioResult]) -> ET.Element:
    failures = sum(1 for s in scenarios if s.outcome == Outcome.FAILED)
    errors = sum(1 for s in scenarios if s.outcome == Outcome.ERROR)
    skipped = sum(1 for s in scenarios if s.outcome in (Outcome.SKIPPED, Outcome.NOT_APPLICABLE, Outcome.DEFECTIVE))
    suite = ET.Element(
        "testsuite", name=safe(feature), tests=str(len(scenarios)), failures=str(failures), errors=str(errors),
        skipped=str(skipped), time=f"{sum(s.duration_s for s in scenarios):.3f}", timestamp=safe(run.started_at),
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("target", run.target), ("api_version", run.api_version), ("kit_version", run.kit_version),
        ("git_commit", run.git_commit), ("verdict", run.verdict.value), *([("aborted", run.aborted)] if run.aborted else []),
    ):
        ET.SubElement(properties, "property", name=name, value=safe(value))
    for scenario in scenarios:
        suite.append(_case(run, scenario))
    return suite


def _case(run: RunResult, scenario: ScenarioResult) -> ET.Element:
    attributes = {
        "classname": safe(scenario.feature),
        "name": safe(f"{scenario.scenario_id}: {scenario.name}" if scenario.scenario_id != scenario.name else scenario.name),
        "time": f"{scenario.duration_s:.3f}",
    }
    location = location_of(scenario)
    if location:
        file, _, line = location.rpartition(":")
        attributes["file"] = file or location
        if line.isdigit():
            attributes["line"] = line
    case = ET.Element("testcase", attributes)
    if scenario.outcome == Outcome.FAILED:
        failure = ET.SubElement(case, "failure", type="NonConformance", message=one_line(scenario.reason or "failed", 500))
        failure.text = _failure_detail(run, scenario)
    elif scenario.outcome == Outcome.ERROR:
        error = ET.SubElement(case, "error", type="TesterError", message=one_line(scenario.reason or "error", 500))
        error.text = safe(scenario.reason)
    elif scenario.outcome == Outcome.SKIPPED:
        ET.SubElement(case, "skipped", message=one_line(scenario.reason or "skipped", 500))
    elif scenario.outcome == Outcome.NOT_APPLICABLE:
        ET.SubElement(case, "skipped", message=one_line(f"not applicable: {scenario.reason}", 500))
    elif scenario.outcome == Outcome.DEFECTIVE:
        ET.SubElement(case, "skipped", message=one_line(f"defective: {scenario.reason}", 500))
    return case


def _failure_detail(run: RunResult, scenario: ScenarioResult) -> str:
    parts = [safe(scenario.reason)]
    if clauses_of(scenario):
        parts.append("Clauses: " + "; ".join(safe(c) for c in clauses_of(scenario)))
    failed_checks = [c for c in scenario.checks if not c.passed]
    for check in failed_checks:
        parts.append(f"FAILED CHECK: {safe(check.description)} [{safe(check.clause)}] {safe(check.detail)}".rstrip())
    if scenario.exchanges:
        last = scenario.exchanges[-1]
        parts += ["Request:", exchange_request(last), "Response:", exchange_response(last)]
        if last.reproduce:
            parts += ["Reproduce the request:", safe(last.reproduce)]
    parts += ["Reproduce the scenario:", scenario_command(run, scenario)]
    return "\n".join(parts)
