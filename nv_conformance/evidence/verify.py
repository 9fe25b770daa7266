"""Check a bundle without trusting the machine that made it: signature, file hashes, verdict, redaction.

Stops at the first mismatch and names it. The verdict is derived again from results.json by
``RunResult.verdict``, the same rules every report of the kit uses.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..report import HTML_FILE, JSON_FILE, JUNIT_FILE
from ..results import Outcome, RunResult
from .archive import BundleUnreadable, read_archive
from .contents import EXCHANGES
from .manifest import MANIFEST, MANIFEST_FORMAT, SIGNATURE, SIGNER_JWK, implementation_label, sha256
from .secrets import RESULTS_DIGEST_ID, find_secret
from .signing import ECKey, OKPKey, SignatureInvalid, public_key_from_jwk, verify


class BundleInvalid(Exception):
    """The first thing found wrong with a bundle (the message names the file or field)."""


@dataclass(frozen=True)
class VerifiedBundle:
    verdict: str
    implementation: str
    api_version: str
    thumbprint: str
    manifest: dict[str, Any]

    def summary(self) -> str:
        return (f"valid: {self.verdict}, {self.implementation}, API {self.api_version}, "
                f"signed by {self.thumbprint}")


def verify_bundle(path: Path, *, public_key: ECKey | OKPKey | None = None, thumbprint: str | None = None) -> VerifiedBundle:
    """Every check in turn; ``BundleInvalid`` at the first failure."""
    try:
        members = read_archive(path)
    except BundleUnreadable as exc:
        raise BundleInvalid(str(exc)) from None
    for name in (MANIFEST, SIGNATURE, SIGNER_JWK):
        if name not in members:
            raise BundleInvalid(f"{name}: missing from the bundle")

    key, signer = _signer_key(members[SIGNER_JWK], public_key, thumbprint)
    try:
        signed = verify(members[SIGNATURE].decode("ascii", "replace"), key)
    except SignatureInvalid as exc:
        raise BundleInvalid(f"{SIGNATURE}: the signature does not verify with key {signer} ({exc})") from None
    if signed != members[MANIFEST]:
        raise BundleInvalid(f"{MANIFEST}: changed after signing (it differs from the signed manifest)")
    manifest = _manifest(members[MANIFEST])
    if (manifest.get("signer") or {}).get("thumbprint") != signer:
        raise BundleInvalid(f"{MANIFEST}: signer.thumbprint does not name the key that signed it ({signer})")

    _check_files(manifest, members)
    run = _check_verdict(manifest, members)
    for name in sorted(members):
        if name == SIGNATURE:
            continue  # a JWS has the shape of a token; its payload is manifest.json, checked below
        data = members[name]
        if name == MANIFEST:
            data = json.dumps({k: v for k, v in manifest.items() if k != "files"}).encode("utf-8")
        kind = find_secret(name, data)
        if kind:
            raise BundleInvalid(f"{name}: holds an unredacted secret ({kind})")
    _check_results_digest(members)
    return VerifiedBundle(verdict=run.verdict.value, implementation=implementation_label(manifest.get("implementation")),
                          api_version=run.api_version,
                          thumbprint=signer, manifest=manifest)


def _signer_key(jwk_bytes: bytes, public_key: ECKey | OKPKey | None, thumbprint: str | None) -> tuple[Any, str]:
    try:
        bundled = public_key_from_jwk(json.loads(jwk_bytes))
    except (ValueError, UnicodeDecodeError):
        raise BundleInvalid(f"{SIGNER_JWK}: not valid JSON") from None
    except SignatureInvalid as exc:
        raise BundleInvalid(f"{SIGNER_JWK}: {exc}") from None
    if public_key is not None:
        if public_key.thumbprint() != bundled.thumbprint():
            raise BundleInvalid(f"{SIGNER_JWK}: signed by key {bundled.thumbprint()}, not by the given "
                                f"--public-key ({public_key.thumbprint()})")
        return public_key, public_key.thumbprint()
    if thumbprint is not None and bundled.thumbprint() != thumbprint.strip():
        raise BundleInvalid(f"{SIGNER_JWK}: signed by key {bundled.thumbprint()}, not by the expected key {thumbprint.strip()}")
    return bundled, bundled.thumbprint()


def _manifest(data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise BundleInvalid(f"{MANIFEST}: not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise BundleInvalid(f"{MANIFEST}: not a manifest of format {MANIFEST_FORMAT}")
    if not isinstance(manifest.get("files"), dict):
        raise BundleInvalid(f"{MANIFEST}: files is missing")
    for key in ("signer", "verdict", "api", "implementation"):
        if manifest.get(key) is not None and not isinstance(manifest[key], dict):
            raise BundleInvalid(f"{MANIFEST}: {key} is not an object")
    return manifest


def _check_files(manifest: dict[str, Any], members: dict[str, bytes]) -> None:
    listed: dict[str, Any] = manifest["files"]
    for name, digest in sorted(listed.items()):
        if name not in members:
            raise BundleInvalid(f"{name}: listed in the manifest but missing from the bundle")
        if sha256(members[name]) != digest:
            raise BundleInvalid(f"{name}: SHA-256 differs from the manifest (the file changed after signing)")
    for name in sorted(members):
        if name not in listed and name not in (MANIFEST, SIGNATURE):
            raise BundleInvalid(f"{name}: not listed in the manifest (added after signing)")
    for required in (JSON_FILE, JUNIT_FILE, HTML_FILE, EXCHANGES, SIGNER_JWK):
        if required not in listed:
            raise BundleInvalid(f"{required}: missing from the bundle")


def _check_verdict(manifest: dict[str, Any], members: dict[str, bytes]) -> RunResult:
    """The verdict of results.json by the kit's rules must be the one results.json and the manifest state."""
    try:
        document = json.loads(members[JSON_FILE])
        if not isinstance(document, dict):
            raise TypeError("not a JSON object")
        run = RunResult.from_dict(document)
        if not isinstance(run.options, dict):
            raise TypeError("options is not an object")
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError) as exc:
        raise BundleInvalid(f"{JSON_FILE}: not a results file of the kit ({exc})") from None
    derived = run.verdict.value
    if document.get("verdict") != derived:
        raise BundleInvalid(f"{JSON_FILE}: states verdict {document.get('verdict')!r}, but its scenarios give "
                            f"{derived!r} by the kit's rules")
    if document.get("totals") != run.totals():
        raise BundleInvalid(f"{JSON_FILE}: totals {document.get('totals')} do not count its scenarios {run.totals()}")
    stated = manifest.get("verdict") or {}
    if stated.get("verdict") != derived:
        raise BundleInvalid(f"{MANIFEST}: states verdict {stated.get('verdict')!r}, but {JSON_FILE} gives {derived!r}")
    if stated.get("totals") != run.totals():
        raise BundleInvalid(f"{MANIFEST}: totals {stated.get('totals')} differ from {JSON_FILE} {run.totals()}")
    if manifest.get("id") != run.statement_id:
        raise BundleInvalid(f"{MANIFEST}: id {manifest.get('id')!r} is not the statement id of {JSON_FILE}")
    stated_version = (manifest.get("api") or {}).get("version")
    if stated_version != run.api_version:
        raise BundleInvalid(f"{MANIFEST}: api.version {stated_version!r} is not the version {JSON_FILE} ran "
                            f"({run.api_version!r})")
    declared = run.options.get("implementation")
    if manifest.get("implementation") != (declared if isinstance(declared, dict) else None):
        raise BundleInvalid(f"{MANIFEST}: implementation differs from the one {JSON_FILE} declares")
    _check_other_reports(run, members)
    return run


