"""The whole chain: ``nv-conformance run`` -> behave -> hooks -> live reference over loopback HTTP -> reports.

Runs in-process (like the CLI does) against the embedded reference provider, a faulty variant of it
served from a tester kit, and CAMARA's official feature files when ../shared/camara exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from camara_files import OFFICIAL

from nv_conformance import cli
from nv_conformance.bdd import session
from nv_conformance.resources import features_dir, kit_root
from nv_conformance.results import Outcome

pytestmark = pytest.mark.skipif(not any(features_dir().glob("*.feature")), reason="the kit has no features yet")



def some_scenario_id() -> str:
    """The id tag of one of the kit's scenarios (feature files change; the test should not)."""
    for feature in sorted(features_dir().glob("*.feature")):
        for line in feature.read_text(encoding="utf-8").splitlines():
            for word in line.split():
                if word.startswith("@nv_") and "no_authorization" in word:
                    return word[1:]
    pytest.skip("no scenario about a missing Authorization header")


def reports(report_dir: Path) -> tuple[ET.Element, dict, str]:
    junit = ET.parse(report_dir / "junit.xml").getroot()
    results = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    html = (report_dir / "statement.html").read_text(encoding="utf-8")
    return junit, results, html


def test_default_run_against_embedded_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run"]) == 0  # nothing failed against the reference provider
    run = session.LAST_RUN
    assert run is not None and run.scenarios
    assert run.count(Outcome.FAILED) == 0 and not run.undefined_steps
    out = capfd.readouterr().out
    assert f"[{len(run.scenarios)}/{len(run.scenarios)}] " in out  # running count reached the planned total
    assert "Verdict: " in out and "Report: " in out
    assert "Feature" in out and "All features" in out  # summary table
    junit, results, html = reports(tmp_path / "reports")  # default --report-dir
    assert len(junit.findall(".//testcase")) == len(run.scenarios)
    assert results["verdict"] == run.verdict.value
    assert "embedded reference provider (http://127.0.0.1:" in html
    # the kit's test numbers and credentials never appear in clear
    for text in (out, json.dumps(results), html, ET.tostring(junit, encoding="unicode")):
        assert "+447700900001" not in text
        assert "Bearer eyJ" not in text


def test_faulty_target_from_a_tester_kit_fails_with_evidence(tmp_path: Path) -> None:
    from reference_impl.embedded import EmbeddedReference

    with EmbeddedReference(fault="wrong-401-code") as reference:
        (tmp_path / "kit.json").write_text(json.dumps(reference.kit))
        (tmp_path / "target.yaml").write_text("kit: kit.json\napi_version: vwip\n")
        code = cli.main(["run", "--config", str(tmp_path / "target.yaml"), "--report-dir", str(tmp_path / "r"),
                         "--quiet"])
    assert code == 1
    run = session.LAST_RUN
    failed = [s for s in run.scenarios if s.outcome == Outcome.FAILED]
    assert failed
    junit, results, html = reports(tmp_path / "r")
    assert results["verdict"] == "not conformant"
    assert len(junit.findall(".//failure")) == len(failed)
    assert "UNAUTHORIZED" in html  # the response that failed is shown
    assert "HTTP 401" in html
    assert f"nv-conformance run --config {tmp_path / 'target.yaml'} --api-version vwip --tags @" in html
    client_secret = reference.kit["client"].get("client_secret")
    for text in (json.dumps(results), html):
        if client_secret:
            assert client_secret not in text
        assert reference.kit["subscribers"][0]["phone_number"] not in text


def test_tags_select_scenarios(tmp_path: Path) -> None:
    scenario_id = some_scenario_id()
    assert cli.main(["run", "--tags", f"@{scenario_id}", "--no-reports", "--quiet"]) == 0
    assert [s.scenario_id for s in session.LAST_RUN.scenarios] == [scenario_id]


def test_bad_tokens_section_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "target.yaml").write_text("api_root: http://127.0.0.1:9\ntokens: {valid: {method: telepathy}}\n")
    assert cli.main(["run", "--config", str(tmp_path / "target.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nv-conformance run: config: tokens.valid") and "\n" not in err


@pytest.mark.skipif(not OFFICIAL.is_dir(), reason="CAMARA's official files are not on this machine")
@pytest.mark.parametrize("version", ["v2.1.0", "vwip"])
def test_official_features_run_from_any_directory(tmp_path: Path, version: str) -> None:
    code = cli.main(["run", "--features", str(OFFICIAL / version), "--api-version", version,
                     "--report-dir", str(tmp_path), "--quiet"])
    run = session.LAST_RUN
    assert not run.undefined_steps
    assert run.count(Outcome.FAILED) == 0
    # CAMARA's files hold a scenario no target can satisfy (defective): partial, exit 4
    assert code == (4 if run.verdict.value == "partial" else 0)
    assert len(run.scenarios) > 10


@pytest.mark.slow
def test_plain_behave_from_repository_root(tmp_path: Path) -> None:
    root = kit_root()
    if not (root / "pyproject.toml").exists():
        pytest.skip("not a source checkout")
    behave = Path(sys.executable).with_name("behave")
    scenario_id = some_scenario_id()
    result = subprocess.run(
        [str(behave), "-D", f"report_dir={tmp_path}", "--tags", f"@{scenario_id}"],
        cwd=root, capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"[1/1] PASS   {scenario_id}" in result.stdout
    assert "Scenario:" not in result.stdout  # behave's own formatter is off
    assert (tmp_path / "statement.html").exists()
