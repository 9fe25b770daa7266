"""Facts a reviewer needs to trust a report: which kit build ran, and how to run a scenario again."""

from __future__ import annotations

import re
import shlex
import subprocess
from functools import cache

from ..resources import kit_root
from ..results import RunResult, ScenarioResult


@cache
def kit_git_commit() -> str:
    """The kit's git commit (``-dirty`` when the checkout has local changes).

    A checkout asks git; an installed wheel reads the commit recorded when it was built
    (``nv_conformance/_build_info.py``, written by hatch_build.py); otherwise ``unknown``.
    """
    commit = _checkout_commit()
    if commit != "unknown":
        return commit
    try:
        from .._build_info import COMMIT
    except ImportError:
        return "unknown"
    return str(COMMIT) or "unknown"


def _checkout_commit() -> str:
    root = kit_root()
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.split()
        # Only trust the answer when the kit itself is the checkout (not an installed copy inside someone's repo).
        if len(commit) != 2 or commit[0] != str(root.resolve()):
            return "unknown"
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit[1] + ("-dirty" if dirty else "")


def run_command(run: RunResult, *, tags: str | None = None) -> str:
    """The ``nv-conformance run`` command line that repeats ``run`` (optionally only the scenarios in ``tags``).

    Built from the declared options: ``config``, ``api_version``, ``features``, ``spec``, ``tags``.
    """
    options = run.options
    if options.get("mode") == "fuzz":
        return fuzz_command(run)
    parts = ["nv-conformance", "run", *_target_arguments(run)]
    if options.get("features"):
        parts += ["--features", str(options["features"])]
    if options.get("spec") and not str(options["spec"]).startswith("kit contract"):
        parts += ["--spec", str(options["spec"])]
    if tags:
        parts += ["--tags", tags]
    else:
        declared = options.get("tags") or []
        for expression in [declared] if isinstance(declared, str) else declared:
            parts += ["--tags", str(expression)]
    return shlex.join(parts)


def fuzz_command(run: RunResult) -> str:
    """The ``nv-conformance fuzz`` command line that repeats a fuzz run: same target, version and seed."""
    options = run.options
    fuzz = options.get("fuzz") or {}
    parts = ["nv-conformance", "fuzz", *_target_arguments(run)]
    if options.get("fault"):
        parts += ["--fault", str(options["fault"])]
    for flag, key in (("--seed", "seed"), ("--max-examples", "max_examples"), ("--duration", "duration_limit_s")):
        if fuzz.get(key) is not None:
            parts += [flag, str(fuzz[key])]
    return shlex.join(parts)


def _target_arguments(run: RunResult) -> list[str]:
    """``--config`` (unless the embedded reference) and ``--api-version``: what both commands need first."""
    parts: list[str] = []
    config = str(run.options.get("config") or "")
    if config and config != "embedded reference":
        parts += ["--config", config]
    if run.api_version:
        parts += ["--api-version", run.api_version]
    return parts


def scenario_command(run: RunResult, scenario: ScenarioResult) -> str:
    """A command that runs just this scenario again (by its id tag, else by its name)."""
    if run.options.get("mode") == "fuzz":
        return fuzz_command(run)
    if scenario.scenario_id != scenario.name:
        return run_command(run, tags=f"@{scenario.scenario_id}")
    # behave reads --name as a regular expression: a name like "Verify (hashed) +44..." must match itself
    return run_command(run) + " --name " + shlex.quote(f"^{re.escape(scenario.name)}$")
