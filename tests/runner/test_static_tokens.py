"""With a static token there is no token response: the scenarios that inspect one are not applicable
(with the reason), never passed, and never failed ("got unknown")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
