"""Result model of a conformance run: what the reports are written from.

Records hold only redacted text: whoever creates a record passes request/response
data through ``redact`` first (see ``exchange.exchange_record``).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"      # inputs the target did not provide (reason says which)
    DEFECTIVE = "defective"  # the test definition itself is broken (reason says how); no verdict


class Verdict(StrEnum):
    CONFORMANT = "conformant"        # scenarios passed, and no mandatory one failed or was skipped
    PARTIAL = "partial"              # nothing failed, but mandatory scenarios were skipped (or none passed)
    NOT_CONFORMANT = "not conformant"


@dataclass
class ExchangeRecord:
    """One HTTP exchange, redacted, with a command that reproduces it (token as placeholder)."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None
    response_headers: dict[str, str]
    response_body: str | None
    elapsed_ms: float | None = None
    reproduce: str = ""


@dataclass
class CheckRecord:
    """One assertion: what was checked, the clause it enforces, and whether it held."""

    description: str
    clause: str
    passed: bool
    detail: str = ""


@dataclass
class ScenarioResult:
    feature: str
    name: str
    tags: list[str]
    outcome: Outcome
    clauses: list[str] = field(default_factory=list)
    reason: str = ""  # failure message, skip reason or defect description (redacted)
    mandatory: bool = True
    duration_s: float = 0.0
    checks: list[CheckRecord] = field(default_factory=list)
    exchanges: list[ExchangeRecord] = field(default_factory=list)
    location: str = ""  # file:line of the scenario

    @property
    def scenario_id(self) -> str:
        return next((t for t in self.tags if t[:1].isalpha() and "_" in t), self.name)


@dataclass
class RunResult:
    target: str
    api_version: str
    kit_version: str
    git_commit: str
    started_at: str
    finished_at: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    scenarios: list[ScenarioResult] = field(default_factory=list)
    undefined_steps: list[str] = field(default_factory=list)
    aborted: str = ""  # why the run stopped before every scenario ran (e.g. interrupted); never conformant then
    statement_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # names this run's statement and bundle

    def count(self, outcome: Outcome) -> int:
        return sum(1 for s in self.scenarios if s.outcome == outcome)

    @property
    def verdict(self) -> Verdict:
        """The kit's verdict rules, in one place: every report and ``verify-bundle`` ask this."""
        if self.undefined_steps or any(s.outcome == Outcome.FAILED for s in self.scenarios):
            return Verdict.NOT_CONFORMANT
        if self.aborted or any(s.mandatory and s.outcome in (Outcome.SKIPPED, Outcome.DEFECTIVE) for s in self.scenarios):
            return Verdict.PARTIAL
        if not any(s.outcome == Outcome.PASSED for s in self.scenarios):
            return Verdict.PARTIAL  # nothing was shown to hold (no scenario selected, or only optional ones skipped)
        return Verdict.CONFORMANT

    def totals(self) -> dict[str, int]:
        return {o.value: self.count(o) for o in Outcome}

    @property
    def exit_code(self) -> int:
        """0 only when nothing failed (skips and defective definitions are reported, not failures)."""
        failed = self.undefined_steps or any(s.outcome == Outcome.FAILED for s in self.scenarios)
        return 1 if failed else 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        data["totals"] = self.totals()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        """The run a results document describes (``to_dict`` reversed; ``verdict`` and ``totals`` are derived,
        never read). Raises ``ValueError`` or ``TypeError`` when the document is not one."""
        known = {f.name for f in fields(cls)}
        run = cls(**{k: v for k, v in data.items() if k in known and k != "scenarios"})
        run.scenarios = [_scenario_from_dict(s) for s in data.get("scenarios") or []]
        return run


def _scenario_from_dict(data: dict[str, Any]) -> ScenarioResult:
    known = {f.name for f in fields(ScenarioResult)}
    values = {k: v for k, v in data.items() if k in known}
    values["outcome"] = Outcome(values["outcome"])
    values["checks"] = [CheckRecord(**c) for c in values.get("checks") or []]
    values["exchanges"] = [ExchangeRecord(**x) for x in values.get("exchanges") or []]
    return ScenarioResult(**values)
