"""Which tokens a run will ask for, found by a dry run of the selected scenarios.

The steps decide the token kind and scope only as they run (the operation, the scope sentences,
a legacy file's wording), so the plan runs them: every scenario once, in this process, against a
stand-in that sends nothing. The token provider records each ``get`` and hands back a placeholder;
every request is answered ``200 {}`` by a mock transport; checks are recorded but not enforced,
so a scenario goes on to its later requests as it would against a conformant target. Nothing
leaves the process and nothing of the dry run is reported. The real run then gets its planned
tokens from :class:`~nv_conformance.tokens.pool.TokenPool`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from ..exchange import SentTokens
from ..http import GuardedClient, HttpSettings
from ..tokens.base import IssuedToken, OffNetworkOutcome, ProviderWrapper, TokenKind, TokenProvider
from ..tokens.pool import TokenNeed
from .session import Session, new_run

PLACEHOLDER_TOKEN = "planned-token-placeholder"


class RecordingProvider(ProviderWrapper):
    """A TokenProvider that answers like the real one about what it supports, and counts what is asked."""

    def __init__(self, real: TokenProvider) -> None:
        super().__init__(real)
        self.needs: list[TokenNeed] = []  # in the order the scenarios ask
        self._lock = threading.Lock()

    def get(self, kind: TokenKind, scope: str) -> IssuedToken:
        kind = TokenKind(kind)
        with self._lock:
            self.needs.append((kind, scope))
        return IssuedToken(access_token=PLACEHOLDER_TOKEN, kind=kind, scope=scope, method="plan")

    def try_off_network(self, scope: str) -> OffNetworkOutcome:
        return OffNetworkOutcome(False, "access_denied", "planned")


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "application/json"}, content=b"{}")


class _OfflineClient(GuardedClient):
    """The kit's client on a mock transport, sending in the caller's thread (no network: nothing can stall)."""

    def _send_before(self, request: httpx.Request, deadline: float, method: str, url: str, started: float) -> httpx.Response:
        return self._client.send(request, stream=True)


def planning_session(session: Session, tokens: TokenProvider) -> tuple[Session, RecordingProvider, GuardedClient]:
    """A copy of ``session`` that sends nothing: recorded tokens, a mock transport, no printer or reports."""
    recorder = RecordingProvider(tokens)
    client = _OfflineClient(HttpSettings(), transport=httpx.MockTransport(_answer))
    run = new_run(session.run.target, session.api_version, {})
    planning = dataclasses.replace(session, client=client, tokens=recorder, run=run, printer=None, report_dir=None,
                                   deadline=None, current=None, owned_target=None, planning=True, collect=None,
                                   sent_tokens=SentTokens())
    return planning, recorder, client


def token_plan(scenarios: Iterable[Any], session: Session, run_one: Callable[[Any, Session], None]) -> list[TokenNeed]:
    """The (kind, scope) of every token the ``scenarios`` will ask for, in the order they ask.

    ``run_one(scenario, session)`` runs one behave scenario with the given session (the parallel
    runner's own way of running a scenario); each scenario is reset afterwards for the real run.
    """
    if session.tokens is None:
        return []
    planning, recorder, client = planning_session(session, session.tokens)
    try:
        for scenario in scenarios:
            try:
                run_one(scenario, planning)
            finally:
                scenario.reset()
    finally:
        client.close()
    return recorder.needs


def describe_plan(plan: Iterable[TokenNeed]) -> str:
    """E.g. ``43 tokens: 38 valid, 3 other_scope, 2 non_network``; for the progress header."""
    by_kind = Counter(kind.value for kind, _ in plan)
    total = sum(by_kind.values())
    if not total:
        return "no tokens"
    return f"{total} token{'s' if total != 1 else ''}: " + ", ".join(f"{n} {kind}" for kind, n in by_kind.most_common())
