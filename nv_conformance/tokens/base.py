"""What the rest of the kit knows about tokens: kinds, the issued token, the provider protocol.

A scenario asks for a *kind* of token; the target config decides how each kind is
obtained (static, command, jwt-bearer, ciba, authorization-code, reference).
Tokens are single-use on CAMARA targets, so a provider fetches a fresh one per call.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Protocol, TypeAlias


class TokenKind(StrEnum):
    VALID = "valid"              # network- or SIM-based, with the scope the operation needs
    OTHER_SCOPE = "other_scope"  # network- or SIM-based, only the other operation's scope
    NON_NETWORK = "non_network"  # obtained without network- or SIM-based authentication (e.g. tel: subject)
    EXPIRED = "expired"          # was valid, now past exp
    INVALID = "invalid"          # garbage / not issued by the target


class OffNetwork(Enum):
    """The off-network attempt: not a kind of token (it should yield none), yet a use a method is built for."""

    ATTEMPT = "off_network"


# The kinds a token fetched fresh from an authorization server can be (never expired, never invalid).
FRESH_KINDS = frozenset({TokenKind.VALID, TokenKind.OTHER_SCOPE, TokenKind.NON_NETWORK})

OFF_NETWORK = OffNetwork.ATTEMPT
# What a method is built for: one kind of token, or the off-network attempt. ``use.value`` names its config section.
TokenUse: TypeAlias = TokenKind | OffNetwork


@dataclass(frozen=True)
class IssuedToken:
    """One access token and what the token response said about it."""

    access_token: str
    kind: TokenKind
    scope: str
    expires_in: int | None = None
    refresh_token_issued: bool = False
    method: str = ""
    from_token_response: bool = False  # False: a given token (static, a command printing it bare): nothing to inspect
    grant: str = ""                    # the OAuth grant that issued it ("jwt-bearer", "ciba", "authorization-code")

    def __repr__(self) -> str:  # never show the token itself
        return f"IssuedToken(kind={self.kind.value}, scope={self.scope!r}, method={self.method!r}, expires_in={self.expires_in})"


@dataclass(frozen=True)
class OffNetworkOutcome:
    """Result of asking for a network-based token from a connection the network cannot identify."""

    token_issued: bool
    error: str | None  # OAuth error code returned instead (e.g. access_denied, login_required)
    detail: str = ""


class TokenProvider(Protocol):
    """Obtains tokens of each kind for one target."""

    def supports(self, kind: TokenKind) -> bool:
        """False when the target config provides no way to obtain this kind (scenario is skipped)."""

    def get(self, kind: TokenKind, scope: str) -> IssuedToken:
        """A fresh token of ``kind`` carrying ``scope``; raises TokenError with a one-line reason."""

    def supports_off_network(self) -> bool:
        """True when the target can simulate a connection that is not on the mobile network."""

    def try_off_network(self, scope: str) -> OffNetworkOutcome:
        """Ask for a network-based token from an address the network does not know."""

    def close(self) -> None: ...

    # Optional (added later, so callers use ``unsupported_reason`` below rather than calling it directly):
    # def reason_unsupported(self, kind: TokenKind) -> str:
    #     """Why ``supports(kind)`` is False, as one line for the skipped scenario ("" when supported)."""


def unsupported_reason(provider: TokenProvider, kind: TokenKind) -> str:
    """Why ``provider`` cannot give a ``kind`` token; works with providers that predate ``reason_unsupported``."""
    if provider.supports(kind):
        return ""
    explain = getattr(provider, "reason_unsupported", None)
    reason = explain(kind) if callable(explain) else ""
    return reason or f"the target config gives no way to obtain a {kind.value} token"


def off_network_unsupported_reason(provider: TokenProvider) -> str:
    """Why ``provider`` cannot try an off-network token request ("" when it can)."""
    if provider.supports_off_network():
        return ""
    explain = getattr(provider, "reason_off_network_unsupported", None)
    reason = explain() if callable(explain) else ""
    return reason or "the target config gives no way to request a token from an off-network address"


class ProviderWrapper:
    """A TokenProvider in front of another (the run's token pool, the token plan's recorder): what it can
    give and why not are the wrapped provider's; a subclass changes how tokens are got. The wrapped
    provider belongs to whoever made it: closing the wrapper leaves it open."""

    def __init__(self, provider: TokenProvider) -> None:
        self.provider = provider

    def supports(self, kind: TokenKind) -> bool:
        return self.provider.supports(kind)

    def reason_unsupported(self, kind: TokenKind) -> str:
        return unsupported_reason(self.provider, kind)

    def get(self, kind: TokenKind, scope: str) -> IssuedToken:
        return self.provider.get(kind, scope)

    def supports_off_network(self) -> bool:
        return self.provider.supports_off_network()

    def reason_off_network_unsupported(self) -> str:
        return off_network_unsupported_reason(self.provider)

    def try_off_network(self, scope: str) -> OffNetworkOutcome:
        return self.provider.try_off_network(scope)

    def close(self) -> None:
        return None
