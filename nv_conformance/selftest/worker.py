"""One variant, one process: serve ``reference_impl`` with ``fault=NAME`` and run the features against it.

A separate process per variant keeps behave's global state apart and lets several variants run
at once (most of a run's time is spent waiting on loopback HTTP, not on the CPU). The parent
reads the outcome from a JSON file, never from stdout, so nothing behave prints can corrupt it.

    python -m nv_conformance.selftest.worker NAME --out result.json [--api-version VERSION] [--features DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..results import Outcome

CONTROL = "none"  # the correct reference provider: the baseline every benign variant must match
# The reference applies every version's token rules at every version in the self-test: a rule a version
# only advises then draws no warning from the control, so a variant that breaks it is seen by its warning.
SELFTEST_TOKEN_POLICY = "strict"


@dataclass
class ScenarioOutcome:
    scenario_id: str
    outcome: Outcome
    reason: str = ""      # first line of the failure/skip/defect (redacted by the engine)
    mandatory: bool = True  # False: optional, or a rule the version under test does not have


@dataclass
class VariantRun:
    """What one variant did to the suite."""

    variant: str
    api_version: str
    scenarios: list[ScenarioOutcome] = field(default_factory=list)
    undefined_steps: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""       # the run itself broke (the variant could not be served or judged)

    def with_outcome(self, outcome: Outcome) -> list[str]:
        return [s.scenario_id for s in self.scenarios if s.outcome == outcome]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> VariantRun:
        scenarios = [ScenarioOutcome(**{**s, "outcome": Outcome(s["outcome"])}) for s in data.get("scenarios", [])]
        return cls(**{**data, "scenarios": scenarios})


def run_variant(variant: str, *, api_version: str | None = None, features: Path | None = None) -> VariantRun:
    """Serve ``variant`` (``none`` = the correct reference) on a free port and run ``features`` against it."""
    from ..bdd.runner import run_features
    from ..config import load_config
    from ..resources import features_dir
    from ..target import open_target

    started = time.monotonic()
    fault = None if variant == CONTROL else variant
    config = load_config(None, api_version=api_version)
    with tempfile.TemporaryDirectory(prefix="nv-selftest-", dir=_fast_tmp()) as tmp, \
            open_target(config, fault=fault, db_path=Path(tmp) / "reference.sqlite3",
                        reference_token_policy=SELFTEST_TOKEN_POLICY) as target:
        run = run_features(features or features_dir(), target=target, progress=False)
    api_version = target.api_version
    result = VariantRun(variant=variant, api_version=api_version, undefined_steps=list(run.undefined_steps),
                        seconds=round(time.monotonic() - started, 2), error=run.aborted)
    for scenario in run.scenarios:
        reason = scenario.reason.splitlines()[0][:300] if scenario.reason else ""
        result.scenarios.append(ScenarioOutcome(scenario.scenario_id, scenario.outcome, reason,
                                                scenario.mandatory))
    return result


def _fast_tmp() -> str | None:
    """A RAM-backed directory when there is one: parallel variants otherwise queue on the disk's fsyncs."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nv_conformance.selftest.worker")
    parser.add_argument("variant")
    parser.add_argument("--out", required=True)
    parser.add_argument("--api-version", default=None)
    parser.add_argument("--features", default=None)
    args = parser.parse_args(argv)
    sys.setswitchinterval(0.0005)
    try:
        result = run_variant(args.variant, api_version=args.api_version,
                             features=Path(args.features) if args.features else None)
    except Exception as exc:  # noqa: BLE001 - reported to the parent as this variant's error
        from ..redact import redact

        result = VariantRun(variant=args.variant, api_version=args.api_version or "",
                            error=redact(f"{type(exc).__name__}: {exc}".splitlines()[0])[:300])
    Path(args.out).write_text(json.dumps(result.to_dict()), encoding="utf-8")
    return 0 if not result.error else 1


if __name__ == "__main__":
    sys.exit(main())
