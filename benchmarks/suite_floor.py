"""How much does the kit cost on top of the HTTP it has to do?

Runs the full conformance suite in-process against the embedded reference provider (the
same thing ``nv-conformance run`` does, server start included) while recording every HTTP
request the kit sends (API calls and token acquisitions alike). Then starts a fresh embedded
reference and replays exactly those requests, in order, with a bare ``httpx.Client`` loop:
that is the floor, the cost of the HTTP alone. Both run in this one process.

    .venv/bin/python benchmarks/suite_floor.py            # 3 rounds, median
    .venv/bin/python benchmarks/suite_floor.py --check    # exit 1 if over 3x the floor or 10 s

Tokens are single-use and JWT-bearer assertions carry a one-time ``jti``, so a literal replay
would mostly be rejected. The loop therefore does what a minimal client must do: for each
recorded token request it signs a fresh assertion (same claims, new ``jti``/``iat``/``exp``) with
the tester kit's client key and uses the token it gets wherever the run used the original one.
The status codes of the replay are printed next to the run's to show the server did the same
work. Recorded requests and tokens stay in memory and are never printed.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import httpx
from joserfc import jwk, jwt

from nv_conformance.bdd.runner import run_features
from nv_conformance.config import load_config
from nv_conformance.resources import features_dir
from nv_conformance.target import open_target
from reference_impl.embedded import EmbeddedReference

MAX_RATIO = 3.0
MAX_SECONDS = 10.0


@dataclass
class RecordedRequest:
    method: str
    url: httpx.URL
    headers: tuple[tuple[str, str], ...]
    content: bytes
    status: int = 0
    issued_token: str | None = None  # for token requests: the access token the run got


def _form(content: bytes) -> dict[str, str]:
    try:
        return dict(parse_qsl(content.decode("ascii"), keep_blank_values=True))
    except UnicodeDecodeError:
        return {}


@contextmanager
def recording(into: list[RecordedRequest]):
    """Record every request any httpx.Client sends while active (the kit's GuardedClient uses one)."""
    original = httpx.Client.send

    def send(self, request, **kwargs):
        request.read()
        headers = tuple((k, v) for k, v in request.headers.multi_items() if k.lower() not in ("host", "content-length"))
        record = RecordedRequest(request.method, request.url, headers, request.content)
        into.append(record)
        response = original(self, request, **kwargs)
        record.status = response.status_code
        if "assertion" in _form(request.content):
            response.read()  # the caller still reads it: httpx replays a read body
            try:
                record.issued_token = response.json().get("access_token")
            except ValueError:
                pass
        return response

    httpx.Client.send = send
    try:
        yield
    finally:
        httpx.Client.send = original


def full_run(report_dir: Path) -> tuple[float, list[RecordedRequest], dict[str, int], int]:
    recorded: list[RecordedRequest] = []
    started = time.perf_counter()
    with recording(recorded), open_target(load_config(None)) as target:  # what `nv-conformance run` does
        run = run_features(features_dir(), target=target, progress=False, report_dir=report_dir)
    elapsed = time.perf_counter() - started
    totals = run.to_dict()["totals"]
    return elapsed, recorded, totals, run.exit_code


def fresh_assertion(old: str, key: jwk.ECKey, old_origin: str, new_origin: str) -> str:
    """The recorded JWT-bearer assertion's claims, re-signed with a new jti/iat/exp for the new server."""
    header_b64, payload_b64 = old.split(".")[:2]
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
    claims = json.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
    lifetime = int(claims.get("exp", 0)) - int(claims.get("iat", 0)) or 120
    now = int(time.time())
    claims.update(iat=now, exp=now + lifetime, jti=uuid.uuid4().hex)
    if isinstance(claims.get("aud"), str):
        claims["aud"] = claims["aud"].replace(old_origin, new_origin)
    return jwt.encode(header, claims, key, algorithms=[header["alg"]])


def floor(recorded: list[RecordedRequest]) -> tuple[float, float, Counter[int]]:
    """Start a fresh reference, then send the recorded requests with a bare httpx loop."""
    statuses: Counter[int] = Counter()
    tokens: dict[str, str] = {}  # token the run used -> token this loop got for the same acquisition
    started = time.perf_counter()
    with EmbeddedReference() as reference:
        server_ready = time.perf_counter()
        origin = httpx.URL(reference.base_url)
        client_key = jwk.import_key(reference.kit["client"]["private_key_jwk"])
        with httpx.Client(timeout=15.0, follow_redirects=False, trust_env=False) as client:
            for request in recorded:
                url = request.url.copy_with(scheme=origin.scheme, host=origin.host, port=origin.port)
                old_origin = f"{request.url.scheme}://{request.url.netloc.decode()}"
                headers = [(k, _swap_bearer(v, tokens) if k.lower() == "authorization" else v)
                           for k, v in request.headers]
                content = request.content or None
                form = _form(request.content) if request.content else {}
                if "assertion" in form:
                    form["assertion"] = fresh_assertion(form["assertion"], client_key, old_origin, reference.base_url)
                    content = urlencode(form).encode()
                response = client.request(request.method, url, headers=headers, content=content)
                statuses[response.status_code] += 1
                if request.issued_token and response.status_code == 200:
                    tokens[request.issued_token] = response.json()["access_token"]
        loop_done = time.perf_counter()
    return server_ready - started, loop_done - server_ready, statuses


def _swap_bearer(value: str, tokens: dict[str, str]) -> str:
    scheme, _, token = value.partition(" ")
    return f"{scheme} {tokens.get(token, token)}" if scheme.lower() == "bearer" and token else value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (full run, floor); medians are reported")
    parser.add_argument("--check", action="store_true", help=f"exit 1 above {MAX_RATIO}x the floor or {MAX_SECONDS} s")
    args = parser.parse_args(argv)

    full_times, floor_times, loop_times, start_times = [], [], [], []
    requests = acquisitions = 0
    with tempfile.TemporaryDirectory(prefix="nv-bench-") as tmp:
        for round_no in range(1, max(args.rounds, 1) + 1):
            elapsed, recorded, totals, exit_code = full_run(Path(tmp) / f"round{round_no}")
            start_s, loop_s, statuses = floor(recorded)
            if sum(statuses.values()) != len(recorded):
                print("replay did not send every recorded request", file=sys.stderr)
                return 1
            requests = len(recorded)
            run_statuses = Counter(r.status for r in recorded)
            acquisitions = sum(1 for r in recorded if "assertion" in _form(r.content))
            full_times.append(elapsed)
            start_times.append(start_s)
            loop_times.append(loop_s)
            floor_times.append(start_s + loop_s)
            print(f"round {round_no}: full run {elapsed:.2f} s ({requests} requests, "
                  f"{', '.join(f'{n} {o}' for o, n in totals.items())}, exit {exit_code}); "
                  f"floor {start_s + loop_s:.2f} s (server start {start_s:.2f} s + loop {loop_s:.2f} s; "
                  f"statuses {dict(sorted(statuses.items()))}, run's {dict(sorted(run_statuses.items()))})")

    full = statistics.median(full_times)
    base = statistics.median(floor_times)
    loop = statistics.median(loop_times)
    ratio = full / base if base else float("inf")
    print()
    print(f"requests per run:            {requests} ({acquisitions} of them token acquisitions)")
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
