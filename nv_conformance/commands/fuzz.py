"""``nv-conformance fuzz``: schemathesis against the embedded reference (default) or a live target.

Safe for live URLs by default: only the two Number Verification operations, a fixed seed,
a bounded number of examples and a hard time limit, an optional request rate with backoff on 429.
Writes the same reports as ``run`` (JUnit, JSON, HTML) plus ``fuzz.json``; the verdict and exit
code follow the rules of ``run`` (0 only when no check failed and the run really tested something;
the pre-flight first; SIGINT/SIGTERM end the run with the reports of what ran and 130/143).
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ..config import load_config
from ..fuzz.report import to_run_result, write_fuzz_reports
from ..fuzz.runner import (
    DEFAULT_DURATION_S,
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_SEED,
    FuzzOptions,
    FuzzOutcome,
    run_fuzz,
)
from ..fuzz.target import fuzz_target
from ..interrupt import StopSignal, stop_on_signals
from ..profiles import default_version, versions_text
from ..redact import redact
from ..report.console import closed_pipe_is_quiet, make_console
from ..report.progress import LABELS, STYLES, VERDICT_STYLES
from ..results import Outcome, RunResult
from ..target import open_target
from .paths import existing_file, writable_dir
from .run import EXIT_CODES
from .startup import add_color_option, interrupted_exit, preflight_exit

DEFAULT_REPORT_DIR = "reports/fuzz"
LIVE_DEFAULT_RATE = 10.0  # requests/s against a --config target unless --rate says otherwise
NOTHING_FUZZED = "nothing was fuzzed"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="TARGET.yaml",
                        help="target config, same format as `run` (default: the embedded reference provider)")
    parser.add_argument("--api-version", metavar="VERSION",
                        help=f"API version to fuzz: {versions_text()} (overrides the config; default {default_version()})")
    parser.add_argument("--spec", metavar="FILE",
                        help="fuzz and check with this OpenAPI file instead of the kit's contract for the version")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"generation seed (default {DEFAULT_SEED})")
    parser.add_argument("--max-examples", type=int, default=DEFAULT_MAX_EXAMPLES,
                        help=f"examples per operation and phase (default {DEFAULT_MAX_EXAMPLES})")
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S, metavar="SECONDS",
                        help=f"hard time limit of the run (default {DEFAULT_DURATION_S:g})")
    parser.add_argument("--rate", type=float, default=None, metavar="PER_SECOND",
                        help=f"at most this many requests per second (default: {LIVE_DEFAULT_RATE:g} for a --config target, "
                             "unlimited for the embedded reference); 429s are waited out (Retry-After)")
    parser.add_argument("--max-failures", type=int, default=None, metavar="N",
                        help="stop after N distinct findings (check x operation)")
    parser.add_argument("--report-dir", metavar="DIR", default=DEFAULT_REPORT_DIR,
                        help=f"where junit.xml, results.json, statement.html and fuzz.json go (default {DEFAULT_REPORT_DIR}/)")
    parser.add_argument("--no-reports", action="store_true", help="write no report files")
    parser.add_argument("--no-mutations", action="store_true",
                        help="only schemathesis' own data, without the kit's CAMARA near-miss phone numbers")
    parser.add_argument("--fault", metavar="NAME",
                        help="fuzz a deliberately faulty variant of the embedded reference (see reference_impl/faults.py)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines; only the summary")
    add_color_option(parser)
    parser.add_argument("--allow-partial", action="store_true", help="exit 0 for a partial verdict")
    parser.add_argument("--no-preflight", action="store_true",
                        help="skip the pre-flight (API root, tokens, base path) before fuzzing")
    parser.epilog = EXIT_CODES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def main(args: argparse.Namespace) -> int:
    config_path = existing_file(args.config, "--config") if args.config else None
    spec = existing_file(args.spec, "--spec") if args.spec else None
    rate = args.rate if args.rate is not None or config_path is None else LIVE_DEFAULT_RATE
    options = FuzzOptions(
        seed=args.seed, max_examples=args.max_examples, duration_s=args.duration, rate=rate,
        max_failures=args.max_failures, mutations=not args.no_mutations,
    )
    options.validate()
    config = load_config(config_path, api_version=args.api_version, spec=spec)
    if config.embedded and args.rate is None:
        options = replace(options, rate=None)  # `embedded: true` in a file: still our own server
    report_dir = None if args.no_reports else writable_dir(args.report_dir, "--report-dir")
    progress = None if args.quiet else sys.stderr

    stop: StopSignal | None = None
    outcome: FuzzOutcome | None = None
    try:
        with stop_on_signals() as stop, open_target(config, fault=args.fault) as target:
            if args.quiet:  # the embedded server's "Invalid HTTP request received" for each malformed fuzz request
                logging.getLogger("uvicorn.error").setLevel(logging.ERROR)
            if not args.no_preflight and (code := preflight_exit("fuzz", target, stop, NOTHING_FUZZED)) is not None:
                return code
            outcome = run_fuzz(fuzz_target(target), options, progress=progress)  # handles a signal once fuzzing began
            declared = target.declared_options()
    except KeyboardInterrupt:  # not while fuzzing (run_fuzz reports that): the reference starting, the contract loading
        if outcome is None:
            return interrupted_exit("fuzz", stop, "during start-up", NOTHING_FUZZED)
        return interrupted_exit("fuzz", stop, "while the target closed", "the fuzzing had ended")
    if args.fault:
        declared["fault"] = args.fault
    run = to_run_result(outcome, declared)
    paths = write_fuzz_reports(outcome, run, report_dir) if report_dir else []

    print_summary(make_console(sys.stdout, args.color), outcome, run, options.seed, paths)
    return run.exit_status(allow_partial=args.allow_partial)



def print_summary(console: Console, outcome: FuzzOutcome, run: RunResult, seed: int, paths: list[Path]) -> None:
    """The verdict line, then every problem, finding (with its curl command) and warning, one line each."""
    s = outcome.stats
    warnings = outcome.findings.sorted_warnings()
    verdict = Text("fuzz verdict: ")
    verdict.append(run.verdict.value, style=VERDICT_STYLES.get(run.verdict, "bold"))
    verdict.append(f": {s.cases} cases in {s.elapsed_s:.1f} s ({s.cases_per_s:.1f} cases/s), "
                   f"seed {seed}, {outcome.findings.finding_count} finding(s), {len(warnings)} warning(s), "
                   f"5xx {s.server_errors}, 401 ratio {s.ratio_401:.1%}")
    lines: list[str | Text] = [_labelled("RUN FAILED", Outcome.FAILED, redact(f": {problem}"))
                               for problem in outcome.run_problems]
    lines += [_labelled("ERROR", Outcome.ERROR, redact(f" (tester side): {problem}"))
              for problem in outcome.environment_problems]
    lines += [redact(f"  engine: {error}") for error in s.errors[:3]]
    for finding in outcome.findings.sorted_findings():
        lines.append(_labelled(LABELS[Outcome.FAILED], Outcome.FAILED,
                               redact(f" {finding.check} [{finding.operation_id}] {finding.problem} (x{finding.occurrences})")))
        lines.append(f"       {finding.example.reproduce}")
    lines += [_labelled(LABELS[Outcome.WARNING], Outcome.WARNING,
                        redact(f" {warning.check} [{warning.operation_id}] {warning.problem} (x{warning.occurrences})"))
              for warning in warnings]
    if paths:
        lines.append("reports: " + ", ".join(str(p) for p in paths))
    with closed_pipe_is_quiet(sys.stdout):  # `fuzz | head` ends quietly; the exit code still says the verdict
        console.print(verdict, soft_wrap=True)
        if outcome.interrupted:
            print(f"  STOPPED: {outcome.interrupted}; the reports cover what ran", file=sys.stderr)
        for line in lines:
            console.print(line, soft_wrap=True)
        sys.stdout.flush()


def _labelled(label: str, outcome: Outcome, text: str) -> Text:
    line = Text("  ")
    line.append(label, style=STYLES[outcome])
    line.append(text)
    return line
