"""The kit's own authorization-code config passes the full conformance run against `serve --tls-cert/--tls-key
--public-url https://...` (discovery, kit and redirect URIs https) and against `serve --host ::1`."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from loopback import self_signed

from reference_impl.embedded import free_port

from .test_serve_hardening import Served

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def trust(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


@pytest.mark.slow
def test_the_kits_authorization_code_config_passes_over_tls(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "nv-conformance reference test")
    port = free_port()
    served = Served(tmp_path, "--tls-cert", str(cert), "--tls-key", str(key),
                    "--public-url", f"https://127.0.0.1:{port}", port=port, scheme="https", verify=trust(cert))
    try:
        kit = json.loads(served.kit_path.read_text())
        assert kit["issuer"] == f"https://127.0.0.1:{port}"
        assert kit["client"]["redirect_uri"].startswith("https://")
        discovery = httpx.get(kit["openid_configuration_url"], verify=trust(cert), timeout=5).json()
        assert all(discovery[name].startswith("https://") for name in ("authorization_endpoint", "token_endpoint"))
        assert httpx.get(f"https://127.0.0.1:{port}/jwks", verify=trust(cert), timeout=5).status_code == 200
        run_kit_config(tmp_path, served.kit_path, f"tls:\n  ca_bundle: {cert}\n")
    finally:
        served.stop()


def run_kit_config(tmp_path: Path, kit_path: Path, extra_config: str = "") -> None:
    config = tmp_path / "target.yaml"
    shutil.copy(EXAMPLES / "target-reference-authorization-code.yaml", config)
    shutil.copy(kit_path, tmp_path / "tester-kit.json")
    with config.open("a") as handle:
        handle.write(extra_config)
    reports = tmp_path / "reports"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NV_")}
    done = subprocess.run(
        [sys.executable, "-m", "nv_conformance.cli", "run", "--config", str(config), "--report-dir", str(reports),
         "--quiet"], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    totals = json.loads((reports / "results.json").read_text())["totals"]
    assert totals.get("passed", 0) >= 40 and not totals.get("failed") and not totals.get("skipped"), totals


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_the_kits_authorization_code_config_passes_against_an_ipv6_listener(tmp_path: Path) -> None:
    served = Served(tmp_path, "--host", "::1", host="[::1]")
    try:
        kit = json.loads(served.kit_path.read_text())
        port = served.port
        assert kit["issuer"] == f"http://[::1]:{port}" and kit["token_endpoint"].startswith(f"http://[::1]:{port}/")
        assert kit["client"]["redirect_uri"] == f"http://[::1]:{port}/demo-callback"
        # devices are IPv4 loopback aliases: the device-facing endpoints are reachable on 127.0.0.1 too
        assert kit["authorization_endpoint"] == f"http://127.0.0.1:{port}/authorize"
        run_kit_config(tmp_path, served.kit_path)
    finally:
        served.stop()
