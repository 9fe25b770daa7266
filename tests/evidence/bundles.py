"""Bundles of real runs against the embedded reference: one conformant, one failing (a faulty provider).

Built once per module; tests that tamper with a bundle work on a copy.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from nv_conformance import cli
from nv_conformance.evidence.signing import load_signing_key

IMPLEMENTATION = {"organization": "Example Operator", "product": "NV Gateway", "version": "3.1",
                  "contact": "conformance@example.com"}


@dataclass
class Bundle:
    path: Path
    report_dir: Path
    key_pem: Path | None
    thumbprint: str
    secrets: list[str]


def write_key(path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.with_suffix(".pub.pem").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(path: Path, out: Path, changed: dict[str, bytes]) -> Path:
    """A copy of the bundle ``path`` with some members replaced (a valid zip: only the content differs)."""
    content = members(path) | changed
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in content.items():
            archive.writestr(name, data)
    return out


def kit_secrets(kit: dict[str, Any]) -> list[str]:
    found = [kit["client"]["client_secret"], kit["client"]["private_key_jwk"]["d"], kit["expired_access_token"]]
    for subscriber in kit["subscribers"]:
        found += [subscriber["phone_number"], subscriber["phone_number"][1:], subscriber["operator_token"]]
    return [s for s in found if s]


@pytest.fixture(scope="session")
def conformant_bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    from reference_impl.embedded import EmbeddedReference

    base = tmp_path_factory.mktemp("conformant")
    with EmbeddedReference() as reference:
        (base / "kit.json").write_text(json.dumps(reference.kit))
        (base / "target.yaml").write_text("kit: kit.json\napi_version: vwip\n")
        code = cli.main(["run", "--config", str(base / "target.yaml"), "--quiet", "--report-dir", str(base / "r"),
                         "--bundle", str(base / "evidence.zip")])
    assert code == 0
    signer = json.loads((base / "r" / "signer.jwk.json").read_text())
    return Bundle(base / "evidence.zip", base / "r", None, signer["kid"], kit_secrets(reference.kit))


@pytest.fixture(scope="session")
def failing_bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    from reference_impl.embedded import EmbeddedReference

    base = tmp_path_factory.mktemp("failing")
    key = write_key(base / "tester.pem")
    with EmbeddedReference(fault="wrong-401-code") as reference:
        (base / "kit.json").write_text(json.dumps(reference.kit))
        lines = ["kit: kit.json", "api_version: vwip", "implementation:"]
        lines += [f"  {k}: {json.dumps(v)}" for k, v in IMPLEMENTATION.items()]
        (base / "target.yaml").write_text("\n".join(lines) + "\n")
        code = cli.main(["run", "--config", str(base / "target.yaml"), "--quiet", "--report-dir", str(base / "r"),
                         "--bundle", str(base / "evidence.zip"), "--sign-key", str(key)])
    assert code == 1  # the run failed; the bundle is its evidence
    return Bundle(base / "evidence.zip", base / "r", key, load_signing_key(str(key)).thumbprint,
                  kit_secrets(reference.kit))
