"""Write a bundle: collect the run's files, build and sign the manifest, pack one archive."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import KitError
from ..results import RunResult
from .archive import write_archive
from .contents import collect
from .manifest import MANIFEST, SIGNATURE, SIGNER_JWK, build_manifest, manifest_bytes, sha256
from .signing import SigningKey, sign


@dataclass(frozen=True)
class WrittenBundle:
    path: Path
    sha256: str
    manifest: dict[str, Any]
    signer: SigningKey
    run: RunResult  # as read back from the bundled results.json


def write_bundle(report_dir: Path, path: Path, key: SigningKey) -> WrittenBundle:
    """Pack the finished run in ``report_dir`` into ``path``, signed with ``key`` (only its public half is stored)."""
    evidence = collect(report_dir)
    public_jwk = key.public_jwk()
    evidence.files[SIGNER_JWK] = (json.dumps(public_jwk, indent=2) + "\n").encode("utf-8")
    manifest = build_manifest(evidence, signer={"alg": key.alg, "thumbprint": key.thumbprint,
                                                "generated_for_this_bundle": key.generated})
    payload = manifest_bytes(manifest)
    members = {MANIFEST: payload, SIGNATURE: (sign(payload, key) + "\n").encode("ascii"), **evidence.files}
    try:
        write_archive(path, members)
    except OSError as exc:
        raise KitError(f"cannot write the bundle {path}: {exc.strerror or exc}") from None
    return WrittenBundle(path=path, sha256=sha256(path.read_bytes()), manifest=manifest, signer=key, run=evidence.run)
