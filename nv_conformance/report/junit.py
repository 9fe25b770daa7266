"""JUnit XML for CI consumers: one testsuite per feature, one testcase per scenario.

Valid against the common JUnit schema (Surefire's junit-10.xsd, which CI servers read): a testcase
carries only ``name``, ``classname`` and ``time``, so the scenario's ``file:line`` goes into its
``<system-out>`` and the feature file onto the testsuite. ``classname`` is the feature file's name
without dots (CI servers split class names at dots into a package tree).

Failed scenarios are ``<failure>``; errors of the tester's side or the environment (and undefined
steps) ``<error>``; skipped, not applicable and defective ones ``<skipped>`` with their reason
prefixed. A warning passes, its broken advisory checks listed in ``<system-out>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from ..results import Outcome, RunResult, ScenarioResult, declared_implementation
from .provenance import scenario_command
from .scope import run_scope
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
    totals = {"tests": 0, "failures": 0, "errors": 0, "time": 0.0}
    for feature, scenarios in by_feature.items():
        suite = _suite(run, feature, scenarios)
        root.append(suite)
        for key in ("tests", "failures", "errors"):
            totals[key] += int(suite.get(key, "0"))
        totals["time"] += float(suite.get("time", "0"))
    if run.undefined_steps:
        suite = ET.SubElement(root, "testsuite", name="undefined steps", tests="1", failures="0", errors="1",
                              skipped="0", time="0")
        suite.append(_properties(run))
        case = ET.SubElement(suite, "testcase", classname="nv-conformance", name="all steps are defined", time="0")
        error = ET.SubElement(case, "error", type="UndefinedStep",
                              message=one_line(f"{len(run.undefined_steps)} undefined step(s)"))
        error.text = "\n".join(safe(step) for step in run.undefined_steps)
        totals["tests"] += 1
        totals["errors"] += 1
    for key, value in totals.items():
        root.set(key, f"{value:.3f}" if key == "time" else str(value))
    return root


def classname(scenario: ScenarioResult) -> str:
    """The feature file's name without its suffix and without dots (``phone_number_verify``)."""
    file = location_of(scenario).rpartition(":")[0] or scenario.location.rpartition(":")[0]
    stem = Path(file).name.removesuffix(".feature") if file else scenario.feature
    return re.sub(r"[^A-Za-z0-9_-]+", "_", safe(stem)).strip("_") or "feature"


def _properties(run: RunResult) -> ET.Element:
    properties = ET.Element("properties")
    declared = declared_implementation(run.options.get("implementation"))
    scope = run_scope(run)
    for name, value in (
        ("target", run.target), ("api_version", run.api_version), ("kit_version", run.kit_version),
        ("git_commit", run.git_commit), ("verdict", run.verdict.value), ("statement_id", run.statement_id),
        ("scope", scope.text),
        *((f"implementation.{k}", value) for k, value in declared.items()),
        *([("implementation", "not declared")] if not declared else []),
        *([("aborted", run.aborted)] if run.aborted else []),
    ):
        ET.SubElement(properties, "property", name=name, value=safe(value))
    return properties


def _suite(run: RunResult, feature: str, scenarios: list[ScenarioResult]) -> ET.Element:
    failures = sum(1 for s in scenarios if s.outcome == Outcome.FAILED)
    errors = sum(1 for s in scenarios if s.outcome == Outcome.ERROR)
    skipped = sum(1 for s in scenarios if s.outcome in (Outcome.SKIPPED, Outcome.NOT_APPLICABLE, Outcome.DEFECTIVE))
    attributes = {
        "name": safe(feature), "tests": str(len(scenarios)), "failures": str(failures), "errors": str(errors),
        "skipped": str(skipped), "time": f"{sum(s.duration_s for s in scenarios):.3f}", "timestamp": safe(run.started_at),
    }
    file = location_of(scenarios[0]).rpartition(":")[0] if scenarios else ""
    if file:
        attributes["file"] = file
    suite = ET.Element("testsuite", attributes)
    suite.append(_properties(run))
    for scenario in scenarios:
        suite.append(_case(run, scenario))
    return suite


def _case(run: RunResult, scenario: ScenarioResult) -> ET.Element:
    case = ET.Element("testcase", {
        "name": safe(f"{scenario.scenario_id}: {scenario.name}" if scenario.scenario_id != scenario.name else scenario.name),
        "classname": classname(scenario),
        "time": f"{scenario.duration_s:.3f}",
    })
    if scenario.outcome == Outcome.FAILED:
        failure = ET.SubElement(case, "failure", type="NonConformance", message=one_line(scenario.reason or "failed", 500))
        failure.text = _failure_detail(run, scenario)
    elif scenario.outcome == Outcome.ERROR:
        error = ET.SubElement(case, "error", type="TesterError", message=one_line(scenario.reason or "error", 500))
        error.text = _failure_detail(run, scenario)
    elif scenario.outcome == Outcome.SKIPPED:
        ET.SubElement(case, "skipped", message=one_line(scenario.reason or "skipped", 500))
    elif scenario.outcome == Outcome.NOT_APPLICABLE:
        ET.SubElement(case, "skipped", message=one_line(f"not applicable: {scenario.reason}", 500))
    elif scenario.outcome == Outcome.DEFECTIVE:
        ET.SubElement(case, "skipped", message=one_line(f"defective: {scenario.reason}", 500))
    out = [f"location: {location_of(scenario) or 'unknown'}", f"outcome: {scenario.outcome.value}"]
    out += [f"WARNING: {safe(c.description)}: {safe(c.detail)} [{safe(c.clause)}]" for c in scenario.warnings]
    ET.SubElement(case, "system-out").text = "\n".join(out)
    return case


def _failure_detail(run: RunResult, scenario: ScenarioResult) -> str:
    parts = [safe(scenario.reason), f"Location: {location_of(scenario) or 'unknown'}"]
    if clauses_of(scenario):
        parts.append("Clauses: " + "; ".join(safe(c) for c in clauses_of(scenario)))
    failed_checks = [c for c in scenario.checks if not c.passed and not c.advisory]
    for check in failed_checks:
        parts.append(f"FAILED CHECK: {safe(check.description)} [{safe(check.clause)}] {safe(check.detail)}".rstrip())
    if scenario.exchanges:
        last = scenario.exchanges[-1]
        parts += ["Request:", exchange_request(last), "Response:", exchange_response(last)]
        if last.reproduce:
            parts += ["Reproduce the request:", safe(last.reproduce)]
    parts += ["Reproduce the scenario:", scenario_command(run, scenario)]
    return "\n".join(parts)
