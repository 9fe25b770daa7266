"""behave hooks: open the session, give each scenario fresh state, turn behave's outcome into results.

The run's target arrives built (a :class:`~nv_conformance.bdd.runner.RunRequest` in behave's
userdata, from ``nv-conformance run``, the self-test or a test); under plain ``behave`` the hooks
build it from userdata strings (docs/interfaces.md "Run wiring"): ``config`` (absent = embedded
reference), ``api_version``, ``spec``, ``report_dir``, ``progress`` (on/off), ``color`` (auto/always/never), ``features``, ``tags``.
One :class:`~nv_conformance.results.ScenarioResult` per scenario goes to ``session.run``;
the finished run is left in :data:`nv_conformance.bdd.session.LAST_RUN`.
"""

from __future__ import annotations

import sys
import time
from functools import cache
from pathlib import Path
from typing import Any

from ..config import load_config
from ..errors import ConfigError, KitError
from ..interrupt import current as current_stop
from ..redact import redact
from ..report import write_reports
from ..report.progress import COLOR_CHOICES, ProgressPrinter, planned_scenarios, selected_scenarios
from ..results import Outcome, RunResult, ScenarioResult, Selection, id_of
from ..target import open_target
from . import session as session_module
from .runner import REQUEST_KEY, RunRequest
from .session import ScenarioState, Session, new_run, now_iso

_FAILED_STATUSES = {"failed", "error", "hook_error", "cleanup_error", "undefined", "pending"}


# -- building the session ------------------------------------------------------------------------

def open_session(userdata: Any) -> Session:
    """The run's session: on the target the caller built, or (plain ``behave``) on one built here."""
    request: RunRequest | None = userdata.get(REQUEST_KEY)
    if request is None:
        request = _request_from_userdata(userdata)
        owned = True
    else:
        owned = False
    target = request.target
    options = {**target.declared_options(), **request.options}
    run = new_run(target.label, target.api_version, options)
    session = Session.for_target(target, run, report_dir=request.report_dir, owns_target=owned)
    max_seconds = target.config.run.max_seconds
    if max_seconds:
        session.deadline = time.monotonic() + float(max_seconds)
    session.printer = ProgressPrinter(color=request.color) if request.progress else None
    return session


def _request_from_userdata(userdata: Any) -> RunRequest:
    """Plain ``behave``: ``-D config=TARGET.yaml`` (absent = embedded reference), ``-D api_version=``,
    ``-D spec=``, ``-D report_dir=``, ``-D progress=off``, ``-D features=``, ``-D tags=``."""
    config = load_config(userdata.get("config") or None, api_version=userdata.get("api_version") or None,
                         spec=userdata.get("spec") or None)
    options: dict[str, Any] = {}
    for key in ("features", "tags"):
        if userdata.get(key):
            options[key] = userdata.get(key).split("\n") if key == "tags" else userdata.get(key)
    report_dir = userdata.get("report_dir") or None
    progress = str(userdata.get("progress", "on")).lower() not in ("off", "false", "no", "0")
    color = str(userdata.get("color") or "auto")
    if color not in COLOR_CHOICES:
        raise ConfigError("-D color", f"must be one of {', '.join(COLOR_CHOICES)}")
    return RunRequest(open_target(config), Path(report_dir) if report_dir else None, progress, options, color)


# -- hooks ----------------------------------------------------------------------------------------

def before_all(context: Any) -> None:
    userdata = context.config.userdata
    try:
        session = open_session(userdata)
    except KitError as exc:
        print(f"nv-conformance: {redact(exc)}", file=sys.__stderr__ or sys.stderr)
        raise
    context.nv_session = session
    total = None
    try:
        features = context._runner.features
        selected = selected_scenarios(features, context.config)
        total = len(selected)
        session.planned = [scenario_key(s) for s in selected]
        suite = planned_scenarios(features, None)
        if total < suite:
            session.run.selection = Selection(selected=total, total=suite)
    except AttributeError:  # behave's internals moved: progress without a total, no scope
        pass
    if session.printer is not None:
        session.printer.run_started(session.run, total=total)


def scenario_key(scenario: Any) -> str:
    """How a behave scenario is named in ``not_run`` and ``--list``: its result's id (results.id_of)."""
    return id_of(_ordered_tags(scenario), str(scenario.name))


