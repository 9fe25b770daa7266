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
from ..tokens.base import IssuedToken, OffNetworkOutcome, TokenKind, TokenProvider, unsupported_reason
from ..tokens.pool import TokenNeed
from .session import Session, new_run

PLACEHOLDER_TOKEN = "planned-token-placeholder"


class RecordingProvider:
    """A TokenProvider that answers like the real one about what it supports, and counts what is asked."""

    def __init__(self, real: TokenProvider, on_need: Callable[[TokenKind, str], None] | None = None) -> None:
        self.real = real
        self.needs: Counter[TokenNeed] = Counter()
        self.on_need = on_need  # told of each need as it is found (the pool starts fetching at once)
        self._lock = threading.Lock()

    def supports(self, kind: TokenKind) -> bool:
        return self.real.supports(kind)

    def reason_unsupported(self, kind: TokenKind) -> str:
        return unsupported_reason(self.real, kind)

    def get(self, kind: TokenKind, scope: str) -> IssuedToken:
        kind = TokenKind(kind)
        with self._lock:
            self.needs[(kind, scope)] += 1
        if self.on_need is not None:
            self.on_need(kind, scope)
        return IssuedToken(access_token=PLACEHOLDER_TOKEN, kind=kind, scope=scope, method="plan")

    def supports_off_network(self) -> bool:
        return self.real.supports_off_network()

    def reason_off_network_unsupported(self) -> str:
        explain = getattr(self.real, "reason_off_network_unsupported", None)
        return explain() if callable(explain) else ""

    def try_off_network(self, scope: str) -> OffNetworkOutcome:
        return OffNetworkOutcome(False, "access_denied", "planned")

    def close(self) -> None:
        return None


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "application/json"}, content=b"{}")


class _OfflineClient(GuardedClient):
    """The kit's client on a mock transport, sending in the caller's thread (no network: nothing can stall)."""

    def _send_before(self, request: httpx.Request, deadline: float, method: str, url: str, started: float) -> httpx.Response:
        return self._client.send(request, stream=True)


def planning_session(session: Session, tokens: TokenProvider,
                     on_need: Callable[[TokenKind, str], None] | None = None) -> tuple[Session, RecordingProvider, GuardedClient]:
    """A copy of ``session`` that sends nothing: recorded tokens, a mock transport, no printer or reports."""
    recorder = RecordingProvider(tokens, on_need)
    client = _OfflineClient(HttpSettings(), transport=httpx.MockTransport(_answer))
    run = new_run(session.run.target, session.api_version, {})
    planning = dataclasses.replace(session, client=client, tokens=recorder, run=run, printer=None, report_dir=None,
                                   deadline=None, current=None, owned_target=None, planning=True, collect=None,
                                   sent_tokens=SentTokens())
    return planning, recorder, client


def token_plan(scenarios: Iterable[Any], session: Session, run_one: Callable[[Any, Session], None],
               on_need: Callable[[TokenKind, str], None] | None = None) -> Counter[TokenNeed]:
    """(kind, scope) -> how many tokens the ``scenarios`` will ask for.

    ``run_one(scenario, session)`` runs one behave scenario with the given session (the parallel
    runner's own way of running a scenario); each scenario is reset afterwards for the real run.
    ``on_need(kind, scope)`` hears of each token as the dry run finds it.
    """
    if session.tokens is None:
        return Counter()
    planning, recorder, client = planning_session(session, session.tokens, on_need)
    try:
        for scenario in scenarios:
            try:
                run_one(scenario, planning)
            finally:
                scenario.reset()
    finally:
        client.close()
    return recorder.needs


def describe_plan(plan: Counter[TokenNeed]) -> str:
    """E.g. ``43 tokens: 38 valid, 3 other_scope, 2 non_network``; for the progress header."""
    by_kind: Counter[str] = Counter()
    for (kind, _), count in plan.items():
        by_kind[kind.value] += count
    total = sum(by_kind.values())
    if not total:
        return "no tokens"
    return f"{total} token{'s' if total != 1 else ''}: " + ", ".join(f"{n} {kind}" for kind, n in by_kind.most_common())
