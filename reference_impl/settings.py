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
    clients_file: str | None = None  # YAML file of onboarded API consumers (reference_impl/clients.py)
    device_url: str | None = None    # base URL of /authorize and TS.43 for devices when not the issuer's (IPv6 host)

    def __post_init__(self) -> None:
        if self.v2_version not in V2_VERSIONS:
            raise ValueError(f"v2_version must be one of {', '.join(V2_VERSIONS)}, not {self.v2_version!r}")
        prefix = self.api_root_prefix
        if prefix and (not prefix.startswith("/") or prefix.endswith("/") or "//" in prefix):
            raise ValueError(f"api_root_prefix must look like /some/prefix, not {prefix!r}")
        object.__setattr__(self, "issuer", self.issuer.rstrip("/"))
        if self.device_url:
            object.__setattr__(self, "device_url", self.device_url.rstrip("/"))
        object.__setattr__(self, "db_path", Path(self.db_path))

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
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data = json.loads(text)
        data["behaviour"] = Behaviour(**data.get("behaviour") or {})
        return cls(**data)
