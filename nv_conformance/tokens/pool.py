"""Tokens fetched ahead of need, side by side, for a run that knows what it will ask for.

Against a remote target a token costs round trips, and a CIBA token the poll interval on top
(5 s by default). A :class:`TokenPool` starts every planned acquisition at once in worker
threads: the HTTP they send is bounded by the run's :class:`~nv_conformance.http.RequestGate`
(requests in flight, ``--rate``), not the waiting, so many CIBA requests wait out their
interval together. Acquisitions start once the plan is known (:meth:`TokenPool.add`), in the scenarios' order.
Each planned token goes to exactly one ``get`` (never twice), in the order
asked; a token too close to its ``expires_in`` is dropped and fetched again; what the plan did
not foresee is fetched on demand as before. The pool never asks for more than the plan says.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from .base import IssuedToken, ProviderWrapper, TokenKind, TokenProvider

MAX_WORKERS = 64       # acquisitions under way at once (most of them waiting, e.g. a CIBA interval)
EXPIRY_MARGIN_S = 30   # a token is handed out only while more than this (or a fifth of its lifetime) is left

TokenNeed = tuple[TokenKind, str]  # (kind, scope) a scenario will ask for


@dataclass(frozen=True)
class _Fetched:
    token: IssuedToken
    at: float  # monotonic time the token response arrived


class TokenPool(ProviderWrapper):
    """A TokenProvider that serves the planned tokens from acquisitions started up front."""

    def __init__(self, provider: TokenProvider, plan: Mapping[TokenNeed, int] | None = None, *,
                 workers: int = MAX_WORKERS, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(provider)
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting: dict[TokenNeed, deque[Future[_Fetched]]] = {}
        self.planned = 0
        # Threads are started as acquisitions are added, up to ``workers``; most of them only wait.
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nv-token")
        for (kind, scope), count in (plan or {}).items():
            for _ in range(count):
                self.add(kind, scope)

    def add(self, kind: TokenKind, scope: str) -> None:
        """One more token the run will ask for: its acquisition starts now (in the order added)."""
        kind = TokenKind(kind)
        if not self.provider.supports(kind):
            return
        with self._lock:
            self._waiting.setdefault((kind, scope), deque()).append(self._executor.submit(self._fetch, kind, scope))
            self.planned += 1

    def _fetch(self, kind: TokenKind, scope: str) -> _Fetched:
        token = self.provider.get(kind, scope)
        return _Fetched(token, self._clock())

    def _fresh_enough(self, fetched: _Fetched) -> bool:
        lifetime = fetched.token.expires_in
        if lifetime is None:
            return True
        margin = min(EXPIRY_MARGIN_S, lifetime / 5)
        return self._clock() < fetched.at + lifetime - margin

    def get(self, kind: TokenKind, scope: str) -> IssuedToken:
        """The next planned token of (kind, scope), waiting for it if under way; else a fresh fetch."""
        kind = TokenKind(kind)
        while True:
            with self._lock:
                queue = self._waiting.get((kind, scope))
                future = queue.popleft() if queue else None
            if future is None:
                return self.provider.get(kind, scope)
            fetched = future.result()  # a failed acquisition fails the scenario that would have used it
            if self._fresh_enough(fetched):
                return fetched.token
            # too old to use: drop it; the next planned one (or a fresh fetch) takes its place

    def unused(self) -> int:
        """Planned tokens nobody asked for (yet)."""
        with self._lock:
            return sum(len(queue) for queue in self._waiting.values())

    def close(self) -> None:
        """Stop what has not started; the provider itself belongs to the target (closed with it)."""
        with self._lock:
            pending = [future for queue in self._waiting.values() for future in queue]
            self._waiting.clear()
        for future in pending:
            future.cancel()
        self._executor.shutdown(wait=True, cancel_futures=True)