def before_scenario(context: Any, scenario: Any) -> None:
    session: Session | None = getattr(context, "nv_session", None)
    if session is None:
        return
    state = ScenarioState(session)
    state.clauses = scenario_clauses(scenario)
    context.nv = state
    session.current = state
    if session.deadline is not None and time.monotonic() > session.deadline:
        state.skip_reason = "run.max_seconds reached: scenario not started"
        scenario.skip(state.skip_reason)


def after_scenario(context: Any, scenario: Any) -> None:
    session: Session | None = getattr(context, "nv_session", None)
    state: ScenarioState | None = getattr(context, "nv", None)
    if session is None or state is None:
        return
    if session.planning:  # the token plan's dry run (bdd/plan.py) leaves no result
        session.current = None
        return
    undefined = _undefined_steps(context, scenario)
    outcome, reason = _outcome(scenario, state, undefined)
    if _interrupted(context):
        outcome, reason = _interrupted_outcome(scenario, outcome, reason)
    result = ScenarioResult(
        feature=str(scenario.feature.name) if scenario.feature else "",
        name=str(scenario.name),
        tags=_ordered_tags(scenario),
        outcome=outcome,
        clauses=list(dict.fromkeys(state.clauses)),
        reason=redact(reason),
        mandatory=not (state.not_applicable or state.advisory_only or "optional" in scenario.effective_tags),
        duration_s=round(time.monotonic() - state.started, 3),
        checks=list(state.checks),
        exchanges=[sent.record for sent in state.conversation.sent],
        location=f"{scenario.filename}:{scenario.line}",
    )
    session.current = None
    if session.collect is not None:  # a concurrent run: released in the features' order (bdd/parallel.py)
        session.collect(scenario, result, undefined)
    else:
        record_result(session, result, undefined)


def record_result(session: Session, result: ScenarioResult, undefined: list[str]) -> None:
    """One finished scenario into the run (and its progress line): in the features' order."""
    for text in undefined:
        if text not in session.run.undefined_steps:
            session.run.undefined_steps.append(text)
    session.run.scenarios.append(result)
    if session.printer is not None:
        session.printer.scenario_finished(result)


def after_all(context: Any) -> None:
    session: Session | None = getattr(context, "nv_session", None)
    if session is None:
        return
    run: RunResult = session.run
    run.finished_at = now_iso()
    if _interrupted(context):
        stop = current_stop()
        run.signal = stop.number if stop else 0
        run.aborted = f"{stop.reason() if stop and stop.number else 'interrupted'}: not every scenario ran"
        done = {s.scenario_id for s in run.scenarios}
        run.not_run = [key for key in session.planned if key not in done]
    session_module.LAST_RUN = run
    try:
        paths: list[Path] = []
        if session.report_dir:
            paths = write_reports(run, Path(session.report_dir))
        if session.printer is not None:
            session.printer.run_finished(run, paths)
    finally:
        session.close()


# -- outcome -------------------------------------------------------------------------------------

def _interrupted(context: Any) -> bool:
    return bool(getattr(getattr(context, "_runner", None), "aborted", False))


def _interrupted_outcome(scenario: Any, outcome: Outcome, reason: str) -> tuple[Outcome, str]:
    """A scenario a signal cut short proves nothing either way, and it is no fault of the kit."""
    stopped = any("KeyboardInterrupt" in str(getattr(s, "error_message", "") or "") for s in scenario.all_steps)
    if not stopped and not (outcome == Outcome.DEFECTIVE and reason.startswith("internal error")):
        return outcome, reason
    stop = current_stop()
    why = stop.reason() if stop and stop.number else "interrupted"
    return Outcome.SKIPPED, f"{why} before the scenario finished"


def _status(obj: Any) -> str:
    status = getattr(obj, "status", "")
    return getattr(status, "name", str(status))


