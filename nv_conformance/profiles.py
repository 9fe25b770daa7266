"""Per-version facts that an OpenAPI contract cannot express, read from ``schemas/profiles.yaml``.

Version behaviour is data: code asks a profile (``profile.invalid_x_correlator_is_400``)
instead of branching on version strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from .resources import schemas_dir

SUPPORTED_VERSIONS = ("v1.0.0", "v2.0.0", "v2.1.0", "vwip")


class UnknownVersionError(ValueError):
    """The requested API version has no profile."""


@dataclass(frozen=True)
class TokenPolicy:
    mandatory: bool
    single_use: bool
    max_lifetime_seconds: int
    refresh_tokens: bool


@dataclass(frozen=True)
class VersionProfile:
    version: str
    contract_path: Path
    base_path: str
    commonalities: str
    invalid_x_correlator_is_400: bool
    token_policy: TokenPolicy
    clauses: dict[str, str] = field(default_factory=dict)

    def clause(self, key: str, default: str = "") -> str:
        return self.clauses.get(key, default)


@cache
def _load_all() -> dict[str, VersionProfile]:
    raw = yaml.safe_load((schemas_dir() / "profiles.yaml").read_text(encoding="utf-8"))
    profiles = {}
    for version, data in raw.items():
        profiles[version] = VersionProfile(
            version=version,
            contract_path=schemas_dir() / data["contract"],
            base_path=data["base_path"],
            commonalities=str(data["commonalities"]),
            invalid_x_correlator_is_400=bool(data["invalid_x_correlator_is_400"]),
            token_policy=TokenPolicy(**data["token_policy"]),
            clauses=dict(data.get("clauses") or {}),
        )
    return profiles


def get_profile(version: str) -> VersionProfile:
    """The profile of ``version`` (``v2.1.0``, ``vwip``, ...); ``2.1.0`` and ``wip`` are accepted too."""
    key = version if version.startswith("v") else f"v{version}"
    profiles = _load_all()
    if key not in profiles:
        known = ", ".join(profiles)
        raise UnknownVersionError(f"unknown API version {version!r}; supported: {known}")
    return profiles[key]


def all_profiles() -> list[VersionProfile]:
    return list(_load_all().values())
