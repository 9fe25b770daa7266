"""Fuzz throughput: `nv-conformance fuzz` vs a plain `schemathesis run` of the same contract, same server.

    .venv/bin/python benchmarks/fuzz_throughput.py [--seconds 30] [--rounds 2] [--api-version vwip]

One reference provider (`nv-conformance serve`, its own process) serves both tools; the rounds
alternate their order after an untimed warm-up, so that machine load hits both alike. The plain run gets only a minimal
fresh-token hook (JWT-bearer grant with the tester kit's client key, one token per request, the
same single-use tokens the kit uses) and schemathesis' default checks and phases. The kit's run
is the real command (CAMARA checks, token layer, no-token probes, near-miss mutations, reports).

Cases/s, the same way for both: responses over the first-to-last response window (plain: counted by
an `after_call` hook; kit: `cases` / `active_window_s` from `fuzz.json`). Target: the kit keeps >= 75 % of plain.
Client CPU ms per case (each tool's process, startup included) is printed too: it is far less
sensitive than cases/s to other work on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_RATIO = 0.75

PLAIN_HOOK = '''
"""Minimal fresh-token hook for a plain `schemathesis run` (written by benchmarks/fuzz_throughput.py)."""
import atexit, json, os, time, uuid

import requests
import schemathesis
from joserfc import jwt
from joserfc.jwk import ECKey

KIT = json.load(open(os.environ["NV_BENCH_KIT"]))
JWK = KIT["client"]["private_key_jwk"]
KEY = ECKey.import_key(JWK)
HEADER = {"alg": KIT["client"].get("signing_alg", "ES256"), **({"kid": JWK["kid"]} if "kid" in JWK else {})}
SCOPES = {"/verify": KIT["scopes"]["phoneNumberVerify"], "/device-phone-number": KIT["scopes"]["phoneNumberShare"]}
SUBJECT = "operatortoken:" + KIT["subscribers"][0]["operator_token"]
SESSION = requests.Session()
CALLS = {"n": 0, "first": None, "last": None}


@schemathesis.auth(refresh_interval=None)
class FreshToken:
    def get(self, case, context):
        now = int(time.time())
        claims = {"iss": KIT["client"]["client_id"], "sub": SUBJECT, "aud": KIT["token_endpoint"], "iat": now,
                  "exp": now + 120, "jti": uuid.uuid4().hex,
                  "scope": f"{KIT['purpose']} {SCOPES[context.operation.path]}"}
        form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": jwt.encode(HEADER, claims, KEY)}
        return SESSION.post(KIT["token_endpoint"], data=form, timeout=10).json()["access_token"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def after_call(context, case, response):
    now = time.monotonic()
    CALLS["n"] += 1
    CALLS["first"] = CALLS["first"] or now
    CALLS["last"] = now
    CALLS.setdefault("statuses", {}).setdefault(str(response.status_code), 0)
    CALLS["statuses"][str(response.status_code)] += 1


@atexit.register
def _write():
    with open(os.environ["NV_BENCH_COUNT"], "w") as fh:
        json.dump(CALLS, fh)
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_reference(work: Path) -> tuple[subprocess.Popen, Path]:
    port = free_port()
    kit = work / "kit.json"
    server = subprocess.Popen(
        [str(BIN / "nv-conformance"), "serve", "--port", str(port), "--db", str(work / "ref.sqlite3"),
         "--kit", str(kit), "--no-access-log"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if kit.exists():
                    return server, kit
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("the reference provider did not start")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def plain_round(work: Path, kit: Path, version: str, seconds: int, seed: int, index: int) -> dict:
    hook = work / "plain_hook.py"
    hook.write_text(PLAIN_HOOK)
    count = work / f"plain-{index}.json"
    kit_data = json.loads(kit.read_text())
    base_url = kit_data["api_root"].rstrip("/") + kit_data["base_paths"][version]
    contract = ROOT / "schemas" / version / "number-verification.yaml"
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(hook), "NV_BENCH_KIT": str(kit), "NV_BENCH_COUNT": str(count)}
    started, cpu = time.monotonic(), children_cpu()
    subprocess.run(
        [str(BIN / "schemathesis"), "run", str(contract), "--url", base_url, "--max-time", str(seconds),
         "--seed", str(seed), "--workers", "1", "--generation-database", "none", "--no-color"],
        env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=seconds + 120,
    )
    wall, cpu = time.monotonic() - started, children_cpu() - cpu
    data = json.loads(count.read_text())
    window = (data["last"] - data["first"]) if data["n"] > 1 else wall
    return {"tool": "plain schemathesis run", "cases": data["n"], "seconds": round(window, 2),
            "cases_per_s": round(data["n"] / window, 1), "client_cpu_ms_per_case": round(1000 * cpu / max(data["n"], 1), 2),
            "statuses": data.get("statuses", {})}


def kit_round(work: Path, kit: Path, version: str, seconds: int, seed: int, index: int) -> dict:
    config = work / "target.yaml"
    config.write_text(f"kit: {kit}\napi_version: {version}\n")
    reports = work / f"kit-{index}"
    cpu = children_cpu()
    subprocess.run(
        [str(BIN / "nv-conformance"), "fuzz", "--config", str(config), "--duration", str(seconds), "--seed", str(seed),
         "--report-dir", str(reports), "--quiet", "--rate", "100000"],  # no pacing: like the plain run
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=seconds + 120,
    )
    cpu = children_cpu() - cpu
    figures = json.loads((reports / "fuzz.json").read_text())["fuzz"]
    window = figures.get("active_window_s") or figures["elapsed_s"]
    return {"tool": "nv-conformance fuzz", "cases": figures["cases"], "seconds": window,
            "cases_per_s": round(figures["cases"] / window, 1), "reported_cases_per_s": figures["cases_per_s"], "client_cpu_ms_per_case": round(1000 * cpu / max(figures["cases"], 1), 2),
            "findings": figures["findings"],
            "server_errors_5xx": figures["server_errors_5xx"], "ratio_401": figures["ratio_401"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="length of each run (default 20)")
    parser.add_argument("--rounds", type=int, default=4, help="plain/kit pairs, order alternating (default 4)")
    parser.add_argument("--api-version", default="vwip")
    parser.add_argument("--seed", type=int, default=20251126)
    parser.add_argument("--json", metavar="FILE", help="also write the figures here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="nv-fuzz-bench-") as tmp:
        work = Path(tmp)
        server, kit = start_reference(work)
        try:
            # An untimed warm-up (server caches, SQLite file, OS page cache), then rounds in alternating order
            # (plain-kit, kit-plain, ...) so that a trend in machine load does not favour either tool.
            kit_round(work, kit, args.api_version, max(3, args.seconds // 5), args.seed, -1)
            results = []
            for index in range(args.rounds):
                order = (plain_round, kit_round) if index % 2 == 0 else (kit_round, plain_round)
                for run in order:
                    result = run(work, kit, args.api_version, args.seconds, args.seed, index)
                    result["load_average_1m"] = round(os.getloadavg()[0], 2)
                    results.append(result)
                    print(json.dumps(result), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=10)

    def mean(tool: str) -> float:
        values = [r["cases_per_s"] for r in results if r["tool"] == tool]
        return sum(values) / len(values)

    plain, ours = mean("plain schemathesis run"), mean("nv-conformance fuzz")
    cpu_plain = sum(r["client_cpu_ms_per_case"] for r in results if r["tool"] == "plain schemathesis run") / args.rounds
    cpu_kit = sum(r["client_cpu_ms_per_case"] for r in results if r["tool"] == "nv-conformance fuzz") / args.rounds
    ratio = ours / plain if plain else 0.0
    summary = {"api_version": args.api_version, "seconds_per_run": args.seconds, "rounds": args.rounds,
               "plain_cases_per_s": round(plain, 1), "kit_cases_per_s": round(ours, 1),
               "kit_share_of_plain": round(ratio, 3), "overhead": round(1 - ratio, 3),
               "plain_client_cpu_ms_per_case": round(cpu_plain, 2), "kit_client_cpu_ms_per_case": round(cpu_kit, 2),
               "target_met": ratio >= TARGET_RATIO, "cpu_count": os.cpu_count(),
               "load_average_1m_end": round(os.getloadavg()[0], 2)}
    print(json.dumps(summary))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "runs": results}, indent=2) + "\n")
    return 0 if summary["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
