"""A real-world shape: the reference behind an API gateway that demands an API key and a client
certificate (``ssl.CERT_REQUIRED``). `run` and `fuzz` must get through it with both, and the key
must appear in no output and no report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nv_conformance import __version__
from nv_conformance.cli import main as cli_main

from .certs import Pki, make_pki
from .gateway import Gateway

pytestmark = pytest.mark.slow

GATEWAY_KEY = "gw-live-key-SECRET-8d41f0c2"


@pytest.fixture(scope="module")
def behind_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, Path, Pki]]:
    from reference_impl.embedded import EmbeddedReference

    folder = tmp_path_factory.mktemp("gateway")
    pki = make_pki(folder)
    with EmbeddedReference() as reference, Gateway(reference.api_root, pki, key=GATEWAY_KEY) as gateway:
        (folder / "kit.json").write_text(json.dumps(reference.kit))
        config = folder / "target.yaml"
        config.write_text(
            "kit: kit.json\n"
            f"api_root: {gateway.url}\n"
            "tls:\n  ca_bundle: ca.pem\n  client_cert: client.pem\n  client_key_env: NV_TEST_GATEWAY_CLIENT_KEY\n"
            'http:\n  headers:\n    X-API-Key: "${NV_TEST_GATEWAY_KEY}"\n'
        )
        yield gateway, config, pki


@pytest.fixture
def gateway_env(monkeypatch: pytest.MonkeyPatch, behind_gateway: tuple[Gateway, Path, Pki]) -> None:
    monkeypatch.setenv("NV_TEST_GATEWAY_KEY", GATEWAY_KEY)
    monkeypatch.setenv("NV_TEST_GATEWAY_CLIENT_KEY", behind_gateway[2].client_key_pem)


def assert_secrets_absent(texts: list[str], report_dir: Path, pki: Pki) -> None:
    key_body = pki.client_key_pem.splitlines()[1]
    for text in [*texts, *(p.read_text(errors="replace") for p in report_dir.rglob("*") if p.is_file())]:
        assert GATEWAY_KEY not in text
        assert key_body not in text


def test_run_gets_through_the_gateway(behind_gateway: tuple[Gateway, Path, Pki], gateway_env: None, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    gateway, config, pki = behind_gateway
    before = len(gateway.requests)
    code = cli_main(["run", "--config", str(config), "--report-dir", str(tmp_path / "reports")])
    out = capsys.readouterr()
    assert code == 0, out.out[-3000:] + out.err[-2000:]
    results = json.loads((tmp_path / "reports" / "results.json").read_text())
    outcomes = {s["outcome"] for s in results["scenarios"]}
    assert results["verdict"] == "conformant" and outcomes <= {"passed", "skipped", "not applicable"}, outcomes
    assert sum(s["outcome"] == "passed" for s in results["scenarios"]) >= 30
    seen = gateway.requests[before:]
    assert len(seen) >= 30 and gateway.rejected == 0
    assert all(r["client_cert"] and r["headers"].get("X-API-Key") == GATEWAY_KEY for r in seen)
    assert_secrets_absent([out.out, out.err], tmp_path / "reports", pki)
    assert results["options"]["http.headers"] == ["X-API-Key"]  # the statement names the header, not its value
    commands = [e["reproduce"] for s in results["scenarios"] for e in s["exchanges"]]
    assert commands and all('-H "X-API-Key: $X_API_KEY"' in c and "X_API_KEY to the value of http.headers X-API-Key"
                            in c for c in commands), commands[:1]


def test_the_preflight_goes_through_the_gateway_with_key_and_certificate(
        behind_gateway: tuple[Gateway, Path, Pki], gateway_env: None) -> None:
    """The pre-flight uses the kit's own client: http.headers and the client certificate apply to it too."""
    from nv_conformance.config import load_config
    from nv_conformance.preflight import preflight
    from nv_conformance.target import open_target

    gateway, config, _ = behind_gateway
    before, rejected = len(gateway.requests), gateway.rejected
    with open_target(load_config(config)) as target:
        report = preflight(target)
        operations = set(target.contract.operations)
    seen = gateway.requests[before:]
    assert set(report.statuses) == operations and 404 not in report.statuses.values()
    assert len(seen) >= len(operations) and gateway.rejected == rejected
    assert all(r["client_cert"] and r["headers"].get("X-API-Key") == GATEWAY_KEY for r in seen)


