"""What the fuzzer needs of a :class:`~nv_conformance.target.Target`: base URL, contract, profile, fresh tokens.

The same target as ``nv-conformance run`` (built by :func:`nv_conformance.target.open_target`);
tokens come from its token layer, so every method the runner supports works for fuzzing too.
"""

from __future__ import annotations

from ..errors import ConfigError
from ..exchange import TESTER_TOKEN_SOURCES
from ..target import Target
from ..tokens.base import TokenKind
from .runner import FuzzTarget


def fuzz_target(target: Target) -> FuzzTarget:
    """The fuzzer's view of ``target``; ConfigError when it gives no way to obtain valid tokens."""
    provider = target.tokens
    if not provider.supports(TokenKind.VALID):
        raise ConfigError("tokens.valid", "fuzzing needs a way to obtain valid tokens")
    return FuzzTarget(
        api_base_url=target.base_url,
        contract=target.contract,
        profile=target.profile,
        fetch_token=lambda scope: provider.get(TokenKind.VALID, scope).access_token,
        http=target.config.http,
        label=target.label,
        tokens_from_tester=_valid_method(provider) in TESTER_TOKEN_SOURCES,
    )


def _valid_method(provider: object) -> str:
    """The method the valid tokens come from (``ConfiguredTokenProvider.method_name``; "" when unknown)."""
    method_of = getattr(provider, "method_name", None)
    return str(method_of(TokenKind.VALID)) if callable(method_of) else ""
