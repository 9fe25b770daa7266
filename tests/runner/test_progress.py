"""Terminal progress and the end-of-run summary."""

from __future__ import annotations

import io
from types import SimpleNamespace

from nv_conformance.report.progress import ProgressPrinter, planned_scenarios, summary_table

from .sample_runs import FORBIDDEN, clean_run, leaky_run


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def play(printer: ProgressPrinter, total: int | None = 5) -> None:
    run = leaky_run()
    printer.run_started(run, total=total)
    for scenario in run.scenarios:
        printer.scenario_finished(scenario)
    printer.run_finished(run, ["reports/junit.xml", "reports/statement.html"])


def test_one_line_per_scenario_with_running_count_and_reasons() -> None:
    out = io.StringIO()
    play(ProgressPrinter(out))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("nv-conformance: https://api.example.com/number-verification/vwip | API vwip")
    scenario_lines = [line for line in lines if line.startswith("[")]
    assert [line.split()[0] for line in scenario_lines] == ["[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"]
    assert scenario_lines[0] == "[1/5] PASS   phone_number_verify_01 (0.03 s)"
    assert scenario_lines[1].startswith("[2/5] FAIL   phone_number_verify_02")
    failure_reason = lines[lines.index(scenario_lines[1]) + 1]
    assert "breaks the schema" in failure_reason and failure_reason.startswith("  ")
    assert "\x1b[" not in out.getvalue()  # not a terminal: no colour codes


def test_output_is_redacted() -> None:
    out = io.StringIO()
    play(ProgressPrinter(out))
    for secret in FORBIDDEN:
        assert secret not in out.getvalue()


def test_summary_table_verdict_and_report_paths() -> None:
    out = io.StringIO()
    play(ProgressPrinter(out))
    text = out.getvalue()
    assert "Verdict: NOT CONFORMANT" in text
    assert "Report: reports/statement.html" in text
    assert "undefined step" in text
    table = summary_table(leaky_run())
    assert table[0].split() == ["Feature", "passed", "failed", "warning", "skipped", "not", "applicable", "defective",
                                "error", "total"]
    rows = {line.rsplit(None, 8)[0].strip(): line.split()[-8:] for line in table if line[:1].isalpha()}
    assert rows["Number verification: verify"] == ["1", "1", "0", "2", "0", "0", "0", "4"]
    assert rows["Device phone number"] == ["0", "0", "0", "0", "0", "1", "0", "1"]
    assert rows["All features"] == ["1", "1", "0", "2", "0", "1", "0", "5"]


def test_colour_only_on_a_terminal(monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = FakeTty()
    play(ProgressPrinter(tty))
    assert "\x1b[31;1mFAIL" in tty.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    tty = FakeTty()
    play(ProgressPrinter(tty))
    assert "\x1b[" not in tty.getvalue()


def test_count_without_known_total() -> None:
    out = io.StringIO()
    play(ProgressPrinter(out), total=None)
    assert "[3] SKIP" in out.getvalue()


def test_partial_verdict_line() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out)
    run = clean_run(skipped_mandatory=True)
    printer.run_started(run)
    printer.run_finished(run)
    assert "Verdict: PARTIAL" in out.getvalue()


def test_planned_scenarios_applies_the_filters() -> None:
    def item(runs: bool) -> SimpleNamespace:
        return SimpleNamespace(should_run=lambda config: runs)

    features = [
        SimpleNamespace(should_run=lambda config: True, walk_scenarios=lambda: [item(True), item(False), item(True)]),
        SimpleNamespace(should_run=lambda config: False, walk_scenarios=lambda: [item(True)]),
    ]
    assert planned_scenarios(features, config=object()) == 2


def test_features_sharing_a_long_prefix_keep_separate_rows() -> None:
    run = clean_run()
    prefix = "CAMARA Number Verification API, vwip - Operation phoneNumber"
    run.scenarios[0].feature = prefix + "Share - a long tail of words here"
    run.scenarios[1].feature = prefix + "Verify - a long tail of words here"
    table = summary_table(run)
    names = [line for line in table if line.startswith("CAMARA")]
    assert len(names) == 2 and names[0] != names[1]
    assert all(len(line.split("  ")[0]) <= 72 for line in names)


def _error_scenario(reason: str):
    from nv_conformance.results import Outcome, ScenarioResult

    return ScenarioResult(feature="f", name="n", tags=["nv_x_01"], outcome=Outcome.ERROR, reason=reason)


LONG_REASON = ("could not obtain a valid access token: tokens.valid: jwt-bearer: token endpoint "
               "https://auth.staging.operator.example/realms/camara/protocol/openid-connect/token: "
               + "x" * 150 + " HTTP 401, OAuth error invalid_client: client authentication failed " + "y" * 80)


def test_reasons_are_whole_when_the_output_is_not_a_terminal() -> None:
    out = io.StringIO()
    ProgressPrinter(out).scenario_finished(_error_scenario(LONG_REASON))
    assert " ".join(LONG_REASON.split()) in out.getvalue() and "…" not in out.getvalue()


def test_on_a_terminal_a_reason_is_never_cut_before_its_status_and_error_code() -> None:
    tty = FakeTty()
    ProgressPrinter(tty, colour=False, reason_width=80).scenario_finished(_error_scenario(LONG_REASON))
    line = tty.getvalue().splitlines()[-1]
    assert "HTTP 401, OAuth error invalid_client" in line and line.endswith("…")
    assert "y" * 80 not in line
