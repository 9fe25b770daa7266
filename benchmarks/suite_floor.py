"""How much does the kit cost on top of the HTTP it has to do?

Runs the full conformance suite in-process against the embedded reference provider (the
same thing ``nv-conformance run`` does, server start included) while recording every HTTP
request the kit sends (API calls and token acquisitions alike). Then starts a fresh embedded
reference and replays exactly those requests, in order, with a bare ``httpx.Client`` loop:
that is the floor, the cost of the HTTP alone. Both run in this one process.

    .venv/bin/python benchmarks/suite_floor.py            # 3 rounds, median
    .venv/bin/python benchmarks/suite_floor.py --check    # exit 1 if over 3x the floor or 10 s

Replay caveat: tokens are single-use and JWT assertions carry a one-time ``jti``, so replayed
requests are mostly answered 401/400 by the server. Those rejections take the same signature
checks, so the server's work is comparable; if anything the floor is slightly optimistic
(which makes the ratio conservative). Recorded requests stay in memory and are never printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from nv_conformance.commands.run import run_behave_in_process
from nv_conformance.resources import features_dir
from reference_impl.embedded import EmbeddedReference

MAX_RATIO = 3.0
MAX_SECONDS = 10.0


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    url: httpx.URL
    headers: tuple[tuple[str, str], ...]
    content: bytes


@contextmanager
def recording(into: list[RecordedRequest]):
    """Record every request any httpx.Client sends while active (the kit's GuardedClient uses one)."""
    original = httpx.Client.send

    def send(self, request, **kwargs):
        request.read()
        headers = tuple((k, v) for k, v in request.headers.multi_items() if k.lower() not in ("host", "content-length"))
        into.append(RecordedRequest(request.method, request.url, headers, request.content))
        return original(self, request, **kwargs)

    httpx.Client.send = send
    try:
        yield
    finally:
        httpx.Client.send = original


def full_run(report_dir: Path) -> tuple[float, list[RecordedRequest], dict[str, int], int]:
    recorded: list[RecordedRequest] = []
    started = time.perf_counter()
    with recording(recorded):
        run = run_behave_in_process(features_dir(), tags=[], names=[],
                                    userdata={"progress": "off", "report_dir": str(report_dir)})
    elapsed = time.perf_counter() - started
    totals = run.to_dict()["totals"]
    return elapsed, recorded, totals, run.exit_code


def floor(recorded: list[RecordedRequest]) -> tuple[float, float, Counter[int]]:
    """Start a fresh reference, then send the recorded requests with a bare httpx loop."""
    statuses: Counter[int] = Counter()
    started = time.perf_counter()
    with EmbeddedReference() as reference:
        server_ready = time.perf_counter()
        origin = httpx.URL(reference.base_url)
        with httpx.Client(timeout=15.0, follow_redirects=False, trust_env=False) as client:
            for request in recorded:
                url = request.url.copy_with(scheme=origin.scheme, host=origin.host, port=origin.port)
                response = client.request(request.method, url, headers=list(request.headers),
                                          content=request.content or None)
                statuses[response.status_code] += 1
        loop_done = time.perf_counter()
    return server_ready - started, loop_done - server_ready, statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (full run, floor); medians are reported")
    parser.add_argument("--check", action="store_true", help=f"exit 1 above {MAX_RATIO}x the floor or {MAX_SECONDS} s")
    args = parser.parse_args(argv)

    full_times, floor_times, loop_times, start_times = [], [], [], []
    requests = 0
    with tempfile.TemporaryDirectory(prefix="nv-bench-") as tmp:
        for round_no in range(1, max(args.rounds, 1) + 1):
            elapsed, recorded, totals, exit_code = full_run(Path(tmp) / f"round{round_no}")
            start_s, loop_s, statuses = floor(recorded)
            if sum(statuses.values()) != len(recorded):
                print("replay did not send every recorded request", file=sys.stderr)
                return 1
            requests = len(recorded)
            full_times.append(elapsed)
            start_times.append(start_s)
            loop_times.append(loop_s)
            floor_times.append(start_s + loop_s)
            print(f"round {round_no}: full run {elapsed:.2f} s ({requests} requests, "
                  f"{', '.join(f'{n} {o}' for o, n in totals.items())}, exit {exit_code}); "
                  f"floor {start_s + loop_s:.2f} s (server start {start_s:.2f} s + loop {loop_s:.2f} s; "
                  f"statuses {dict(sorted(statuses.items()))})")

    full = statistics.median(full_times)
    base = statistics.median(floor_times)
    loop = statistics.median(loop_times)
    ratio = full / base if base else float("inf")
    print()
    print(f"requests per run:            {requests}")
    print(f"full run (median):           {full:.2f} s")
    print(f"floor (median):              {base:.2f} s = server start {statistics.median(start_times):.2f} s "
          f"+ bare httpx loop {loop:.2f} s")
    print(f"ratio full/floor:            {ratio:.2f}x (target <= {MAX_RATIO:g}x)")
    print(f"ratio full/loop only:        {full / loop if loop else float('inf'):.2f}x (server start excluded from the floor)")
    print(f"full run under {MAX_SECONDS:g} s:         {'yes' if full < MAX_SECONDS else 'NO'}")
    if args.check and (ratio > MAX_RATIO or full >= MAX_SECONDS):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
