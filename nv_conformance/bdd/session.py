"""The per-run session (the target's parts the steps use, and the results) and per-scenario state.

The hooks build one :class:`Session` per behave run from a :class:`~nv_conformance.target.Target`;
every scenario gets a fresh :class:`ScenarioState`. Step functions reach both through :func:`state_of`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..checks import enforce
from ..config import TestData
from ..contract import Contract
from ..exchange import Conversation, SentTokens
from ..http import GuardedClient
from ..profiles import VersionProfile
from ..redact import redact
from ..report import kit_git_commit
from ..results import CheckRecord, RunResult, ScenarioResult
from ..target import Target
from ..tokens.base import IssuedToken, OffNetworkOutcome, TokenProvider

LAST_RUN: RunResult | None = None  # the finished run, for an in-process caller (nv-conformance run)


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
    printer: Any = None    # report.progress.ProgressPrinter, when wanted
    report_dir: Path | None = None
    deadline: float | None = None  # monotonic time after which no new scenario starts
    current: ScenarioState | None = None
    owned_target: Target | None = None  # built by the hooks themselves (plain behave): closed at the end
    planned: list[str] = field(default_factory=list)  # scenario keys the selection will run, in order
    strict_token_policy: bool = False  # the target declares every token rule of any version (declared.token_policy)
    planning: bool = False  # the token plan's dry run (bdd/plan.py): checks are recorded, not enforced
    sent_tokens: SentTokens = field(default_factory=SentTokens)  # fresh tokens already sent (a resent one's 401: error)
    # A concurrent run (bdd/parallel.py) takes each finished scenario's result here, to release them in order.
    collect: Callable[[Any, ScenarioResult, list[str]], None] | None = None

    @classmethod
    def for_target(cls, target: Target, run: RunResult, *, report_dir: Path | None = None,
                   owns_target: bool = False) -> Session:
        return cls(base_url=target.base_url, api_root=target.api_root, api_version=target.api_version,
                   contract=target.contract, profile=target.profile, client=target.client, tokens=target.tokens,
                   run=run, test_data=target.test_data, base_path_explicit=target.base_path_explicit,
                   report_dir=report_dir, owned_target=target if owns_target else None,
                   strict_token_policy=target.config.strict_token_policy)

    def close(self) -> None:
        """Close the target if the hooks built it (a caller that built it closes it itself)."""
        if self.owned_target is not None:
            self.owned_target.close()
            self.owned_target = None


class ScenarioState:
    """One scenario's conversation, checks and outcome signals."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.conversation = Conversation(client=session.client, contract=session.contract,
                                         tokens=session.tokens, base_url=session.base_url,
                                         sent_tokens=session.sent_tokens)
        self.checks: list[CheckRecord] = []
        self.clauses: list[str] = []
        self.defect: str | None = None
        self.skip_reason: str | None = None
        self.not_applicable = False  # skipped because the version/contract lacks the rule: not mandatory
        self.error: str | None = None  # the tester's side or the environment failed (outcome ERROR)
        self.advisory_rules: set[str] = set()  # token rules this version only advises: broken = warning
        self.advisory_from_now = False  # every later check is advisory (e.g. what a reused token gets)
        self.advisory_clause = ""  # the advisory rule those later checks serve, cited beside their own clause
        self.mandatory_rule_checked = False  # a mandatory rule was judged although the gate was advisory
        self.issued: IssuedToken | None = None
        self.off_network: OffNetworkOutcome | None = None
        self.last_body_path: str | None = None  # for "the same phone number ..."
        self.token_without_scope: str | None = None  # "an access token that does not include scope ..."
        self.started = time.monotonic()

    def check(self, record: CheckRecord | None, *, rule: str = "") -> CheckRecord | None:
        """Record a verdict and fail the step when it did not hold.

        Redacted here, whoever built the record: its text becomes the step's error message, which
        plain ``behave`` prints as it is. ``rule``: the token rule the record judges; advisory when
        this version only advises it (``advisory_rules``).
        """
        if record is None:
            return None
        if self.session.planning:  # the token plan's dry run: nothing of it is kept or enforced
            return record
        clause = record.clause
        if self.advisory_from_now and self.advisory_clause:
            clause = f"{self.advisory_clause} ({clause})"
        record = replace(record, description=redact(record.description), clause=redact(clause),
                         detail=redact(record.detail),
                         advisory=record.advisory or self.advisory_from_now or rule in self.advisory_rules)
        self.checks.append(record)
        return enforce(record)  # an advisory check that broke ends the scenario as a warning (glue)

    def clause(self, fallback: str) -> str:
        """The scenario's own clause (from its tags/comments) if it names one, else ``fallback``."""
        return self.clauses[0] if self.clauses else fallback

    @property
    def advisory_only(self) -> bool:
        """The scenario checks only rules this version advises: it cannot make the run partial."""
        return bool(self.advisory_rules) and not self.mandatory_rule_checked


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
                     git_commit=kit_git_commit(), started_at=now_iso(), options=options)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")  # run durations below a second stay visible
