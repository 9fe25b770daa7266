"""``nv-conformance run``: run the conformance features against a target (the embedded reference by default).

behave runs in this process with the kit's own steps and hooks given as absolute paths, so any
directory of ``.feature`` files works (the kit's, or CAMARA's official ones) without a ``steps/``
beside it. behave's own output is silenced (``null`` formatter, no summary, no JUnit): the hooks
print progress through :class:`nv_conformance.report.progress.ProgressPrinter` and write the
reports themselves. The exit code comes from the finished ``RunResult``: 0 only when nothing failed.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from ..errors import ConfigError, KitError
from ..resources import environment_file, features_dir, steps_dir
from ..results import Outcome, RunResult
from .bundle import add_sign_key_option, bundle_path, make_bundle
from .paths import existing_file, features_path, writable_dir

DEFAULT_REPORT_DIR = "reports"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="TARGET.yaml",
                        help="target config (API root, version, test numbers, tokens, TLS); "
                             "default: start the embedded reference provider on a free loopback port")
    parser.add_argument("--api-version", metavar="VERSION",
                        help="API version to test: v1.0.0, v2.0.0, v2.1.0 or vwip (overrides the config)")
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
    parser.add_argument("--quiet", action="store_true",
                        help="no per-scenario progress; print only the verdict line")


def main(args: argparse.Namespace) -> int:
    from ..config import load_config  # here, not at import: the CLI imports every command to build its parser

    # Validate everything the user typed before starting anything: one clear line per problem.
    config_path = existing_file(args.config, "--config") if args.config else None
    spec = existing_file(args.spec, "--spec") if args.spec else None
    target = load_config(config_path, api_version=args.api_version, spec=spec)
    if not target.embedded:
        _check_tokens_section(target)
    features = features_path(args.features) if args.features else features_dir()
    report_dir = None if args.no_reports else writable_dir(args.report_dir, "--report-dir")
    bundle = bundle_path(args.bundle, "--bundle") if args.bundle else None
    if bundle and report_dir is None:
        raise ConfigError("--bundle", "needs the reports it packs: drop --no-reports")
    if bundle:
        from ..evidence.signing import load_signing_key

        load_signing_key(args.sign_key)  # a bad key is reported now, not after the whole run

    userdata = {"progress": "off" if args.quiet else "on"}
    if config_path:
        userdata["config"] = str(config_path)
    if args.api_version:
        userdata["api_version"] = target.api_version
    if spec:
        userdata["spec"] = str(spec)
    if report_dir:
        userdata["report_dir"] = str(report_dir)
    if args.features:
        userdata["features"] = str(features)
    if args.tags:
        userdata["tags"] = "\n".join(args.tags)

    run = run_behave_in_process(features, tags=args.tags, names=args.name, userdata=userdata)
    if run.aborted:
        unbundled = "; no bundle written" if bundle else ""
        print(f"nv-conformance run: {run.aborted}; verdict {run.verdict.value} (incomplete run){unbundled}",
              file=sys.stderr)
        return 130 if run.aborted.startswith("interrupted") else max(run.exit_code, 1)
    if not run.scenarios:
        # A selection that matches nothing must not look like a clean run to CI (exit 0).
        raise KitError("no scenario matched the selection (--tags, --name, --features): nothing was tested")
    if args.quiet:
        totals = ", ".join(f"{run.count(outcome)} {outcome.value}" for outcome in Outcome)
        where = f"; reports in {report_dir}" if report_dir else ""
        print(f"verdict: {run.verdict.value} ({totals}){where}")
    if bundle and report_dir:
        make_bundle(report_dir, bundle, args.sign_key)
    return run.exit_code


def run_behave_in_process(features: Path, *, tags: list[str], names: list[str], userdata: dict[str, str]) -> RunResult:
    """Run behave here (not in a subprocess) and return the ``RunResult`` the hooks left behind."""
    from behave.configuration import Configuration
    from behave.parser import ParserError
    from behave.runner import Runner

    from ..bdd import session

    command = [str(features), "--format", "null", "--no-summary", "--no-junit", "--no-snippets",
               "--no-color", "--no-skipped"]
    for expression in tags:
        command += ["--tags", expression]
    for name in names:
        command += ["--name", name]
    for key, value in userdata.items():
        command += ["-D", f"{key}={value}"]
    config = _behave_configuration(Configuration, command)
    # Absolute paths: the features directory need not have steps/ or environment.py beside it.
    config.steps_dir = str(steps_dir())
    config.environment_file = str(environment_file())

    session.LAST_RUN = None
    _forget_step_definitions()
    runner = Runner(config)
    try:
        runner.run()
    except ParserError as exc:
        raise KitError(f"cannot parse a feature file: {_one_line(exc)}") from None
    except KitError:
        raise
    except Exception as exc:  # behave's own ConfigError, missing files, ...
        if type(exc).__module__.startswith("behave"):
            raise KitError(f"behave: {_first_line(exc)}") from None
        raise
    run = session.LAST_RUN
    if run is None:
        raise KitError("the run ended before the hooks recorded any result (see the messages above)")
    if runner.aborted and not run.aborted:
        # behave stops on Ctrl-C but still runs after_all: the reports cover only what ran.
        run.aborted = "interrupted: not every scenario ran"
        if userdata.get("report_dir"):
            from ..report import write_reports

            write_reports(run, Path(userdata["report_dir"]))
    return run


def _forget_step_definitions() -> None:
    """Empty behave's step registry so a second run in one process does not find every step defined twice.

    (behave's own ``reset_runtime`` swaps in a new registry object, but the step decorators and
    the Runner keep the one bound at import time, so that object is cleared in place instead.)
    """
    from behave import runner
    from behave.matchers import get_step_matcher_factory

    runner.the_step_registry.clear()
    get_step_matcher_factory().reset()


def _behave_configuration(configuration_class, command: list[str]):
    """behave's Configuration without reading any behave config file of the current directory.

    behave reports bad options on stderr and exits (argparse); those are our own options, so
    that can only be a bad --tags expression, which we turn into one line.
    """
    stderr = sys.stderr
    sys.stderr = captured = io.StringIO()
    try:
        return configuration_class(command_args=command, load_config=False)
    except SystemExit:
        message = captured.getvalue().strip().splitlines()
        raise ConfigError("--tags", message[-1] if message else "behave rejected the options") from None
    except Exception as exc:  # e.g. a tag-expression parse error
        raise ConfigError("--tags", _first_line(exc)) from None
    finally:
        sys.stderr = stderr


def _check_tokens_section(target) -> None:
    """The token layer validates its own section without network access: do it now, before behave starts."""
    from ..tokens import build_token_provider

    build_token_provider(dict(target.tokens), http=target.http, kit=dict(target.kit) if target.kit else None).close()


def _one_line(exc: BaseException) -> str:
    """All of the message on one line (behave puts the parse failure itself on the second), redacted:
    it quotes the offending line of the feature file, which may hold a phone number."""
    from ..redact import redact

    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
    return redact(text)[:300]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
