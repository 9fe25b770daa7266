"""What every token method shares: the fetch interface and the HTTP clients they may use."""

from __future__ import annotations

import dataclasses
import threading
from abc import ABC, abstractmethod

from ..http import GuardedClient, HttpSettings
from .base import IssuedToken, OffNetworkOutcome, TokenKind


class MethodContext:
    """HTTP clients for the methods of one provider: one default client, one per source address."""

    def __init__(self, http: HttpSettings) -> None:
        # The API's extra headers (http.headers) are not the authorization server's (tokens.*.headers).
        self.settings = dataclasses.replace(http, headers=(), headers_origin=None)
        self.allow_plain_http = http.insecure
        self._clients: dict[str | None, GuardedClient] = {}
        self._lock = threading.Lock()

    def client(self, local_address: str | None = None) -> GuardedClient:
        with self._lock:
            if local_address not in self._clients:
                settings = dataclasses.replace(self.settings, local_address=local_address or self.settings.local_address)
                self._clients[local_address] = GuardedClient(settings)
            return self._clients[local_address]

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()


class TokenMethod(ABC):
    """One way of obtaining a token (static, command, jwt-bearer, ciba, authorization-code, local)."""

    name: str = ""

    @abstractmethod
    def fetch(self, kind: TokenKind, scope: str) -> IssuedToken:
        """A fresh token; raises TokenError with one line naming endpoint, status and OAuth error."""

    def describe(self) -> str:
        """How tokens are obtained, safe to print (no secrets)."""
        return self.name

    def close(self) -> None:
        return None


class OffNetworkCapable(ABC):
    """A method that can ask for a network-based token from a connection the network cannot identify."""

    @abstractmethod
    def attempt(self, scope: str) -> OffNetworkOutcome: ...


def scope_value(purpose: str | None, scope: str, *, openid: bool = False) -> str:
    """The scope string CAMARA expects: optional ``openid``, the purpose, then the API scopes."""
    parts = (["openid"] if openid else []) + ([purpose] if purpose else []) + scope.split()
    seen: list[str] = []
    for part in parts:
        if part not in seen:
            seen.append(part)
    return " ".join(seen)