def test_fuzz_gets_through_the_gateway(behind_gateway: tuple[Gateway, Path, Pki], gateway_env: None, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    gateway, config, pki = behind_gateway
    before = len(gateway.requests)
    code = cli_main(["fuzz", "--config", str(config), "--duration", "15", "--rate", "1000",
                     "--report-dir", str(tmp_path / "reports")])
    out = capsys.readouterr()
    assert code == 0, out.out[-3000:] + out.err[-2000:]
    seen = gateway.requests[before:]
    assert len(seen) >= 20 and gateway.rejected == 0
    assert all(r["client_cert"] and r["headers"].get("X-API-Key") == GATEWAY_KEY for r in seen)
    agents = {next((v for k, v in r["headers"].items() if k.lower() == "user-agent"), None) for r in seen}
    assert agents == {f"nv-conformance/{__version__}"}, agents
    assert_secrets_absent([out.out, out.err], tmp_path / "reports", pki)


def test_without_the_key_the_gateway_says_401_and_the_run_fails(behind_gateway: tuple[Gateway, Path, Pki],
                                                                 monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    gateway, config, pki = behind_gateway
    monkeypatch.setenv("NV_TEST_GATEWAY_KEY", "not-the-key-000000")
    monkeypatch.setenv("NV_TEST_GATEWAY_CLIENT_KEY", pki.client_key_pem)
    code = cli_main(["run", "--config", str(config), "--name", "The phone number identified by the access token is returned",
                     "--no-reports"])
    out: Any = capsys.readouterr()
    assert code != 0 and gateway.rejected > 0
    assert "not-the-key-000000" not in out.out + out.err


def test_run_through_a_configured_proxy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """API and token requests of `run` all go through `http.proxy` (the reference is only reached through it)."""
    from reference_impl.embedded import EmbeddedReference

    from .proxy import ForwardProxy

    with EmbeddedReference() as reference, ForwardProxy() as proxy:
        (tmp_path / "kit.json").write_text(json.dumps(reference.kit))
        config = tmp_path / "target.yaml"
        config.write_text(f"kit: kit.json\nhttp: {{proxy: {proxy.url}}}\n")
        code = cli_main(["run", "--config", str(config), "--name", "The phone number identified by the access token is returned",
                         "--no-reports"])
        out = capsys.readouterr()
    assert code == 0, out.out + out.err
    targets = [target for _, target, _ in proxy.seen]
    assert any(t.startswith(reference.api_root + "/number-verification/") for t in targets)
    assert any(t == reference.kit["token_endpoint"] or t.startswith(reference.base_url + "/.well-known") for t in targets)
    assert all(t.startswith(reference.base_url) for t in targets)


def test_the_preflight_goes_through_a_configured_proxy(tmp_path: Path) -> None:
    from nv_conformance.config import load_config
    from nv_conformance.preflight import preflight
    from nv_conformance.target import open_target
    from reference_impl.embedded import EmbeddedReference

    from .proxy import ForwardProxy

    with EmbeddedReference() as reference, ForwardProxy() as proxy:
        (tmp_path / "kit.json").write_text(json.dumps(reference.kit))
        config = tmp_path / "target.yaml"
        config.write_text(f"kit: kit.json\nhttp: {{proxy: {proxy.url}}}\n")
        with open_target(load_config(config)) as target:
            preflight(target)
            paths = [target.base_url + op.path for op in target.contract.operations.values()]
    targets = [target for _, target, _ in proxy.seen]
    assert all(path in targets for path in paths), targets  # every probe went through the proxy
    assert any(t == reference.kit["token_endpoint"] for t in targets)
