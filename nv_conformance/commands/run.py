"""``nv-conformance run``: run the conformance features against a target (the embedded reference by default).

The config is validated and the target built (embedded reference started, token layer checked)
before behave starts; behave then runs in this process on that target
(:func:`nv_conformance.bdd.runner.run_features`). Against a live target a pre-flight comes first
(:mod:`nv_conformance.preflight`): a tester-side problem is one line and exit 3, no scenario run.
The exit code comes from the finished ``RunResult`` (see ``EXIT_CODES``).
"""

from __future__ import annotations

import argparse
import sys

from ..errors import ConfigError, KitError
from ..interrupt import stop_on_signals
from ..profiles import default_version, versions_text
from ..report.console import closed_pipe_is_quiet
from ..report.progress import ProgressPrinter
from ..resources import features_dir
from ..results import Outcome
from .bundle import add_sign_key_option, bundle_path, make_bundle
from .paths import existing_file, features_path, writable_dir
from .startup import add_color_option, preflight_exit

LIVE_DEFAULT_JOBS = 16  # scenarios at a time against a --config target: most of them wait for their token
MAX_JOBS = 64

DEFAULT_REPORT_DIR = "reports"

EXIT_CODES = """exit codes:
  0    conformant, or selection passed (a --tags/--name selection whose scenarios held)
  1    not conformant, or selection failed
  2    usage or config error (one line naming the setting)
  3    inconclusive: errors on the tester's side (pre-flight failed, unreachable target, token refused), nothing failed
  4    partial: mandatory scenarios not carried out (--allow-partial makes this 0)
  130  stopped by SIGINT (Ctrl-C); reports of what ran are written
  143  stopped by SIGTERM (CI cancellation, timeout, container stop); reports of what ran are written"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="TARGET.yaml",
                        help="target config (API root, version, test numbers, tokens, TLS); "
                             "default: start the embedded reference provider on a free loopback port")
    parser.add_argument("--api-version", metavar="VERSION",
                        help=f"API version to test: {versions_text()} (overrides the config; "
                             f"default {default_version()})")
    parser.add_argument("--tags", metavar="EXPR", action="append", default=[],
                        help="behave tag expression selecting scenarios, e.g. 'not @slow' (repeatable: all must hold)")
    parser.add_argument("--name", metavar="REGEX", action="append", default=[],
                        help="run only scenarios whose name matches REGEX (repeatable)")
    parser.add_argument("--features", metavar="DIR",
                        help="directory (or .feature file) to run instead of the kit's own features")
    parser.add_argument("--spec", metavar="FILE",
                        help="check responses against this OpenAPI file instead of the kit's contract for the version")
    parser.add_argument("--report-dir", metavar="DIR", default=DEFAULT_REPORT_DIR,
                        help=f"where junit.xml, results.json and statement.html go (default: {DEFAULT_REPORT_DIR}/)")
    parser.add_argument("--no-reports", action="store_true", help="write no report files")
    parser.add_argument("--bundle", metavar="PATH",
                        help="also write a signed evidence bundle of the run (reports, inputs, manifest) to PATH")
    add_sign_key_option(parser)
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help=f"scenarios at a time, tokens fetched ahead (default: {LIVE_DEFAULT_JOBS} against a "
                             "--config target, 1 against the embedded reference; 1 = one after another, "
                             "nothing fetched ahead); results and reports are the same either way")
    parser.add_argument("--rate", type=float, default=None, metavar="PER_SECOND",
                        help="send at most this many requests per second (API and token requests; "
                             "with --jobs above 1)")
    parser.add_argument("--quiet", action="store_true",
                        help="no per-scenario progress; print the verdict line and every failure, error and warning")
    add_color_option(parser)
    parser.add_argument("--list", action="store_true",
                        help="print the scenarios the selection (--tags, --name, --features) would run, "
                             "with their ids, and exit without running them")
    parser.add_argument("--allow-partial", action="store_true",
                        help="exit 0 for a partial verdict (mandatory scenarios skipped for missing inputs)")
    parser.add_argument("--no-preflight", action="store_true",
                        help="skip the pre-flight (API root, discovery, tokens, base path) before the first scenario")
    parser.epilog = EXIT_CODES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def main(args: argparse.Namespace) -> int:
    # here, not at import: the CLI imports every command to build its parser
    from ..bdd.runner import run_features
    from ..config import load_config
    from ..target import open_target

    if args.list:
        return list_selection(args)
    # Validate everything the user typed before starting anything: one clear line per problem.
    config_path = existing_file(args.config, "--config") if args.config else None
    spec = existing_file(args.spec, "--spec") if args.spec else None
    config = load_config(config_path, api_version=args.api_version, spec=spec)
    features = features_path(args.features) if args.features else features_dir()
    if args.jobs is not None and not 1 <= args.jobs <= MAX_JOBS:
        raise ConfigError("--jobs", f"must be between 1 and {MAX_JOBS}")
    if args.rate is not None and not (args.rate > 0 and args.rate < float("inf")):
        raise ConfigError("--rate", "must be a positive number of requests per second")
    jobs = args.jobs if args.jobs is not None else (1 if config.embedded else LIVE_DEFAULT_JOBS)
    report_dir = None if args.no_reports else writable_dir(args.report_dir, "--report-dir")
    bundle = bundle_path(args.bundle, "--bundle") if args.bundle else None
    if bundle and report_dir is None:
        raise ConfigError("--bundle", "needs the reports it packs: drop --no-reports")
    if bundle:
        from ..evidence.signing import load_signing_key

        load_signing_key(args.sign_key)  # a bad key is reported now, not after the whole run

    options: dict[str, object] = {}
    if args.features:
        options["features"] = str(features)
    if args.tags:
        options["tags"] = list(args.tags)

    with stop_on_signals() as stop, open_target(config) as target:  # token layer validated, reference started
        if not args.no_preflight and (code := preflight_exit("run", target, stop, "no scenario was run")) is not None:
            return code
        run = run_features(features, target=target, tags=args.tags, names=args.name, report_dir=report_dir,
                           progress=not args.quiet, options=options, color=args.color, jobs=jobs, rate=args.rate)
    if run.aborted:
        if stop.number and not run.signal:
            run.signal = stop.number
        unbundled = "; no bundle written" if bundle else ""
        never = f"; {len(run.not_run)} scenario(s) never ran: {', '.join(run.not_run[:10])}" if run.not_run else ""
        more = " ..." if len(run.not_run) > 10 else ""
        print(f"nv-conformance run: {run.aborted}; verdict {run.verdict.value} (incomplete run){never}{more}{unbundled}",
              file=sys.stderr)
        return run.exit_status() if run.signal else 130 if run.aborted.startswith("interrupted") else max(run.exit_code, 1)
    if not run.scenarios:
        # A selection that matches nothing must not look like a clean run to CI (exit 0).
        raise KitError("no scenario matched the selection (--tags, --name, --features): nothing was tested")
    if args.quiet:
        totals = ", ".join(f"{run.count(outcome)} {outcome.value}" for outcome in Outcome)
        where = f"; reports in {report_dir}" if report_dir else ""
        scope = f", {run.selection.selected} of {run.selection.total} scenarios run" if run.selection else ""
        with closed_pipe_is_quiet(sys.stdout):
            printer = ProgressPrinter(sys.stdout, color=args.color)
            printer.problems(run)  # quiet, but what failed is still named
            print(f"verdict: {run.verdict.value}{scope} ({totals}){where}", flush=True)
    if bundle and report_dir:
        make_bundle(report_dir, bundle, args.sign_key)
    return run.exit_status(allow_partial=args.allow_partial)


def list_selection(args: argparse.Namespace) -> int:
    """``--list``: the scenarios the selection would run (id, name, file:line), and how many of the suite's."""
    from ..bdd.runner import list_scenarios

    features = features_path(args.features) if args.features else features_dir()
    selected = list_scenarios(features, tags=args.tags, names=args.name)
    total = len(list_scenarios(features))
    with closed_pipe_is_quiet(sys.stdout):
        for scenario in selected:
            print(f"{scenario.id}  {scenario.name}  ({scenario.location})")
        print(f"{len(selected)} of {total} scenarios selected; nothing was run "
              "(scenarios a version does not apply to are found out when they run)", flush=True)
    return 0
