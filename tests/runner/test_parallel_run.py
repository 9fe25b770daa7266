"""``--jobs N`` against the embedded reference: the same results.json, progress lines and token use as ``--jobs 1``.

Times, run ids and per-request ids (x-correlator, dates) differ between any two runs; everything
else must be identical, in the same order. The token provider is asked for exactly the tokens a
sequential run takes: the plan's dry run fetches nothing and the pool nothing beyond the plan.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from nv_conformance.bdd.runner import run_features
from nv_conformance.config import load_config
from nv_conformance.resources import features_dir
from nv_conformance.target import open_target
from nv_conformance.tokens.base import TokenKind

pytestmark = pytest.mark.skipif(not any(features_dir().glob("*.feature")), reason="the kit has no features yet")

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
VOLATILE = {"started_at", "finished_at", "statement_id", "duration_s", "elapsed_ms", "date"}
DURATION = re.compile(r"\(\d+\.\d\d s\)")


def comparable(value: Any) -> Any:
    """results.json without what differs between any two runs (times, ids)."""
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items() if key not in VOLATILE}
    if isinstance(value, list):
        return [comparable(item) for item in value]
    if isinstance(value, str):
        return UUID.sub("<uuid>", value)
    return value


def run_once(tmp_path: Path, name: str, jobs: int, capfd: pytest.CaptureFixture[str]) -> tuple[dict, list[str], Counter]:
    config = load_config(None)
    asked: Counter[tuple[TokenKind, str]] = Counter()
    with open_target(config) as target:
        real_get = target.tokens.get

        def counting_get(kind: TokenKind, scope: str) -> Any:
            asked[(TokenKind(kind), scope)] += 1
            return real_get(kind, scope)

        target.tokens.get = counting_get  # type: ignore[method-assign]
        capfd.readouterr()
        run_features(features_dir(), target=target, report_dir=tmp_path / name, jobs=jobs)
        printed = capfd.readouterr().out
    results = json.loads((tmp_path / name / "results.json").read_text(encoding="utf-8"))
    lines = [DURATION.sub("", line) for line in printed.splitlines() if line.startswith("[")]
    return comparable(results), lines, asked


def test_a_concurrent_run_reports_what_a_sequential_run_reports(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    sequential, seq_lines, seq_asked = run_once(tmp_path, "sequential", 1, capfd)
    concurrent, lines, asked = run_once(tmp_path, "concurrent", 6, capfd)
    assert len(sequential["scenarios"]) >= 40
    # Ports differ between the two embedded references: the rest must not.
    port = re.compile(r"127\.0\.0\.1:\d+")
    assert json.loads(port.sub("HOST", json.dumps(concurrent))) == json.loads(port.sub("HOST", json.dumps(sequential)))
    assert lines == seq_lines and len(lines) == len(sequential["scenarios"])
    assert asked == seq_asked and sum(asked.values()) >= 30  # nothing fetched twice, nothing beyond the plan


def test_scenarios_keep_their_own_correlators(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """Eight at a time: each response echoes its own request's x-correlator, and no two scenarios share one."""
    run_once(tmp_path, "isolation", 8, capfd)
    raw = json.loads((tmp_path / "isolation" / "results.json").read_text(encoding="utf-8"))
    owners: dict[str, str] = {}
    for scenario in raw["scenarios"]:
        for exchange in scenario["exchanges"]:
            sent = exchange["request_headers"].get("x-correlator") or ""
            if not UUID.fullmatch(sent):
                continue
            echoed = exchange["response_headers"].get("x-correlator")
            assert echoed in (None, sent)
            assert owners.setdefault(sent, scenario["name"]) == scenario["name"]  # a resend in one scenario may repeat it
    assert len(owners) >= 30


def test_run_jobs_prints_how_the_run_goes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capfd: pytest.CaptureFixture[str]) -> None:
    from nv_conformance import cli

    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "--jobs", "3", "--rate", "500", "--tags", "@nv_token_01_no_refresh_token_verify"]) == 0
    out = capfd.readouterr().out
    assert "3 scenarios at a time, at most 8 token requests in flight, 500/s; tokens fetched ahead (1 token: 1 valid)" in out
    assert cli.main(["run", "--jobs", "65"]) == 2
    assert "--jobs: must be between 1 and 64" in capfd.readouterr().err


def test_ctrl_c_in_a_concurrent_run_reports_what_ran_before_it_in_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    """As behave does sequentially: the run stops, the reports cover the scenarios up to the interrupted one."""
    from nv_conformance.bdd import actions

    sequential, _, _ = run_once(tmp_path, "all", 1, capfd)
    names = [s["name"] for s in sequential["scenarios"]]

    def interrupted(state: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(actions, "expect_no_refresh_token", interrupted)  # the first token-policy scenario
    with open_target(load_config(None)) as target:
        run = run_features(features_dir(), target=target, report_dir=tmp_path / "stopped", jobs=4, progress=False)
    assert run.aborted and run.aborted.startswith("interrupted")
    reported = [s.name for s in run.scenarios]
    assert reported and reported == names[:len(reported)]  # a prefix, in the features' order
    assert len(reported) < len(names)
    written = json.loads((tmp_path / "stopped" / "results.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in written["scenarios"]] == reported
