"""A sandbox survives losing an instance mid-load, and the kit's full run passes against it."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import threading

import httpx
import psycopg
import pytest

from reference_impl.keys import load_server_keys
from reference_impl.store_postgres import PostgresStore
from reference_impl.tokens import AMR_SIM, AccessTokenIssuer, TokenGrant

from .conftest import ROOT, Sandbox
from .round_robin import RoundRobinProxy

VERIFY_PATH = "/number-verification/vwip/verify"
pytestmark = pytest.mark.slow


def _mint(db: str, sandbox: Sandbox, count: int) -> list[tuple[str, str]]:
    """(jti, token) pairs signed with the sandbox's shared key, as its token endpoint would sign them."""
    store = PostgresStore(db)
    try:
        subscriber = store.subscriber_by_number(sandbox.kit["subscribers"][0]["phone_number"])
        issuer = AccessTokenIssuer(load_server_keys(store), sandbox.public_url, sandbox.kit["api_root"])
    finally:
        store.close()
    grant = TokenGrant(subscriber.id, sandbox.kit["client"]["client_id"], ("number-verification:verify",),
                       AMR_SIM, "dpv:FraudPreventionAndDetection")
    pairs = []
    for _ in range(count):
        token, claims = issuer.mint(grant, 300)
        pairs.append((claims["jti"], token))
    return pairs


async def _load(urls: list[str], pairs: list[tuple[str, str]], phone: str, kill_after: int, kill) -> dict:
    """Each token is sent to both instances at once; the second instance is killed part-way through."""
    accepted: dict[str, int] = {}
    sent = 0
    limits = httpx.Limits(max_connections=40)
    async with httpx.AsyncClient(limits=limits, timeout=10) as http:
        async def use(url: str, jti: str, token: str) -> None:
            try:
                response = await http.post(url, json={"phoneNumber": phone}, headers={"Authorization": f"Bearer {token}"})
            except httpx.TransportError:
                return  # the killed instance: no answer, so nothing was accepted from the client's view
            if response.status_code == 200:
                accepted[jti] = accepted.get(jti, 0) + 1
            else:
                assert response.status_code == 401, response.text

        for start in range(0, len(pairs), 20):
            batch = pairs[start:start + 20]
            await asyncio.gather(*(use(url, jti, token) for jti, token in batch for url in urls))
            sent += len(batch)
            if sent >= kill_after and kill is not None:
                threading.Thread(target=kill).start()  # dies while the next batches are in flight
                kill = None
    return accepted


def test_kill_9_of_one_instance_under_load_loses_nothing_and_accepts_nothing_twice(database, tmp_path):
    sandbox = Sandbox(database, tmp_path)
    try:
        pairs = _mint(database, sandbox, 400)
        phone = sandbox.kit["subscribers"][0]["phone_number"]
        urls = [sandbox.local(sandbox.kit["api_root"], i) + VERIFY_PATH for i in (0, 1)]
        accepted = asyncio.run(_load(urls, pairs, phone, 100, sandbox.instances[1].kill))
        assert sandbox.instances[1].proc.returncode == -9
        assert all(count == 1 for count in accepted.values()), "a token was accepted twice"
        assert len(accepted) >= 300  # the survivor kept serving
        with psycopg.connect(database) as conn:
            recorded = {row[0] for row in conn.execute("SELECT jti FROM used_access_tokens")}
        assert set(accepted) <= recorded, "an accepted token's use was lost"
        # every recorded token is refused from now on; a token the killed instance never recorded still works once
        survivor = sandbox.local(sandbox.kit["api_root"], 0) + VERIFY_PATH
        with httpx.Client(timeout=10) as http:
            for jti, token in pairs:
                replay = http.post(survivor, json={"phoneNumber": phone}, headers={"Authorization": f"Bearer {token}"})
                assert replay.status_code == (401 if jti in recorded else 200), jti
    finally:
        sandbox.stop()


def test_the_kits_full_run_passes_against_two_instances_behind_a_round_robin(database, tmp_path):
    sandbox = Sandbox(database, tmp_path)
    try:
        with RoundRobinProxy([i.url for i in sandbox.instances], port=sandbox.public_port) as proxy:
            config = tmp_path / "target.yaml"
            config.write_text(f"kit: {sandbox.instances[0].kit_path}\n")
            run = subprocess.run([sys.executable, "-m", "nv_conformance.cli", "run", "--config", str(config),
                                  "--report-dir", str(tmp_path / "reports")],
                                 capture_output=True, text=True, cwd=ROOT, timeout=600)
            assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
            assert "Verdict: CONFORMANT" in run.stdout + run.stderr, run.stdout[-3000:]
            # both instances really served the run, request after request
            counts = list(proxy.sent.values())
            assert min(counts) > 20 and abs(counts[0] - counts[1]) <= 1, proxy.sent
    finally:
        sandbox.stop()


def test_a_fresh_database_per_test_is_really_separate(postgres):
    first, second = postgres.create_database("a_" + secrets.token_hex(4)), postgres.create_database("b_" + secrets.token_hex(4))
    one, two = PostgresStore(first), PostgresStore(second)
    try:
        assert one.consume_access_token("same", 1e10) and two.consume_access_token("same", 1e10)
    finally:
        one.close()
        two.close()
