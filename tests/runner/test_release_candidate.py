"""A release candidate: `serve --api-version V --also-at V=<rc base path>` and a target whose base_path is the rc's.

The official 2.1.1-rc.2 share feature (read from ../shared/camara when present, skipped otherwise)
runs against it with zero undefined steps; the reference's /number-verification/v2 behaves as 2.1.1
when that version is named (single-use tokens, which 2.1.0 does not demand).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from camara_files import OFFICIAL

from nv_conformance.bdd.runner import run_features as run_behave_in_process
from nv_conformance.profiles import get_profile
from nv_conformance.results import Outcome
from nv_conformance.tokens import TokenKind, build_token_provider
from reference_impl.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]
VERSION = "v2.1.1"
RC_BASE_PATH = "/number-verification/v2rc2"
RC_FILES = OFFICIAL / "v2.1.1-rc.2"

pytestmark = pytest.mark.slow


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nv_conformance.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def rc_server(tmp_path_factory):
    """``serve --api-version v2.1.1 --also-at v2.1.1=/number-verification/v2rc2``: (kit, process output so far)."""
    tmp = tmp_path_factory.mktemp("rc")
    port = free_port()
    kit_path = tmp / "kit.json"
    cmd = [sys.executable, "-m", "nv_conformance.cli", "serve", "--port", str(port), "--db", str(tmp / "db.sqlite3"),
           "--kit", str(kit_path), "--api-version", VERSION, "--also-at", f"{VERSION}={RC_BASE_PATH}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/jwks", timeout=1).status_code == 200 and kit_path.exists():
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("serve did not start")
        yield json.loads(kit_path.read_text()), tmp
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def _target(tmp: Path, kit: dict, base_path: str | None) -> Path:
    (tmp / "kit.json").write_text(json.dumps(kit))
    config = tmp / f"target{'-rc' if base_path else ''}.yaml"
    config.write_text(f"kit: kit.json\napi_version: {VERSION}\n" + (f"base_path: {base_path}\n" if base_path else ""))
    return config


@pytest.mark.skipif(not RC_FILES.is_dir(), reason="CAMARA's official files are not available here")
def test_the_official_rc_share_feature_runs_against_the_rc_base_path(rc_server):
    kit, tmp = rc_server
    config = _target(tmp, kit, RC_BASE_PATH)
    run = run_behave_in_process(RC_FILES, tags=[], names=[], userdata={"progress": "off", "config": str(config)})
    assert run.undefined_steps == []
    assert [(s.name, s.outcome, s.reason) for s in run.scenarios if s.outcome != Outcome.PASSED] == []
    assert run.count(Outcome.PASSED) == 7
    sent = {e.url for s in run.scenarios for e in s.exchanges}
    assert sent and all(RC_BASE_PATH + "/device-phone-number" in url for url in sent)


def test_our_features_pass_at_the_rc_base_path(rc_server):
    kit, tmp = rc_server
    config = _target(tmp, kit, RC_BASE_PATH)
    done = _cli("run", "--config", str(config), "--report-dir", str(tmp / "r"), "--quiet", timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("verdict: conformant"), done.stdout
    results = json.loads((tmp / "r" / "results.json").read_text())
    assert results["options"]["base_path"] == RC_BASE_PATH
    assert results["options"]["release_tag"] == get_profile(VERSION).release
    assert results["options"]["commonalities"] == "0.9.0" and results["options"]["icm"] == "0.5.0"
    passed = {t for s in results["scenarios"] if s["outcome"] == "passed" for t in s["tags"]}
    assert {"nv_verify_31_unknown_property_beside_phone_number", "nv_verify_33_phone_number_over_max_length",
            "nv_verify_21_token_already_used"} <= passed


def test_the_shared_base_path_serves_the_named_version(rc_server):
    kit, _ = rc_server
    assert kit["base_paths"][VERSION] == "/number-verification/v2"
    provider = build_token_provider({}, kit=kit)
    try:
        token = provider.get(TokenKind.VALID, kit["scopes"]["phoneNumberShare"]).access_token
    finally:
        provider.close()
    url = kit["api_root"] + "/number-verification/v2/device-phone-number"
    with httpx.Client(timeout=10) as http:
        first = http.get(url, headers={"Authorization": f"Bearer {token}"})
        again = http.get(url, headers={"Authorization": f"Bearer {token}"})
    assert first.status_code == 200
    assert again.status_code == 401 and again.json()["code"] == "UNAUTHENTICATED"  # 2.1.1's single-use rule


def test_a_bad_also_at_is_one_line():
    for value in ("v2.1.1", "v9.9.9=/x", f"{VERSION}=/number-verification/v2"):
        done = _cli("serve", "--port", "0", "--api-version", VERSION, "--also-at", value)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "--also-at" in lines[0] and "Traceback" not in done.stderr


@pytest.mark.skipif(not RC_FILES.is_dir(), reason="CAMARA's official files are not available here")
def test_the_embedded_reference_serves_a_release_candidate_base_path(tmp_path):
    config = tmp_path / "target.yaml"
    config.write_text(f"embedded: true\napi_version: {VERSION}\nbase_path: {RC_BASE_PATH}\n")
    run = run_behave_in_process(RC_FILES, tags=[], names=[], userdata={"progress": "off", "config": str(config)})
    assert run.undefined_steps == []
    assert run.count(Outcome.PASSED) == 7 and len(run.scenarios) == 7
