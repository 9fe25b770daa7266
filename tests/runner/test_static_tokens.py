"""With a static token there is no token response: the scenarios that inspect one are not applicable
(with the reason), never passed, and never failed ("got unknown")."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from loopback import LoopbackServer

from nv_conformance.cli import main as cli_main
from nv_conformance.resources import features_dir

TOKEN_RESPONSE_SCENARIOS = {"nv_token_01_no_refresh_token_verify", "nv_token_02_no_refresh_token_share",
                            "nv_token_03_lifetime_verify", "nv_token_04_lifetime_share"}


@pytest.mark.parametrize("version", ["v2.1.0", "vwip"])
def test_static_tokens_make_the_token_response_scenarios_not_applicable(tmp_path: Path, version: str,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "target.yaml"
    config.write_text(f"embedded: true\napi_version: {version}\n"
                      "tokens:\n  valid: {method: static, token: opaque-static-token-1}\n")
    code = cli_main(["run", "--config", str(config), "--features", str(features_dir() / "token_policy.feature"),
                     "--report-dir", str(tmp_path / "r"), "--quiet", "--no-preflight"])
    # (--no-preflight: this static token is not one the reference issued, which the pre-flight reports)
    capsys.readouterr()
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    by_id = {s["id"]: s for s in results["scenarios"]}
    for scenario_id in TOKEN_RESPONSE_SCENARIOS:
        scenario = by_id[scenario_id]
        assert scenario["outcome"] == "not applicable", scenario
        assert "without a token response" in scenario["reason"] and "static" in scenario["reason"]
        assert not scenario["mandatory"]
    assert results["verdict"] != "not conformant" and code in (0, 4)


class _SingleUseApi(BaseHTTPRequestHandler):
    """GET /device-phone-number that serves each token once and answers 401 UNAUTHENTICATED after that."""

    used: set[str] = set()

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        token = (self.headers.get("authorization") or "").removeprefix("Bearer ")
        correlator = self.headers.get("x-correlator")
        if token and token not in self.used:
            self.used.add(token)
            status, body = 200, {"devicePhoneNumber": "+447700900001"}
        else:
            status, body = 401, {"status": 401, "code": "UNAUTHENTICATED", "message": "token already used"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        if correlator:
            self.send_header("x-correlator", correlator)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def test_a_static_token_refused_on_its_second_use_is_an_error_not_a_failure(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A single-use target may refuse a token the kit sends again: the tester's setup, never "not conformant"."""
    _SingleUseApi.used = set()
    with LoopbackServer(_SingleUseApi) as server:
        config = tmp_path / "target.yaml"
        config.write_text(f"api_root: {server.url}\napi_version: v2.1.1\n"
                          'test_data: {phone_number: "+447700900001"}\n'
                          "tokens:\n  valid: {method: static, token: opaque-static-token-2}\n")
        code = cli_main(["run", "--config", str(config), "--no-preflight", "--jobs", "1", "--tags",
                         "@nv_share_01_success_returns_number_of_token,@nv_share_02_success_without_x_correlator",
                         "--report-dir", str(tmp_path / "r"), "--quiet"])
    out = capsys.readouterr()
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    first, second = results["scenarios"]
    assert first["outcome"] == "passed", first
    assert second["outcome"] == "error" and "sent before" in second["reason"] and "tokens.valid" in second["reason"]
    assert results["verdict"] == "inconclusive" and code == 3
    assert "not conformant" not in out.out + out.err
