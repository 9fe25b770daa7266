"""Access tokens for the kit: one module per method (see base.py for the protocol).

``build_token_provider(tokens_config, http=..., kit=...)`` is the entry point the engine uses.
"""

from .base import (
    IssuedToken,
    OffNetworkOutcome,
    TokenKind,
    TokenProvider,
    off_network_unsupported_reason,
    unsupported_reason,
)
from .builder import build_token_provider

__all__ = [
    "IssuedToken",
    "OffNetworkOutcome",
    "TokenKind",
    "TokenProvider",
    "build_token_provider",
    "off_network_unsupported_reason",
    "unsupported_reason",
]
