"""Scope strings as CAMARA uses them: the purpose (``dpv:...``) plus API scopes, optionally ``openid``.

The API scopes come from the contracts' security requirements, not from a list typed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from nv_conformance.contract import Contract
from nv_conformance.profiles import versions


class ScopeError(ValueError):
    """The requested scope is unknown or asks for nothing this server grants (OAuth invalid_scope)."""


def api_scopes() -> frozenset[str]:
    """Every scope an NV operation of any known version requires."""
    return _api_scopes(versions())


@cache
def _api_scopes(names: tuple[str, ...]) -> frozenset[str]:
    found: set[str] = set()
    for version in names:
        for op in Contract.for_version(version).operations.values():
            found.update(op.scopes)
    return frozenset(found)


@dataclass(frozen=True)
class RequestedScope:
    api_scopes: tuple[str, ...]
    purpose: str | None
    openid: bool


def parse_scope(value: str | None) -> RequestedScope:
    parts = (value or "").split()
    scopes: list[str] = []
    purpose: str | None = None
    openid = False
    for part in parts:
        if part == "openid":
            openid = True
        elif part.startswith("dpv:"):
            purpose = part
        elif part in api_scopes():
            if part not in scopes:
                scopes.append(part)
        else:
            raise ScopeError(f"unknown scope {part[:80]!r}")
    if not scopes:
        raise ScopeError("the scope names no Number Verification scope")
    return RequestedScope(tuple(scopes), purpose, openid)
