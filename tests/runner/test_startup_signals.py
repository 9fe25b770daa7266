"""A signal before the work began (the target opening, the contract loading, the pre-flight) ends
`fuzz` and `run` with one line saying nothing was done and no report was written, exit 128 + signal.

The signal is real (sent to this process while the command's handlers are installed), sent from
inside the phase it must interrupt."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from nv_conformance import cli


def _signal_now(signum: int) -> Any:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        os.kill(os.getpid(), signum)
        time.sleep(10)  # the handler raises KeyboardInterrupt here
        raise AssertionError(f"{signal.Signals(signum).name} did not interrupt")

    return interrupted


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(("signum", "code", "name"), [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")])
def test_a_signal_while_fuzz_starts_is_one_line_and_no_report(tmp_path: Path, monkeypatch, capsys,
                                                               signum: int, code: int, name: str) -> None:
    monkeypatch.setattr("nv_conformance.commands.fuzz.run_fuzz", _signal_now(signum))  # the engine not yet started
    report_dir = tmp_path / "r"
    assert cli.main(["fuzz", "--report-dir", str(report_dir)]) == code
    line = _one_line(capsys)
    assert line == f"nv-conformance fuzz: interrupted by {name} during start-up; nothing was fuzzed; no report was written"
    assert list(report_dir.iterdir()) == []


@pytest.mark.parametrize("command", ["run", "fuzz"])
def test_a_signal_during_the_preflight_is_one_line_and_no_report(tmp_path: Path, monkeypatch, capsys,
                                                                 command: str) -> None:
    monkeypatch.setattr("nv_conformance.preflight.preflight", _signal_now(signal.SIGTERM))
    report_dir = tmp_path / "r"
    assert cli.main([command, "--report-dir", str(report_dir)]) == 143
    line = _one_line(capsys)
    nothing = "nothing was fuzzed" if command == "fuzz" else "no scenario was run"
    assert line == f"nv-conformance {command}: interrupted by SIGTERM during the pre-flight; {nothing}; no report was written"
    assert list(report_dir.iterdir()) == []
