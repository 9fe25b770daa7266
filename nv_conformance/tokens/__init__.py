"""Access tokens for the kit: one module per method (see base.py for the protocol, registry.py for the methods).

``build_token_provider(tokens_config, http=..., kit=...)`` is the entry point the engine uses.
"""

from .base import (
    OFF_NETWORK,
    IssuedToken,
    OffNetwork,
    OffNetworkOutcome,
    TokenKind,
    TokenProvider,
    TokenUse,
    off_network_unsupported_reason,
    unsupported_reason,
)
from .builder import build_token_provider

__all__ = [
    "OFF_NETWORK",
    "IssuedToken",
    "OffNetwork",
    "OffNetworkOutcome",
    "TokenKind",
    "TokenProvider",
    "TokenUse",
    "build_token_provider",
    "off_network_unsupported_reason",
    "unsupported_reason",
]
