"""Result model of a conformance run: what the reports are written from.

Records hold only redacted text: whoever creates a record passes request/response
data through ``redact`` first (see ``exchange.exchange_record``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"        # a mandatory rule was broken by the target
    WARNING = "warning"      # only advisory rules were broken (a SHOULD, or a rule this version does not demand)
    SKIPPED = "skipped"      # inputs the target did not provide (reason says which)
    NOT_APPLICABLE = "not applicable"  # the rule does not apply to this version or target (reason says why)
    DEFECTIVE = "defective"  # the test definition itself is broken (reason says how); no verdict
    ERROR = "error"          # the tester's side or the environment failed (unreachable, token refused): no verdict


class Verdict(StrEnum):
    CONFORMANT = "conformant"        # scenarios passed, and no mandatory one failed or was skipped
    PARTIAL = "partial"              # nothing failed, but mandatory scenarios were skipped (or none passed)
    NOT_CONFORMANT = "not conformant"
    INCONCLUSIVE = "inconclusive"    # nothing failed, but errors on the tester's side hid the answer
    SELECTION_PASSED = "selection passed"  # a selection of the suite ran and held: no claim on the rest
    SELECTION_FAILED = "selection failed"


# Exit codes of run and fuzz (documented in README and ``--help``).
EXIT_OK = 0            # conformant, or selection passed
EXIT_NOT_CONFORMANT = 1
EXIT_USAGE = 2         # bad option or config: one line naming it
EXIT_INCONCLUSIVE = 3  # errors (pre-flight or during the run), nothing failed
EXIT_PARTIAL = 4       # mandatory scenarios not carried out (--allow-partial: 0)
EXIT_SIGINT = 130      # 128 + signal number: stopped by Ctrl-C ...
EXIT_SIGTERM = 143     # ... or by SIGTERM (CI cancellation, timeout, container stop)

_VERDICT_EXIT = {
    Verdict.CONFORMANT: EXIT_OK, Verdict.SELECTION_PASSED: EXIT_OK,
    Verdict.NOT_CONFORMANT: EXIT_NOT_CONFORMANT, Verdict.SELECTION_FAILED: EXIT_NOT_CONFORMANT,
    Verdict.INCONCLUSIVE: EXIT_INCONCLUSIVE, Verdict.PARTIAL: EXIT_PARTIAL,
}


def exit_code_for(verdict: Verdict, *, allow_partial: bool = False) -> int:
    """The exit code a finished (not interrupted) run ends with."""
    if verdict == Verdict.PARTIAL and allow_partial:
        return EXIT_OK
    return _VERDICT_EXIT[verdict]


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
    advisory: bool = False  # a SHOULD (or a rule this version does not demand): broken = warning, not failure

    @property
    def warns(self) -> bool:
        """Broken, but only advisory: shown as a warning, never changes the verdict."""
        return self.advisory and not self.passed


IMPLEMENTATION_FIELDS = ("organization", "product", "version", "contact")  # the config's implementation:


def declared_implementation(declared: Any) -> dict[str, str]:
    """The non-empty fields of an ``implementation:`` as a run's options (or a bundle's manifest) hold it;
    {} when none was declared."""
    if not isinstance(declared, dict):
        return {}
    return {k: str(declared[k]) for k in IMPLEMENTATION_FIELDS if declared.get(k)}


def implementation_name(declared: Any) -> str:
    """"organization product version" of an ``implementation:``; "" when none was declared."""
    fields = declared_implementation(declared)
    return " ".join(part for part in (fields.get(k, "").strip() for k in IMPLEMENTATION_FIELDS[:3]) if part)


def id_of(tags: Iterable[str], name: str) -> str:
    """A scenario's id in every report: its first id-like tag (a letter first, an underscore in it), else its name."""
    return next((t for t in tags if t[:1].isalpha() and "_" in t), name)


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
        return id_of(self.tags, self.name)

    @property
    def warnings(self) -> list[CheckRecord]:
        """The advisory checks that did not hold (a passing scenario may have some)."""
        return [c for c in self.checks if c.warns]


