"""A fuzz run in the same report formats as ``nv-conformance run``, plus a fuzz-specific JSON section.

One ScenarioResult per (CAMARA check, operation): failed when the check found something (with the
simplest failing request and a curl command that repeats it, token as ``$ACCESS_TOKEN``), a warning
when an advisory check did, passed when it applied and held, skipped (not mandatory) when no
response gave it anything to judge. A run-level scenario fails when the token layer was broken
(most requests got 401), and is an error when the tester's side failed (no answer, tokens refused).
An interrupted run says so (``aborted``, ``signal``): never conformant.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import KitError
from ..redact import redact, redact_json
from ..results import CheckRecord, Outcome, RunResult, ScenarioResult
from .checks import CAMARA_CHECKS
from .findings import Finding
from .runner import BROKEN_TOKEN_RATIO, FuzzOutcome

FEATURE = "Contract fuzzing (schemathesis)"
FUZZ_FILE = "fuzz.json"
FUZZ_FORMAT = "nv-conformance-fuzz/1"


def fuzz_section(outcome: FuzzOutcome) -> dict[str, Any]:
    """The figures a reader of a fuzz report wants first."""
    s = outcome.stats
    o = outcome.options
    return {
        "seed": o.seed,
        "max_examples": o.max_examples,
        "duration_limit_s": o.duration_s,
        "rate_limit_per_s": o.rate,
        "max_failures": o.max_failures,
        "operations": list(outcome.operations),
        "contract": outcome.contract_source,
        "cases": s.cases,
        "elapsed_s": round(s.elapsed_s, 2),
        "cases_per_s": round(s.cases_per_s, 1),
        "active_window_s": round(s.active_window_s, 2),  # first to last response (no start-up, no wind-down)
        "server_errors_5xx": s.server_errors,
        "authenticated_requests": s.authenticated,
        "authenticated_401": s.authenticated_401,
        "ratio_401": round(s.ratio_401, 4),
        "valid_requests_with_token": s.valid_authenticated,
        "valid_request_statuses": {str(k): v for k, v in sorted(s.valid_statuses.items())},
        "rate_limited_429": s.rate_limited,
        "no_token_probes": s.no_token_probes,
        "requests_without_answer": s.no_answer,
        "responses_not_judged": s.unjudged,
        "tokens_issued": outcome.tokens_issued,
        "tokens_repeated": outcome.tokens_repeated,
        "token_errors": outcome.token_errors,
        "statuses": {str(k): v for k, v in sorted(s.statuses.items())},
        "phases": dict(s.phases),
        "request_kinds": dict(s.request_kinds),
        "stop_reason": s.stop_reason,
        "findings": outcome.findings.finding_count,
        "warnings": len(outcome.findings.sorted_warnings()),
        "run_problems": list(outcome.run_problems),
        "environment_problems": list(outcome.environment_problems),
        "interrupted": outcome.interrupted,
        "engine_errors": list(s.errors),
    }


def to_run_result(outcome: FuzzOutcome, declared_options: dict[str, Any] | None = None) -> RunResult:
    options = dict(declared_options or {})
    options["mode"] = "fuzz"
    options["fuzz"] = fuzz_section(outcome)
    run = RunResult(
        target=outcome.target_label,
        api_version=outcome.api_version,
        kit_version=__version__,
        git_commit="",
        started_at=outcome.started_at,
        finished_at=outcome.finished_at,
        options=options,
    )
    if outcome.interrupted:
        run.aborted = f"{outcome.interrupted}: the fuzz run stopped before its examples or --duration ran out"
        run.signal = outcome.signal
    run.scenarios.append(_health_scenario(outcome))
    findings = outcome.findings
    for check in CAMARA_CHECKS:
        for operation in outcome.operations:
            key = (check.name, operation)
            applied = findings.applied.get(key, 0)
            failed = findings.failed.get(key, 0)
            finding = findings.findings.get(key)
            if finding is not None:
                outcome_value = Outcome.WARNING if check.advisory else Outcome.FAILED
                reason = f"{finding.problem} ({failed} of {applied} responses)"
            elif applied:
                outcome_value, reason = Outcome.PASSED, ""
            else:
                outcome_value, reason = Outcome.SKIPPED, "no response in this run gave the check anything to judge"
            run.scenarios.append(ScenarioResult(
                feature=FEATURE,
                name=f"{operation}: {check.description}",
                tags=[f"fuzz_{check.name}_{operation}", "fuzz", check.name, operation],
                outcome=outcome_value,
                clauses=[check.clause],
                reason=redact(reason),
                mandatory=applied > 0 and not check.advisory,
                duration_s=0.0,
                checks=[CheckRecord(
                    description=f"{check.description} ({applied} responses judged, {failed} failed)",
                    clause=check.clause,
                    passed=finding is None,
                    detail=redact(finding.problem) if finding else "",
                    advisory=check.advisory,
                )],
                exchanges=[finding.example] if finding else [],
                location=f"fuzz:{check.name}:{operation}",
            ))
    return run


def _health_scenario(outcome: FuzzOutcome) -> ScenarioResult:
    s = outcome.stats
    detail = (f"{s.cases} cases in {s.elapsed_s:.1f} s ({s.cases_per_s:.1f}/s), "
              f"{s.authenticated_401} of {s.authenticated} authenticated requests got 401, "
              f"{outcome.tokens_issued} fresh tokens")
    failed = bool(outcome.run_problems)
    environment = bool(outcome.environment_problems)
    if failed:
        result = Outcome.FAILED
    elif environment:
        result = Outcome.ERROR  # the tester's side: no answer at all, tokens refused
    elif outcome.interrupted and not outcome.stats.authenticated:
        result = Outcome.SKIPPED
    else:
        result = Outcome.PASSED
    return ScenarioResult(
        feature=FEATURE,
        name="the run tested something: fresh tokens accepted, requests answered",
        tags=["fuzz_run_health", "fuzz"],
        outcome=result,
        clauses=["kit: a fuzz run where most requests got 401 proves nothing (single-use tokens)"],
        reason=redact("; ".join([*outcome.run_problems, *outcome.environment_problems]) or
                      (outcome.interrupted if result == Outcome.SKIPPED else "")),
        checks=[CheckRecord(
            description=f"at most {BROKEN_TOKEN_RATIO:.0%} of authenticated requests get 401",
            clause="kit: fresh token per request",
            passed=not (failed or environment),
            detail=redact(detail),
        )],
        duration_s=s.elapsed_s,
        location="fuzz:run",
    )


def _finding_entry(f: Finding) -> dict[str, Any]:
    """A finding or warning as ``fuzz.json`` lists it."""
    return {"check": f.check, "operation": f.operation_id, "problem": redact(f.problem),
            "occurrences": f.occurrences, "status": f.example.status, "reproduce": f.example.reproduce}


def write_fuzz_reports(outcome: FuzzOutcome, run: RunResult, report_dir: Path | str) -> list[Path]:
    """The shared reports (JUnit, JSON, HTML) plus ``fuzz.json`` with the fuzz section and every finding."""
    from ..report import write_reports

    report_dir = Path(report_dir)
    paths = write_reports(run, report_dir)
    document = {
        "format": FUZZ_FORMAT,
        "target": redact(outcome.target_label),
        "api_version": outcome.api_version,
        "started_at": outcome.started_at,
        "finished_at": outcome.finished_at,
        "fuzz": redact_json(fuzz_section(outcome)),
        "findings": [_finding_entry(f) for f in outcome.findings.sorted_findings()],
        "warnings": [_finding_entry(f) for f in outcome.findings.sorted_warnings()],
    }
    path = report_dir / FUZZ_FILE
    try:
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise KitError(f"cannot write {path}: {exc.strerror or exc}") from None
    return [*paths, path]
