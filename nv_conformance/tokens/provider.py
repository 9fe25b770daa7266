"""The TokenProvider the engine uses: one method per kind, plus an optional off-network attempt."""

from __future__ import annotations

import threading

from ..errors import KitError, TokenError
from ..http import RequestGate
from ..redact import redact
from .base import IssuedToken, OffNetworkOutcome, TokenKind
from .method import MethodContext, OffNetworkCapable, TokenMethod


class ConfiguredTokenProvider:
    """Dispatches each kind to the method the config chose; every ``get`` fetches a fresh token."""

    def __init__(
        self,
        methods: dict[TokenKind, TokenMethod],
        reasons: dict[TokenKind, str],
        off_network: OffNetworkCapable | None,
        off_network_reason: str,
        context: MethodContext,
    ) -> None:
        self._methods = methods
        self._reasons = reasons
        self._off_network = off_network
        self._off_network_reason = off_network_reason
        self._context = context

    def supports(self, kind: TokenKind) -> bool:
        return TokenKind(kind) in self._methods

    def method_name(self, kind: TokenKind) -> str:
        """The configured method of ``kind`` ("" when it has none)."""
        method = self._methods.get(TokenKind(kind))
        return method.name if method is not None else ""

    def reason_unsupported(self, kind: TokenKind) -> str:
        kind = TokenKind(kind)
        if kind in self._methods:
            return ""
        return self._reasons.get(kind) or f"tokens.{kind.value} is not configured"

    def get(self, kind: TokenKind, scope: str) -> IssuedToken:
        kind = TokenKind(kind)
        method = self._methods.get(kind)
        if method is None:
            raise TokenError(f"no {kind.value} token: {self.reason_unsupported(kind)}")
        try:
            return method.fetch(kind, scope)
        except TokenError as exc:
            raise _named(exc, f"tokens.{kind.value}: {method.name}") from None
        except KitError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug or odd answer must still end as one safe line
            raise TokenError(f"tokens.{kind.value}: {method.name} failed: {type(exc).__name__}: {redact(exc)[:200]}") from None

    def supports_off_network(self) -> bool:
        return self._off_network is not None

    def reason_off_network_unsupported(self) -> str:
        return "" if self._off_network else self._off_network_reason

    def try_off_network(self, scope: str) -> OffNetworkOutcome:
        if self._off_network is None:
            raise TokenError(f"no off-network attempt: {self._off_network_reason}")
        try:
            return self._off_network.attempt(scope)
        except TokenError as exc:
            raise _named(exc, f"tokens.off_network: {getattr(self._off_network, 'name', 'off-network')}") from None
        except KitError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise TokenError(f"tokens.off_network failed: {type(exc).__name__}: {redact(exc)[:200]}") from None

    def describe(self) -> dict[str, str]:
        """kind -> how it is obtained, for report headers (no secrets)."""
        lines = {kind.value: method.describe() for kind, method in self._methods.items()}
        if self._off_network is not None and isinstance(self._off_network, TokenMethod):
            lines["off_network"] = self._off_network.describe()
        return lines

    def prepare(self) -> None:
        """Each method's discovery document, fetched side by side (for a run that fetches tokens ahead)."""
        methods = [*self._methods.values(), *([self._off_network] if isinstance(self._off_network, TokenMethod) else [])]
        threads = [threading.Thread(target=method.prepare, name="nv-token-prepare", daemon=True) for method in methods]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def use_gate(self, gate: RequestGate | None) -> None:
        """Token requests share ``gate`` (the run's bound on requests in flight) with the API client."""
        self._context.use_gate(gate)

    def close(self) -> None:
        for method in self._methods.values():
            method.close()
        self._context.close()

    def __enter__(self) -> ConfiguredTokenProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _named(exc: TokenError, where: str) -> TokenError:
    """The error with the config section it came from in front (once), so the tester knows what to fix."""
    text = str(exc)
    return exc if text.startswith("tokens.") else TokenError(f"{where}: {text}")
