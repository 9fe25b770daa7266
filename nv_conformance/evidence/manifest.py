"""The bundle's manifest: who tested what, with which kit and inputs, the verdict, and the SHA-256 of every file."""

from __future__ import annotations

import hashlib
import json
import platform
import re
import sys
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from .. import __version__
from ..report.provenance import kit_git_commit, run_command
from ..results import implementation_name
from .contents import PROFILE_ENTRY, RunEvidence

MANIFEST_FORMAT = "nv-conformance-bundle/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.jws"
SIGNER_JWK = "signer.jwk.json"
DISTRIBUTION = "nv-conformance"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_manifest(evidence: RunEvidence, *, signer: dict[str, Any], created_at: datetime | None = None) -> dict[str, Any]:
    """``signer``: ``{"alg", "thumbprint"}`` of the key that signs it. ``evidence.files`` must be complete."""
    run = evidence.run
    profile = json.loads(evidence.files[PROFILE_ENTRY])
    implementation = run.options.get("implementation")
    contract = next(name for name in evidence.files if name.startswith("contract/"))
    return {
        "format": MANIFEST_FORMAT,
        "id": run.statement_id,
        "created_at": (created_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "run": {"started_at": run.started_at, "finished_at": run.finished_at, "target": run.target,
                "aborted": run.aborted or None},
        "kit": {
            "name": DISTRIBUTION, "version": run.kit_version, "commit": run.git_commit or "unknown",
            "bundled_by": {"version": __version__, "commit": kit_git_commit()},
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "platform": sys.platform,
            "dependencies": dependency_versions(),
        },
        "api": {
            "name": "CAMARA Number Verification",
            "version": run.api_version,
            "release_tag": profile.get("release") or None,
            "commonalities": profile.get("commonalities"),
            "icm": profile.get("icm"),
            "base_path": profile.get("base_path"),
            "contract": contract,
        },
        "implementation": implementation if isinstance(implementation, dict) else None,
        "options": run.options,
        "verdict": {"verdict": run.verdict.value, "totals": run.totals(), "scenarios": len(run.scenarios),
                    "undefined_steps": len(run.undefined_steps)},
        "reproduce": run_command(run),
        "signer": signer,
        "files": {name: sha256(data) for name, data in sorted(evidence.files.items())},
    }


def dependency_versions() -> dict[str, str]:
    """The installed version of each runtime dependency of the kit (by its own package metadata)."""
    try:
        requirements = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return {}
    versions: dict[str, str] = {}
    for requirement in requirements:
        if "extra ==" in requirement:
            continue
        name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        if not name:
            continue
        try:
            versions[name.group(0).lower()] = metadata.version(name.group(0))
        except metadata.PackageNotFoundError:
            versions[name.group(0).lower()] = "not installed"
    return dict(sorted(versions.items()))


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def implementation_label(implementation: Any) -> str:
    return implementation_name(implementation) or "implementation not declared"