def _check_results_digest(members: dict[str, bytes]) -> None:
    """The statement names the SHA-256 of results.json: it must be the digest of the one bundled with it."""
    statement = members[HTML_FILE].decode("utf-8", "replace")
    for shown in re.findall(rf'id="{RESULTS_DIGEST_ID}">([^<]*)<', statement):
        if shown != sha256(members[JSON_FILE]):
            raise BundleInvalid(f"{HTML_FILE}: names {JSON_FILE} SHA-256 {shown[:12]}…, not the digest of the "
                                f"{JSON_FILE} in the bundle")


def _check_other_reports(run: RunResult, members: dict[str, bytes]) -> None:
    """junit.xml and statement.html were written from the same run: they must tell the same story."""
    try:
        junit = ET.fromstring(members[JUNIT_FILE])
    except ET.ParseError as exc:
        raise BundleInvalid(f"{JUNIT_FILE}: not well-formed XML ({exc})") from None
    failures = sum(int(suite.get("failures") or 0) for suite in junit.iter("testsuite"))
    if failures != run.count(Outcome.FAILED):
        raise BundleInvalid(f"{JUNIT_FILE}: {failures} failure(s), but {JSON_FILE} has {run.count(Outcome.FAILED)}")
    statement = members[HTML_FILE].decode("utf-8", "replace")
    match = re.search(r'id="verdict">Verdict: ([^<]*)<', statement)
    if match is None or html.unescape(match.group(1)) != run.verdict.value:
        shown = html.unescape(match.group(1)) if match else "none"
        raise BundleInvalid(f"{HTML_FILE}: shows verdict {shown!r}, but {JSON_FILE} gives {run.verdict.value!r}")
    if run.statement_id not in statement:
        raise BundleInvalid(f"{HTML_FILE}: does not carry the statement id {run.statement_id}")

