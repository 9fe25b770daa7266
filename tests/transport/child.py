"""Run the CLI in a child process with a hard time limit; report its exit code, output, wall time and peak memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ChildRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float
    killed: bool

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(args: list[str], *, cwd: Path, limit_s: float, env: dict[str, str] | None = None) -> ChildRun:
    """``nv-conformance ARGS`` in ``cwd``; killed after ``limit_s``. Peak memory from ``wait4`` (this child only)."""
    out, err = cwd / "child.out", cwd / "child.err"
    started = time.monotonic()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "nv_conformance.cli", *args], cwd=cwd, stdout=stdout,
                                   stderr=stderr, env={**os.environ, **(env or {})}, start_new_session=True)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(limit_s, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(process.returncode, out.read_text(errors="replace"), err.read_text(errors="replace"),
                    time.monotonic() - started, usage.ru_maxrss / 1024, killed.is_set())
