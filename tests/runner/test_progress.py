"""Terminal progress and the end-of-run summary."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest

from nv_conformance.report.progress import ProgressPrinter, planned_scenarios, summary_table
from nv_conformance.results import Outcome

from .sample_runs import FORBIDDEN, clean_run, leaky_run

COLOUR_CODE = re.compile(r"\x1b\[[0-9;]*3[0-7]m")


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
    assert table[0].split() == ["Feature", "PASS", "FAIL", "WARN", "SKIP", "N/A", "DEFECT", "ERROR", "total"]
    rows = {line.rsplit(None, 8)[0].strip(): line.split()[-8:] for line in table if line[:1].isalpha()}
    assert rows["Number verification: verify"] == ["1", "1", "0", "2", "0", "0", "0", "4"]
    assert rows["Device phone number"] == ["0", "0", "0", "0", "0", "1", "0", "1"]
    assert rows["All features"] == ["1", "1", "0", "2", "0", "1", "0", "5"]


def test_colour_only_on_a_terminal(monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = FakeTty()
    play(ProgressPrinter(tty))
    assert "\x1b[1;31mFAIL" in tty.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    tty = FakeTty()
    play(ProgressPrinter(tty))
    assert not COLOUR_CODE.search(tty.getvalue())  # NO_COLOR: no colours (bold may stay, as the convention allows)


@pytest.mark.parametrize(("env", "color", "coloured"), [
    ({"FORCE_COLOR": "1"}, "auto", True),        # CI logs that render colours
    ({"TERM": "dumb"}, "auto", False),
    ({"NO_COLOR": "1"}, "always", True),         # the explicit option wins over the environment
    ({"FORCE_COLOR": "1"}, "never", False),
    ({}, "always", True),
])
def test_colour_follows_the_environment_and_the_option(monkeypatch, env, color, coloured) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    stream = FakeTty() if env.get("TERM") == "dumb" else io.StringIO()
    play(ProgressPrinter(stream, color=color))
    assert bool(COLOUR_CODE.search(stream.getvalue())) is coloured


def test_reasons_are_whole_in_pipes_and_keep_status_and_code_on_a_terminal(monkeypatch) -> None:
    from nv_conformance.report.progress import shorten_reason

    reason = ("token endpoint https://auth.example.com/oauth2/token of tokens.valid (jwt-bearer) answered HTTP 401, OAuth error "
              "invalid_client: " + "the client could not be authenticated " * 5).strip()
    run = clean_run()
    run.scenarios[0].outcome = Outcome.ERROR
    run.scenarios[0].reason = reason
    piped = io.StringIO()
    printer = ProgressPrinter(piped)
    printer.scenario_finished(run.scenarios[0])
    assert reason in piped.getvalue()  # not a terminal: nothing cut, whatever COLUMNS says
    monkeypatch.setenv("COLUMNS", "80")
    tty = FakeTty()
    printer = ProgressPrinter(tty)
    printer.scenario_finished(run.scenarios[0])
    shown = tty.getvalue().splitlines()[1]
    assert "HTTP 401, OAuth error invalid_client" in shown and shown.endswith("…") and len(shown) < len(reason)
    assert shorten_reason(reason, 30).endswith("OAuth error invalid_client:…")  # cut, never before status and code
    assert shorten_reason("short", 30) == "short"


def test_a_closed_pipe_silences_the_printer() -> None:
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    printer = ProgressPrinter(ClosedPipe())
    play(printer)  # no exception: the run goes on, its reports and exit code unchanged
    assert printer.closed


def test_quiet_lists_what_failed() -> None:
    from nv_conformance.report.progress import problem_lines

    lines = [str(line) for line in problem_lines(leaky_run())]
    assert [line.split()[0] for line in lines] == ["FAIL", "DEFECT"]
    assert "phone_number_verify_02: response body breaks the schema" in lines[0]


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
