"""Everything one reference-provider instance needs to know, in one frozen object.

Built by the CLI (``serve``), by EmbeddedReference, or by tests; handed to
``create_app``. Uvicorn workers receive it as JSON through an environment variable.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .behaviour import Behaviour

SETTINGS_ENV = "NV_REFERENCE_SETTINGS"
V2_VERSIONS = ("v2.1.0", "v2.0.0")


@dataclass(frozen=True)
class Settings:
    db_path: Path
    issuer: str                      # public base URL, e.g. http://127.0.0.1:9091 (no trailing slash)
    api_root_prefix: str = ""        # e.g. /passthrough/camara; the NV API is served under it
    v2_version: str = "v2.1.0"       # behaviour behind /number-verification/v2
    behaviour: Behaviour = field(default_factory=Behaviour)
    fault: str | None = None         # name of a deliberately faulty variant (issue 6); None = correct
    db_url: str | None = field(default=None, repr=False)  # postgresql://... shared by instances; None = db_path
    keys_path: Path | None = None    # signing key file (JWK, 0600); None = the key kept in the database

    def __post_init__(self) -> None:
        if self.v2_version not in V2_VERSIONS:
            raise ValueError(f"v2_version must be one of {', '.join(V2_VERSIONS)}, not {self.v2_version!r}")
        prefix = self.api_root_prefix
        if prefix and (not prefix.startswith("/") or prefix.endswith("/") or "//" in prefix):
            raise ValueError(f"api_root_prefix must look like /some/prefix, not {prefix!r}")
        object.__setattr__(self, "issuer", self.issuer.rstrip("/"))
        object.__setattr__(self, "db_path", Path(self.db_path))
        if self.keys_path is not None:
            object.__setattr__(self, "keys_path", Path(self.keys_path))

    @property
    def api_versions(self) -> tuple[str, ...]:
        """The versions served at once: /v1, /v2 (2.1.0 or 2.0.0) and /vwip."""
        return ("v1.0.0", self.v2_version, "vwip")

    @property
    def api_root(self) -> str:
        return self.issuer + self.api_root_prefix

    def to_json(self) -> str:
        data = asdict(self)
        data["db_path"] = str(self.db_path)
        data["keys_path"] = str(self.keys_path) if self.keys_path is not None else None
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data = json.loads(text)
        data["behaviour"] = Behaviour(**data.get("behaviour") or {})
        return cls(**data)
