"""Version facts are data: a new API version whose rules exist is a data change only, and no code names a version.

The new-version tests copy the kit's schemas directory, add a version (an existing contract under
a new name and base path, plus its profile entry) and point the kit at it with NV_SCHEMAS_DIR:
``run`` against the embedded reference, and ``serve`` as its own process, must work unchanged.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from nv_conformance.config import load_config
from nv_conformance.errors import ConfigError
from nv_conformance.profiles import default_version, get_profile, versions
from nv_conformance.resources import SCHEMAS_DIR_ENV, schemas_dir
from reference_impl.embedded import EmbeddedReference, free_port

ROOT = Path(__file__).resolve().parents[1]
NEW_VERSION = "v9.8.7"
NEW_BASE_PATH = "/number-verification/v9"


def _profiles_yaml() -> dict:
    return yaml.safe_load((schemas_dir() / "profiles.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def new_version_schemas(tmp_path: Path) -> Path:
    """A schemas directory with one more version: the default version's contract and rules, renamed."""
    schemas = tmp_path / "schemas"
    shutil.copytree(schemas_dir(), schemas)
    source = get_profile(default_version())
    old_base = source.base_path
    text = source.contract_path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(  version:).*$", rf"\1 {NEW_VERSION.removeprefix('v')}", text, count=1)
    text = text.replace(old_base, NEW_BASE_PATH)
    (schemas / NEW_VERSION).mkdir()
    (schemas / NEW_VERSION / "number-verification.yaml").write_text(text, encoding="utf-8")
    profiles = _profiles_yaml()
    entry = dict(profiles[source.version], contract=f"{NEW_VERSION}/number-verification.yaml", base_path=NEW_BASE_PATH)
    entry.pop("default", None)
    profiles[NEW_VERSION] = entry
    (schemas / "profiles.yaml").write_text(yaml.safe_dump(profiles, sort_keys=False), encoding="utf-8")
    return schemas


def _cli(*args: str, schemas: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, SCHEMAS_DIR_ENV: str(schemas), "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "nv_conformance.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, check=False, cwd=ROOT)


@pytest.mark.slow
def test_a_new_version_runs_against_the_embedded_reference_with_no_code_change(new_version_schemas, tmp_path):
    done = _cli("run", "--api-version", NEW_VERSION, "--report-dir", str(tmp_path / "r"), "--quiet",
                schemas=new_version_schemas)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("verdict: conformant"), done.stdout
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["api_version"] == NEW_VERSION
    assert results["options"]["base_path"] == NEW_BASE_PATH
    assert results["totals"]["passed"] > 20


def test_a_new_version_is_served_in_process(new_version_schemas, monkeypatch):
    monkeypatch.setenv(SCHEMAS_DIR_ENV, str(new_version_schemas))
    assert NEW_VERSION in versions()
    with EmbeddedReference() as reference:
        assert reference.kit["base_paths"][NEW_VERSION] == NEW_BASE_PATH
        token = _jwt_bearer_token(reference.kit)
        answer = httpx.post(reference.api_root + NEW_BASE_PATH + "/verify", headers={"Authorization": f"Bearer {token}"},
                            json={"phoneNumber": reference.kit["subscribers"][0]["phone_number"]})
        assert answer.status_code == 200 and answer.json() == {"devicePhoneNumberVerified": True}


@pytest.mark.slow
def test_a_new_version_is_served_standalone_and_passes_a_run_from_its_kit(new_version_schemas, tmp_path):
    port = free_port()
    kit = tmp_path / "kit.json"
    env = {**os.environ, SCHEMAS_DIR_ENV: str(new_version_schemas), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen([sys.executable, "-m", "nv_conformance.cli", "serve", "--port", str(port),
                               "--db", str(tmp_path / "serve.sqlite3"), "--kit", str(kit)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline = time.monotonic() + 30
        while not kit.exists() or not _answers(port):
            assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        assert json.loads(kit.read_text())["base_paths"][NEW_VERSION] == NEW_BASE_PATH
        config = tmp_path / "target.yaml"
        config.write_text(f"kit: {kit}\napi_version: {NEW_VERSION}\n", encoding="utf-8")
        done = _cli("run", "--config", str(config), "--no-reports", "--quiet", schemas=new_version_schemas)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith("verdict: conformant"), done.stdout
    finally:
        server.terminate()
        try:
            output = server.communicate(timeout=15)[0]
        except subprocess.TimeoutExpired:
            server.kill()
            output = server.communicate()[0]
    assert NEW_VERSION in output  # the start-up line lists the served versions


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/jwks", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _jwt_bearer_token(kit: dict) -> str:
    from nv_conformance.tokens import TokenKind, build_token_provider

    provider = build_token_provider({}, kit=kit)
    try:
        scope = kit["scopes"]["phoneNumberVerify"]
        return provider.get(TokenKind.VALID, scope).access_token
    finally:
        provider.close()


# -- no version literal in code ----------------------------------------------------------------------

def test_no_api_version_is_named_in_engine_or_reference_code():
    names = set(versions()) | {"v1.0.0", "v2.0.0", "v2.1.0", "vwip"}
    pattern = re.compile("|".join(re.escape(n) + r"(?![\w.])" for n in sorted(names, key=len, reverse=True)))
    allowed = {ROOT / "nv_conformance" / "profiles.py"}  # the loader's error messages give an example name
    found = []
    for package in ("nv_conformance", "reference_impl"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line) and not (path in allowed and "ProfileError" in line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


# -- a --spec of another version ----------------------------------------------------------------------

def test_a_spec_of_another_version_is_one_line_naming_both(tmp_path):
    under_test, other = default_version(), next(v for v in versions() if v != default_version())
    spec = get_profile(other).contract_path
    with pytest.raises(ConfigError) as caught:
        load_config(None, api_version=under_test, spec=spec)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("config: spec: ")
    assert other.removeprefix("v") in message and under_test in message
    assert load_config(None, api_version=other, spec=spec).spec == spec.resolve()


# -- the profile file is checked ----------------------------------------------------------------------

def test_a_broken_profile_entry_names_the_entry_and_key(tmp_path, monkeypatch):
    from nv_conformance.profiles import ProfileError

    schemas = tmp_path / "schemas"
    shutil.copytree(schemas_dir(), schemas)
    profiles, broken = _profiles_yaml(), default_version()
    del profiles[broken]["base_path"]
    (schemas / "profiles.yaml").write_text(yaml.safe_dump(profiles), encoding="utf-8")
    monkeypatch.setenv(SCHEMAS_DIR_ENV, str(schemas))
    with pytest.raises(ProfileError, match=f"{broken}: missing 'base_path'"):
        versions()
