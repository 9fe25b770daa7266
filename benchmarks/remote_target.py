"""How long does a full run take against a target across a network?

Starts the reference provider (``nv-conformance serve``, CIBA poll interval ``--ciba-interval``,
5 s by default as in CIBA itself) behind ``benchmarks/delay_proxy.py`` (``--delay-ms`` per
direction, 50 by default), so every request the kit sends, API and authorization server alike,
pays the round trip a remote operator would cost. Then runs the full suite of the API version
(vwip) with each example config of ``examples/`` (JWT-bearer, authorization code, CIBA) twice:
``--jobs 1`` (one scenario after another, nothing fetched ahead: the kit as it was) and the
default (scenarios side by side, tokens fetched ahead), the default ``--repeat`` times (3; the
median counts: a shared machine makes a run of two seconds jitter). Each run is a
``nv-conformance run`` process; its wall time is measured from outside. Prints each wall time, the
ratio and the load average, and checks that both runs gave the same verdict.

    .venv/bin/python benchmarks/remote_target.py                   # all three configs
    .venv/bin/python benchmarks/remote_target.py --only jwt-bearer --check

``--check`` exits 1 unless each default run is at least 5x faster than its ``--jobs 1`` run, the
CIBA run takes at most 20 s and the others at most 10 s (the goals of docs/runner.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from delay_proxy import DelayProxy  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CLI = str(Path(sys.executable).with_name("nv-conformance"))
CONFIGS = {  # name -> (example config, the most a default run may take)
    "jwt-bearer": ("target-reference-jwt-bearer.yaml", 10.0),
    "authorization-code": ("target-reference-authorization-code.yaml", 10.0),
    "ciba": ("target-reference-ciba.yaml", 20.0),
}
MIN_RATIO = 5.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"the reference provider did not listen on 127.0.0.1:{port}")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


def _run(config: Path, report_dir: Path, jobs: int | None) -> tuple[float, str, int]:
    """(wall seconds, verdict, scenarios) of one ``nv-conformance run`` process."""
    command = [CLI, "run", "--quiet", "--config", str(config), "--report-dir", str(report_dir)]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command[1:3])} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    results = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    return wall, str(results["verdict"]), len(results["scenarios"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=50.0, help="added per direction (default 50)")
    parser.add_argument("--ciba-interval", type=int, default=5, help="the reference's CIBA poll interval (default 5)")
    parser.add_argument("--only", choices=sorted(CONFIGS), action="append", help="only this config (repeatable)")
    parser.add_argument("--repeat", type=int, default=3, help="default runs per config; the median counts (default 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 unless the goals are met")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="nv-remote-"))
    server_port, proxy_port = _free_port(), _free_port()
    kit = work / "tester-kit.json"
    # The issuer (and so every URL of the kit and of discovery) is the proxy's: nothing bypasses the delay.
    server = subprocess.Popen(
        [CLI, "serve", "--port", str(server_port), "--public-url", f"http://127.0.0.1:{proxy_port}",
         "--kit", str(kit), "--db", str(work / "reference.sqlite3"), "--no-access-log",
         "--ciba-interval", str(args.ciba_interval)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failures: list[str] = []
    try:
        _wait_for(server_port)
        with DelayProxy(server_port, args.delay_ms / 1000, listen_port=proxy_port):
            print(f"reference behind a {args.delay_ms:g} ms-per-direction delay proxy, CIBA interval "
                  f"{args.ciba_interval} s; {os.cpu_count()} cores, {_load()}")
            for name in args.only or list(CONFIGS):
                example, limit = CONFIGS[name]
                config = work / example
                shutil.copy(ROOT / "examples" / example, config)  # its kit: ./tester-kit.json, written above
                sequential, seq_verdict, count = _run(config, work / f"{name}-sequential", jobs=1)
                runs = [_run(config, work / f"{name}-default", jobs=None) for _ in range(max(1, args.repeat))]
                walls = [wall for wall, _, _ in runs]
                concurrent, verdict = statistics.median(walls), runs[0][1]
                ratio = sequential / concurrent
                each = "/".join(f"{wall:.1f}" for wall in walls)
                print(f"{name:<19} {count} scenarios: --jobs 1 {sequential:6.1f} s, default {concurrent:5.1f} s "
                      f"(median of {each}), {ratio:4.1f}x ({verdict}; {_load()})", flush=True)
                if any(run_verdict != seq_verdict for _, run_verdict, _ in runs):
                    failures.append(f"{name}: a default run's verdict differs from --jobs 1's ({seq_verdict})")
                if ratio < MIN_RATIO:
                    failures.append(f"{name}: {ratio:.1f}x, below {MIN_RATIO:g}x")
                if concurrent > limit:
                    failures.append(f"{name}: {concurrent:.1f} s, above {limit:g} s")
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print(f"goal missed: {failure}")
    return 1 if args.check and failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
