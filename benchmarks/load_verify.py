"""Load test of POST /verify on the reference provider: fresh pre-minted tokens, real checks, wrk as the load.

    .venv/bin/python benchmarks/load_verify.py [--workers 2] [--connections 32] [--duration 10]

Steps: start `nv-conformance serve` (uvicorn workers, httptools/uvloop, access log off) on a
fresh database; pre-mint one fresh access token per request with the server's own signing
key (the code path of the token endpoint, without HTTP); run wrk with a Lua script that
sends each token exactly once; print requests/s, p50, p99 and errors. Every request carries
a different token, so every request pays the signature check and the single-use insert.
A Python load generator cannot drive this rate on 2 cores, hence wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from reference_impl.embedded import free_port  # noqa: E402
from reference_impl.keys import load_server_keys  # noqa: E402
from reference_impl.store import Store  # noqa: E402
from reference_impl.tokens import AMR_SIM, AccessTokenIssuer, TokenGrant  # noqa: E402

VERIFY_SCOPE = ("number-verification:verify",)
_issuer: AccessTokenIssuer | None = None
_subscriber_id = ""


def _init_minter(db: str, issuer_url: str, subscriber_id: str) -> None:
    global _issuer, _subscriber_id
    store = Store(db)
    _issuer = AccessTokenIssuer(load_server_keys(store), issuer_url, issuer_url)
    _subscriber_id = subscriber_id


def _mint(count: int) -> list[str]:
    assert _issuer is not None
    grant = TokenGrant(_subscriber_id, "nv-demo-client", VERIFY_SCOPE, AMR_SIM, "dpv:FraudPreventionAndDetection")
    return [_issuer.mint(grant, 300)[0] for _ in range(count)]


def mint_tokens(db: Path, issuer_url: str, subscriber_id: str, count: int, processes: int) -> list[str]:
    chunks = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
    with multiprocessing.Pool(processes, _init_minter, (str(db), issuer_url, subscriber_id)) as pool:
        return [token for chunk in pool.map(_mint, chunks) for token in chunk]


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live descendants (Linux /proc), in seconds."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (OSError, IndexError, ValueError):
        return total
    return total + sum(tree_cpu_seconds(int(child)) for child in children)


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server exited during start-up")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("the server did not start within 30 s")


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load (default 10)")
    parser.add_argument("--max-rate", type=int, default=10000,
                        help="tokens minted per second of load; must exceed the achieved rate (default 10000)")
    parser.add_argument("--version-path", default="/number-verification/vwip", help="base path to load")
    parser.add_argument("--json", action="store_true", help="print only the JSON result line")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    if not 1 <= args.duration <= 120:
        raise SystemExit("--duration must be 1..120 s (tokens live 300 s)")

    work = Path(tempfile.mkdtemp(prefix="nv-bench-"))
    db = work / "bench.sqlite3"
    port = free_port()
    issuer_url = f"http://127.0.0.1:{port}"
    kit_path = work / "kit.json"
    server = subprocess.Popen(
        [sys.executable, "-m", "nv_conformance.cli", "serve", "--port", str(port), "--db", str(db),
         "--workers", str(args.workers), "--no-access-log", "--kit", str(kit_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
    )
    try:
        wait_ready(issuer_url + "/jwks", server)
        kit = json.loads(kit_path.read_text())
        phone = kit["subscribers"][0]["phone_number"]
        subscriber_id = Store(db).subscriber_by_number(phone).id  # type: ignore[union-attr]
        count = args.max_rate * args.duration
        started = time.monotonic()
        tokens = mint_tokens(db, issuer_url, subscriber_id, count, processes=os.cpu_count() or 2)
        if not args.json:
            print(f"minted {len(tokens)} fresh tokens in {time.monotonic() - started:.1f} s", file=sys.stderr)
        tokens_file = work / "tokens.txt"
        tokens_file.write_text("\n".join(tokens) + "\n")
        # warm up every worker (imports, first connection) with a few requests that do not spend tokens
        for _ in range(20):
            httpx.post(issuer_url + args.version_path + "/verify", json={}, timeout=5)
        load_before = os.getloadavg()[0]
        server_cpu_before = tree_cpu_seconds(server.pid)
        wrk_cpu_before = _children_cpu()
        cmd = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s",
               "--latency", "-s", str(HERE / "load_verify.lua"), issuer_url,
               "--", str(tokens_file), str(args.threads), args.version_path + "/verify", phone]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 60)
        server_cpu = tree_cpu_seconds(server.pid) - server_cpu_before
        wrk_cpu = _children_cpu() - wrk_cpu_before
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("NV_RESULT ")), None)
    if line is None:
        raise SystemExit("wrk gave no result:\n" + result.stdout[-2000:] + result.stderr[-2000:])
    raw = json.loads(line.removeprefix("NV_RESULT "))
    errors = raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"] + raw["non200"]
    summary = {
        "requests": raw["requests"],
        "requests_per_second": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": raw["p50_us"] / 1000, "p90_ms": raw["p90_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000, "errors": errors, "non200": raw["non200"],
        "tokens_exhausted": raw["tokens_exhausted"],
        "connections": args.connections, "workers": args.workers, "duration_s": args.duration,
        "load_average_before": round(load_before, 2), "cpus": os.cpu_count(),
        # CPU cost per request, independent of what else runs on the machine: the capacity of an idle
        # machine is about cpus / (server + wrk CPU per request)
        "server_cpu_us_per_request": round(server_cpu / max(raw["requests"], 1) * 1e6, 1),
        "wrk_cpu_us_per_request": round(wrk_cpu / max(raw["requests"], 1) * 1e6, 1),
    }
    per_request = (server_cpu + wrk_cpu) / max(raw["requests"], 1)
    summary["idle_machine_estimate_rps"] = round((os.cpu_count() or 1) / per_request) if per_request else None
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"POST {args.version_path}/verify: {summary['requests_per_second']} req/s over {args.duration} s, "
              f"{args.connections} connections, {args.workers} workers; p50 {summary['p50_ms']:.2f} ms, "
              f"p99 {summary['p99_ms']:.2f} ms; errors {errors} (non-200 {raw['non200']}, "
              f"tokens exhausted {raw['tokens_exhausted']}); 1-min load average before the run "
              f"{load_before:.2f} on {os.cpu_count()} CPUs; CPU per request: server "
              f"{summary['server_cpu_us_per_request']} us, wrk {summary['wrk_cpu_us_per_request']} us "
              f"(an idle machine would do about {summary['idle_machine_estimate_rps']} req/s)")
        print(json.dumps(summary))
    return 0 if errors == 0 and raw["tokens_exhausted"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
