"""Load test of POST /verify on the reference provider: fresh pre-minted tokens, real checks, wrk as the load.

    .venv/bin/python benchmarks/load_verify.py [--workers 2] [--connections 32] [--duration 10]
    .venv/bin/python benchmarks/load_verify.py --db postgresql://user@host:port/dbname   # or --db sandbox

With ``--db``, the same run also loads two instances sharing that PostgreSQL database (``sandbox``:
a temporary PostgreSQL server with fsync on, started and removed by the script), the load split
evenly over their ports as a round-robin balancer would, and prints both figures and their ratio.
``--rounds N`` keeps both setups running and loads them in turn N times (tokens minted per round),
so that shifts in the load of a shared machine hit both alike; it prints each round's ratio and the
median. With ``sandbox`` the PostgreSQL server's own CPU per request is measured too.

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
from reference_impl.store_postgres import PostgresStore, is_postgres_url, redact_url  # noqa: E402
from reference_impl.tokens import AMR_SIM, AccessTokenIssuer, TokenGrant  # noqa: E402

VERIFY_SCOPE = ("number-verification:verify",)
TOKEN_LIFETIME_SECONDS = 300
_issuer: AccessTokenIssuer | None = None
_subscriber_id = ""


def open_store(db: str) -> Store | PostgresStore:
    return PostgresStore(db) if is_postgres_url(db) else Store(db)


def _init_minter(db: str, issuer_url: str, subscriber_id: str) -> None:
    global _issuer, _subscriber_id
    store = open_store(db)
    _issuer = AccessTokenIssuer(load_server_keys(store), issuer_url, issuer_url)
    store.close()
    _subscriber_id = subscriber_id


def _mint(count: int) -> list[str]:
    assert _issuer is not None
    grant = TokenGrant(_subscriber_id, "nv-demo-client", VERIFY_SCOPE, AMR_SIM, "dpv:FraudPreventionAndDetection")
    return [_issuer.mint(grant, TOKEN_LIFETIME_SECONDS)[0] for _ in range(count)]


def mint_tokens(db: str, issuer_url: str, subscriber_id: str, count: int, processes: int) -> list[str]:
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


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
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


class Setup:
    """``instances`` servers on ``db`` (one public URL), with fresh tokens for every round, until stop()."""

    def __init__(self, args: argparse.Namespace, db: str, instances: int, workers: int, work: Path,
                 db_pid: int | None = None) -> None:
        self.args, self.db, self.instances, self.workers, self.db_pid = args, db, instances, workers, db_pid
        self.kind = "postgresql" if is_postgres_url(db) else "sqlite"
        self.label = redact_url(db) if is_postgres_url(db) else "sqlite"
        self.ports = [free_port() for _ in range(instances)]
        issuer_url = f"http://127.0.0.1:{self.ports[0]}"  # the "load balancer" name every instance answers as
        kit_path = work / f"kit-{self.ports[0]}.json"
        self.servers: list[subprocess.Popen] = []
        for index, port in enumerate(self.ports):
            extra = ["--kit", str(kit_path)] if index == 0 else []
            self.servers.append(subprocess.Popen(
                [sys.executable, "-m", "nv_conformance.cli", "serve", "--port", str(port), "--db", db,
                 "--public-url", issuer_url, "--workers", str(workers), "--no-access-log", *extra],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT))
            wait_ready(f"http://127.0.0.1:{port}/jwks", self.servers[-1])  # one by one: the first seeds the database
        kit = json.loads(kit_path.read_text())
        self.phone = kit["subscribers"][0]["phone_number"]
        store = open_store(db)
        subscriber_id = store.subscriber_by_number(self.phone).id  # type: ignore[union-attr]
        store.close()
        self.issuer_url, self.subscriber_id, self.work = issuer_url, subscriber_id, work
        self.minted_at = 0.0
        self.files: list[Path] = []  # the current round's tokens, one file per instance
        warm_up_tokens = self._mint(20 * instances)
        for index, port in enumerate(self.ports):  # warm up every worker: imports, its database connections
            for token in warm_up_tokens[index::instances]:
                httpx.post(f"http://127.0.0.1:{port}" + args.version_path + "/verify", timeout=10,
                           json={"phoneNumber": self.phone}, headers={"Authorization": f"Bearer {token}"})

    def _mint(self, count: int) -> list[str]:
        return mint_tokens(self.db, self.issuer_url, self.subscriber_id, count, processes=os.cpu_count() or 2)

    def mint_round(self, round_index: int) -> None:
        """Fresh tokens for one round, minted just before it: they live 300 s and minting is slow under load."""
        started = self.minted_at = time.monotonic()
        tokens = self._mint(self.args.max_rate * self.args.duration)
        if not self.args.json:
            print(f"{self.label}: minted {len(tokens)} fresh tokens in {time.monotonic() - started:.1f} s",
                  file=sys.stderr)
        self.files = []
        for index in range(self.instances):
            self.files.append(self.work / f"tokens-{self.ports[0]}-{round_index}-{index}.txt")
            self.files[-1].write_text("\n".join(tokens[index::self.instances]) + "\n")

    def stop(self) -> None:
        for server in self.servers:
            server.terminate()
        for server in self.servers:
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()

    def load(self, round_index: int) -> dict:
        """One round of wrk load, split evenly over the instances' ports; its figures."""
        args, instances = self.args, self.instances
        if time.monotonic() - self.minted_at + args.duration > TOKEN_LIFETIME_SECONDS - 10:
            raise SystemExit(f"{self.label}: the tokens minted for round {round_index + 1} would expire during "
                             "it (minting is slow on a loaded machine): a lower --max-rate or --duration")
        load_before = os.getloadavg()[0]
        server_cpu_before = sum(tree_cpu_seconds(s.pid) for s in self.servers)
        db_cpu_before = tree_cpu_seconds(self.db_pid) if self.db_pid else 0.0
        wrk_cpu_before = _children_cpu()
        connections = max(1, args.connections // instances)
        threads = max(1, args.threads // instances)
        runs = [subprocess.Popen(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{args.duration}s", "--latency",
             "-s", str(HERE / "load_verify.lua"), f"http://127.0.0.1:{port}",
             "--", str(file), str(threads), args.version_path + "/verify", self.phone],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for port, file in zip(self.ports, self.files, strict=True)]
        outputs = [run.communicate(timeout=args.duration + 60) for run in runs]
        server_cpu = sum(tree_cpu_seconds(s.pid) for s in self.servers) - server_cpu_before
        db_cpu = tree_cpu_seconds(self.db_pid) - db_cpu_before if self.db_pid else None
        wrk_cpu = _children_cpu() - wrk_cpu_before
        raws = []
        for stdout, stderr in outputs:
            line = next((ln for ln in stdout.splitlines() if ln.startswith("NV_RESULT ")), None)
            if line is None:
                raise SystemExit("wrk gave no result:\n" + stdout[-2000:] + stderr[-2000:])
            raws.append(json.loads(line.removeprefix("NV_RESULT ")))
        requests = sum(r["requests"] for r in raws)
        duration_s = max(r["duration_us"] for r in raws) / 1e6
        errors = sum(r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"] + r["non200"]
                     for r in raws)
        per = max(requests, 1)
        summary = {
            "database": self.label, "instances": instances, "workers_per_instance": self.workers,
            "round": round_index + 1,
            "requests": requests, "requests_per_second": round(requests / duration_s, 1),
            # per instance when there are several (wrk cannot merge histograms): the worst of them
            "p50_ms": max(r["p50_us"] for r in raws) / 1000, "p90_ms": max(r["p90_us"] for r in raws) / 1000,
            "p99_ms": max(r["p99_us"] for r in raws) / 1000, "max_ms": max(r["max_us"] for r in raws) / 1000,
            "errors": errors, "non200": sum(r["non200"] for r in raws),
            "tokens_exhausted": sum(r["tokens_exhausted"] for r in raws),
            "connections": connections * instances, "duration_s": args.duration,
            "load_average_before": round(load_before, 2), "cpus": os.cpu_count(),
            # CPU cost per request, independent of what else runs on the machine: the capacity of an idle
            # machine is about cpus / (server + database + wrk CPU per request)
            "server_cpu_us_per_request": round(server_cpu / per * 1e6, 1),
            # the PostgreSQL server's own processes (only for `--db sandbox`: a server this script started)
            "database_cpu_us_per_request": round(db_cpu / per * 1e6, 1) if db_cpu is not None else None,
            "wrk_cpu_us_per_request": round(wrk_cpu / per * 1e6, 1),
        }
        per_request = (server_cpu + (db_cpu or 0.0) + wrk_cpu) / per
        summary["idle_machine_estimate_rps"] = round((os.cpu_count() or 1) / per_request) if per_request else None
        if not args.json:
            db_part = (f", database {summary['database_cpu_us_per_request']} us"
                       if db_cpu is not None else "")
            print(f"round {round_index + 1}: {self.label}, {instances} instance(s) x {self.workers} worker(s): "
                  f"POST {args.version_path}/verify: {summary['requests_per_second']} req/s over {args.duration} s, "
                  f"{summary['connections']} connections; p50 {summary['p50_ms']:.2f} ms, p99 {summary['p99_ms']:.2f}"
                  f" ms; errors {errors} (non-200 {summary['non200']}, tokens exhausted "
                  f"{summary['tokens_exhausted']}); 1-min load average before {load_before:.2f} on "
                  f"{os.cpu_count()} CPUs; CPU per request: server {summary['server_cpu_us_per_request']} us"
                  f"{db_part}, wrk {summary['wrk_cpu_us_per_request']} us", file=sys.stderr)
        return summary


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers of the SQLite instance (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections in all (default 32)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads in all (default 2)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per setup (default 10)")
    parser.add_argument("--max-rate", type=int, default=10000,
                        help="tokens minted per second of load; must exceed the achieved rate (default 10000)")
    parser.add_argument("--version-path", default="/number-verification/vwip", help="base path to load")
    parser.add_argument("--db", default=None, metavar="URL",
                        help="also load two instances sharing this PostgreSQL database (postgresql://...), or "
                             "`sandbox` for a temporary PostgreSQL server of the script's own")
    parser.add_argument("--instances", type=int, default=2, help="PostgreSQL instances (default 2)")
    parser.add_argument("--instance-workers", type=int, default=1,
                        help="uvicorn workers per PostgreSQL instance (default 1: as many processes in all as "
                             "the SQLite instance's 2 workers)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds of load per setup, the setups taking turns (default 1); the median is reported")
    parser.add_argument("--json", action="store_true", help="print only the JSON result line")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    if not 1 <= args.duration <= 120:
        raise SystemExit("--duration must be 1..120 s (tokens live 300 s)")
    if not 1 <= args.rounds <= 20:
        raise SystemExit("--rounds must be 1..20")
    if args.db is not None and args.db != "sandbox" and not is_postgres_url(args.db):
        raise SystemExit("--db must be a postgresql:// URL or `sandbox`")

    work = Path(tempfile.mkdtemp(prefix="nv-bench-"))
    sandbox = None
    setups: list[Setup] = []
    rounds: list[dict] = []
    try:
        setups.append(Setup(args, str(work / "bench.sqlite3"), 1, args.workers, work))
        if args.db is not None:
            db, db_pid = args.db, None
            if db == "sandbox":
                from reference_impl.pg_sandbox import TemporaryPostgres

                sandbox = TemporaryPostgres(settings={"fsync": "on", "full_page_writes": "on"}).start()
                db, db_pid = sandbox.url, sandbox.pid
            setups.append(Setup(args, db, args.instances, args.instance_workers, work, db_pid))
        for round_index in range(args.rounds):  # interleaved: both setups see the same shifts in machine load
            for setup in setups:
                setup.mint_round(round_index)
            rounds.append({setup.kind: setup.load(round_index) for setup in setups})
    finally:
        for setup in setups:
            setup.stop()
        if sandbox is not None:
            sandbox.stop()
        shutil.rmtree(work, ignore_errors=True)
    output: dict = {"rounds": rounds}
    if len(setups) == 2:
        ratios = [r["postgresql"]["requests_per_second"] / r["sqlite"]["requests_per_second"] for r in rounds]
        for r, ratio in zip(rounds, ratios, strict=True):
            r["postgresql_over_sqlite"] = round(ratio, 3)
        output["median_postgresql_over_sqlite"] = round(_median(ratios), 3)
        if not args.json:
            for r in rounds:
                print(f"round {r['sqlite']['round']}: SQLite {r['sqlite']['requests_per_second']:.0f} req/s, "
                      f"{args.instances} x PostgreSQL {r['postgresql']['requests_per_second']:.0f} req/s: "
                      f"{r['postgresql_over_sqlite']:.0%} (load average {r['sqlite']['load_average_before']:.1f} / "
                      f"{r['postgresql']['load_average_before']:.1f})")
            print(f"median over {len(ratios)} round(s): {args.instances} PostgreSQL instances reach "
                  f"{_median(ratios):.0%} of the single SQLite instance's req/s")
    for key in ("sqlite", "postgresql"):
        if key in rounds[0]:
            output[f"median_{key}_requests_per_second"] = _median([r[key]["requests_per_second"] for r in rounds])
    print(json.dumps(output))
    clean = all(s["errors"] == 0 and s["tokens_exhausted"] == 0 for r in rounds for s in r.values()
                if isinstance(s, dict))
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
