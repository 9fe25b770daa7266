"""Run every variant (each in its own worker process, several at once) and judge the suite's verdicts.

Judgement: a faulty variant is *caught* when at least one scenario FAILS against it (a skip or a
defect is no finding); at a version that only advises the rule it breaks (a later version's token
rule), when it draws a WARNING the control does not. A benign variant is *accepted* when every scenario that passes against the
correct reference (the control run, variant ``none``) also passes against it. The control itself
must pass every scenario, or no other verdict means anything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import ModuleType

from ..profiles import default_version, get_profile
from ..results import Outcome
from .worker import CONTROL, VariantRun

WORKER_TIMEOUT_SECONDS = 240


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    benign: bool
    applies_in: tuple[str, ...] | None = None  # API versions whose rules a faulty variant breaks (None: all)
    warns_in: tuple[str, ...] = ()  # API versions that only advise its rule: caught there by a warning

    def applies_to(self, api_version: str) -> bool:
        return self.applies_in is None or api_version in self.applies_in

    def warns_at(self, api_version: str) -> bool:
        """Caught by a warning (not a failure) at ``api_version``."""
        return not self.applies_to(api_version) and api_version in self.warns_in


def catalogue() -> list[Variant]:
    """The reference's catalogue of variants (faulty first, then benign), from reference_impl/faults.py.

    The versions a faulty variant applies to are derived from the version profiles: those that
    have the rule it breaks.
    """
    from ..target import reference_faults

    variants = [Variant(f.name, f.description, f.benign, None if f.breaks is None else f.versions(),
                        f.warning_versions())
                for f in reference_faults()]
    return [v for v in variants if not v.benign] + [v for v in variants if v.benign]


class Role(StrEnum):
    """What a judged run was for, and so what "ok" means for it."""

    CONTROL = "control"  # the correct reference: every scenario passes
    FAULTY = "faulty"    # a bug: some scenario must fail
    BENIGN = "benign"    # a legal difference: everything the control passes must pass


@dataclass
class Judgement:
    variant: Variant | None          # None: the control run (the correct reference)
    run: VariantRun
    ok: bool                         # faulty: caught; benign/control: everything the control passes passed
    caught_by: list[str] = field(default_factory=list)   # scenarios that failed
    problems: list[str] = field(default_factory=list)    # why not ok (redacted one-liners)

    @property
    def name(self) -> str:
        return self.variant.name if self.variant else CONTROL

    @property
    def kind(self) -> Role:
        if self.variant is None:
            return Role.CONTROL
        return Role.BENIGN if self.variant.benign else Role.FAULTY


@dataclass
class SelftestResult:
    api_version: str
    judgements: list[Judgement]
    seconds: float = 0.0
    not_applicable: list[Variant] = field(default_factory=list)  # legal in this API version: not run
    cpu_seconds: float = 0.0   # CPU time of the worker processes (comparable across loaded machines)

    def of_kind(self, kind: Role) -> list[Judgement]:
        return [j for j in self.judgements if j.kind == kind]

    def score(self, kind: Role) -> tuple[int, int]:
        found = self.of_kind(kind)
        return sum(1 for j in found if j.ok), len(found)

    @property
    def passed(self) -> bool:
        return all(j.ok for j in self.judgements)


def judge(variant: Variant | None, run: VariantRun, control: VariantRun | None, *,
          defects_allowed: bool = False) -> Judgement:
    """``defects_allowed``: other feature files than the kit's (e.g. CAMARA's) may hold defective scenarios."""
    failed = run.with_outcome(Outcome.FAILED)
    problems: list[str] = []
    if run.error:
        problems.append(f"the run broke: {run.error}")
    if run.undefined_steps:
        problems.append(f"undefined steps: {'; '.join(run.undefined_steps[:3])}")
    if variant is not None and not variant.benign:
        if variant.warns_at(run.api_version):
            warned_before = set(control.with_outcome(Outcome.WARNING)) if control is not None else set()
            caught = failed + [s for s in run.with_outcome(Outcome.WARNING) if s not in warned_before]
            if not caught:
                problems.append("no scenario failed or warned: the suite does not notice this bug")
            return Judgement(variant, run, ok=not problems, caught_by=caught, problems=problems)
        if not failed:
            problems.append("no scenario failed: the suite does not catch this bug")
        return Judgement(variant, run, ok=not problems, caught_by=failed, problems=problems)
    if control is not None and variant is not None:
        expected = set(control.with_outcome(Outcome.PASSED))
    else:  # the control: everything passes, except rules the version under test does not have
        expected = {s.scenario_id for s in run.scenarios
                    if s.outcome != Outcome.NOT_APPLICABLE and (s.mandatory or s.outcome != Outcome.SKIPPED)
                    and not (defects_allowed and s.outcome == Outcome.DEFECTIVE)}
    for scenario in run.scenarios:
        if scenario.scenario_id in expected and scenario.outcome != Outcome.PASSED:
            problems.append(f"{scenario.scenario_id} {scenario.outcome}: {scenario.reason}")
    missing = sorted(expected - {s.scenario_id for s in run.scenarios})
    if missing and not run.error:  # a run cut short must not pass on what it never tried
        problems.append(f"{len(missing)} scenario(s) the control passes did not run, e.g. {missing[0]}")
    if not run.scenarios and not run.error:
        problems.append("no scenario ran")
    return Judgement(variant, run, ok=not problems, caught_by=failed, problems=problems)


def run_worker(name: str, *, api_version: str, features: Path | None, timeout: float = WORKER_TIMEOUT_SECONDS) -> VariantRun:
    """``name`` in a fresh ``python -m nv_conformance.selftest.worker`` process."""
    with tempfile.TemporaryDirectory(prefix="nv-selftest-") as tmp:
        out = Path(tmp) / "result.json"
        command = [sys.executable, "-m", "nv_conformance.selftest.worker", name, "--out", str(out),
                   "--api-version", api_version]
        if features is not None:
            command += ["--features", str(features)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        try:
            completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
        except subprocess.TimeoutExpired:
            return VariantRun(variant=name, api_version=api_version, error=f"no result within {timeout:.0f} s")
        if not out.exists():
            tail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["no output"]
            from ..redact import redact

            return VariantRun(variant=name, api_version=api_version,
                              error=redact(f"worker exited {completed.returncode}: {tail[0]}")[:300])
        return VariantRun.from_dict(json.loads(out.read_text(encoding="utf-8")))


def run_selftest(variants: Iterable[Variant] | None = None, *, api_version: str | None = None, jobs: int = 3,
                 features: Path | None = None,
                 on_judgement: Callable[[Judgement], None] | None = None,
                 runner: Callable[..., VariantRun] = run_worker) -> SelftestResult:
    """The control run first, then every variant (``jobs`` at a time); ``on_judgement`` hears each verdict."""
    import resource
    import time

    api_version = get_profile(api_version or default_version()).version
    started = time.monotonic()
    cpu_before = _children_cpu(resource)
    offered = list(catalogue() if variants is None else variants)
    chosen = [v for v in offered if v.benign or v.applies_to(api_version) or v.warns_at(api_version)]
    not_applicable = [v for v in offered if v not in chosen]
    control_run = runner(CONTROL, api_version=api_version, features=features)
    control = judge(None, control_run, None, defects_allowed=features is not None)
    if on_judgement:
        on_judgement(control)
    judgements = [control]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [(v, pool.submit(runner, v.name, api_version=api_version, features=features)) for v in chosen]
        for variant, future in futures:
            judgement = judge(variant, future.result(), control_run)
            judgements.append(judgement)
            if on_judgement:
                on_judgement(judgement)
    return SelftestResult(api_version, judgements, round(time.monotonic() - started, 1),
                          not_applicable, round(_children_cpu(resource) - cpu_before, 1))


def _children_cpu(resource: ModuleType) -> float:  # the stdlib module, imported lazily (POSIX only)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
