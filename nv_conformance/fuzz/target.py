"""Turns a target config into something to fuzz: the embedded reference (default) or a live URL.

The same config file as ``nv-conformance run``; tokens come from the kit's token layer
(``build_token_provider``), so every method the runner supports works for fuzzing too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..config import TargetConfig
from ..errors import ConfigError
from ..profiles import get_profile
from ..tokens import build_token_provider
from ..tokens.base import TokenKind
from .runner import FuzzTarget


@contextmanager
def open_target(config: TargetConfig, *, fault: str | None = None) -> Iterator[tuple[FuzzTarget, TargetConfig]]:
    """Yield the fuzz target (and the completed config); starts and stops the embedded reference if asked."""
    reference = None
    if fault is not None and not config.embedded:
        raise ConfigError("--fault", "only applies to the embedded reference (leave out --config)")
    if config.embedded:
        from reference_impl.embedded import EmbeddedReference

        v2 = config.api_version if config.api_version in ("v2.0.0", "v2.1.0") else "v2.1.0"
        try:
            reference = EmbeddedReference(v2_version=v2, fault=fault).start()
        except KeyError as exc:
            raise ConfigError("--fault", str(exc.args[0]) if exc.args else "unknown fault") from None
        config = config.with_kit(reference.kit)
    provider = None
    try:
        provider = build_token_provider(dict(config.tokens), http=config.http, kit=config.kit)
        if not provider.supports(TokenKind.VALID):
            raise ConfigError("tokens.valid", "fuzzing needs a way to obtain valid tokens")
        target = FuzzTarget(
            api_base_url=config.api_base_url,
            contract=config.contract(),
            profile=get_profile(config.api_version),
            fetch_token=lambda scope: provider.get(TokenKind.VALID, scope).access_token,
            http=config.http,
            label=config.target_label + (f" [fault {fault}]" if fault else ""),
        )
        yield target, config
    finally:
        if provider is not None:
            provider.close()
        if reference is not None:
            reference.stop()
