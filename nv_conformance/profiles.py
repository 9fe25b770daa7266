"""Per-version facts that an OpenAPI contract cannot express, read from ``schemas/profiles.yaml``.

Version behaviour is data: code asks a profile (``profile.invalid_x_correlator_is_400``,
``profile.token_policy.single_use``) instead of branching on version strings, and the set of
versions (which exist, which share a base path, which one the reference serves there) is
read from the same file. No API version is named in code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .resources import schemas_dir

PROFILES_FILE = "profiles.yaml"


class UnknownVersionError(ValueError):
    """The requested API version has no profile."""


class ProfileError(ValueError):
    """``profiles.yaml`` is malformed (a broken data change, reported with the entry and key)."""


@dataclass(frozen=True)
class TokenPolicy:
    """What a version demands of Number Verification access tokens (each rule is optional)."""

    single_use: bool = False                  # one successful API call per token
    max_lifetime_seconds: int | None = None   # None: the version sets no limit
    no_refresh_tokens: bool = False           # refresh tokens MUST NOT be issued (by any flow)
    jwt_bearer_no_refresh_tokens: bool = True  # ICM: the JWT-bearer flow MUST NOT return refresh tokens

    @property
    def demands_anything(self) -> bool:
        return self.single_use or self.max_lifetime_seconds is not None or self.no_refresh_tokens


# The rules a profile can demand, by name: the fault catalogue and the token-policy gates refer
# to them, so which versions a rule (and a variant breaking it) applies to is read from the data.
RULES = ("invalid_x_correlator_is_400", "single_use", "max_lifetime", "no_refresh_tokens",
         "jwt_bearer_no_refresh_tokens", "request_body_strictness")

# Token rules a version may not demand yet: where it does not, breaking them is a *warning* (a later
# version's rule), unless the target declares it implements them (``declared: {token_policy: strict}``).
ADVISORY_RULES = ("single_use", "max_lifetime", "no_refresh_tokens")


@dataclass(frozen=True)
class VersionProfile:
    version: str
    contract_path: Path
    base_path: str
    release: str
    commonalities: str
    invalid_x_correlator_is_400: bool
    token_policy: TokenPolicy
    icm: str = ""                    # Identity and Consent Management version ("": the release names none)
    request_body_strictness: bool = False  # undeclared request body properties MUST get 400
    reference_default_reason: str = ""  # why this one is the reference default (for help texts)
    reference_default: bool = False  # served by the reference at a base path several versions share
    default: bool = False            # the version a run tests when none is named
    clauses: Mapping[str, str] = field(default_factory=dict)

    def clause(self, key: str, default: str = "") -> str:
        return self.clauses.get(key, default)

    def demands(self, rule: str) -> bool:
        """Whether this version makes ``rule`` (one of :data:`RULES`) mandatory."""
        policy = self.token_policy
        known = {
            "invalid_x_correlator_is_400": self.invalid_x_correlator_is_400,
            "single_use": policy.single_use,
            "max_lifetime": policy.max_lifetime_seconds is not None,
            "no_refresh_tokens": policy.no_refresh_tokens,
            "jwt_bearer_no_refresh_tokens": policy.jwt_bearer_no_refresh_tokens,
            "request_body_strictness": self.request_body_strictness,
        }
        if rule not in known:
            raise KeyError(f"unknown profile rule {rule!r}; known: {', '.join(RULES)}")
        return known[rule]

    def advises(self, rule: str) -> bool:
        """Whether ``rule`` is a warning here: an advisory token rule this version does not demand."""
        return rule in ADVISORY_RULES and not self.demands(rule)

    def rule_clause(self, rule: str, key: str) -> str:
        """The clause a check of ``rule`` cites: this version's own where it demands the rule, else the clause
        of the first version that does, naming that version."""
        own = self.clause(key)
        if own and self.demands(rule):
            return own
        for profile in _profiles().values():
            if profile.demands(rule) and profile.clause(key):
                return f"{profile.clause(key)} (rule of {profile.version})"
        return own

    def rule_source(self, rule: str) -> VersionProfile | None:
        """The profile whose terms of ``rule`` apply: this one where it demands the rule, else the first
        version that does (an advisory check holds a provider to that version's terms, e.g. its lifetime)."""
        if self.demands(rule):
            return self
        return next((p for p in _profiles().values() if p.demands(rule)), None)


# -- the set of versions -----------------------------------------------------------------------

def get_profile(version: str) -> VersionProfile:
    """The profile of ``version`` as ``profiles.yaml`` names it; the name without its leading ``v`` works too."""
    key = version if version.startswith("v") else f"v{version}"
    profiles = _profiles()
    if key not in profiles:
        raise UnknownVersionError(f"unknown API version {version!r}; supported: {', '.join(profiles)}")
    return profiles[key]


def versions() -> tuple[str, ...]:
    """Every API version the kit knows, in the order of ``profiles.yaml``."""
    return tuple(_profiles())


def versions_text(separator: str = ", ") -> str:
    """The versions for a help text: ``a, b, c or d``."""
    names = versions()
    return separator.join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)


def default_version() -> str:
    """The version tested when none is named (``default: true`` in ``profiles.yaml``)."""
    return next(p.version for p in _profiles().values() if p.default)


