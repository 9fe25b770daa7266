"""Hostile API targets against `run` and `fuzz`: each ends in bounded time and memory, with a clear failure.

Measured in a child process (``wait4`` gives that child's peak RSS), so the bound covers
everything the command does: decoding, parsing, checks, reports. Timeouts are short here
(total 2 s per request) because the bound is what is tested, not the defaults.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .child import run_cli
from .hostile import HostileServer

pytestmark = pytest.mark.slow

STATIC_TOKEN = "static-hostile-token-4711"
PEAK_MB = 300
RUN_LIMIT_S = 45    # a child is killed after this; a bounded command ends far sooner
FUZZ_DURATION_S = 3
SHARE_SCENARIO = "The phone number identified by the access token is returned"

CASES = {
    # behaviour: (what the failure line says, extra http settings)
    "stacked-gzip": ("response body exceeds the 1048576-byte limit", {}),
    "gzip-bomb": ("response body exceeds the 1048576-byte limit", {}),
    "endless-chunked": ("response body exceeds the 1048576-byte limit", {}),
    "trickled-headers": ("no complete response headers within 2 s", {}),
    "trickled-body": ("response body not complete within 2 s", {}),
    "nested-json-50mb": ("FAIL", {"max_body_bytes": 64 << 20}),  # let it in: the parser must cope
    "header-10mb": ("response headers exceed the 100 KiB limit", {}),
    "brotli": ("Content-Encoding br refused", {}),
    "zstd-under-gzip": ("Content-Encoding zstd refused", {}),
}


def target_config(folder: Path, url: str, http: dict[str, int]) -> Path:
    settings = {"connect_timeout": 1, "read_timeout": 1, "total_timeout": 2, **http}
    lines = [f"api_root: {url}", "api_version: vwip", "test_data: {phone_number: \"+447700900001\"}",
             "http:"] + [f"  {key}: {value}" for key, value in settings.items()] + [
             "tokens:", f"  valid: {{method: static, token: {STATIC_TOKEN}}}"]
    path = folder / "hostile.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def check_bounded(result, limit_s: float, expected: str) -> None:
    assert not result.killed, f"still running after {RUN_LIMIT_S} s: {result.output[-500:]}"
    assert result.seconds < limit_s, f"took {result.seconds:.1f} s (bound {limit_s} s)"
    assert result.peak_rss_mb < PEAK_MB, f"peak memory {result.peak_rss_mb:.0f} MB"
    assert result.returncode not in (0,), result.output[-800:]
    assert "Traceback" not in result.output and "MemoryError" not in result.output and "RecursionError" not in result.output
    assert STATIC_TOKEN not in result.output
    if expected:
        assert expected in result.output, result.output[-1500:]


@pytest.mark.parametrize("behaviour", sorted(CASES))
def test_run_against_a_hostile_target(behaviour: str, tmp_path: Path) -> None:
    expected, http = CASES[behaviour]
    with HostileServer(behaviour) as server:
        config = target_config(tmp_path, server.url, http)
        result = run_cli(["run", "--config", str(config), "--name", SHARE_SCENARIO, "--report-dir", "reports"],
                         cwd=tmp_path, limit_s=RUN_LIMIT_S)
    check_bounded(result, 30, expected)
    scenarios = json.loads((tmp_path / "reports" / "results.json").read_text())["scenarios"]
    assert [s["outcome"] for s in scenarios] == ["failed"], scenarios  # the target's failure, never "defective"
    print(f"run {behaviour}: {result.seconds:.1f} s, peak {result.peak_rss_mb:.0f} MB, exit {result.returncode}")


@pytest.mark.parametrize("behaviour", sorted(CASES))
def test_fuzz_against_a_hostile_target(behaviour: str, tmp_path: Path, warm_fuzz_cache: None) -> None:
    expected, http = CASES[behaviour]
    with HostileServer(behaviour) as server:
        config = target_config(tmp_path, server.url, http)
        result = run_cli(["fuzz", "--config", str(config), "--duration", str(FUZZ_DURATION_S), "--max-examples", "5",
                          "--quiet", "--report-dir", "reports"], cwd=tmp_path, limit_s=RUN_LIMIT_S)
    # the wall-clock promise: --duration + 15 s whatever the target does (startup included here)
    check_bounded(result, FUZZ_DURATION_S + 15, expected)
    assert "fuzz verdict: not conformant" in result.output
    assert "RUN FAILED" in result.output or "  FAIL " in result.output  # the run, or findings on what was judged
    assert (tmp_path / "reports" / "fuzz.json").exists()
    assert not (tmp_path / ".hypothesis").exists()
    print(f"fuzz {behaviour}: {result.seconds:.1f} s, peak {result.peak_rss_mb:.0f} MB, exit {result.returncode}")
