"""The verdict rules and exit codes of ``results.py``: what CI and a reviewer act on."""

from __future__ import annotations

import pytest

from nv_conformance.results import (
    EXIT_INCONCLUSIVE,
    EXIT_NOT_CONFORMANT,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    CheckRecord,
    Outcome,
    RunResult,
    ScenarioResult,
    Selection,
    Verdict,
)


def scenario(outcome: Outcome, *, mandatory: bool = True, checks: list[CheckRecord] | None = None,
             name: str = "s") -> ScenarioResult:
    return ScenarioResult(feature="f", name=name, tags=[f"nv_{name}"], outcome=outcome, mandatory=mandatory,
                          checks=checks or [])


def run_of(*outcomes: Outcome, **extra) -> RunResult:
    run = RunResult(target="t", api_version="v", kit_version="k", git_commit="c", started_at="now", **extra)
    run.scenarios = [scenario(o, name=f"s{i}") for i, o in enumerate(outcomes)]
    return run


@pytest.mark.parametrize(("outcomes", "verdict", "code"), [
    ((Outcome.PASSED,), Verdict.CONFORMANT, EXIT_OK),
    ((Outcome.PASSED, Outcome.WARNING), Verdict.CONFORMANT, EXIT_OK),  # warnings never change the verdict
    ((Outcome.PASSED, Outcome.NOT_APPLICABLE), Verdict.CONFORMANT, EXIT_OK),
    ((Outcome.PASSED, Outcome.FAILED, Outcome.ERROR), Verdict.NOT_CONFORMANT, EXIT_NOT_CONFORMANT),
    ((Outcome.PASSED, Outcome.ERROR), Verdict.INCONCLUSIVE, EXIT_INCONCLUSIVE),
    ((Outcome.ERROR, Outcome.SKIPPED), Verdict.INCONCLUSIVE, EXIT_INCONCLUSIVE),
    ((Outcome.PASSED, Outcome.SKIPPED), Verdict.PARTIAL, EXIT_PARTIAL),
    ((Outcome.PASSED, Outcome.DEFECTIVE), Verdict.PARTIAL, EXIT_PARTIAL),
    ((Outcome.NOT_APPLICABLE,), Verdict.PARTIAL, EXIT_PARTIAL),  # nothing shown to hold
    ((), Verdict.PARTIAL, EXIT_PARTIAL),
])
def test_verdict_and_exit_code(outcomes: tuple[Outcome, ...], verdict: Verdict, code: int) -> None:
    run = run_of(*outcomes)
    assert run.verdict == verdict
    assert run.exit_code == code


def test_allow_partial_makes_only_partial_exit_zero() -> None:
    assert run_of(Outcome.PASSED, Outcome.SKIPPED).exit_status(allow_partial=True) == EXIT_OK
    assert run_of(Outcome.PASSED, Outcome.ERROR).exit_status(allow_partial=True) == EXIT_INCONCLUSIVE
    assert run_of(Outcome.FAILED).exit_status(allow_partial=True) == EXIT_NOT_CONFORMANT


def test_a_selection_is_never_called_conformant() -> None:
    selection = Selection(selected=1, total=40)
    assert run_of(Outcome.PASSED, selection=selection).verdict == Verdict.SELECTION_PASSED
    assert run_of(Outcome.PASSED, selection=selection).exit_code == EXIT_OK
    assert run_of(Outcome.FAILED, selection=selection).verdict == Verdict.SELECTION_FAILED
    assert run_of(Outcome.FAILED, selection=selection).exit_code == EXIT_NOT_CONFORMANT
    assert run_of(Outcome.ERROR, selection=selection).verdict == Verdict.INCONCLUSIVE


def test_a_signal_gives_128_plus_its_number_and_never_a_clean_verdict() -> None:
    run = run_of(Outcome.PASSED, aborted="interrupted by SIGTERM", signal=15)
    assert run.verdict == Verdict.PARTIAL and run.exit_code == EXIT_SIGTERM
    assert run_of(Outcome.PASSED, aborted="interrupted by SIGINT", signal=2).exit_code == EXIT_SIGINT


def test_warnings_are_the_broken_advisory_checks_and_survive_the_round_trip() -> None:
    held = CheckRecord("token is single use", "ICM", True, advisory=True)
    broken = CheckRecord("token lifetime at most 300 s", "ICM lifetime", False, "expires_in 3600", advisory=True)
    run = run_of()
    run.scenarios = [scenario(Outcome.WARNING, checks=[held, broken]), scenario(Outcome.PASSED, name="p")]
    assert run.warnings == [(run.scenarios[0], broken)]
    data = run.to_dict()
    assert data["scenarios"][0]["warnings"] == [{"description": "token lifetime at most 300 s",
                                                 "clause": "ICM lifetime", "passed": False,
                                                 "detail": "expires_in 3600", "advisory": True}]
    assert data["scenarios"][0]["id"] == "nv_s"
    assert data["totals"]["warning"] == 1 and data["verdict"] == "conformant"
    again = RunResult.from_dict(data)
    assert again.scenarios[0].warnings == [broken] and again.verdict == Verdict.CONFORMANT


def test_selection_survives_the_round_trip() -> None:
    run = run_of(Outcome.PASSED, selection=Selection(selected=1, total=3), not_run=["nv_x"])
    data = run.to_dict()
    assert data["selection"] == {"selected": 1, "total": 3}
    again = RunResult.from_dict(data)
    assert again.selection == Selection(1, 3) and again.not_run == ["nv_x"]
    assert again.verdict == Verdict.SELECTION_PASSED