def reference_versions(preferred: Iterable[str] = ()) -> tuple[str, ...]:
    """The versions the reference serves at once: one per base path.

    At a base path several versions share, the ``preferred`` one if named, else the profile's
    ``reference_default``.
    """
    chosen: dict[str, VersionProfile] = {}
    for profile in _profiles().values():
        current = chosen.get(profile.base_path)
        if current is None or (profile.reference_default and not current.reference_default):
            chosen[profile.base_path] = profile
    for name in preferred:
        profile = get_profile(name)
        chosen[profile.base_path] = profile
    return tuple(p.version for p in chosen.values())


def sharing_base_path(version: str) -> tuple[str, ...]:
    """The versions served at the base path of ``version`` (itself included)."""
    base = get_profile(version).base_path
    return tuple(p.version for p in _profiles().values() if p.base_path == base)


def strictest_token_policy(names: Iterable[str] | None = None) -> TokenPolicy:
    """One policy holding every rule any of ``names`` (default: every version) demands."""
    policies = [get_profile(n).token_policy for n in (versions() if names is None else names)]
    lifetimes = [p.max_lifetime_seconds for p in policies if p.max_lifetime_seconds is not None]
    return TokenPolicy(single_use=any(p.single_use for p in policies),
                       max_lifetime_seconds=min(lifetimes) if lifetimes else None,
                       no_refresh_tokens=any(p.no_refresh_tokens for p in policies),
                       jwt_bearer_no_refresh_tokens=any(p.jwt_bearer_no_refresh_tokens for p in policies))


# -- loading -------------------------------------------------------------------------------------

def _profiles() -> dict[str, VersionProfile]:
    return _load(schemas_dir())


@cache
def _load(directory: Path) -> dict[str, VersionProfile]:
    path = directory / PROFILES_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"cannot read {path}: {exc}") from None
    if not isinstance(raw, dict) or not raw:
        raise ProfileError(f"{path}: expected a mapping of API version to its profile")
    profiles = {str(version): _profile(str(version), data, directory, path) for version, data in raw.items()}
    _check_set(profiles, path)
    return profiles


def _profile(version: str, data: Any, directory: Path, path: Path) -> VersionProfile:
    where = f"{path}: {version}"
    if not version.startswith("v"):
        raise ProfileError(f"{where}: a version name starts with 'v' (e.g. v2.1.0)")
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: expected a mapping")
    try:
        policy = data.get("token_policy") or {}
        if not isinstance(policy, dict):
            raise ProfileError(f"{where}.token_policy: expected a mapping")
        lifetime = policy.get("max_lifetime_seconds")
        if lifetime is not None and (not isinstance(lifetime, int) or isinstance(lifetime, bool) or lifetime <= 0):
            raise ProfileError(f"{where}.token_policy.max_lifetime_seconds: a positive whole number or null")
        unknown = sorted(set(policy) - {"single_use", "max_lifetime_seconds", "no_refresh_tokens",
                                        "jwt_bearer_no_refresh_tokens"})
        if unknown:
            raise ProfileError(f"{where}.token_policy.{unknown[0]}: unknown rule")
        contract = directory / str(data["contract"])
        base_path = str(data["base_path"]).rstrip("/")
        if not base_path.startswith("/"):
            raise ProfileError(f"{where}.base_path: must start with '/'")
        return VersionProfile(
            version=version,
            contract_path=contract,
            base_path=base_path,
            release=str(data.get("release") or ""),
            commonalities=str(data["commonalities"]),
            invalid_x_correlator_is_400=bool(data["invalid_x_correlator_is_400"]),
            icm=str(data.get("icm") or ""),
            request_body_strictness=bool(data.get("request_body_strictness", False)),
            token_policy=TokenPolicy(single_use=bool(policy.get("single_use", False)),
                                     max_lifetime_seconds=lifetime,
                                     no_refresh_tokens=bool(policy.get("no_refresh_tokens", False)),
                                     jwt_bearer_no_refresh_tokens=bool(policy.get("jwt_bearer_no_refresh_tokens", True))),
            reference_default=bool(data.get("reference_default", False)),
            reference_default_reason=str(data.get("reference_default_reason") or ""),
            default=bool(data.get("default", False)),
            clauses={str(k): str(v) for k, v in (data.get("clauses") or {}).items()},
        )
    except KeyError as exc:
        raise ProfileError(f"{where}: missing {exc.args[0]!r}") from None


def _check_set(profiles: dict[str, VersionProfile], path: Path) -> None:
    defaults = [p.version for p in profiles.values() if p.default]
    if len(defaults) != 1:
        raise ProfileError(f"{path}: exactly one version must say `default: true` (found {len(defaults)})")
    by_base: dict[str, list[VersionProfile]] = {}
    for profile in profiles.values():
        by_base.setdefault(profile.base_path, []).append(profile)
    for base, sharing in by_base.items():
        marked = [p.version for p in sharing if p.reference_default]
        if len(sharing) > 1 and len(marked) != 1:
            names = ", ".join(p.version for p in sharing)
            raise ProfileError(f"{path}: {names} share {base}; exactly one of them must say `reference_default: true`")
