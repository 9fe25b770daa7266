"""Everything one reference-provider instance needs to know, in one frozen object.

Built by the CLI (``serve``), by EmbeddedReference, or by tests; handed to
``create_app``. Uvicorn workers receive it as JSON through an environment variable.
Which versions are served, and the token rules of each, come from the version profiles
(``schemas/profiles.yaml``): nothing here names a version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from nv_conformance.profiles import TokenPolicy, get_profile, reference_versions, strictest_token_policy

from .behaviour import Behaviour

SETTINGS_ENV = "NV_REFERENCE_SETTINGS"
UNLIMITED_LIFETIME_SECONDS = 3600  # when no version limits the lifetime: a common authorization-server default


class AlsoAtError(ValueError):
    """An ``also_at`` base path the server cannot serve (``serve`` names its --also-at option for it)."""


class TokenPolicyMode(StrEnum):
    """How the API applies the profiles' token rules."""

    PER_VERSION = "per-version"  # each version's own rules (single use only where its profile demands it)
    STRICT = "strict"            # the strictest rules of any version, on every version


@dataclass(frozen=True)
class Settings:
    db_path: Path
    issuer: str                      # public base URL, e.g. http://127.0.0.1:9091 (no trailing slash)
    api_root_prefix: str = ""        # e.g. /passthrough/camara; the NV API is served under it
    api_versions: tuple[str, ...] = field(default_factory=reference_versions)  # one per base path
    token_policy: TokenPolicyMode = TokenPolicyMode.PER_VERSION
    behaviour: Behaviour = field(default_factory=Behaviour)
    fault: str | None = None         # name of a deliberately faulty variant (issue 6); None = correct
    clients_file: str | None = None  # YAML file of onboarded API consumers (reference_impl/clients.py)
    device_url: str | None = None    # base URL of /authorize and TS.43 for devices when not the issuer's (IPv6 host)
    db_url: str | None = field(default=None, repr=False)  # postgresql://... shared by instances; None = db_path
    keys_path: Path | None = None    # signing key file (JWK, 0600); None = the key kept in the database
    also_at: tuple[tuple[str, str], ...] = ()  # (version, base path) served besides the versions' own base paths

    def __post_init__(self) -> None:
        served = tuple(get_profile(v).version for v in self.api_versions)  # UnknownVersionError is a ValueError
        bases = [get_profile(v).base_path for v in served]
        if len(set(bases)) != len(bases):
            raise ValueError(f"api_versions {', '.join(served)}: two of them share a base path")
        prefix = self.api_root_prefix
        if prefix and (not prefix.startswith("/") or prefix.endswith("/") or "//" in prefix):
            raise ValueError(f"api_root_prefix must look like /some/prefix, not {prefix!r}")
        object.__setattr__(self, "api_versions", served)
        also_at = tuple((get_profile(v).version, str(p).rstrip("/")) for v, p in self.also_at)
        for version, path in also_at:
            if not path.startswith("/") or "//" in path or path in bases:
                raise AlsoAtError(f"{version}={path}: a base path starts with '/' and is not one a served version "
                                  "already has")
        object.__setattr__(self, "also_at", also_at)
        object.__setattr__(self, "token_policy", TokenPolicyMode(self.token_policy))
        object.__setattr__(self, "issuer", self.issuer.rstrip("/"))
        if self.device_url:
            object.__setattr__(self, "device_url", self.device_url.rstrip("/"))
        object.__setattr__(self, "db_path", Path(self.db_path))
        if self.keys_path is not None:
            object.__setattr__(self, "keys_path", Path(self.keys_path))

    @classmethod
    def serving(cls, preferred: Iterable[str] = (), **fields: object) -> Settings:
        """Settings that serve ``preferred`` at their base paths (the profiles' defaults elsewhere)."""
        return cls(api_versions=reference_versions(preferred), **fields)  # type: ignore[arg-type]

    @property
    def api_root(self) -> str:
        return self.issuer + self.api_root_prefix

    def policy_for(self, version: str) -> TokenPolicy:
        """The token rules the API applies to calls of ``version``."""
        if self.token_policy is TokenPolicyMode.STRICT:
            return strictest_token_policy()
        return get_profile(version).token_policy

    @property
    def issuance_policy(self) -> TokenPolicy:
        """What the authorization server applies: a token is not bound to a version, so the
        strictest rules of the versions served."""
        served = (*self.api_versions, *(version for version, _ in self.also_at))
        return strictest_token_policy(None if self.token_policy is TokenPolicyMode.STRICT else served)

    @property
    def access_token_lifetime(self) -> int:
        """Seconds an issued access token lives: the behaviour's override, else the profiles' limit."""
        if self.behaviour.token_lifetime_seconds is not None:
            return self.behaviour.token_lifetime_seconds
        limit = self.issuance_policy.max_lifetime_seconds or strictest_token_policy().max_lifetime_seconds
        return limit or UNLIMITED_LIFETIME_SECONDS

    def to_json(self) -> str:
        data = asdict(self)
        data["db_path"] = str(self.db_path)
        data["api_versions"] = list(self.api_versions)
        data["token_policy"] = self.token_policy.value
        data["keys_path"] = str(self.keys_path) if self.keys_path is not None else None
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data = json.loads(text)
        data["behaviour"] = Behaviour(**data.get("behaviour") or {})
        data["api_versions"] = tuple(data.get("api_versions") or ())
        data["also_at"] = tuple(tuple(pair) for pair in data.get("also_at") or ())
        return cls(**data)
