"""The terminal side of `run`, `selftest` and `fuzz`: --list, --quiet, --color, and a closed pipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nv_conformance import cli
from nv_conformance.results import Outcome


def tool(*args: str, cwd: Path, close_stdout: bool = False, env: dict[str, str] | None = None):
    """The CLI in a child process; ``close_stdout``: its reader goes away at once (as `| head` does)."""
    command = [sys.executable, "-m", "nv_conformance.cli", *args]
    environment = {**os.environ, **(env or {})}
    if not close_stdout:
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, env=environment)
    read, write = os.pipe()
    os.close(read)  # nobody will read: every write gets EPIPE
    try:
        done = subprocess.run(command, cwd=cwd, stdout=write, stderr=subprocess.PIPE, text=True, timeout=300,
                              env=environment)
    finally:
        os.close(write)
    return done


def test_list_prints_what_a_selection_would_run_without_running_it(tmp_path: Path, capsys) -> None:
    assert cli.main(["run", "--list", "--tags", "@nv_share_01_success_returns_number_of_token or @nv_token_01_no_refresh_token_verify",
                     "--report-dir", str(tmp_path / "r")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["nv_share_01_success_returns_number_of_token",
                                                       "nv_token_01_no_refresh_token_verify"]
    assert "(features/phone_number_share.feature:" in lines[0]
    assert lines[-1].startswith("2 of ") and "nothing was run" in lines[-1]
    assert not (tmp_path / "r").exists()  # no run, no reports


@pytest.mark.slow
def test_a_closed_pipe_ends_run_quietly_with_its_reports_and_verdict(tmp_path: Path) -> None:
    done = tool("run", "--api-version", "v2.1.0", "--report-dir", "r", cwd=tmp_path, close_stdout=True)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr[-2000:]
    results = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))
    assert done.returncode == 0 and results["verdict"] == "conformant"  # the run went on to its end


@pytest.mark.parametrize("args", [["selftest", "--list"], ["run", "--list"]])
def test_a_closed_pipe_ends_listings_quietly(tmp_path: Path, args: list[str]) -> None:
    done = tool(*args, cwd=tmp_path, close_stdout=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr[-2000:]


@pytest.mark.slow
def test_a_closed_pipe_ends_fuzz_quietly(tmp_path: Path) -> None:
    done = tool("fuzz", "--duration", "3", "--max-examples", "2", "--report-dir", "r", "--quiet", cwd=tmp_path,
                close_stdout=True)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 0 and (tmp_path / "r" / "results.json").is_file()


@pytest.mark.slow
def test_quiet_still_names_what_failed(tmp_path: Path) -> None:
    """--quiet against a faulty reference: no progress, but each failure on a line of its own."""
    from nv_conformance.bdd.runner import run_features
    from nv_conformance.config import load_config
    from nv_conformance.report.progress import problem_lines
    from nv_conformance.resources import features_dir
    from nv_conformance.target import open_target

    with open_target(load_config(None, api_version="v2.1.0"), fault="wrong-401-code") as target:
        run = run_features(features_dir(), target=target, progress=False)
    lines = [str(line) for line in problem_lines(run)]
    failed = [line for line in lines if line.startswith("FAIL ")]
    assert len(failed) == run.count(Outcome.FAILED) > 0
    assert all(line.split()[0] in ("FAIL", "WARN", "ERROR", "DEFECT") for line in lines)
    assert all("UNAUTHORIZED" in line for line in failed)  # the code the target sent, in a line nobody cut


@pytest.mark.parametrize("command", ["run", "fuzz"])
def test_color_option_is_validated(capsys, command: str) -> None:
    with pytest.raises(SystemExit):
        cli.main([command, "--color", "sometimes"])
    assert "--color" in capsys.readouterr().err


@pytest.mark.slow
def test_color_always_and_never_in_a_real_run(tmp_path: Path) -> None:
    tags = "@nv_share_01_success_returns_number_of_token"
    always = tool("run", "--color", "always", "--tags", tags, "--no-reports", cwd=tmp_path, env={"NO_COLOR": "1"})
    never = tool("run", "--color", "never", "--tags", tags, "--no-reports", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert always.returncode == never.returncode == 0, always.stderr + never.stderr
    assert "\x1b[32mPASS" in always.stdout
    assert "\x1b[" not in never.stdout


@pytest.mark.slow
def test_color_always_and_never_in_a_fuzz_run(tmp_path: Path) -> None:
    args = ("fuzz", "--duration", "3", "--max-examples", "2", "--no-reports", "--quiet")
    always = tool(*args, "--color", "always", cwd=tmp_path, env={"NO_COLOR": "1"})
    never = tool(*args, "--color", "never", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert always.returncode == never.returncode == 0, always.stderr + never.stderr
    assert always.stdout.startswith("fuzz verdict: \x1b[1;32mconformant\x1b[0m: "), always.stdout
    assert never.stdout.startswith("fuzz verdict: conformant: ") and "\x1b[" not in never.stdout
