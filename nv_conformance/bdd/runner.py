"""Run behave in this process against a :class:`~nv_conformance.target.Target` and return the ``RunResult``.

behave runs with the kit's own steps and hooks given as absolute paths, so any directory of
``.feature`` files works (the kit's, or CAMARA's official ones) without a ``steps/`` beside
it. behave's own output is silenced (``null`` formatter, no summary, no JUnit): the hooks print
progress through :class:`nv_conformance.report.progress.ProgressPrinter` and write the reports.

The built target reaches the hooks as an object (:class:`RunRequest` in behave's userdata),
not as strings to parse again; only plain ``behave`` makes the hooks build one themselves.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, KitError
from ..redact import redact
from ..resources import environment_file, steps_dir
from ..results import RunResult
from ..target import Target
from . import session

REQUEST_KEY = "nv_run_request"  # behave userdata key of the RunRequest


@dataclass
class RunRequest:
    """What the hooks need for one run when the caller already built the target."""

    target: Target
    report_dir: Path | None = None
    progress: bool = True
    options: dict[str, Any] = field(default_factory=dict)  # shown in the reports beside the target's own
    color: str = "auto"  # progress colours: auto, always, never (--color)


def run_features(features: Path, *, target: Target | None = None, tags: Sequence[str] = (),
                 names: Sequence[str] = (), report_dir: Path | None = None, progress: bool = True,
                 options: dict[str, Any] | None = None, userdata: dict[str, str] | None = None,
                 color: str = "auto", jobs: int = 1, rate: float | None = None) -> RunResult:
    """Run ``features`` against ``target`` (the caller keeps and closes it).

    ``options`` are shown in the reports beside the target's declared settings (e.g. the
    feature selection the user asked for).

    Without a target the hooks build one from ``userdata`` as they do under plain ``behave``
    (``-D config=... -D api_version=...``).

    ``jobs`` > 1 runs that many scenarios at a time with tokens fetched ahead, ``rate`` caps the
    requests per second (bdd/parallel.py); the results and reports are those of a sequential run.
    """
    from .parallel import NO_CAPTURE, ConcurrentRunner

    command = [str(features), "--format", "null", "--no-summary", "--no-junit", "--no-snippets",
               "--no-color", "--no-skipped"]
    for expression in tags:
        command += ["--tags", expression]
    for name in names:
        command += ["--name", name]
    for key, value in (userdata or {}).items():
        command += ["-D", f"{key}={value}"]
    if jobs > 1:
        command += NO_CAPTURE
    config = _behave_configuration(command)
    # Absolute paths: the features directory need not have steps/ or environment.py beside it.
    config.steps_dir = str(steps_dir())
    config.environment_file = str(environment_file())
    if target is not None:
        config.userdata[REQUEST_KEY] = RunRequest(target, report_dir, progress, dict(options or {}), color)
    elif report_dir is not None:
        config.userdata["report_dir"] = str(report_dir)

    from behave.parser import ParserError

    session.LAST_RUN = None
    _forget_step_definitions()
    runner = ConcurrentRunner(config, jobs=jobs, rate=rate)
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
        written_to = report_dir or (userdata or {}).get("report_dir")
        if written_to:
            from ..report import write_reports

            write_reports(run, Path(written_to))
    return run


@dataclass(frozen=True)
class ListedScenario:
    id: str
    name: str
    feature: str
    location: str  # file:line


def list_scenarios(features: Path, *, tags: Sequence[str] = (), names: Sequence[str] = ()) -> list[ListedScenario]:
    """The scenarios a run with these filters would start, in run order, without running anything.

    Same parser and filters as :func:`run_features` (behave's), so ``--list`` and a run agree.
    """
    from behave.parser import ParserError, parse_file

    from ..report.progress import selected_scenarios
    from .hooks import scenario_key

    command = [str(features)]
    for expression in tags:
        command += ["--tags", expression]
    for name in names:
        command += ["--name", name]
    config = _behave_configuration(command)
    files = sorted(features.rglob("*.feature")) if features.is_dir() else [features]
    listed = []
    for file in files:
        try:
            feature = parse_file(str(file))
        except ParserError as exc:
            raise KitError(f"cannot parse a feature file: {_one_line(exc)}") from None
        for scenario in selected_scenarios([feature] if feature is not None else [], config):
            listed.append(ListedScenario(scenario_key(scenario), str(scenario.name), str(feature.name),
                                         redact(f"{_shown_path(file)}:{scenario.line}")))
    return listed


def _shown_path(file: Path) -> str:
    from ..resources import kit_root

    try:
        return file.resolve().relative_to(kit_root()).as_posix()
    except ValueError:
        return str(file)


def _forget_step_definitions() -> None:
    """Empty behave's step registry so a second run in one process does not find every step defined twice.

    (behave's own ``reset_runtime`` swaps in a new registry object, but the step decorators and
    the Runner keep the one bound at import time, so that object is cleared in place instead.)
    """
    from behave import runner
    from behave.matchers import get_step_matcher_factory

    runner.the_step_registry.clear()
    get_step_matcher_factory().reset()


def _behave_configuration(command: list[str]) -> Any:
    """behave's Configuration without reading any behave config file of the current directory.

    behave reports bad options on stderr and exits (argparse); those are our own options, so
    that can only be a bad --tags expression, which we turn into one line.
    """
    from behave.configuration import Configuration

    stderr = sys.stderr
    sys.stderr = captured = io.StringIO()
    try:
        return Configuration(command_args=command, load_config=False)
    except SystemExit:
        message = captured.getvalue().strip().splitlines()
        raise ConfigError("--tags", message[-1] if message else "behave rejected the options") from None
    except Exception as exc:  # e.g. a tag-expression parse error
        raise ConfigError("--tags", _first_line(exc)) from None
    finally:
        sys.stderr = stderr


def _one_line(exc: BaseException) -> str:
    """All of the message on one line (behave puts the parse failure itself on the second), redacted:
    it quotes the offending line of the feature file, which may hold a phone number."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__
    return redact(text)[:300]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
