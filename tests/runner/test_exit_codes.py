"""Every exit code of run and fuzz, through the CLI against the embedded reference (README and --help list them).

0 and 1 and 2 are also covered by test_run_command.py, 3 (pre-flight) by test_preflight.py,
130 and 143 by test_signals.py; here: partial (4, and 0 with --allow-partial), selection passed,
an error during the run (3), and the help texts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from nv_conformance.cli import build_parser
from nv_conformance.cli import main as cli_main

CODES = ("0 ", "1 ", "2 ", "3 ", "4 ", "130", "143")


@pytest.mark.parametrize("command", ["run", "fuzz"])
def test_help_lists_every_exit_code(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    text = capsys.readouterr().out
    assert "exit codes:" in text
    for code in CODES:
        assert f"\n  {code}" in text, code
    for word in ("inconclusive", "partial", "--allow-partial", "SIGTERM", "SIGINT", "selection passed"):
        assert word in text


def test_readme_lists_every_exit_code() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for code in ("0", "1", "2", "3", "4", "130", "143"):
        assert f"| {code} |" in readme, code


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "target.yaml"
    path.write_text(text)
    return path


def test_partial_exits_4_and_0_with_allow_partial(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # only valid tokens configured: the expired-token scenario is skipped (mandatory), the other passes
    target = config(tmp_path, "embedded: true\ntokens:\n  valid: {method: reference}\n")
    args = ["run", "--config", str(target), "--tags", "@nv_share_01_success_returns_number_of_token,@nv_share_08_expired_token",
            "--report-dir", str(tmp_path / "r"), "--quiet"]
    code = cli_main(args)
    out = capsys.readouterr().out
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert [s["outcome"] for s in results["scenarios"]] == ["passed", "skipped"], results["scenarios"]
    assert "tokens.expired" in results["scenarios"][1]["reason"]
    assert results["verdict"] == "partial" and code == 4 and "verdict: partial" in out
    assert cli_main([*args, "--allow-partial"]) == 0


def test_a_selection_that_holds_is_selection_passed_with_its_scope(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(["run", "--tags", "@nv_share_01_success_returns_number_of_token", "--report-dir",
                     str(tmp_path / "r"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["verdict"] == "selection passed"
    assert results["selection"]["selected"] == 1 and results["selection"]["total"] > 40
    assert f"1 of {results['selection']['total']} scenarios run" in out
    assert "conformant" not in out.replace("not conformant", "")


def test_a_token_that_cannot_be_obtained_during_the_run_is_an_error_and_inconclusive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failing = tmp_path / "no-token.py"
    failing.write_text("import sys\nprint('the token service is down', file=sys.stderr)\nsys.exit(3)\n")
    target = config(tmp_path, "embedded: true\ntokens:\n"
                              f"  valid: {{method: command, argv: [{json.dumps(sys.executable)}, {json.dumps(str(failing))}]}}\n")
    code = cli_main(["run", "--config", str(target), "--no-preflight", "--tags", "@nv_share_01_success_returns_number_of_token",
                     "--report-dir", str(tmp_path / "r"), "--quiet"])
    out = capsys.readouterr()
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    (scenario,) = results["scenarios"]
    assert scenario["outcome"] == "error", scenario
    assert "exited with status 3" in scenario["reason"]
    assert results["verdict"] == "inconclusive" and code == 3
    assert "not conformant" not in out.out + out.err


def test_the_same_token_problem_is_caught_by_the_preflight(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    failing = tmp_path / "no-token.py"
    failing.write_text("import sys\nsys.exit(3)\n")
    target = config(tmp_path, "embedded: true\ntokens:\n"
                              f"  valid: {{method: command, argv: [{json.dumps(sys.executable)}, {json.dumps(str(failing))}]}}\n")
    assert cli_main(["run", "--config", str(target), "--report-dir", str(tmp_path / "r")]) == 3
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "pre-flight failed: no valid access token" in err and "status 3" in err


def test_no_answer_at_all_during_the_run_is_an_error_not_a_failure(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = config(tmp_path, f"api_root: http://127.0.0.1:{port}\ntest_data: {{phone_number: \"+447700900001\"}}\n"
                              "tokens:\n  valid: {method: static, token: some-opaque-token}\n")
    code = cli_main(["run", "--config", str(target), "--no-preflight", "--tags",
                     "@nv_share_01_success_returns_number_of_token", "--report-dir", str(tmp_path / "r"), "--quiet"])
    out = capsys.readouterr()
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    (scenario,) = results["scenarios"]
    assert scenario["outcome"] == "error" and "ConnectError" in scenario["reason"], scenario
    assert results["verdict"] == "inconclusive" and code == 3
    assert "not conformant" not in out.out + out.err
