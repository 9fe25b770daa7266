"""SIGINT (Ctrl-C) and SIGTERM (CI cancellation, ``timeout``, container stops) stop run and fuzz cleanly:
the reports of what ran are written, what never ran is listed, the exit code is 128 + the signal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def start(args: list[str], cwd: Path) -> tuple[subprocess.Popen[bytes], Path, Path]:
    out, err = cwd / "child.out", cwd / "child.err"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "nv_conformance.cli", *args], cwd=cwd, stdout=stdout,
                                   stderr=stderr, env=env)
    return process, out, err


def many_scenarios(folder: Path, count: int = 400) -> Path:
    """A feature long enough (a few seconds against the reference) to be interrupted in the middle."""
    lines = ["Feature: Many shares", "  Background: setup", '    Given an environment at "apiRoot"',
             "    And the resource of the API version under test as base url",
             '    And the header "Authorization" is set to a valid access token', ""]
    for n in range(count):
        lines += [f"  @many_{n:03d}", f"  Scenario: share number {n}", '    When the request "phoneNumberShare" is sent',
                  "    Then the response status code is 200", ""]
    path = folder / "features" / "many.feature"
    path.parent.mkdir()
    path.write_text("\n".join(lines))
    return path.parent


def wait_for(path: Path, text: str, process: subprocess.Popen[bytes], limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if text in path.read_text(errors="replace"):
            return
        if process.poll() is not None:
            pytest.fail(f"ended ({process.returncode}) before {text!r}: {path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)
    process.kill()
    pytest.fail(f"no {text!r} within {limit_s} s")


@pytest.mark.parametrize(("signum", "code", "name"), [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")])
def test_a_signal_stops_run_with_the_reports_of_what_ran(tmp_path: Path, signum: int, code: int, name: str) -> None:
    features = many_scenarios(tmp_path)
    process, out, err = start(["run", "--features", str(features), "--report-dir", "r"], tmp_path)
    wait_for(out, "many_005", process)
    process.send_signal(signum)
    assert process.wait(timeout=60) == code
    stderr = err.read_text(errors="replace")
    assert f"interrupted by {name}" in stderr and "never ran" in stderr, stderr
    assert "Traceback" not in stderr and "internal error" not in out.read_text(errors="replace")
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["signal"] == signum and name in results["aborted"]
    assert results["verdict"] in ("partial", "not conformant") and results["verdict"] != "conformant"
    assert results["scenarios"] and results["not_run"]
    ran = {s["id"] for s in results["scenarios"]}
    assert not ran & set(results["not_run"])
    assert all("internal error" not in s["reason"] for s in results["scenarios"])
    assert (tmp_path / "r" / "junit.xml").exists() and (tmp_path / "r" / "statement.html").exists()


def test_sigterm_stops_fuzz_with_reports_and_never_a_clean_verdict(tmp_path: Path) -> None:
    process, _, err = start(["fuzz", "--duration", "120", "--report-dir", "r"], tmp_path)
    wait_for(err, "cases", process, limit_s=90)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 143
    stderr = err.read_text(errors="replace")
    assert "interrupted by SIGTERM" in stderr and "Traceback" not in stderr
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["signal"] == signal.SIGTERM and results["verdict"] != "conformant"
    assert json.loads((tmp_path / "r" / "fuzz.json").read_text())["fuzz"]["interrupted"] == "interrupted by SIGTERM"
