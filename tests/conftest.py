"""Every results.json a test leaves in its tmp_path must follow the published schema
(nv_conformance/report/results.schema.json): whoever reads the kit's results relies on it.

A test that writes a deliberately broken results file marks itself ``@pytest.mark.broken_results``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "broken_results: the test writes results.json files that break the schema on purpose")


def results_problems(path: Path) -> list[str]:
    from nv_conformance.report.json_report import schema_problems

    return schema_problems(json.loads(path.read_text(encoding="utf-8")))


@pytest.fixture(autouse=True)
def _results_follow_the_schema(request: pytest.FixtureRequest):
    tmp_path: Path | None = request.getfixturevalue("tmp_path") if "tmp_path" in request.fixturenames else None
    yield
    if tmp_path is None or request.node.get_closest_marker("broken_results"):
        return
    for path in sorted(tmp_path.rglob("results.json")):
        problems = results_problems(path)
        assert not problems, f"{path} breaks results.schema.json: {problems[:3]}"
