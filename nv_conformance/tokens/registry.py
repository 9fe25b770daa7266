"""The token methods the kit knows, in the order error messages list them.

A new method is a module with a token method class and its :class:`~.method.MethodSpec`, plus one
line here; the builder learns everything else (settings, kinds, off-network, kit values) from the spec.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from . import authcode, ciba, command, jwt_bearer, reference, simple
from .base import TokenUse
from .method import MethodSpec


class MethodRegistry:
    """Token method specs by name."""

    def __init__(self, specs: Iterable[MethodSpec]) -> None:
        self._specs = {spec.name: spec for spec in specs}

    def __iter__(self) -> Iterator[MethodSpec]:
        return iter(self._specs.values())

    def find(self, name: object) -> MethodSpec | None:
        """The spec called ``name``; None for an unknown name or a value that is no name at all."""
        return self._specs.get(name) if isinstance(name, str) else None

    def names_for(self, use: TokenUse) -> tuple[str, ...]:
        return tuple(spec.name for spec in self if spec.serves(use))

    def fallback_for(self, use: TokenUse) -> MethodSpec | None:
        return next((spec for spec in self if use in spec.fallback_for), None)

    @property
    def all_settings(self) -> frozenset[str]:
        return frozenset().union(*(spec.settings for spec in self))


METHODS = MethodRegistry(
    (simple.LOCAL, jwt_bearer.METHOD, ciba.METHOD, authcode.METHOD, simple.STATIC, command.METHOD, reference.METHOD)
)
