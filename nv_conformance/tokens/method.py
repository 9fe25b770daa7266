"""What every token method shares: the fetch interface, the HTTP clients they may use, and the
declaration (:class:`MethodSpec`) through which a method registers itself with the builder."""

from __future__ import annotations

import dataclasses
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..errors import ConfigError
from ..http import GuardedClient, HttpSettings, RequestGate
from .base import OFF_NETWORK, IssuedToken, OffNetworkOutcome, TokenKind, TokenUse
from .kit import KitFill, TesterKit, no_kit_settings
from .settings import Section


class MethodContext:
    """HTTP clients for the methods of one provider: one default client, one per source address."""

    def __init__(self, http: HttpSettings) -> None:
        # The API's extra headers (http.headers) are not the authorization server's (tokens.*.headers).
        self.settings = dataclasses.replace(http, headers=(), headers_origin=None)
        self.allow_plain_http = http.insecure
        self._clients: dict[str | None, GuardedClient] = {}
        self._lock = threading.Lock()
        self._gate: RequestGate | None = None

    def client(self, local_address: str | None = None) -> GuardedClient:
        with self._lock:
            if local_address not in self._clients:
                settings = dataclasses.replace(self.settings, local_address=local_address or self.settings.local_address)
                self._clients[local_address] = GuardedClient(settings)
                self._clients[local_address].gate = self._gate
            return self._clients[local_address]

    def use_gate(self, gate: RequestGate | None) -> None:
        """Every client of the methods (those built already and those to come) waits for ``gate``."""
        with self._lock:
            self._gate = gate
            for client in self._clients.values():
                client.gate = gate

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

    def prepare(self) -> None:
        """Fetch now what every fetch needs first (the discovery document), so it is not on the first
        token's path; a failure is left for the first fetch to report."""
        server = getattr(self, "server", None)
        if server is not None and getattr(server, "discovery_url", None):
            try:
                server.metadata  # noqa: B018 - fetched and kept by the AuthServer
            except Exception:  # noqa: BLE001 - reported, with its setting, by the fetch that needs it
                pass

    def close(self) -> None:
        return None


class OffNetworkCapable(ABC):
    """A method that can ask for a network-based token from a connection the network cannot identify."""

    @abstractmethod
    def attempt(self, scope: str) -> OffNetworkOutcome: ...


@dataclass(frozen=True)
class MethodSpec:
    """One token method as the builder sees it, declared next to its implementation.

    ``kinds`` are the kinds it can produce, ``off_network`` whether it can make the off-network
    attempt. A method either ``build``s itself from its settings, or ``delegates`` each use to
    another registered method whose settings all come from the tester kit (the ``reference`` method).
    """

    name: str
    settings: frozenset[str]
    kinds: frozenset[TokenKind]
    build: Callable[[Section, MethodContext], TokenMethod] | None = None
    delegates: Callable[[TesterKit, TokenUse], str] | None = None
    off_network: bool = False
    kit_settings: KitFill = no_kit_settings
    # Why it cannot produce a kind, where a bare "not for this kind" would leave the tester guessing.
    cannot: Mapping[TokenKind, str] = field(default_factory=dict)
    # The setting naming whom the token is for: only a tel: subject there gives a non_network token.
    subject_setting: str | None = None
    # Kinds it serves when nothing is configured for them (the locally forged invalid token).
    fallback_for: frozenset[TokenKind] = frozenset()
    # One ``defaults.method`` of it serves every kind and the off-network attempt, not only the fresh kinds.
    serves_every_use: bool = False

    def __post_init__(self) -> None:
        if (self.build is None) == (self.delegates is None):
            raise TypeError(f"token method {self.name}: give exactly one of build and delegates")

    def serves(self, use: TokenUse) -> bool:
        return self.off_network if use is OFF_NETWORK else use in self.kinds

    def construct(self, section: Section, context: MethodContext) -> TokenMethod:
        if self.build is None:
            raise ConfigError(section.path("method"), f"{self.name} is built from a tester kit only")
        return self.build(section, context)


def scope_value(purpose: str | None, scope: str, *, openid: bool = False) -> str:
    """The scope string CAMARA expects: optional ``openid``, the purpose, then the API scopes."""
    parts = (["openid"] if openid else []) + ([purpose] if purpose else []) + scope.split()
    seen: list[str] = []
    for part in parts:
        if part not in seen:
            seen.append(part)
    return " ".join(seen)
