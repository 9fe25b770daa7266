"""One PostgreSQL server per test session, and `serve` instances sharing a database on it."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reference_impl.embedded import free_port
from reference_impl.pg_sandbox import TemporaryPostgres, find_binaries

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def postgres() -> Iterator[TemporaryPostgres]:
    folder, reason = find_binaries()
    if folder is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {reason} (.ci/run installs it)")
        pytest.skip(reason)
    with TemporaryPostgres() as server:
        yield server


@pytest.fixture
def database(postgres: TemporaryPostgres) -> str:
    """A fresh database of its own for one test."""
    return postgres.create_database("t_" + secrets.token_hex(6))


class Instance:
    """One `nv-conformance serve` process on its own port."""

    def __init__(self, db: str, public_url: str, workdir: Path, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.kit_path = workdir / f"kit-{self.port}.json"
        cmd = [sys.executable, "-m", "nv_conformance.cli", "serve", "--port", str(self.port), "--db", db,
               "--public-url", public_url, "--kit", str(self.kit_path), "--no-access-log", *extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/jwks", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
            if self.proc.poll() is not None:
                break
        self.proc.kill()
        pytest.fail("serve did not start: " + (self.proc.communicate()[0] or ""))

    @property
    def kit(self) -> dict:
        return json.loads(self.kit_path.read_text())

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            out, _ = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out or ""


class Sandbox:
    """N instances on one database, all answering as one public URL (the load balancer's)."""

    def __init__(self, db: str, workdir: Path, count: int = 2, *extra: str) -> None:
        self.public_port = free_port()
        self.public_url = f"http://127.0.0.1:{self.public_port}"
        self.instances = [Instance(db, self.public_url, workdir, *extra) for _ in range(count)]
        for instance in self.instances:
            instance.wait_ready()
        self.kit = self.instances[0].kit

    def local(self, url: str, instance: int) -> str:
        """``url`` (under the public URL) sent straight to one instance."""
        return url.replace(self.public_url, self.instances[instance].url, 1)

    def stop(self) -> list[str]:
        return [instance.stop() for instance in self.instances]


@pytest.fixture(scope="module")
def sandbox(postgres: TemporaryPostgres, tmp_path_factory) -> Iterator[Sandbox]:
    db = postgres.create_database("sandbox_" + secrets.token_hex(4))
    box = Sandbox(db, tmp_path_factory.mktemp("sandbox"))
    yield box
    box.stop()
