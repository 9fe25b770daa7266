"""Pre-flight: the tester's own broken setup is one line and exit 3 ("inconclusive"), never "not conformant".

Each case is a small loopback server (or none at all): an API root nobody listens on, a token
endpoint refusing the tester's client with ``invalid_client``, and the reference behind a wrong base path.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from loopback import LoopbackServer

from nv_conformance.cli import main as cli_main


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RefusingServer(LoopbackServer):
    """Answers every API call 401 and every token request 401 ``invalid_client`` (the tester's key is wrong)."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                server.paths.append(self.path)
                if self.path == "/token":
                    body = {"error": "invalid_client", "error_description": "client authentication failed"}
                else:
                    body = {"status": 401, "code": "UNAUTHENTICATED", "message": "no token"}
                payload = json.dumps(body).encode()
                self.send_response(401)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        super().__init__(Handler)


def assert_inconclusive_in_one_line(code: int, capfd: pytest.CaptureFixture[str], report_dir: Path, *needles: str) -> str:
    out, err = capfd.readouterr()
    assert code == 3, (out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("nv-conformance run: pre-flight failed: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "not conformant" not in (out + err).lower()
    assert not (report_dir / "results.json").exists()  # no scenario ran, so there is nothing to report
    return lines[0]


def test_an_unreachable_api_root_is_one_line_and_exit_3(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    port = closed_port()
    config = tmp_path / "target.yaml"
    config.write_text(f"api_root: http://127.0.0.1:{port}\napi_version: vwip\n"
                      "tokens:\n  valid: {method: static, token: some-opaque-token}\n")
    code = cli_main(["run", "--config", str(config), "--report-dir", str(tmp_path / "r")])
    line = assert_inconclusive_in_one_line(code, capfd, tmp_path / "r", f"127.0.0.1:{port}", "does not answer")
    assert "ConnectError" in line


@pytest.fixture
def client_key(tmp_path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "client.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


@pytest.fixture
def refusing() -> Iterator[RefusingServer]:
    with RefusingServer() as server:
        yield server


def test_a_token_endpoint_refusing_the_client_is_one_line_with_status_and_oauth_error(
    tmp_path: Path, client_key: Path, refusing: RefusingServer, capfd: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "target.yaml"
    config.write_text(
        f"api_root: {refusing.url}\napi_version: vwip\n"
        "tokens:\n  defaults:\n    method: jwt-bearer\n"
        f"    token_endpoint: {refusing.url}/token\n    issuer: {refusing.url}\n"
        f"    client_id: nv-client\n    private_key_file: {client_key}\n    signing_alg: ES256\n"
        "    purpose: dpv:FraudPreventionAndDetection\n"
        '  valid: {subject: "operatortoken:abc"}\n  other_scope: {subject: "operatortoken:abc"}\n'
        '  non_network: {subject: "tel:+447700900001"}\n'
    )
    code = cli_main(["run", "--config", str(config), "--report-dir", str(tmp_path / "r")])
    line = assert_inconclusive_in_one_line(code, capfd, tmp_path / "r", "no valid access token", "HTTP 401",
                                           "invalid_client", "/token")
    assert line.index("HTTP 401") < line.index("invalid_client")
    # the token endpoint was asked once per configured kind (valid, other_scope, non_network), side by
    # side, and nothing was retried or run after the refusal
    assert refusing.paths.count("/token") == 3
    assert [p for p in refusing.paths if p != "/token"] == ["/number-verification/vwip/verify"]  # the probe only


def test_a_wrong_base_path_is_one_line_with_the_hint(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from reference_impl.embedded import EmbeddedReference

    with EmbeddedReference(versions=["vwip"]) as reference:
        (tmp_path / "kit.json").write_text(json.dumps(reference.kit))
        config = tmp_path / "target.yaml"
        config.write_text("kit: kit.json\napi_version: vwip\nbase_path: /number-verification/v9\n")
        code = cli_main(["run", "--config", str(config), "--report-dir", str(tmp_path / "r")])
    assert_inconclusive_in_one_line(code, capfd, tmp_path / "r", "every operation answered 404 at",
                                    "/number-verification/v9", "check api_root, base_path or api_version")


def test_the_embedded_reference_passes_the_preflight() -> None:
    from nv_conformance.config import load_config
    from nv_conformance.preflight import preflight
    from nv_conformance.target import open_target

    with open_target(load_config(None, api_version="vwip")) as target:
        report = preflight(target)
    assert set(report.statuses) == set(target.contract.operations)
    assert 404 not in report.statuses.values()
    assert "valid" in report.tokens


class KeyedGateway(LoopbackServer):
    """An API gateway that answers 401 with its own body unless ``X-API-Key`` is right, then 200."""

    def __init__(self, key: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("x-api-key") == key:
                    status, body = 200, {"devicePhoneNumber": "+447700900001"}
                else:
                    status, body = 401, {"fault": "invalid api key"}
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer  # noqa: N815

        super().__init__(Handler)


@pytest.fixture
def keyed_gateway() -> Iterator[LoopbackServer]:
    with KeyedGateway("gw-key-123") as gateway:
        yield gateway


@pytest.mark.parametrize("key, fails", [("wrong-key", True), ("gw-key-123", False)])
def test_a_valid_token_refused_401_by_a_gateway_is_the_testers_setup(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    keyed_gateway: LoopbackServer, key: str, fails: bool,
) -> None:
    """Every call 401 (the gateway's key is wrong) would fail every scenario: the pre-flight names the setting."""
    from nv_conformance.config import load_config
    from nv_conformance.preflight import PreflightFailed, preflight
    from nv_conformance.target import open_target

    monkeypatch.setenv("GW_KEY", key)
    config = tmp_path / "target.yaml"
    config.write_text(f"api_root: {keyed_gateway.url}\napi_version: vwip\nhttp:\n  headers: {{X-API-Key: \"${{GW_KEY}}\"}}\n"
                      "tokens:\n  valid: {method: static, token: some-opaque-token}\n")
    if not fails:
        with open_target(load_config(config)) as target:
            preflight(target)  # the right key: the token is accepted, nothing raised
        return
    with open_target(load_config(config)) as target, pytest.raises(PreflightFailed) as failed:
        preflight(target)
    message = str(failed.value)
    assert "answered HTTP 401 to a valid access token" in message and "http.headers" in message
    assert "/device-phone-number" in message and "some-opaque-token" not in message and key not in message
    code = cli_main(["run", "--config", str(config), "--report-dir", str(tmp_path / "r")])
    assert_inconclusive_in_one_line(code, capfd, tmp_path / "r", "an API gateway's key")
