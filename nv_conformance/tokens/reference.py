"""The ``reference`` method: the reference server's real flows, every setting taken from its tester kit.

It builds nothing of its own; for each use it delegates to a registered method: jwt-bearer for
the fresh kinds, the kit's expired token (static), a locally forged invalid one (local), and an
authorization-code attempt from the kit's off-network address.
"""

from __future__ import annotations

from ..errors import ConfigError
from .base import FRESH_KINDS, TokenKind, TokenUse
from .kit import TesterKit
from .method import MethodSpec


def serving_method(kit: TesterKit, use: TokenUse) -> str:
    """The registered method that runs the reference's flow for ``use``."""
    if use in FRESH_KINDS:
        return "jwt-bearer"
    if use is TokenKind.EXPIRED:
        if not kit.expired_access_token:
            raise ConfigError("kit.expired_access_token", "missing from the tester kit")
        return "static"
    if use is TokenKind.INVALID:
        return "local"
    if not kit.off_network_ip:
        raise ConfigError("kit.off_network_ip", "missing from the tester kit")
    return "authorization-code"


METHOD = MethodSpec(
    name="reference",
    settings=frozenset(),
    kinds=frozenset(TokenKind),
    delegates=serving_method,
    off_network=True,
    serves_every_use=True,
)
