"""Run the CLI in a child process with a hard time limit; report its exit code, output, wall time and peak memory.

Linux keeps a process' peak RSS across ``exec``, and a child forked from pytest starts with pytest's
peak. So a small launcher process is started first; it forks the CLI (whose peak then starts at the
launcher's few MB), waits for it with ``wait4`` and reports that child's own ``ru_maxrss``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

LAUNCHER = r"""
import json, os, signal, subprocess, sys, threading
limit, out, err, *args = sys.argv[1:]
with open(out, "wb") as stdout, open(err, "wb") as stderr:
    process = subprocess.Popen([sys.executable, "-m", "nv_conformance.cli", *args], stdout=stdout, stderr=stderr,
                               start_new_session=True)
    killed = threading.Event()
    def kill():
        killed.set()
        os.killpg(process.pid, signal.SIGKILL)
    timer = threading.Timer(float(limit), kill)
    timer.start()
    _, status, usage = os.wait4(process.pid, 0)
    timer.cancel()
print(json.dumps({"returncode": os.waitstatus_to_exitcode(status), "maxrss_kb": usage.ru_maxrss,
                  "killed": killed.is_set()}))
"""


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
    """``nv-conformance ARGS`` in ``cwd``, killed after ``limit_s``; peak memory is the CLI process' own."""
    out, err = cwd / "child.out", cwd / "child.err"
    started = time.monotonic()
    launched = subprocess.run([sys.executable, "-c", LAUNCHER, str(limit_s), str(out), str(err), *args], cwd=cwd,
                              capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=limit_s + 30)
    seconds = time.monotonic() - started
    report = json.loads(launched.stdout.strip().splitlines()[-1])
    return ChildRun(report["returncode"], out.read_text(errors="replace"), err.read_text(errors="replace"), seconds,
                    report["maxrss_kb"] / 1024, report["killed"])