def _outcome(scenario: Any, state: ScenarioState, undefined: list[str]) -> tuple[Outcome, str]:
    failed_step = next((s for s in scenario.all_steps if _status(s) in _FAILED_STATUSES - {"undefined"}), None)
    if failed_step is not None and _status(failed_step) == "failed":
        return Outcome.FAILED, f"{failed_step.keyword} {failed_step.name}: {_error_line(failed_step)}"
    if failed_step is not None:
        # An exception other than a failed check is a fault of the kit (or a hook), not of the
        # implementation: no verdict, and the reason says so plainly.
        return Outcome.DEFECTIVE, (f"internal error of the kit at {failed_step.keyword} {failed_step.name}: "
                                   f"{_error_line(failed_step)} (please report it)")
    if undefined:
        return Outcome.DEFECTIVE, "no step definition matches: " + "; ".join(undefined)
    if state.defect:
        return Outcome.DEFECTIVE, state.defect
    if state.error:
        return Outcome.ERROR, state.error
    warnings = [c for c in state.checks if c.warns]
    if warnings:  # an advisory check broke (and ended the scenario), or several did
        return Outcome.WARNING, "; ".join(f"{c.description}: {c.detail} [clause: {c.clause}]" for c in warnings)
    if state.skip_reason or _status(scenario) == "skipped":
        outcome = Outcome.NOT_APPLICABLE if state.not_applicable else Outcome.SKIPPED
        return outcome, state.skip_reason or getattr(scenario, "skip_reason", None) or "skipped"
    if not state.checks:
        return Outcome.DEFECTIVE, "the scenario asserts nothing (no Then step checked a response or token)"
    if state.conversation.pending:
        return Outcome.DEFECTIVE, "the last When step is followed by no assertion, so its request was never checked"
    return Outcome.PASSED, ""


def _ordered_tags(scenario: Any) -> list[str]:
    """The scenario's own tags first, then inherited ones (the Feature's), in file order.

    behave's ``effective_tags`` is a set: with a tagged Feature (CAMARA's first official files) the
    scenario id (the first id-like tag) would change from run to run.
    """
    effective = {str(t) for t in scenario.effective_tags}
    ordered = [str(t) for t in getattr(scenario, "tags", [])]
    feature = getattr(scenario, "feature", None)
    ordered += [str(t) for t in getattr(feature, "tags", [])]
    result = [t for t in dict.fromkeys(ordered) if t in effective]
    return result + sorted(effective - set(result))


def _error_line(step: Any) -> str:
    message = str(getattr(step, "error_message", "") or "").strip()
    if not message:
        return "failed"
    lines = [line for line in message.splitlines() if line.strip()]
    if "Traceback" in lines[0]:
        return lines[-1].strip()
    for prefix in ("ASSERT FAILED:", "Assertion Failed:"):
        if lines[0].startswith(prefix):
            lines[0] = lines[0][len(prefix):].strip()
    return " ".join(line.strip() for line in lines)


def _undefined_steps(context: Any, scenario: Any) -> list[str]:
    """Steps no definition matches, including those behave skipped without looking (after a skip)."""
    runner = getattr(context, "_runner", None)
    registry = getattr(runner, "step_registry", None)
    found = []
    for step in scenario.all_steps:
        if _status(step) in ("undefined", "untested_undefined"):
            found.append(f"{step.keyword} {step.name}")
        elif registry is not None and _status(step) in ("skipped", "untested") and registry.find_match(step) is None:
            found.append(f"{step.keyword} {step.name}")
    return found


# -- clauses from comments and tags --------------------------------------------------------------

def scenario_clauses(scenario: Any) -> list[str]:
    """``@clause:<text>`` tags and ``# clause: <text>`` comment lines just above the scenario."""
    clauses = [t.split(":", 1)[1] for t in scenario.effective_tags if t.lower().startswith("clause:")]
    # An example of a Scenario Outline sits on its Examples row: the comments are above the outline.
    parent = getattr(scenario, "parent", None)
    declared = parent if hasattr(parent, "examples") else scenario
    filename, line = getattr(declared, "filename", None), getattr(declared, "line", None)
    if filename and line:
        lines = _file_lines(str(filename))
        index = int(line) - 2
        above: list[str] = []
        while 0 <= index < len(lines):
            text = lines[index].strip()
            if text.startswith("@"):
                index -= 1
                continue
            if not text.startswith("#"):
                break
            body = text.lstrip("#").strip()
            if body.lower().startswith("clause:"):
                above.append(body.split(":", 1)[1].strip())
            index -= 1
        clauses.extend(reversed(above))
    return clauses


@cache
def _file_lines(filename: str) -> list[str]:
    try:
        return Path(filename).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
