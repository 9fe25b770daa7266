"""`fuzz --quiet` prints its verdict and nothing else, and leaves no ``.hypothesis/`` behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from .child import run_cli

pytestmark = pytest.mark.slow


def test_quiet_fuzz_is_quiet_and_leaves_no_hypothesis_directory(tmp_path: Path, warm_fuzz_cache: None) -> None:
    result = run_cli(["fuzz", "--duration", "4", "--quiet", "--no-reports"], cwd=tmp_path, limit_s=60)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.returncode == 0, result.output
    assert len(lines) == 1 and lines[0].startswith("fuzz verdict: conformant"), lines
    assert not (tmp_path / ".hypothesis").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["child.err", "child.out"]  # nothing else written here
