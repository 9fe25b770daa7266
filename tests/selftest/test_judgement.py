"""How the self-test judges a variant, prints its table and exits; no servers (a fake runner stands in)."""

from __future__ import annotations

import pytest

from nv_conformance import cli
from nv_conformance.results import Outcome
from nv_conformance.selftest.runner import Role, Variant, judge, run_selftest
from nv_conformance.selftest.table import markdown
from nv_conformance.selftest.worker import ScenarioOutcome, VariantRun

IDS = ["nv_a_01", "nv_a_02", "nv_b_01"]


def _run(name: str, **outcomes: str) -> VariantRun:
    return VariantRun(name, "vwip", [ScenarioOutcome(i, Outcome(outcomes.get(i, "passed")), outcomes.get(i, "") and "why")
                                     for i in IDS])


CONTROL = _run("none")
FAULTY = Variant("bug", "a bug", benign=False)
BENIGN = Variant("liberty", "a liberty", benign=True)


def test_a_faulty_variant_is_caught_only_by_a_failure():
    caught = judge(FAULTY, _run("bug", nv_a_02="failed"), CONTROL)
    assert caught.ok and caught.caught_by == ["nv_a_02"]
    for outcome in ("skipped", "defective", "passed"):
        missed = judge(FAULTY, _run("bug", nv_a_02=outcome), CONTROL)
        assert not missed.ok and "does not catch" in missed.problems[0]
    broken = judge(FAULTY, VariantRun("bug", "vwip", error="RuntimeError: port busy"), CONTROL)
    assert not broken.ok and "the run broke" in broken.problems[0]


def test_where_its_rule_is_only_advised_a_variant_is_caught_by_a_new_warning():
    advised = Variant("reuse", "tokens reusable", benign=False, applies_in=("v9",), warns_in=("vwip",))
    assert advised.warns_at("vwip") and not advised.warns_at("v9")
    caught = judge(advised, _run("reuse", nv_a_02="warning"), CONTROL)
    assert caught.ok and caught.caught_by == ["nv_a_02"]
    warned_already = _run("none", nv_a_02="warning")
    missed = judge(advised, _run("reuse", nv_a_02="warning"), warned_already)
    assert not missed.ok and "failed or warned" in missed.problems[0]
    assert not judge(FAULTY, _run("bug", nv_a_02="warning"), CONTROL).ok  # a mandatory rule needs a failure
    assert not judge(BENIGN, _run("liberty", nv_a_02="warning"), CONTROL).ok  # a warning is no pass for a liberty


def test_a_benign_variant_must_pass_what_the_control_passes():
    assert judge(BENIGN, _run("liberty"), CONTROL).ok
    for outcome in ("failed", "skipped", "defective"):
        judgement = judge(BENIGN, _run("liberty", nv_b_01=outcome), CONTROL)
        assert not judgement.ok and judgement.problems == [f"nv_b_01 {outcome}: why"]
    # a scenario the control itself could not pass is not held against the variant
    assert judge(BENIGN, _run("liberty", nv_b_01="skipped"), _run("none", nv_b_01="skipped")).ok
    assert not judge(None, _run("none", nv_a_01="failed"), None).ok  # the control must pass everything
    optional = _run("none", nv_a_01="skipped")
    optional.scenarios[0].mandatory = False  # a rule the version under test does not have
    assert judge(None, optional, None).ok
    assert not judge(None, _run("none", nv_a_01="skipped"), None).ok
    # other feature files (CAMARA's) may carry defective scenarios; the kit's own may not
    assert judge(None, _run("none", nv_a_01="defective"), None, defects_allowed=True).ok
    assert not judge(None, _run("none", nv_a_01="defective"), None).ok
    assert not judge(None, _run("none", nv_a_01="failed"), None, defects_allowed=True).ok



def test_a_benign_run_cut_short_is_no_pass():
    """Scenarios the control passed must have run: a truncated run proves nothing about the rest."""
    truncated = _run("liberty")
    truncated.scenarios = truncated.scenarios[:1]
    judgement = judge(BENIGN, truncated, CONTROL)
    assert not judgement.ok and judgement.problems == ["2 scenario(s) the control passes did not run, e.g. nv_a_02"]
    aborted = _run("liberty")
    aborted.error = "interrupted: not every scenario ran"
    assert not judge(BENIGN, aborted, CONTROL).ok


def test_run_selftest_scores_and_table():
    runs = {"none": CONTROL, "bug": _run("bug", nv_a_01="failed", nv_b_01="failed"), "liberty": _run("liberty"),
            "missed": _run("missed")}
    result = run_selftest([FAULTY, BENIGN, Variant("missed", "not caught", benign=False)], jobs=2,
                          runner=lambda name, **_: runs[name])
    assert result.score(Role.FAULTY) == (1, 2) and result.score(Role.BENIGN) == (1, 1) and not result.passed
    table = markdown(result)
    assert "| `bug` | faulty | a bug | caught | `nv_a_01`, `nv_b_01` |" in table
    assert "| `missed` | faulty | not caught | **NOT CAUGHT** |" in table
    assert "| `liberty` | benign | a liberty | passes all | - |" in table
    assert "Faulty variants caught: 1/2 (50 %)" in table


def test_variants_legal_in_the_version_under_test_are_not_run():
    asked = []
    only_vwip = Variant("vwip-only", "breaks a vwip rule", benign=False, applies_in=("vwip",))

    def runner(name, **_):
        asked.append(name)
        return CONTROL if name == "none" else _run(name, nv_a_01="failed")

    result = run_selftest([FAULTY, only_vwip], api_version="v2.1.0", runner=runner)
    assert asked == ["none", "bug"] and result.not_applicable == [only_vwip] and result.passed
    assert "Not run in API v2.1.0, where they break no rule: `vwip-only`." in markdown(result)
    assert run_selftest([only_vwip], api_version="vwip", runner=runner).score(Role.FAULTY) == (1, 1)


@pytest.mark.parametrize(("argv", "setting"), [
    (["selftest", "--jobs", "0"], "--jobs"),
    (["selftest", "--variant", "no-such-variant"], "--variant"),
    (["selftest", "--api-version", "v9"], "--api-version"),
    (["selftest", "--variant", "no-token-200", "--markdown", "/nonexistent/dir/table.md"], "--markdown"),
])
def test_bad_options_are_one_line(argv, setting, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert setting in err and "\n" not in err


def test_list_shows_the_catalogue(capsys):
    assert cli.main(["selftest", "--list"]) == 0
    out = capsys.readouterr().out
    assert "tokens-reusable" in out and "opaque-access-tokens" in out and "benign" in out
