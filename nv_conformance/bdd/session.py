"""The per-run session (target, contract, profile, client, tokens, results) and per-scenario state.

The hooks build one :class:`Session` per behave run; every scenario gets a fresh
:class:`ScenarioState`. Step functions reach both through :func:`state_of`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from .. import __version__
from ..checks import enforce
from ..contract import Contract
from ..exchange import Conversation
from ..http import GuardedClient
from ..profiles import VersionProfile
from ..redact import redact
from ..results import CheckRecord, RunResult
from ..tokens.base import IssuedToken, OffNetworkOutcome, TokenProvider

LAST_RUN: RunResult | None = None  # the finished run, for an in-process caller (nv-conformance run)


@dataclass
class TestData:
    __test__ = False
    phone_number: str | None = None
    other_phone_number: str | None = None


@dataclass
class Session:
    """Everything that lives for one run."""

    base_url: str          # api_root + base path of the version under test
    api_root: str
    api_version: str
    contract: Contract
    profile: VersionProfile
    client: GuardedClient
    tokens: TokenProvider | None
    run: RunResult
    test_data: TestData = field(default_factory=TestData)
    base_path_explicit: bool = False  # the target config pins the base path (wins over feature files)
    config: Any = None
    reference: Any = None  # a running EmbeddedReference, stopped at the end
    printer: Any = None    # report.progress.ProgressPrinter, when available and wanted
    report_dir: str | None = None
    deadline: float | None = None  # monotonic time after which no new scenario starts
    current: ScenarioState | None = None

    def close(self) -> None:
        for closer in (getattr(self.tokens, "close", None), self.client.close):
            if closer is not None:
                try:
                    closer()
                except Exception:  # noqa: BLE001 - closing must not hide the run's result
                    pass
        if self.reference is not None:
            self.reference.__exit__(None, None, None)
            self.reference = None


class ScenarioState:
    """One scenario's conversation, checks and outcome signals."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.conversation = Conversation(client=session.client, contract=session.contract,
                                         tokens=session.tokens, base_url=session.base_url)
        self.checks: list[CheckRecord] = []
        self.clauses: list[str] = []
        self.defect: str | None = None
        self.skip_reason: str | None = None
        self.not_applicable = False  # skipped because the version/contract lacks the rule: not mandatory
        self.issued: IssuedToken | None = None
        self.off_network: OffNetworkOutcome | None = None
        self.last_body_path: str | None = None  # for "the same phone number ..."
        self.started = time.monotonic()

    def check(self, record: CheckRecord | None) -> CheckRecord | None:
        """Record a verdict and fail the step when it did not hold.

        Redacted here, whoever built the record: its text becomes the step's error message, which
        plain ``behave`` prints as it is.
        """
        if record is None:
            return None
        record = replace(record, description=redact(record.description), clause=redact(record.clause),
                         detail=redact(record.detail))
        self.checks.append(record)
        return enforce(record)

    def clause(self, fallback: str) -> str:
        """The scenario's own clause (from its tags/comments) if it names one, else ``fallback``."""
        return self.clauses[0] if self.clauses else fallback


def state_of(context: Any) -> ScenarioState:
    """The current scenario's state (created by the before_scenario hook)."""
    state = getattr(context, "nv", None)
    if state is None:
        session = getattr(context, "nv_session", None)
        if session is None:
            raise RuntimeError("the nv-conformance hooks are not loaded (environment.py missing?)")
        state = ScenarioState(session)
        context.nv = state
    return state


def new_run(target: str, api_version: str, options: dict[str, Any]) -> RunResult:
    return RunResult(target=target, api_version=api_version, kit_version=__version__,
                     git_commit=_git_commit(), started_at=now_iso(), options=options)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")  # run durations below a second stay visible


def _git_commit() -> str:
    try:
        from ..report import kit_git_commit
    except ImportError:
        return ""
    return kit_git_commit()