@dataclass
class Selection:
    """A run of part of the suite (``--tags``/``--name``): the verdict covers ``selected`` of ``total``."""

    selected: int
    total: int


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
    signal: int = 0    # the signal that stopped the run (2 SIGINT, 15 SIGTERM), 0 when none did
    not_run: list[str] = field(default_factory=list)  # scenarios an interrupted run never reached
    selection: Selection | None = None  # None: the whole suite was selected
    statement_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # names this run's statement and bundle

    def count(self, outcome: Outcome) -> int:
        return sum(1 for s in self.scenarios if s.outcome == outcome)

    @property
    def verdict(self) -> Verdict:
        """The kit's verdict rules, in one place: every report and ``verify-bundle`` ask this.

        Failed beats everything; then errors (inconclusive); then missing evidence (partial).
        Warnings never change the verdict; a selection is never called conformant.
        """
        if self.undefined_steps or any(s.outcome == Outcome.FAILED for s in self.scenarios):
            return Verdict.SELECTION_FAILED if self.selection else Verdict.NOT_CONFORMANT
        if any(s.outcome == Outcome.ERROR for s in self.scenarios):
            return Verdict.INCONCLUSIVE
        if self.aborted or any(s.mandatory and s.outcome in (Outcome.SKIPPED, Outcome.DEFECTIVE) for s in self.scenarios):
            return Verdict.PARTIAL
        if not any(s.outcome in (Outcome.PASSED, Outcome.WARNING) for s in self.scenarios):
            return Verdict.PARTIAL  # nothing was shown to hold (no scenario selected, or only optional ones skipped)
        return Verdict.SELECTION_PASSED if self.selection else Verdict.CONFORMANT

    def totals(self) -> dict[str, int]:
        return {o.value: self.count(o) for o in Outcome}

    @property
    def warnings(self) -> list[tuple[ScenarioResult, CheckRecord]]:
        """Every broken advisory check of the run, with its scenario."""
        return [(s, c) for s in self.scenarios for c in s.warnings]

    def exit_status(self, *, allow_partial: bool = False) -> int:
        """The process exit code: 128 + signal when a signal stopped the run, else by the verdict."""
        if self.signal:
            return 128 + self.signal
        return exit_code_for(self.verdict, allow_partial=allow_partial)

    @property
    def exit_code(self) -> int:
        """:meth:`exit_status` without ``--allow-partial``."""
        return self.exit_status()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        data["totals"] = self.totals()
        for scenario, record in zip(data["scenarios"], self.scenarios, strict=True):
            scenario["id"] = record.scenario_id
            scenario["warnings"] = [asdict(c) for c in record.warnings]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        """The run a results document describes (``to_dict`` reversed; ``verdict`` and ``totals`` are derived,
        never read). Raises ``ValueError`` or ``TypeError`` when the document is not one."""
        known = {f.name for f in fields(cls)}
        run = cls(**{k: v for k, v in data.items() if k in known and k not in ("scenarios", "selection")})
        selection = data.get("selection")
        if selection is not None:
            run.selection = Selection(selected=int(selection["selected"]), total=int(selection["total"]))
        run.scenarios = [_scenario_from_dict(s) for s in data.get("scenarios") or []]
        return run


def _scenario_from_dict(data: dict[str, Any]) -> ScenarioResult:
    known = {f.name for f in fields(ScenarioResult)}
    values = {k: v for k, v in data.items() if k in known}
    values["outcome"] = Outcome(values["outcome"])
    values["checks"] = [CheckRecord(**c) for c in values.get("checks") or []]
    values["exchanges"] = [ExchangeRecord(**x) for x in values.get("exchanges") or []]
    return ScenarioResult(**values)
