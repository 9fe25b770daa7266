"""The three example target configs run the full conformance suite against a reference provider,
each choosing its token method by config alone, and no report or output carries a secret.

The reference announces a CIBA poll interval of 0 here so the CIBA run takes seconds, not the
~45 s its default 1 s interval costs (one wait per token); the config is the same either way.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import EmbeddedReference, kit_secrets

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
METHODS = ("jwt-bearer", "ciba", "authorization-code")


@pytest.fixture(scope="module")
def fast_ciba_reference() -> Any:
    with EmbeddedReference(ciba_interval_seconds=0) as ref:
        yield ref


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_example_config_passes_the_full_run(fast_ciba_reference: Any, tmp_path: Path, method: str) -> None:
    kit = fast_ciba_reference.kit
    config = tmp_path / f"target-reference-{method}.yaml"
    shutil.copy(EXAMPLES / config.name, config)
    (tmp_path / "tester-kit.json").write_text(json.dumps(kit))
    reports = tmp_path / "reports"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NV_")}
    done = subprocess.run(
        [sys.executable, "-m", "nv_conformance.cli", "run", "--config", str(config), "--report-dir", str(reports), "--quiet"],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = json.loads((reports / "results.json").read_text())
    totals = results["totals"]
    assert totals.get("passed", 0) >= 40 and not totals.get("failed") and not totals.get("skipped"), totals
    texts = [done.stdout, done.stderr] + [path.read_text(errors="replace") for path in reports.rglob("*") if path.is_file()]
    for secret in kit_secrets(kit):
        assert not any(secret in text for text in texts), "a kit secret leaked into the output or a report"
