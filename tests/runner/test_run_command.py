"""``nv-conformance run`` wiring: behave in-process with the kit's steps/hooks given as absolute paths.

These tests swap the kit's steps and hooks for tiny stand-ins (in tmp_path) so they check the
runner alone: any features directory works, userdata arrives, behave's own output stays quiet,
the exit code follows the RunResult, and bad options are one line. The full chain against the
embedded reference is in test_run_end_to_end.py.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from nv_conformance import cli
from nv_conformance.bdd import runner as run_command
from nv_conformance.bdd import session
from nv_conformance.commands import run as run_cli

FAKE_STEPS = '''
from behave import given, then

@given("a step that passes")
def passes(context):
    pass

@then("a step that fails")
def fails(context):
    assert False, "the answer was wrong"

@given("the user presses Ctrl-C")
def interrupted(context):
    raise KeyboardInterrupt
'''

# Stand-in for nv_conformance.bdd.hooks: records outcomes into a RunResult like the real hooks do.
FAKE_ENVIRONMENT = '''
import json
from pathlib import Path
from nv_conformance.bdd import session
from nv_conformance.results import Outcome, RunResult, ScenarioResult
from nv_conformance.report import write_reports

def before_all(context):
    request = context.config.userdata.get("nv_run_request")  # the built target, from `nv-conformance run`
    version = request.target.api_version if request else context.config.userdata.get("api_version", "?")
    context.nv_report_dir = request.report_dir if request else context.config.userdata.get("report_dir")
    context.nv_run = RunResult(target="fake", api_version=version,
                               kit_version="0", git_commit="", started_at="2026-01-01T00:00:00+00:00")
    if "probe" in context.config.userdata:
        Path(context.config.userdata["probe"]).write_text(json.dumps(dict(context.config.userdata)))

def after_scenario(context, scenario):
    outcome = Outcome.PASSED if scenario.status.name == "passed" else Outcome.FAILED
    context.nv_run.scenarios.append(ScenarioResult(feature=scenario.feature.name, name=scenario.name,
                                                   tags=[str(t) for t in scenario.tags], outcome=outcome))

def after_all(context):
    session.LAST_RUN = context.nv_run
    if context.nv_report_dir:
        write_reports(context.nv_run, Path(context.nv_report_dir))
'''


@pytest.fixture
def fake_kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    kit = tmp_path / "kit"
    (kit / "steps").mkdir(parents=True)
    (kit / "steps" / "fake_steps.py").write_text(FAKE_STEPS)
    (kit / "environment.py").write_text(FAKE_ENVIRONMENT)
    monkeypatch.setattr(run_command, "steps_dir", lambda: kit / "steps")
    monkeypatch.setattr(run_command, "environment_file", lambda: kit / "environment.py")
    return kit


def features(tmp_path: Path, *, failing: bool) -> Path:
    directory = tmp_path / "some" / "official-features"  # no steps/ beside it
    directory.mkdir(parents=True)
    (directory / "verify.feature").write_text(textwrap.dedent(f"""
        Feature: Verify
          @verify_01
          Scenario: one passes
            Given a step that passes

          @verify_02 @slow
          Scenario: two {"fails" if failing else "passes"}
            Given a step that passes
            {"Then a step that fails" if failing else "Given a step that passes"}
    """))
    return directory


def run(argv: list[str]) -> int:
    return cli.main(["run", *argv])


def test_any_features_dir_runs_with_kit_steps_and_quiet_behave(
    tmp_path: Path, fake_kit: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # not the repository: no behave config file to pick up
    code = run(["--features", str(features(tmp_path, failing=True)), "--report-dir", "out", "--api-version", "2.1.0",
                "--quiet"])
    assert code == 1
    assert session.LAST_RUN is not None
    assert [s.outcome.value for s in session.LAST_RUN.scenarios] == ["passed", "failed"]
    out = capfd.readouterr().out
    assert "verdict: not conformant (1 passed, 1 failed" in out
    assert "Scenario" not in out and "USING RUNNER" not in out  # behave's own formatter is off
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["api_version"] == "v2.1.0"


def test_userdata_handed_to_the_hooks(tmp_path: Path, fake_kit: Path) -> None:
    probe = tmp_path / "userdata.json"
    config = tmp_path / "target.yaml"
    config.write_text("api_root: http://127.0.0.1:9\napi_version: v1.0.0\n")
    code = run_command.run_features(
        features(tmp_path, failing=False), tags=["not @slow"], names=[],
        userdata={"config": str(config), "report_dir": str(tmp_path / "r"), "progress": "off", "probe": str(probe)},
    ).exit_code
    assert code == 0
    seen = json.loads(probe.read_text())
    assert seen["config"] == str(config) and seen["report_dir"] == str(tmp_path / "r") and seen["progress"] == "off"
    assert [s.name for s in session.LAST_RUN.scenarios] == ["one passes"]  # the tag expression applied


def test_second_run_in_one_process_has_no_duplicate_steps(tmp_path: Path, fake_kit: Path) -> None:
    directory = features(tmp_path, failing=False)
    for _ in range(2):
        run_result = run_command.run_features(
            directory, tags=[], names=["one"], userdata={"progress": "off"})
        assert [s.outcome.value for s in run_result.scenarios] == ["passed"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--config", "missing.yaml"], "config: --config: file not found: missing.yaml"),
        (["--spec", "missing.yaml"], "config: --spec: file not found"),
        (["--api-version", "v7"], "config: api_version: unknown API version 'v7'"),
        (["--features", "nowhere"], "config: --features: not found"),
        (["--tags", "not (@a"], "config: --tags: "),
    ],
)
def test_bad_options_are_one_line_exit_2(
    tmp_path: Path, fake_kit: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    argv: list[str], message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    if argv[0] == "--tags":
        argv = [*argv, "--features", str(features(tmp_path, failing=False))]
    assert run(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"nv-conformance run: {message}")
    assert "\n" not in err and "Traceback" not in err


def test_bad_config_setting_is_named(tmp_path: Path, fake_kit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "target.yaml"
    config.write_text("api_root: https://example.com\ntest_data: {phone_number: '0044 7700'}\n")
    assert run(["--config", str(config)]) == 2
    assert capsys.readouterr().err.strip() == (
        "nv-conformance run: config: test_data.phone_number: not an E.164 number (expected + and 5 to 15 digits)"
    )


def test_empty_features_dir_is_refused(tmp_path: Path, fake_kit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert run(["--features", str(tmp_path / "empty")]) == 2
    assert "no .feature files" in capsys.readouterr().err


def test_unparsable_feature_is_one_line(tmp_path: Path, fake_kit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.feature").write_text("Feature: x\n  Scenario: y\n    Given a step that passes\n  Nonsense here\n")
    assert run(["--features", str(broken), "--no-reports"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nv-conformance run: cannot parse a feature file") and "\n" not in err


def test_interrupted_run_is_never_conformant(tmp_path: Path, fake_kit: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "features"
    directory.mkdir()
    (directory / "a.feature").write_text("Feature: A\n  Scenario: passes\n    Given a step that passes\n")
    (directory / "b.feature").write_text("Feature: B\n  Scenario: stops\n    Given the user presses Ctrl-C\n")
    (directory / "c.feature").write_text("Feature: C\n  Scenario: never runs\n    Given a step that passes\n")
    assert run(["--features", str(directory), "--report-dir", str(tmp_path / "r")]) == 130
    assert "interrupted: not every scenario ran; verdict not conformant (incomplete run)" in capsys.readouterr().err
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["aborted"].startswith("interrupted")
    assert [s["name"] for s in results["scenarios"]] == ["passes", "stops"]  # C never ran
    assert results["verdict"] == "not conformant"  # the fake hooks count the interrupted scenario as failed
    assert "Run stopped early" in (tmp_path / "r" / "statement.html").read_text()


def test_aborted_run_without_failures_is_partial() -> None:
    from .sample_runs import clean_run

    run = clean_run()
    assert run.verdict.value == "conformant"
    run.aborted = "interrupted: not every scenario ran"
    assert run.verdict.value == "partial"


def test_a_selection_matching_no_scenario_is_not_a_clean_run(
    tmp_path: Path, fake_kit: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["--features", str(features(tmp_path, failing=False)), "--tags", "@no_such_scenario",
                "--report-dir", str(tmp_path / "r"), "--quiet"])
    assert code == 2
    assert "nv-conformance run: no scenario matched the selection" in capsys.readouterr().err
    assert json.loads((tmp_path / "r" / "results.json").read_text())["verdict"] == "partial"


def test_a_run_where_nothing_passed_is_never_conformant() -> None:
    from nv_conformance.results import Outcome

    from .sample_runs import clean_run

    run = clean_run()
    run.scenarios = []
    assert run.verdict.value == "partial" and run.exit_code == 4 and run.exit_status(allow_partial=True) == 0
    run = clean_run()
    run.scenarios = [s for s in run.scenarios if s.outcome != Outcome.PASSED]  # only an optional scenario, skipped
    assert run.scenarios and run.verdict.value == "partial"


def test_a_feature_file_that_does_not_parse_is_one_line_with_the_reason_and_no_phone_number(
    tmp_path: Path, fake_kit: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "broken"
    directory.mkdir()
    (directory / "a.feature").write_text('Feature: A\n  Scenario: a\n    Given a step that passes\n  Bogus "+447700900001"\n')
    assert run(["--features", str(directory), "--no-reports"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "at line 4" in err
    assert "+447700900001" not in err and "+44770090****" in err


def test_the_cli_redacts_the_one_line_of_any_kit_error(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from nv_conformance.errors import TargetError

    token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"

    def fails(args: object) -> int:
        raise TargetError(f"token endpoint echoed access_token={token} for +447700900001")

    monkeypatch.setattr(run_cli, "main", fails)
    assert run([]) == 2
    err = capsys.readouterr().err
    assert token not in err and "+447700900001" not in err and err.startswith("nv-conformance run: ")


def test_a_report_dir_that_cannot_be_created_stops_the_run_before_it_starts(
    tmp_path: Path, fake_kit: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code = run(["--features", str(features(tmp_path, failing=False)), "--report-dir", str(blocker / "reports"), "--quiet"])
    assert code == 2
    captured = capsys.readouterr()
    assert "nv-conformance run: config: --report-dir: cannot create" in captured.err
    assert "verdict" not in captured.out  # nothing ran


def test_fuzz_checks_its_report_dir_before_fuzzing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import time

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    started = time.monotonic()
    assert cli.main(["fuzz", "--report-dir", str(blocker / "fuzz"), "--quiet"]) == 2
    assert time.monotonic() - started < 5  # refused before the embedded reference starts or anything is fuzzed
    assert "nv-conformance fuzz: config: --report-dir: cannot create" in capsys.readouterr().err
