"""A fresh access token for every fuzzed request.

CAMARA Number Verification tokens are single-use: schemathesis' default token caching would
send one token many times, and because 401 is a documented response the rejections would look
like passes. So the auth provider is registered with ``refresh_interval=None`` (no caching),
every token comes from the kit's token layer, and the runner watches the share of 401s.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import TokenError
from ..redact import redact

TokenFetcher = Callable[[str], str]  # scope -> access token
MAX_CONSECUTIVE_TOKEN_ERRORS = 3


@dataclass
class TokenSource:
    """Fetches one new valid token per call and counts what happened (never keeps the tokens)."""

    fetch: TokenFetcher
    on_broken: Callable[[str], None] = lambda message: None
    issued: int = 0
    repeated: int = 0  # tokens handed out more than once (e.g. a `static` token): single-use targets reject them
    errors: int = 0
    last_error: str = ""
    _consecutive_errors: int = 0
    _seen: set[bytes] = field(default_factory=set)  # digests only: the tokens themselves are never kept
    _reused: set[bytes] = field(default_factory=set)  # digests of the tokens handed out more than once
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fresh(self, scope: str) -> str:
        try:
            token = self.fetch(scope)
        except Exception as exc:
            message = redact(str(exc) or type(exc).__name__)
            with self._lock:
                self.errors += 1
                self._consecutive_errors += 1
                self.last_error = message
                broken = self._consecutive_errors >= MAX_CONSECUTIVE_TOKEN_ERRORS
            if broken:
                self.on_broken(f"the token layer failed {MAX_CONSECUTIVE_TOKEN_ERRORS} times in a row: {message}")
            raise TokenError(f"no token for scope {scope!r}: {message}") from None
        digest = hashlib.sha256(token.encode("utf-8", "replace")).digest()
        with self._lock:
            self.issued += 1
            self._consecutive_errors = 0
            if digest in self._seen:
                self.repeated += 1
                self._reused.add(digest)
            else:
                self._seen.add(digest)
        return token

    def was_reused(self, authorization: str | None) -> bool:
        """Whether the bearer token of an ``Authorization`` header value is one handed out more than once."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return False
        digest = hashlib.sha256(authorization[7:].strip().encode("utf-8", "replace")).digest()
        with self._lock:
            return digest in self._reused


def set_bearer(headers: dict[str, Any] | None, token: str) -> dict[str, Any]:
    headers = dict(headers or {})
    for name in [n for n in headers if n.lower() == "authorization"]:
        del headers[name]
    headers["Authorization"] = f"Bearer {token}"
    return headers


def fresh_token_auth_class(source: TokenSource, scope_for: Callable[[Any], str]) -> type:
    """A schemathesis auth provider class bound to ``source`` (schemathesis instantiates it without arguments)."""

    class FreshTokenAuth:
        """schemathesis ``AuthProvider``: a new token per generated case, set as a Bearer header."""

        def get(self, case: Any, context: Any) -> str:
            return source.fresh(scope_for(context.operation))

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = set_bearer(case.headers, data)

    return FreshTokenAuth
